/* SPDX-License-Identifier: MIT */
/*
 * Reading the behaviour log back: event field accessors, the query filter
 * (egwctl logs query), the per-day summaries that let a query skip days and
 * `egwctl report daily` work without decompressing, and archiving (summary
 * plus compression) of a sealed day.
 *
 * Thread safety: none shared; every function works on its arguments.
 * Ownership: json_t results are new references for the caller.
 */
#ifndef EGW_ELOG_QUERY_H
#define EGW_ELOG_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <egw/addr.h>

struct elog_filter {
	int64_t since_us, until_us;  /* [since, until); INT64_MIN/MAX: open */
	const char *unit, *user, *verdict;
	const char *domain;          /* lower case, matches itself and below */
	bool has_ip;
	struct egw_prefix ip;        /* src_ip or dest_ip within */
};

void elog_filter_init(struct elog_filter *f);
/* The event's domain: dns.rrname, tls.sni or http.hostname; NULL if none. */
const char *elog_event_domain(json_t *ev);
const char *elog_event_str(json_t *ev, const char *obj, const char *key);
/* True when name is dom or below it (case-insensitive, trailing dot ignored). */
bool elog_domain_match(const char *name, const char *dom);
bool elog_filter_match(const struct elog_filter *f, json_t *ev, int64_t ts_us);

/*
 * Parse a time for --since/--until: ISO date or date-time (elog_ts_parse),
 * "now", or relative "7d", "12h", "30m", "90s" (before now_us). 0 or -1.
 */
int elog_time_arg(const char *s, int64_t now_us, int64_t *out);

/* The log files of one day in a directory (summaries are not counted). */
struct elog_day_files {
	int64_t day;
	bool plain, zstd;             /* eve-DAY.json, eve-DAY.json.zst */
};
/*
 * Read dir once: its days with a log file, ascending, malloc'ed (*n may be
 * 0). NULL with errno when the directory cannot be read (or no memory).
 */
struct elog_day_files *elog_list_days(const char *dir, size_t *n);

/* Summaries (see docs/behaviour-log.md for the fields). */
json_t *elog_summary_new(int64_t day);
void elog_summary_add(json_t *sum, json_t *ev);
/*
 * Told of a damaged line a reader skips (it goes on with the next): the
 * file, the line's number (from 1), and what is wrong ("not a log line
 * (...)", "not a JSON event (...)").
 */
typedef void (*elog_skip_fn)(void *arg, const char *path, uint64_t line, const char *what);

/*
 * Summarise a day file. Sets *sealed when its last line is the day's seal.
 * Damaged lines are skipped, each told to skip (when not NULL) with arg; a
 * torn last line is not. 0, or -1 with a message in err.
 */
int elog_summary_of_file(const char *path, bool zstd, int64_t day, json_t **out,
			 bool *sealed, elog_skip_fn skip, void *arg, char *err, size_t errlen);
/* False only when the summary proves no event of the day matches f. */
bool elog_summary_may_match(json_t *sum, const struct elog_filter *f);
/* Load <dir>/eve-DAY.summary.json; NULL when absent, unreadable, not a
 * regular file or not a version-1 summary with all its maps (queries then
 * read the day's file). */
json_t *elog_summary_load(const char *dir, int64_t day);
/*
 * Load <dir>/eve-DAY.summary.json strictly (egwctl report): 1 and *out when
 * it is a well-formed version-1 summary of that day (maps of counts, and
 * "source"/"suspect" well-formed when present); 0 when there is none; -1
 * with "PATH[:LINE]: what is wrong" in err when it is unreadable or damaged.
 * Needs no key (the MAC is elog_verify's business).
 */
int elog_summary_read(const char *dir, int64_t day, json_t **out, char *err, size_t errlen);
/* True when sum has the members added after the first summaries
 * ("source", "suspect"); an older summary lacks them and the day's file
 * must be read for what they hold. */
bool elog_summary_is_current(json_t *sum);

/*
 * Archive the sealed plain file of day in dir: write its summary (with a
 * "mac" member when mac is given: elog_summary_mac) and, with compress,
 * replace it by a zstd file (written aside, fsync'ed, renamed).
 * 0 done, 1 the file is not sealed (left alone), -1 error (message in err).
 */
struct elog_mac;
int elog_archive_day(const char *dir, int64_t day, bool compress, int level,
		     struct elog_mac *mac, char *err, size_t errlen);
/*
 * The MAC of a summary: HMAC-SHA256(key, 32 zero bytes || the summary
 * without its "mac" member, dumped JSON_COMPACT | JSON_SORT_KEYS), in hex
 * (65 bytes). 0 or -1.
 */
int elog_summary_mac(struct elog_mac *mac, json_t *sum, char hex[65]);

#endif
