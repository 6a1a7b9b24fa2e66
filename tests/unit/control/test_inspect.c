/* SPDX-License-Identifier: MIT */
/* Inspection decisions on crafted packets (control/cd_inspect.c). */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <egw/policy.h>

#include "cd_inspect.h"
#include "cd_inject.h"
#include "ct_helpers.h"
#include "../dns_question.h"

#define POLICY EGW_SOURCE_DIR "/tests/unit/control/data/inspect.cfg"

static struct egw_policy *pol;
static struct cd_inspect *in;
static uint64_t clock_us = 1700000000000000ull;

static void setup(void)
{
	struct egw_diag *d = egw_diag_new();
	char err[256];

	pol = egw_policy_load(POLICY, d);
	if (!pol)
		egw_diag_print(d, stderr);
	ck_assert_ptr_nonnull(pol);
	egw_diag_free(d);
	in = cd_inspect_new(pol, err, sizeof(err));
	ck_assert_ptr_nonnull(in);
}

static void teardown(void)
{
	cd_inspect_free(in);
	egw_policy_free(pol);
}

/* --- packet builders --- */

static size_t ip4(uint8_t *b, const char *src, const char *dst, uint8_t proto, size_t l4len)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	b[2] = (uint8_t)((20 + l4len) >> 8);
	b[3] = (uint8_t)(20 + l4len);
	b[8] = 64;
	b[9] = proto;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	return 20;
}

static size_t ip6(uint8_t *b, const char *src, const char *dst, uint8_t proto, size_t l4len)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	b[4] = (uint8_t)(l4len >> 8);
	b[5] = (uint8_t)l4len;
	b[6] = proto;
	b[7] = 64;
	inet_pton(AF_INET6, src, b + 8);
	inet_pton(AF_INET6, dst, b + 24);
	return 40;
}

static size_t dns_query(uint8_t *b, const char *name, uint16_t qtype)
{
	return tq_dns_query(b, 0x1234, name, qtype);
}

/* IPv4/IPv6 UDP DNS query from src to dst. */
static size_t udp_dns(uint8_t *b, int af, const char *src, const char *dst, const char *name)
{
	uint8_t q[512];
	size_t ql = dns_query(q, name, 1), hl;

	hl = af == AF_INET ? ip4(b, src, dst, 17, 8 + ql) : ip6(b, src, dst, 17, 8 + ql);
	b[hl] = 0xc0; b[hl + 1] = 0x01;  /* sport 49153 */
	b[hl + 2] = 0; b[hl + 3] = 53;
	b[hl + 4] = (uint8_t)((8 + ql) >> 8); b[hl + 5] = (uint8_t)(8 + ql);
	b[hl + 6] = b[hl + 7] = 0;
	memcpy(b + hl + 28 - 20, q, ql);
	return hl + 8 + ql;
}

static size_t tcp(uint8_t *b, const char *src, const char *dst, uint16_t dport,
		  uint8_t flags, const uint8_t *pl, size_t plen)
{
	size_t hl = ip4(b, src, dst, 6, 20 + plen);
	uint8_t *t = b + hl;

	memset(t, 0, 20);
	t[0] = 0xc0; t[1] = 0x02;
	t[2] = (uint8_t)(dport >> 8); t[3] = (uint8_t)dport;
	t[7] = 1;                       /* seq 1 */
	t[11] = 1;                      /* ack 1 */
	t[12] = 5 << 4;
	t[13] = flags;
	if (plen)
		memcpy(t + 20, pl, plen);
	return hl + 20 + plen;
}

/* A minimal TLS 1.2 ClientHello with server_name. */
static size_t client_hello(uint8_t *b, const char *sni)
{
	size_t n = strlen(sni), o = 0, ext_len = 9 + n, body;
	uint8_t h[512];

	h[o++] = 3; h[o++] = 3;                 /* client_version */
	memset(h + o, 0x11, 32); o += 32;       /* random */
	h[o++] = 0;                             /* session id */
	h[o++] = 0; h[o++] = 2; h[o++] = 0x13; h[o++] = 0x01; /* cipher suites */
	h[o++] = 1; h[o++] = 0;                 /* compression */
	h[o++] = (uint8_t)(ext_len >> 8); h[o++] = (uint8_t)ext_len;
	h[o++] = 0; h[o++] = 0;                 /* server_name */
	h[o++] = (uint8_t)((n + 5) >> 8); h[o++] = (uint8_t)(n + 5);
	h[o++] = (uint8_t)((n + 3) >> 8); h[o++] = (uint8_t)(n + 3);
	h[o++] = 0;                             /* host_name */
	h[o++] = (uint8_t)(n >> 8); h[o++] = (uint8_t)n;
	memcpy(h + o, sni, n); o += n;
	body = o;
	b[0] = 22; b[1] = 3; b[2] = 1;
	b[3] = (uint8_t)((body + 4) >> 8); b[4] = (uint8_t)(body + 4);
	b[5] = 1; b[6] = 0; b[7] = (uint8_t)(body >> 8); b[8] = (uint8_t)body;
	memcpy(b + 9, h, body);
	return 9 + body;
}

static void decide(const uint8_t *pkt, size_t len, struct cd_decision *d)
{
	clock_us += 1000;
	cd_inspect_packet(in, pkt, len, clock_us, d);
}

START_TEST(dns_denied_category_nxdomain)
{
	uint8_t b[600];
	struct cd_decision d;
	size_t n = udp_dns(b, AF_INET, "10.1.0.10", "198.51.100.53", "Mail.QQ.com");

	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.nxdomain);
	ck_assert(!d.flag_dst);
	ck_assert_uint_eq(d.n_events, 1);
	ck_assert_int_eq(d.ev[0].type, EGW_EV_DNS);
	ck_assert_int_eq(d.ev[0].action, EGW_EA_BLOCKED);
	ck_assert_str_eq(d.ev[0].reason, "category:commercial-mail");
	ck_assert_str_eq(d.ev[0].rule, "inspect.cfg:25");
	ck_assert_str_eq(d.ev[0].u.dns.rrname, "mail.qq.com");
	ck_assert_int_eq(d.ev[0].u.dns.rcode, 3);
	ck_assert_str_eq(d.ev[0].unit, "finance");
	ck_assert_str_eq(d.ev[0].user, "zhang.wei");
	ck_assert_str_eq(d.ev[0].switch_port, "sw1/0/3");

	/* the NXDOMAIN reply goes back from the resolver to the client */
	uint8_t r[1600];
	int rl = cd_inject_build_nxdomain(&d.pkt, r, sizeof(r));
	ck_assert_int_gt(rl, 28);
	ck_assert_mem_eq(r + 12, b + 16, 4);     /* src = the resolver */
	ck_assert_mem_eq(r + 16, b + 12, 4);     /* dst = the client */
	ck_assert_int_eq(r[20] << 8 | r[21], 53);
	ck_assert_int_eq(r[22] << 8 | r[23], 49153);
	ck_assert_int_eq(r[28 + 3] & 0xf, 3);    /* rcode */
	ck_assert_int_eq(r[28 + 2] & 0x80, 0x80);/* QR */
}
END_TEST

START_TEST(dns_allowed_and_below_denied)
{
	uint8_t b[600];
	struct cd_decision d;
	size_t n = udp_dns(b, AF_INET, "10.1.0.10", "198.51.100.53", "qq.com");

	decide(b, n, &d);   /* the parent of mail.qq.com is not in the category */
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	ck_assert_int_eq(d.ev[0].action, EGW_EA_ALLOWED);
	n = udp_dns(b, AF_INET, "10.1.0.10", "198.51.100.53", "a.b.gmail.com");
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	n = udp_dns(b, AF_INET, "10.1.0.10", "198.51.100.53", "notgmail.com");
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
}
END_TEST

START_TEST(dns_doh_canary_and_category)
{
	uint8_t b[600];
	struct cd_decision d;
	size_t n = udp_dns(b, AF_INET, "10.1.0.10", "198.51.100.53", "use-application-dns.net");

	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.nxdomain);
	ck_assert_str_eq(d.ev[0].reason, "doh");
	n = udp_dns(b, AF_INET6, "2001:db8:1::10", "2001:db8:ff::53", "dns.google");
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert_str_eq(d.ev[0].reason, "doh");
	ck_assert_int_eq(d.ev[0].family, AF_INET6);
}
END_TEST

START_TEST(dns_tunnel_signs)
{
	uint8_t b[600];
	struct cd_decision d;
	/* a 45-byte label (> max_label 40) to an unapproved server */
	size_t n = udp_dns(b, AF_INET, "10.1.0.10", "203.0.113.53",
			   "abcdefghijabcdefghijabcdefghijabcdefghij12345.t.example.net");

	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(!d.nxdomain);
	ck_assert(d.flag_dst);
	ck_assert_uint_eq(d.n_events, 2);
	ck_assert_int_eq(d.ev[0].type, EGW_EV_ALERT);
	ck_assert_str_eq(d.ev[0].reason, "tunnel-suspect");
	ck_assert_ptr_nonnull(strstr(d.ev[0].u.alert.signature, "label-length"));
	ck_assert_str_eq(d.ev[0].rule, "inspect.cfg:16");
	ck_assert_int_eq(d.ev[1].type, EGW_EV_DNS);

	/* to the approved resolver: dropped, but the resolver is not flagged */
	n = udp_dns(b, AF_INET, "10.1.0.10", "198.51.100.53",
		    "x7k2q9zp4m8w3v6b1n5c0l7j2h9g4f8d3s6a1.example.net");
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(!d.flag_dst);
	ck_assert_ptr_nonnull(strstr(d.ev[0].u.alert.signature, "entropy"));

	/* nor is a resolver approved by region (198.51.100.54 is in CN-GD) */
	n = udp_dns(b, AF_INET, "10.1.0.10", "198.51.100.54",
		    "abcdefghijabcdefghijabcdefghijabcdefghij12345.t.example.net");
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(!d.flag_dst);
	ck_assert(cd_inspect_is_resolver(in, AF_INET, d.pkt.dst));
	/* a foreign address is not a resolver for being in some class */
	ck_assert(!cd_inspect_is_resolver(in, AF_INET, (const uint8_t *)"\xcb\x00\x71\x35"));
}
END_TEST

/*
 * A name with tunnelling signs blocks the flow that carried it: the fast
 * path gets the verdict (final, why), and later queries of the same socket
 * are dropped without another event, however harmless their names. Queries
 * of another flow are still decided one by one.
 */
START_TEST(dns_tunnel_blocks_its_flow)
{
	uint8_t b[600];
	struct cd_decision d;
	size_t n = udp_dns(b, AF_INET, "10.1.0.10", "203.0.113.53",
			   "abcdefghijabcdefghijabcdefghijabcdefghij12345.t.example.net");

	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.final);
	ck_assert(!d.reply);
	ck_assert_str_eq(d.why, "tunnel-suspect");
	ck_assert_ptr_nonnull(d.why_loc);
	ck_assert_int_eq(d.why_loc->line, 16);

	n = udp_dns(b, AF_INET, "10.1.0.10", "203.0.113.53", "www.example.org");
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.final);
	ck_assert(!d.flag_dst);
	ck_assert_uint_eq(d.n_events, 0);
	ck_assert_str_eq(d.why, "tunnel-suspect");

	/* another flow (another server): its query is decided on its own */
	n = udp_dns(b, AF_INET, "10.1.0.10", "198.51.100.53", "www.example.org");
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	ck_assert(!d.final);
	ck_assert_ptr_null(d.why);
	ck_assert_uint_eq(d.n_events, 1);
}
END_TEST

START_TEST(dns_query_rate)
{
	uint8_t b[600];
	struct cd_decision d;
	size_t n = udp_dns(b, AF_INET, "10.1.0.11", "198.51.100.53", "www.example.org");
	int dropped = 0;

	/* 10.1.0.11 is in finance but not registered: strict binding drops */
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert_str_eq(d.ev[0].reason, "unregistered");

	n = udp_dns(b, AF_INET, "10.1.0.10", "198.51.100.53", "www.example.org");
	clock_us = (clock_us / 1000000 + 1) * 1000000; /* start of a second */
	for (int i = 0; i < 8; i++) {
		cd_inspect_packet(in, b, n, clock_us + (uint64_t)i, &d);
		if (d.verdict == CD_DROP) {
			dropped++;
			ck_assert_ptr_nonnull(strstr(d.ev[0].u.alert.signature, "query-rate"));
			ck_assert(!d.final);   /* the rate alone blocks the query only */
		}
	}
	ck_assert_int_eq(dropped, 3);   /* queries 6, 7, 8 exceed 5/s */
	cd_inspect_packet(in, b, n, clock_us + 1000000, &d);
	ck_assert_int_eq(d.verdict, CD_ACCEPT); /* a new second */
}
END_TEST

START_TEST(tls_sni_blocks_flow)
{
	uint8_t b[1500], ch[600];
	struct cd_decision d;
	size_t n;

	n = tcp(b, "10.1.0.10", "198.51.100.80", 443, 0x02, NULL, 0);
	decide(b, n, &d);          /* SYN: nothing known yet, pending */
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	ck_assert(!d.final);
	ck_assert_uint_eq(d.n_events, 0);

	n = tcp(b, "10.1.0.10", "198.51.100.80", 443, 0x18, ch, client_hello(ch, "mail.qq.com"));
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.final);
	ck_assert(d.reset);
	ck_assert_int_eq(d.ev[0].type, EGW_EV_TLS);
	ck_assert_str_eq(d.ev[0].u.tls.sni, "mail.qq.com");
	ck_assert_str_eq(d.ev[0].reason, "category:commercial-mail");
	ck_assert_str_eq(d.why, "category:commercial-mail");
	ck_assert_int_eq(d.why_loc->line, 25);

	/* a retransmission: still blocked, no second event; still final
	 * with its reason (the fast path punted it again: its copy of the
	 * verdict is sent again) */
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert_uint_eq(d.n_events, 0);
	ck_assert(d.final);
	ck_assert_str_eq(d.why, "category:commercial-mail");
	ck_assert_int_eq(d.why_loc->line, 25);

	/* the RST goes to the client with the server's sequence number */
	uint8_t r[80];
	int rl = cd_inject_build_rst(&d.pkt, r, sizeof(r));
	ck_assert_int_eq(rl, 40);
	ck_assert_int_eq(r[33], 0x14);
	ck_assert_int_eq(r[27], 1);        /* seq = the client's ack (1) */
}
END_TEST

/* The fast path punts both directions of a punted flow: replies follow it. */
START_TEST(replies_follow_their_flow)
{
	uint8_t b[1500], ch[600];
	struct cd_decision d;
	size_t n;

	n = tcp(b, "10.1.0.10", "203.0.113.80", 22, 0x02, NULL, 0);
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	/* the SYN-ACK from outside (no unit: unregistered if judged alone) */
	n = tcp(b, "203.0.113.80", "10.1.0.10", 0, 0x12, NULL, 0);
	b[20] = 0; b[21] = 22; b[22] = 0xc0; b[23] = 0x02;
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	ck_assert(d.reply);
	ck_assert_uint_eq(d.n_events, 0);
	/* a blocked flow's replies are dropped */
	n = tcp(b, "10.1.0.10", "198.51.100.80", 443, 0x18, ch, client_hello(ch, "gmail.com"));
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	n = tcp(b, "198.51.100.80", "10.1.0.10", 0, 0x18, NULL, 0);
	b[20] = 0x01; b[21] = 0xbb; b[22] = 0xc0; b[23] = 0x02;
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.reply);
	/* a packet from outside that belongs to no flow is judged as a source */
	n = tcp(b, "203.0.113.80", "10.1.0.10", 22, 0x02, NULL, 0);
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert_str_eq(d.ev[0].reason, "unregistered");
}
END_TEST

START_TEST(http_host_allowed_and_blocked)
{
	static const char ok_req[] = "GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n";
	static const char bad_req[] = "GET / HTTP/1.1\r\nHost: MAIL.qq.com:8080\r\n\r\n";
	uint8_t b[1500];
	struct cd_decision d;
	size_t n;

	n = tcp(b, "10.1.0.10", "198.51.100.80", 80, 0x18, (const uint8_t *)ok_req,
		strlen(ok_req));
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	ck_assert_int_eq(d.ev[0].type, EGW_EV_HTTP);
	ck_assert_str_eq(d.ev[0].u.http.hostname, "www.example.org");
	ck_assert_str_eq(d.ev[0].rule, "inspect.cfg:27");

	b[20] = 0xc1; /* another source port: another flow */
	memcpy(b + 40, bad_req, strlen(bad_req));
	n = 40 + strlen(bad_req);
	b[2] = (uint8_t)(n >> 8); b[3] = (uint8_t)n;
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert_str_eq(d.ev[0].u.http.hostname, "mail.qq.com");
}
END_TEST

START_TEST(restricted_profile_country_and_default)
{
	uint8_t b[1500];
	struct cd_decision d;
	size_t n;

	/* health: allow CN (198.51.100.80 is CN-GD), default deny elsewhere */
	n = tcp(b, "10.2.0.20", "198.51.100.80", 80, 0x02, NULL, 0);
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	n = tcp(b, "10.2.0.20", "203.0.113.80", 80, 0x02, NULL, 0);
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.final);
	ck_assert_int_eq(d.ev[0].type, EGW_EV_DROP);
	ck_assert_str_eq(d.ev[0].rule, "inspect.cfg:33");  /* its explicit deny */
	/* unregistered source outside every unit */
	n = tcp(b, "10.9.0.1", "198.51.100.80", 80, 0x02, NULL, 0);
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert_str_eq(d.ev[0].reason, "unregistered");
}
END_TEST

START_TEST(truncated_and_garbage)
{
	uint8_t b[1500];
	struct cd_decision d;
	size_t n = udp_dns(b, AF_INET, "10.1.0.10", "198.51.100.53", "www.example.org");
	struct cd_inspect_stats st;

	/* every prefix of a valid packet is decided without reading past it */
	for (size_t i = 0; i < n; i++) {
		uint8_t *copy = malloc(i ? i : 1);
		memcpy(copy, b, i);
		cd_inspect_packet(in, copy, i, clock_us, &d);
		free(copy);
	}
	cd_inspect_get_stats(in, &st);
	ck_assert_uint_gt(st.unparsable, 0);
	/* a DNS payload that is not a query: refused */
	b[28 + 2] |= 0x80; /* QR */
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert_str_eq(d.ev[0].reason, "dns-malformed");
}
END_TEST

/* The flow cache (16,384 slots, 8 probed a lookup): a decided flow is
 * remembered while others come and go, the cache evicts (and counts it)
 * once more flows pass than it holds, and a flow idle past 120 s is judged
 * anew. */
START_TEST(flow_cache_remembers_evicts_and_expires)
{
	uint8_t b[1500], o[100], ch[600];
	struct cd_decision d;
	struct cd_inspect_stats st;
	size_t n = tcp(b, "10.1.0.10", "198.51.100.80", 443, 0x18, ch,
		       client_hello(ch, "mail.qq.com"));

	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert_uint_eq(d.n_events, 1);
	for (unsigned p = 1000; p < 3000; p++) {
		size_t m = tcp(o, "10.1.0.10", "198.51.100.80", (uint16_t)p, 0x02, NULL, 0);
		decide(o, m, &d);
	}
	decide(b, n, &d);   /* remembered: blocked, no second event */
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.final);
	ck_assert_uint_eq(d.n_events, 0);
	cd_inspect_get_stats(in, &st);
	ck_assert_uint_eq(st.flows_cached, 2001);
	ck_assert_uint_eq(st.flow_evictions, 0);

	for (unsigned i = 0; i < 40000; i++) {
		size_t m = tcp(o, i & 1 ? "10.1.0.10" : "10.1.0.11", "198.51.100.80",
			       (uint16_t)(3000 + i / 2), 0x02, NULL, 0);
		decide(o, m, &d);
	}
	cd_inspect_get_stats(in, &st);
	ck_assert_uint_eq(st.flows_cached, 42001);
	ck_assert_uint_ge(st.flow_evictions, 42001 - 16384);
	ck_assert_uint_lt(st.flow_evictions, 42001);

	/* a blocked flow idle for longer than 120 s is judged again */
	n = tcp(b, "10.1.0.11", "198.51.100.80", 443, 0x18, ch, client_hello(ch, "gmail.com"));
	decide(b, n, &d);
	ck_assert_uint_eq(d.n_events, 1);
	decide(b, n, &d);
	ck_assert_uint_eq(d.n_events, 0);
	clock_us += 121ull * 1000000;
	decide(b, n, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert_uint_eq(d.n_events, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inspect");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dns_denied_category_nxdomain);
	tcase_add_test(tc, dns_allowed_and_below_denied);
	tcase_add_test(tc, dns_doh_canary_and_category);
	tcase_add_test(tc, dns_tunnel_signs);
	tcase_add_test(tc, dns_tunnel_blocks_its_flow);
	tcase_add_test(tc, dns_query_rate);
	tcase_add_test(tc, tls_sni_blocks_flow);
	tcase_add_test(tc, http_host_allowed_and_blocked);
	tcase_add_test(tc, replies_follow_their_flow);
	tcase_add_test(tc, restricted_profile_country_and_default);
	tcase_add_test(tc, truncated_and_garbage);
	tcase_add_test(tc, flow_cache_remembers_evicts_and_expires);
	suite_add_tcase(s, tc);
	return ct_run(s);
}
