/* SPDX-License-Identifier: MIT */
/*
 * The example policy (../shared/spec/example.cfg) built by hand, with the
 * lab's geo data (198.51.100/24 CN-GD, 192.0.2/24 CN-11, 203.0.113/24 and
 * 2001:db8:ff::/48 US), for dataplane unit tests that must not depend on the
 * policy parser. Static storage: nothing to free. Line numbers are those of
 * example.cfg. fixture_policy() resets it to the example each call.
 */
#ifndef TEST_POLICY_FIXTURE_H
#define TEST_POLICY_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include <egw/addr.h>
#include <egw/policy.h>

#define FX_FILE "example.cfg"

static struct egw_prefix fx_pfx(const char *s)
{
	struct egw_prefix p;
	const char *why;
	if (egw_prefix_parse(s, &p, &why))
		abort();
	return p;
}

static struct egw_policy fx_pol;
static struct egw_geo_class fx_geo[2];
static struct egw_prefix fx_geo_gd[1], fx_geo_cn[2];
static struct egw_unit fx_units[2];
static struct egw_prefix fx_fin_pfx[2], fx_health_pfx[1];
static struct egw_terminal fx_fin_terms[3], fx_health_terms[1];
static struct egw_prefix fx_resolvers[1];
static struct egw_geo_ref fx_res_regions[1];
static struct egw_category fx_cats[2];
static struct egw_prefix fx_doh_addr[1];
static struct egw_profile fx_profiles[2];
static struct egw_rule fx_std_rules[3], fx_res_rules[3];
static struct egw_geo_ref fx_not_cn[1], fx_cn[1];
static struct egw_port_range fx_ssh_rdp[2];

static void fx_term(struct egw_terminal *t, const char *ip, const char *mac,
		    const char *user, uint32_t unit, unsigned line)
{
	memset(t, 0, sizeof(*t));
	t->ip = fx_pfx(ip);
	egw_mac_parse(mac, t->mac);
	t->switch_port = (char *)"sw1/0/3";
	t->location = (char *)"Building A 3F";
	t->user = (char *)user;
	t->unit = unit;
	t->loc = (struct egw_loc){ FX_FILE, line };
}

static struct egw_policy *fixture_policy(void)
{
	struct egw_policy *p = &fx_pol;
	memset(p, 0, sizeof(*p));
	p->path = (char *)"/etc/egw/" FX_FILE;
	p->version = 1;
	p->gateway = (struct egw_gateway){ .workers = 1, .flows = 1024,
		.fail_mode = EGW_FAIL_CLOSED, .loc = { FX_FILE, 8 },
		.fail_mode_loc = { FX_FILE, 14 } };

	fx_geo_gd[0] = fx_pfx("198.51.100.0/24");
	fx_geo_cn[0] = fx_pfx("192.0.2.0/24");
	fx_geo_cn[1] = fx_pfx("198.51.100.0/24");
	memset(fx_geo, 0, sizeof(fx_geo));
	strcpy(fx_geo[0].code, "CN-GD");
	fx_geo[0].v4 = (struct egw_prefix_list){ fx_geo_gd, 1 };
	strcpy(fx_geo[1].code, "CN");
	fx_geo[1].v4 = (struct egw_prefix_list){ fx_geo_cn, 2 };
	p->geo_classes = fx_geo;
	p->n_geo_classes = 2;

	fx_fin_pfx[0] = fx_pfx("10.1.0.0/16");
	fx_fin_pfx[1] = fx_pfx("2001:db8:1::/48");
	fx_health_pfx[0] = fx_pfx("10.2.0.0/16");
	fx_term(&fx_fin_terms[0], "10.1.0.10", "02:00:0a:01:00:0a", "zhang.wei", 0, 30);
	fx_term(&fx_fin_terms[1], "10.1.0.11", "02:00:0a:01:00:0b", "li.na", 0, 32);
	fx_term(&fx_fin_terms[2], "2001:db8:1::10", "02:00:0a:01:00:0a", "zhang.wei", 0, 34);
	fx_term(&fx_health_terms[0], "10.2.0.20", "02:00:0a:02:00:14", "wang.fang", 1, 44);
	memset(fx_units, 0, sizeof(fx_units));
	fx_units[0] = (struct egw_unit){ .name = (char *)"finance",
		.prefixes = { fx_fin_pfx, 2 }, .profile = 0,
		.terminals = fx_fin_terms, .n_terminals = 3, .loc = { FX_FILE, 25 } };
	fx_units[1] = (struct egw_unit){ .name = (char *)"health",
		.prefixes = { fx_health_pfx, 1 }, .profile = 1,
		.terminals = fx_health_terms, .n_terminals = 1, .loc = { FX_FILE, 39 } };
	p->units = fx_units;
	p->n_units = 2;

	p->terminals = (struct egw_terminals_cfg){ .binding = EGW_BINDING_STRICT,
		.unregistered = EGW_UNREG_DROP, .binding_loc = { FX_FILE, 51 },
		.unregistered_loc = { FX_FILE, 52 } };

	fx_resolvers[0] = fx_pfx("198.51.100.53");
	fx_res_regions[0] = (struct egw_geo_ref){ .cls = 0, .negate = false };
	p->dns = (struct egw_dns){ .resolvers = { fx_resolvers, 1 },
		.resolver_regions = fx_res_regions, .n_resolver_regions = 1,
		.violation = EGW_DNSV_REDIRECT, .has_redirect_v4 = true,
		.redirect_v4 = fx_pfx("198.51.100.53"), .block_dot = true, .block_doh = true,
		.loc = { FX_FILE, 55 }, .resolvers_loc = { FX_FILE, 56 },
		.violation_loc = { FX_FILE, 58 }, .block_dot_loc = { FX_FILE, 60 },
		.block_doh_loc = { FX_FILE, 61 },
		.suspicious = { .max_qname = 100, .max_label = 52, .min_entropy_bits = 4.0,
				.max_queries_per_second = 50, .loc = { FX_FILE, 62 } } };

	static char *mail_domains[] = { (char *)"mail.qq.com", (char *)"gmail.com" };
	static char *doh_domains[] = { (char *)"dns.google" };
	fx_doh_addr[0] = fx_pfx("203.0.113.111");
	memset(fx_cats, 0, sizeof(fx_cats));
	fx_cats[0] = (struct egw_category){ .name = (char *)"commercial-mail",
		.domains = mail_domains, .n_domains = 2, .loc = { FX_FILE, 67 } };
	fx_cats[1] = (struct egw_category){ .name = (char *)"doh", .domains = doh_domains,
		.n_domains = 1, .addresses = { fx_doh_addr, 1 }, .loc = { FX_FILE, 70 } };
	p->categories = fx_cats;
	p->n_categories = 2;
	p->doh_category = 1;

	fx_not_cn[0] = (struct egw_geo_ref){ .cls = 1, .negate = true };
	fx_cn[0] = (struct egw_geo_ref){ .cls = 1, .negate = false };
	fx_ssh_rdp[0] = (struct egw_port_range){ 22, 22 };
	fx_ssh_rdp[1] = (struct egw_port_range){ 3389, 3389 };
	memset(fx_std_rules, 0, sizeof(fx_std_rules));
	memset(fx_res_rules, 0, sizeof(fx_res_rules));
	fx_std_rules[0] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = 0,
		.loc = { FX_FILE, 79 } };
	fx_std_rules[1] = (struct egw_rule){ .action = EGW_ACT_PUNT, .category = -1,
		.geo = fx_not_cn, .n_geo = 1, .proto = EGW_PROTO_TCP, .ports = fx_ssh_rdp,
		.n_ports = 2, .loc = { FX_FILE, 80 } };
	fx_std_rules[2] = (struct egw_rule){ .action = EGW_ACT_ALLOW, .category = -1,
		.loc = { FX_FILE, 81 } };
	fx_res_rules[0] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = 0,
		.loc = { FX_FILE, 85 } };
	fx_res_rules[1] = (struct egw_rule){ .action = EGW_ACT_ALLOW, .category = -1,
		.geo = fx_cn, .n_geo = 1, .loc = { FX_FILE, 86 } };
	fx_res_rules[2] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = -1,
		.loc = { FX_FILE, 87 } };
	fx_profiles[0] = (struct egw_profile){ .name = (char *)"standard",
		.rules = fx_std_rules, .n_rules = 3, .loc = { FX_FILE, 77 } };
	fx_profiles[1] = (struct egw_profile){ .name = (char *)"restricted",
		.rules = fx_res_rules, .n_rules = 3, .loc = { FX_FILE, 83 } };
	p->profiles = fx_profiles;
	p->n_profiles = 2;
	return p;
}

#endif
