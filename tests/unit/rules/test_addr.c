/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <string.h>

#include <egw/addr.h>
#include <egw/diag.h>

START_TEST(parse_v4_prefix)
{
	struct egw_prefix p;
	const char *why;
	ck_assert_int_eq(egw_prefix_parse("10.1.0.0/16", &p, &why), 0);
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_int_eq(p.len, 16);
	ck_assert_int_eq(p.addr[0], 10);
	ck_assert_int_eq(p.addr[1], 1);
	char buf[EGW_PREFIX_STRLEN];
	ck_assert_str_eq(egw_prefix_format(&p, buf, sizeof(buf)), "10.1.0.0/16");
}
END_TEST

START_TEST(parse_host_and_v6)
{
	struct egw_prefix p;
	const char *why;
	char buf[EGW_PREFIX_STRLEN];
	ck_assert_int_eq(egw_prefix_parse("198.51.100.53", &p, &why), 0);
	ck_assert_int_eq(p.len, 32);
	ck_assert_str_eq(egw_prefix_format(&p, buf, sizeof(buf)), "198.51.100.53");
	ck_assert_int_eq(egw_prefix_parse("2001:db8:1::/48", &p, &why), 0);
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_str_eq(egw_prefix_format(&p, buf, sizeof(buf)), "2001:db8:1::/48");
}
END_TEST

START_TEST(parse_errors_say_why)
{
	struct egw_prefix p;
	const char *why = NULL;
	ck_assert_int_eq(egw_prefix_parse("10.1.0.1/16", &p, &why), -1);
	ck_assert_str_eq(why, "host bits set: did you mean 10.1.0.0/16?");
	ck_assert_int_eq(egw_prefix_parse("10.1.0.0/33", &p, &why), -1);
	ck_assert_str_eq(why, "prefix length 33 is longer than 32");
	ck_assert_int_eq(egw_prefix_parse("10.1.0/16", &p, &why), -1);
	ck_assert_int_eq(egw_prefix_parse("10.1.0.0/", &p, &why), -1);
	ck_assert_int_eq(egw_prefix_parse("10.1.0.0/-1", &p, &why), -1);
	ck_assert_int_eq(egw_prefix_parse("", &p, &why), -1);
	ck_assert_int_eq(egw_prefix_parse("2001:db8::1/129", &p, &why), -1);
}
END_TEST

START_TEST(within_and_overlap)
{
	struct egw_prefix a, b, c;
	egw_prefix_parse("10.1.2.0/24", &a, NULL);
	egw_prefix_parse("10.1.0.0/16", &b, NULL);
	egw_prefix_parse("10.2.0.0/16", &c, NULL);
	ck_assert(egw_prefix_within(&a, &b));
	ck_assert(!egw_prefix_within(&b, &a));
	ck_assert(egw_prefix_overlaps(&b, &a));
	ck_assert(!egw_prefix_overlaps(&b, &c));
	uint8_t addr[16] = { 10, 1, 2, 3 };
	ck_assert(egw_prefix_contains(&b, AF_INET, addr));
	ck_assert(!egw_prefix_contains(&c, AF_INET, addr));
}
END_TEST

START_TEST(mac)
{
	uint8_t m[6];
	char buf[18];
	ck_assert_int_eq(egw_mac_parse("02:00:0A:01:00:0a", m), 0);
	ck_assert_str_eq(egw_mac_format(m, buf, sizeof(buf)), "02:00:0a:01:00:0a");
	ck_assert_int_eq(egw_mac_parse("02-00-0a-01-00-0a", m), 0);
	ck_assert_int_eq(egw_mac_parse("02:00:0a:01:00", m), -1);
	ck_assert_int_eq(egw_mac_parse("02:00:0a:01:00:0g", m), -1);
	ck_assert_int_eq(egw_mac_parse("02:00-0a:01:00:0a", m), -1);
}
END_TEST

START_TEST(diag_collects_and_sorts)
{
	struct egw_diag *d = egw_diag_new();
	egw_diag_error(d, "p.cfg", 9, "second %d", 2);
	egw_diag_error(d, "p.cfg", 3, "first");
	egw_diag_error(d, "p.cfg", 0, "whole file");
	ck_assert_uint_eq(egw_diag_count(d), 3);
	egw_diag_sort(d);
	ck_assert_str_eq(egw_diag_message(d, 0), "p.cfg: whole file");
	ck_assert_str_eq(egw_diag_message(d, 1), "p.cfg:3: first");
	ck_assert_str_eq(egw_diag_message(d, 2), "p.cfg:9: second 2");
	egw_diag_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, parse_v4_prefix);
	tcase_add_test(tc, parse_host_and_v6);
	tcase_add_test(tc, parse_errors_say_why);
	tcase_add_test(tc, within_and_overlap);
	tcase_add_test(tc, mac);
	tcase_add_test(tc, diag_collects_and_sorts);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
