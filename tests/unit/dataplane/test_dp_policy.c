/* SPDX-License-Identifier: MIT */
/* The verdict on a miss: identity, DNS, DoT/DoH, profiles, fragments, each
 * with the policy line that decided it (example.cfg built by hand). */
#include <check.h>
#include <errno.h>

#include <rte_eal.h>

#include "dp_policy.h"
#include "dp_tables.h"
#include "eal_fixture.h"
#include "frame_builder.h"
#include "policy_fixture.h"

#define ZW_MAC "02:00:0a:01:00:0a"   /* zhang.wei, 10.1.0.10 */
#define WF_MAC "02:00:0a:02:00:14"   /* wang.fang, 10.2.0.20 */

static struct dp_tables *build(const struct egw_policy *pol)
{
	struct egw_diag *d = egw_diag_new();
	struct dp_tables *t = dp_tables_build(pol, d);
	if (!t)
		egw_diag_print(d, stderr);
	ck_assert_ptr_nonnull(t);
	egw_diag_free(d);
	return t;
}

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
	struct dp_tables *t = build(fixture_policy());
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
	struct dp_tables *t = build(pol);
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
	t = build(pol);
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
	struct dp_tables *t = build(pol);
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
	t = build(pol);
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
	struct dp_tables *t = build(pol);
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
	t = build(pol);
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
	struct dp_tables *t = build(pol);
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
	struct dp_tables *t = build(fixture_policy());
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
	t = build(pol);
	fb_eth(&f, WF_MAC, 0x0800, 0);
	fb_ipv4(&f, "10.2.0.20", "198.51.100.80", 47, 16, 0, 64, 0);   /* GRE */
	f.len += 16;
	expect(t, &f, DP_ACT_DROP, "dst", 301);
	dp_tables_free(t);
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
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
