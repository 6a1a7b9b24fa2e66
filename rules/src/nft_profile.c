/* SPDX-License-Identifier: MIT */
/*
 * Profiles as nft chains: chain profile_<j> holds the profile's rules in
 * order, first match wins, and ends with the profile's default deny.
 *
 * One policy rule becomes one or more nft rules with the same verdict, next
 * to each other, so that first-match order is kept:
 *  - per address family when the rule matches destinations (category
 *    addresses, dst, country), since a set holds one family;
 *  - per geo class of its country list (the list matches when ANY holds);
 *  - an extra "names" rule when its category has domains: the kernel cannot
 *    see names, so new TCP 80/443 flows that the rule could match are marked
 *    "inspection pending" (ct mark) and their first payload packets (TLS
 *    ClientHello, HTTP request) go to the control plane, which evaluates the
 *    profile again with the name known. For a deny rule the mark is set and
 *    evaluation goes on (if the name is not in the category, the later rules
 *    decide as the kernel did); for allow/punt the flow is accepted pending.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <egw/addr.h>

#include "nft_priv.h"

/* Destination port clause value: "22" or "{ 22, 3389, 8000-8080 }". Ports
 * are sorted and merged (anonymous sets reject overlapping ranges). */
static void put_ports(struct nft_out *o, const struct egw_port_range *v, size_t n)
{
	struct egw_port_range *a = malloc(n * sizeof(*a));
	if (!a) {
		o->oom = true;
		return;
	}
	memcpy(a, v, n * sizeof(*a));
	/* insertion sort: rules carry a handful of ports */
	for (size_t i = 1; i < n; i++) {
		struct egw_port_range t = a[i];
		size_t j = i;
		while (j > 0 && a[j - 1].lo > t.lo) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = t;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && (uint32_t)a[i].lo <= (uint32_t)a[k - 1].hi + 1) {
			if (a[i].hi > a[k - 1].hi)
				a[k - 1].hi = a[i].hi;
			continue;
		}
		a[k++] = a[i];
	}
	if (k > 1)
		nft_puts(o, "{ ");
	for (size_t i = 0; i < k; i++) {
		if (i)
			nft_puts(o, ", ");
		if (a[i].lo == a[i].hi)
			nft_printf(o, "%u", a[i].lo);
		else
			nft_printf(o, "%u-%u", a[i].lo, a[i].hi);
	}
	if (k > 1)
		nft_puts(o, " }");
	free(a);
}

/* Protocol and port matches of a rule for one family (0: both). */
static void put_l4(struct nft_out *o, const struct egw_rule *r, int family)
{
	switch (r->proto) {
	case EGW_PROTO_ICMP:
		nft_puts(o, family == AF_INET ? "meta l4proto icmp " :
			 family == AF_INET6 ? "meta l4proto ipv6-icmp " :
			 "meta l4proto { icmp, ipv6-icmp } ");
		return;
	case EGW_PROTO_TCP:
	case EGW_PROTO_UDP: {
		const char *k = r->proto == EGW_PROTO_TCP ? "tcp" : "udp";
		if (r->n_ports) {
			nft_printf(o, "%s dport ", k);
			put_ports(o, r->ports, r->n_ports);
			nft_puts(o, " ");
		} else {
			nft_printf(o, "meta l4proto %s ", k);
		}
		return;
	}
	case EGW_PROTO_ANY:
	default:
		if (r->n_ports) {
			nft_puts(o, "meta l4proto { tcp, udp } th dport ");
			put_ports(o, r->ports, r->n_ports);
			nft_puts(o, " ");
		}
		return;
	}
}

/* Web ports (80, 443) the rule can match: bit 0 = 80, bit 1 = 443. */
static unsigned web_ports(const struct egw_rule *r)
{
	if (r->proto == EGW_PROTO_UDP || r->proto == EGW_PROTO_ICMP)
		return 0;
	if (r->n_ports == 0)
		return 3;
	unsigned m = 0;
	for (size_t i = 0; i < r->n_ports; i++) {
		if (r->ports[i].lo <= 80 && 80 <= r->ports[i].hi)
			m |= 1;
		if (r->ports[i].lo <= 443 && 443 <= r->ports[i].hi)
			m |= 2;
	}
	return m;
}

static bool has_family(const struct egw_prefix_list *l, int family)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].family == family)
			return true;
	return false;
}

struct text {
	char *buf;
	size_t cap, len;
};

static void __attribute__((format(printf, 2, 3)))
add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	if (t->len + 1 >= t->cap)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	t->len += (size_t)n < t->cap - t->len ? (size_t)n : t->cap - t->len - 1;
}

/* Short text of what a rule matches, for its comment. */
static void describe(const struct nft_ctx *c, const struct egw_rule *r,
		     char *buf, size_t cap)
{
	struct text t = { buf, cap, 0 };
	buf[0] = '\0';
	add(&t, "%s", r->action == EGW_ACT_ALLOW ? "allow" :
	    r->action == EGW_ACT_PUNT ? "punt" : "deny");
	if (r->category >= 0)
		add(&t, " category %s", c->p->categories[r->category].name);
	if (r->n_geo) {
		add(&t, " country ");
		for (size_t i = 0; i < r->n_geo; i++)
			add(&t, "%s%s%s", i ? "," : "", r->geo[i].negate ? "!" : "",
			    c->p->geo_classes[r->geo[i].cls].code);
	}
	if (r->dst.n)
		add(&t, " dst(%zu)", r->dst.n);
	if (r->proto != EGW_PROTO_ANY)
		add(&t, " proto %s", r->proto == EGW_PROTO_TCP ? "tcp" :
		    r->proto == EGW_PROTO_UDP ? "udp" : "icmp");
	if (r->n_ports) {
		add(&t, " port ");
		for (size_t i = 0; i < r->n_ports; i++) {
			if (r->ports[i].lo == r->ports[i].hi)
				add(&t, "%s%u", i ? "," : "", r->ports[i].lo);
			else
				add(&t, "%s%u-%u", i ? "," : "", r->ports[i].lo,
				    r->ports[i].hi);
		}
	}
}

enum part { PART_ADDR, PART_NAMES };

/*
 * Emits the nft rules of one part of policy rule r for one family (0: the
 * rule has no address match and needs no family). One nft rule per geo
 * reference of the rule (or one when it has none).
 */
static void emit_family(struct nft_ctx *c, const struct egw_rule *r, enum part part,
			int family, const char *verdict, const char *what)
{
	const struct egw_policy *p = c->p;
	struct nft_out *o = &c->out;
	const char *ipk = nft_ipk(family), *sfx = nft_fam_suffix(family);
	size_t n_alt = r->n_geo ? r->n_geo : 1;
	char loc[NFT_LOC_MAX];

	if (family && r->dst.n && !has_family(&r->dst, family))
		return;
	if (family && part == PART_ADDR && r->category >= 0 &&
	    !has_family(&p->categories[r->category].addresses, family))
		return;

	for (size_t g = 0; g < n_alt; g++) {
		const struct egw_geo_ref *ref = r->n_geo ? &r->geo[g] : NULL;
		bool addr_written = false;
		if (ref) {
			const struct egw_geo_class *gc = &p->geo_classes[ref->cls];
			const struct egw_prefix_list *gl =
				family == AF_INET6 ? &gc->v6 : &gc->v4;
			if (!ref->negate && gl->n == 0)
				continue; /* no address of this family is in the class */
		}
		nft_puts(o, "\t\t");
		if (family && part == PART_ADDR && r->category >= 0) {
			nft_printf(o, "%s daddr @cat_%d_%s ", ipk, r->category, sfx);
			addr_written = true;
		}
		if (family && r->dst.n) {
			nft_printf(o, "%s daddr ", ipk);
			nft_addr_list(o, r->dst.v, r->dst.n, family);
			nft_puts(o, " ");
			addr_written = true;
		}
		if (ref) {
			const struct egw_geo_class *gc = &p->geo_classes[ref->cls];
			const struct egw_prefix_list *gl =
				family == AF_INET6 ? &gc->v6 : &gc->v4;
			/* "!CN" with no CN address of this family: every address */
			if (!(ref->negate && gl->n == 0)) {
				nft_printf(o, "%s daddr %s@geo_%u_%s ", ipk,
					   ref->negate ? "!= " : "", (unsigned)ref->cls, sfx);
				addr_written = true;
			}
		}
		if (family && !addr_written)
			nft_printf(o, "meta nfproto ipv%c ", family == AF_INET6 ? '6' : '4');
		if (part == PART_NAMES) {
			unsigned wp = web_ports(r);
			nft_puts(o, wp == 3 ? "tcp dport { 80, 443 } " :
				 wp == 1 ? "tcp dport 80 " : "tcp dport 443 ");
		} else {
			put_l4(o, r, family);
		}
		nft_printf(o, "counter %s ", verdict);
		nft_comment(o, "%s %s", nft_loc(c, &r->loc, loc, sizeof(loc)), what);
		nft_puts(o, "\n");
	}
}

static void emit_part(struct nft_ctx *c, const struct egw_rule *r, enum part part,
		      const char *verdict, const char *what)
{
	bool by_family = r->n_geo || r->dst.n || (part == PART_ADDR && r->category >= 0);
	if (!by_family) {
		emit_family(c, r, part, 0, verdict, what);
		return;
	}
	emit_family(c, r, part, AF_INET, verdict, what);
	emit_family(c, r, part, AF_INET6, verdict, what);
}

static void emit_rule(struct nft_ctx *c, const struct egw_rule *r)
{
	const struct egw_policy *p = c->p;
	char what[256], verdict[160];
	const struct egw_category *cat = r->category >= 0 ? &p->categories[r->category] : NULL;

	describe(c, r, what, sizeof(what));
	switch (r->action) {
	case EGW_ACT_ALLOW:
		snprintf(verdict, sizeof(verdict), "%s", c->allow);
		break;
	case EGW_ACT_PUNT:
		snprintf(verdict, sizeof(verdict), "ct mark set 0x%08x %s",
			 c->m_pending, c->punt);
		break;
	case EGW_ACT_DENY:
	default:
		snprintf(verdict, sizeof(verdict), "drop");
		break;
	}
	if (!cat || cat->addresses.n)
		emit_part(c, r, PART_ADDR, verdict, what);

	if (cat && cat->n_domains && web_ports(r)) {
		char w2[300];
		snprintf(w2, sizeof(w2), "%s: name checked by the control plane", what);
		switch (r->action) {
		case EGW_ACT_DENY:
			snprintf(verdict, sizeof(verdict), "ct mark set 0x%08x", c->m_pending);
			break;
		case EGW_ACT_ALLOW:
			snprintf(verdict, sizeof(verdict), "ct mark set 0x%08x accept",
				 c->m_pending);
			break;
		case EGW_ACT_PUNT:
		default:
			snprintf(verdict, sizeof(verdict), "ct mark set 0x%08x %s",
				 c->m_pending, c->punt);
			break;
		}
		emit_part(c, r, PART_NAMES, verdict, w2);
	}
}

void nft_profiles(struct nft_ctx *c)
{
	const struct egw_policy *p = c->p;
	struct nft_out *o = &c->out;
	char loc[NFT_LOC_MAX];
	for (size_t j = 0; j < p->n_profiles; j++) {
		const struct egw_profile *pr = &p->profiles[j];
		nft_printf(o, "\n\tchain profile_%zu {\n\t\t", j);
		nft_comment(o, "profile %s (%s)", pr->name,
			    nft_loc(c, &pr->loc, loc, sizeof(loc)));
		nft_puts(o, "\n");
		for (size_t i = 0; i < pr->n_rules; i++)
			emit_rule(c, &pr->rules[i]);
		nft_puts(o, "\t\tcounter drop ");
		nft_comment(o, "%s profile %s: no rule matched, default deny",
			    nft_loc(c, &pr->loc, loc, sizeof(loc)), pr->name);
		nft_puts(o, "\n\t}\n");
	}
}
