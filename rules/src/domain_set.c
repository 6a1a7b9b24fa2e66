/* SPDX-License-Identifier: MIT */
/*
 * Domain sets: see egw/domain_set.h.
 *
 * Names are stored lower case, without a trailing dot, in one string pool.
 * freeze() builds an open-addressing hash table (linear probing, load <= 1/2)
 * of the distinct names, each slot pointing at the sorted distinct values of
 * its name. A lookup walks the query once from its end, hashing backwards
 * (FNV-1a 64 over the lower-cased bytes in reverse order), so that at every
 * label boundary the hash of the suffix from there to the end is at hand;
 * each such suffix is probed in the table. Matched slots' value lists are
 * then merged into distinct ascending values. No allocation, no writes to
 * the set: any number of threads may look up a frozen set.
 */
#include <egw/domain_set.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "name_check.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define NAME_MAX_LEN 253
/* A matching suffix is at most 253 characters, each label at least one
 * character plus a dot: at most 127 suffixes of one query can match. */
#define MAX_MATCHES 128

struct entry {
	uint32_t off;   /* into pool */
	uint32_t len;
	uint32_t value;
};

struct slot {
	uint64_t hash;
	uint32_t off, len;      /* name in pool; len 0 = empty slot */
	uint32_t vals, nvals;   /* into values */
};

struct egw_domain_set {
	bool frozen;
	char *pool;
	size_t pool_len, pool_cap;
	struct entry *entries;
	size_t n, cap;
	/* after freeze */
	struct slot *slots;
	size_t mask;            /* table size - 1 */
	uint32_t *values;
	size_t max_len;         /* longest stored name */
};

/* egw_lower as a table (every byte as itself but 'A'..'Z'): one load per
 * byte of the walk below. */
static const unsigned char lower_tab[256] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
	0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
	0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
	0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
	0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

static inline uint64_t fnv_step(uint64_t h, char c)
{
	return (h ^ lower_tab[(unsigned char)c]) * FNV_PRIME;
}

/* Hash of s[0..len) as the lookup computes it: bytes from last to first. */
static uint64_t hash_reverse(const char *s, size_t len)
{
	uint64_t h = FNV_OFFSET;
	while (len--)
		h = fnv_step(h, s[len]);
	return h;
}

struct egw_domain_set *egw_domain_set_new(void)
{
	struct egw_domain_set *s = calloc(1, sizeof(*s));
	if (!s)
		errno = ENOMEM;
	return s;
}

void egw_domain_set_free(struct egw_domain_set *s)
{
	if (!s)
		return;
	free(s->pool);
	free(s->entries);
	free(s->slots);
	free(s->values);
	free(s);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 64;
	while (nc < need)
		nc *= 2;
	void *np = realloc(*p, nc * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = nc;
	return 0;
}

int egw_domain_set_add(struct egw_domain_set *s, const char *domain,
		       uint32_t value, const char **why)
{
	if (s->frozen) {
		if (why)
			*why = "domain set is frozen";
		return -EBUSY;
	}
	if (!domain || egw_domain_check(domain, why) < 0)
		return -EINVAL;
	size_t len = strlen(domain);
	if (domain[len - 1] == '.')
		len--;
	if (s->n >= UINT32_MAX || s->pool_len + len >= UINT32_MAX)
		return -ENOMEM;
	if (grow((void **)&s->pool, &s->pool_cap, s->pool_len + len, 1) < 0 ||
	    grow((void **)&s->entries, &s->cap, s->n + 1, sizeof(*s->entries)) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		s->pool[s->pool_len + i] = egw_lower(domain[i]);
	s->entries[s->n++] = (struct entry){
		.off = (uint32_t)s->pool_len, .len = (uint32_t)len, .value = value };
	s->pool_len += len;
	return 0;
}

/* Slot holding s->pool[off..off+len), or the empty slot where it belongs. */
static struct slot *probe(struct slot *slots, size_t mask, const char *pool,
			  uint64_t h, const char *name, size_t len)
{
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct slot *sl = &slots[i];
		if (sl->len == 0)
			return sl;
		if (sl->hash == h && sl->len == len &&
		    memcmp(pool + sl->off, name, len) == 0)
			return sl;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int egw_domain_set_freeze(struct egw_domain_set *s)
{
	if (s->frozen)
		return 0;
	size_t size = 16;
	while (size < 2 * s->n)
		size *= 2;
	struct slot *slots = calloc(size, sizeof(*slots));
	uint32_t *values = malloc((s->n ? s->n : 1) * sizeof(*values));
	uint32_t *slot_of = malloc((s->n ? s->n : 1) * sizeof(*slot_of));
	if (!slots || !values || !slot_of)
		goto err;
	size_t mask = size - 1;
	/* pass 1: distinct names, count values per name */
	for (size_t i = 0; i < s->n; i++) {
		const struct entry *e = &s->entries[i];
		const char *name = s->pool + e->off;
		uint64_t h = hash_reverse(name, e->len);
		struct slot *sl = probe(slots, mask, s->pool, h, name, e->len);
		if (sl->len == 0) {
			sl->hash = h;
			sl->off = e->off;
			sl->len = e->len;
			if (e->len > s->max_len)
				s->max_len = e->len;
		}
		sl->nvals++;
		slot_of[i] = (uint32_t)(sl - slots);
	}
	/* offsets, then fill */
	uint32_t at = 0;
	for (size_t i = 0; i < size; i++) {
		slots[i].vals = at;
		at += slots[i].nvals;
		slots[i].nvals = 0;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct slot *sl = &slots[slot_of[i]];
		values[sl->vals + sl->nvals++] = s->entries[i].value;
	}
	/* sort and deduplicate each name's values */
	for (size_t i = 0; i < size; i++) {
		struct slot *sl = &slots[i];
		if (sl->nvals < 2)
			continue;
		uint32_t *v = values + sl->vals;
		qsort(v, sl->nvals, sizeof(*v), cmp_u32);
		uint32_t k = 1;
		for (uint32_t j = 1; j < sl->nvals; j++)
			if (v[j] != v[k - 1])
				v[k++] = v[j];
		sl->nvals = k;
	}
	free(slot_of);
	free(s->entries);
	s->entries = NULL;
	s->n = s->cap = 0;
	s->slots = slots;
	s->values = values;
	s->mask = mask;
	s->frozen = true;
	return 0;
err:
	free(slots);
	free(values);
	free(slot_of);
	return -ENOMEM;
}

static bool name_eq_ci(const char *stored, const char *q, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (stored[i] != egw_lower(q[i]))
			return false;
	return true;
}

static const struct slot *lookup(const struct egw_domain_set *s, uint64_t h,
				 const char *name, size_t len)
{
	for (size_t i = (size_t)h & s->mask;; i = (i + 1) & s->mask) {
		const struct slot *sl = &s->slots[i];
		if (sl->len == 0)
			return NULL;
		if (sl->hash == h && sl->len == len &&
		    name_eq_ci(s->pool + sl->off, name, len))
			return sl;
	}
}

size_t egw_domain_set_match(const struct egw_domain_set *s, const char *name,
			    size_t len, uint32_t *out, size_t max)
{
	if (!s || !s->frozen || !name)
		return 0;
	if (len > 0 && name[len - 1] == '.')
		len--;
	const struct slot *hit[MAX_MATCHES];
	size_t nhit = 0;
	uint64_t h = FNV_OFFSET;
	/*
	 * Walk from the end, no further than the longest stored name: before
	 * name[i] is hashed, h is the hash of name[i+1..len), a suffix to look
	 * up when name[i] is the dot before it (and it does not start with
	 * another dot: no stored name starts with '.'). The shortest suffixes
	 * come first; the one starting at lo is looked at last.
	 */
	size_t lo = len > s->max_len ? len - s->max_len : 0;
	if (lo == len)
		return 0;
	/* the last byte starts no suffix but the empty one */
	h = fnv_step(h, name[len - 1]);
	for (size_t i = len - 1; i-- > lo;) {
		char c = name[i];
		if (__builtin_expect(c == '.', 0) && name[i + 1] != '.') {
			const struct slot *sl = lookup(s, h, name + i + 1, len - i - 1);
			if (sl && nhit < MAX_MATCHES)
				hit[nhit++] = sl;
		}
		h = fnv_step(h, c);
	}
	if (lo < len && name[lo] != '.' && (lo == 0 || name[lo - 1] == '.')) {
		const struct slot *sl = lookup(s, h, name + lo, len - lo);
		if (sl && nhit < MAX_MATCHES)
			hit[nhit++] = sl;
	}
	if (nhit == 0)
		return 0;
	if (nhit == 1) {
		const uint32_t *v = s->values + hit[0]->vals;
		size_t n = hit[0]->nvals;
		for (size_t k = 0; k < n && k < max; k++)
			out[k] = v[k];
		return n;
	}
	/* merge the sorted lists into distinct ascending values */
	uint32_t pos[MAX_MATCHES] = { 0 };
	size_t total = 0;
	for (;;) {
		bool any = false;
		uint32_t min = 0;
		for (size_t j = 0; j < nhit; j++) {
			if (pos[j] >= hit[j]->nvals)
				continue;
			uint32_t v = s->values[hit[j]->vals + pos[j]];
			if (!any || v < min) {
				min = v;
				any = true;
			}
		}
		if (!any)
			break;
		for (size_t j = 0; j < nhit; j++)
			if (pos[j] < hit[j]->nvals &&
			    s->values[hit[j]->vals + pos[j]] == min)
				pos[j]++;
		if (total < max)
			out[total] = min;
		total++;
	}
	return total;
}
