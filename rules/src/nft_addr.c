/* SPDX-License-Identifier: MIT */
/*
 * Address data of the nft back end: prefix lists as set elements, and the
 * dispatch map that sends a source address to its unit's profile chain.
 *
 * Unit prefixes may nest (a /24 of one unit inside another unit's /16); the
 * longest prefix decides. nft interval maps reject overlapping elements, so
 * the nested prefixes are cut into disjoint ranges, each mapped to the unit
 * whose prefix is the longest one covering it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <egw/addr.h>

#include "nft_priv.h"

const char *nft_ipk(int family)
{
	return family == AF_INET6 ? "ip6" : "ip";
}

const char *nft_fam_suffix(int family)
{
	return family == AF_INET6 ? "v6" : "v4";
}

size_t nft_outermost(const struct egw_prefix *v, size_t n, int family,
		     struct egw_prefix **out)
{
	*out = NULL;
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += v[i].family == family;
	if (m == 0)
		return 0;
	struct egw_prefix *a = malloc(m * sizeof(*a));
	if (!a) {
		errno = ENOMEM;
		return (size_t)-1;
	}
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].family == family)
			a[m++] = v[i];
	qsort(a, m, sizeof(*a), egw_prefix_cmp);
	/* Sorted by address then length: a prefix's nested prefixes follow it
	 * directly, and prefixes either nest or are disjoint. */
	size_t k = 0;
	for (size_t i = 0; i < m; i++) {
		if (k > 0 && egw_prefix_within(&a[i], &a[k - 1]))
			continue;
		a[k++] = a[i];
	}
	*out = a;
	return k;
}

void nft_addr_list(struct nft_out *o, const struct egw_prefix *v, size_t n,
		   int family)
{
	struct egw_prefix *a;
	size_t k = nft_outermost(v, n, family, &a);
	char buf[EGW_PREFIX_STRLEN];
	if (k == (size_t)-1) {
		o->oom = true;
		return;
	}
	if (k == 1) {
		nft_puts(o, egw_prefix_format(&a[0], buf, sizeof(buf)));
	} else {
		nft_puts(o, "{ ");
		for (size_t i = 0; i < k; i++)
			nft_printf(o, "%s%s", i ? ", " : "",
				   egw_prefix_format(&a[i], buf, sizeof(buf)));
		nft_puts(o, " }");
	}
	free(a);
}

/* Elements per line in set definitions: short enough to read and diff. */
#define PER_LINE 4

void nft_addr_set(struct nft_ctx *c, const char *name, int family, bool interval,
		  const struct egw_prefix *v, size_t n, const char *comment)
{
	struct nft_out *o = &c->out;
	struct egw_prefix *a;
	size_t k = nft_outermost(v, n, family, &a);
	char buf[EGW_PREFIX_STRLEN];
	if (k == (size_t)-1) {
		o->oom = true;
		return;
	}
	nft_printf(o, "\tset %s {\n\t\ttype %s\n", name,
		   family == AF_INET6 ? "ipv6_addr" : "ipv4_addr");
	if (interval)
		nft_puts(o, "\t\tflags interval\n");
	nft_puts(o, "\t\t");
	nft_comment(o, "%s", comment);
	nft_puts(o, "\n");
	for (size_t i = 0; i < k; i++) {
		nft_printf(o, "%s%s", i == 0 ? "\t\telements = { " :
			   i % PER_LINE == 0 ? ",\n\t\t\t" : ", ",
			   egw_prefix_format(&a[i], buf, sizeof(buf)));
	}
	if (k)
		nft_puts(o, " }\n");
	nft_puts(o, "\t}\n");
	free(a);
}

/* ---- the dispatch map ---- */

typedef unsigned __int128 u128;

static u128 to_u128(const struct egw_prefix *p)
{
	u128 x = 0;
	unsigned bytes = p->family == AF_INET ? 4 : 16;
	for (unsigned i = 0; i < bytes; i++)
		x = (x << 8) | p->addr[i];
	return x;
}

static void from_u128(u128 x, int family, struct egw_prefix *p)
{
	unsigned bytes = family == AF_INET ? 4 : 16;
	memset(p, 0, sizeof(*p));
	p->family = (uint8_t)family;
	p->len = (uint8_t)(bytes * 8);
	for (unsigned i = bytes; i-- > 0;) {
		p->addr[i] = (uint8_t)(x & 0xff);
		x >>= 8;
	}
}

static u128 last_of(const struct egw_prefix *p)
{
	unsigned bits = egw_prefix_maxlen(p);
	u128 host = p->len >= bits ? 0 :
		(p->len == 0 && bits == 128) ? ~(u128)0 :
		(((u128)1 << (bits - p->len)) - 1);
	return to_u128(p) | host;
}

struct owned {
	struct egw_prefix pfx;
	u128 first, last;
	uint32_t unit;
	size_t order;   /* input order, to keep the sort stable */
};

static int owned_cmp(const void *a, const void *b)
{
	const struct owned *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	if (x->pfx.len != y->pfx.len)
		return x->pfx.len < y->pfx.len ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Writes the range [lo, hi] as a prefix when it is one, else "lo-hi". */
static void put_range(struct nft_out *o, u128 lo, u128 hi, int family)
{
	unsigned bits = family == AF_INET ? 32 : 128;
	char a[EGW_PREFIX_STRLEN], b[EGW_PREFIX_STRLEN];
	struct egw_prefix p;
	for (unsigned len = 0; len <= bits; len++) {
		u128 host = len == bits ? 0 :
			(len == 0 && bits == 128) ? ~(u128)0 :
			(((u128)1 << (bits - len)) - 1);
		if ((lo & host) == 0 && (lo | host) == hi) {
			from_u128(lo, family, &p);
			p.len = (uint8_t)len;
			nft_puts(o, egw_prefix_format(&p, a, sizeof(a)));
			return;
		}
	}
	from_u128(lo, family, &p);
	egw_addr_format(&p, a, sizeof(a));
	from_u128(hi, family, &p);
	egw_addr_format(&p, b, sizeof(b));
	nft_printf(o, "%s-%s", a, b);
}

struct emitter {
	struct nft_ctx *c;
	int family;
	size_t count;
};

static void put_elem(struct emitter *e, u128 lo, u128 hi, uint32_t unit)
{
	struct nft_out *o = &e->c->out;
	nft_puts(o, e->count == 0 ? "\t\telements = { " :
		 e->count % PER_LINE == 0 ? ",\n\t\t\t" : ", ");
	put_range(o, lo, hi, e->family);
	nft_printf(o, " : goto profile_%u", (unsigned)e->c->p->units[unit].profile);
	e->count++;
}

void nft_dispatch_map(struct nft_ctx *c, int family)
{
	const struct egw_policy *p = c->p;
	struct nft_out *o = &c->out;
	size_t n = 0;
	for (size_t u = 0; u < p->n_units; u++)
		for (size_t i = 0; i < p->units[u].prefixes.n; i++)
			n += p->units[u].prefixes.v[i].family == family;
	struct owned *a = n ? calloc(n, sizeof(*a)) : NULL;
	struct owned **stack = n ? calloc(n, sizeof(*stack)) : NULL;
	if (n && (!a || !stack)) {
		o->oom = true;
		goto out;
	}
	size_t k = 0;
	for (size_t u = 0; u < p->n_units; u++) {
		const struct egw_prefix_list *l = &p->units[u].prefixes;
		for (size_t i = 0; i < l->n; i++) {
			if (l->v[i].family != family)
				continue;
			a[k].pfx = l->v[i];
			a[k].first = to_u128(&l->v[i]);
			a[k].last = last_of(&l->v[i]);
			a[k].unit = (uint32_t)u;
			a[k].order = k;
			k++;
		}
	}
	if (n)
		qsort(a, n, sizeof(*a), owned_cmp);

	nft_printf(o, "\tmap dispatch_%s {\n\t\ttype %s : verdict\n\t\tflags interval\n\t\t",
		   nft_fam_suffix(family), family == AF_INET6 ? "ipv6_addr" : "ipv4_addr");
	nft_comment(o, "%s source -> profile chain of its unit (longest unit prefix wins)",
		    family == AF_INET6 ? "IPv6" : "IPv4");
	nft_puts(o, "\n");

	/*
	 * Sweep: the stack holds the prefixes covering the position pos, the
	 * innermost on top (prefixes nest or are disjoint). Every stretch of
	 * addresses goes to the top of the stack. done: pos passed the end of
	 * the address space (it cannot be represented).
	 */
	struct emitter e = { c, family, 0 };
	size_t sp = 0;
	u128 pos = 0;
	bool done = false;
	for (size_t i = 0; i <= n; i++) {
		/* close the prefixes that end before the next one starts */
		while (sp > 0 && (i == n || stack[sp - 1]->last < a[i].first)) {
			struct owned *top = stack[--sp];
			if (!done && pos <= top->last)
				put_elem(&e, pos, top->last, top->unit);
			if (!done && top->last >= pos) {
				if (top->last == ~(u128)0 ||
				    (family == AF_INET && top->last == 0xffffffffu))
					done = true;
				else
					pos = top->last + 1;
			}
		}
		if (i == n)
			break;
		if (sp > 0 && !done && pos < a[i].first)
			put_elem(&e, pos, a[i].first - 1, stack[sp - 1]->unit);
		if (sp > 0 && stack[sp - 1]->first == a[i].first &&
		    stack[sp - 1]->last == a[i].last) {
			/* the same prefix twice: the first unit keeps it */
			continue;
		}
		stack[sp++] = &a[i];
		pos = a[i].first;
		done = false;
	}
	if (e.count)
		nft_puts(o, " }\n");
	nft_puts(o, "\t}\n");
out:
	free(stack);
	free(a);
}
