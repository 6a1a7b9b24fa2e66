/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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

/* 1. Identity. Returns true when the verdict is final. */
static bool identity(const struct dp_tables *t, const struct dp_pkt *pkt,
		     struct dp_verdict *v)
{
	const struct egw_policy *pol = t->pol;
	const struct egw_terminals_cfg *tc = &pol->terminals;
	uint32_t cls = dp_tables_class(t, pkt->family, pkt->src);
	const struct egw_terminal *term = dp_tables_terminal(t, pkt->family, pkt->src);

	v->unit = t->class_unit[cls];
	if (term) {
		v->unit = (int32_t)term->unit;
		if (memcmp(term->mac, pkt->src_mac, 6)) {
			set(v, DP_ACT_DROP, DP_R_SPOOF, DP_DROP_SPOOF, &term->loc);
			return true;
		}
		v->term = term;
		return false;
	}
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

/* 2. DNS, DoT, DoH. Returns true when the verdict is final. */
static bool dns(const struct dp_tables *t, const struct dp_pkt *pkt, uint32_t cls,
		struct dp_verdict *v)
{
	const struct egw_policy *pol = t->pol;
	const struct egw_dns *d = &pol->dns;
	bool tcpudp = pkt->proto == 6 || pkt->proto == 17;

	if (tcpudp && !resolver_approved(t, cls)) {
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
	if (d->block_doh && pol->doh_category >= 0 &&
	    dp_class_bit(t, cls, t->cat_base + (uint32_t)pol->doh_category)) {
		set(v, DP_ACT_DROP, DP_R_DOH, DP_DROP_DOH, &d->block_doh_loc);
		v->category = (int16_t)pol->doh_category;
		return true;
	}
	return false;
}

static bool port_in(const struct egw_rule *r, uint16_t port)
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

	if (dr->cat_bit >= 0 && !dp_class_bit(t, cls, (uint32_t)dr->cat_bit))
		return NO;
	if (dr->dst_bit >= 0 && !dp_class_bit(t, cls, (uint32_t)dr->dst_bit))
		return NO;
	if (r->n_geo) {
		size_t i = 0;
		while (i < r->n_geo && !dp_class_geo(t, cls, &r->geo[i]))
			i++;
		if (i == r->n_geo)
			return NO;
	}
	uint8_t proto = pkt->family == AF_INET ? dr->proto_v4 : dr->proto_v6;
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

static enum dp_reason rule_reason(const struct egw_rule *r)
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

void dp_policy_decide(const struct dp_tables *t, const struct dp_pkt *pkt,
		      struct dp_verdict *v)
{
	const struct egw_policy *pol = t->pol;

	memset(v, 0, sizeof(*v));
	v->unit = -1;
	v->category = -1;
	if (identity(t, pkt, v))
		return;
	uint32_t cls = dp_tables_class(t, pkt->family, pkt->dst);
	if (dns(t, pkt, cls, v))
		return;
	if (v->unit < 0) {
		/* terminals.unregistered = "allow" and no unit: no profile. */
		set(v, DP_ACT_ALLOW, DP_R_UNREGISTERED, DP_DROP_NONE,
		    &pol->terminals.unregistered_loc);
		return;
	}
	uint32_t pi = pol->units[v->unit].profile;
	const struct dp_profile *prof = &t->profiles[pi];
	for (size_t i = 0; i < prof->n_rules; i++) {
		const struct dp_rule *dr = &prof->rules[i];
		enum match m = rule_match(t, dr, pkt, cls);
		if (m == NO || (m == MAYBE && dr->rule->action == EGW_ACT_ALLOW))
			continue;
		const struct egw_rule *r = dr->rule;
		enum dp_action a = r->action == EGW_ACT_ALLOW ? DP_ACT_ALLOW :
				   r->action == EGW_ACT_PUNT ? DP_ACT_PUNT : DP_ACT_DROP;
		set(v, a, rule_reason(r), DP_DROP_PROFILE, &r->loc);
		v->category = (int16_t)r->category;
		return;
	}
	set(v, DP_ACT_DROP, DP_R_PROFILE_DEFAULT, DP_DROP_PROFILE, &pol->profiles[pi].loc);
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
