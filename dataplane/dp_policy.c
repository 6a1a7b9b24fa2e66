/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_lpm.h>

#include "dp_policy.h"

static const char *const reason_names[DP_R__COUNT] = {
#define DP_REASON_NAME(e, s) [DP_R_##e] = s,
	DP_REASONS(DP_REASON_NAME)
#undef DP_REASON_NAME
};

static void set(struct dp_verdict *v, enum dp_action a, enum dp_reason r,
		enum dp_drop drop, const struct egw_loc *loc)
{
	v->action = (uint8_t)a;
	v->reason = (uint8_t)r;
	v->drop = (uint8_t)(a == DP_ACT_ALLOW || a == DP_ACT_PUNT ? DP_DROP_NONE : drop);
	v->loc = loc;
}

static inline bool unregistered(const struct dp_tables *t, const struct dp_pkt *pkt,
				struct dp_verdict *v);

/* 1. Identity. Returns true when the verdict is final. */
static inline bool identity(const struct dp_tables *t, const struct dp_pkt *pkt,
			    struct dp_verdict *v)
{
	const struct egw_terminal *term = dp_tables_terminal(t, pkt->family, pkt->src);

	if (term) {
		/* A registered terminal's unit is its own: the source's
		 * address class is not needed. */
		v->unit = (int32_t)term->unit;
		if (memcmp(term->mac, pkt->src_mac, 6)) {
			set(v, DP_ACT_DROP, DP_R_SPOOF, DP_DROP_SPOOF, &term->loc);
			return true;
		}
		v->term = term;
		return false;
	}
	return unregistered(t, pkt, v);
}

/* identity for a source that is no registered terminal. */
static inline bool unregistered(const struct dp_tables *t, const struct dp_pkt *pkt,
				struct dp_verdict *v)
{
	const struct egw_terminals_cfg *tc = &t->pol->terminals;

	v->unit = t->class_unit[dp_tables_class(t, pkt->family, pkt->src)];
	if (v->unit >= 0 && tc->binding != EGW_BINDING_STRICT)
		return false;
	switch (tc->unregistered) {
	case EGW_UNREG_DROP:
		set(v, DP_ACT_DROP, DP_R_UNREGISTERED, DP_DROP_UNREGISTERED, &tc->unregistered_loc);
		return true;
	case EGW_UNREG_PUNT:
		set(v, DP_ACT_PUNT, DP_R_UNREGISTERED, DP_DROP_NONE, &tc->unregistered_loc);
		return true;
	case EGW_UNREG_ALLOW:
		/* Treated as outside every unit: DNS rules still apply. */
		v->unit = -1;
		return false;
	}
	return false;
}

static bool resolver_approved(const struct dp_tables *t, uint32_t cls)
{
	const struct egw_dns *d = &t->pol->dns;

	if (dp_class_bit(t, cls, t->resolver_bit))
		return true;
	for (size_t i = 0; i < d->n_resolver_regions; i++)
		if (dp_class_geo(t, cls, &d->resolver_regions[i]))
			return true;
	return false;
}

/* Whether the destination class is in the DoH category (under block_doh). */
static bool doh_blocked(const struct dp_tables *t, uint32_t cls)
{
	const struct egw_policy *pol = t->pol;

	return pol->dns.block_doh && pol->doh_category >= 0 &&
	       dp_class_bit(t, cls, t->cat_base + (uint32_t)pol->doh_category);
}

/*
 * 2. DNS, DoT, DoH. Returns true when the verdict is final. resolver: the
 * destination is an approved resolver; doh: it is a blocked DoH address.
 */
static bool dns(const struct dp_tables *t, const struct dp_pkt *pkt, bool resolver, bool doh,
		struct dp_verdict *v)
{
	const struct egw_policy *pol = t->pol;
	const struct egw_dns *d = &pol->dns;
	bool tcpudp = pkt->proto == 6 || pkt->proto == 17;

	if (tcpudp && !resolver) {
		if (!pkt->l4_known || pkt->dport == 53) {
			switch (d->violation) {
			case EGW_DNSV_DROP:
				break;
			case EGW_DNSV_PUNT:
				set(v, DP_ACT_PUNT, DP_R_DNS_RESOLVER, DP_DROP_NONE, &d->violation_loc);
				return true;
			case EGW_DNSV_REDIRECT: {
				bool target = pkt->family == AF_INET ? d->has_redirect_v4 :
								       d->has_redirect_v6;
				if (target && pkt->l4_known) {
					set(v, DP_ACT_REDIRECT, DP_R_DNS_RESOLVER,
					    DP_DROP_DNS_RESOLVER, &d->violation_loc);
					return true;
				}
				break;
			}
			}
			set(v, DP_ACT_DROP, DP_R_DNS_RESOLVER, DP_DROP_DNS_RESOLVER,
			    &d->violation_loc);
			return true;
		}
		if (d->block_dot && pkt->dport == 853) {
			set(v, DP_ACT_DROP, DP_R_DOT, DP_DROP_DOT, &d->block_dot_loc);
			return true;
		}
	}
	if (doh) {
		set(v, DP_ACT_DROP, DP_R_DOH, DP_DROP_DOH, &d->block_doh_loc);
		v->category = (int16_t)pol->doh_category;
		return true;
	}
	return false;
}

static inline bool port_in(const struct egw_rule *r, uint16_t port)
{
	for (size_t i = 0; i < r->n_ports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

enum match { NO, YES, MAYBE };

static enum match rule_match(const struct dp_tables *t, const struct dp_rule *dr,
			     const struct dp_pkt *pkt, uint32_t cls)
{
	const struct egw_rule *r = dr->rule;

	if (!dp_rule_addr_holds(t, dr, cls))
		return NO;
	uint8_t proto = dr->proto[pkt->family != AF_INET];
	if (proto && pkt->proto != proto)
		return NO;
	if (dr->has_ports) {
		if (pkt->proto != 6 && pkt->proto != 17)
			return NO;
		if (!pkt->l4_known)
			return MAYBE;
		if (!port_in(r, pkt->dport))
			return NO;
	}
	return YES;
}

enum dp_reason dp_rule_reason(const struct egw_rule *r)
{
	if (r->category >= 0)
		return DP_R_CATEGORY;
	if (r->n_geo)
		return DP_R_COUNTRY;
	if (r->dst.n)
		return DP_R_DST;
	if (r->n_ports)
		return DP_R_PORT;
	return DP_R_RULE;
}

enum dp_action dp_rule_action(const struct egw_rule *r)
{
	return r->action == EGW_ACT_ALLOW ? DP_ACT_ALLOW :
	       r->action == EGW_ACT_PUNT ? DP_ACT_PUNT : DP_ACT_DROP;
}

/* v: the verdict of rule r, which decides the packet. */
static void rule_verdict(const struct egw_rule *r, struct dp_verdict *v)
{
	set(v, dp_rule_action(r), dp_rule_reason(r), DP_DROP_PROFILE, &r->loc);
	v->category = (int16_t)r->category;
}

/* True (and v set) when rule dr decides the packet. */
static bool rule_decides(const struct dp_tables *t, const struct dp_rule *dr,
			 const struct dp_pkt *pkt, uint32_t cls, struct dp_verdict *v)
{
	enum match m = rule_match(t, dr, pkt, cls);
	if (m == NO || (m == MAYBE && dr->rule->action == EGW_ACT_ALLOW))
		return false;
	rule_verdict(dr->rule, v);
	return true;
}

/* Whether port is in the ports of dr (has_ports). */
static inline bool ports_hold(const struct dp_rule *dr, uint16_t port)
{
	unsigned n = dr->n_ranges;

	if (__builtin_expect(n == 0, 0))
		return port_in(dr->rule, port);
	for (unsigned k = 0; k < n; k++)
		if ((uint16_t)(port - dr->port_lo[k]) <= dr->port_span[k])
			return true;
	return false;
}

/*
 * rule_decides for a rule of the compiled walk: its address conditions
 * hold for the destination class by construction (a candidate of the class,
 * or a rule without any), so only protocol and ports are checked. fam6: the
 * packet is IPv6.
 */
static inline bool cand_decides(const struct dp_rule *dr, const struct dp_pkt *pkt,
				unsigned fam6, struct dp_verdict *v)
{
	uint8_t proto = dr->proto[fam6];

	if (proto && pkt->proto != proto)
		return false;
	if (dr->has_ports) {
		if (pkt->proto != 6 && pkt->proto != 17)
			return false;
		if (!pkt->l4_known) {
			/* A port rule may match: a deny decides, an allow not. */
			if (dr->allow)
				return false;
		} else if (!ports_hold(dr, pkt->dport)) {
			return false;
		}
	}
	/* rule_verdict with what the build worked out. */
	v->action = dr->action;
	v->reason = dr->reason;
	v->drop = dr->drop;
	v->loc = &dr->rule->loc;
	v->category = dr->category;
	return true;
}

/* The destination's address class; IPv4 inline (one or two table reads). */
static inline uint32_t dst_class(const struct dp_tables *t, const struct dp_pkt *pkt)
{
	if (pkt->family == AF_INET) {
		uint32_t a = (uint32_t)pkt->dst[0] << 24 | (uint32_t)pkt->dst[1] << 16 |
			     (uint32_t)pkt->dst[2] << 8 | pkt->dst[3];
		uint32_t nh;
		return rte_lpm_lookup(t->lpm4, a, &nh) == 0 ? nh : t->default4;
	}
	return dp_tables_class(t, pkt->family, pkt->dst);
}

/* The verdict's defaults; then 1. identity. True when that is final. */
static inline bool start(const struct dp_tables *t, const struct dp_pkt *pkt,
			 struct dp_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->unit = -1;
	v->category = -1;
	return identity(t, pkt, v);
}

/* No unit (terminals.unregistered = "allow"): no profile applies. */
static void no_profile(const struct dp_tables *t, struct dp_verdict *v)
{
	set(v, DP_ACT_ALLOW, DP_R_UNREGISTERED, DP_DROP_NONE, &t->pol->terminals.unregistered_loc);
}

static void profile_default(const struct dp_tables *t, uint32_t pi, struct dp_verdict *v)
{
	set(v, DP_ACT_DROP, DP_R_PROFILE_DEFAULT, DP_DROP_PROFILE, &t->pol->profiles[pi].loc);
}

/* Every rule of prof, in full (a profile over the build's budget). */
static __attribute__((noinline)) void walk_every_rule(const struct dp_tables *t,
						      const struct dp_profile *prof,
						      const struct dp_pkt *pkt, uint32_t cls,
						      struct dp_verdict *v)
{
	for (size_t i = 0; i < prof->n_rules; i++)
		if (rule_decides(t, &prof->rules[i], pkt, cls, v))
			return;
	profile_default(t, (uint32_t)(prof - t->profiles), v);
}

/*
 * 3. The profile of unit v->unit (>= 0) for destination class cls: its
 * compiled walk, the rules without address conditions merged with those
 * that can hold for the class, in rule order, each checked for protocol
 * and ports only.
 */
static inline __attribute__((always_inline)) void
walk(const struct dp_tables *t, const struct dp_pkt *pkt, uint32_t cls, struct dp_verdict *v)
{
	const struct dp_profile *prof = t->unit_profile[v->unit];

	if (__builtin_expect(!prof->cand, 0)) {
		walk_every_rule(t, prof, pkt, cls, v);
		return;
	}
	const uint32_t *a = prof->free_rules;
	const uint32_t *b = t->cand_pool + prof->cand[cls];
	const struct dp_rule *rules = prof->rules;
	unsigned fam6 = pkt->family != AF_INET;
	for (;;) {
		uint32_t i;
		if (*a < *b)
			i = *a++;
		else if (*b < *a)
			i = *b++;
		else
			break;   /* both at DP_CAND_END: a rule is in one list only */
		if (cand_decides(&rules[i], pkt, fam6, v))
			return;
	}
	profile_default(t, (uint32_t)(prof - t->profiles), v);
}

/* 2. DNS (dns() decides), then 3. the profile. */
static __attribute__((noinline)) void dns_then_walk(const struct dp_tables *t,
						    const struct dp_pkt *pkt, uint32_t cls,
						    uint8_t cf, struct dp_verdict *v)
{
	if (dns(t, pkt, cf & DP_CF_RESOLVER, cf & DP_CF_DOH, v))
		return;
	if (v->unit < 0) {
		no_profile(t, v);
		return;
	}
	walk(t, pkt, cls, v);
}

/*
 * What follows identity (not final) for destination class cls: 2. DNS, with
 * the class's answers precomputed (class_flags), and 3. the profile.
 */
static inline __attribute__((always_inline)) void
after_identity(const struct dp_tables *t, const struct dp_pkt *pkt, uint32_t cls,
	       struct dp_verdict *v)
{
	uint8_t cf = t->class_flags[cls];
	/*
	 * dns() decides only these: TCP or UDP to DNS, DoT or an unknown port
	 * of a resolver not approved, or a DoH address. The test below lets
	 * through a few more packets (any protocol; ports 53 and 853 tested as
	 * one masked compare, which also passes 85, 309, 341, 565, 597 and
	 * 821), for which dns() finds nothing to decide (and leaves v alone).
	 */
	unsigned dnsport = (uint16_t)(pkt->dport - 53) & ~0x320u;
	if (__builtin_expect((cf & DP_CF_DOH) || (!(cf & DP_CF_RESOLVER) &&
						  (!pkt->l4_known || dnsport == 0)), 0)) {
		dns_then_walk(t, pkt, cls, cf, v);
		return;
	}
	if (v->unit < 0) {
		no_profile(t, v);
		return;
	}
	walk(t, pkt, cls, v);
}

/* The decision after identity for an IPv6 destination. */
static __attribute__((noinline)) void decide_v6(const struct dp_tables *t,
						const struct dp_pkt *pkt, struct dp_verdict *v)
{
	after_identity(t, pkt, dp_tables_class(t, pkt->family, pkt->dst), v);
}

/* The decision for a source that is no registered terminal. */
static __attribute__((noinline)) void decide_unregistered(const struct dp_tables *t,
							  const struct dp_pkt *pkt,
							  struct dp_verdict *v)
{
	if (unregistered(t, pkt, v))
		return;
	after_identity(t, pkt, dst_class(t, pkt), v);
}

/*
 * The fast path. A registered terminal to an IPv4 destination is decided
 * here without a call (so without registers to save); the other cases,
 * DNS's own decisions and a profile walked in full are out of line, each
 * entered last (a tail call).
 */
void dp_policy_decide(const struct dp_tables *t, const struct dp_pkt *pkt,
		      struct dp_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->unit = -1;
	v->category = -1;
	/* 1. identity, as identity() */
	const struct dp_term_ent *te = dp_tables_terminal_ent(t, pkt->family, pkt->src);
	if (__builtin_expect(!te, 0)) {
		decide_unregistered(t, pkt, v);
		return;
	}
	/* The entry's copies: *term is not read here (one miss less). */
	v->unit = (int32_t)te->unit;
	if (memcmp(te->mac, pkt->src_mac, 6)) {
		set(v, DP_ACT_DROP, DP_R_SPOOF, DP_DROP_SPOOF, &te->term->loc);
		return;
	}
	v->term = te->term;
	if (pkt->family != AF_INET) {
		decide_v6(t, pkt, v);
		return;
	}
	after_identity(t, pkt, dst_class(t, pkt), v);
}

/* The reference: every question asked of the class bitmap, every rule walked in full. */
void dp_policy_decide_ref(const struct dp_tables *t, const struct dp_pkt *pkt,
			  struct dp_verdict *v)
{
	if (start(t, pkt, v))
		return;
	uint32_t cls = dp_tables_class(t, pkt->family, pkt->dst);
	if (dns(t, pkt, resolver_approved(t, cls), doh_blocked(t, cls), v))
		return;
	if (v->unit < 0) {
		no_profile(t, v);
		return;
	}
	uint32_t pi = t->pol->units[v->unit].profile;
	const struct dp_profile *prof = &t->profiles[pi];
	for (size_t i = 0; i < prof->n_rules; i++)
		if (rule_decides(t, &prof->rules[i], pkt, cls, v))
			return;
	profile_default(t, pi, v);
}

char *dp_reason_format(const struct dp_verdict *v, const struct egw_policy *pol,
		       char *buf, size_t cap)
{
	if (v->reason == DP_R_CATEGORY && pol && v->category >= 0 &&
	    (size_t)v->category < pol->n_categories)
		snprintf(buf, cap, "category:%s", pol->categories[v->category].name);
	else
		snprintf(buf, cap, "%s", v->reason < DP_R__COUNT ? reason_names[v->reason] : "?");
	return buf;
}

const char *dp_action_name(enum dp_action a)
{
	switch (a) {
	case DP_ACT_ALLOW: return "allow";
	case DP_ACT_DROP: return "drop";
	case DP_ACT_PUNT: return "punt";
	case DP_ACT_REDIRECT: return "redirect";
	}
	return "?";
}
