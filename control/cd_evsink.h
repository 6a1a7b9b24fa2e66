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
 *
 * Batching. The behaviour-log sink (cd_evsink_open_elog) takes events in
 * batches: cd_evsink_emit only copies the event into the sink's batch (at
 * most CD_EVSINK_BATCH events, handed on when full), and the batch is
 * handed to elog_write_events in one call by cd_evsink_push, cd_evsink_emit_n,
 * cd_evsink_flush, cd_evsink_tick and cd_evsink_close. Events keep the
 * order of the calls. The caller pushes at the end of every burst of
 * emits (one nfqueue batch, one read of the fast path's socket), so the
 * sink's batch is empty whenever the daemon waits in poll(2): the writer's
 * kill -9 bound (elog.h: 256 events or 100 ms) is unchanged. Accounting
 * (cd_evsink_count/errors) is done when a batch is handed on.
 * Other sinks (cd_evsink_open_jsonl, cd_evsink_open_ops) get every event
 * at once through ops->emit; push is a no-op for them.
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

/* The most events cd_evsink_emit collects before handing them on
 * (= ELOG_BATCH_LINES, the writer's own batch). */
#define CD_EVSINK_BATCH 256

struct cd_evsink;

/* The behaviour log (control/elog.h): hash-chained EVE lines, daily
 * rotation, retention. The daemon must call cd_evsink_tick every
 * ELOG_TICK_MS. NULL with errno and err set. */
struct cd_evsink *cd_evsink_open_elog(const char *directory, unsigned retention_days,
				      bool compress, char *err, size_t errlen);
/* Call periodically (rotation, flush); pushes the batch first. */
int cd_evsink_tick(struct cd_evsink *s);
/* The JSON-lines sink in directory (created if missing). NULL with errno.
 * Plain lines without the hash chain: for tools and tests. */
struct cd_evsink *cd_evsink_open_jsonl(const char *directory);
/* Any other writer. ctx is owned by the sink (closed by ops->close). */
struct cd_evsink *cd_evsink_open_ops(const struct cd_evsink_ops *ops, void *ctx);
void cd_evsink_close(struct cd_evsink *s);       /* NULL ok */
/* One event: written now (unbatched sinks) or added to the batch (handed on
 * when CD_EVSINK_BATCH are collected). 0, or -errno when an event could not
 * be written (counted). */
int cd_evsink_emit(struct cd_evsink *s, const struct egw_event *ev);
/* n events (e.g. one message of the fast path) after those collected so far,
 * handed on in one call without copying. ev need not outlive the call.
 * 0, or -EIO when some were lost (counted). */
int cd_evsink_emit_n(struct cd_evsink *s, const struct egw_event *ev, size_t n);
/* Hand the collected batch on (no flush to disk). 0 or -EIO as above. */
int cd_evsink_push(struct cd_evsink *s);
/* Push, then write everything pending to disk. */
int cd_evsink_flush(struct cd_evsink *s);
uint64_t cd_evsink_count(const struct cd_evsink *s);  /* events handed on and accepted */
uint64_t cd_evsink_errors(const struct cd_evsink *s);

#endif
