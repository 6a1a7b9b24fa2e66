/* SPDX-License-Identifier: MIT */
/*
 * The nftables back end on hand-built policies (no parser): each feature of
 * the policy must show up as the nft rule that enforces it. Loading the text
 * into a kernel is tests/golden/nft-load.test.sh's job.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <egw/addr.h>
#include <egw/nft.h>
#include <egw/policy.h>

/* A policy like the lab's example.cfg, built by hand. */
struct fx {
	struct egw_policy p;
	struct egw_unit units[2];
	struct egw_prefix u0_pfx[2], u1_pfx[1];
	struct egw_terminal t0[3], t1[1];
	struct egw_geo_class geo[3];          /* CN, CN-GD, US */
	struct egw_prefix cn_v4[2], gd_v4[1], us_v4[1], us_v6[1];
	struct egw_geo_ref regions[1];
	struct egw_prefix resolvers[1];
	struct egw_category cats[2];          /* commercial-mail, doh */
	char *mail_domains[2], *doh_domains[1];
	struct egw_loc dlocs[2];
	struct egw_prefix doh_addrs[1];
	struct egw_profile profiles[2];
	struct egw_rule std[3], res[3];
	struct egw_geo_ref not_cn, cn;
	struct egw_port_range ports[2];
};
static struct fx F;
static char *out;

static struct egw_prefix pfx(const char *s)
{
	struct egw_prefix p;
	const char *why;
	ck_assert_msg(egw_prefix_parse(s, &p, &why) == 0, "%s: %s", s, why);
	return p;
}

static struct egw_loc at(unsigned line)
{
	return (struct egw_loc){ "/etc/egw/egw.cfg", line };
}

static void geo_class(struct egw_geo_class *g, const char *code, struct egw_prefix *v4,
		      size_t n4, struct egw_prefix *v6, size_t n6, unsigned line)
{
	snprintf(g->code, sizeof(g->code), "%s", code);
	g->v4.v = v4;
	g->v4.n = n4;
	g->v6.v = v6;
	g->v6.n = n6;
	g->loc = at(line);
}

static void terminal(struct egw_terminal *t, const char *ip, const char *mac,
		     uint32_t unit, unsigned line)
{
	t->ip = pfx(ip);
	ck_assert_int_eq(egw_mac_parse(mac, t->mac), 0);
	t->switch_port = t->location = t->user = (char *)"";
	t->unit = unit;
	t->loc = at(line);
}

static void fx_init(void)
{
	struct egw_policy *p = &F.p;
	memset(&F, 0, sizeof(F));
	free(out);
	out = NULL;
	p->path = (char *)"/etc/egw/egw.cfg";
	p->version = 1;
	p->gateway.fail_mode = EGW_FAIL_CLOSED;

	F.cn_v4[0] = pfx("192.0.2.0/24");
	F.cn_v4[1] = pfx("198.51.100.0/24");
	F.gd_v4[0] = pfx("198.51.100.0/24");
	F.us_v4[0] = pfx("203.0.113.0/24");
	F.us_v6[0] = pfx("2001:db8:ff::/48");
	geo_class(&F.geo[0], "CN", F.cn_v4, 2, NULL, 0, 90);
	geo_class(&F.geo[1], "CN-GD", F.gd_v4, 1, NULL, 0, 56);
	geo_class(&F.geo[2], "US", F.us_v4, 1, F.us_v6, 1, 95);
	p->geo_classes = F.geo;
	p->n_geo_classes = 3;

	F.u0_pfx[0] = pfx("10.1.0.0/16");
	F.u0_pfx[1] = pfx("2001:db8:1::/48");
	F.u1_pfx[0] = pfx("10.2.0.0/16");
	terminal(&F.t0[0], "10.1.0.10", "02:00:0a:01:00:0a", 0, 30);
	terminal(&F.t0[1], "10.1.0.11", "02:00:0a:01:00:0b", 0, 32);
	terminal(&F.t0[2], "2001:db8:1::10", "02:00:0a:01:00:0a", 0, 34);
	terminal(&F.t1[0], "10.2.0.20", "02:00:0a:02:00:14", 1, 45);
	F.units[0] = (struct egw_unit){ .name = (char *)"finance",
		.prefixes = { F.u0_pfx, 2 }, .profile = 0, .terminals = F.t0,
		.n_terminals = 3, .loc = at(24) };
	F.units[1] = (struct egw_unit){ .name = (char *)"health",
		.prefixes = { F.u1_pfx, 1 }, .profile = 1, .terminals = F.t1,
		.n_terminals = 1, .loc = at(39) };
	p->units = F.units;
	p->n_units = 2;

	p->terminals.binding = EGW_BINDING_STRICT;
	p->terminals.unregistered = EGW_UNREG_DROP;
	p->terminals.binding_loc = at(52);
	p->terminals.unregistered_loc = at(53);

	F.resolvers[0] = pfx("198.51.100.53");
	F.regions[0] = (struct egw_geo_ref){ 1, false };
	p->dns.resolvers = (struct egw_prefix_list){ F.resolvers, 1 };
	p->dns.resolver_regions = F.regions;
	p->dns.n_resolver_regions = 1;
	p->dns.violation = EGW_DNSV_REDIRECT;
	p->dns.has_redirect_v4 = true;
	p->dns.redirect_v4 = pfx("198.51.100.53");
	p->dns.block_dot = true;
	p->dns.block_doh = true;
	p->dns.loc = at(55);
	p->dns.resolvers_loc = at(56);
	p->dns.violation_loc = at(58);
	p->dns.block_dot_loc = at(60);
	p->dns.block_doh_loc = at(61);

	F.mail_domains[0] = (char *)"mail.qq.com";
	F.mail_domains[1] = (char *)"gmail.com";
	F.doh_domains[0] = (char *)"dns.google";
	F.dlocs[0] = at(69);
	F.dlocs[1] = at(69);
	F.doh_addrs[0] = pfx("203.0.113.111");
	F.cats[0] = (struct egw_category){ .name = (char *)"commercial-mail",
		.domains = F.mail_domains, .n_domains = 2, .domain_locs = F.dlocs,
		.loc = at(68) };
	F.cats[1] = (struct egw_category){ .name = (char *)"doh",
		.domains = F.doh_domains, .n_domains = 1, .domain_locs = F.dlocs,
		.addresses = { F.doh_addrs, 1 }, .loc = at(72) };
	p->categories = F.cats;
	p->n_categories = 2;
	p->doh_category = 1;

	F.not_cn = (struct egw_geo_ref){ 0, true };
	F.cn = (struct egw_geo_ref){ 0, false };
	F.ports[0] = (struct egw_port_range){ 3389, 3389 };
	F.ports[1] = (struct egw_port_range){ 22, 22 };
	F.std[0] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = 0, .loc = at(82) };
	F.std[1] = (struct egw_rule){ .action = EGW_ACT_PUNT, .category = -1,
		.geo = &F.not_cn, .n_geo = 1, .proto = EGW_PROTO_TCP,
		.ports = F.ports, .n_ports = 2, .loc = at(83) };
	F.std[2] = (struct egw_rule){ .action = EGW_ACT_ALLOW, .category = -1, .loc = at(84) };
	F.res[0] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = 0, .loc = at(88) };
	F.res[1] = (struct egw_rule){ .action = EGW_ACT_ALLOW, .category = -1,
		.geo = &F.cn, .n_geo = 1, .loc = at(89) };
	F.res[2] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = -1, .loc = at(90) };
	F.profiles[0] = (struct egw_profile){ .name = (char *)"standard", .rules = F.std,
		.n_rules = 3, .loc = at(80) };
	F.profiles[1] = (struct egw_profile){ .name = (char *)"restricted", .rules = F.res,
		.n_rules = 3, .loc = at(86) };
	p->profiles = F.profiles;
	p->n_profiles = 2;
}

/* The last ruleset compiled, for a look when a check fails. */
#define LAST EGW_BINARY_DIR "/test_nft-last.nft"

static void keep(const char *t)
{
	FILE *f = fopen(LAST, "w");
	if (f) {
		fputs(t, f);
		fclose(f);
	}
}

static const char *compile_with(const struct egw_nft_opts *o)
{
	free(out);
	out = egw_nft_compile(&F.p, o);
	ck_assert_msg(out != NULL, "compile failed: %s", strerror(errno));
	keep(out);
	return out;
}

static const char *compile(void)
{
	struct egw_nft_opts o;
	egw_nft_opts_default(&o);
	o.inside_if = "egw-in";
	o.outside_if = "egw-out";
	return compile_with(&o);
}

/* The line of text that contains s (for messages). */
#define HAS(text, s) ck_assert_msg(strstr((text), (s)) != NULL, \
	"expected in the ruleset (see " LAST "): %s", (s))
#define HASNT(text, s) ck_assert_msg(strstr((text), (s)) == NULL, \
	"not expected in the ruleset: %s", (s))
/* a occurs, and before b */
#define BEFORE(text, a, b) do { const char *pa_ = strstr((text), (a)); \
	const char *pb_ = strstr((text), (b)); \
	ck_assert_msg(pa_ && pb_ && pa_ < pb_, "expected '%s' before '%s'", (a), (b)); } while (0)

/* Every rule line (one with "counter") has a comment; no comment is longer
 * than nft allows or carries a quote inside. */
static void check_comments(const char *text)
{
	const char *l = text;
	while (*l) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		char line[2048];
		ck_assert_uint_lt(n, sizeof(line));
		memcpy(line, l, n);
		line[n] = '\0';
		if (strstr(line, "counter"))
			ck_assert_msg(strstr(line, " comment \"") != NULL, "no comment: %s", line);
		const char *c = strstr(line, "comment \"");
		if (c) {
			c += strlen("comment \"");
			const char *q = strchr(c, '"');
			ck_assert_msg(q != NULL, "unterminated comment: %s", line);
			ck_assert_msg(q - c <= 127, "comment longer than 127 bytes: %s", line);
			ck_assert_msg(strcmp(q, "\"") == 0, "text after a comment: %s", line);
		}
		l = e ? e + 1 : l + n;
	}
}

START_TEST(table_replaced_atomically)
{
	fx_init();
	const char *t = compile();
	BEFORE(t, "table inet egw\n", "delete table inet egw\n");
	BEFORE(t, "delete table inet egw\n", "table inet egw {\n");
	HAS(t, "type filter hook forward priority -160; policy drop;");
	check_comments(t);

	struct egw_nft_opts o;
	egw_nft_opts_default(&o);
	o.table = "egw_test";
	t = compile_with(&o);
	HAS(t, "delete table inet egw_test\ntable inet egw_test {");
}
END_TEST

START_TEST(sets_carry_the_policy_data)
{
	fx_init();
	const char *t = compile();
	HAS(t, "set unit_0_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
	       "\t\tcomment \"unit finance (egw.cfg:24) -> profile_0\"\n"
	       "\t\telements = { 10.1.0.0/16 }");
	HAS(t, "set unit_0_v6 {");
	HAS(t, "elements = { 2001:db8:1::/48 }");
	HAS(t, "set unit_1_v4 {");
	HAS(t, "type ether_addr . ipv4_addr");
	HAS(t, "02:00:0a:01:00:0a . 10.1.0.10, 02:00:0a:01:00:0b . 10.1.0.11, 02:00:0a:02:00:14 . 10.2.0.20 }");
	HAS(t, "type ether_addr . ipv6_addr");
	HAS(t, "02:00:0a:01:00:0a . 2001:db8:1::10 }");
	HAS(t, "set registered_v4 {\n\t\ttype ipv4_addr\n\t\tcomment");
	HAS(t, "elements = { 10.1.0.10, 10.1.0.11, 10.2.0.20 }");
	HAS(t, "set resolvers_v4 {");
	HAS(t, "elements = { 198.51.100.53 }");
	HAS(t, "comment \"geo class CN (egw.cfg:90)\"\n\t\telements = { 192.0.2.0/24, 198.51.100.0/24 }");
	HAS(t, "set geo_2_v6 {");
	HAS(t, "elements = { 2001:db8:ff::/48 }");
	HAS(t, "set cat_1_v4 {");
	HAS(t, "elements = { 203.0.113.111 }");
	HAS(t, "set flagged_v4 {\n\t\ttype ipv4_addr\n\t\tflags timeout");
	HAS(t, "set flagged_v6 {\n\t\ttype ipv6_addr\n\t\tflags timeout");
	/* empty sets are written without an element list (nft rejects "{ }") */
	HAS(t, "set geo_0_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\tcomment \"geo class CN (egw.cfg:90)\"\n\t}");
	HASNT(t, "elements = {  }");
	HAS(t, "elements = { 10.1.0.0/16 : goto profile_0, 10.2.0.0/16 : goto profile_1 }");
	HAS(t, "elements = { 2001:db8:1::/48 : goto profile_0 }");
}
END_TEST

START_TEST(nested_unit_prefixes_longest_wins)
{
	fx_init();
	/* health owns 10.1.2.0/24 inside finance's 10.1.0.0/16 */
	F.u1_pfx[0] = pfx("10.1.2.0/24");
	const char *t = compile();
	HAS(t, "elements = { 10.1.0.0/23 : goto profile_0, 10.1.2.0/24 : goto profile_1, "
	       "10.1.3.0-10.1.255.255 : goto profile_0 }");
	/* the all-units set keeps the outer prefix only (no overlapping intervals) */
	HAS(t, "set units_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
	       "\t\tcomment \"every unit prefix\"\n\t\telements = { 10.1.0.0/16 }");
	/* a nested prefix at the start and one at the end of its parent */
	F.u1_pfx[0] = pfx("10.1.0.0/24");
	t = compile();
	HAS(t, "elements = { 10.1.0.0/24 : goto profile_1, 10.1.1.0-10.1.255.255 : goto profile_0 }");
	F.u1_pfx[0] = pfx("10.1.255.0/24");
	t = compile();
	HAS(t, "elements = { 10.1.0.0-10.1.254.255 : goto profile_0, 10.1.255.0/24 : goto profile_1 }");
	/* the whole address space */
	F.u0_pfx[0] = pfx("0.0.0.0/0");
	t = compile();
	HAS(t, "elements = { 0.0.0.0-10.1.254.255 : goto profile_0, 10.1.255.0/24 : goto profile_1, "
	       "10.2.0.0-255.255.255.255 : goto profile_0 }");
	F.u0_pfx[1] = pfx("::/0");
	t = compile();
	HAS(t, "elements = { ::/0 : goto profile_0 }");
	/* IPv6: a /64 of health inside finance's ::/0 */
	struct egw_prefix v6[2] = { pfx("10.2.0.0/16"), pfx("2001:db8:1:2::/64") };
	F.units[1].prefixes = (struct egw_prefix_list){ v6, 2 };
	t = compile();
	HAS(t, "elements = { ::-2001:db8:1:1:ffff:ffff:ffff:ffff : goto profile_0, "
	       "2001:db8:1:2::/64 : goto profile_1, "
	       "2001:db8:1:3::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff : goto profile_0 }");
}
END_TEST

START_TEST(forward_order_and_state)
{
	fx_init();
	const char *t = compile();
	BEFORE(t, "ct mark 0x00e90003 counter drop", "ct state established ct direction reply counter accept");
	BEFORE(t, "ct state established ct direction reply", "ip daddr @flagged_v4 counter drop");
	BEFORE(t, "ip daddr @flagged_v4 counter drop", "ct state established ct mark != 0x00e90004 counter accept");
	HAS(t, "ip6 daddr @flagged_v6 counter drop");
	HAS(t, "ct state invalid counter drop");
	HAS(t, "ct state established ct mark != 0x00e90004 counter accept");
	HAS(t, "ct state established counter queue num 0 comment");
	HAS(t, "iifname \"egw-out\" counter drop comment \"policy.md 4: nothing from outside opens a flow\"");
	HAS(t, "iifname != \"egw-in\" counter drop");
	HAS(t, "oifname != \"egw-out\" counter drop");
	BEFORE(t, "iifname \"egw-out\" counter drop", "counter jump identity");
	BEFORE(t, "counter jump identity", "th dport { 53, 853 } counter jump dns");
	BEFORE(t, "counter jump dns", "counter ip saddr vmap @dispatch_v4");
	HAS(t, "counter ip6 saddr vmap @dispatch_v6");
	HAS(t, "counter drop comment \"egw.cfg:53 source outside every unit\"");
	/* verdicts of the control plane stick to the flow, after iptables */
	HAS(t, "type filter hook forward priority 10; policy accept;");
	HAS(t, "meta mark 0x00e90002 counter ct mark set 0x00e90002");
	HAS(t, "meta mark 0x00e90003 counter ct mark set 0x00e90003");
	HAS(t, "meta mark 0x00e90003 meta l4proto tcp counter reject with tcp reset");

	/* no interfaces given: no interface rules */
	struct egw_nft_opts o;
	egw_nft_opts_default(&o);
	t = compile_with(&o);
	HASNT(t, "iifname");
	HASNT(t, "oifname");
}
END_TEST

START_TEST(binding_modes)
{
	fx_init();
	const char *t = compile();
	HAS(t, "ip saddr @registered_v4 ether saddr . ip saddr != @terminals_v4 counter drop "
	       "comment \"egw.cfg:52 spoofing: registered IP with another MAC, always dropped\"");
	HAS(t, "ip6 saddr @registered_v6 ether saddr . ip6 saddr != @terminals_v6 counter drop");
	HAS(t, "limit rate 10/second burst 20 packets counter log prefix \"egw spoof: \" level warn");
	HAS(t, "ip saddr @registered_v4 counter return comment \"egw.cfg:52 registered terminal (terminals.binding strict)\"");
	HAS(t, "ip6 saddr @registered_v6 counter return");
	HASNT(t, "ip saddr @units_v4 counter return");

	F.p.terminals.binding = EGW_BINDING_PREFIX;
	t = compile();
	HAS(t, "ip saddr @units_v4 counter return comment \"egw.cfg:52 source in a unit prefix (terminals.binding prefix)\"");
	HAS(t, "ip6 saddr @units_v6 counter return");
	HASNT(t, "ip saddr @registered_v4 counter return");
	/* spoofing is dropped whatever the binding */
	HAS(t, "ether saddr . ip saddr != @terminals_v4 counter drop");

	F.p.terminals.binding = EGW_BINDING_OFF;
	t = compile();
	HAS(t, "(terminals.binding off)");
	HAS(t, "ether saddr . ip saddr != @terminals_v4 counter drop");
}
END_TEST

START_TEST(unregistered_actions)
{
	fx_init();
	const char *t = compile();
	HAS(t, "counter drop comment \"egw.cfg:53 unregistered source (terminals.unregistered drop)\"");
	HAS(t, "log prefix \"egw unregistered: \"");

	F.p.terminals.unregistered = EGW_UNREG_PUNT;
	t = compile();
	HAS(t, "counter ct mark set 0x00e90004 queue num 0 comment \"egw.cfg:53 unregistered source (terminals.unregistered punt)\"");
	HASNT(t, "egw unregistered: ");

	F.p.terminals.unregistered = EGW_UNREG_ALLOW;
	t = compile();
	HAS(t, "counter return comment \"egw.cfg:53 unregistered source (terminals.unregistered allow)\"");
	/* a source outside every unit has no profile: it is allowed at the end */
	HAS(t, "counter goto allow comment \"egw.cfg:53 source outside every unit (terminals.unregistered allow)\"");
}
END_TEST

START_TEST(dns_violation_modes)
{
	fx_init();
	const char *t = compile();
	HAS(t, "ip daddr @resolvers_v4 counter return comment \"egw.cfg:56 approved resolver\"");
	HAS(t, "ip daddr @geo_1_v4 counter return comment \"egw.cfg:56 resolver in region CN-GD (dns.resolver_regions)\"");
	/* CN-GD has no IPv6 network: no rule matching an empty set */
	HASNT(t, "ip6 daddr @geo_1_v6");
	HAS(t, "type nat hook prerouting priority dstnat; policy accept;");
	HAS(t, "iifname \"egw-in\" meta l4proto { tcp, udp } th dport 53 counter jump dns_nat");
	HAS(t, "meta nfproto ipv4 counter dnat ip to 198.51.100.53 comment \"egw.cfg:58");
	HASNT(t, "dnat ip6 to");
	HAS(t, "th dport 53 ct status dnat ip daddr 198.51.100.53 counter return");
	/* IPv6 has no redirect target: dropped */
	HAS(t, "counter drop comment \"egw.cfg:58 DNS to a non-approved resolver, no redirect_to of this family\"");

	F.p.dns.has_redirect_v6 = true;
	F.p.dns.redirect_v6 = pfx("2001:db8:53::53");
	t = compile();
	HAS(t, "meta nfproto ipv6 counter dnat ip6 to 2001:db8:53::53");

	F.p.dns.violation = EGW_DNSV_DROP;
	t = compile();
	HAS(t, "counter drop comment \"egw.cfg:58 DNS to a non-approved resolver (dns.violation drop)\"");
	HASNT(t, "dnat");
	HASNT(t, "chain dns_nat");

	F.p.dns.violation = EGW_DNSV_PUNT;
	t = compile();
	HAS(t, "counter ct mark set 0x00e90004 queue num 0 comment \"egw.cfg:58 DNS to a non-approved resolver (dns.violation punt)\"");
	HASNT(t, "dnat");
}
END_TEST

START_TEST(dot_and_doh)
{
	fx_init();
	const char *t = compile();
	HAS(t, "th dport 853 counter drop comment \"egw.cfg:60 DoT to a non-approved resolver (dns.block_dot)\"");
	BEFORE(t, "ip daddr @resolvers_v4 counter return", "th dport 853 counter drop");
	HAS(t, "ip daddr @cat_1_v4 counter drop comment \"egw.cfg:61 DoH server (dns.block_doh, category doh)\"");
	HASNT(t, "ip6 daddr @cat_1_v6"); /* no IPv6 DoH address: no rule */
	HAS(t, "tcp dport { 80, 443 } counter ct mark set 0x00e90004 comment \"egw.cfg:72 DoH names");
	/* DNS queries go to the control plane (names, the Firefox canary) */
	HAS(t, "meta l4proto { tcp, udp } th dport 53 counter ct mark set 0x00e90004");
	HAS(t, "chain allow {");
	HAS(t, "ct mark 0x00e90004 udp dport 53 counter queue num 0");
	/* TCP: a new connection's SYN (where the client's stream starts),
	 * then only the established segments with payload (the queries),
	 * never the rest of the handshake or bare ACKs */
	HAS(t, "ct mark 0x00e90004 tcp dport 53 counter queue num 0 comment \"egw.cfg:55 DNS over TCP, the connection's SYN");
	HASNT(t, "ct mark 0x00e90004 tcp dport 53 @ih,0,8 >= 0 counter queue");
	HASNT(t, "ct mark 0x00e90004 meta l4proto { tcp, udp } th dport 53 counter queue");
	HAS(t, "ct state established tcp dport 53 @ih,0,8 >= 0 counter queue num 0");
	HAS(t, "ct state established tcp dport 53 counter accept");
	BEFORE(t, "ct state established tcp dport 53 @ih,0,8 >= 0 counter queue",
	       "ct state established tcp dport 53 counter accept");
	BEFORE(t, "ct state established tcp dport 53 counter accept",
	       "ct state established counter queue num 0");

	F.p.dns.block_dot = false;
	F.p.dns.block_doh = false;
	t = compile();
	HAS(t, "th dport 853 counter return comment \"egw.cfg:60 DoT allowed to any resolver (dns.block_dot false)\"");
	HASNT(t, "@cat_1_v4 counter drop");
	HASNT(t, "DoH names");

	/* no names anywhere and no DoH blocking: no DNS inspection, allow = accept */
	F.cats[0].n_domains = 0;
	F.cats[1].n_domains = 0;
	t = compile();
	HASNT(t, "chain allow");
	HASNT(t, "tcp dport 53");
	HASNT(t, "goto allow");
	HAS(t, "counter accept comment \"egw.cfg:84 allow\"");
}
END_TEST

START_TEST(rule_matches)
{
	fx_init();
	const char *t = compile();
	/* category: its addresses in the kernel (commercial-mail has none),
	 * its names marked for the control plane and evaluation goes on */
	HASNT(t, "@cat_0_v4");
	HAS(t, "tcp dport { 80, 443 } counter ct mark set 0x00e90004 comment "
	       "\"egw.cfg:82 deny category commercial-mail: name checked by the control plane\"");
	/* negated country, proto and ports (sorted) */
	HAS(t, "ip daddr != @geo_0_v4 tcp dport { 22, 3389 } counter ct mark set 0x00e90004 queue num 0 "
	       "comment \"egw.cfg:83 punt country !CN proto tcp port 3389,22\"");
	/* CN has no IPv6 network: !CN is every IPv6 address */
	HAS(t, "meta nfproto ipv6 tcp dport { 22, 3389 } counter ct mark set 0x00e90004 queue num 0");
	/* allow country CN: IPv4 only */
	HAS(t, "ip daddr @geo_0_v4 counter goto allow comment \"egw.cfg:89 allow country CN\"");
	HASNT(t, "ip6 daddr @geo_0_v6");
	/* default deny of each profile */
	HAS(t, "counter drop comment \"egw.cfg:80 profile standard: no rule matched, default deny\"");
	BEFORE(t, "chain profile_0 {", "comment \"egw.cfg:82 deny category commercial-mail");
	BEFORE(t, "egw.cfg:82 deny", "egw.cfg:83 punt");
	BEFORE(t, "egw.cfg:83 punt", "egw.cfg:84 allow");
	BEFORE(t, "egw.cfg:84 allow", "egw.cfg:80 profile standard: no rule matched");

	/* a category with addresses, an allow rule with names, dst, udp, ranges */
	struct egw_prefix dst[3] = { pfx("203.0.113.0/24"), pfx("203.0.113.128/25"),
				     pfx("2001:db8:ff::/48") };
	struct egw_port_range pr[3] = { { 8000, 8080 }, { 8070, 8100 }, { 53, 53 } };
	F.std[0] = (struct egw_rule){ .action = EGW_ACT_ALLOW, .category = 1, .loc = at(82) };
	F.std[1] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = -1,
		.dst = { dst, 3 }, .proto = EGW_PROTO_UDP, .ports = pr, .n_ports = 3,
		.loc = at(83) };
	F.std[2] = (struct egw_rule){ .action = EGW_ACT_ALLOW, .category = -1,
		.proto = EGW_PROTO_ICMP, .loc = at(84) };
	t = compile();
	HAS(t, "ip daddr @cat_1_v4 counter goto allow comment \"egw.cfg:82 allow category doh\"");
	HASNT(t, "@cat_1_v6 counter"); /* doh has no IPv6 address */
	HAS(t, "tcp dport { 80, 443 } counter ct mark set 0x00e90004 accept comment \"egw.cfg:82 allow category doh: name checked");
	BEFORE(t, "ip daddr @cat_1_v4 counter goto allow", "ct mark set 0x00e90004 accept comment \"egw.cfg:82");
	/* nested dst collapses to the outer prefix, overlapping ranges merge */
	HAS(t, "ip daddr 203.0.113.0/24 udp dport { 53, 8000-8100 } counter drop comment \"egw.cfg:83 deny dst(3) proto udp");
	HAS(t, "ip6 daddr 2001:db8:ff::/48 udp dport { 53, 8000-8100 } counter drop");
	HAS(t, "meta l4proto { icmp, ipv6-icmp } counter goto allow comment \"egw.cfg:84 allow proto icmp\"");

	/* a port list without 80/443 gets no names rule; proto any with ports */
	struct egw_port_range p22 = { 22, 22 };
	F.std[0] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = 0,
		.ports = &p22, .n_ports = 1, .loc = at(82) };
	F.std[1] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = -1,
		.ports = &p22, .n_ports = 1, .loc = at(83) };
	t = compile();
	HASNT(t, "egw.cfg:82");
	HAS(t, "meta l4proto { tcp, udp } th dport 22 counter drop comment \"egw.cfg:83 deny port 22\"");

	/* a country list matches when any class holds: one nft rule per class */
	struct egw_geo_ref two[2] = { { 1, false }, { 2, false } };
	F.std[1] = (struct egw_rule){ .action = EGW_ACT_DENY, .category = -1,
		.geo = two, .n_geo = 2, .loc = at(83) };
	t = compile();
	BEFORE(t, "ip daddr @geo_1_v4 counter drop", "ip daddr @geo_2_v4 counter drop");
	HAS(t, "ip6 daddr @geo_2_v6 counter drop comment \"egw.cfg:83 deny country CN-GD,US\"");
}
END_TEST

START_TEST(queue_modes)
{
	fx_init();
	struct egw_nft_opts o;
	egw_nft_opts_default(&o);
	ck_assert_str_eq(o.table, "egw");
	ck_assert_uint_eq(o.punt_mark, 0x00e90001u);
	ck_assert_uint_eq(o.queue_count, 1);
	const char *t = compile_with(&o);
	HAS(t, "counter queue num 0 comment");
	HASNT(t, "bypass");
	HASNT(t, "meta mark set");

	o.queue_num = 4;
	o.queue_count = 3;
	t = compile_with(&o);
	HAS(t, "counter queue num 4-6 fanout comment");

	F.p.gateway.fail_mode = EGW_FAIL_OPEN;
	t = compile_with(&o);
	HAS(t, "counter queue num 4-6 bypass,fanout comment");
	o.queue_count = 1;
	t = compile_with(&o);
	HAS(t, "counter queue num 4 bypass comment");

	o.queue_mode = EGW_NFT_QUEUE_MARK;
	o.punt_mark = 0x100;
	t = compile_with(&o);
	HASNT(t, "queue num");
	HAS(t, "ct state established counter meta mark set 0x00000100 accept comment");
	HAS(t, "ct mark != 0x00000103 counter accept");
	HAS(t, "meta mark 0x00000101 counter ct mark set 0x00000101");
	HAS(t, "meta mark 0x00000102 counter ct mark set 0x00000102");
	HAS(t, "counter ct mark set 0x00000103 meta mark set 0x00000100 accept comment \"egw.cfg:83 punt");
}
END_TEST

START_TEST(names_are_never_bare)
{
	fx_init();
	/* policy names are free text: quotes, newlines, braces, huge lengths */
	char longname[400];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	F.units[0].name = (char *)"fin\"ance }\n; delete table inet filter #";
	F.profiles[0].name = longname;
	F.cats[0].name = (char *)"\xe5\x95\x86\xe4\xb8\x9a\xe9\x82\xae\xe7\xae\xb1\xff"; /* UTF-8 + bad byte */
	F.p.path = (char *)"/etc/egw/my\"pol\nicy.cfg";
	const char *t = compile();
	check_comments(t);
	HAS(t, "comment \"unit fin'ance } ; delete table inet filter # (");
	HAS(t, "category \xe5\x95\x86\xe4\xb8\x9a\xe9\x82\xae\xe7\xae\xb1?");
	HASNT(t, "\"fin\"");
	/* the set names stay generated */
	HAS(t, "set unit_0_v4 {");
	HAS(t, "chain profile_0 {");
	/* multi-byte characters are never cut */
	memset(longname, 0, sizeof(longname));
	for (size_t i = 0; i + 3 < sizeof(longname); i += 3)
		memcpy(longname + i, "\xe4\xb8\xad", 3);
	F.profiles[0].name = longname;
	t = compile();
	check_comments(t);
	const char *c = strstr(t, "comment \"profile \xe4\xb8\xad");
	ck_assert_ptr_nonnull(c);
	const char *q = strchr(c + 9, '"');
	ck_assert_int_eq((int)((q - (c + 17)) % 3), 0);
}
END_TEST

START_TEST(bad_options_rejected)
{
	fx_init();
	struct egw_nft_opts o;
	const char *bad_tables[] = { "", "1egw", "egw;flush ruleset", "e g w", "egw\"" };
	for (size_t i = 0; i < sizeof(bad_tables) / sizeof(bad_tables[0]); i++) {
		egw_nft_opts_default(&o);
		o.table = bad_tables[i];
		errno = 0;
		ck_assert_ptr_null(egw_nft_compile(&F.p, &o));
		ck_assert_int_eq(errno, EINVAL);
	}
	const char *bad_ifs[] = { "", "0123456789abcdef", "in\"", "a b", "x/y" };
	for (size_t i = 0; i < sizeof(bad_ifs) / sizeof(bad_ifs[0]); i++) {
		egw_nft_opts_default(&o);
		o.inside_if = bad_ifs[i];
		ck_assert_ptr_null(egw_nft_compile(&F.p, &o));
		ck_assert_int_eq(errno, EINVAL);
	}
	egw_nft_opts_default(&o);
	o.queue_num = 65535;
	o.queue_count = 2;
	ck_assert_ptr_null(egw_nft_compile(&F.p, &o));
	egw_nft_opts_default(&o);
	o.punt_mark = 0xfffffffd;
	ck_assert_ptr_null(egw_nft_compile(&F.p, &o));
	/* zeroed options are the defaults */
	struct egw_nft_opts zero;
	memset(&zero, 0, sizeof(zero));
	const char *t = compile_with(&zero);
	HAS(t, "delete table inet egw\n");
	HAS(t, "counter queue num 0 comment");
	HAS(t, "ct mark != 0x00e90004 counter accept");
	/* a policy whose indices point nowhere */
	egw_nft_opts_default(&o);
	F.units[1].profile = 7;
	ck_assert_ptr_null(egw_nft_compile(&F.p, &o));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(empty_policy)
{
	struct egw_policy p;
	memset(&p, 0, sizeof(p));
	p.path = (char *)"/x/empty.cfg";
	p.doh_category = -1;
	p.dns.block_doh = false;
	char *t = egw_nft_compile(&p, NULL);
	ck_assert_ptr_nonnull(t);
	keep(t);
	HAS(t, "set units_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tcomment \"every unit prefix\"\n\t}");
	HAS(t, "map dispatch_v4 {");
	HAS(t, "comment \"empty.cfg (default) source outside every unit\"");
	HASNT(t, "elements");
	HASNT(t, "chain profile_");
	check_comments(t);
	free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nft");
	TCase *tc = tcase_create("nft");
	tcase_add_test(tc, table_replaced_atomically);
	tcase_add_test(tc, sets_carry_the_policy_data);
	tcase_add_test(tc, nested_unit_prefixes_longest_wins);
	tcase_add_test(tc, forward_order_and_state);
	tcase_add_test(tc, binding_modes);
	tcase_add_test(tc, unregistered_actions);
	tcase_add_test(tc, dns_violation_modes);
	tcase_add_test(tc, dot_and_doh);
	tcase_add_test(tc, rule_matches);
	tcase_add_test(tc, queue_modes);
	tcase_add_test(tc, names_are_never_bare);
	tcase_add_test(tc, bad_options_rejected);
	tcase_add_test(tc, empty_policy);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(out);
	return failed ? 1 : 0;
}
