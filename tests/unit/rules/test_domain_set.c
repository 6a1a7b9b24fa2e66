/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <string.h>

#include <egw/domain_set.h>

START_TEST(check_accepts_policy_domains)
{
	const char *why = NULL;
	ck_assert_int_eq(egw_domain_check("qq.com", &why), 0);
	ck_assert_int_eq(egw_domain_check("mail.qq.com.", &why), 0);
	ck_assert_int_eq(egw_domain_check("Mail.QQ.com", &why), 0);
	ck_assert_int_eq(egw_domain_check("_dmarc.example-1.cn", &why), 0);
	ck_assert_int_eq(egw_domain_check("com", &why), 0);
	ck_assert_int_eq(egw_domain_check("xn--fiqs8s", &why), 0);
	char l63[64];
	memset(l63, 'a', 63);
	l63[63] = '\0';
	ck_assert_int_eq(egw_domain_check(l63, &why), 0);
	/* 253 characters: 63.63.63.61 */
	char n253[254];
	memset(n253, 'b', 253);
	n253[63] = n253[127] = n253[191] = '.';
	n253[253] = '\0';
	ck_assert_int_eq(egw_domain_check(n253, &why), 0);
	ck_assert_int_eq(egw_domain_check(n253, NULL), 0);
}
END_TEST

START_TEST(check_names_the_bad_label)
{
	const char *why = NULL;
	ck_assert_int_eq(egw_domain_check("mail.q!q.com", &why), -1);
	ck_assert_str_eq(why, "label \"q!q\" has '!', which is not a letter, digit, '-' or '_'");
	ck_assert_int_eq(egw_domain_check("a.-bad.com", &why), -1);
	ck_assert_str_eq(why, "label \"-bad\" starts with '-'");
	ck_assert_int_eq(egw_domain_check("bad-.com", &why), -1);
	ck_assert_str_eq(why, "label \"bad-\" ends with '-'");
	ck_assert_int_eq(egw_domain_check("a..com", &why), -1);
	ck_assert_str_eq(why, "empty label (two dots in a row)");
	ck_assert_int_eq(egw_domain_check(".qq.com", &why), -1);
	ck_assert_str_eq(why, "domain name starts with '.' (empty label)");
	ck_assert_int_eq(egw_domain_check("", &why), -1);
	ck_assert_str_eq(why, "empty domain name");
	ck_assert_int_eq(egw_domain_check(".", &why), -1);
	ck_assert_str_eq(why, "empty domain name");
	ck_assert_int_eq(egw_domain_check("qq.com..", &why), -1);
	ck_assert_str_eq(why, "empty label (two dots in a row)");
	ck_assert_int_eq(egw_domain_check("*.qq.com", &why), -1);
	ck_assert_str_eq(why, "wildcard \"*.\" not needed: a domain already matches "
			      "every name below it");
	ck_assert_int_eq(egw_domain_check("198.51.100.53", &why), -1);
	ck_assert_str_eq(why, "last label \"53\" is all digits: an IP address is not a domain");
	ck_assert_int_eq(egw_domain_check("a b.com", &why), -1);
	ck_assert_str_eq(why, "label \"a b\" has ' ', which is not a letter, digit, '-' or '_'");
	ck_assert_int_eq(egw_domain_check("caf\xc3\xa9.fr", &why), -1);
	ck_assert_str_eq(why, "label \"caf\\xc3\\xa9\" has byte \\xc3, which is not a "
			      "letter, digit, '-' or '_'");
	ck_assert_int_eq(egw_domain_check("x", NULL), 0);
	ck_assert_int_eq(egw_domain_check("x!", NULL), -1);
}
END_TEST

START_TEST(check_lengths)
{
	const char *why = NULL;
	char l64[80];
	memset(l64, 'a', 64);
	strcpy(l64 + 64, ".com");
	ck_assert_int_eq(egw_domain_check(l64, &why), -1);
	ck_assert_str_eq(why, "label \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" "
			      "is 64 characters long, more than 63");
	char n254[256];
	memset(n254, 'b', 254);
	n254[63] = n254[127] = n254[191] = '.';
	n254[254] = '\0';
	ck_assert_int_eq(egw_domain_check(n254, &why), -1);
	ck_assert_str_eq(why, "domain name is 254 characters long, more than 253");
	/* one trailing dot does not count */
	n254[253] = '.';
	ck_assert_int_eq(egw_domain_check(n254, &why), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("domain_set");
	TCase *tc = tcase_create("check");
	tcase_add_test(tc, check_accepts_policy_domains);
	tcase_add_test(tc, check_names_the_bad_label);
	tcase_add_test(tc, check_lengths);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
