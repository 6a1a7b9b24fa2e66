/* SPDX-License-Identifier: MIT */
/* The summaries' "source" and "suspect" members and their strict reader
 * (control/elog_summary.c), which egwctl report registry|terminals use. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elog_format.h"
#include "elog_query.h"
#include "ct_helpers.h"

static json_t *ev(const char *ts, const char *src, const char *mac, const char *reason)
{
	json_t *egw = json_pack("{s:s}", "action", "blocked");

	if (mac)
		json_object_set_new(egw, "src_mac", json_string(mac));
	if (reason)
		json_object_set_new(egw, "reason", json_string(reason));
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "timestamp", ts, "event_type", "drop",
			 "src_ip", src, "dest_ip", "198.51.100.80", "egw", egw);
}

static void add(json_t *sum, json_t *e)
{
	elog_summary_add(sum, e);
	json_decref(e);
}

START_TEST(sources_and_suspects_counted)
{
	int64_t day;
	json_t *sum, *s;

	ck_assert_int_eq(elog_day_parse("2026-01-09", &day), 0);
	sum = elog_summary_new(day);
	ck_assert(elog_summary_is_current(sum));
	add(sum, ev("2026-01-09T10:00:00Z", "10.1.0.10", "02:00:0a:01:00:0a", NULL));
	add(sum, ev("2026-01-09T13:00:00+08:00", "10.1.0.10", "02:00:0a:01:00:0b", "spoof"));
	/* out of order: first and last are the extremes, not the order seen */
	add(sum, ev("2026-01-09T12:00:00Z", "10.1.0.10", "02:00:0a:01:00:0b", "spoof"));
	add(sum, ev("2026-01-09T01:00:00Z", "10.1.0.10", "02:00:0a:01:00:0b", "spoof"));
	add(sum, ev("2026-01-09T11:00:00Z", "2001:db8:1::99", NULL, "unregistered"));
	add(sum, ev("2026-01-09T11:00:00Z", "10.1.0.12", NULL, "category:x"));

	s = json_object_get(sum, "source");
	ck_assert_int_eq(json_object_size(s), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "10.1.0.10 02:00:0a:01:00:0a")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "10.1.0.10 02:00:0a:01:00:0b")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "2001:db8:1::99")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "10.1.0.12")), 1);

	s = json_object_get(sum, "suspect");
	ck_assert_int_eq(json_object_size(s), 2);
	json_t *sp = json_object_get(s, "spoof 10.1.0.10 02:00:0a:01:00:0b");
	ck_assert_ptr_nonnull(sp);
	ck_assert_int_eq(json_integer_value(json_object_get(sp, "count")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(sp, "first")),
			 "2026-01-09T01:00:00.000000+00:00");
	ck_assert_str_eq(json_string_value(json_object_get(sp, "last")),
			 "2026-01-09T12:00:00.000000+00:00");
	json_t *un = json_object_get(s, "unregistered 2001:db8:1::99 -");
	ck_assert_ptr_nonnull(un);
	ck_assert_str_eq(json_string_value(json_object_get(un, "mac")), "");
	json_decref(sum);
}
END_TEST

static char dir[64];

static int write_summary(json_t *s, int64_t day)
{
	char name[ELOG_NAME_MAX], path[200];

	elog_name_format(day, ELOG_F_SUMMARY, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return json_dump_file(s, path, JSON_COMPACT);
}

START_TEST(strict_reader)
{
	int64_t day;
	json_t *sum, *got;
	char err[600];

	snprintf(dir, sizeof(dir), "/tmp/egwt-report-unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(elog_day_parse("2026-01-09", &day), 0);
	ck_assert_int_eq(elog_summary_read(dir, day, &got, err, sizeof(err)), 0);

	sum = elog_summary_new(day);
	add(sum, ev("2026-01-09T10:00:00Z", "10.1.0.99", "02:00:00:00:00:99", "unregistered"));
	ck_assert_int_eq(write_summary(sum, day), 0);
	ck_assert_int_eq(elog_summary_read(dir, day, &got, err, sizeof(err)), 1);
	ck_assert(elog_summary_is_current(got));
	json_decref(got);

	/* an older summary: readable, not current */
	json_t *old = json_deep_copy(sum);
	json_object_del(old, "source");
	json_object_del(old, "suspect");
	ck_assert_int_eq(write_summary(old, day), 0);
	ck_assert_int_eq(elog_summary_read(dir, day, &got, err, sizeof(err)), 1);
	ck_assert(!elog_summary_is_current(got));
	json_decref(got);
	json_decref(old);

	/* the summary of another day under this day's name */
	json_t *other = json_deep_copy(sum);
	json_object_set_new(other, "day", json_string("2026-01-08"));
	ck_assert_int_eq(write_summary(other, day), 0);
	ck_assert_int_eq(elog_summary_read(dir, day, &got, err, sizeof(err)), -1);
	ck_assert_ptr_null(got);
	ck_assert_ptr_nonnull(strstr(err, "eve-2026-01-09.summary.json: \"day\" is not 2026-01-09"));
	json_decref(other);

	/* first after last */
	json_t *bad = json_deep_copy(sum);
	json_t *e = json_object_get(json_object_get(bad, "suspect"),
				    "unregistered 10.1.0.99 02:00:00:00:00:99");
	json_object_set_new(e, "first", json_string("2026-01-09T11:00:00Z"));
	ck_assert_int_eq(write_summary(bad, day), 0);
	ck_assert_int_eq(elog_summary_read(dir, day, &got, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "first is after its last"));
	json_decref(bad);

	char name[ELOG_NAME_MAX], path[200];
	elog_name_format(day, ELOG_F_SUMMARY, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	rmdir(dir);
	json_decref(sum);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("summary_sources");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, sources_and_suspects_counted);
	tcase_add_test(tc, strict_reader);
	suite_add_tcase(s, tc);
	return ct_run(s);
}
