/* SPDX-License-Identifier: MIT */
/*
 * The dns section: approved resolvers (by address or by geo class), what a
 * query to any other resolver gets, DoT/DoH blocking, and the thresholds of
 * DNS-tunnelling suspicion.
 */
#include <stdio.h>
#include <string.h>

#include "policy_int.h"

static const char *const dns_keys[] = {
	"resolvers", "resolver_regions", "violation", "redirect_to", "block_dot",
	"block_doh", "suspicious", NULL
};
static const char *const suspicious_keys[] = {
	"max_qname", "max_label", "min_entropy_bits", "max_queries_per_second", NULL
};
static const char *const violations[] = { "drop", "redirect", "punt", NULL };

static void parse_suspicious(struct pctx *c, const config_setting_t *s)
{
	struct egw_dns_suspicious *q = &c->p->dns.suspicious;
	q->max_qname = 100;
	q->max_label = 52;
	q->min_entropy_bits = 4.0;
	q->max_queries_per_second = 50;
	q->loc = s ? loc_of(c, s) : c->p->dns.loc;
	if (!s || !expect_group(c, s, "dns.suspicious"))
		return;
	const char *w = "dns.suspicious";
	check_keys(c, s, w, suspicious_keys);
	long long v;
	double d;
	if (read_int(c, s, "max_qname", w, 1, 255, &v) > 0)
		q->max_qname = (uint32_t)v;
	if (read_int(c, s, "max_label", w, 1, 63, &v) > 0)
		q->max_label = (uint32_t)v;
	if (read_number(c, s, "min_entropy_bits", w, 0.0, 8.0, &d) > 0)
		q->min_entropy_bits = d;
	if (read_int(c, s, "max_queries_per_second", w, 1, 1000000, &v) > 0)
		q->max_queries_per_second = (uint32_t)v;
}

static int redirect_addr(struct pctx *c, const config_setting_t *e)
{
	struct egw_dns *d = &c->p->dns;
	if (config_setting_type(e) != CONFIG_TYPE_STRING) {
		perr(c, e, "dns.redirect_to: expected an IP address string, got %s",
		     type_name(config_setting_type(e)));
		return -1;
	}
	const char *v = config_setting_get_string(e);
	struct egw_prefix a;
	const char *why;
	if (egw_prefix_parse(v, &a, &why) < 0) {
		perr(c, e, "dns.redirect_to: \"%s\": %s", v, why);
		return -1;
	}
	if (!egw_prefix_is_host(&a)) {
		perr(c, e, "dns.redirect_to: \"%s\" is a prefix; expected one resolver address",
		     v);
		return -1;
	}
	bool v4 = a.family == AF_INET;
	if (v4 ? d->has_redirect_v4 : d->has_redirect_v6) {
		perr(c, e, "dns.redirect_to: a second IPv%c address \"%s\" (at most one "
			   "IPv4 and one IPv6 address)", v4 ? '4' : '6', v);
		return -1;
	}
	if (v4) {
		d->redirect_v4 = a;
		d->has_redirect_v4 = true;
	} else {
		d->redirect_v6 = a;
		d->has_redirect_v6 = true;
	}
	return 0;
}

static void parse_redirect(struct pctx *c, const config_setting_t *s)
{
	int t = config_setting_type(s);
	if (t == CONFIG_TYPE_STRING) {
		redirect_addr(c, s);
		return;
	}
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		perr(c, s, "dns.redirect_to: expected an IP address or an array of at most "
			   "one IPv4 and one IPv6 address, got %s", type_name(t));
		return;
	}
	int n = config_setting_length(s);
	if (n == 0) {
		perr(c, s, "dns.redirect_to: must not be empty");
		return;
	}
	for (int i = 0; i < n; i++)
		redirect_addr(c, config_setting_get_elem(s, (unsigned)i));
}

void parse_dns(struct pctx *c, const config_setting_t *s)
{
	struct egw_dns *d = &c->p->dns;
	d->violation = EGW_DNSV_DROP;
	d->block_dot = true;
	d->block_doh = true;
	d->loc = s ? loc_of(c, s) : loc_default(c);
	d->resolvers_loc = d->violation_loc = d->block_dot_loc = d->block_doh_loc =
		loc_default(c);
	if (!s) {
		parse_suspicious(c, NULL);
		return;
	}
	const char *w = "dns";
	check_keys(c, s, w, dns_keys);
	if (read_prefixes(c, s, "resolvers", w, false, true, &d->resolvers, NULL) > 0)
		d->resolvers_loc = loc_of(c, config_setting_get_member(s, "resolvers"));
	read_geo_refs(c, s, "resolver_regions", w, &d->resolver_regions,
		      &d->n_resolver_regions);
	int e;
	if (read_enum(c, s, "violation", w, violations, &e) > 0) {
		d->violation = (enum egw_dns_violation)e;
		d->violation_loc = loc_of(c, config_setting_get_member(s, "violation"));
	}
	const config_setting_t *rt = config_setting_get_member(s, "redirect_to");
	if (rt)
		parse_redirect(c, rt);
	else if (d->violation == EGW_DNSV_REDIRECT)
		perr(c, config_setting_get_member(s, "violation"),
		     "dns.violation \"redirect\" needs dns.redirect_to (the resolver "
		     "address(es) queries are sent to)");
	if (read_bool(c, s, "block_dot", w, &d->block_dot) > 0)
		d->block_dot_loc = loc_of(c, config_setting_get_member(s, "block_dot"));
	if (read_bool(c, s, "block_doh", w, &d->block_doh) > 0)
		d->block_doh_loc = loc_of(c, config_setting_get_member(s, "block_doh"));
	parse_suspicious(c, config_setting_get_member(s, "suspicious"));
}
