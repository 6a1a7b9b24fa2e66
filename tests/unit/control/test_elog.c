/* SPDX-License-Identifier: MIT */
/* The behaviour-log writer, verifier and summaries (control/elog*.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elog.h"
#include "elog_format.h"
#include "elog_query.h"
#include "elog_reader.h"
#include "elog_verify.h"
#include "ct_helpers.h"


#define DAY_US (86400LL * 1000000)
static int64_t D0; /* 2026-03-01 */

static json_t *event(unsigned n)
{
	char ts[40];
	static const char *const acts[] = { "allowed", "blocked" };

	elog_ts_format(ct_sim_now, ts, sizeof(ts));
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s}}",
			 "timestamp", ts, "event_type", "tls", "flow_id", (int)n,
			 "src_ip", n % 2 ? "10.1.0.10" : "10.2.0.20", "dest_ip", "198.51.100.80",
			 "egw", "unit", n % 2 ? "finance" : "health", "user",
			 n % 2 ? "zhang.wei" : "wang.fang", "action", acts[n % 2 == 0 && n % 4 == 0],
			 "tls", "sni", n % 3 ? "www.example.cn" : "mail.qq.com");
}

/* days days of per events, day i at D0+i; the writer is left closed on the
 * last day. */
static void make_log(const char *dir, int days, int per, bool compress)
{
	struct elog_cfg cfg = { .dir = dir, .clock = ct_sim_clock, .compress = compress,
				.retention_days = 60 };
	char err[256];
	struct elog *l;
	unsigned n = 0;

	ct_sim_now = D0 * DAY_US;
	l = elog_open(&cfg, err, sizeof(err));
	ck_assert_msg(l, "%s", err);
	for (int d = 0; d < days; d++) {
		for (int i = 0; i < per; i++) {
			ct_sim_now = (D0 + d) * DAY_US + (int64_t)i * 1000000 * 60;
			json_t *ev = event(n++);
			ck_assert_uint_eq(elog_write(l, &ev, 1), 1);
			json_decref(ev);
		}
	}
	ck_assert_int_eq(elog_close(l), 0);
}

struct report {
	int sev;
	char file[64];
	uint64_t line;
	char msg[512];
};
static struct report reps[64];
static unsigned nreps;

static void collect(void *arg, enum elog_severity sev, const char *file, uint64_t line,
		    const char *msg)
{
	(void)arg;
	if (nreps < 64) {
		reps[nreps].sev = sev;
		snprintf(reps[nreps].file, sizeof(reps[0].file), "%s", file);
		reps[nreps].line = line;
		snprintf(reps[nreps].msg, sizeof(reps[0].msg), "%s", msg);
		nreps++;
	}
}

static int verify(const char *dir, int64_t today, struct elog_verify_result *res)
{
	struct elog_verify_opts o = { .dir = dir, .since_day = INT64_MIN, .today = today,
				      .report = collect };
	nreps = 0;
	return elog_verify(&o, res);
}

/* Was an error reported at file:line whose message contains what? */
static bool reported(int sev, const char *file, uint64_t line, const char *what)
{
	for (unsigned i = 0; i < nreps; i++)
		if (reps[i].sev == sev && !strcmp(reps[i].file, file) && reps[i].line == line &&
		    strstr(reps[i].msg, what))
			return true;
	return false;
}

static unsigned reports_for(const char *file)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nreps; i++)
		n += !strcmp(reps[i].file, file);
	return n;
}

static void dump_reports(void)
{
	for (unsigned i = 0; i < nreps; i++)
		fprintf(stderr, "  %s %s:%llu: %s\n", reps[i].sev ? "E" : "N", reps[i].file,
			(unsigned long long)reps[i].line, reps[i].msg);
}

/* Lines of a plain file, and writing them back. */
static char *lines[4096];
static size_t nlines;

static void load(const char *dir, const char *name)
{
	char path[512], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	nlines = 0;
	while (getline(&line, &cap, f) > 0 && nlines < 4096)
		lines[nlines++] = strdup(line);
	free(line);
	fclose(f);
}

static void store(const char *dir, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < nlines; i++) {
		fputs(lines[i], f);
		free(lines[i]);
	}
	fclose(f);
	nlines = 0;
}

static char name1[64], name2[64], name3[64];

static void setup(void)
{
	ck_assert_int_eq(elog_day_parse("2026-03-01", &D0), 0);
	elog_name_format(D0, ELOG_F_PLAIN, name1, sizeof(name1));
	elog_name_format(D0 + 1, ELOG_F_PLAIN, name2, sizeof(name2));
	elog_name_format(D0 + 2, ELOG_F_PLAIN, name3, sizeof(name3));
}

START_TEST(days_rotate_compress_summarise_verify)
{
	char *dir = ct_mkdtemp("egwt-log"), path[512];
	struct elog_verify_result res;
	struct stat st;
	json_t *sum;
	struct elog_filter f;

	make_log(dir, 3, 40, true);
	/* closed days compressed with their summaries, the last one open */
	for (int d = 0; d < 2; d++) {
		char n[64];
		elog_name_format(D0 + d, ELOG_F_ZSTD, n, sizeof(n));
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		ck_assert_int_eq(stat(path, &st), 0);
		elog_name_format(D0 + d, ELOG_F_PLAIN, n, sizeof(n));
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		ck_assert_int_ne(stat(path, &st), 0);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name3);
	ck_assert_int_eq(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/.key", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);

	ck_assert_int_eq(verify(dir, D0 + 2, &res), 0);
	ck_assert_uint_eq(res.files, 3);
	ck_assert_uint_eq(res.errors, 0);
	/* 40 events + header + seal, twice; 40 + header */
	ck_assert_uint_eq(res.lines, 42 + 42 + 41);

	sum = elog_summary_load(dir, D0 + 1);
	ck_assert_ptr_nonnull(sum);
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "events")), 40);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(sum, "unit"),
							     "finance")), 20);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(sum, "action"),
							     "blocked")), 10);
	elog_filter_init(&f);
	f.domain = "qq.com";
	ck_assert(elog_summary_may_match(sum, &f));
	f.domain = "q.com";
	ck_assert(!elog_summary_may_match(sum, &f));
	f.domain = NULL;
	f.unit = "nosuchunit";
	ck_assert(!elog_summary_may_match(sum, &f));
	f.unit = NULL;
	ck_assert_int_eq(egw_prefix_parse("10.2.0.0/16", &f.ip, NULL), 0);
	f.has_ip = true;
	ck_assert(elog_summary_may_match(sum, &f));
	ck_assert_int_eq(egw_prefix_parse("10.9.0.0/16", &f.ip, NULL), 0);
	ck_assert(!elog_summary_may_match(sum, &f));
	json_decref(sum);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(restart_same_day_and_later_day_continue_the_chain)
{
	char *dir = ct_mkdtemp("egwt-log");
	struct elog_verify_result res;

	make_log(dir, 1, 10, false);
	make_log(dir, 1, 10, false);        /* same day: appends */
	load(dir, name1);
	ck_assert_uint_eq(nlines, 21);
	store(dir, name1);
	ct_sim_now = (D0 + 5) * DAY_US;        /* days later: seals, new file */
	struct elog_cfg cfg = { .dir = dir, .clock = ct_sim_clock, .retention_days = 60 };
	char err[256];
	struct elog *l = elog_open(&cfg, err, sizeof(err));
	ck_assert_msg(l, "%s", err);
	json_t *ev = event(1);
	ck_assert_uint_eq(elog_write(l, &ev, 1), 1);
	json_decref(ev);
	ck_assert_int_eq(elog_close(l), 0);
	ck_assert_int_eq(verify(dir, D0 + 5, &res), 0);
	ck_assert_uint_eq(res.files, 2);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

/* Each tampering case: plain files over 3 days, 20 events a day. */
static char *tamper_dir(void)
{
	char *dir = ct_mkdtemp("egwt-log");
	struct elog_verify_result res;

	make_log(dir, 3, 20, false);
	ck_assert_int_eq(verify(dir, D0 + 2, &res), 0);
	return dir;
}

static void expect_error(const char *dir, const char *file, uint64_t line, const char *what)
{
	struct elog_verify_result res;

	ck_assert_int_eq(verify(dir, D0 + 2, &res), 1);
	if (!reported(ELOG_ERROR, file, line, what))
		dump_reports();
	ck_assert_msg(reported(ELOG_ERROR, file, line, what), "%s:%llu: %s not reported",
		      file, (unsigned long long)line, what);
}

START_TEST(verify_changed_byte)
{
	char *dir = tamper_dir();
	load(dir, name2);
	char *p = strstr(lines[6], "198.51.100.80");
	ck_assert_ptr_nonnull(p);
	p[12] = '1';
	store(dir, name2);
	expect_error(dir, name2, 7, "content does not match");
	ck_assert_uint_eq(nreps, 1);  /* only that line */
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(verify_deleted_line)
{
	char *dir = tamper_dir();
	load(dir, name2);
	free(lines[6]);
	memmove(&lines[6], &lines[7], (nlines - 7) * sizeof(lines[0]));
	nlines--;
	store(dir, name2);
	expect_error(dir, name2, 7, "1 line(s) deleted before this line");
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(verify_inserted_line)
{
	char *dir = tamper_dir();
	char *foreign;
	load(dir, name1);
	foreign = strdup(lines[9]);   /* a genuine line, from another day */
	store(dir, name1);
	load(dir, name2);
	memmove(&lines[5], &lines[4], (nlines - 4) * sizeof(lines[0]));
	lines[4] = foreign;
	nlines++;
	store(dir, name2);
	expect_error(dir, name2, 5, "or this line was inserted");
	ck_assert_uint_eq(reports_for(name2), 1);
	/* a made-up line too */
	load(dir, name2);
	free(lines[4]);
	lines[4] = strdup("{\"event_type\":\"tls\",\"egw_seq\":5,\"egw_chain\":\""
			  "00000000000000000000000000000000000000000000000000000000000000"
			  "00\"}\n");
	store(dir, name2);
	expect_error(dir, name2, 5, "content does not match");
	ck_assert_uint_eq(reports_for(name2), 1);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(verify_swapped_lines)
{
	char *dir = tamper_dir();
	load(dir, name2);
	char *t = lines[10];
	lines[10] = lines[11];
	lines[11] = t;
	store(dir, name2);
	expect_error(dir, name2, 12, "out of order");
	ck_assert(reported(ELOG_ERROR, name2, 11, "deleted before") ||
		  reported(ELOG_ERROR, name2, 11, "out of order"));
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

/* A line longer than any the writer writes is an error at its line, and
 * the rest of the file is still checked: the next line's missing link, a
 * change further down, the seal (not reported missing). */
START_TEST(verify_overlong_line_then_the_rest)
{
	char *dir = tamper_dir();
	load(dir, name2);
	free(lines[6]);
	lines[6] = malloc(ELOG_MAX_LINE + 3);
	ck_assert_ptr_nonnull(lines[6]);
	memset(lines[6], 'x', ELOG_MAX_LINE + 1);
	strcpy(lines[6] + ELOG_MAX_LINE + 1, "\n");
	char *p = strstr(lines[14], "198.51.100.80");
	ck_assert_ptr_nonnull(p);
	p[12] = '1';
	store(dir, name2);
	expect_error(dir, name2, 7, "line longer than 65536 bytes");
	ck_assert(reported(ELOG_ERROR, name2, 8, "1 line(s) deleted before this line"));
	ck_assert(reported(ELOG_ERROR, name2, 15, "content does not match"));
	if (reports_for(name2) != 3)
		dump_reports();
	ck_assert_uint_eq(reports_for(name2), 3);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

/* The reader passes over overlong lines, even ones longer than its buffer
 * and one at the end without a newline, and goes on. */
START_TEST(reader_skips_overlong_lines)
{
	const size_t big = ELOG_MAX_LINE + 1, huge = 5 * ELOG_MAX_LINE;
	char *data = malloc(big + 2 * huge + 16), *p = data;
	const char *line, *why;
	size_t len;
	bool complete;
	struct elog_reader *r;

	ck_assert_ptr_nonnull(data);
	p = stpcpy(p, "a\n");
	memset(p, 'x', big);
	p = stpcpy(p + big, "\nb\n");
	memset(p, 'y', huge);
	p = stpcpy(p + huge, "\nc\n");
	memset(p, 'z', huge);
	p += huge;
	r = elog_reader_from_file(fmemopen(data, (size_t)(p - data), "rb"), false);
	ck_assert_ptr_nonnull(r);
	for (const char *want = "abc"; *want; want++) {
		ck_assert_int_eq(elog_reader_next(r, &line, &len, &complete, &why), 1);
		ck_assert(complete && len == 1 && *line == *want);
		ck_assert_int_eq(elog_reader_next(r, &line, &len, &complete, &why),
				 ELOG_READER_SKIPPED);
		ck_assert_str_eq(why, "line longer than 65536 bytes");
	}
	ck_assert_int_eq(elog_reader_next(r, &line, &len, &complete, &why), 0);
	elog_reader_close(r);
	free(data);
}
END_TEST

/* An empty compressed file holds no zstd frame: an error, not an empty day. */
START_TEST(reader_empty_zstd_is_an_error)
{
	char empty[1];
	const char *line, *why;
	size_t len;
	bool complete;
	struct elog_reader *r = elog_reader_from_file(fmemopen(empty, 0, "rb"), true);

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(elog_reader_next(r, &line, &len, &complete, &why), -1);
	ck_assert_str_eq(why, "empty file: not zstd data");
	elog_reader_close(r);
}
END_TEST

START_TEST(verify_truncated_sealed_file)
{
	char *dir = tamper_dir();
	load(dir, name2);
	while (nlines > 15)
		free(lines[--nlines]);
	store(dir, name2);
	expect_error(dir, name2, 16, "without its seal");
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(verify_truncated_newest_file)
{
	char *dir = tamper_dir();
	load(dir, name3);
	free(lines[--nlines]);
	free(lines[--nlines]);
	store(dir, name3);
	expect_error(dir, name3, 20, "checkpoint records 21 lines");
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(verify_deleted_files_within_retention)
{
	char *dir = tamper_dir(), path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name2);
	ck_assert_int_eq(unlink(path), 0);
	expect_error(dir, name3, 1, "previous file (eve-2026-03-02) is missing");
	snprintf(path, sizeof(path), "%s/%s", dir, name1);
	ck_assert_int_eq(unlink(path), 0);
	expect_error(dir, name3, 1, "previous file (eve-2026-03-02) is missing");
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(verify_all_files_deleted)
{
	char *dir = tamper_dir(), path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name1);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, name2);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, name3);
	unlink(path);
	expect_error(dir, name3, 0, "missing: the checkpoint names it");
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(verify_deleted_oldest_file_and_expiry)
{
	char *dir = tamper_dir(), path[512];
	struct elog_verify_result res;
	snprintf(path, sizeof(path), "%s/%s", dir, name1);
	ck_assert_int_eq(unlink(path), 0);
	expect_error(dir, name2, 1, "previous file (eve-2026-03-01) is missing");
	/* 61 days later the first day has expired: not an error */
	ck_assert_int_eq(verify(dir, D0 + 61, &res), 0);
	ck_assert_int_eq(verify(dir, D0 + 60, &res), 1);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(torn_last_line_reported_then_repaired)
{
	char *dir = tamper_dir(), path[512];
	struct elog_verify_result res;
	FILE *f;

	load(dir, name3);
	char *half = strndup(lines[5], 40);
	store(dir, name3);
	snprintf(path, sizeof(path), "%s/%s", dir, name3);
	f = fopen(path, "a");
	fputs(half, f);
	fclose(f);
	free(half);
	ck_assert_int_eq(verify(dir, D0 + 2, &res), 0);
	ck_assert(reported(ELOG_NOTICE, name3, 22, "torn last line"));
	/* the writer cuts it, records it and continues */
	make_log(dir, 0, 0, false);
	ct_sim_now = (D0 + 2) * DAY_US + 5;
	struct elog_cfg cfg = { .dir = dir, .clock = ct_sim_clock, .retention_days = 60 };
	char err[256];
	struct elog *l = elog_open(&cfg, err, sizeof(err));
	ck_assert_msg(l, "%s", err);
	json_t *ev = event(7);
	elog_write(l, &ev, 1);
	json_decref(ev);
	ck_assert_int_eq(elog_close(l), 0);
	ck_assert_int_eq(verify(dir, D0 + 2, &res), 0);
	ck_assert(reported(ELOG_NOTICE, name3, 22, "cut a torn line of 40 bytes"));
	load(dir, name3);
	ck_assert_uint_eq(nlines, 23);
	store(dir, name3);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(verify_truncated_compressed_file)
{
	char *dir = ct_mkdtemp("egwt-log"), path[512], zname[64];
	struct stat st;
	make_log(dir, 3, 200, true);
	elog_name_format(D0 + 1, ELOG_F_ZSTD, zname, sizeof(zname));
	snprintf(path, sizeof(path), "%s/%s", dir, zname);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
	struct elog_verify_result res;
	ck_assert_int_eq(verify(dir, D0 + 2, &res), 1);
	bool found = false;
	for (unsigned i = 0; i < nreps; i++)
		found |= !strcmp(reps[i].file, zname) && strstr(reps[i].msg, "truncated");
	if (!found)
		dump_reports();
	ck_assert(found);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(verify_changed_summary)
{
	char *dir = ct_mkdtemp("egwt-log"), path[512], sname[64];
	struct elog_verify_result res;
	make_log(dir, 3, 20, true);
	elog_name_format(D0 + 1, ELOG_F_SUMMARY, sname, sizeof(sname));
	snprintf(path, sizeof(path), "%s/%s", dir, sname);
	json_t *s = json_load_file(path, 0, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(json_object_get(s, "mac"));
	/* hide a unit from queries */
	json_object_del(json_object_get(s, "unit"), "finance");
	ck_assert_int_eq(json_dump_file(s, path, JSON_COMPACT), 0);
	json_decref(s);
	ck_assert_int_eq(verify(dir, D0 + 2, &res), 1);
	ck_assert(reported(ELOG_ERROR, sname, 0, "MAC mismatch"));
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(retention_exact_boundaries)
{
	char *dir = ct_mkdtemp("egwt-log"), path[512], n[64];
	struct stat st;
	int64_t today = D0 + 100;

	for (int64_t d = today - 63; d <= today; d++) {
		for (int k = 0; k < 3; k++) {
			elog_name_format(d, (enum elog_file_kind)k, n, sizeof(n));
			snprintf(path, sizeof(path), "%s/%s", dir, n);
			FILE *f = fopen(path, "w");
			fclose(f);
		}
	}
	snprintf(path, sizeof(path), "%s/unrelated.json", dir);
	fclose(fopen(path, "w"));
	ck_assert_int_eq(elog_expire(dir, today, 60), 3 * 3);
	for (int64_t d = today - 63; d <= today; d++) {
		elog_name_format(d, ELOG_F_PLAIN, n, sizeof(n));
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		ck_assert_int_eq(stat(path, &st) == 0, today - d <= 60);
	}
	ck_assert_int_eq(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/unrelated.json", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(writer_expires_at_rotation)
{
	char *dir = ct_mkdtemp("egwt-log"), path[512];
	struct stat st;
	struct elog_stats s;
	struct elog_cfg cfg = { .dir = dir, .clock = ct_sim_clock, .retention_days = 60,
				.compress = true };
	char err[256];
	struct elog *l;

	ct_sim_now = D0 * DAY_US;
	l = elog_open(&cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(l);
	for (int d = 0; d <= 62; d++) {
		ct_sim_now = (D0 + d) * DAY_US + 1000;
		json_t *ev = event((unsigned)d);
		elog_write(l, &ev, 1);
		json_decref(ev);
		elog_sync(l);
		/* day 0 stays until it is 61 days old */
		snprintf(path, sizeof(path), "%s/%s.zst", dir, name1);
		if (d >= 1)
			ck_assert_int_eq(stat(path, &st) == 0, d <= 60);
	}
	elog_get_stats(l, &s);
	ck_assert_uint_eq(s.expired, 2 * 2);  /* day 0 and 1, file and summary */
	ck_assert_int_eq(elog_close(l), 0);
	struct elog_verify_result res;
	ck_assert_int_eq(verify(dir, D0 + 62, &res), 0);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(one_writer_per_directory)
{
	char *dir = ct_mkdtemp("egwt-log");
	struct elog_cfg cfg = { .dir = dir, .clock = ct_sim_clock };
	char err[256];
	struct elog *a, *b;

	ct_sim_now = D0 * DAY_US;
	a = elog_open(&cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(a);
	b = elog_open(&cfg, err, sizeof(err));
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(err, "another writer"));
	ck_assert_int_eq(elog_close(a), 0);
	b = elog_open(&cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(elog_close(b), 0);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(rejects_bad_events)
{
	char *dir = ct_mkdtemp("egwt-log");
	struct elog_cfg cfg = { .dir = dir, .clock = ct_sim_clock };
	char err[256];
	struct elog_stats s;
	struct elog *l;
	json_t *ev[3] = { json_array(), json_pack("{s:s}", "event_type", "egw_seal"),
			  json_object() };

	ct_sim_now = D0 * DAY_US;
	l = elog_open(&cfg, err, sizeof(err));
	ck_assert_uint_eq(elog_write(l, ev, 3), 0);
	elog_get_stats(l, &s);
	ck_assert_uint_eq(s.rejected, 3);
	for (int i = 0; i < 3; i++)
		json_decref(ev[i]);
	ck_assert_int_eq(elog_close(l), 0);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(line_format_and_times)
{
	struct elog_line ln;
	const char *why;
	const char *good = "{\"a\":1,\"egw_seq\":12,\"egw_chain\":\""
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}";
	int64_t us, t;
	char buf[64];

	ck_assert_int_eq(elog_line_parse(good, strlen(good), &ln, &why), 0);
	ck_assert_uint_eq(ln.seq, 12);
	ck_assert_uint_eq(ln.body_len, strlen(good) - 80);
	ck_assert_int_eq(elog_line_parse(good, strlen(good) - 1, &ln, &why), -1);
	ck_assert_int_eq(elog_line_parse("{}", 2, &ln, &why), -1);
	ck_assert_int_eq(elog_ts_parse("2026-11-27T10:00:00.5+08:00", &us), 0);
	ck_assert_int_eq(elog_ts_parse("2026-11-27T02:00:00.500000Z", &t), 0);
	ck_assert_int_eq(us, t);
	elog_ts_format(us, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-11-27T02:00:00.500000+00:00");
	ck_assert_int_eq(elog_ts_parse("2026-02-30", &us), -1);
	ck_assert_int_eq(elog_ts_parse("2026-11-27T25:00", &us), -1);
	ck_assert_int_eq(elog_time_arg("7d", 10 * DAY_US, &us), 0);
	ck_assert_int_eq(us, 3 * DAY_US);
	ck_assert_int_eq(elog_time_arg("7x", 10 * DAY_US, &us), -1);
	ck_assert(elog_domain_match("mail.qq.com", "qq.com"));
	ck_assert(elog_domain_match("QQ.com.", "qq.com"));
	ck_assert(!elog_domain_match("xqq.com", "qq.com"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elog");
	TCase *tc = tcase_create("elog");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, days_rotate_compress_summarise_verify);
	tcase_add_test(tc, restart_same_day_and_later_day_continue_the_chain);
	tcase_add_test(tc, verify_changed_byte);
	tcase_add_test(tc, verify_deleted_line);
	tcase_add_test(tc, verify_inserted_line);
	tcase_add_test(tc, verify_swapped_lines);
	tcase_add_test(tc, verify_overlong_line_then_the_rest);
	tcase_add_test(tc, reader_skips_overlong_lines);
	tcase_add_test(tc, reader_empty_zstd_is_an_error);
	tcase_add_test(tc, verify_truncated_sealed_file);
	tcase_add_test(tc, verify_truncated_newest_file);
	tcase_add_test(tc, verify_deleted_files_within_retention);
	tcase_add_test(tc, verify_deleted_oldest_file_and_expiry);
	tcase_add_test(tc, verify_all_files_deleted);
	tcase_add_test(tc, torn_last_line_reported_then_repaired);
	tcase_add_test(tc, verify_truncated_compressed_file);
	tcase_add_test(tc, verify_changed_summary);
	tcase_add_test(tc, retention_exact_boundaries);
	tcase_add_test(tc, writer_expires_at_rotation);
	tcase_add_test(tc, one_writer_per_directory);
	tcase_add_test(tc, rejects_bad_events);
	tcase_add_test(tc, line_format_and_times);
	suite_add_tcase(s, tc);
	return ct_run(s);
}
