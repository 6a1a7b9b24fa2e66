/* SPDX-License-Identifier: MIT */
/* The behaviour-log writer: see elog.h. */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "elog.h"
#include "elog_query.h"
#include "elog_format.h"
#include "elog_reader.h"
#include "elog_syslog.h"

#define HEAD_NAME ".head"
#define HEAD_SIZE 256
#define LINE_ROOM (ELOG_MAX_LINE + 256)

struct elog {
	char *dir;
	unsigned retention_days;
	bool compress;
	int zlevel;
	int64_t (*clock)(void *arg);
	void *clock_arg;
	size_t backlog_max;
	uint8_t key[ELOG_KEY_LEN];
	struct elog_mac *mac;
	struct elog_syslog *syslog;
	int head_fd;

	int fd;                 /* the day's file, -1 when none */
	int64_t day;
	bool sealed;            /* a seal line is queued or written */
	uint64_t seq;           /* last line queued */
	uint8_t chain[ELOG_CHAIN_LEN];

	char *buf;              /* pending lines [off, len) */
	size_t off, len, cap;

	/* background archiving (archive_main) */
	pthread_t arch_thread;
	bool arch_running;
	bool arch_again;        /* a rotation happened while it was busy */
	atomic_bool arch_done;
	int64_t arch_skip, arch_today;
	struct elog_mac *arch_mac;
	atomic_uint_fast64_t arch_errors, arch_expired;

	uint64_t gap_lost;      /* events dropped since the last written gap */
	int64_t gap_from, gap_to;
	int gap_errno;

	struct egw_event_enc *enc;  /* elog_write_events, made at first use */

	struct elog_stats st;
};

static int64_t real_clock(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_us(struct elog *l)
{
	return l->clock(l->clock_arg);
}

static void path_of(const struct elog *l, const char *name, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", l->dir, name);
}

static int reserve(struct elog *l, size_t more)
{
	if (l->off && l->off == l->len)
		l->off = l->len = 0;
	if (l->len + more <= l->cap)
		return 0;
	if (l->off) {
		memmove(l->buf, l->buf + l->off, l->len - l->off);
		l->len -= l->off;
		l->off = 0;
		if (l->len + more <= l->cap)
			return 0;
	}
	size_t ncap = l->cap ? l->cap * 2 : 1 << 20;
	while (ncap < l->len + more)
		ncap *= 2;
	char *nb = realloc(l->buf, ncap);
	if (!nb)
		return -ENOMEM;
	l->buf = nb;
	l->cap = ncap;
	return 0;
}

/* Decimal digits of v at out (no NUL); returns their number (<= 20). */
static size_t format_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* Chain and queue the object text p[0..n) at the end of the pending lines
 * (room reserved). 0, -EINVAL (bad event), -EIO. */
static int finish_line(struct elog *l, char *p, size_t n)
{
	char hex[ELOG_HEX_LEN + 1];
	uint8_t chain[ELOG_CHAIN_LEN];

	if (n < 3 || n > ELOG_MAX_LINE - 128 || p[0] != '{' || p[n - 1] != '}')
		return -EINVAL;
	n--; /* drop the closing brace */
	/* the fixed suffix (elog_format.h), without printf: it is per line */
	memcpy(p + n, ELOG_SEQ_PREFIX, sizeof(ELOG_SEQ_PREFIX) - 1);
	n += sizeof(ELOG_SEQ_PREFIX) - 1;
	n += format_u64(p + n, l->seq + 1);
	if (elog_mac_chain(l->mac, l->chain, p, n, chain) < 0)
		return -EIO;
	memcpy(p + n, ELOG_CHAIN_PREFIX, sizeof(ELOG_CHAIN_PREFIX) - 1);
	n += sizeof(ELOG_CHAIN_PREFIX) - 1;
	elog_hex(chain, ELOG_CHAIN_LEN, hex);
	memcpy(p + n, hex, ELOG_HEX_LEN);
	n += ELOG_HEX_LEN;
	memcpy(p + n, "\"}\n", 3);
	n += 3;
	if (l->syslog) {
		int64_t t = now_us(l);
		elog_syslog_send(l->syslog, p, n - 1, t, t);
	}
	l->len += n;
	l->seq++;
	memcpy(l->chain, chain, ELOG_CHAIN_LEN);
	l->st.backlog++;
	return 0;
}

/* Serialise ev, chain it and queue it. 0, -EINVAL (bad event), -ENOMEM. */
static int queue_line(struct elog *l, json_t *ev)
{
	int rc = reserve(l, LINE_ROOM);
	char *p;

	if (rc)
		return rc;
	p = l->buf + l->len;
	return finish_line(l, p, json_dumpb(ev, p, LINE_ROOM, JSON_COMPACT));
}

/* The same for a struct event, streamed by yajl (egw_event_encode). */
static int queue_event(struct elog *l, const struct egw_event *ev)
{
	const char *text;
	size_t n;
	int rc;

	if (!l->enc && !(l->enc = egw_event_enc_new()))
		return -ENOMEM;
	rc = egw_event_encode(l->enc, ev, &text, &n);
	if (rc)
		return rc;
	if (n > ELOG_MAX_LINE - 128)
		return -EINVAL;
	rc = reserve(l, LINE_ROOM);
	if (rc)
		return rc;
	memcpy(l->buf + l->len, text, n);
	return finish_line(l, l->buf + l->len, n);
}

static void write_head(struct elog *l)
{
	char name[ELOG_NAME_MAX], hex[ELOG_HEX_LEN + 1], mhex[ELOG_HEX_LEN + 1];
	char msg[256], out[HEAD_SIZE];
	uint8_t zero[ELOG_CHAIN_LEN] = { 0 }, mac[ELOG_CHAIN_LEN];
	int n;

	if (l->head_fd < 0 || l->fd < 0)
		return;
	elog_name_format(l->day, ELOG_F_PLAIN, name, sizeof(name));
	elog_hex(l->chain, ELOG_CHAIN_LEN, hex);
	n = snprintf(msg, sizeof(msg), "head %s %llu %s", name,
		     (unsigned long long)l->seq, hex);
	if (elog_mac_chain(l->mac, zero, msg, (size_t)n, mac) < 0)
		return;
	elog_hex(mac, ELOG_CHAIN_LEN, mhex);
	memset(out, ' ', sizeof(out));
	n = snprintf(out, sizeof(out),
		     "{\"file\":\"%s\",\"lines\":%llu,\"chain\":\"%s\",\"mac\":\"%s\"}",
		     name, (unsigned long long)l->seq, hex, mhex);
	out[n] = ' ';
	out[HEAD_SIZE - 1] = '\n';
	/* Same size every time: overwriting never needs new disk blocks. */
	if (pwrite(l->head_fd, out, HEAD_SIZE, 0) != HEAD_SIZE)
		l->st.write_errors++;
}

static int flush_buf(struct elog *l)
{
	if (l->fd < 0)
		return l->off < l->len ? -EBADF : 0;
	while (l->off < l->len) {
		ssize_t n = write(l->fd, l->buf + l->off, l->len - l->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			l->st.last_errno = errno;
			l->st.write_errors++;
			return -errno;
		}
		if ((size_t)n == l->len - l->off) {
			/* all pending lines (each has exactly one newline) */
			l->st.written += l->st.backlog;
			l->st.backlog = 0;
		} else {
			for (const char *p = l->buf + l->off, *e = p + n;
			     (p = memchr(p, '\n', (size_t)(e - p))); p++) {
				l->st.written++;
				l->st.backlog--;
			}
		}
		l->off += (size_t)n;
		l->st.bytes += (uint64_t)n;
	}
	l->off = l->len = 0;
	write_head(l);
	return 0;
}

static json_t *record(struct elog *l, const char *type, json_t *body)
{
	char ts[40], key[32];

	elog_ts_format(now_us(l), ts, sizeof(ts));
	snprintf(key, sizeof(key), "%s", type);
	return json_pack("{s:s, s:s, s:o}", "event_type", type, "timestamp", ts,
			 key, body);
}

static int queue_record(struct elog *l, const char *type, json_t *body)
{
	json_t *r = body ? record(l, type, body) : NULL;
	int rc;

	if (!r)
		return -ENOMEM;
	rc = queue_line(l, r);
	json_decref(r);
	return rc;
}

static int queue_gap(struct elog *l)
{
	char from[40], to[40];
	int rc;

	elog_ts_format(l->gap_from, from, sizeof(from));
	elog_ts_format(l->gap_to, to, sizeof(to));
	rc = queue_record(l, "egw_gap", json_pack("{s:I, s:s, s:s, s:s}",
		"lost", (json_int_t)l->gap_lost, "from", from, "to", to,
		"error", strerror(l->gap_errno ? l->gap_errno : ENOSPC)));
	if (!rc)
		l->gap_lost = 0;
	return rc;
}

static void lose(struct elog *l, size_t n)
{
	int64_t t = now_us(l);

	if (!l->gap_lost)
		l->gap_from = t;
	l->gap_to = t;
	l->gap_lost += n;
	l->gap_errno = l->st.last_errno;
	l->st.failed += n;
}

/* Create the file of l->day and queue its header line. */
static int start_file(struct elog *l, int64_t prev_day, const uint8_t *prev_chain)
{
	char name[ELOG_NAME_MAX], path[4096], prev[16], day[16], hex[ELOG_HEX_LEN + 1];
	json_t *body;
	int rc;

	elog_name_format(l->day, ELOG_F_PLAIN, name, sizeof(name));
	path_of(l, name, path, sizeof(path));
	l->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (l->fd < 0)
		return -errno;
	elog_day_format(l->day, day, sizeof(day));
	if (prev_day >= 0)
		elog_day_format(prev_day, prev, sizeof(prev));
	elog_hex(prev_chain, ELOG_CHAIN_LEN, hex);
	l->seq = 0;
	memcpy(l->chain, prev_chain, ELOG_CHAIN_LEN);
	l->sealed = false;
	body = json_pack("{s:i, s:s, s:o, s:s, s:i}", "version", 1, "day", day,
			 "prev_day", prev_day >= 0 ? json_string(prev) : json_null(),
			 "prev_chain", hex, "retention_days", (int)l->retention_days);
	rc = queue_record(l, "egw_file", body);
	if (rc)
		return rc;
	return flush_buf(l);
}

/*
 * Archiving (summary, compression) of closed days and expiry run in a
 * background thread: compressing a large day takes seconds, during which
 * the writer must keep writing. The thread touches only files of days other
 * than arch_skip (the day being written) and reads only fields of struct
 * elog that never change after elog_open, plus its own MAC context.
 */
static void *archive_main(void *arg)
{
	struct elog *l = arg;
	DIR *d = opendir(l->dir);
	struct dirent *de;
	char err[512];

	if (d) {
		while ((de = readdir(d))) {
			int64_t day;
			enum elog_file_kind kind;
			if (elog_name_parse(de->d_name, &day, &kind) < 0 ||
			    kind != ELOG_F_PLAIN || day == l->arch_skip)
				continue;
			if (elog_archive_day(l->dir, day, l->compress, l->zlevel, l->arch_mac,
					     err, sizeof(err)) < 0)
				atomic_fetch_add(&l->arch_errors, 1);
		}
		closedir(d);
	}
	int n = elog_expire(l->dir, l->arch_today, l->retention_days);
	if (n > 0)
		atomic_fetch_add(&l->arch_expired, (uint64_t)n);
	atomic_store(&l->arch_done, true);
	return NULL;
}

void elog_sync(struct elog *l)
{
	if (l->arch_running) {
		pthread_join(l->arch_thread, NULL);
		l->arch_running = false;
	}
}

static void archive_and_expire(struct elog *l)
{
	if (l->arch_running) {
		if (!atomic_load(&l->arch_done)) {
			l->arch_again = true; /* still busy: again when it is done */
			return;
		}
		elog_sync(l);
	}
	l->arch_again = false;
	l->arch_skip = l->day;
	l->arch_today = elog_day_of_us(now_us(l));
	atomic_store(&l->arch_done, false);
	if (pthread_create(&l->arch_thread, NULL, archive_main, l) == 0)
		l->arch_running = true;
	else
		archive_main(l);
}

/* Seal the current file and start the file of day. 0, or -errno (retry later). */
static int rotate(struct elog *l, int64_t day)
{
	uint8_t last[ELOG_CHAIN_LEN];
	int64_t old = l->day;
	char ds[16];
	int rc;

	if (l->fd >= 0 && !l->sealed) {
		rc = flush_buf(l);
		if (rc)
			return rc;
		elog_day_format(l->day, ds, sizeof(ds));
		rc = queue_record(l, "egw_seal", json_pack("{s:s, s:I}", "day", ds,
				  "lines", (json_int_t)l->seq));
		if (rc)
			return rc;
		l->sealed = true;
	}
	rc = flush_buf(l);
	if (rc)
		return rc;
	if (l->fd >= 0) {
		fsync(l->fd);
		close(l->fd);
		l->fd = -1;
	}
	memcpy(last, l->chain, ELOG_CHAIN_LEN);
	l->day = day;
	rc = start_file(l, old, last);
	if (rc) {
		/* keep the chain of the sealed file; try again later */
		if (l->fd >= 0) {
			char name[ELOG_NAME_MAX], path[4096];
			close(l->fd);
			l->fd = -1;
			elog_name_format(day, ELOG_F_PLAIN, name, sizeof(name));
			path_of(l, name, path, sizeof(path));
			unlink(path);
		}
		l->day = old;
		l->seq = 0;
		l->off = l->len = 0;
		l->st.backlog = 0;
		memcpy(l->chain, last, ELOG_CHAIN_LEN);
		return rc;
	}
	l->st.rotations++;
	archive_and_expire(l);
	return 0;
}

/* True when events may be queued (a file is open and not sealed). */
static bool ready(struct elog *l, int64_t t)
{
	int64_t day = elog_day_of_us(t);

	if (day > l->day)
		rotate(l, day);
	return l->fd >= 0 && !l->sealed;
}

/* n events, either JSON objects (objs) or structs (evs). */
static size_t write_events(struct elog *l, json_t *const *objs,
			   const struct egw_event *evs, size_t n)
{
	size_t ok = 0;
	bool can = ready(l, now_us(l)), retried = false;

	for (size_t i = 0; i < n; i++) {
		if (objs) {
			json_t *type = json_object_get(objs[i], "event_type");
			if (!json_is_object(objs[i]) ||
			    (json_is_string(type) &&
			     !strncmp(json_string_value(type), "egw_", 4))) {
				l->st.rejected++;
				continue;
			}
		}
		if (can && l->len - l->off >= l->backlog_max && !retried) {
			/* the backlog is full: the disk may have room again */
			retried = true;
			flush_buf(l);
		}
		if (!can || l->len - l->off >= l->backlog_max) {
			lose(l, 1);
			continue;
		}
		if (l->gap_lost && queue_gap(l) < 0) {
			lose(l, 1);
			continue;
		}
		int rc = objs ? queue_line(l, objs[i]) : queue_event(l, &evs[i]);
		if (rc == -EINVAL) {
			l->st.rejected++;
			continue;
		}
		if (rc) {
			lose(l, 1);
			continue;
		}
		ok++;
		if (l->st.backlog >= ELOG_BATCH_LINES ||
		    l->len - l->off >= ELOG_BATCH_BYTES) {
			flush_buf(l);
		}
	}
	return ok;
}

size_t elog_write(struct elog *l, json_t *const *events, size_t n)
{
	return write_events(l, events, NULL, n);
}

size_t elog_write_events(struct elog *l, const struct egw_event *events, size_t n)
{
	return write_events(l, NULL, events, n);
}

int elog_flush(struct elog *l)
{
	return flush_buf(l);
}

int elog_tick(struct elog *l)
{
	ready(l, now_us(l));
	if (l->arch_again && atomic_load(&l->arch_done))
		archive_and_expire(l);
	return flush_buf(l);
}

void elog_get_stats(const struct elog *l, struct elog_stats *st)
{
	*st = l->st;
	st->archive_errors = atomic_load(&l->arch_errors);
	st->expired = atomic_load(&l->arch_expired);
	elog_syslog_counts(l->syslog, &st->syslog_sent, &st->syslog_dropped);
}

/* What elog_open learns from the newest file. */
struct tail {
	uint64_t seq;
	uint8_t chain[ELOG_CHAIN_LEN];
	bool sealed;
	off_t good;     /* bytes up to the end of the last complete line */
	off_t torn;     /* bytes after it (a torn line) */
};

static int scan_tail(const char *path, bool zstd, struct tail *t, char *err, size_t errlen)
{
	const char *line, *why;
	struct elog_reader *r = elog_reader_open(path, zstd, &why);
	size_t len;
	bool complete;
	int rc;

	memset(t, 0, sizeof(*t));
	if (!r) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	while ((rc = elog_reader_next(r, &line, &len, &complete, &why)) == 1) {
		struct elog_line ln;
		if (!complete) {
			t->torn = (off_t)len;
			break;
		}
		if (elog_line_parse(line, len, &ln, &why) < 0) {
			snprintf(err, errlen, "%s: line %llu: %s; run egwctl logs verify",
				 path, (unsigned long long)t->seq + 1, why);
			elog_reader_close(r);
			return -1;
		}
		t->seq = ln.seq;
		memcpy(t->chain, ln.chain, ELOG_CHAIN_LEN);
		t->sealed = ln.record && len > 30 && !memcmp(line + 15, "egw_seal\"", 9);
		t->good += (off_t)len + 1;
	}
	elog_reader_close(r);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

/* Resume or close the newest existing file; start today's if needed. */
static int resume(struct elog *l, int64_t today, char *err, size_t errlen)
{
	DIR *d = opendir(l->dir);
	struct dirent *de;
	int64_t newest = -1;
	bool newest_zstd = false;
	char name[ELOG_NAME_MAX], path[4096];
	uint8_t zero[ELOG_CHAIN_LEN] = { 0 };
	struct tail t;
	int rc;

	if (!d) {
		snprintf(err, errlen, "%s: %s", l->dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		int64_t day;
		enum elog_file_kind kind;
		if (elog_name_parse(de->d_name, &day, &kind) < 0 || kind == ELOG_F_SUMMARY)
			continue;
		if (day > newest || (day == newest && kind == ELOG_F_PLAIN)) {
			newest = day;
			newest_zstd = kind == ELOG_F_ZSTD;
		}
	}
	closedir(d);
	if (newest < 0) {
		l->day = today;
		rc = start_file(l, -1, zero);
		if (rc)
			snprintf(err, errlen, "%s: cannot start the log: %s", l->dir,
				 strerror(-rc));
		return rc;
	}
	elog_name_format(newest, newest_zstd ? ELOG_F_ZSTD : ELOG_F_PLAIN, name, sizeof(name));
	path_of(l, name, path, sizeof(path));
	if (scan_tail(path, newest_zstd, &t, err, errlen) < 0)
		return -EBADMSG;
	l->day = newest;
	l->seq = t.seq;
	memcpy(l->chain, t.chain, ELOG_CHAIN_LEN);
	l->sealed = t.sealed || newest_zstd;
	if (!l->sealed) {
		l->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (l->fd < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -errno;
		}
		if (t.torn) {
			/* a line torn by a crash: cut it off and say so in the chain */
			if (ftruncate(l->fd, t.good) < 0) {
				snprintf(err, errlen, "%s: cannot cut the torn last line: %s",
					 path, strerror(errno));
				return -errno;
			}
			rc = queue_record(l, "egw_repair", json_pack("{s:I, s:I}",
				"discarded_bytes", (json_int_t)t.torn,
				"after_line", (json_int_t)t.seq));
			if (!rc)
				rc = flush_buf(l);
			if (rc) {
				snprintf(err, errlen, "%s: cannot record the repair: %s",
					 path, strerror(-rc));
				return rc;
			}
		}
		if (t.seq == 0) {
			snprintf(err, errlen, "%s: file has no header line; move it away "
				 "and run egwctl logs verify", path);
			return -EBADMSG;
		}
		write_head(l);
	}
	if (today > newest || l->sealed) {
		if (today <= newest) {
			snprintf(err, errlen, "%s: the clock is behind the newest "
				 "sealed log file (%s)", l->dir, name);
			return -EINVAL;
		}
		rc = rotate(l, today);
		if (rc) {
			snprintf(err, errlen, "%s: cannot start the day's file: %s", l->dir,
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

struct elog *elog_open(const struct elog_cfg *cfg, char *err, size_t errlen)
{
	struct elog *l = calloc(1, sizeof(*l));
	char path[4096];
	int rc = -ENOMEM;

	if (!l)
		goto fail_msg;
	l->fd = -1;
	l->head_fd = -1;
	l->dir = strdup(cfg->dir);
	if (!l->dir)
		goto fail_msg;
	l->retention_days = cfg->retention_days ? cfg->retention_days : ELOG_DEFAULT_RETENTION;
	l->compress = cfg->compress;
	l->zlevel = cfg->zstd_level ? cfg->zstd_level : 3;
	l->clock = cfg->clock ? cfg->clock : real_clock;
	l->clock_arg = cfg->clock_arg;
	l->backlog_max = cfg->backlog_max ? cfg->backlog_max : ELOG_DEFAULT_BACKLOG;
	if (mkdir(l->dir, 0750) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", l->dir, strerror(errno));
		goto fail;
	}
	if (cfg->key_path)
		snprintf(path, sizeof(path), "%s", cfg->key_path);
	else
		path_of(l, ".key", path, sizeof(path));
	if (elog_key_load(path, true, l->key, err, errlen) < 0) {
		rc = -EACCES;
		goto fail;
	}
	l->mac = elog_mac_new(l->key);
	l->arch_mac = elog_mac_new(l->key);
	if (!l->mac || !l->arch_mac)
		goto fail_msg;
	if (cfg->syslog_proto) {
		l->syslog = elog_syslog_open((enum elog_syslog_proto)cfg->syslog_proto,
					     cfg->syslog_host ? cfg->syslog_host : "",
					     cfg->syslog_port, err, errlen);
		if (!l->syslog) {
			rc = -EINVAL;
			goto fail;
		}
	}
	path_of(l, HEAD_NAME, path, sizeof(path));
	l->head_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (l->head_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	/* one writer per directory: two would fork the chain */
	if (flock(l->head_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "%s: %s", l->dir, rc == -EBUSY ?
			 "another writer is using this log directory" : strerror(errno));
		goto fail;
	}
	rc = resume(l, elog_day_of_us(now_us(l)), err, errlen);
	if (rc)
		goto fail;
	archive_and_expire(l);
	return l;
fail_msg:
	snprintf(err, errlen, "out of memory");
fail:
	if (l) {
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
		l->off = l->len = 0;
		elog_close(l);
	}
	errno = -rc;
	return NULL;
}

int elog_close(struct elog *l)
{
	int rc = 0;

	if (!l)
		return 0;
	elog_sync(l);
	if (l->arch_again && l->arch_mac) {
		/* catch up before leaving */
		l->arch_skip = l->day;
		l->arch_today = elog_day_of_us(now_us(l));
		archive_main(l);
	}
	if (l->fd >= 0) {
		rc = flush_buf(l);
		if (rc == 0 && l->gap_lost) {
			/* say what was lost even if nothing follows */
			if (!l->sealed && queue_gap(l) == 0)
				rc = flush_buf(l);
		}
		if (rc == 0 && (l->st.failed || l->st.backlog))
			rc = -EIO;
		fsync(l->fd);
		close(l->fd);
	}
	if (l->head_fd >= 0)
		close(l->head_fd);
	elog_syslog_close(l->syslog);
	elog_mac_free(l->mac);
	elog_mac_free(l->arch_mac);
	explicit_bzero(l->key, sizeof(l->key));
	egw_event_enc_free(l->enc);
	free(l->buf);
	free(l->dir);
	free(l);
	return rc;
}

void elog_cfg_from_policy(struct elog_cfg *cfg, const struct egw_log_cfg *p)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dir = p->directory;
	cfg->retention_days = p->retention_days;
	cfg->compress = p->compress == EGW_COMPRESS_ZSTD;
	if (p->syslog_proto != EGW_SYSLOG_NONE && p->syslog_host) {
		cfg->syslog_proto = p->syslog_proto == EGW_SYSLOG_TCP ? 2 : 1;
		cfg->syslog_host = p->syslog_host;
		cfg->syslog_port = p->syslog_port;
	}
}

int elog_expire(const char *dir, int64_t today, unsigned retention_days)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int64_t day;
		enum elog_file_kind kind;
		if (elog_name_parse(de->d_name, &day, &kind) < 0)
			continue;
		if (today - day <= (int64_t)retention_days)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}
