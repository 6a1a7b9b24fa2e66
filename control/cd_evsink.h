/* SPDX-License-Identifier: MIT */
/*
 * Where egw-controld's events go. The daemon only calls cd_evsink_emit();
 * the behaviour log writer (control/elog*.c, branch log) replaces the
 * default sink by providing its own struct cd_evsink_ops.
 *
 * Default sink: EVE JSON lines (egw_event_to_json) appended to
 * <directory>/controld.json, flushed after each batch (cd_evsink_flush).
 * Thread safety: one thread. Errors: -errno; a failed write is counted
 * (cd_evsink_errors) and reported once on stderr, never fatal.
 */
#ifndef CD_EVSINK_H
#define CD_EVSINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <egw/event.h>

struct cd_evsink_ops {
	int (*emit)(void *ctx, const struct egw_event *ev);
	int (*flush)(void *ctx);
	void (*close)(void *ctx);
	int (*tick)(void *ctx);    /* may be NULL */
};

struct cd_evsink;

/* The behaviour log (control/elog.h): hash-chained EVE lines, daily
 * rotation, retention. The daemon must call cd_evsink_tick every
 * ELOG_TICK_MS. NULL with errno and err set. */
struct cd_evsink *cd_evsink_open_elog(const char *directory, unsigned retention_days,
				      bool compress, char *err, size_t errlen);
/* Call periodically (rotation, flush); a no-op for sinks without tick. */
int cd_evsink_tick(struct cd_evsink *s);
/* The JSON-lines sink in directory (created if missing). NULL with errno.
 * Plain lines without the hash chain: for tools and tests. */
struct cd_evsink *cd_evsink_open_jsonl(const char *directory);
/* Any other writer. ctx is owned by the sink (closed by ops->close). */
struct cd_evsink *cd_evsink_open_ops(const struct cd_evsink_ops *ops, void *ctx);
void cd_evsink_close(struct cd_evsink *s);       /* NULL ok */
int cd_evsink_emit(struct cd_evsink *s, const struct egw_event *ev);
int cd_evsink_flush(struct cd_evsink *s);
uint64_t cd_evsink_count(const struct cd_evsink *s);  /* events emitted */
uint64_t cd_evsink_errors(const struct cd_evsink *s);

#endif
