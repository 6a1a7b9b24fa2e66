/* SPDX-License-Identifier: MIT */
/*
 * The nftables back end: struct egw_policy -> one nft ruleset (text) for
 * kernel mode. The design (chains, marks, how control-plane verdicts stick
 * to flows) is documented in docs/kernel-mode.md; keep the two in step.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <egw/addr.h>
#include <egw/nft.h>

#include "nft_priv.h"

void egw_nft_opts_default(struct egw_nft_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->table = "egw";
	o->queue_mode = EGW_NFT_QUEUE_NATIVE;
	o->queue_num = 0;
	o->queue_count = 1;
	o->punt_mark = EGW_NFT_PUNT_MARK_DEFAULT;
}

static const char *base_name(const char *path)
{
	if (!path || !*path)
		return "policy";
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

char *nft_loc(const struct nft_ctx *c, const struct egw_loc *l, char *buf, size_t cap)
{
	const char *f = l->file ? base_name(l->file) : c->file;
	if (l->line)
		snprintf(buf, cap, "%s:%u", f, l->line);
	else
		snprintf(buf, cap, "%s (default)", f);
	return buf;
}

/* ---- checks ---- */

static bool policy_ok(const struct egw_policy *p)
{
	for (size_t u = 0; u < p->n_units; u++)
		if (p->units[u].profile >= p->n_profiles)
			return false;
	if (p->doh_category >= 0 && (size_t)p->doh_category >= p->n_categories)
		return false;
	for (size_t i = 0; i < p->dns.n_resolver_regions; i++)
		if (p->dns.resolver_regions[i].cls >= p->n_geo_classes)
			return false;
	for (size_t j = 0; j < p->n_profiles; j++) {
		const struct egw_profile *pr = &p->profiles[j];
		for (size_t i = 0; i < pr->n_rules; i++) {
			const struct egw_rule *r = &pr->rules[i];
			if (r->category >= 0 && (size_t)r->category >= p->n_categories)
				return false;
			for (size_t g = 0; g < r->n_geo; g++)
				if (r->geo[g].cls >= p->n_geo_classes)
					return false;
		}
	}
	return true;
}

static bool opts_ok(const struct egw_nft_opts *o)
{
	unsigned count = o->queue_count ? o->queue_count : 1;
	if (o->table && !nft_identifier_ok(o->table))
		return false;
	if (o->inside_if && !nft_ifname_ok(o->inside_if))
		return false;
	if (o->outside_if && !nft_ifname_ok(o->outside_if))
		return false;
	if ((unsigned)o->queue_num + count - 1 > 65535)
		return false;
	if (o->punt_mark > UINT32_MAX - 3)
		return false;
	return o->queue_mode == EGW_NFT_QUEUE_NATIVE || o->queue_mode == EGW_NFT_QUEUE_MARK;
}

/* ---- sets ---- */

struct pair {
	uint8_t mac[6];
	struct egw_prefix ip;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int d = memcmp(x->mac, y->mac, 6);
	return d ? d : egw_prefix_cmp(&x->ip, &y->ip);
}

/* set terminals_v4/v6: the registered (MAC . IP) pairs */
static void terminal_set(struct nft_ctx *c, int family)
{
	const struct egw_policy *p = c->p;
	struct nft_out *o = &c->out;
	size_t n = 0;
	for (size_t u = 0; u < p->n_units; u++)
		for (size_t t = 0; t < p->units[u].n_terminals; t++)
			n += p->units[u].terminals[t].ip.family == family;
	struct pair *a = n ? malloc(n * sizeof(*a)) : NULL;
	if (n && !a) {
		o->oom = true;
		return;
	}
	size_t k = 0;
	for (size_t u = 0; u < p->n_units; u++) {
		for (size_t t = 0; t < p->units[u].n_terminals; t++) {
			const struct egw_terminal *te = &p->units[u].terminals[t];
			if (te->ip.family != family)
				continue;
			memcpy(a[k].mac, te->mac, 6);
			a[k].ip = te->ip;
			a[k].ip.len = (uint8_t)egw_prefix_maxlen(&te->ip);
			k++;
		}
	}
	if (n)
		qsort(a, n, sizeof(*a), pair_cmp);
	nft_printf(o, "\tset terminals_%s {\n\t\ttype ether_addr . %s\n\t\t",
		   nft_fam_suffix(family), family == AF_INET6 ? "ipv6_addr" : "ipv4_addr");
	nft_comment(o, "registered terminals (MAC . IP), %s", family == AF_INET6 ? "IPv6" : "IPv4");
	nft_puts(o, "\n");
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		char mac[18], ip[EGW_PREFIX_STRLEN];
		if (i > 0 && pair_cmp(&a[i], &a[i - 1]) == 0)
			continue;
		nft_printf(o, "%s%s . %s", w == 0 ? "\t\telements = { " :
			   w % 3 == 0 ? ",\n\t\t\t" : ", ",
			   egw_mac_format(a[i].mac, mac, sizeof(mac)),
			   egw_addr_format(&a[i].ip, ip, sizeof(ip)));
		w++;
	}
	if (w)
		nft_puts(o, " }\n");
	nft_puts(o, "\t}\n");
	free(a);
}

/* set registered_v4/v6: every registered terminal IP */
static void registered_set(struct nft_ctx *c, int family)
{
	const struct egw_policy *p = c->p;
	size_t n = 0;
	for (size_t u = 0; u < p->n_units; u++)
		n += p->units[u].n_terminals;
	struct egw_prefix *a = n ? malloc(n * sizeof(*a)) : NULL;
	if (n && !a) {
		c->out.oom = true;
		return;
	}
	size_t k = 0;
	for (size_t u = 0; u < p->n_units; u++)
		for (size_t t = 0; t < p->units[u].n_terminals; t++)
			a[k++] = p->units[u].terminals[t].ip;
	char name[32];
	snprintf(name, sizeof(name), "registered_%s", nft_fam_suffix(family));
	nft_addr_set(c, name, family, false, a, k,
		     "registered terminal IPs (any MAC): tells spoofing from unregistered");
	free(a);
}

/* set units_v4/v6: every unit prefix */
static void units_set(struct nft_ctx *c, int family)
{
	const struct egw_policy *p = c->p;
	size_t n = 0;
	for (size_t u = 0; u < p->n_units; u++)
		n += p->units[u].prefixes.n;
	struct egw_prefix *a = n ? malloc(n * sizeof(*a)) : NULL;
	if (n && !a) {
		c->out.oom = true;
		return;
	}
	size_t k = 0;
	for (size_t u = 0; u < p->n_units; u++)
		for (size_t i = 0; i < p->units[u].prefixes.n; i++)
			a[k++] = p->units[u].prefixes.v[i];
	char name[32];
	snprintf(name, sizeof(name), "units_%s", nft_fam_suffix(family));
	nft_addr_set(c, name, family, true, a, k, "every unit prefix");
	free(a);
}

static void sets(struct nft_ctx *c)
{
	const struct egw_policy *p = c->p;
	char name[48], cmt[256], loc[NFT_LOC_MAX];
	static const int fams[2] = { AF_INET, AF_INET6 };

	for (size_t u = 0; u < p->n_units; u++) {
		const struct egw_unit *un = &p->units[u];
		for (int f = 0; f < 2; f++) {
			snprintf(name, sizeof(name), "unit_%zu_%s", u, nft_fam_suffix(fams[f]));
			snprintf(cmt, sizeof(cmt), "unit %s (%s) -> profile_%u", un->name,
				 nft_loc(c, &un->loc, loc, sizeof(loc)), (unsigned)un->profile);
			nft_addr_set(c, name, fams[f], true, un->prefixes.v, un->prefixes.n, cmt);
		}
	}
	for (int f = 0; f < 2; f++)
		units_set(c, fams[f]);
	for (int f = 0; f < 2; f++)
		terminal_set(c, fams[f]);
	for (int f = 0; f < 2; f++)
		registered_set(c, fams[f]);
	for (int f = 0; f < 2; f++) {
		snprintf(name, sizeof(name), "resolvers_%s", nft_fam_suffix(fams[f]));
		snprintf(cmt, sizeof(cmt), "approved resolvers (dns.resolvers, %s)",
			 nft_loc(c, &p->dns.resolvers_loc, loc, sizeof(loc)));
		nft_addr_set(c, name, fams[f], true, p->dns.resolvers.v,
			     p->dns.resolvers.n, cmt);
	}
	for (size_t g = 0; g < p->n_geo_classes; g++) {
		const struct egw_geo_class *gc = &p->geo_classes[g];
		for (int f = 0; f < 2; f++) {
			const struct egw_prefix_list *l = fams[f] == AF_INET ? &gc->v4 : &gc->v6;
			snprintf(name, sizeof(name), "geo_%zu_%s", g, nft_fam_suffix(fams[f]));
			snprintf(cmt, sizeof(cmt), "geo class %s (%s)", gc->code,
				 nft_loc(c, &gc->loc, loc, sizeof(loc)));
			nft_addr_set(c, name, fams[f], true, l->v, l->n, cmt);
		}
	}
	for (size_t k = 0; k < p->n_categories; k++) {
		const struct egw_category *cat = &p->categories[k];
		for (int f = 0; f < 2; f++) {
			snprintf(name, sizeof(name), "cat_%zu_%s", k, nft_fam_suffix(fams[f]));
			snprintf(cmt, sizeof(cmt), "category %s addresses (%s)%s", cat->name,
				 nft_loc(c, &cat->loc, loc, sizeof(loc)),
				 (int)k == p->doh_category ? ": DoH servers" : "");
			nft_addr_set(c, name, fams[f], true, cat->addresses.v,
				     cat->addresses.n, cmt);
		}
	}
	for (int f = 0; f < 2; f++) {
		nft_printf(&c->out, "\tset flagged_%s {\n\t\ttype %s\n\t\tflags timeout\n\t\t",
			   nft_fam_suffix(fams[f]),
			   fams[f] == AF_INET6 ? "ipv6_addr" : "ipv4_addr");
		nft_comment(&c->out, "destinations flagged by egw-controld at run time: dropped");
		nft_puts(&c->out, "\n\t}\n");
	}
	for (int f = 0; f < 2; f++)
		nft_dispatch_map(c, fams[f]);
}

/* ---- chains ---- */

/* One rule: "\t\tMATCH counter STMT comment "LOC WHAT"\n". */
static void rule(struct nft_ctx *c, const char *match, const char *stmt,
		 const struct egw_loc *l, const char *what)
{
	char loc[NFT_LOC_MAX];
	nft_printf(&c->out, "\t\t%s%scounter %s", match, *match ? " " : "", stmt);
	nft_puts(&c->out, " ");
	if (l)
		nft_comment(&c->out, "%s %s", nft_loc(c, l, loc, sizeof(loc)), what);
	else
		nft_comment(&c->out, "%s", what);
	nft_puts(&c->out, "\n");
}

static void chain_comment(struct nft_ctx *c, const char *what)
{
	nft_puts(&c->out, "\t\t");
	nft_comment(&c->out, "%s", what);
	nft_puts(&c->out, "\n");
}

/* "return" rules for the approved resolvers (explicit and by region). */
static void approved_returns(struct nft_ctx *c)
{
	const struct egw_policy *p = c->p;
	const struct egw_dns *d = &p->dns;
	char m[96], what[256];
	rule(c, "ip daddr @resolvers_v4", "return", &d->resolvers_loc, "approved resolver");
	rule(c, "ip6 daddr @resolvers_v6", "return", &d->resolvers_loc, "approved resolver");
	for (size_t i = 0; i < d->n_resolver_regions; i++) {
		const struct egw_geo_ref *ref = &d->resolver_regions[i];
		const struct egw_geo_class *gc = &p->geo_classes[ref->cls];
		snprintf(what, sizeof(what), "resolver in region %s%s (dns.resolver_regions)",
			 ref->negate ? "!" : "", gc->code);
		for (int f = 0; f < 2; f++) {
			int fam = f ? AF_INET6 : AF_INET;
			size_t n = f ? gc->v6.n : gc->v4.n;
			if (n == 0 && !ref->negate)
				continue;
			if (n == 0)
				snprintf(m, sizeof(m), "meta nfproto ipv%c", f ? '6' : '4');
			else
				snprintf(m, sizeof(m), "%s daddr %s@geo_%u_%s", nft_ipk(fam),
					 ref->negate ? "!= " : "", (unsigned)ref->cls,
					 nft_fam_suffix(fam));
			rule(c, m, "return", &gc->loc, what);
		}
	}
}

/*
 * "The segment carries at least one payload byte": the inner header (what
 * follows the TCP header, options included) has a first byte to load; on a
 * segment without payload the load fails and the rule does not match.
 * Needs kernel 5.16 (NFT_PAYLOAD_INNER_HEADER).
 */
#define TCP_PAYLOAD "@ih,0,8 >= 0"

static void forward_chain(struct nft_ctx *c)
{
	const struct egw_policy *p = c->p;
	const struct egw_nft_opts *o = c->o;
	char m[160], s[160];

	nft_puts(&c->out, "\n\tchain forward {\n"
		 "\t\ttype filter hook forward priority -160; policy drop;\n");
	chain_comment(c, "the exit: runs before iptables mangle (-150), where the NFQUEUE rule of mark mode sits");
	snprintf(m, sizeof(m), "ct mark 0x%08x", c->m_block);
	rule(c, m, "drop", NULL, "flow blocked by the control plane");
	rule(c, "ct state invalid", "drop", NULL, "not part of a valid flow");
	rule(c, "ct state related", "accept", NULL, "policy.md 4: ICMP errors etc. of allowed flows");
	rule(c, "ct state established ct direction reply", "accept", NULL,
	     "policy.md 4: replies of allowed flows");
	/* after the replies (most packets): a flow to a flagged address dies
	 * with its original direction */
	rule(c, "ip daddr @flagged_v4", "drop", NULL, "destination flagged by the control plane");
	rule(c, "ip6 daddr @flagged_v6", "drop", NULL, "destination flagged by the control plane");
	snprintf(m, sizeof(m), "ct state established ct mark != 0x%08x", c->m_pending);
	rule(c, m, "accept", NULL, "later packets of allowed flows");
	if (c->inspect_dns) {
		/* TCP DNS: only segments carrying bytes (the query) need the
		 * control plane; the handshake's ACK and the client's FIN do
		 * not */
		rule(c, "ct state established tcp dport 53 " TCP_PAYLOAD, c->punt, &p->dns.loc,
		     "DNS query over TCP: answered by name by the control plane");
		rule(c, "ct state established tcp dport 53", "accept", &p->dns.loc,
		     "DNS over TCP without payload (handshake, ACK, FIN): no name to check");
	}
	rule(c, "ct state established", c->punt, NULL,
	     "flow under inspection: to the control plane until it decides");
	if (o->outside_if) {
		snprintf(m, sizeof(m), "iifname \"%s\"", o->outside_if);
		rule(c, m, "drop", NULL, "policy.md 4: nothing from outside opens a flow");
	}
	if (o->inside_if) {
		snprintf(m, sizeof(m), "iifname != \"%s\"", o->inside_if);
		rule(c, m, "drop", NULL, "flows are opened from the inside interface only");
	}
	if (o->outside_if) {
		snprintf(m, sizeof(m), "oifname != \"%s\"", o->outside_if);
		rule(c, m, "drop", NULL, "the exit leads to the outside interface only");
	}
	rule(c, "", "jump identity", &p->terminals.binding_loc, "policy.md 1: identity");
	rule(c, "meta l4proto { tcp, udp } th dport { 53, 853 }", "jump dns", &p->dns.loc,
	     "policy.md 2: DNS and DoT resolver restriction");
	if (c->inspect_dns) {
		snprintf(s, sizeof(s), "ct mark set 0x%08x", c->m_pending);
		rule(c, "meta l4proto { tcp, udp } th dport 53", s, &p->dns.loc,
		     "DNS query: names checked by the control plane");
	}
	if (p->dns.block_doh && p->doh_category >= 0) {
		const struct egw_category *doh = &p->categories[p->doh_category];
		for (int f = 0; f < 2; f++) {
			int fam = f ? AF_INET6 : AF_INET;
			bool any = false;
			for (size_t i = 0; i < doh->addresses.n; i++)
				any |= doh->addresses.v[i].family == fam;
			if (!any)
				continue;
			snprintf(m, sizeof(m), "%s daddr @cat_%d_%s", nft_ipk(fam),
				 p->doh_category, nft_fam_suffix(fam));
			rule(c, m, "drop", &p->dns.block_doh_loc,
			     "DoH server (dns.block_doh, category doh)");
		}
		if (c->inspect_web_all) {
			snprintf(s, sizeof(s), "ct mark set 0x%08x", c->m_pending);
			rule(c, "tcp dport { 80, 443 }", s, &doh->loc,
			     "DoH names (dns.block_doh): checked by the control plane");
		}
	}
	rule(c, "", "ip saddr vmap @dispatch_v4", NULL, "policy.md 3: the unit's profile");
	rule(c, "", "ip6 saddr vmap @dispatch_v6", NULL, "policy.md 3: the unit's profile");
	if (p->terminals.unregistered == EGW_UNREG_ALLOW)
		rule(c, "", c->allow, &p->terminals.unregistered_loc,
		     "source outside every unit (terminals.unregistered allow)");
	else
		rule(c, "", "drop", &p->terminals.unregistered_loc,
		     "source outside every unit");
	nft_puts(&c->out, "\t}\n");
}

static void identity_chain(struct nft_ctx *c)
{
	const struct egw_policy *p = c->p;
	const struct egw_terminals_cfg *t = &p->terminals;
	char s[160];
	static const char *const spoof[2] = {
		"ip saddr @registered_v4 ether saddr . ip saddr != @terminals_v4",
		"ip6 saddr @registered_v6 ether saddr . ip6 saddr != @terminals_v6",
	};

	nft_puts(&c->out, "\n\tchain identity {\n");
	chain_comment(c, "policy.md 1: who sends (terminals.binding, terminals.unregistered)");
	for (int f = 0; f < 2; f++) {
		snprintf(s, sizeof(s), "%s limit rate 10/second burst 20 packets", spoof[f]);
		rule(c, s, "log prefix \"egw spoof: \" level warn", &t->binding_loc,
		     "spoofing: log (rate-limited)");
		rule(c, spoof[f], "drop", &t->binding_loc,
		     "spoofing: registered IP with another MAC, always dropped");
	}
	switch (t->binding) {
	case EGW_BINDING_STRICT:
		/* after the spoofing rules, a registered IP has its own MAC */
		rule(c, "ip saddr @registered_v4", "return", &t->binding_loc,
		     "registered terminal (terminals.binding strict)");
		rule(c, "ip6 saddr @registered_v6", "return", &t->binding_loc,
		     "registered terminal (terminals.binding strict)");
		break;
	case EGW_BINDING_PREFIX:
	case EGW_BINDING_OFF:
	default:
		snprintf(s, sizeof(s), "source in a unit prefix (terminals.binding %s)",
			 t->binding == EGW_BINDING_OFF ? "off" : "prefix");
		rule(c, "ip saddr @units_v4", "return", &t->binding_loc, s);
		rule(c, "ip6 saddr @units_v6", "return", &t->binding_loc, s);
		break;
	}
	switch (t->unregistered) {
	case EGW_UNREG_ALLOW:
		rule(c, "", "return", &t->unregistered_loc,
		     "unregistered source (terminals.unregistered allow)");
		break;
	case EGW_UNREG_PUNT:
		snprintf(s, sizeof(s), "ct mark set 0x%08x %s", c->m_pending, c->punt);
		rule(c, "", s, &t->unregistered_loc,
		     "unregistered source (terminals.unregistered punt)");
		break;
	case EGW_UNREG_DROP:
	default:
		rule(c, "limit rate 10/second burst 20 packets",
		     "log prefix \"egw unregistered: \" level warn", &t->unregistered_loc,
		     "unregistered source: log (rate-limited)");
		rule(c, "", "drop", &t->unregistered_loc,
		     "unregistered source (terminals.unregistered drop)");
		break;
	}
	nft_puts(&c->out, "\t}\n");
}

static void dns_chain(struct nft_ctx *c)
{
	const struct egw_dns *d = &c->p->dns;
	char m[160], s[160], ip[EGW_PREFIX_STRLEN];

	nft_puts(&c->out, "\n\tchain dns {\n");
	chain_comment(c, "policy.md 2: DNS (53) and DoT (853) to non-approved resolvers");
	approved_returns(c);
	if (d->violation == EGW_DNSV_REDIRECT) {
		if (d->has_redirect_v4) {
			snprintf(m, sizeof(m), "th dport 53 ct status dnat ip daddr %s",
				 egw_addr_format(&d->redirect_v4, ip, sizeof(ip)));
			rule(c, m, "return", &d->violation_loc, "query redirected (dns.redirect_to)");
		}
		if (d->has_redirect_v6) {
			snprintf(m, sizeof(m), "th dport 53 ct status dnat ip6 daddr %s",
				 egw_addr_format(&d->redirect_v6, ip, sizeof(ip)));
			rule(c, m, "return", &d->violation_loc, "query redirected (dns.redirect_to)");
		}
	}
	if (d->block_dot)
		rule(c, "th dport 853", "drop", &d->block_dot_loc,
		     "DoT to a non-approved resolver (dns.block_dot)");
	else
		rule(c, "th dport 853", "return", &d->block_dot_loc,
		     "DoT allowed to any resolver (dns.block_dot false)");
	switch (d->violation) {
	case EGW_DNSV_PUNT:
		snprintf(s, sizeof(s), "ct mark set 0x%08x %s", c->m_pending, c->punt);
		rule(c, "", s, &d->violation_loc,
		     "DNS to a non-approved resolver (dns.violation punt)");
		break;
	case EGW_DNSV_REDIRECT:
		rule(c, "", "drop", &d->violation_loc,
		     "DNS to a non-approved resolver, no redirect_to of this family");
		break;
	case EGW_DNSV_DROP:
	default:
		rule(c, "", "drop", &d->violation_loc,
		     "DNS to a non-approved resolver (dns.violation drop)");
		break;
	}
	nft_puts(&c->out, "\t}\n");
}

/* DNS redirect: DNAT in prerouting; conntrack undoes it on the answer. */
static void redirect_chains(struct nft_ctx *c)
{
	const struct egw_dns *d = &c->p->dns;
	char m[160], s[160], ip[EGW_PREFIX_STRLEN];

	nft_puts(&c->out, "\n\tchain dns_redirect {\n"
		 "\t\ttype nat hook prerouting priority dstnat; policy accept;\n");
	chain_comment(c, "dns.violation redirect: queries to other resolvers go to redirect_to");
	if (c->o->inside_if)
		snprintf(m, sizeof(m), "iifname \"%s\" meta l4proto { tcp, udp } th dport 53",
			 c->o->inside_if);
	else
		snprintf(m, sizeof(m), "meta l4proto { tcp, udp } th dport 53");
	rule(c, m, "jump dns_nat", &d->violation_loc, "DNS query");
	nft_puts(&c->out, "\t}\n\n\tchain dns_nat {\n");
	approved_returns(c);
	if (d->has_redirect_v4) {
		snprintf(s, sizeof(s), "dnat ip to %s",
			 egw_addr_format(&d->redirect_v4, ip, sizeof(ip)));
		rule(c, "meta nfproto ipv4", s, &d->violation_loc,
		     "DNS to a non-approved resolver: redirected (dns.violation)");
	}
	if (d->has_redirect_v6) {
		snprintf(s, sizeof(s), "dnat ip6 to %s",
			 egw_addr_format(&d->redirect_v6, ip, sizeof(ip)));
		rule(c, "meta nfproto ipv6", s, &d->violation_loc,
		     "DNS to a non-approved resolver: redirected (dns.violation)");
	}
	nft_puts(&c->out, "\t}\n");
}

static void allow_chain(struct nft_ctx *c)
{
	char s[160];
	nft_puts(&c->out, "\n\tchain allow {\n");
	chain_comment(c, "verdict allow: DNS queries of allowed flows go to the control plane first");
	snprintf(s, sizeof(s), "ct mark 0x%08x udp dport 53", c->m_pending);
	rule(c, s, c->punt, &c->p->dns.loc, "DNS query: answered by name by the control plane");
	/* every new TCP/53 connection's first packet (its SYN, with data or
	 * not): the control plane learns where the client's stream starts,
	 * so that it can tell a whole query from part of one */
	snprintf(s, sizeof(s), "ct mark 0x%08x tcp dport 53", c->m_pending);
	rule(c, s, c->punt, &c->p->dns.loc,
	     "DNS over TCP, the connection's SYN: the control plane notes where its queries start");
	rule(c, "", "accept", NULL, "allowed");
	nft_puts(&c->out, "\t}\n");
}

static void verdict_chain(struct nft_ctx *c)
{
	char m[96], s[96];
	nft_puts(&c->out, "\n\tchain verdicts {\n"
		 "\t\ttype filter hook forward priority 10; policy accept;\n");
	chain_comment(c, "control-plane verdicts: the nfqueue verdict's packet mark sticks to the flow");
	snprintf(m, sizeof(m), "meta mark 0x%08x", c->m_ok);
	snprintf(s, sizeof(s), "ct mark set 0x%08x", c->m_ok);
	rule(c, m, s, NULL, "inspected and allowed: the flow leaves inspection");
	snprintf(m, sizeof(m), "meta mark 0x%08x", c->m_block);
	snprintf(s, sizeof(s), "ct mark set 0x%08x", c->m_block);
	rule(c, m, s, NULL, "inspected and blocked: every later packet is dropped");
	snprintf(m, sizeof(m), "meta mark 0x%08x meta l4proto tcp", c->m_block);
	rule(c, m, "reject with tcp reset", NULL, "blocked TCP flow: reset");
	snprintf(m, sizeof(m), "meta mark 0x%08x", c->m_block);
	rule(c, m, "drop", NULL, "blocked flow");
	nft_puts(&c->out, "\t}\n");
}

static bool any_domains(const struct egw_policy *p)
{
	for (size_t k = 0; k < p->n_categories; k++)
		if (p->categories[k].n_domains)
			return true;
	return false;
}

char *egw_nft_compile(const struct egw_policy *p, const struct egw_nft_opts *o)
{
	struct egw_nft_opts def;
	if (!o) {
		egw_nft_opts_default(&def);
		o = &def;
	}
	if (!p || !opts_ok(o) || !policy_ok(p)) {
		errno = EINVAL;
		return NULL;
	}
	/* zeroed fields mean their defaults */
	struct egw_nft_opts eff = *o;
	if (!eff.table)
		eff.table = "egw";
	if (!eff.punt_mark)
		eff.punt_mark = EGW_NFT_PUNT_MARK_DEFAULT;
	if (!eff.queue_count)
		eff.queue_count = 1;
	o = &eff;
	struct nft_ctx c = { .p = p, .o = o };
	c.file = base_name(p->path);
	c.m_punt = o->punt_mark;
	c.m_ok = EGW_NFT_MARK_OK(o->punt_mark);
	c.m_block = EGW_NFT_MARK_BLOCK(o->punt_mark);
	c.m_pending = EGW_NFT_CTMARK_PENDING(o->punt_mark);
	if (o->queue_mode == EGW_NFT_QUEUE_MARK) {
		snprintf(c.punt, sizeof(c.punt), "meta mark set 0x%08x accept", c.m_punt);
	} else {
		unsigned count = o->queue_count ? o->queue_count : 1;
		bool open = p->gateway.fail_mode == EGW_FAIL_OPEN;
		int n;
		if (count > 1)
			n = snprintf(c.punt, sizeof(c.punt), "queue num %u-%u %s",
				     o->queue_num, o->queue_num + count - 1,
				     open ? "bypass,fanout" : "fanout");
		else
			n = snprintf(c.punt, sizeof(c.punt), "queue num %u%s",
				     o->queue_num, open ? " bypass" : "");
		(void)n;
	}
	c.inspect_dns = any_domains(p) || p->dns.block_doh;
	c.inspect_web_all = p->dns.block_doh && p->doh_category >= 0 &&
		p->categories[p->doh_category].n_domains > 0;
	c.allow = c.inspect_dns ? "goto allow" : "accept";

	char safe[256];
	nft_printf(&c.out, "# egw: the nftables ruleset of policy %s (kernel mode).\n"
		   "# Generated by egw; one transaction: `nft -f` replaces table inet %s atomically.\n",
		   nft_sanitize(c.file, safe, sizeof(safe)), o->table);
	nft_printf(&c.out, "table inet %s\ndelete table inet %s\ntable inet %s {\n\t",
		   o->table, o->table, o->table);
	nft_comment(&c.out, "egw policy %s; punt %s", c.file,
		    o->queue_mode == EGW_NFT_QUEUE_MARK ? "by mark (iptables NFQUEUE)" : "by nft queue");
	nft_puts(&c.out, "\n");
	sets(&c);
	forward_chain(&c);
	identity_chain(&c);
	dns_chain(&c);
	if (c.inspect_dns)
		allow_chain(&c);
	nft_profiles(&c);
	verdict_chain(&c);
	if (p->dns.violation == EGW_DNSV_REDIRECT &&
	    (p->dns.has_redirect_v4 || p->dns.has_redirect_v6))
		redirect_chains(&c);
	nft_puts(&c.out, "}\n");

	if (c.out.oom || !c.out.buf) {
		free(c.out.buf);
		errno = ENOMEM;
		return NULL;
	}
	return c.out.buf;
}
