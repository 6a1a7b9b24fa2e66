/* SPDX-License-Identifier: MIT */
/*
 * egwctl logs query|verify: reading and checking the behaviour log.
 *   logs query [--since T] [--until T] [--unit U] [--ip A] [--user N]
 *              [--domain D] [--verdict V] [--json] [--dir D | --config F]
 *   logs verify [--since T] [--json] [--dir D | --config F]
 * T: ISO date or date-time, "now", or relative (7d, 12h, 30m, 90s).
 * --now T (both): the time "now" and retention are counted from (tests,
 * and checking a copy of the logs later).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_logdir.h"
#include "elog_format.h"
#include "elog_query.h"
#include "elog_reader.h"
#include "elog_verify.h"

int64_t ctl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: egwctl logs query [--since T] [--until T] [--unit U] [--ip A]\n"
		"                         [--user N] [--domain D] [--verdict V] [--json]\n"
		"                         [--now T] [--dir DIR | --config FILE]\n"
		"       egwctl logs verify [--since T] [--now T] [--json]\n"
		"                          [--dir DIR | --config FILE]\n"
		"T: 2026-11-27, 2026-11-27T10:00:00+08:00, now, 7d, 12h, 30m\n"
		"--now T: the time relative times and retention count from (default: now)\n"
		"V: allowed | blocked | redirected | punted\n");
}

struct opts {
	const char *dir, *config;
	bool json;
	int64_t now;
	bool has_now;
	struct elog_filter f;
};

enum { O_SINCE = 256, O_UNTIL, O_UNIT, O_IP, O_USER, O_DOMAIN, O_VERDICT, O_JSON,
       O_DIR, O_CONFIG, O_NOW, O_HELP };

static const struct option longopts[] = {
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "unit", required_argument, NULL, O_UNIT },
	{ "ip", required_argument, NULL, O_IP },
	{ "user", required_argument, NULL, O_USER },
	{ "domain", required_argument, NULL, O_DOMAIN },
	{ "verdict", required_argument, NULL, O_VERDICT },
	{ "json", no_argument, NULL, O_JSON },
	{ "dir", required_argument, NULL, O_DIR },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "now", required_argument, NULL, O_NOW },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

/* 0, or the exit status to return. */
static int parse(int argc, char **argv, bool query, struct opts *o)
{
	const char *since = NULL, *until = NULL, *why;
	int c;

	memset(o, 0, sizeof(*o));
	elog_filter_init(&o->f);
	o->now = ctl_now_us();
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_SINCE: since = optarg; break;
		case O_UNTIL: until = optarg; break;
		case O_UNIT: o->f.unit = optarg; break;
		case O_USER: o->f.user = optarg; break;
		case O_DOMAIN: o->f.domain = optarg; break;
		case O_VERDICT:
			if (strcmp(optarg, "allowed") && strcmp(optarg, "blocked") &&
			    strcmp(optarg, "redirected") && strcmp(optarg, "punted")) {
				fprintf(stderr, "egwctl logs: --verdict %s: expected allowed, "
					"blocked, redirected or punted\n", optarg);
				return 2;
			}
			o->f.verdict = optarg;
			break;
		case O_IP:
			if (egw_prefix_parse(optarg, &o->f.ip, &why) < 0) {
				fprintf(stderr, "egwctl logs: --ip %s: %s\n", optarg, why);
				return 2;
			}
			o->f.has_ip = true;
			break;
		case O_JSON: o->json = true; break;
		case O_DIR: o->dir = optarg; break;
		case O_CONFIG: o->config = optarg; break;
		case O_NOW:
			if (elog_time_arg(optarg, o->now, &o->now) < 0) {
				fprintf(stderr, "egwctl logs: --now %s: not a time\n", optarg);
				return 2;
			}
			break;
		case O_HELP: usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "egwctl logs: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!query && (until || o->f.unit || o->f.user || o->f.domain || o->f.verdict ||
		       o->f.has_ip)) {
		fprintf(stderr, "egwctl logs verify: only --since, --json, --dir, --config, "
			"--now\n");
		return 2;
	}
	if (since && elog_time_arg(since, o->now, &o->f.since_us) < 0) {
		fprintf(stderr, "egwctl logs: --since %s: not a time (2026-11-27, "
			"2026-11-27T10:00:00Z, 7d, 12h, 30m)\n", since);
		return 2;
	}
	if (until && elog_time_arg(until, o->now, &o->f.until_us) < 0) {
		fprintf(stderr, "egwctl logs: --until %s: not a time\n", until);
		return 2;
	}
	/* [since, until) would be empty: a mistake, not a query for nothing */
	if (since && until && o->f.since_us >= o->f.until_us) {
		fprintf(stderr, "egwctl logs: --since %s is not before --until %s\n",
			since, until);
		return 2;
	}
	return 0;
}

static void cell(const char *s, int w)
{
	printf("%-*.*s ", w, w, s && *s ? s : "-");
}

static void print_row(json_t *ev)
{
	const char *ts = elog_event_str(ev, NULL, "timestamp");
	char t[20] = "-", sp[64], dp[64];
	json_t *p;

	if (ts && strlen(ts) >= 19) {
		memcpy(t, ts, 19);
		t[10] = ' ';
		t[19] = 0;
	}
	snprintf(sp, sizeof(sp), "%s", elog_event_str(ev, NULL, "src_ip") ?: "-");
	if ((p = json_object_get(ev, "src_port")) && json_integer_value(p))
		snprintf(sp + strlen(sp), sizeof(sp) - strlen(sp), ":%lld",
			 (long long)json_integer_value(p));
	snprintf(dp, sizeof(dp), "%s", elog_event_str(ev, NULL, "dest_ip") ?: "-");
	if ((p = json_object_get(ev, "dest_port")) && json_integer_value(p))
		snprintf(dp + strlen(dp), sizeof(dp) - strlen(dp), ":%lld",
			 (long long)json_integer_value(p));
	cell(t, 19);
	cell(elog_event_str(ev, NULL, "event_type"), 5);
	cell(elog_event_str(ev, "egw", "unit"), 10);
	cell(elog_event_str(ev, "egw", "user"), 10);
	cell(sp, 21);
	cell(dp, 21);
	cell(elog_event_str(ev, "egw", "action"), 10);
	cell(elog_event_str(ev, "egw", "reason"), 24);
	printf("%s\n", elog_event_domain(ev) ?: "-");
}

/*
 * 0; -1 after printing what went wrong (a damaged line is told and skipped,
 * the rest of the file still read); 1 when there is no such file.
 */
static int query_file(const char *path, bool zstd, const struct opts *o, uint64_t *hits)
{
	const char *line, *why;
	struct elog_reader *r = elog_reader_open(path, zstd, &why);
	uint64_t at = 0;
	size_t len;
	bool complete;
	int rc, ret = 0;

	if (!r) {
		if (errno == ENOENT)
			return 1;
		fprintf(stderr, "egwctl logs: %s: %s\n", path, why);
		return -1;
	}
	while ((rc = elog_reader_next(r, &line, &len, &complete, &why)) == 1 ||
	       rc == ELOG_READER_SKIPPED) {
		struct elog_line ln;
		json_error_t je;
		int64_t ts;
		at++;
		if (rc == ELOG_READER_SKIPPED) {
			fprintf(stderr, "egwctl logs: %s:%llu: %s, skipped\n",
				path, (unsigned long long)at, why);
			ret = -1;
			continue;
		}
		/* a torn last line is the writer's line in progress, or a crash's
		 * (cut at its restart): not an event yet */
		if (!complete)
			continue;
		if (elog_line_parse(line, len, &ln, &why) < 0) {
			fprintf(stderr, "egwctl logs: %s:%llu: not a log line (%s), skipped\n",
				path, (unsigned long long)at, why);
			ret = -1;
			continue;
		}
		if (ln.record)
			continue;
		json_t *ev = json_loadb(line, len, 0, &je);
		if (!json_is_object(ev)) {
			fprintf(stderr, "egwctl logs: %s:%llu: not a JSON event (%s), skipped\n",
				path, (unsigned long long)at, ev ? "not an object" : je.text);
			json_decref(ev);
			ret = -1;
			continue;
		}
		const char *t = elog_event_str(ev, NULL, "timestamp");
		if (t && elog_ts_parse(t, &ts) == 0 && elog_filter_match(&o->f, ev, ts)) {
			(*hits)++;
			if (o->json)
				printf("%.*s\n", (int)len, line);
			else
				print_row(ev);
		}
		json_decref(ev);
	}
	elog_reader_close(r);
	if (rc < 0) {
		fprintf(stderr, "egwctl logs: %s: %s\n", path, why);
		return -1;
	}
	return ret;
}

static int logs_query(int argc, char **argv)
{
	struct opts o;
	char dir[4096], name[ELOG_NAME_MAX], path[4200];
	int rc = parse(argc, argv, true, &o);
	struct elog_day_files *days;
	uint64_t hits = 0;
	int64_t first, last;
	bool bad = false;
	size_t n;
	int got;

	if (rc)
		return rc < 0 ? 0 : rc;
	if (ctl_log_dir(o.dir, o.config, dir, sizeof(dir)) < 0)
		return 2;
	first = o.f.since_us == INT64_MIN ? INT64_MIN : elog_day_of_us(o.f.since_us);
	/* An event is in the file of the day it was written, which can be the
	 * day after its timestamp (batches written just after midnight). */
	last = o.f.until_us == INT64_MAX ? elog_day_of_us(o.now) + 1 :
	       elog_day_of_us(o.f.until_us - 1) + 1;
	/* The days that have files, from one listing: walking the calendar
	 * instead costs a day's look-ups for every day of a wide range
	 * (--until 9999-12-31). Listed before the header: a wrong --dir is an
	 * error, not an empty log. */
	days = elog_list_days(dir, &n);
	if (!days) {
		fprintf(stderr, "egwctl logs: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	if (!o.json)
		printf("%-19s %-5s %-10s %-10s %-21s %-21s %-10s %-24s %s\n", "TIME",
		       "TYPE", "UNIT", "USER", "SOURCE", "DESTINATION", "VERDICT",
		       "REASON", "DOMAIN");
	for (size_t i = 0; i < n; i++) {
		int64_t day = days[i].day;
		if (day < first || day > last)
			continue;
		json_t *sum = elog_summary_load(dir, day);
		bool may = !sum || elog_summary_may_match(sum, &o.f);
		json_decref(sum);
		if (!may)
			continue;
		/* The plain file (the open day, or one whose archiving was cut
		 * short), else the .zst; also when the plain file has gone since
		 * the listing (archived). A file that is there but cannot be
		 * read is an error: its events would be missing unsaid. */
		got = 1;
		if (days[i].plain) {
			elog_name_format(day, ELOG_F_PLAIN, name, sizeof(name));
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			got = query_file(path, false, &o, &hits);
		}
		if (got == 1) {
			elog_name_format(day, ELOG_F_ZSTD, name, sizeof(name));
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			got = query_file(path, true, &o, &hits);
		}
		bad |= got < 0;   /* 1: gone since the listing (expired) */
	}
	free(days);
	if (!o.json)
		printf("%llu event(s)\n", (unsigned long long)hits);
	return bad ? 1 : 0;
}

/* logs verify --json: each finding into the array arg. */
static void json_finding(void *arg, enum elog_severity sev, const char *file, uint64_t line,
			 const char *msg)
{
	json_array_append_new(arg, json_pack("{s:s, s:I, s:s, s:s}", "file", file ? file : "",
					     "line", (json_int_t)line, "severity",
					     sev == ELOG_ERROR ? "error" : "notice", "message", msg));
}

static int logs_verify(int argc, char **argv)
{
	struct opts o;
	struct elog_verify_opts vo = { 0 };
	struct elog_verify_result res;
	char dir[4096];
	json_t *findings = NULL;
	int rc = parse(argc, argv, false, &o);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (ctl_log_dir(o.dir, o.config, dir, sizeof(dir)) < 0)
		return 2;
	vo.dir = dir;
	vo.since_day = o.f.since_us == INT64_MIN ? INT64_MIN : elog_day_of_us(o.f.since_us);
	vo.today = elog_day_of_us(o.now);
	if (o.json) {
		findings = json_array();
		if (!findings) {
			fprintf(stderr, "egwctl logs: out of memory\n");
			return 2;
		}
		vo.report = json_finding;
		vo.arg = findings;
	}
	memset(&res, 0, sizeof(res));
	rc = elog_verify(&vo, &res);
	const char *status = rc < 0 ? "NOT VERIFIED" : rc ? "BROKEN" : res.files ? "OK" :
			     "NOTHING VERIFIED";
	if (o.json) {
		/* { dir, status, files, lines, errors, notices, findings: [ { file,
		 * line, severity, message } ] }; the same exit status */
		json_t *doc = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o}", "dir", dir,
					"status", status, "files", (json_int_t)res.files,
					"lines", (json_int_t)res.lines,
					"errors", (json_int_t)res.errors,
					"notices", (json_int_t)res.notices, "findings", findings);
		if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) || printf("\n") < 0) {
			json_decref(doc);
			fprintf(stderr, "egwctl logs: out of memory\n");
			return 2;
		}
		json_decref(doc);
		return rc < 0 ? 2 : rc;
	}
	if (rc < 0)
		return 2;
	printf("%s: %u file(s), %llu line(s) checked, %u error(s), %u notice(s)\n", status,
	       res.files, (unsigned long long)res.lines, res.errors, res.notices);
	return rc;
}

int ctl_logs_main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	/* argv[1] is what getopt names in its messages */
	if (!strcmp(argv[1], "query")) {
		argv[1] = (char *)"egwctl logs query";
		return logs_query(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "verify")) {
		argv[1] = (char *)"egwctl logs verify";
		return logs_verify(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "egwctl logs: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
