/* SPDX-License-Identifier: MIT */
/*
 * What egwctl report's subcommands share (control/ctl_report*.c): the days
 * of a log directory, a day's summary with the fallbacks the reports need,
 * and the policy they read. Errors are returned as one message naming the
 * file (the caller prints it); damaged lines, which are skipped, are told on
 * stderr as they are met and counted. Single-threaded, like egwctl.
 */
#ifndef EGW_CTL_REPORT_H
#define EGW_CTL_REPORT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <egw/policy.h>

/* Days (ascending, unique) for which dir holds a log file or a summary;
 * malloc'ed, *n may be 0. NULL with a message in err on error. */
int64_t *ctl_report_days(const char *dir, size_t *n, char *err, size_t errlen);

/*
 * A day's summary (new reference in *out): the summary file when it is
 * current (elog_summary_is_current); otherwise (none yet: the open day; or
 * one written before "source"/"suspect" existed) the day's log file read
 * whole. 1 with *out; 0 when the day has no log file (nothing to report);
 * -1 with a message in err: a damaged summary or log file, naming it.
 * A damaged line of the log file is skipped, told on stderr at once
 * (ctl_report_skip) and counted in *skipped: the report goes on without it.
 */
int ctl_day_summary(const char *dir, int64_t day, json_t **out, unsigned *skipped,
		    char *err, size_t errlen);

/* The day's log file read, counting only events whose timestamp lies in
 * [since_us, until_us) (an event without a timestamp counts only when the
 * range is open at both ends). Same returns as ctl_day_summary. */
int ctl_day_read(const char *dir, int64_t day, int64_t since_us, int64_t until_us,
		 json_t **out, unsigned *skipped, char *err, size_t errlen);

/* An elog_skip_fn: prints "egwctl report: PATH:LINE: WHAT, skipped" on
 * stderr and counts the line in *(unsigned *)arg. */
void ctl_report_skip(void *arg, const char *path, uint64_t line, const char *what);

/*
 * The policy the reports read (config, default /etc/egw/egw.cfg) and the log
 * directory (dir_opt, or the policy's log.directory) into dir. NULL after
 * printing the policy's errors on stderr.
 */
struct egw_policy *ctl_report_policy(const char *config, const char *dir_opt, char *dir,
				     size_t cap);

/* What the registry and terminals reports share: their options --json,
 * --dir DIR, --config FILE, --help; the policy; the days of the log. */
struct ctl_report_run {
	bool json;
	char dir[4096];           /* --dir, or the policy's log.directory */
	struct egw_policy *p;
	int64_t *days;            /* ascending (ctl_report_days) */
	size_t nd;
	unsigned skipped;         /* damaged lines skipped: the report exits 1 */
};

/* A report's own option c (its getopt_long value) with optarg: 0, or 2
 * after printing what is wrong with it. */
typedef int (*ctl_report_opt_fn)(void *arg, int c, const char *optarg);

/*
 * Parse argv: the report's own options (own: getopt_long entries up to a
 * NULL name, at most 8, whose values are none of 'j' 'D' 'c' 'h'), each
 * handed to opt(arg, ...), and the shared ones; then read the policy and
 * list the days of the log directory into r. Returns -1 when the report is
 * to go on (ctl_report_end(r) after), else the exit status, anything wrong
 * printed: 0 after --help, 2 bad usage, 1 the policy or the directory.
 */
int ctl_report_start(int argc, char **argv, const struct option *own, ctl_report_opt_fn opt,
		     void *arg, void (*usage)(FILE *), struct ctl_report_run *r);
void ctl_report_end(struct ctl_report_run *r);

/* The unit (index) whose prefixes hold addr by longest match, or -1. */
int ctl_unit_of(const struct egw_policy *p, const struct egw_prefix *addr);

int ctl_report_registry(int argc, char **argv);
int ctl_report_terminals(int argc, char **argv);

#endif
