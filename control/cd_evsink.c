/* SPDX-License-Identifier: MIT */
/* Event sink: JSON lines by default, pluggable. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cd_evsink.h"
#include "elog.h"

_Static_assert(CD_EVSINK_BATCH == ELOG_BATCH_LINES,
	       "the sink's batch is the writer's: the kill -9 bound stays 256 events");

struct cd_evsink {
	struct cd_evsink_ops ops;
	void *ctx;
	uint64_t count, errors;
	int warned;
	/* batched sinks only (else NULL): n events in one call, returns how
	 * many were accepted; and the batch of CD_EVSINK_BATCH events */
	size_t (*emit_n)(void *ctx, const struct egw_event *ev, size_t n);
	struct egw_event *batch;
	size_t n;                  /* events collected in batch */
};

struct jsonl {
	FILE *f;
	char path[4096];
};

static int jsonl_emit(void *ctx, const struct egw_event *ev)
{
	struct jsonl *j = ctx;
	json_t *o = egw_event_to_json(ev);
	char *s;
	int rc = 0;

	if (!o)
		return -ENOMEM;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	if (fputs(s, j->f) == EOF || fputc('\n', j->f) == EOF)
		rc = -EIO;
	free(s);
	return rc;
}

static int jsonl_flush(void *ctx)
{
	struct jsonl *j = ctx;

	return fflush(j->f) == 0 ? 0 : -errno;
}

static void jsonl_close(void *ctx)
{
	struct jsonl *j = ctx;

	if (j->f)
		fclose(j->f);
	free(j);
}

static const struct cd_evsink_ops jsonl_ops = { jsonl_emit, jsonl_flush, jsonl_close, NULL };

/* Struct events straight to the writer (elog_write_events): the same line
 * as through egw_event_to_json, without building a json_t. */
static int elog_emit(void *ctx, const struct egw_event *ev)
{
	return elog_write_events(ctx, ev, 1) == 1 ? 0 : -EIO;
}

static size_t elog_emit_n(void *ctx, const struct egw_event *ev, size_t n)
{
	return elog_write_events(ctx, ev, n);
}

static int elog_flush_op(void *ctx)
{
	return elog_flush(ctx);
}

static void elog_close_op(void *ctx)
{
	elog_close(ctx);
}

static int elog_tick_op(void *ctx)
{
	return elog_tick(ctx);
}

static const struct cd_evsink_ops elog_ops = { elog_emit, elog_flush_op, elog_close_op,
					       elog_tick_op };

struct cd_evsink *cd_evsink_open_elog(const char *directory, unsigned retention_days,
				      bool compress, char *err, size_t errlen)
{
	struct elog_cfg cfg = { .dir = directory, .retention_days = retention_days,
				.compress = compress };
	struct elog *l = elog_open(&cfg, err, errlen);
	struct cd_evsink *s;

	if (!l)
		return NULL;
	s = cd_evsink_open_ops(&elog_ops, l);
	if (s) {
		s->emit_n = elog_emit_n;
		s->batch = malloc(CD_EVSINK_BATCH * sizeof(*s->batch));
	}
	if (!s || !s->batch) {
		if (s)
			s->ops.close = NULL;   /* l is closed below */
		cd_evsink_close(s);
		elog_close(l);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

int cd_evsink_tick(struct cd_evsink *s)
{
	cd_evsink_push(s);
	return s->ops.tick ? s->ops.tick(s->ctx) : 0;
}

struct cd_evsink *cd_evsink_open_jsonl(const char *directory)
{
	struct jsonl *j = calloc(1, sizeof(*j));
	struct cd_evsink *s;
	int fd;

	if (!j)
		return NULL;
	if (mkdir(directory, 0750) < 0 && errno != EEXIST)
		goto err;
	if (snprintf(j->path, sizeof(j->path), "%s/controld.json", directory) >=
	    (int)sizeof(j->path)) {
		errno = ENAMETOOLONG;
		goto err;
	}
	fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		goto err;
	j->f = fdopen(fd, "a");
	if (!j->f)
		goto err;
	s = cd_evsink_open_ops(&jsonl_ops, j);
	if (s)
		return s;
err:
	jsonl_close(j);
	return NULL;
}

struct cd_evsink *cd_evsink_open_ops(const struct cd_evsink_ops *ops, void *ctx)
{
	struct cd_evsink *s = calloc(1, sizeof(*s));

	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->ops = *ops;
	s->ctx = ctx;
	return s;
}

void cd_evsink_close(struct cd_evsink *s)
{
	if (!s)
		return;
	cd_evsink_push(s);
	if (s->ops.flush)
		s->ops.flush(s->ctx);
	if (s->ops.close)
		s->ops.close(s->ctx);
	free(s->batch);
	free(s);
}

static void count_failed(struct cd_evsink *s, uint64_t n, int rc)
{
	s->errors += n;
	if (!s->warned++)
		fprintf(stderr, "egw-controld: writing an event failed: %s (counting further failures)\n",
			strerror(-rc));
}

/* ev[0..n) to the writer in one call, accounted. */
static int hand_on(struct cd_evsink *s, const struct egw_event *ev, size_t n)
{
	size_t ok = s->emit_n(s->ctx, ev, n);

	if (ok > n)
		ok = n;
	s->count += ok;
	if (ok < n) {
		count_failed(s, n - ok, -EIO);
		return -EIO;
	}
	return 0;
}

int cd_evsink_push(struct cd_evsink *s)
{
	size_t n = s->n;

	if (!n)
		return 0;
	s->n = 0;
	return hand_on(s, s->batch, n);
}

int cd_evsink_emit(struct cd_evsink *s, const struct egw_event *ev)
{
	int rc;

	if (s->batch) {
		memcpy(&s->batch[s->n++], ev, sizeof(*ev));
		return s->n == CD_EVSINK_BATCH ? cd_evsink_push(s) : 0;
	}
	rc = s->ops.emit(s->ctx, ev);
	if (rc < 0) {
		count_failed(s, 1, rc);
		return rc;
	}
	s->count++;
	return 0;
}

int cd_evsink_emit_n(struct cd_evsink *s, const struct egw_event *ev, size_t n)
{
	int rc = 0;

	if (!s->batch) {
		for (size_t i = 0; i < n; i++)
			if (cd_evsink_emit(s, &ev[i]) < 0)
				rc = -EIO;
		return rc;
	}
	rc = cd_evsink_push(s);   /* what came before goes first */
	if (n && hand_on(s, ev, n) < 0)
		rc = -EIO;
	return rc;
}

int cd_evsink_flush(struct cd_evsink *s)
{
	cd_evsink_push(s);
	return s->ops.flush ? s->ops.flush(s->ctx) : 0;
}

uint64_t cd_evsink_count(const struct cd_evsink *s)
{
	return s->count;
}

uint64_t cd_evsink_errors(const struct cd_evsink *s)
{
	return s->errors;
}
