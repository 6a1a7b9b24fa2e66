/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
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
	ck_assert_str_eq(why, "last label \"53\" is all digits (an IP address belongs in "
			      "addresses, not domains)");
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

static size_t match_str(const struct egw_domain_set *s, const char *name,
			uint32_t *out, size_t max)
{
	return egw_domain_set_match(s, name, strlen(name), out, max);
}

START_TEST(set_suffix_semantics)
{
	struct egw_domain_set *s = egw_domain_set_new();
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(egw_domain_set_add(s, "qq.com", 1, NULL), 0);
	ck_assert_int_eq(egw_domain_set_add(s, "163.com", 2, NULL), 0);
	ck_assert_int_eq(egw_domain_set_freeze(s), 0);
	uint32_t v[4];
	ck_assert_uint_eq(match_str(s, "qq.com", v, 4), 1);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(match_str(s, "mail.qq.com", v, 4), 1);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(match_str(s, "a.b.c.mail.qq.com", v, 4), 1);
	ck_assert_uint_eq(match_str(s, "notqq.com", v, 4), 0);
	ck_assert_uint_eq(match_str(s, "qq.com.cn", v, 4), 0);
	ck_assert_uint_eq(match_str(s, "q.com", v, 4), 0);
	ck_assert_uint_eq(match_str(s, "com", v, 4), 0);
	ck_assert_uint_eq(match_str(s, "", v, 4), 0);
	ck_assert_uint_eq(match_str(s, ".", v, 4), 0);
	/* case-insensitive, one trailing dot ignored, not two */
	ck_assert_uint_eq(match_str(s, "MAIL.QQ.COM", v, 4), 1);
	ck_assert_uint_eq(match_str(s, "Mail.Qq.Com.", v, 4), 1);
	ck_assert_uint_eq(match_str(s, "mail.qq.com..", v, 4), 0);
	ck_assert_uint_eq(match_str(s, "smtp.163.com", v, 4), 1);
	ck_assert_uint_eq(v[0], 2);
	/* an empty label before a matching suffix still matches the suffix */
	ck_assert_uint_eq(match_str(s, "a..qq.com", v, 4), 1);
	/* not NUL-terminated: only len bytes count */
	ck_assert_uint_eq(egw_domain_set_match(s, "mail.qq.comXYZ", 11, v, 4), 1);
	ck_assert_uint_eq(egw_domain_set_match(s, "mail.qq.com", 10, v, 4), 0);
	egw_domain_set_free(s);
}
END_TEST

START_TEST(set_values_of_every_parent)
{
	struct egw_domain_set *s = egw_domain_set_new();
	ck_assert_int_eq(egw_domain_set_add(s, "com", 9, NULL), 0);
	ck_assert_int_eq(egw_domain_set_add(s, "google.com", 3, NULL), 0);
	ck_assert_int_eq(egw_domain_set_add(s, "mail.google.com", 1, NULL), 0);
	ck_assert_int_eq(egw_domain_set_add(s, "MAIL.google.com.", 3, NULL), 0);
	ck_assert_int_eq(egw_domain_set_add(s, "mail.google.com", 1, NULL), 0);
	ck_assert_int_eq(egw_domain_set_add(s, "dns.google", 4, NULL), 0);
	ck_assert_int_eq(egw_domain_set_freeze(s), 0);
	uint32_t v[8];
	ck_assert_uint_eq(match_str(s, "x.mail.google.com", v, 8), 3);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(v[1], 3);
	ck_assert_uint_eq(v[2], 9);
	/* max smaller than the count: the smallest values, the full count */
	v[1] = 777;
	ck_assert_uint_eq(match_str(s, "mail.google.com", v, 1), 3);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(v[1], 777);
	ck_assert_uint_eq(match_str(s, "mail.google.com", NULL, 0), 3);
	ck_assert_uint_eq(match_str(s, "www.google.com", v, 8), 2);
	ck_assert_uint_eq(v[0], 3);
	ck_assert_uint_eq(v[1], 9);
	ck_assert_uint_eq(match_str(s, "dns.google", v, 8), 1);
	ck_assert_uint_eq(v[0], 4);
	ck_assert_uint_eq(match_str(s, "google", v, 8), 0);
	egw_domain_set_free(s);
}
END_TEST

START_TEST(set_build_errors)
{
	struct egw_domain_set *s = egw_domain_set_new();
	const char *why = NULL;
	uint32_t v[2];
	/* not frozen yet: nothing matches */
	ck_assert_int_eq(egw_domain_set_add(s, "qq.com", 1, &why), 0);
	ck_assert_uint_eq(match_str(s, "qq.com", v, 2), 0);
	ck_assert_int_eq(egw_domain_set_add(s, "bad..com", 1, &why), -EINVAL);
	ck_assert_str_eq(why, "empty label (two dots in a row)");
	ck_assert_int_eq(egw_domain_set_add(s, "", 1, &why), -EINVAL);
	ck_assert_int_eq(egw_domain_set_freeze(s), 0);
	ck_assert_int_eq(egw_domain_set_freeze(s), 0);
	ck_assert_int_eq(egw_domain_set_add(s, "163.com", 2, &why), -EBUSY);
	ck_assert_uint_eq(match_str(s, "163.com", v, 2), 0);
	ck_assert_uint_eq(match_str(s, "qq.com", v, 2), 1);
	egw_domain_set_free(s);
	/* an empty frozen set */
	s = egw_domain_set_new();
	ck_assert_int_eq(egw_domain_set_freeze(s), 0);
	ck_assert_uint_eq(match_str(s, "qq.com", v, 2), 0);
	egw_domain_set_free(s);
	egw_domain_set_free(NULL);
}
END_TEST

/* Reference: does domain d (lower case, no trailing dot) cover name q? */
static int ref_covers(const char *d, const char *q, size_t qlen)
{
	if (qlen && q[qlen - 1] == '.')
		qlen--;
	size_t dl = strlen(d);
	if (dl > qlen)
		return 0;
	for (size_t i = 0; i < dl; i++) {
		char c = q[qlen - dl + i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != d[i])
			return 0;
	}
	return dl == qlen || q[qlen - dl - 1] == '.';
}

/* Many random names against a trivial reference implementation. */
START_TEST(set_matches_reference)
{
	static const char *labels[] = { "a", "b", "qq", "com", "cn", "x-y", "_t", "9a" };
	enum { NDOM = 400, NQ = 4000 };
	static char doms[NDOM][64];
	static uint32_t vals[NDOM];
	unsigned seed = 12345;
	struct egw_domain_set *s = egw_domain_set_new();
	for (int i = 0; i < NDOM; i++) {
		int nl = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 4;
		doms[i][0] = '\0';
		for (int k = 0; k < nl; k++) {
			seed = seed * 1103515245 + 12345;
			if (k)
				strcat(doms[i], ".");
			strcat(doms[i], labels[(seed >> 16) % 8]);
		}
		vals[i] = (seed >> 8) % 50;
		ck_assert_int_eq(egw_domain_set_add(s, doms[i], vals[i], NULL), 0);
	}
	ck_assert_int_eq(egw_domain_set_freeze(s), 0);
	for (int t = 0; t < NQ; t++) {
		char q[128] = "";
		seed = seed * 1103515245 + 12345;
		int nl = 1 + (int)(seed >> 16) % 6;
		for (int k = 0; k < nl; k++) {
			seed = seed * 1103515245 + 12345;
			if (k)
				strcat(q, ".");
			strcat(q, labels[(seed >> 16) % 8]);
		}
		if (seed & 0x100)
			q[0] = (char)(q[0] >= 'a' && q[0] <= 'z' ? q[0] - 32 : q[0]);
		if (seed & 0x200)
			strcat(q, ".");
		if (seed & 0x400) {
			/* an extra dot anywhere: empty labels, a leading dot */
			size_t ql = strlen(q), at = (seed >> 20) % (ql + 1);
			memmove(q + at + 1, q + at, ql - at + 1);
			q[at] = '.';
		}
		int want[50] = { 0 };
		size_t nwant = 0;
		for (int i = 0; i < NDOM; i++)
			if (ref_covers(doms[i], q, strlen(q)) && !want[vals[i]]++)
				nwant++;
		uint32_t got[50];
		size_t n = match_str(s, q, got, 50);
		ck_assert_msg(n == nwant, "%s: %zu values, want %zu", q, n, nwant);
		for (size_t k = 0; k < n; k++) {
			ck_assert(want[got[k]]);
			if (k)
				ck_assert_uint_lt(got[k - 1], got[k]);
		}
	}
	egw_domain_set_free(s);
}
END_TEST

/* Suffixes as long as the longest stored name, which is where the walk
 * from the end stops: found after a dot, not inside a label. */
START_TEST(set_suffix_at_the_length_limit)
{
	struct egw_domain_set *s = egw_domain_set_new();
	ck_assert_int_eq(egw_domain_set_add(s, "bb.cc", 1, NULL), 0);
	ck_assert_int_eq(egw_domain_set_add(s, "cc", 2, NULL), 0);
	ck_assert_int_eq(egw_domain_set_freeze(s), 0);
	uint32_t v[2];
	ck_assert_uint_eq(match_str(s, "a.bb.cc", v, 2), 2);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(v[1], 2);
	ck_assert_uint_eq(match_str(s, ".bb.cc", v, 2), 2);
	ck_assert_uint_eq(match_str(s, "..bb.cc.", v, 2), 2);
	ck_assert_uint_eq(match_str(s, "BB.CC", v, 2), 2);
	ck_assert_uint_eq(match_str(s, "abb.cc", v, 2), 1);
	ck_assert_uint_eq(v[0], 2);
	ck_assert_uint_eq(match_str(s, "b.cc", v, 2), 1);
	ck_assert_uint_eq(match_str(s, "bb..cc", v, 2), 1);
	ck_assert_uint_eq(match_str(s, "xcc", v, 2), 0);
	ck_assert_uint_eq(match_str(s, ".cc", v, 2), 1);
	ck_assert_uint_eq(match_str(s, ".", v, 2), 0);
	ck_assert_uint_eq(match_str(s, "", v, 2), 0);
	egw_domain_set_free(s);
}
END_TEST

/* Every byte value in a query: only 'a' and 'A' make "ab.cn" match (the
 * lookup lower-cases letters and nothing else), also inside a longer name. */
START_TEST(set_every_query_byte)
{
	struct egw_domain_set *s = egw_domain_set_new();
	ck_assert_int_eq(egw_domain_set_add(s, "ab.cn", 5, NULL), 0);
	ck_assert_int_eq(egw_domain_set_freeze(s), 0);
	for (unsigned c = 0; c < 256; c++) {
		char q[16] = "x.?b.cn";
		q[2] = (char)c;
		uint32_t v[1];
		size_t want = c == 'a' || c == 'A';
		ck_assert_msg(egw_domain_set_match(s, q + 2, 5, v, 1) == want, "byte 0x%02x", c);
		ck_assert_msg(egw_domain_set_match(s, q, 7, v, 1) == want, "byte 0x%02x", c);
	}
	egw_domain_set_free(s);
}
END_TEST

START_TEST(set_long_names)
{
	/* a 253-character stored name and a longer query ending in it */
	char d[254];
	memset(d, 'c', 253);
	d[63] = d[127] = d[191] = '.';
	d[253] = '\0';
	struct egw_domain_set *s = egw_domain_set_new();
	ck_assert_int_eq(egw_domain_set_add(s, d, 7, NULL), 0);
	ck_assert_int_eq(egw_domain_set_freeze(s), 0);
	char q[600];
	memset(q, 'a', 300);
	q[300] = '.';
	memcpy(q + 301, d, 254);
	uint32_t v[1];
	ck_assert_uint_eq(match_str(s, q, v, 1), 1);
	ck_assert_uint_eq(v[0], 7);
	ck_assert_uint_eq(match_str(s, q + 1, v, 1), 1);
	q[300] = 'a';
	ck_assert_uint_eq(match_str(s, q, v, 1), 0);
	egw_domain_set_free(s);
}
END_TEST

/* A frozen set read by several threads at once gives every thread the same
 * answers as a single reader (the header promises lock-free reads). */
struct reader {
	const struct egw_domain_set *s;
	size_t bad;
};

static void *read_many(void *arg)
{
	struct reader *r = arg;
	char q[64];
	for (unsigned round = 0; round < 20; round++) {
		for (unsigned i = 0; i < 2000; i++) {
			snprintf(q, sizeof(q), "www.n%u.example.cn", i);
			uint32_t v[4];
			size_t n = match_str(r->s, q, v, 4);
			/* n<i>.example.cn holds i % 7 for even i; example.cn holds 100 */
			size_t want = (i % 2 == 0) ? 2 : 1;
			if (n != want || (want == 2 ? v[0] != i % 7 || v[1] != 100 : v[0] != 100))
				r->bad++;
		}
	}
	return NULL;
}

START_TEST(set_concurrent_readers)
{
	struct egw_domain_set *s = egw_domain_set_new();
	char d[64];
	for (unsigned i = 0; i < 2000; i += 2) {
		snprintf(d, sizeof(d), "n%u.example.cn", i);
		ck_assert_int_eq(egw_domain_set_add(s, d, i % 7, NULL), 0);
	}
	ck_assert_int_eq(egw_domain_set_add(s, "example.cn", 100, NULL), 0);
	ck_assert_int_eq(egw_domain_set_freeze(s), 0);
	enum { NT = 4 };
	pthread_t t[NT];
	struct reader r[NT];
	for (int i = 0; i < NT; i++) {
		r[i] = (struct reader){ s, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, read_many, &r[i]), 0);
	}
	for (int i = 0; i < NT; i++) {
		pthread_join(t[i], NULL);
		ck_assert_uint_eq(r[i].bad, 0);
	}
	egw_domain_set_free(s);
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
	tc = tcase_create("set");
	tcase_add_test(tc, set_suffix_semantics);
	tcase_add_test(tc, set_values_of_every_parent);
	tcase_add_test(tc, set_build_errors);
	tcase_add_test(tc, set_matches_reference);
	tcase_add_test(tc, set_long_names);
	tcase_add_test(tc, set_every_query_byte);
	tcase_add_test(tc, set_suffix_at_the_length_limit);
	tcase_add_test(tc, set_concurrent_readers);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
