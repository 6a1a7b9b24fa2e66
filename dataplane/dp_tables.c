/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>

#include <egw/domain_set.h>

#include "dp_policy.h"
#include "dp_tables.h"

_Static_assert(sizeof(struct rte_lpm_tbl_entry) == 4, "dp_tables: lpm4_tbl24 entries are 4 bytes");
_Static_assert(RTE_LPM_VALID_EXT_ENTRY_BITMASK == DP_LPM_EXT_MASK &&
	       RTE_LPM_TBL8_GROUP_NUM_ENTRIES == DP_LPM_TBL8_GROUP,
	       "dp_tables: rte_lpm's entry layout as dp_tables_prefetch_more reads it");

/* One prefix of the policy and what it says about its addresses. */
struct pent {
	struct egw_prefix p;
	int32_t unit;   /* unit prefix: the unit; else -1 */
	int32_t bit;    /* property bit; -1 for unit prefixes */
};

struct pvec {
	struct pent *v;
	size_t n, cap;
};

static int pvec_add(struct pvec *pv, const struct egw_prefix *p, int32_t unit, int32_t bit)
{
	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 64;
		struct pent *v = realloc(pv->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		pv->v = v;
		pv->cap = cap;
	}
	pv->v[pv->n++] = (struct pent){ .p = *p, .unit = unit, .bit = bit };
	return 0;
}

static int pvec_add_list(struct pvec *pv, const struct egw_prefix_list *l,
			 int32_t unit, int32_t bit)
{
	for (size_t i = 0; i < l->n; i++)
		if (pvec_add(pv, &l->v[i], unit, bit))
			return -ENOMEM;
	return 0;
}

static int pent_cmp(const void *a, const void *b)
{
	return egw_prefix_cmp(&((const struct pent *)a)->p, &((const struct pent *)b)->p);
}

static unsigned name_seq(void)
{
	static atomic_uint seq;
	return atomic_fetch_add(&seq, 1);
}

/* Class store with de-duplication (open addressing over class ids). */
struct cstore {
	struct dp_tables *t;
	uint32_t cap_classes;
	uint32_t *slots;   /* class id + 1, 0 empty */
	uint32_t nslots;   /* power of two */
};

static uint64_t class_hash(int32_t unit, const uint64_t *bits, uint32_t nwords)
{
	uint64_t h = 1469598103934665603ull ^ (uint32_t)unit;
	for (uint32_t i = 0; i < nwords; i++) {
		h ^= bits[i];
		h *= 1099511628211ull;
		h ^= h >> 29;
	}
	return h;
}

/* Returns the class id of (unit, bits), adding it when new. */
static uint32_t cstore_get(struct cstore *cs, int32_t unit, const uint64_t *bits)
{
	struct dp_tables *t = cs->t;
	uint32_t mask = cs->nslots - 1;
	uint32_t i = (uint32_t)class_hash(unit, bits, t->nwords) & mask;

	for (;; i = (i + 1) & mask) {
		uint32_t s = cs->slots[i];
		if (!s)
			break;
		uint32_t c = s - 1;
		if (t->class_unit[c] == unit &&
		    !memcmp(&t->class_bits[(size_t)c * t->nwords], bits, t->nwords * 8))
			return c;
	}
	uint32_t c = t->n_classes++;
	t->class_unit[c] = unit;
	memcpy(&t->class_bits[(size_t)c * t->nwords], bits, t->nwords * 8);
	cs->slots[i] = c + 1;
	return c;
}

static void to_host4(const uint8_t *a, uint32_t *out)
{
	*out = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/*
 * Walk the sorted prefixes (a parent sorts before everything it contains),
 * keeping the chain of enclosing prefixes on a stack: a prefix's class is its
 * parent's class plus its own properties. Insert each distinct prefix into
 * the LPM with its class, so a lookup returns the class of the innermost
 * prefix, which includes every enclosing one.
 */
static int build_classes(struct dp_tables *t, struct pvec *pv, struct egw_diag *diag)
{
	struct cstore cs = { .t = t };
	uint64_t *stack = NULL, *cur = NULL;
	uint32_t stack_unit[130], stack_cls[130];
	struct egw_prefix stack_p[130];
	int ret = -ENOMEM;
	size_t n4 = 0, n6 = 0, tbl8_4 = 0, tbl8_6 = 0;

	qsort(pv->v, pv->n, sizeof(*pv->v), pent_cmp);
	for (size_t i = 0; i < pv->n; i++) {
		if (i && !egw_prefix_cmp(&pv->v[i].p, &pv->v[i - 1].p))
			continue;
		if (pv->v[i].p.family == AF_INET) {
			n4++;
			tbl8_4 += pv->v[i].p.len > 24;
		} else {
			n6++;
			tbl8_6 += pv->v[i].p.len > 24 ? (pv->v[i].p.len - 24 + 7) / 8 : 0;
		}
	}
	t->class_unit = calloc(pv->n + 1, sizeof(*t->class_unit));
	t->class_bits = calloc((pv->n + 1) * t->nwords, 8);
	stack = calloc(130 * (size_t)t->nwords, 8);
	cur = calloc(t->nwords, 8);
	cs.nslots = 16;
	while (cs.nslots < 2 * (pv->n + 1))
		cs.nslots *= 2;
	cs.slots = calloc(cs.nslots, sizeof(*cs.slots));
	if (!t->class_unit || !t->class_bits || !stack || !cur || !cs.slots)
		goto out;
	/* Class 0: addresses in no prefix at all. */
	cstore_get(&cs, -1, cur);

	char name[RTE_LPM_NAMESIZE];
	unsigned seq = name_seq();
	struct rte_lpm_config c4 = { .max_rules = (uint32_t)n4 + 1,
				     .number_tbl8s = (uint32_t)tbl8_4 + 1 };
	snprintf(name, sizeof(name), "egw_lpm4_%u", seq);
	t->lpm4 = rte_lpm_create(name, SOCKET_ID_ANY, &c4);
	struct rte_lpm6_config c6 = { .max_rules = (uint32_t)n6 + 1,
				      .number_tbl8s = (uint32_t)tbl8_6 + 1 };
	snprintf(name, sizeof(name), "egw_lpm6_%u", seq);
	t->lpm6 = rte_lpm6_create(name, SOCKET_ID_ANY, &c6);
	if (!t->lpm4 || !t->lpm6) {
		egw_diag_error(diag, NULL, 0,
			       "cannot create the address tables (%zu IPv4, %zu IPv6 prefixes): %s",
			       n4, n6, rte_strerror(rte_errno));
		goto out;
	}
	t->lpm4_tbl24 = (const uint32_t *)(const void *)t->lpm4->tbl24;
	t->lpm4_tbl8 = (const uint32_t *)(const void *)t->lpm4->tbl8;

	int depth = 0;
	for (size_t i = 0; i < pv->n;) {
		const struct egw_prefix *p = &pv->v[i].p;
		while (depth > 0 && !egw_prefix_within(p, &stack_p[depth - 1]))
			depth--;
		int32_t unit = -1;
		if (depth) {
			memcpy(cur, stack + (size_t)(depth - 1) * t->nwords, t->nwords * 8);
			unit = (int32_t)stack_unit[depth - 1];
		} else {
			memset(cur, 0, t->nwords * 8);
		}
		/* Every entry for this same prefix. */
		size_t j = i;
		for (; j < pv->n && !egw_prefix_cmp(&pv->v[j].p, p); j++) {
			if (pv->v[j].unit >= 0)
				unit = pv->v[j].unit;
			else
				cur[pv->v[j].bit / 64] |= 1ull << (pv->v[j].bit % 64);
		}
		uint32_t cls = cstore_get(&cs, unit, cur);
		if (depth >= 129) {
			egw_diag_error(diag, NULL, 0, "address tables: prefixes nested too deep");
			ret = -EINVAL;
			goto out;
		}
		memcpy(stack + (size_t)depth * t->nwords, cur, t->nwords * 8);
		stack_unit[depth] = (uint32_t)unit;
		stack_cls[depth] = cls;
		stack_p[depth] = *p;
		depth++;
		int r = 0;
		if (p->len == 0) {
			/* The LPMs take depths from 1: /0 is the miss class. */
			if (p->family == AF_INET)
				t->default4 = cls;
			else
				t->default6 = cls;
		} else if (p->family == AF_INET) {
			uint32_t a;
			to_host4(p->addr, &a);
			r = rte_lpm_add(t->lpm4, a, p->len, cls);
		} else {
			r = rte_lpm6_add(t->lpm6, p->addr, p->len, cls);
		}
		if (r < 0) {
			char buf[EGW_PREFIX_STRLEN];
			egw_diag_error(diag, NULL, 0, "address tables: cannot add %s: %s",
				       egw_prefix_format(p, buf, sizeof(buf)), strerror(-r));
			ret = r;
			goto out;
		}
		i = j;
	}
	(void)stack_cls;
	if (t->n_classes >= (1u << 21)) {
		egw_diag_error(diag, NULL, 0, "address tables: %u address classes, more than 2^21",
			       t->n_classes);
		ret = -E2BIG;
		goto out;
	}
	ret = 0;
out:
	free(stack);
	free(cur);
	free(cs.slots);
	return ret;
}

static int build_terminals(struct dp_tables *t, struct egw_diag *diag)
{
	const struct egw_policy *pol = t->pol;
	size_t n = 0;

	for (size_t u = 0; u < pol->n_units; u++)
		n += pol->units[u].n_terminals;
	size_t nslots = 16;
	while (nslots < 2 * n && nslots <= ((size_t)1 << 31))
		nslots <<= 1;
	if (n > UINT32_MAX / 4 || nslots < 2 * n) {
		egw_diag_error(diag, NULL, 0, "too many terminals (%zu)", n);
		return -ENOSPC;
	}
	t->term_slots = calloc(nslots, sizeof(*t->term_slots));
	/* Cache-aligned: one line an entry. */
	t->term_ents = aligned_alloc(64, (n ? n : 1) * sizeof(*t->term_ents));
	if (t->term_ents)
		memset(t->term_ents, 0, (n ? n : 1) * sizeof(*t->term_ents));
	if (!t->term_slots || !t->term_ents) {
		egw_diag_error(diag, NULL, 0, "cannot create the terminal table (%zu terminals)", n);
		return -ENOMEM;
	}
	t->term_mask = (uint32_t)(nslots - 1);
	uint32_t used = 0;
	for (size_t u = 0; u < pol->n_units; u++) {
		for (size_t i = 0; i < pol->units[u].n_terminals; i++) {
			const struct egw_terminal *term = &pol->units[u].terminals[i];
			int fam = term->ip.family;
			uint8_t a[16] = { 0 };
			memcpy(a, term->ip.addr, fam == AF_INET ? 4 : 16);
			uint32_t h = dp_term_hash(fam, a);
			if (dp_tables_terminal(t, fam, a))
				continue;   /* the policy loader rejects duplicates */
			struct dp_term_ent *e = &t->term_ents[used++];
			e->k.family = (uint8_t)fam;
			memcpy(e->k.addr, a, 16);
			e->term = term;
			memcpy(e->mac, term->mac, 6);
			e->unit = (uint32_t)term->unit;
			uint32_t j = h & t->term_mask;
			while (t->term_slots[j].ent)
				j = (j + 1) & t->term_mask;
			t->term_slots[j] = (struct dp_term_slot){ .hash = h, .ent = used };
		}
	}
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void qsort_u32(uint32_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), u32_cmp);
}

static int build_profiles(struct dp_tables *t, const int32_t *dst_bits)
{
	const struct egw_policy *pol = t->pol;
	size_t r = 0;

	t->profiles = calloc(pol->n_profiles ? pol->n_profiles : 1, sizeof(*t->profiles));
	if (!t->profiles)
		return -ENOMEM;
	for (size_t p = 0; p < pol->n_profiles; p++) {
		const struct egw_profile *prof = &pol->profiles[p];
		struct dp_profile *dp = &t->profiles[p];
		dp->rules = calloc(prof->n_rules ? prof->n_rules : 1, sizeof(*dp->rules));
		if (!dp->rules)
			return -ENOMEM;
		dp->n_rules = prof->n_rules;
		for (size_t i = 0; i < prof->n_rules; i++, r++) {
			const struct egw_rule *er = &prof->rules[i];
			struct dp_rule *d = &dp->rules[i];
			d->rule = er;
			d->cat_bit = er->category >= 0 ? (int32_t)t->cat_base + er->category : -1;
			d->dst_bit = dst_bits[r];
			d->has_ports = er->n_ports > 0;
			/* inline ranges (lo <= hi, as the loader checks; a range
			 * that is not leaves them in the rule) */
			if (er->n_ports <= DP_RULE_RANGES) {
				d->n_ranges = (uint8_t)er->n_ports;
				for (size_t k = 0; k < er->n_ports; k++) {
					if (er->ports[k].lo > er->ports[k].hi)
						d->n_ranges = 0;
					d->port_lo[k] = er->ports[k].lo;
					d->port_span[k] = (uint16_t)(er->ports[k].hi - er->ports[k].lo);
				}
			}
			d->action = (uint8_t)dp_rule_action(er);
			d->reason = (uint8_t)dp_rule_reason(er);
			d->drop = d->action == DP_ACT_ALLOW || d->action == DP_ACT_PUNT ?
					  DP_DROP_NONE : DP_DROP_PROFILE;
			d->allow = er->action == EGW_ACT_ALLOW;
			d->category = (int16_t)er->category;
			switch (er->proto) {
			case EGW_PROTO_ICMP:
				d->proto[0] = 1;
				d->proto[1] = 58;
				break;
			case EGW_PROTO_TCP:
			case EGW_PROTO_UDP:
				d->proto[0] = d->proto[1] = (uint8_t)er->proto;
				break;
			default:
				break;
			}
		}
	}
	t->unit_profile = calloc(pol->n_units ? pol->n_units : 1, sizeof(*t->unit_profile));
	if (!t->unit_profile)
		return -ENOMEM;
	for (size_t u = 0; u < pol->n_units; u++)
		t->unit_profile[u] = &t->profiles[pol->units[u].profile];
	return 0;
}

/* Growable word vector. */
struct wvec {
	uint32_t *v;
	size_t n, cap;
};

static int wvec_push(struct wvec *w, uint32_t x)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		uint32_t *v = realloc(w->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = x;
	return 0;
}

/* De-duplicating store of DP_CAND_END-terminated lists in a word pool. */
struct lstore {
	struct wvec pool;
	uint32_t *slots;   /* offset + 1, 0 empty */
	size_t nslots, used;
};

static uint64_t list_hash(const uint32_t *l, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= l[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 31);
}

static int lstore_grow(struct lstore *ls)
{
	size_t nslots = ls->nslots ? ls->nslots * 2 : 1024;
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < ls->nslots; i++) {
		uint32_t s = ls->slots[i];
		if (!s)
			continue;
		const uint32_t *l = ls->pool.v + s - 1;
		size_t n = 0;
		while (l[n] != DP_CAND_END)
			n++;
		size_t j = list_hash(l, n) & (nslots - 1);
		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = s;
	}
	free(ls->slots);
	ls->slots = slots;
	ls->nslots = nslots;
	return 0;
}

/* Offset of the list l[0..n) (stored with its terminator), adding it when new. */
static int lstore_get(struct lstore *ls, const uint32_t *l, size_t n, uint32_t *off)
{
	if (!n) {
		*off = 0;
		return 0;
	}
	if (2 * (ls->used + 1) > ls->nslots && lstore_grow(ls))
		return -ENOMEM;
	size_t mask = ls->nslots - 1;
	size_t j = list_hash(l, n) & mask;
	for (; ls->slots[j]; j = (j + 1) & mask) {
		const uint32_t *o = ls->pool.v + ls->slots[j] - 1;
		if (!memcmp(o, l, n * sizeof(*l)) && o[n] == DP_CAND_END) {
			*off = ls->slots[j] - 1;
			return 0;
		}
	}
	if (ls->pool.n + n + 1 > DP_CAND_MAX_WORDS)
		return -E2BIG;
	*off = (uint32_t)ls->pool.n;
	for (size_t i = 0; i < n; i++)
		if (wvec_push(&ls->pool, l[i]))
			return -ENOMEM;
	if (wvec_push(&ls->pool, DP_CAND_END))
		return -ENOMEM;
	ls->slots[j] = *off + 1;
	ls->used++;
	return 0;
}

/*
 * The candidate lists of struct dp_profile. Per destination class, the
 * conditional rules that can hold are found from the class's own bits: a
 * rule with a dst list is reached through its dst bit, one with a category
 * (and no dst) through the category bit; only rules whose sole address
 * condition is geo (negation makes them hold where a bit is absent) are
 * tried on every class. Each found rule is then checked in full. Cost:
 * n_classes * (set bits + geo-only rules) plus sorting the lists.
 * Returns 0 (also when over the budget: cand stays NULL), or -ENOMEM.
 */
static int build_candidates(struct dp_tables *t)
{
	const struct egw_policy *pol = t->pol;
	size_t nprof = pol->n_profiles, nbits = (size_t)t->nwords * 64;
	size_t n_all = 0;
	uint32_t *first = NULL, *anchor_start = NULL, *anchors = NULL;
	struct wvec geo_only = { 0 }, scratch = { 0 }, list = { 0 };
	struct lstore ls = { 0 };
	int ret = -ENOMEM;

	for (size_t p = 0; p < nprof; p++) {
		struct dp_profile *dp = &t->profiles[p];
		size_t nf = 0;
		for (size_t i = 0; i < dp->n_rules; i++)
			nf += dp->rules[i].cat_bit < 0 && dp->rules[i].dst_bit < 0 &&
			      !dp->rules[i].rule->n_geo;
		dp->free_rules = malloc((nf + 1) * sizeof(*dp->free_rules));
		if (!dp->free_rules)
			return -ENOMEM;
		nf = 0;
		for (size_t i = 0; i < dp->n_rules; i++)
			if (dp->rules[i].cat_bit < 0 && dp->rules[i].dst_bit < 0 &&
			    !dp->rules[i].rule->n_geo)
				dp->free_rules[nf++] = (uint32_t)i;
		dp->free_rules[nf] = DP_CAND_END;
		n_all += dp->n_rules;
	}
	if (n_all >= DP_CAND_END || (size_t)t->n_classes * nprof > DP_CAND_MAX_WORDS)
		return 0;   /* over budget: walk every rule */

	/* Global rule id g: first[p] + i, ascending in (profile, index). */
	first = calloc(nprof + 1, sizeof(*first));
	anchor_start = calloc(nbits + 1, sizeof(*anchor_start));
	anchors = calloc(n_all + 1, sizeof(*anchors));
	if (!first || !anchor_start || !anchors)
		goto out;
	for (size_t p = 0; p < nprof; p++) {
		first[p + 1] = first[p] + (uint32_t)t->profiles[p].n_rules;
		for (size_t i = 0; i < t->profiles[p].n_rules; i++) {
			const struct dp_rule *d = &t->profiles[p].rules[i];
			int32_t b = d->dst_bit >= 0 ? d->dst_bit : d->cat_bit;
			if (b >= 0)
				anchor_start[b + 1]++;
			else if (d->rule->n_geo && wvec_push(&geo_only, first[p] + (uint32_t)i))
				goto out;
		}
	}
	for (size_t b = 0; b < nbits; b++)
		anchor_start[b + 1] += anchor_start[b];
	{
		uint32_t *fill = calloc(nbits + 1, sizeof(*fill));
		if (!fill)
			goto out;
		memcpy(fill, anchor_start, nbits * sizeof(*fill));
		for (size_t p = 0; p < nprof; p++)
			for (size_t i = 0; i < t->profiles[p].n_rules; i++) {
				const struct dp_rule *d = &t->profiles[p].rules[i];
				int32_t b = d->dst_bit >= 0 ? d->dst_bit : d->cat_bit;
				if (b >= 0)
					anchors[fill[b]++] = first[p] + (uint32_t)i;
			}
		free(fill);
	}

	t->cand_index = calloc((size_t)t->n_classes * nprof + 1, sizeof(*t->cand_index));
	if (!t->cand_index || wvec_push(&ls.pool, DP_CAND_END))
		goto out;
	for (uint32_t c = 0; c < t->n_classes; c++) {
		const uint64_t *w = &t->class_bits[(size_t)c * t->nwords];
		scratch.n = 0;
		for (uint32_t k = 0; k < t->nwords; k++)
			for (uint64_t m = w[k]; m; m &= m - 1) {
				size_t b = (size_t)k * 64 + (size_t)__builtin_ctzll(m);
				for (uint32_t a = anchor_start[b]; a < anchor_start[b + 1]; a++)
					if (wvec_push(&scratch, anchors[a]))
						goto out;
			}
		for (size_t k = 0; k < geo_only.n; k++)
			if (wvec_push(&scratch, geo_only.v[k]))
				goto out;
		/* Anchors are unique per rule, so no duplicates: sort, split by profile. */
		qsort_u32(scratch.v, scratch.n);
		size_t k = 0;
		for (size_t p = 0; p < nprof && k < scratch.n; p++) {
			const struct dp_profile *dp = &t->profiles[p];
			list.n = 0;
			for (; k < scratch.n && scratch.v[k] < first[p + 1]; k++) {
				uint32_t i = scratch.v[k] - first[p];
				if (dp_rule_addr_holds(t, &dp->rules[i], c) && wvec_push(&list, i))
					goto out;
			}
			int r = lstore_get(&ls, list.v, list.n, &t->cand_index[(size_t)p * t->n_classes + c]);
			if (r == -E2BIG) {
				free(t->cand_index);
				t->cand_index = NULL;
				ret = 0;   /* over budget: walk every rule */
				goto out;
			}
			if (r)
				goto out;
		}
	}
	t->cand_pool = ls.pool.v;
	t->cand_words = ls.pool.n;
	ls.pool.v = NULL;
	for (size_t p = 0; p < nprof; p++)
		t->profiles[p].cand = &t->cand_index[p * t->n_classes];
	ret = 0;
out:
	free(first);
	free(anchor_start);
	free(anchors);
	free(geo_only.v);
	free(scratch.v);
	free(list.v);
	free(ls.pool.v);
	free(ls.slots);
	return ret;
}

/* class_flags: what the DNS step asks about a destination class, once per class. */
static int build_class_flags(struct dp_tables *t)
{
	const struct egw_policy *pol = t->pol;
	const struct egw_dns *d = &pol->dns;

	t->class_flags = calloc(t->n_classes ? t->n_classes : 1, 1);
	if (!t->class_flags)
		return -ENOMEM;
	for (uint32_t c = 0; c < t->n_classes; c++) {
		bool resolver = dp_class_bit(t, c, t->resolver_bit);
		for (size_t i = 0; !resolver && i < d->n_resolver_regions; i++)
			resolver = dp_class_geo(t, c, &d->resolver_regions[i]);
		bool doh = d->block_doh && pol->doh_category >= 0 &&
			   dp_class_bit(t, c, t->cat_base + (uint32_t)pol->doh_category);
		t->class_flags[c] = (uint8_t)((resolver ? DP_CF_RESOLVER : 0) | (doh ? DP_CF_DOH : 0));
	}
	return 0;
}

static int build_names(struct dp_tables *t, struct egw_diag *diag)
{
	const struct egw_policy *pol = t->pol;
	const char *why = NULL;

	t->names = egw_domain_set_new();
	if (!t->names)
		return -ENOMEM;
	for (size_t c = 0; c < pol->n_categories; c++) {
		const struct egw_category *cat = &pol->categories[c];
		for (size_t i = 0; i < cat->n_domains; i++) {
			int r = egw_domain_set_add(t->names, cat->domains[i], (uint32_t)c, &why);
			if (r) {
				const struct egw_loc *l = cat->domain_locs ? &cat->domain_locs[i] : &cat->loc;
				egw_diag_error(diag, l->file, l->line, "domain %s: %s", cat->domains[i],
					       r == -ENOMEM ? "out of memory" : why ? why : "rejected");
				return r;
			}
		}
	}
	if (pol->dns.block_doh) {
		int r = egw_domain_set_add(t->names, DP_CANARY_DOMAIN, DP_NAME_CANARY, &why);
		if (r)
			return r;
	}
	return egw_domain_set_freeze(t->names);
}

struct dp_tables *dp_tables_build(const struct egw_policy *pol, struct egw_diag *diag)
{
	struct dp_tables *t = calloc(1, sizeof(*t));
	struct pvec pv = { 0 };
	int32_t *dst_bits = NULL;
	int err = -ENOMEM;

	if (!t)
		goto fail;
	t->pol = pol;
	size_t n_rules = 0;
	for (size_t p = 0; p < pol->n_profiles; p++)
		n_rules += pol->profiles[p].n_rules;
	dst_bits = calloc(n_rules + 1, sizeof(*dst_bits));
	if (!dst_bits)
		goto fail;

	uint32_t bit = (uint32_t)pol->n_geo_classes;
	t->cat_base = bit;
	bit += (uint32_t)pol->n_categories;
	for (size_t g = 0; g < pol->n_geo_classes; g++) {
		if (pvec_add_list(&pv, &pol->geo_classes[g].v4, -1, (int32_t)g) ||
		    pvec_add_list(&pv, &pol->geo_classes[g].v6, -1, (int32_t)g))
			goto fail;
	}
	for (size_t c = 0; c < pol->n_categories; c++)
		if (pvec_add_list(&pv, &pol->categories[c].addresses, -1,
				  (int32_t)(t->cat_base + c)))
			goto fail;
	size_t r = 0;
	for (size_t p = 0; p < pol->n_profiles; p++) {
		for (size_t i = 0; i < pol->profiles[p].n_rules; i++, r++) {
			const struct egw_rule *er = &pol->profiles[p].rules[i];
			dst_bits[r] = -1;
			if (!er->dst.n)
				continue;
			dst_bits[r] = (int32_t)bit++;
			if (pvec_add_list(&pv, &er->dst, -1, dst_bits[r]))
				goto fail;
		}
	}
	t->resolver_bit = bit++;
	if (pvec_add_list(&pv, &pol->dns.resolvers, -1, (int32_t)t->resolver_bit))
		goto fail;
	for (size_t u = 0; u < pol->n_units; u++)
		if (pvec_add_list(&pv, &pol->units[u].prefixes, (int32_t)u, -1))
			goto fail;
	t->nwords = (bit + 63) / 64;

	err = build_classes(t, &pv, diag);
	if (err)
		goto fail;
	err = build_class_flags(t);
	if (err)
		goto fail;
	err = build_terminals(t, diag);
	if (err)
		goto fail;
	err = build_profiles(t, dst_bits);
	if (err)
		goto fail;
	err = build_candidates(t);
	if (err)
		goto fail;
	err = build_names(t, diag);
	if (err)
		goto fail;
	free(pv.v);
	free(dst_bits);
	return t;
fail:
	if (err == -ENOMEM)
		egw_diag_error(diag, NULL, 0, "out of memory building the fast tables");
	free(pv.v);
	free(dst_bits);
	dp_tables_free(t);
	errno = -err;
	return NULL;
}

void dp_tables_free(struct dp_tables *t)
{
	if (!t)
		return;
	rte_lpm_free(t->lpm4);
	rte_lpm6_free(t->lpm6);
	egw_domain_set_free(t->names);
	free(t->term_slots);
	free(t->term_ents);
	free(t->class_unit);
	free(t->class_bits);
	free(t->class_flags);
	if (t->profiles)
		for (size_t p = 0; p < t->pol->n_profiles; p++) {
			free(t->profiles[p].rules);
			free(t->profiles[p].free_rules);
		}
	free(t->cand_index);
	free(t->cand_pool);
	free(t->unit_profile);
	free(t->profiles);
	free(t);
}

uint32_t dp_tables_class(const struct dp_tables *t, int family, const uint8_t *addr)
{
	uint32_t nh;

	if (family == AF_INET) {
		uint32_t a;
		to_host4(addr, &a);
		if (rte_lpm_lookup(t->lpm4, a, &nh) == 0)
			return nh;
		return t->default4;
	}
	if (rte_lpm6_lookup(t->lpm6, addr, &nh) == 0)
		return nh;
	return t->default6;
}
