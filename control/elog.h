/* SPDX-License-Identifier: MIT */
/*
 * The behaviour-log writer: EVE JSON lines, one file per UTC day, a keyed
 * hash chain over every line (tamper evidence), closed days sealed,
 * summarised and (optionally) zstd-compressed, expired days deleted.
 * Format: control/elog_format.h and docs/behaviour-log.md.
 *
 * Durability bound. Lines are handed to the kernel (write(2)) when the
 * pending batch reaches ELOG_BATCH_LINES lines or ELOG_BATCH_BYTES bytes,
 * and at every elog_flush()/elog_tick(). The caller (egw-controld) calls
 * elog_tick() at least every ELOG_TICK_MS milliseconds, so `kill -9` of the
 * writer loses at most the last ELOG_BATCH_LINES (256) events or the last
 * ELOG_TICK_MS (100 ms) of events, whichever is fewer. Lines already written
 * are never rewritten; a line torn by a crash is cut off and recorded
 * (an egw_repair line) when the writer next opens the directory. Files are
 * fsync()ed when a day is sealed; power loss may lose what the kernel had
 * not written back.
 *
 * Disk full: a failed write keeps the lines in memory (the backlog, at most
 * backlog_max bytes) and is retried at every call; events that do not fit
 * are counted (stats.failed) and, when writing resumes, an egw_gap line
 * records how many were lost and when. Nothing already written is touched.
 *
 * Thread safety: a struct elog belongs to one thread at a time (its own
 * archiving thread works only on closed days' files).
 * Errors: constructors return NULL and set errno (and a message in err);
 * other functions return 0 or -errno.
 */
#ifndef EGW_ELOG_H
#define EGW_ELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <egw/event.h>
#include <egw/policy.h>

#define ELOG_BATCH_LINES 256
#define ELOG_BATCH_BYTES 65536
#define ELOG_TICK_MS 100
#define ELOG_DEFAULT_RETENTION 180
#define ELOG_DEFAULT_BACKLOG (16u << 20)

struct elog_cfg {
	const char *dir;           /* created (0750) if absent */
	unsigned retention_days;   /* 0: ELOG_DEFAULT_RETENTION */
	bool compress;             /* zstd for closed days */
	int zstd_level;            /* 0: 3 */
	const char *key_path;      /* NULL: <dir>/.key, created 0600 if absent */
	/* UTC time in microseconds since the epoch; NULL: CLOCK_REALTIME.
	 * Decides the day file an event goes to and every record's timestamp. */
	int64_t (*clock)(void *arg);
	void *clock_arg;
	size_t backlog_max;        /* bytes; 0: ELOG_DEFAULT_BACKLOG */
	/* RFC 5424 copy of every line (elog_syslog.h): 0 none, 1 UDP, 2 TCP */
	int syslog_proto;
	const char *syslog_host;
	uint16_t syslog_port;
};

struct elog_stats {
	uint64_t written;       /* lines written to files (events and egw_ records) */
	uint64_t failed;        /* events lost: not written and not kept */
	uint64_t rejected;      /* events refused as invalid (not objects, too long) */
	uint64_t backlog;       /* lines waiting in memory to be written */
	uint64_t bytes;         /* bytes written to files */
	uint64_t write_errors;  /* failed write(2) calls */
	uint64_t rotations;
	uint64_t archive_errors;/* closed days not yet compressed/summarised */
	uint64_t expired;       /* files deleted by retention */
	int last_errno;         /* of the last failed write, 0 if none */
	uint64_t syslog_sent;   /* lines handed to the syslog socket */
	uint64_t syslog_dropped;/* lines the syslog copy could not take */
};

struct elog;

/* Fill cfg from the policy's log section (directory, retention, compress,
 * syslog); the other fields are zeroed (defaults). cfg points into p. */
void elog_cfg_from_policy(struct elog_cfg *cfg, const struct egw_log_cfg *p);

struct elog *elog_open(const struct elog_cfg *cfg, char *err, size_t errlen);
/*
 * Log n events (JSON objects; the caller keeps its references). An event
 * whose event_type starts with "egw_" or that is not an object is rejected.
 * Returns the number of events accepted (written or kept in the backlog);
 * the rest are counted in stats.failed or stats.rejected.
 */
size_t elog_write(struct elog *l, json_t *const *events, size_t n);
/*
 * Log n events given as structs (the fast path's batches), without building
 * JSON objects: each line is streamed by egw_event_encode (egw/event.h) and
 * is byte for byte the line elog_write(egw_event_to_json(ev)) writes. Same
 * return value and accounting as elog_write (an event is never rejected for
 * its type: struct events have no egw_ type).
 */
size_t elog_write_events(struct elog *l, const struct egw_event *events, size_t n);
/* Write everything pending. 0, or -errno (the lines stay in the backlog). */
int elog_flush(struct elog *l);
/* Call every ELOG_TICK_MS: rotates at UTC midnight, flushes. 0 or -errno. */
int elog_tick(struct elog *l);
void elog_get_stats(const struct elog *l, struct elog_stats *st);
/*
 * Closed days are summarised, compressed and expired by a background thread
 * started at open and at each rotation (so that compressing a large day
 * never stalls writing). Wait for it to finish (elog_close does too).
 */
void elog_sync(struct elog *l);
/* Flush, write the checkpoint and free. The day's file stays open for
 * appending at the next elog_open(). 0, or -errno when data was lost. */
int elog_close(struct elog *l);

/*
 * Expire files of days older than retention_days before today: a file of
 * day D is deleted when today - D > retention_days (so a file exactly
 * retention_days old is kept). Returns the number deleted, or -errno.
 */
int elog_expire(const char *dir, int64_t today, unsigned retention_days);

#endif
