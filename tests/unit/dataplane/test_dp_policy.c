/* SPDX-License-Identifier: MIT */
/* The verdict on a miss: identity, DNS, DoT/DoH, profiles, fragments, each
 * with the policy line that decided it (example.cfg built by hand). */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_eal.h>

#include "dp_policy.h"
#include "dp_tables.h"
#include "eal_fixture.h"
#include "frame_builder.h"
#include "policy_fixture.h"
#include "worker_fixture.h"

#define ZW_MAC "02:00:0a:01:00:0a"   /* zhang.wei, 10.1.0.10 */
#define WF_MAC "02:00:0a:02:00:14"   /* wang.fang, 10.2.0.20 */

/* Decide on frame f; check action, reason text and policy line. */
static void expect(const struct dp_tables *t, const struct fb *f, enum dp_action a,
		   const char *reason, unsigned line)
{
	struct dp_pkt p;
	struct dp_verdict v;
	char buf[64];
	ck_assert_int_eq(dp_parse(f->b, f->len, &p), DP_DROP_NONE);
	dp_policy_decide(t, &p, &v);
	ck_assert_msg(v.action == a, "action %s, expected %s", dp_action_name(v.action),
		      dp_action_name(a));
	ck_assert_str_eq(dp_reason_format(&v, t->pol, buf, sizeof(buf)), reason);
	ck_assert_ptr_nonnull(v.loc);
	ck_assert_uint_eq(v.loc->line, line);
}

START_TEST(identity_strict)
{
	struct dp_tables *t = wfx_tables(fixture_policy());
	struct fb f;
	struct dp_pkt p;
	struct dp_verdict v;

	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 40000, 80, DP_TCP_SYN);
	expect(t, &f, DP_ACT_ALLOW, "rule", 81);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	dp_policy_decide(t, &p, &v);
	ck_assert_int_eq(v.unit, 0);
	ck_assert_ptr_nonnull(v.term);
	ck_assert_str_eq(v.term->user, "zhang.wei");
	/* The registered address with another MAC: spoofing, at the terminal. */
	fb_tcp4(&f, "02:00:00:00:00:99", "10.1.0.10", "198.51.100.80", 40000, 80, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "spoof", 30);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	dp_policy_decide(t, &p, &v);
	ck_assert_int_eq(v.drop, DP_DROP_SPOOF);
	ck_assert_int_eq(v.unit, 0);
	/* Inside a unit but not registered: strict binding says unregistered. */
	fb_tcp4(&f, "02:00:00:00:00:99", "10.1.0.99", "198.51.100.80", 40000, 80, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "unregistered", 52);
	/* Outside every unit. */
	fb_tcp4(&f, "02:00:00:00:00:99", "172.16.0.1", "198.51.100.80", 40000, 80, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "unregistered", 52);
	/* IPv6 terminal */
	fb_eth(&f, ZW_MAC, 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::80", 6, 20);
	fb_tcp(&f, 5555, 443, DP_TCP_SYN);
	expect(t, &f, DP_ACT_ALLOW, "rule", 81);
	fb_eth(&f, ZW_MAC, 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::11", "2001:db8:ff::80", 6, 20);
	fb_tcp(&f, 5555, 443, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "unregistered", 52);
	dp_tables_free(t);
}
END_TEST

START_TEST(identity_prefix_and_unregistered_actions)
{
	struct egw_policy *pol = fixture_policy();
	pol->terminals.binding = EGW_BINDING_PREFIX;
	pol->terminals.unregistered = EGW_UNREG_PUNT;
	struct dp_tables *t = wfx_tables(pol);
	struct fb f;

	fb_tcp4(&f, "02:00:00:00:00:99", "10.1.0.99", "198.51.100.80", 40000, 80, DP_TCP_SYN);
	expect(t, &f, DP_ACT_ALLOW, "rule", 81);
	/* Spoofing is dropped under any binding. */
	fb_tcp4(&f, "02:00:00:00:00:99", "10.2.0.20", "198.51.100.80", 40000, 80, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "spoof", 44);
	fb_tcp4(&f, "02:00:00:00:00:99", "172.16.0.1", "198.51.100.80", 40000, 80, DP_TCP_SYN);
	expect(t, &f, DP_ACT_PUNT, "unregistered", 52);
	dp_tables_free(t);

	pol = fixture_policy();
	pol->terminals.binding = EGW_BINDING_OFF;
	pol->terminals.unregistered = EGW_UNREG_ALLOW;
	t = wfx_tables(pol);
	/* Allowed without a profile, but DNS rules still hold. */
	fb_tcp4(&f, "02:00:00:00:00:99", "172.16.0.1", "203.0.113.80", 40000, 80, DP_TCP_SYN);
	expect(t, &f, DP_ACT_ALLOW, "unregistered", 52);
	fb_udp4(&f, "02:00:00:00:00:99", "172.16.0.1", "203.0.113.53", 40000, 53);
	expect(t, &f, DP_ACT_REDIRECT, "dns-resolver", 58);
	dp_tables_free(t);
}
END_TEST

START_TEST(dns_resolvers_dot_doh)
{
	struct egw_policy *pol = fixture_policy();
	struct dp_tables *t = wfx_tables(pol);
	struct fb f;

	/* Approved by list, and by region (CN-GD). */
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.53", 40000, 53);
	expect(t, &f, DP_ACT_ALLOW, "rule", 81);
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.54", 40000, 53);
	expect(t, &f, DP_ACT_ALLOW, "rule", 81);
	/* Foreign resolver: redirect; TCP 53 too. */
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.53", 40000, 53);
	expect(t, &f, DP_ACT_REDIRECT, "dns-resolver", 58);
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.53", 40000, 53, DP_TCP_SYN);
	expect(t, &f, DP_ACT_REDIRECT, "dns-resolver", 58);
	/* Other province is not approved (CN-11 is not CN-GD). */
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "192.0.2.53", 40000, 53);
	expect(t, &f, DP_ACT_REDIRECT, "dns-resolver", 58);
	/* IPv6 has no redirect target: dropped. */
	fb_eth(&f, ZW_MAC, 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::53", 17, 8);
	fb_udp(&f, 5555, 53, 0);
	expect(t, &f, DP_ACT_DROP, "dns-resolver", 58);
	/* DoT to a foreign resolver; DoT to the approved one passes. */
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.53", 40000, 853, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "dot", 60);
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.53", 40000, 853);
	expect(t, &f, DP_ACT_DROP, "dot", 60);
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.53", 40000, 853, DP_TCP_SYN);
	expect(t, &f, DP_ACT_ALLOW, "rule", 81);
	/* DoH address, any port. */
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.111", 40000, 443, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "doh", 61);
	dp_tables_free(t);

	pol = fixture_policy();
	pol->dns.violation = EGW_DNSV_PUNT;
	pol->dns.block_dot = false;
	pol->dns.block_doh = false;
	t = wfx_tables(pol);
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.53", 40000, 53);
	expect(t, &f, DP_ACT_PUNT, "dns-resolver", 58);
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.53", 40000, 853, DP_TCP_SYN);
	expect(t, &f, DP_ACT_ALLOW, "rule", 81);
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.111", 40000, 443, DP_TCP_SYN);
	expect(t, &f, DP_ACT_ALLOW, "rule", 81);
	dp_tables_free(t);
}
END_TEST

START_TEST(profiles_first_match)
{
	struct egw_policy *pol = fixture_policy();
	/* Give commercial-mail an address so the fast path can match it. */
	static struct egw_prefix mail[1];
	mail[0] = fx_pfx("192.0.2.25");
	pol->categories[0].addresses = (struct egw_prefix_list){ mail, 1 };
	struct dp_tables *t = wfx_tables(pol);
	struct fb f;

	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "192.0.2.25", 40000, 443, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "category:commercial-mail", 79);
	/* !CN, tcp 22: punt; the same to CN: allow. */
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.80", 40000, 22, DP_TCP_SYN);
	expect(t, &f, DP_ACT_PUNT, "country", 80);
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.80", 40000, 3389, DP_TCP_SYN);
	expect(t, &f, DP_ACT_PUNT, "country", 80);
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 40000, 22, DP_TCP_SYN);
	expect(t, &f, DP_ACT_ALLOW, "rule", 81);
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.80", 40000, 22);
	expect(t, &f, DP_ACT_ALLOW, "rule", 81);
	/* An address the geo data does not know is outside CN. */
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "100.64.0.1", 40000, 22, DP_TCP_SYN);
	expect(t, &f, DP_ACT_PUNT, "country", 80);
	/* restricted: CN only */
	fb_tcp4(&f, WF_MAC, "10.2.0.20", "192.0.2.80", 40000, 443, DP_TCP_SYN);
	expect(t, &f, DP_ACT_ALLOW, "country", 86);
	fb_tcp4(&f, WF_MAC, "10.2.0.20", "203.0.113.80", 40000, 443, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "rule", 87);
	fb_eth(&f, WF_MAC, 0x0800, 0);
	fb_ipv4(&f, "10.2.0.20", "198.51.100.80", 1, 8, 0, 0, 0);
	fb_icmp_echo(&f, 8, 1);
	expect(t, &f, DP_ACT_ALLOW, "country", 86);
	dp_tables_free(t);

	/* No rule matches: the profile denies, at the profile. */
	pol = fixture_policy();
	pol->profiles[1].n_rules = 2;
	t = wfx_tables(pol);
	fb_tcp4(&f, WF_MAC, "10.2.0.20", "203.0.113.80", 40000, 443, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "profile-default", 83);
	dp_tables_free(t);
}
END_TEST

START_TEST(nested_dst_prefixes_and_protocols)
{
	struct egw_policy *pol = fixture_policy();
	static struct egw_prefix wide[1], narrow[2];
	static struct egw_port_range web[1];
	static struct egw_rule rules[4];
	wide[0] = fx_pfx("203.0.113.0/24");
	narrow[0] = fx_pfx("203.0.113.128/25");
	narrow[1] = fx_pfx("2001:db8:ff::/64");
	web[0] = (struct egw_port_range){ 8000, 8080 };
	rules[0] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = -1,
		.dst = { narrow, 2 }, .proto = EGW_PROTO_UDP, .loc = { FX_FILE, 200 } };
	rules[1] = (struct egw_rule){ .action = EGW_ACT_ALLOW, .category = -1,
		.dst = { wide, 1 }, .ports = web, .n_ports = 1, .loc = { FX_FILE, 201 } };
	rules[2] = (struct egw_rule){ .action = EGW_ACT_ALLOW, .category = -1,
		.proto = EGW_PROTO_ICMP, .loc = { FX_FILE, 202 } };
	rules[3] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = -1,
		.loc = { FX_FILE, 203 } };
	pol->profiles[0].rules = rules;
	pol->profiles[0].n_rules = 4;
	struct dp_tables *t = wfx_tables(pol);
	struct fb f;

	fb_udp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.200", 1, 8000);
	expect(t, &f, DP_ACT_DROP, "dst", 200);
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.20", 1, 8000);
	expect(t, &f, DP_ACT_ALLOW, "dst", 201);
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.200", 1, 8080, DP_TCP_SYN);
	expect(t, &f, DP_ACT_ALLOW, "dst", 201);
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.200", 1, 8081, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "rule", 203);
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 1, 8000, DP_TCP_SYN);
	expect(t, &f, DP_ACT_DROP, "rule", 203);
	/* ICMP means ICMPv6 for IPv6. */
	fb_eth(&f, ZW_MAC, 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff:1::80", 58, 8);
	fb_icmp_echo(&f, 128, 1);
	expect(t, &f, DP_ACT_ALLOW, "rule", 202);
	fb_eth(&f, ZW_MAC, 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::80", 17, 8);
	fb_udp(&f, 1, 9999, 0);
	expect(t, &f, DP_ACT_DROP, "dst", 200);
	dp_tables_free(t);
}
END_TEST

START_TEST(non_first_fragments_never_pass_a_port_rule)
{
	struct dp_tables *t = wfx_tables(fixture_policy());
	struct fb f;

	/* A later fragment to a foreign resolver: could be DNS, treated as DNS
	 * (and not redirectable without its header). */
	fb_eth(&f, ZW_MAC, 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "203.0.113.53", 17, 16, 0, 24, 0);
	f.len += 16;
	expect(t, &f, DP_ACT_DROP, "dns-resolver", 58);
	/* TCP fragment to a !CN web server: rule 80 (tcp 22/3389, punt) might
	 * match, so it is taken. */
	fb_eth(&f, ZW_MAC, 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "198.51.100.53", 6, 16, 0, 64, 0);
	f.len += 16;
	expect(t, &f, DP_ACT_ALLOW, "rule", 81);
	dp_tables_free(t);

	/* An allow that depends on a port cannot be proven: the deny after it. */
	struct egw_policy *pol = fixture_policy();
	pol->dns.resolvers.n = 0;
	pol->dns.n_resolver_regions = 0;
	pol->dns.violation = EGW_DNSV_DROP;
	static struct egw_rule rules[2];
	static struct egw_port_range dns[1] = { { 53, 53 } };
	static struct egw_prefix any[1];
	any[0] = fx_pfx("0.0.0.0/0");
	rules[0] = (struct egw_rule){ .action = EGW_ACT_ALLOW, .category = -1,
		.ports = dns, .n_ports = 1, .loc = { FX_FILE, 300 } };
	rules[1] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = -1,
		.dst = { any, 1 }, .loc = { FX_FILE, 301 } };
	pol->profiles[1].rules = rules;
	pol->profiles[1].n_rules = 2;
	pol->dns.violation = EGW_DNSV_DROP;
	t = wfx_tables(pol);
	fb_eth(&f, WF_MAC, 0x0800, 0);
	fb_ipv4(&f, "10.2.0.20", "198.51.100.80", 47, 16, 0, 64, 0);   /* GRE */
	f.len += 16;
	expect(t, &f, DP_ACT_DROP, "dst", 301);
	dp_tables_free(t);
}
END_TEST

/* A small deterministic generator (xorshift) so a failure reproduces. */
static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

#define RND_RULES 400

/*
 * The compiled walk (candidate lists per destination class) must take the
 * same decision, from the same rule, as walking every rule, on a policy of
 * many overlapping rules: nested dst prefixes (v4 and v6), geo with and
 * without negation, categories with and without addresses, port ranges,
 * protocols any/tcp/udp/icmp, and on random packets including non-first
 * fragments (ports unknown).
 *
 * wide: also the identity and DNS steps as the fast path takes them (the
 * source's class only for an address that is no registered terminal, the
 * resolver and DoH answers precomputed per class) against the reference:
 * the fixture's resolvers, resolver region, DoT and DoH blocking with the
 * violation setting, binding and unregistered setting given, and sources
 * that are registered (right or wrong MAC), unregistered in a unit, or in
 * no unit; destination ports include 53 and 853.
 */
static void compare_walks(bool wide, enum egw_dns_violation violation, enum egw_binding binding,
			  enum egw_unregistered unreg)
{
	static const char *const pfx[] = {
		"0.0.0.0/0", "203.0.113.0/24", "203.0.113.128/25", "203.0.113.192/26",
		"203.0.113.111/32", "203.0.113.200/32", "198.51.100.0/24", "198.51.100.0/25",
		"198.51.100.80/32", "192.0.2.0/24", "192.0.2.16/28", "100.64.0.0/10",
		"::/0", "2001:db8:ff::/48", "2001:db8:ff::/64", "2001:db8:ff:1::/64",
		"2001:db8:ff::80/128",
	};
	static const char *const dsts4[] = {
		"203.0.113.1", "203.0.113.111", "203.0.113.130", "203.0.113.200",
		"203.0.113.250", "198.51.100.80", "198.51.100.53", "198.51.100.200",
		"192.0.2.20", "192.0.2.100", "100.64.1.1", "8.8.4.4",
	};
	static const char *const dsts6[] = {
		"2001:db8:ff::80", "2001:db8:ff::1", "2001:db8:ff:1::5", "2001:db8:ff:2::1",
		"2001:db8:aa::1",
	};
	static struct egw_prefix prefixes[sizeof(pfx) / sizeof(pfx[0])];
	static struct egw_rule rules[2][RND_RULES];
	static struct egw_geo_ref geos[2][RND_RULES][2];
	static struct egw_port_range ports[2][RND_RULES][6];
	static struct egw_prefix dsts[2][RND_RULES][2];
	const size_t npfx = sizeof(pfx) / sizeof(pfx[0]);
	struct egw_policy *pol = fixture_policy();

	rng_state = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < npfx; i++)
		prefixes[i] = fx_pfx(pfx[i]);
	for (int p = 0; p < 2; p++) {
		for (unsigned i = 0; i < RND_RULES; i++) {
			struct egw_rule *r = &rules[p][i];
			*r = (struct egw_rule){ .category = -1,
				.loc = { FX_FILE, 1000u * (unsigned)(p + 1) + i } };
			/* Mostly denies, so that the walk goes deep. */
			uint32_t a = rnd(10);
			r->action = a < 7 ? EGW_ACT_DENY : a < 9 ? EGW_ACT_ALLOW : EGW_ACT_PUNT;
			if (rnd(3)) {
				r->dst.n = 1 + rnd(2);
				r->dst.v = dsts[p][i];
				for (size_t k = 0; k < r->dst.n; k++)
					dsts[p][i][k] = prefixes[rnd((uint32_t)npfx)];
			}
			if (!rnd(4)) {
				r->n_geo = 1 + rnd(2);
				r->geo = geos[p][i];
				for (size_t k = 0; k < r->n_geo; k++)
					geos[p][i][k] = (struct egw_geo_ref){ .cls = (uint16_t)rnd(2),
									  .negate = rnd(2) };
			}
			if (!rnd(6))
				r->category = (int32_t)rnd(2);
			static const enum egw_proto protos[] = { EGW_PROTO_ANY, EGW_PROTO_TCP,
				EGW_PROTO_UDP, EGW_PROTO_ICMP };
			r->proto = protos[rnd(4)];
			if (r->proto != EGW_PROTO_ICMP && !rnd(2)) {
				/* up to 6 ranges: past what a compiled rule holds
				 * itself (DP_RULE_RANGES); some at the top end */
				r->n_ports = 1 + (rnd(4) ? rnd(2) : rnd(6));
				r->ports = ports[p][i];
				for (size_t k = 0; k < r->n_ports; k++) {
					uint16_t lo = (uint16_t)(20 + rnd(60));
					if (!rnd(8))
						lo = (uint16_t)(65500 + rnd(36));
					uint32_t hi = lo + rnd(30);
					ports[p][i][k] = (struct egw_port_range){ lo,
						(uint16_t)(hi > 65535 ? 65535 : hi) };
				}
			}
		}
		pol->profiles[p].rules = rules[p];
		pol->profiles[p].n_rules = RND_RULES;
	}
	if (!wide) {
		pol->dns.resolvers.n = 0;        /* keep DNS out of the way */
		pol->dns.n_resolver_regions = 0;
		pol->dns.block_doh = false;
		pol->dns.block_dot = false;
		pol->dns.violation = EGW_DNSV_DROP;
	} else {
		pol->dns.violation = violation;
		pol->terminals.binding = binding;
		pol->terminals.unregistered = unreg;
	}
	struct dp_tables *t = wfx_tables(pol);
	/* The compiled lists exist, so the comparison below tests them. */
	ck_assert_ptr_nonnull(t->profiles[0].cand);
	ck_assert_ptr_nonnull(t->profiles[1].cand);

	static const struct { const char *ip, *mac; int family; } src[] = {
		{ "10.1.0.10", ZW_MAC, 4 }, { "10.2.0.20", WF_MAC, 4 },
		{ "2001:db8:1::10", ZW_MAC, 6 },
		/* wide only: a wrong MAC, unregistered in a unit, in no unit */
		{ "10.1.0.11", ZW_MAC, 4 }, { "10.1.0.99", ZW_MAC, 4 },
		{ "10.2.7.7", WF_MAC, 4 }, { "2001:db8:1::99", ZW_MAC, 6 },
		{ "172.16.0.1", ZW_MAC, 4 }, { "2001:db8:77::1", WF_MAC, 6 },
	};
	/* DNS and DoT, two others, and ports the fast path's first DNS test
	 * lets through (one masked compare) for dns() to turn down. */
	static const uint16_t wide_ports[] = { 53, 853, 443, 80, 85, 309, 565, 821 };
	unsigned decided_late = 0, outcomes[DP_R__COUNT] = { 0 };
	for (unsigned n = 0; n < 20000; n++) {
		struct dp_pkt pkt = { 0 };
		unsigned s = wide ? rnd(9) : rnd(3);
		struct egw_prefix a;
		ck_assert_int_eq(egw_prefix_parse(src[s].ip, &a, &(const char *){ NULL }), 0);
		memcpy(pkt.src, a.addr, 16);
		egw_mac_parse(src[s].mac, pkt.src_mac);
		if (src[s].family == 4) {
			pkt.family = AF_INET;
			ck_assert_int_eq(egw_prefix_parse(dsts4[rnd(12)], &a,
							  &(const char *){ NULL }), 0);
		} else {
			pkt.family = AF_INET6;
			ck_assert_int_eq(egw_prefix_parse(dsts6[rnd(5)], &a,
							  &(const char *){ NULL }), 0);
		}
		memcpy(pkt.dst, a.addr, 16);
		static const uint8_t l4[] = { 6, 17, 1, 58, 47 };
		pkt.proto = l4[rnd(5)];
		pkt.l4_known = rnd(8) != 0;
		pkt.is_frag = !pkt.l4_known;
		pkt.sport = 40000;
		pkt.dport = (uint16_t)(15 + rnd(100));
		if (wide && rnd(2))
			pkt.dport = wide_ports[rnd(8)];
		else if (!rnd(10))
			pkt.dport = (uint16_t)(65495 + rnd(41));   /* 65495..65535 */
		struct dp_verdict v, ref;
		dp_policy_decide(t, &pkt, &v);
		dp_policy_decide_ref(t, &pkt, &ref);
		ck_assert_msg(v.action == ref.action && v.reason == ref.reason &&
			      v.drop == ref.drop && v.category == ref.category &&
			      v.loc == ref.loc && v.unit == ref.unit && v.term == ref.term,
			      "packet %u: compiled %s line %u, plain %s line %u", n,
			      dp_action_name(v.action), v.loc ? v.loc->line : 0,
			      dp_action_name(ref.action), ref.loc ? ref.loc->line : 0);
		/* The same without the compiled lists (a profile over the
		 * build's budget walks every rule in full). */
		const uint32_t *c0 = t->profiles[0].cand, *c1 = t->profiles[1].cand;
		t->profiles[0].cand = t->profiles[1].cand = NULL;
		struct dp_verdict full;
		dp_policy_decide(t, &pkt, &full);
		t->profiles[0].cand = c0;
		t->profiles[1].cand = c1;
		ck_assert_msg(full.action == ref.action && full.reason == ref.reason &&
			      full.drop == ref.drop && full.category == ref.category &&
			      full.loc == ref.loc && full.unit == ref.unit && full.term == ref.term,
			      "packet %u: every rule %s line %u, plain %s line %u", n,
			      dp_action_name(full.action), full.loc ? full.loc->line : 0,
			      dp_action_name(ref.action), ref.loc ? ref.loc->line : 0);
		decided_late += ref.loc && ref.loc->line % 1000 > 20;
		outcomes[ref.reason]++;
	}
	/* The policy is not trivially decided by its first few rules. */
	ck_assert_uint_gt(decided_late, 1000);
	if (wide) {
		/* Every step had its say in the comparison. */
		if (binding == EGW_BINDING_STRICT && unreg != EGW_UNREG_ALLOW)
			ck_assert_uint_gt(outcomes[DP_R_UNREGISTERED], 100);
		ck_assert_uint_gt(outcomes[DP_R_SPOOF], 100);
		ck_assert_uint_gt(outcomes[DP_R_DNS_RESOLVER], 100);
		ck_assert_uint_gt(outcomes[DP_R_DOT], 10);
		ck_assert_uint_gt(outcomes[DP_R_DOH], 10);
	}
	dp_tables_free(t);
}

START_TEST(compiled_walk_equals_plain_walk)
{
	compare_walks(false, EGW_DNSV_DROP, EGW_BINDING_STRICT, EGW_UNREG_DROP);
}
END_TEST

START_TEST(fast_decide_equals_reference)
{
	static const enum egw_dns_violation viol[] = { EGW_DNSV_DROP, EGW_DNSV_PUNT,
		EGW_DNSV_REDIRECT };
	static const enum egw_unregistered unreg[] = { EGW_UNREG_DROP, EGW_UNREG_PUNT,
		EGW_UNREG_ALLOW };
	static const enum egw_binding bind[] = { EGW_BINDING_STRICT, EGW_BINDING_PREFIX,
		EGW_BINDING_OFF };

	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < 3; j++)
			compare_walks(true, viol[(i + j) % 3], bind[i], unreg[j]);
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	eal_fixture_init(argv[0]);
	Suite *s = suite_create("dp_policy");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, identity_strict);
	tcase_add_test(tc, identity_prefix_and_unregistered_actions);
	tcase_add_test(tc, dns_resolvers_dot_doh);
	tcase_add_test(tc, profiles_first_match);
	tcase_add_test(tc, nested_dst_prefixes_and_protocols);
	tcase_add_test(tc, non_first_fragments_never_pass_a_port_rule);
	tcase_add_test(tc, compiled_walk_equals_plain_walk);
	tcase_add_test(tc, fast_decide_equals_reference);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s);
}
