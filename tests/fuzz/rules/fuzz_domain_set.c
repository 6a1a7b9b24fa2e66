/* SPDX-License-Identifier: MIT */
/*
 * egw_domain_set_match on names from the input (split at '\n') against a
 * fixed set, checked against a trivial reference: value v matches when a
 * stored domain is the name or a parent of it. Also egw_domain_check on each
 * name, and adding each valid one to a fresh set must make it match itself.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <egw/domain_set.h>

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static const struct {
	const char *d;
	uint32_t v;
} set_src[] = {
	{ "com", 0 }, { "qq.com", 1 }, { "mail.qq.com", 2 }, { "163.com", 1 },
	{ "gmail.com", 3 }, { "google.com", 3 }, { "dns.google", 4 },
	{ "use-application-dns.net", 5 }, { "a.b.c.d.e", 6 }, { "e", 7 },
	{ "x_y.cn", 8 }, { "cn", 9 }, { "qq.com", 10 }, { "9a.b", 11 },
};
#define NSET (sizeof(set_src) / sizeof(set_src[0]))

static struct egw_domain_set *set;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool covers(const char *d, const char *q, size_t n)
{
	if (n && q[n - 1] == '.')
		n--;
	size_t dl = strlen(d);
	if (dl > n)
		return false;
	for (size_t i = 0; i < dl; i++)
		if (lower(q[n - dl + i]) != d[i])
			return false;
	return dl == n || q[n - dl - 1] == '.';
}

static void one(const char *q, size_t n)
{
	uint32_t got[16];
	size_t m = egw_domain_set_match(set, q, n, got, 16);
	bool want[16] = { false };
	size_t nwant = 0;
	for (size_t i = 0; i < NSET; i++)
		if (covers(set_src[i].d, q, n) && !want[set_src[i].v]) {
			want[set_src[i].v] = true;
			nwant++;
		}
	CHECK(m == nwant);
	for (size_t i = 0; i < m; i++) {
		CHECK(got[i] < 16 && want[got[i]]);
		CHECK(i == 0 || got[i - 1] < got[i]);
	}
	/* as a policy domain: a valid one matches itself in a set of its own */
	char *z = malloc(n + 1);
	if (!z)
		return;
	memcpy(z, q, n);
	z[n] = '\0';
	if (strlen(z) == n && egw_domain_check(z, NULL) == 0) {
		struct egw_domain_set *s = egw_domain_set_new();
		if (s && egw_domain_set_add(s, z, 42, NULL) == 0 &&
		    egw_domain_set_freeze(s) == 0) {
			uint32_t v = 0;
			CHECK(egw_domain_set_match(s, q, n, &v, 1) == 1 && v == 42);
		}
		egw_domain_set_free(s);
	}
	free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!set) {
		set = egw_domain_set_new();
		CHECK(set);
		for (size_t i = 0; i < NSET; i++)
			CHECK(egw_domain_set_add(set, set_src[i].d, set_src[i].v, NULL) == 0);
		CHECK(egw_domain_set_freeze(set) == 0);
	}
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		/* an exact-size copy of the name, not NUL-terminated */
		size_t n = i - start;
		char *q = malloc(n ? n : 1);
		if (!q)
			return 0;
		memcpy(q, data + start, n);
		one(q, n);
		free(q);
		start = i + 1;
	}
	return 0;
}
