/* SPDX-License-Identifier: MIT */
/*
 * The geo compiler on MaxMind's test databases (../shared/fixtures/mmdb) and
 * the lab's own (firmware/lab/geo-lab.mmdb): class syntax, exact lists,
 * agreement with the source JSON the test database was built from, merging,
 * the IPv4 aliases, error messages, and broken or mutated files.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <egw/geo.h>

/* Internals (prefix-list builder, tree walk): tested directly too. */
#include "../../../rules/src/geo_internal.h"

#define MMDB_DIR EGW_FIXTURES_DIR "/mmdb/"
#define CITY MMDB_DIR "GeoIP2-City-Test.mmdb"
#define LAB EGW_SOURCE_DIR "/firmware/lab/geo-lab.mmdb"
#define POLICY "policy.cfg"
#define DBLINE 7u

static const struct egw_loc dbloc = { POLICY, DBLINE };

/* Classes from specs, at POLICY lines 10, 11, ... */
static struct egw_geo_class *parse_all(const char *const *specs, size_t n)
{
	struct egw_geo_class *k = calloc(n + 1, sizeof(*k));
	ck_assert_ptr_nonnull(k);
	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;
		ck_assert_msg(egw_geo_class_parse(specs[i], &k[i], NULL, &why) == 0,
			      "%s: %s", specs[i], why);
		k[i].loc = (struct egw_loc){ POLICY, 10u + (unsigned)i };
	}
	return k;
}

/* "a, b, c" of a list (static buffer). */
static const char *fmt_list(const struct egw_prefix_list *l)
{
	static char out[8192];
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < l->n && used + EGW_PREFIX_STRLEN + 3 < sizeof(out); i++) {
		char b[EGW_PREFIX_STRLEN];
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s",
					 i ? ", " : "", egw_prefix_format(&l->v[i], b, sizeof(b)));
	}
	return out;
}

static struct egw_prefix pfx(const char *s)
{
	struct egw_prefix p;
	const char *why = NULL;
	ck_assert_msg(egw_prefix_parse(s, &p, &why) == 0, "%s: %s", s, why);
	return p;
}

static bool bit_at(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1u;
}

/* Sorted, non-overlapping, fully merged (no two siblings), one family. */
static void assert_normal(const struct egw_prefix_list *l, int family, const char *what)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct egw_prefix *p = &l->v[i];
		char b[EGW_PREFIX_STRLEN], c[EGW_PREFIX_STRLEN];
		ck_assert_msg(p->family == family, "%s: %s has the wrong family", what,
			      egw_prefix_format(p, b, sizeof(b)));
		if (i == 0)
			continue;
		const struct egw_prefix *q = &l->v[i - 1];
		ck_assert_msg(egw_prefix_cmp(q, p) < 0 && !egw_prefix_overlaps(q, p),
			      "%s: %s then %s: not sorted and disjoint", what,
			      egw_prefix_format(q, b, sizeof(b)),
			      egw_prefix_format(p, c, sizeof(c)));
		if (q->len == p->len && p->len > 0 && !bit_at(q->addr, p->len - 1u) &&
		    bit_at(p->addr, p->len - 1u)) {
			struct egw_prefix parent = *p;
			parent.len--;
			ck_assert_msg(!egw_prefix_within(q, &parent),
				      "%s: siblings %s and %s not merged", what,
				      egw_prefix_format(q, b, sizeof(b)),
				      egw_prefix_format(p, c, sizeof(c)));
		}
	}
}

/* No IPv6 network of the IPv4 subtree or its aliases (all the databases
 * used here alias Teredo too). */
static void assert_no_v4_alias(const struct egw_prefix_list *v6, const char *what)
{
	static const char *const aliases[] = { "::/96", "::ffff:0:0/96", "2001::/32",
					       "2002::/16" };
	for (size_t i = 0; i < v6->n; i++) {
		for (size_t a = 0; a < 4; a++) {
			struct egw_prefix al = pfx(aliases[a]);
			char b[EGW_PREFIX_STRLEN];
			ck_assert_msg(!egw_prefix_overlaps(&v6->v[i], &al),
				      "%s: %s reported as IPv6 (alias %s)", what,
				      egw_prefix_format(&v6->v[i], b, sizeof(b)), aliases[a]);
		}
	}
}

/* ---- class syntax ---- */

START_TEST(class_parse_forms)
{
	struct egw_geo_class k;
	bool neg = true;
	const char *why = NULL;
	ck_assert_int_eq(egw_geo_class_parse("CN", &k, &neg, &why), 0);
	ck_assert_str_eq(k.code, "CN");
	ck_assert_str_eq(k.country, "CN");
	ck_assert_str_eq(k.region, "");
	ck_assert(!neg);
	ck_assert_uint_eq(k.v4.n + k.v6.n, 0);

	ck_assert_int_eq(egw_geo_class_parse("cn-gd", &k, &neg, &why), 0);
	ck_assert_str_eq(k.code, "CN-GD");
	ck_assert_str_eq(k.country, "CN");
	ck_assert_str_eq(k.region, "GD");

	ck_assert_int_eq(egw_geo_class_parse("!us", &k, &neg, &why), 0);
	ck_assert(neg);
	ck_assert_str_eq(k.code, "US");

	/* Region names as real databases carry them, spaces and hyphens included. */
	ck_assert_int_eq(egw_geo_class_parse("CN-Inner Mongolia", &k, &neg, &why), 0);
	ck_assert_str_eq(k.code, "CN-INNER MONGOLIA");
	ck_assert_str_eq(k.region, "INNER MONGOLIA");
	ck_assert_int_eq(egw_geo_class_parse("FR-Île-de-France", &k, &neg, &why), 0);
	ck_assert_str_eq(k.country, "FR");
	ck_assert_str_eq(k.region, "ÎLE-DE-FRANCE"); /* Î: not ASCII, kept */
	ck_assert_int_eq(egw_geo_class_parse("FR-Provence-Alpes-Côte d'Azur", &k, NULL,
						 &why), 0);
	ck_assert_str_eq(k.region, "PROVENCE-ALPES-CôTE D'AZUR");
	ck_assert_int_eq(egw_geo_class_parse("CN-广东", &k, NULL, &why), 0);
	ck_assert_str_eq(k.code, "CN-广东");
	ck_assert_int_eq(egw_geo_class_parse("CN-22", &k, NULL, &why), 0);
	ck_assert_str_eq(k.region, "22");

	char longest[3 + EGW_GEO_REGION_MAX + 2];
	memcpy(longest, "MD-", 3);
	memset(longest + 3, 'a', EGW_GEO_REGION_MAX);
	longest[3 + EGW_GEO_REGION_MAX] = '\0';
	ck_assert_int_eq(egw_geo_class_parse(longest, &k, NULL, &why), 0);
	ck_assert_uint_eq(strlen(k.region), EGW_GEO_REGION_MAX);
	longest[3 + EGW_GEO_REGION_MAX] = 'a';
	longest[4 + EGW_GEO_REGION_MAX] = '\0';
	ck_assert_int_eq(egw_geo_class_parse(longest, &k, NULL, &why), -1);
	ck_assert_str_eq(why, "region is longer than 127 bytes");
}
END_TEST

START_TEST(class_parse_errors)
{
	struct egw_geo_class k;
	bool neg;
	const char *why = NULL;
	static const char *const bad[] = { "", "C", "CHN", "C1", "1N", "CN_GD",
		"!", "!!CN", " CN", "CN ", "CN-", "CN- GD", "CN-GD ", "CN-G\tD",
		"-GD", "CN-G\"D", "CN-G\\D", "CN-GD;", "CN-G#D", "CN-\xff",
		"CN-\xc3", "CN-\xc0\x80", "CN-\xed\xa0\x80", "CN-\xf4\x90\x80\x80" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(egw_geo_class_parse(bad[i], &k, &neg, &why) == -1,
			      "\"%s\" accepted", bad[i]);
		ck_assert_msg(why && *why, "\"%s\": no reason", bad[i]);
	}
	ck_assert_int_eq(egw_geo_class_parse("CN-", &k, &neg, &why), -1);
	ck_assert_str_eq(why, "empty region after \"-\"");
	ck_assert_int_eq(egw_geo_class_parse("CN-G\"D", &k, &neg, &why), -1);
	ck_assert_str_eq(why, "a region may contain letters, digits, spaces and "
			      "' ( ) , - . / _ only");
	ck_assert_int_eq(egw_geo_class_parse("CN-\xe5\xb9", &k, &neg, &why), -1);
	ck_assert_str_eq(why, "region is not valid UTF-8");
	ck_assert_int_eq(egw_geo_class_parse("!CN", &k, NULL, &why), -1);
	ck_assert_str_eq(why, "negation (\"!\") is not allowed here");
	ck_assert_int_eq(egw_geo_class_parse(NULL, &k, &neg, NULL), -1);
}
END_TEST

/* ---- the prefix-list builder ---- */

START_TEST(plist_merges_and_sorts)
{
	struct egw_geo_plist l = { 0 };
	struct egw_prefix_list out;
	static const char *const in[] = {
		"10.0.0.0/26", "10.0.0.64/26", /* -> 10.0.0.0/25 */
		"10.0.0.128/25",               /* -> 10.0.0.0/24 */
		"10.0.0.7",                    /* contained: dropped */
		"10.0.1.0/24",                 /* -> 10.0.0.0/23 */
		"10.0.3.0/24", "10.0.4.0/22",  /* not siblings */
	};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct egw_prefix p = pfx(in[i]);
		ck_assert_int_eq(egw_geo_plist_append(&l, &p), 0);
	}
	ck_assert_int_eq(egw_geo_plist_finish(&l, &out), 0);
	ck_assert_str_eq(fmt_list(&out), "10.0.0.0/23, 10.0.3.0/24, 10.0.4.0/22");
	free(out.v);

	/* Out of order, overlapping, duplicated: sorted and merged at the end. */
	static const char *const shuffled[] = {
		"2001:db8:1::/48", "2001:db8::/48", "2001:db8:1:5::/64", "192.0.2.0/25",
		"2001:db8::/48", "192.0.2.128/25", "2001:db8:2::/47", "2001:db8:4::/46",
		"198.51.100.0/24", "198.51.0.0/16",
	};
	for (size_t i = 0; i < sizeof(shuffled) / sizeof(shuffled[0]); i++) {
		struct egw_prefix p = pfx(shuffled[i]);
		ck_assert_int_eq(egw_geo_plist_append(&l, &p), 0);
	}
	ck_assert_int_eq(egw_geo_plist_finish(&l, &out), 0);
	ck_assert_str_eq(fmt_list(&out), "192.0.2.0/24, 198.51.0.0/16, 2001:db8::/45");
	free(out.v);

	ck_assert_int_eq(egw_geo_plist_finish(&l, &out), 0);
	ck_assert_uint_eq(out.n, 0);
	ck_assert_ptr_null(out.v);
}
END_TEST

/* ---- walking the test databases ---- */

START_TEST(city_exact_lists)
{
	static const char *const specs[] = { "CN", "CN-22", "US-WA", "GB-ENG",
					     "us-ca", "US", "SE-E", "JP" };
	size_t n = sizeof(specs) / sizeof(specs[0]);
	struct egw_geo_class *k = parse_all(specs, n);
	struct egw_diag *d = egw_diag_new();
	ck_assert_int_eq(egw_geo_compile(CITY, NULL, NULL, k, n, &dbloc, d), 0);
	ck_assert_uint_eq(egw_diag_count(d), 0);

	ck_assert_str_eq(fmt_list(&k[0].v4), "175.16.199.0/24");
	ck_assert_str_eq(fmt_list(&k[0].v6),
			 "2001:250::/31, 2001:252::/32, 2001:254::/32, 2001:256::/32");
	ck_assert_str_eq(fmt_list(&k[1].v4), "175.16.199.0/24");
	ck_assert_uint_eq(k[1].v6.n, 0);
	ck_assert_str_eq(fmt_list(&k[2].v4), "216.160.83.56/29, 216.160.83.64/29");
	ck_assert_str_eq(fmt_list(&k[3].v4),
			 "2.2.3.0/24, 2.125.160.216/29, 81.2.69.142/31, "
			 "81.2.69.144/28, 81.2.69.160/27, 81.2.69.192/28");
	ck_assert_str_eq(k[4].code, "US-CA");
	ck_assert_str_eq(fmt_list(&k[4].v4), "214.78.120.0/22, 214.78.124.0/24");
	ck_assert_str_eq(fmt_list(&k[4].v6), "2001:480:10::/48");
	/* US = US-WA + US-CA + the US record without a region. */
	ck_assert_str_eq(fmt_list(&k[5].v4),
			 "149.101.100.0/28, 214.78.120.0/22, 214.78.124.0/24, "
			 "216.160.83.56/29, 216.160.83.64/29");
	ck_assert_str_eq(fmt_list(&k[5].v6), "2001:480:10::/48");
	ck_assert_str_eq(fmt_list(&k[6].v4), "89.160.20.112/28, 89.160.20.128/25");
	ck_assert_uint_eq(k[7].v4.n, 0);
	ck_assert_uint_eq(k[7].v6.n, 14);
	for (size_t i = 0; i < n; i++) {
		assert_normal(&k[i].v4, AF_INET, k[i].code);
		assert_normal(&k[i].v6, AF_INET6, k[i].code);
		assert_no_v4_alias(&k[i].v6, k[i].code);
	}
	egw_geo_release(k, n);
	ck_assert_uint_eq(k[0].v4.n + k[0].v6.n, 0);
	ck_assert_ptr_null(k[0].v4.v);
	egw_geo_release(k, n); /* twice is harmless */
	free(k);
	egw_diag_free(d);
}
END_TEST

/* Address count of a list or of a set of (possibly nested) prefixes. */
static unsigned __int128 span(const struct egw_prefix *p)
{
	return (unsigned __int128)1 << (egw_prefix_maxlen(p) - p->len);
}

static unsigned __int128 union_size(struct egw_prefix *v, size_t n)
{
	qsort(v, n, sizeof(*v), egw_prefix_cmp);
	unsigned __int128 sum = 0;
	const struct egw_prefix *kept = NULL;
	for (size_t i = 0; i < n; i++) {
		if (kept && egw_prefix_within(&v[i], kept))
			continue;
		kept = &v[i];
		sum += span(kept);
	}
	return sum;
}

struct expect {
	char spec[64];
	struct egw_prefix *v;
	size_t n, cap;
};

static struct expect *expect_find(struct expect *e, size_t *ne, const char *spec)
{
	for (size_t i = 0; i < *ne; i++)
		if (strcmp(e[i].spec, spec) == 0)
			return &e[i];
	struct expect *x = &e[(*ne)++];
	snprintf(x->spec, sizeof(x->spec), "%s", spec);
	return x;
}

static void expect_add(struct expect *x, const struct egw_prefix *p)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 8;
		x->v = realloc(x->v, x->cap * sizeof(*x->v));
		ck_assert_ptr_nonnull(x->v);
	}
	x->v[x->n++] = *p;
}

/*
 * Every country and country-region of GeoIP2-City-Test.source.json, compiled
 * in one run, covers exactly the networks the source gives it: each source
 * network lies in the class's list, and both hold as many addresses.
 */
START_TEST(city_agrees_with_source_json)
{
	json_error_t jerr;
	json_t *src = json_load_file(MMDB_DIR "GeoIP2-City-Test.source.json", 0, &jerr);
	ck_assert_msg(src && json_is_array(src), "source json: %s", jerr.text);
	struct expect *e = calloc(1024, sizeof(*e));
	size_t ne = 0, networks = 0;
	size_t i;
	json_t *item;
	json_array_foreach(src, i, item) {
		const char *net;
		json_t *rec;
		json_object_foreach(item, net, rec) {
			const char *cc = json_string_value(
				json_object_get(json_object_get(rec, "country"), "iso_code"));
			if (!cc)
				continue;
			const char *rg = json_string_value(json_object_get(
				json_array_get(json_object_get(rec, "subdivisions"), 0),
				"iso_code"));
			struct egw_prefix p = pfx(net);
			if (p.family == AF_INET6 && p.len >= 96 &&
			    memcmp(p.addr, (uint8_t[12]){ 0 }, 12) == 0) {
				/* "::a.b.c.d/n": the IPv4 subtree */
				struct egw_prefix q = { .family = AF_INET,
							.len = (uint8_t)(p.len - 96) };
				memcpy(q.addr, p.addr + 12, 4);
				p = q;
			}
			ck_assert_uint_lt(ne, 1000);
			expect_add(expect_find(e, &ne, cc), &p);
			if (rg) {
				char spec[64];
				snprintf(spec, sizeof(spec), "%s-%s", cc, rg);
				expect_add(expect_find(e, &ne, spec), &p);
			}
			networks++;
		}
	}
	ck_assert_uint_gt(networks, 200);

	const char **specs = calloc(ne, sizeof(*specs));
	for (i = 0; i < ne; i++)
		specs[i] = e[i].spec;
	struct egw_geo_class *k = parse_all(specs, ne);
	struct egw_diag *d = egw_diag_new();
	int rc = egw_geo_compile(CITY, "country.iso_code", "subdivisions.0.iso_code",
				 k, ne, &dbloc, d);
	if (rc)
		egw_diag_print(d, stderr);
	ck_assert_int_eq(rc, 0);

	for (i = 0; i < ne; i++) {
		struct expect *x = &e[i];
		unsigned __int128 have = 0;
		for (size_t j = 0; j < x->n; j++) {
			const struct egw_prefix_list *l =
				x->v[j].family == AF_INET ? &k[i].v4 : &k[i].v6;
			bool in = false;
			for (size_t m = 0; m < l->n && !in; m++)
				in = egw_prefix_within(&x->v[j], &l->v[m]);
			char b[EGW_PREFIX_STRLEN];
			ck_assert_msg(in, "%s: %s missing", x->spec,
				      egw_prefix_format(&x->v[j], b, sizeof(b)));
		}
		for (size_t m = 0; m < k[i].v4.n; m++)
			have += span(&k[i].v4.v[m]);
		for (size_t m = 0; m < k[i].v6.n; m++)
			have += span(&k[i].v6.v[m]);
		ck_assert_msg(have == union_size(x->v, x->n),
			      "%s: the compiled lists hold addresses no source "
			      "network gives it", x->spec);
		assert_normal(&k[i].v4, AF_INET, x->spec);
		assert_normal(&k[i].v6, AF_INET6, x->spec);
		assert_no_v4_alias(&k[i].v6, x->spec);
		free(x->v);
	}
	egw_geo_release(k, ne);
	free(k);
	free(specs);
	free(e);
	egw_diag_free(d);
	json_decref(src);
}
END_TEST

START_TEST(country_db_walks)
{
	static const char *const specs[] = { "CN", "US", "GB", "DE", "SE" };
	size_t n = sizeof(specs) / sizeof(specs[0]);
	struct egw_geo_class *k = parse_all(specs, n);
	struct egw_diag *d = egw_diag_new();
	ck_assert_int_eq(egw_geo_compile(MMDB_DIR "GeoLite2-Country-Test.mmdb", NULL,
					 NULL, k, n, &dbloc, d), 0);
	ck_assert_str_eq(fmt_list(&k[0].v4), "111.235.160.0/22");
	ck_assert_str_eq(fmt_list(&k[1].v4),
			 "50.114.0.0/22, 214.78.0.0/19, 216.160.83.56/29");
	ck_assert_str_eq(fmt_list(&k[1].v6), "2001:480::/43");
	ck_assert_uint_eq(k[3].v4.n, 0);
	ck_assert_uint_eq(k[3].v6.n, 22); /* DE: IPv6 only in this database */
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_gt(k[i].v4.n + k[i].v6.n, 0);
		assert_normal(&k[i].v4, AF_INET, k[i].code);
		assert_normal(&k[i].v6, AF_INET6, k[i].code);
		assert_no_v4_alias(&k[i].v6, k[i].code);
	}
	egw_geo_release(k, n);
	free(k);
	egw_diag_free(d);
}
END_TEST

static int collect(void *arg, const struct egw_prefix *p, const MMDB_entry_s *entry)
{
	(void)entry;
	char *out = arg, b[EGW_PREFIX_STRLEN];
	size_t used = strlen(out);
	snprintf(out + used, 1024 - used, "%s%s", used ? " " : "",
		 egw_prefix_format(p, b, sizeof(b)));
	return 0;
}

/* The mixed tree: IPv4 from ::/96, IPv6 from the rest, aliases skipped. */
START_TEST(mixed_db_walks)
{
	MMDB_s db;
	ck_assert_int_eq(MMDB_open(MMDB_DIR "MaxMind-DB-test-mixed-24.mmdb",
				   MMDB_MODE_MMAP, &db), MMDB_SUCCESS);
	char leaves[1024] = "", why_buf[256];
	const char *why = NULL;
	ck_assert_int_eq(egw_geo_walk(&db, collect, leaves, why_buf, sizeof(why_buf),
				      &why), 0);
	ck_assert_str_eq(leaves,
			 "1.1.1.1 1.1.1.2/31 1.1.1.4/30 1.1.1.8/29 1.1.1.16/28 1.1.1.32 "
			 "::1:ffff:ffff ::2:0:0/122 ::2:0:40/124 ::2:0:50/125 ::2:0:58/127");
	MMDB_close(&db);

	/* No record of it has a country: the walk ends, the class is reported. */
	struct egw_geo_class *k = parse_all((const char *const[]){ "CN" }, 1);
	struct egw_diag *d = egw_diag_new();
	ck_assert_int_eq(egw_geo_compile(MMDB_DIR "MaxMind-DB-test-mixed-24.mmdb",
					 NULL, NULL, k, 1, &dbloc, d), -1);
	ck_assert_uint_eq(egw_diag_count(d), 1);
	ck_assert_str_eq(egw_diag_message(d, 0),
			 "policy.cfg:10: geo class CN: the database has no country CN "
			 "(no record has a string at \"country.iso_code\"; check "
			 "geo.country_field)");
	free(k);
	egw_diag_free(d);
}
END_TEST

START_TEST(lab_db)
{
	static const char *const specs[] = { "CN", "CN-GD", "CN-11", "US" };
	struct egw_geo_class *k = parse_all(specs, 4);
	struct egw_diag *d = egw_diag_new();
	ck_assert_int_eq(egw_geo_compile(LAB, "country.iso_code",
					 "subdivisions.0.iso_code", k, 4, &dbloc, d), 0);
	ck_assert_str_eq(fmt_list(&k[0].v4), "192.0.2.0/24, 198.51.100.0/24");
	ck_assert_uint_eq(k[0].v6.n, 0); /* not ::ffff:198.51.100.0/120 again */
	ck_assert_str_eq(fmt_list(&k[1].v4), "198.51.100.0/24");
	ck_assert_str_eq(fmt_list(&k[2].v4), "192.0.2.0/24");
	ck_assert_str_eq(fmt_list(&k[3].v4), "203.0.113.0/24");
	ck_assert_str_eq(fmt_list(&k[3].v6), "2001:db8:ff::/48");
	egw_geo_release(k, 4);
	free(k);
	egw_diag_free(d);
}
END_TEST

/* ---- errors ---- */

START_TEST(unknown_classes_error_at_their_line)
{
	static const char *const specs[] = { "CN", "CN-XX", "XX", "US-Washington",
					     "GB-ENG" };
	size_t n = sizeof(specs) / sizeof(specs[0]);
	struct egw_geo_class *k = parse_all(specs, n);
	struct egw_diag *d = egw_diag_new();
	ck_assert_int_eq(egw_geo_compile(CITY, NULL, NULL, k, n, &dbloc, d), -1);
	ck_assert_uint_eq(egw_diag_count(d), 3);
	ck_assert_str_eq(egw_diag_message(d, 0),
			 "policy.cfg:11: geo class CN-XX: the database has no region XX "
			 "for CN (it has: 22)");
	ck_assert_uint_eq(egw_diag_line(d, 0), 11);
	ck_assert_str_eq(egw_diag_message(d, 1),
			 "policy.cfg:12: geo class XX: the database has no country XX");
	ck_assert_str_eq(egw_diag_message(d, 2),
			 "policy.cfg:13: geo class US-WASHINGTON: the database has no "
			 "region WASHINGTON for US (it has: CA, WA)");
	for (size_t i = 0; i < n; i++) /* nothing half-built is left */
		ck_assert_uint_eq(k[i].v4.n + k[i].v6.n, 0);
	free(k);
	egw_diag_free(d);

	/* A wrong region field: the message says where it looked. */
	k = parse_all((const char *const[]){ "CN-22" }, 1);
	d = egw_diag_new();
	ck_assert_int_eq(egw_geo_compile(CITY, NULL, "subdivision.0.iso_code", k, 1,
					 &dbloc, d), -1);
	ck_assert_str_eq(egw_diag_message(d, 0),
			 "policy.cfg:10: geo class CN-22: the database has no region 22 "
			 "for CN (no record of CN has a string at "
			 "\"subdivision.0.iso_code\"; check geo.region_field)");
	egw_diag_free(d);

	d = egw_diag_new();
	ck_assert_int_eq(egw_geo_compile(CITY, "country..iso_code", NULL, k, 1,
					 &dbloc, d), -1);
	ck_assert_str_eq(egw_diag_message(d, 0),
			 "policy.cfg:7: geo database " CITY ": field path "
			 "\"country..iso_code\" is not a dotted path (\"a.b.0.c\")");
	free(k);
	egw_diag_free(d);
}
END_TEST

/* Compile CN and US from path; expect failure with a message containing
 * want at the database's line. */
static void expect_db_error(const char *path, const char *want)
{
	struct egw_geo_class *k = parse_all((const char *const[]){ "CN", "US" }, 2);
	struct egw_diag *d = egw_diag_new();
	ck_assert_int_eq(egw_geo_compile(path, NULL, NULL, k, 2, &dbloc, d), -1);
	ck_assert_uint_eq(egw_diag_count(d), 1);
	ck_assert_uint_eq(egw_diag_line(d, 0), DBLINE);
	ck_assert_msg(strstr(egw_diag_message(d, 0), want), "%s: \"%s\" lacks \"%s\"",
		      path, egw_diag_message(d, 0), want);
	ck_assert_msg(strstr(egw_diag_message(d, 0), path), "message lacks the path");
	ck_assert_uint_eq(k[0].v4.n + k[0].v6.n + k[1].v4.n + k[1].v6.n, 0);
	free(k);
	egw_diag_free(d);
}

START_TEST(broken_databases)
{
	expect_db_error(MMDB_DIR "no-such.mmdb", "cannot open: No such file or directory");
	expect_db_error(MMDB_DIR "README.md", "not a MaxMind DB file");
	expect_db_error(EGW_FIXTURES_DIR "/mmdb", "is a directory, not a MaxMind DB file");
	expect_db_error("/dev/null", "is empty, not a MaxMind DB file");
	expect_db_error(MMDB_DIR "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
			"not a MaxMind DB file, or a corrupt one");
	expect_db_error(MMDB_DIR "MaxMind-DB-test-broken-search-tree-24.mmdb",
			"corrupt search tree: node 0 right record 0 is invalid");
}
END_TEST

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	unsigned char *buf = malloc(1 << 20);
	*n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	ck_assert_uint_gt(*n, 0);
	return buf;
}

static void spill(const char *path, const unsigned char *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

/* Put a 24-bit record value in node's left (side 0) or right record. */
static void set_record24(unsigned char *buf, uint32_t node, int side, uint32_t v)
{
	unsigned char *r = buf + (size_t)node * 6 + (side ? 3 : 0);
	r[0] = (unsigned char)(v >> 16);
	r[1] = (unsigned char)(v >> 8);
	r[2] = (unsigned char)v;
}

/* A node pointing back into its own subtree is rejected, not walked forever. */
START_TEST(cycle_is_an_error)
{
	size_t n;
	unsigned char *buf = slurp(LAB, &n);
	MMDB_s db;
	ck_assert_int_eq(MMDB_open(LAB, MMDB_MODE_MMAP, &db), MMDB_SUCCESS);
	ck_assert_uint_eq(db.metadata.record_size, 24);
	MMDB_search_node_s root, child;
	ck_assert_int_eq(MMDB_read_node(&db, 0, &root), MMDB_SUCCESS);
	ck_assert_int_eq(root.left_record_type, MMDB_RECORD_TYPE_SEARCH_NODE);
	uint32_t c = (uint32_t)root.left_record;
	ck_assert_int_eq(MMDB_read_node(&db, c, &child), MMDB_SUCCESS);
	MMDB_close(&db);

	char path[] = "/tmp/egw-test-geo-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);

	set_record24(buf, c, 1, c); /* right record: itself */
	spill(path, buf, n);
	expect_db_error(path, "is reached twice");

	set_record24(buf, c, 1, (uint32_t)child.right_record);
	set_record24(buf, c, 0, 0); /* back to the root */
	spill(path, buf, n);
	expect_db_error(path, "corrupt search tree");

	unlink(path);
	free(buf);
}
END_TEST

/*
 * Mutated and truncated copies of a real test database: every outcome is
 * either a clean compile (normal lists) or errors; never a crash, a hang or
 * a sanitizer report.
 */
START_TEST(mutations_never_crash)
{
	size_t n;
	unsigned char *orig = slurp(CITY, &n);
	unsigned char *buf = malloc(n);
	char path[] = "/tmp/egw-test-geo-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	static const char *const specs[] = { "CN", "CN-22", "US", "GB-ENG" };
	unsigned seed = 12345;
	int ok = 0, failed = 0;
	for (int round = 0; round < 400; round++) {
		size_t len = n;
		memcpy(buf, orig, n);
		if (round % 10 == 9) {
			len = (size_t)rand_r(&seed) % n; /* truncated */
		} else {
			int flips = 1 + rand_r(&seed) % 8;
			for (int f = 0; f < flips; f++) {
				/* mostly the search tree (first ~11 kB) */
				size_t at = (size_t)rand_r(&seed) %
					    (round % 3 ? 11000 : n);
				buf[at] = (unsigned char)rand_r(&seed);
			}
		}
		spill(path, buf, len);
		struct egw_geo_class *k = parse_all(specs, 4);
		struct egw_diag *d = egw_diag_new();
		int rc = egw_geo_compile(path, NULL, NULL, k, 4, &dbloc, d);
		if (rc == 0) {
			ok++;
			ck_assert_uint_eq(egw_diag_count(d), 0);
			for (size_t i = 0; i < 4; i++) {
				assert_normal(&k[i].v4, AF_INET, k[i].code);
				assert_normal(&k[i].v6, AF_INET6, k[i].code);
			}
		} else {
			failed++;
			ck_assert_int_eq(rc, -1);
			ck_assert_uint_gt(egw_diag_count(d), 0);
		}
		egw_geo_release(k, 4);
		free(k);
		egw_diag_free(d);
	}
	ck_assert_int_gt(ok, 0);
	ck_assert_int_gt(failed, 0);
	unlink(path);
	free(buf);
	free(orig);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("geo");
	TCase *tc = tcase_create("syntax");
	tcase_add_test(tc, class_parse_forms);
	tcase_add_test(tc, class_parse_errors);
	tcase_add_test(tc, plist_merges_and_sorts);
	suite_add_tcase(s, tc);
	tc = tcase_create("compile");
	tcase_add_test(tc, city_exact_lists);
	tcase_add_test(tc, city_agrees_with_source_json);
	tcase_add_test(tc, country_db_walks);
	tcase_add_test(tc, mixed_db_walks);
	tcase_add_test(tc, lab_db);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, unknown_classes_error_at_their_line);
	tcase_add_test(tc, broken_databases);
	tcase_add_test(tc, cycle_is_an_error);
	tcase_add_test(tc, mutations_never_crash);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
