/* SPDX-License-Identifier: MIT */
/*
 * Reference check of the geo compiler on a real database:
 *   geo_refcheck DB COUNTRY_FIELD REGION_FIELD SAMPLES SEED CLASS...
 * Compiles the classes (timing the compile: printed, not asserted), then
 * draws SAMPLES addresses with a fixed-seed generator (IPv4, and IPv6 for an
 * IPv6 database) and checks that membership in each compiled list agrees
 * exactly with libmaxminddb's own lookup (MMDB_lookup_sockaddr) read
 * through the same field paths. A third of the samples are uniform, a third
 * inside a compiled prefix, a third on a prefix's edges (first - 1, first,
 * last, last + 1), so every class is hit and every boundary is tried.
 * IPv6 samples in ::/96, ::ffff:0:0/96, 2001::/32 and 2002::/16 are
 * skipped: those are the IPv4 tree and the aliases MaxMind writes for it,
 * reported as IPv4 only.
 * With EGW_GEO_LIST set in the environment, every compiled prefix is
 * printed too ("CLASS PREFIX", one a line).
 * Exit 0 when all agree, every class was hit and every list is sorted,
 * disjoint and merged; 1 otherwise.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <maxminddb.h>

#include <egw/geo.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state; /* xorshift64* */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Split "a.b.0.c" into a NULL-terminated vector (the input is modified). */
static const char **split(char *s)
{
	const char **v = calloc(strlen(s) + 2, sizeof(*v));
	size_t n = 0;
	for (char *t = strtok(s, "."); t; t = strtok(NULL, "."))
		v[n++] = t;
	return v;
}

static bool eq_fold(const char *a, size_t alen, const char *b)
{
	if (alen != strlen(b))
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i], y = b[i];
		if (x >= 'a' && x <= 'z')
			x = (char)(x - 32);
		if (y >= 'a' && y <= 'z')
			y = (char)(y - 32);
		if (x != y)
			return false;
	}
	return true;
}

/* The string at path in the looked-up record, or NULL (also for ""). */
static const char *get_str(MMDB_lookup_result_s *r, const char **path, size_t *len)
{
	MMDB_entry_data_s d;
	if (!r->found_entry || MMDB_aget_value(&r->entry, &d, path) != MMDB_SUCCESS ||
	    !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size == 0)
		return NULL;
	*len = d.data_size;
	return d.utf8_string;
}

static bool in_list(const struct egw_prefix_list *l, int family, const uint8_t *a)
{
	size_t lo = 0, hi = l->n; /* last prefix whose address <= a */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (memcmp(l->v[mid].addr, a, 16) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && egw_prefix_contains(&l->v[lo - 1], family, a);
}

/* IPv6 addresses the compiler reports as IPv4 (see egw/geo.h). */
static bool v4_alias(const uint8_t *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t zero[12] = { 0 };
	return memcmp(a, zero, 12) == 0 || memcmp(a, mapped, 12) == 0 ||
	       (a[0] == 0x20 && a[1] == 0x02) ||
	       (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0);
}

/* Sorted, disjoint, no two siblings left unmerged; else prints why. */
static bool normal(const char *code, const struct egw_prefix_list *l)
{
	for (size_t i = 1; i < l->n; i++) {
		const struct egw_prefix *q = &l->v[i - 1], *p = &l->v[i];
		char b[EGW_PREFIX_STRLEN], c[EGW_PREFIX_STRLEN];
		bool sib = false;
		if (q->len == p->len && p->len > 0) {
			struct egw_prefix parent = *q;
			parent.len--;
			sib = egw_prefix_within(p, &parent);
		}
		if (egw_prefix_cmp(q, p) >= 0 || egw_prefix_overlaps(q, p) || sib) {
			fprintf(stderr, "%s: %s then %s: %s\n", code,
				egw_prefix_format(q, b, sizeof(b)),
				egw_prefix_format(p, c, sizeof(c)),
				sib ? "siblings not merged" : "not sorted and disjoint");
			return false;
		}
	}
	return true;
}

/* a += delta (delta -1 or +1) over nbytes, wrapping. */
static void add_one(uint8_t *a, size_t nbytes, int delta)
{
	for (size_t i = nbytes; i-- > 0;) {
		if (delta > 0) {
			if (++a[i] != 0)
				return;
		} else {
			if (a[i]-- != 0)
				return;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: %s DB COUNTRY_FIELD REGION_FIELD SAMPLES SEED CLASS...\n",
			argv[0]);
		return 2;
	}
	const char *dbpath = argv[1];
	long samples = strtol(argv[4], NULL, 10);
	rng_state = strtoull(argv[5], NULL, 10) | 1;
	size_t n = (size_t)argc - 6;
	struct egw_geo_class *k = calloc(n, sizeof(*k));
	for (size_t i = 0; i < n; i++) {
		bool neg;
		const char *why;
		if (egw_geo_class_parse(argv[6 + i], &k[i], &neg, &why) || neg) {
			fprintf(stderr, "%s: %s\n", argv[6 + i], neg ? "no negation here" : why);
			return 2;
		}
		k[i].loc = (struct egw_loc){ "argv", (unsigned)(6 + i) };
	}

	struct egw_diag *d = egw_diag_new();
	struct egw_loc dbloc = { "argv", 1 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = egw_geo_compile(dbpath, argv[2], argv[3], k, n, &dbloc, d);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {
		egw_diag_print(d, stderr);
		return 1;
	}
	printf("compiled %zu classes from %s in %.3f s\n", n, dbpath,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (size_t i = 0; i < n; i++)
		printf("  %-20s %7zu IPv4 %7zu IPv6 prefixes\n", k[i].code, k[i].v4.n,
		       k[i].v6.n);
	for (size_t i = 0; getenv("EGW_GEO_LIST") && i < n; i++) {
		char b[EGW_PREFIX_STRLEN];
		for (size_t j = 0; j < k[i].v4.n; j++)
			printf("%s %s\n", k[i].code, egw_prefix_format(&k[i].v4.v[j], b, sizeof(b)));
		for (size_t j = 0; j < k[i].v6.n; j++)
			printf("%s %s\n", k[i].code, egw_prefix_format(&k[i].v6.v[j], b, sizeof(b)));
	}

	int ret = 0;
	for (size_t i = 0; i < n; i++)
		if (!normal(k[i].code, &k[i].v4) || !normal(k[i].code, &k[i].v6))
			ret = 1;

	MMDB_s db;
	if (MMDB_open(dbpath, MMDB_MODE_MMAP, &db) != MMDB_SUCCESS) {
		fprintf(stderr, "%s: cannot open\n", dbpath);
		return 1;
	}
	bool v6db = db.metadata.ip_version == 6;
	char *cdup = strdup(argv[2]), *rdup = strdup(argv[3]);
	const char **cpath = split(cdup), **rpath = split(rdup);
	long *hits = calloc(n, sizeof(*hits));
	long bad = 0, found = 0, skipped = 0;
	for (long s = 0; s < samples; s++) {
		int family = (v6db && (s & 1)) ? AF_INET6 : AF_INET;
		size_t nb = family == AF_INET ? 4 : 16;
		uint8_t a[16] = { 0 };
		for (size_t i = 0; i < nb; i++)
			a[i] = (uint8_t)rnd();
		int mode = (int)(rnd() % 3);
		if (family == AF_INET6 && mode == 0)
			a[0] = (uint8_t)(0x20 | (a[0] & 0x1f)); /* 2000::/3 */
		if (mode) { /* near a compiled prefix of a random class */
			const struct egw_geo_class *c = &k[rnd() % n];
			const struct egw_prefix_list *l = family == AF_INET ? &c->v4 : &c->v6;
			if (l->n) {
				const struct egw_prefix *p = &l->v[rnd() % l->n];
				unsigned bits = (unsigned)nb * 8;
				for (unsigned b = 0; b < p->len; b++) { /* network bits from p */
					uint8_t m = (uint8_t)(0x80u >> (b % 8));
					a[b / 8] = (uint8_t)((a[b / 8] & ~m) | (p->addr[b / 8] & m));
				}
				if (mode == 2) {
					int edge = (int)(rnd() % 4);
					for (unsigned b = p->len; b < bits; b++) {
						uint8_t m = (uint8_t)(0x80u >> (b % 8));
						if (edge < 2)
							a[b / 8] &= (uint8_t)~m;
						else
							a[b / 8] |= m;
					}
					if (edge == 0)
						add_one(a, nb, -1);
					else if (edge == 3)
						add_one(a, nb, +1);
				}
			}
		}

		if (family == AF_INET6 && v4_alias(a)) {
			skipped++;
			continue;
		}
		struct sockaddr_storage ss = { 0 };
		if (family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, a, 4);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, a, 16);
		}
		int err = 0;
		MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&db, (struct sockaddr *)&ss, &err);
		if (err != MMDB_SUCCESS) {
			fprintf(stderr, "lookup failed: %s\n", MMDB_strerror(err));
			return 1;
		}
		found += r.found_entry;
		size_t clen = 0, rlen = 0;
		const char *cs = get_str(&r, cpath, &clen);
		const char *rs = cs ? get_str(&r, rpath, &rlen) : NULL;
		for (size_t i = 0; i < n; i++) {
			bool want = cs && eq_fold(cs, clen, k[i].country) &&
				    (!k[i].region[0] || (rs && eq_fold(rs, rlen, k[i].region)));
			bool got = in_list(family == AF_INET ? &k[i].v4 : &k[i].v6, family, a);
			hits[i] += want;
			if (want != got) {
				char txt[INET6_ADDRSTRLEN];
				inet_ntop(family, a, txt, sizeof(txt));
				if (bad < 20)
					fprintf(stderr, "MISMATCH %s %s: lookup says %s, "
						"compiled list says %s\n", txt, k[i].code,
						want ? "in" : "out", got ? "in" : "out");
				bad++;
			}
		}
	}
	printf("%ld samples (%ld found in the database, %ld IPv6 in the IPv4 "
	       "tree or its aliases skipped), %ld disagreements\n",
	       samples, found, skipped, bad);
	if (bad)
		ret = 1;
	for (size_t i = 0; i < n; i++) {
		printf("  %-20s %ld samples inside\n", k[i].code, hits[i]);
		if (hits[i] == 0) {
			fprintf(stderr, "%s: no sample fell inside: the check proves nothing\n",
				k[i].code);
			ret = 1;
		}
	}
	MMDB_close(&db);
	egw_geo_release(k, n);
	free(k);
	free(hits);
	free(cpath);
	free(rpath);
	free(cdup);
	free(rdup);
	egw_diag_free(d);
	return ret;
}
