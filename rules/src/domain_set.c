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

static inline uint64_t fnv_step(uint64_t h, char c)
{
	return (h ^ (unsigned char)egw_lower(c)) * FNV_PRIME;
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
	char after = '.';   /* name[i + 1]; the empty suffix is never looked up */
	for (size_t i = len; i-- > lo;) {
		char c = name[i];
		if (c == '.' && after != '.') {
			const struct slot *sl = lookup(s, h, name + i + 1, len - i - 1);
			if (sl && nhit < MAX_MATCHES)
				hit[nhit++] = sl;
		}
		h = fnv_step(h, c);
		after = c;
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
