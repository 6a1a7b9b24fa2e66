/* SPDX-License-Identifier: MIT */
/*
 * Verification of the behaviour log's tamper evidence (egwctl logs verify).
 * Finds, naming file and line: changed, deleted, inserted and reordered
 * lines; lines after a day's seal; files truncated (no seal, or fewer lines
 * than the .head checkpoint), missing within retention, or replaced; torn
 * last lines. Reports disk-full gaps and crash repairs as notices.
 *
 * Reads files with elog_reader (any hostile content is safe). Thread
 * safety: none shared. Errors: see elog_verify().
 */
#ifndef EGW_ELOG_VERIFY_H
#define EGW_ELOG_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "elog_format.h"

enum elog_severity { ELOG_NOTICE, ELOG_ERROR };

/* line 0: about the whole file. */
typedef void (*elog_report_fn)(void *arg, enum elog_severity sev, const char *file,
			       uint64_t line, const char *msg);

struct elog_verify_opts {
	const char *dir;
	const char *key_path;   /* NULL: <dir>/.key */
	int64_t since_day;      /* INT64_MIN: all */
	int64_t today;          /* day number (elog_day_of_us) retention counts from */
	elog_report_fn report;  /* NULL: print "file:line: error: msg" to stdout */
	void *arg;
};

struct elog_verify_result {
	unsigned files, errors, notices;
	uint64_t lines;
};

/* 0 when no error was found, 1 when some was, -1 when verification could not
 * run (no directory, no key); the reason then goes to report with line 0.
 * No log file at all (from since_day on) is a notice about dir, and
 * res->files is 0: nothing was verified. */
int elog_verify(const struct elog_verify_opts *o, struct elog_verify_result *res);

/* One file's verification, exposed for the fuzz target. */
struct elog_vfile {
	/* in */
	struct elog_mac *mac;
	const char *name;       /* for reports */
	int64_t day;            /* expected in the header; INT64_MIN: any */
	uint64_t head_seq;      /* line whose chain to remember; 0: none */
	elog_report_fn report;
	void *arg;
	/* out */
	bool has_header;
	int64_t prev_day;       /* -1: none */
	uint8_t prev_chain[ELOG_CHAIN_LEN];
	unsigned retention_days;
	uint64_t lines;         /* complete lines read */
	uint64_t last_seq;
	uint8_t last_chain[ELOG_CHAIN_LEN];
	bool sealed;
	uint64_t torn;          /* bytes of a torn last line */
	bool read_error;
	bool head_found;
	uint8_t head_chain[ELOG_CHAIN_LEN];
	unsigned errors, notices;
};

/* Verify the lines of f (owned and closed). */
void elog_verify_file(struct elog_vfile *v, FILE *f, bool zstd);

#endif
