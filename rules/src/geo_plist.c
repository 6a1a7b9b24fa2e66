/* SPDX-License-Identifier: MIT */
/* Merged, sorted prefix lists for the geo compiler: see geo_internal.h. */
#include "geo_internal.h"

#include <stdlib.h>
#include <string.h>

static bool bit_at(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1u;
}

/* a and b have the same length L > 0, agree on the first L-1 bits, a's bit
 * L-1 is 0 and b's is 1: together they are their parent. */
static bool siblings(const struct egw_prefix *a, const struct egw_prefix *b)
{
	if (a->family != b->family || a->len != b->len || a->len == 0)
		return false;
	unsigned last = a->len - 1u;
	if (bit_at(a->addr, last) || !bit_at(b->addr, last))
		return false;
	struct egw_prefix parent = *b;
	parent.len = (uint8_t)last;
	return egw_prefix_within(a, &parent);
}

static int push(struct egw_geo_plist *l, const struct egw_prefix *p)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct egw_prefix *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *p;
	return 0;
}

int egw_geo_plist_append(struct egw_geo_plist *l, const struct egw_prefix *p)
{
	if (l->n && egw_prefix_within(p, &l->v[l->n - 1]))
		return 0; /* already covered */
	if (l->unsorted)
		return push(l, p);
	size_t keep = l->n;
	while (keep && egw_prefix_within(&l->v[keep - 1], p))
		keep--; /* p covers them */
	if (keep && egw_prefix_cmp(p, &l->v[keep - 1]) <= 0) {
		l->unsorted = true;
		return push(l, p);
	}
	if (keep == l->n && push(l, p) < 0)
		return -1;
	if (keep < l->n) {
		l->v[keep] = *p;
		l->n = keep + 1;
	}
	while (l->n >= 2 && siblings(&l->v[l->n - 2], &l->v[l->n - 1])) {
		l->v[l->n - 2].len--;
		l->n--;
	}
	return 0;
}

int egw_geo_plist_finish(struct egw_geo_plist *l, struct egw_prefix_list *out)
{
	out->v = NULL;
	out->n = 0;
	if (l->unsorted) {
		struct egw_geo_plist sorted = { 0 };
		qsort(l->v, l->n, sizeof(*l->v), egw_prefix_cmp);
		for (size_t i = 0; i < l->n; i++) {
			if (egw_geo_plist_append(&sorted, &l->v[i]) < 0) {
				egw_geo_plist_free(&sorted);
				egw_geo_plist_free(l);
				return -1;
			}
		}
		egw_geo_plist_free(l);
		*l = sorted;
	}
	if (l->n == 0) {
		egw_geo_plist_free(l);
		return 0;
	}
	struct egw_prefix *v = realloc(l->v, l->n * sizeof(*v));
	out->v = v ? v : l->v;
	out->n = l->n;
	*l = (struct egw_geo_plist){ 0 };
	return 0;
}

void egw_geo_plist_free(struct egw_geo_plist *l)
{
	free(l->v);
	*l = (struct egw_geo_plist){ 0 };
}
