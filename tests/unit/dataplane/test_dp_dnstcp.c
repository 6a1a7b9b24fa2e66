/* SPDX-License-Identifier: MIT */
/* DNS over TCP for a blocked name, as `dig +tcp` sees it: the gateway itself
 * answers NXDOMAIN on the client's connection (right seq/ack, valid
 * checksums, IPv4 and IPv6), the query never goes on, the connection toward
 * the resolver is reset; an allowed name over TCP still passes. No name gets
 * past inside the stream: pipelined queries are each judged, a segment that
 * is not whole messages at a message boundary (a split query, a
 * continuation, a SYN moving the stream) is refused with both sides reset,
 * a retransmission is judged on its own bytes, redirected connections too. */
#include <check.h>

#include <arpa/inet.h>
#include <rte_eal.h>
#include <stdio.h>
#include <string.h>

#include "dp_nat.h"
#include "dp_parse.h"
#include "dp_tables.h"
#include "eal_fixture.h"
#include "dp_worker.h"
#include "event_view.h"
#include "frame_builder.h"
#include "policy_fixture.h"
#include "worker_fixture.h"

#define ZW_MAC "02:00:0a:01:00:0a"
#define S 1000000ull

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The TCP/UDP checksum over the pseudo header: 0 when the frame's is right. */
static uint16_t l4_csum(const uint8_t *b, uint32_t len)
{
	struct dp_pkt p;
	ck_assert_int_eq(dp_parse(b, len, &p), DP_DROP_NONE);
	unsigned n = p.family == AF_INET ? 4 : 16;
	uint32_t l4len = p.l3_len - (p.l4_off - p.l3_off);
	uint32_t sum = p.proto + l4len;
	for (unsigned i = 0; i < n; i += 2)
		sum += (uint32_t)(p.src[i] << 8 | p.src[i + 1]) +
		       (uint32_t)(p.dst[i] << 8 | p.dst[i + 1]);
	return dp_nat_csum(b + p.l4_off, l4len, sum);
}

static void set_csums(struct fb *f)
{
	struct dp_pkt p;
	ck_assert_int_eq(dp_parse(f->b, f->len, &p), DP_DROP_NONE);
	uint8_t *c = f->b + p.l4_off + 16;
	c[0] = c[1] = 0;
	uint16_t v = l4_csum(f->b, f->len);
	fb_put16(c, v);
	if (p.family == AF_INET) {
		uint8_t *ip = f->b + p.l3_off;
		ip[10] = ip[11] = 0;
		fb_put16(ip + 10, dp_nat_csum(ip, p.l4_off - p.l3_off, 0));
	}
}

/* Append the length-prefixed query for name (id) to b at *n. */
static void put_query(uint8_t *b, size_t *n, uint16_t id, const char *name)
{
	size_t m = fb_dns_query(b + *n + 2, id, name);
	fb_put16(b + *n, (uint16_t)m);
	*n += 2 + m;
}

/*
 * A TCP segment from the terminal (IPv4 unless v6) to dst:53 from port
 * sport with seq/ack, flags, optlen bytes of TCP options (NOPs and a
 * timestamp, as Linux sends them) and the payload pay[0..pay_len).
 */
static void seg_raw(struct fb *f, bool v6, const char *dst, uint16_t sport, uint32_t seq,
		    uint32_t ack, uint8_t flags, unsigned optlen, const uint8_t *pay,
		    size_t pay_len)
{
	uint32_t l4 = 20 + optlen + (uint32_t)pay_len;
	if (v6) {
		fb_eth(f, ZW_MAC, 0x86dd, 0);
		fb_ipv6(f, "2001:db8:1::10", dst, 6, l4);
	} else {
		fb_eth(f, ZW_MAC, 0x0800, 0);
		fb_ipv4(f, "10.1.0.10", dst, 6, l4, 0, 0, 0);
	}
	uint8_t *t = f->b + f->len;
	fb_tcp(f, sport, 53, flags);
	wr32(t + 4, seq);
	wr32(t + 8, ack);
	t[12] = (uint8_t)((20 + optlen) / 4 << 4);
	fb_put16(t + 14, 64240);
	memset(f->b + f->len, 1, optlen);
	f->len += optlen;
	if (pay_len)
		memcpy(f->b + f->len, pay, pay_len);
	f->len += (uint32_t)pay_len;
	set_csums(f);
}

/* The same with the length-prefixed query for name as the payload (none
 * when name is NULL). */
static void seg(struct fb *f, bool v6, const char *dst, uint16_t sport, uint32_t seq,
		uint32_t ack, uint8_t flags, unsigned optlen, const char *name)
{
	uint8_t q[300] = { 0 };
	size_t n = 0;
	if (name)
		put_query(q, &n, 0x4242, name);
	seg_raw(f, v6, dst, sport, seq, ack, flags, optlen, q, n);
}

/* The reply from the resolver (outside) to the terminal. */
static void seg_back(struct fb *f, bool v6, const char *src, uint16_t dport, uint32_t seq,
		     uint32_t ack, uint8_t flags)
{
	if (v6) {
		fb_eth(f, "02:ee:00:00:00:02", 0x86dd, 0);
		fb_ipv6(f, src, "2001:db8:1::10", 6, 20);
	} else {
		fb_eth(f, "02:ee:00:00:00:02", 0x0800, 0);
		fb_ipv4(f, src, "10.1.0.10", 6, 20, 0, 0, 0);
	}
	uint8_t *t = f->b + f->len;
	fb_tcp(f, 53, dport, flags);
	wr32(t + 4, seq);
	wr32(t + 8, ack);
	set_csums(f);
}

static const struct egw_event *dns_event(const struct dp_worker *w)
{
	const struct egw_event *ev = NULL;
	unsigned nev = events(w);
	for (uint32_t e = 0; e < nev; e++)
		if (evs[e].type == EGW_EV_DNS) {
			ck_assert_ptr_null(ev);
			ev = &evs[e];
		}
	ck_assert_ptr_nonnull(ev);
	return ev;
}

static void blocked_name_over_tcp(bool v6, const char *resolver, const char *name,
				  const char *reason)
{
	struct dp_worker w;
	struct fb f, x;
	struct dp_pkt p;
	const uint8_t *res;
	ck_assert_int_eq(dp_worker_init(&w, 0, 64, 64), 0);
	struct egw_policy *pol = fixture_policy();
	static struct egw_prefix res6[2];
	res6[0] = fx_pfx("198.51.100.53");
	res6[1] = fx_pfx("2001:db8:ff::53");
	pol->dns.resolvers = (struct egw_prefix_list){ res6, 2 };
	struct dp_tables *t = wfx_tables(pol);

	/* The handshake passes: the resolver is approved. */
	seg(&f, v6, resolver, 45000, 999, 0, DP_TCP_SYN, 0, NULL);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	seg_back(&f, v6, resolver, 45000, 7000, 1000, DP_TCP_SYN | DP_TCP_ACK);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, true, S), DP_DISP_FORWARD);
	seg(&f, v6, resolver, 45000, 1000, 7001, DP_TCP_ACK, 12, NULL);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);

	/* The query (with a timestamp option, as Linux sends it). */
	clear_events(&w);
	seg(&f, v6, resolver, 45000, 1000, 7001, DP_TCP_ACK | 0x08, 12, name);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	uint32_t qpay = p.payload_len, qlen = f.len;
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
	ck_assert_uint_le(f.len, qlen);

	/* The frame is the resolver's answer to the terminal. */
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.family, v6 ? AF_INET6 : AF_INET);
	ck_assert_int_eq(p.proto, 6);
	ck_assert_int_eq(p.dst_mac[5], 0x0a);
	res = v6 ? (const uint8_t *)"\x20\x01\x0d\xb8\x00\xff" : (const uint8_t *)"\xc6\x33\x64\x35";
	ck_assert_mem_eq(p.src, res, v6 ? 6 : 4);
	ck_assert_int_eq(v6 ? p.dst[15] : p.dst[3], v6 ? 0x10 : 10);
	ck_assert_int_eq(p.sport, 53);
	ck_assert_int_eq(p.dport, 45000);
	ck_assert_uint_eq(rd32(f.b + p.l4_off + 4), 7001);          /* seq: what the client expects */
	ck_assert_uint_eq(rd32(f.b + p.l4_off + 8), 1000 + qpay);   /* ack: the whole query */
	ck_assert_int_eq(p.tcp_flags & (DP_TCP_FIN | DP_TCP_ACK | DP_TCP_RST | DP_TCP_SYN),
			 DP_TCP_FIN | DP_TCP_ACK);
	ck_assert_uint_eq(l4_csum(f.b, f.len), 0);
	if (!v6)
		ck_assert_uint_eq(dp_nat_csum(f.b + p.l3_off, 20, 0), 0);
	const uint8_t *dns = f.b + p.payload_off;
	ck_assert_uint_ge(p.payload_len, 2 + 12);
	ck_assert_uint_eq((uint32_t)(dns[0] << 8 | dns[1]), p.payload_len - 2);
	ck_assert_int_eq(dns[2], 0x42);
	ck_assert_int_eq(dns[4] & 0x80, 0x80);   /* QR */
	ck_assert_int_eq(dns[5] & 0x0f, 3);      /* NXDOMAIN */
	ck_assert_int_eq(dns[7], 1);             /* the question echoed */

	/* w.extra: the RST toward the resolver, as if from the client, at
	 * the sequence number the resolver expects. */
	ck_assert_uint_gt(w.extra_len, 0);
	memcpy(x.b, w.extra, w.extra_len);
	x.len = w.extra_len;
	ck_assert_int_eq(dp_parse(x.b, x.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.tcp_flags & DP_TCP_RST, DP_TCP_RST);
	ck_assert_mem_eq(p.dst, res, v6 ? 6 : 4);
	ck_assert_int_eq(p.dport, 53);
	ck_assert_int_eq(p.sport, 45000);
	ck_assert_uint_eq(rd32(x.b + p.l4_off + 4), 1000);
	ck_assert_uint_eq(p.payload_len, 0);
	ck_assert_uint_eq(l4_csum(x.b, x.len), 0);

	/* One dns event: the name, blocked, answered NXDOMAIN. */
	const struct egw_event *ev = dns_event(&w);
	ck_assert_str_eq(ev->u.dns.rrname, name);
	ck_assert_int_eq(ev->u.dns.rcode, 3);
	ck_assert_int_eq(ev->action, EGW_EA_BLOCKED);
	ck_assert_str_eq(ev->reason, reason);
	ck_assert_uint_eq(w.st.dns_answers, 1);

	/* The client's goodbye never reaches the resolver. */
	seg(&f, v6, resolver, 45000, 1000 + qpay, 7002, DP_TCP_ACK | DP_TCP_FIN, 0, NULL);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_DROP);
	ck_assert_uint_eq(w.extra_len, 0);

	/* An allowed name on a new connection goes to the resolver as sent. */
	seg(&f, v6, resolver, 45001, 5000, 0, DP_TCP_SYN, 0, NULL);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	clear_events(&w);
	seg(&f, v6, resolver, 45001, 5001, 9001, DP_TCP_ACK | 0x08, 12, "www.example.cn");
	struct fb before = f;
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	ck_assert_uint_eq(f.len, before.len);
	ck_assert_mem_eq(f.b, before.b, f.len);
	ck_assert_uint_eq(w.extra_len, 0);
	ck_assert_int_eq(dns_event(&w)->u.dns.rcode, -1);
	ck_assert_uint_eq(w.st.dns_answers, 1);

	wfx_stop(&w, t);
}

START_TEST(tcp_dns_blocked_category_name_ipv4)
{
	blocked_name_over_tcp(false, "198.51.100.53", "mail.qq.com", "category:commercial-mail");
}
END_TEST

START_TEST(tcp_dns_canary_ipv4)
{
	blocked_name_over_tcp(false, "198.51.100.53", "use-application-dns.net", "doh");
}
END_TEST

START_TEST(tcp_dns_blocked_category_name_ipv6)
{
	blocked_name_over_tcp(true, "2001:db8:ff::53", "gmail.com", "category:commercial-mail");
}
END_TEST

/* The tables of blocked_name_over_tcp: one approved resolver per family. */
static struct dp_tables *tables_v46(void)
{
	struct egw_policy *pol = fixture_policy();
	static struct egw_prefix res6[2];
	res6[0] = fx_pfx("198.51.100.53");
	res6[1] = fx_pfx("2001:db8:ff::53");
	pol->dns.resolvers = (struct egw_prefix_list){ res6, 2 };
	return wfx_tables(pol);
}

/* The handshake of a connection from sport to res:53, client ISN isn - 1
 * (its first byte is isn), server ISN 6999. */
static void handshake(struct dp_worker *w, struct dp_tables *t, bool v6, const char *res,
		      uint16_t sport, uint32_t isn)
{
	struct fb f;
	seg(&f, v6, res, sport, isn - 1, 0, DP_TCP_SYN, 0, NULL);
	ck_assert_int_eq(dp_worker_packet(w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	seg_back(&f, v6, res, sport, 6999, isn, DP_TCP_SYN | DP_TCP_ACK);
	ck_assert_int_eq(dp_worker_packet(w, t, f.b, &f.len, true, S), DP_DISP_FORWARD);
	seg(&f, v6, res, sport, isn, 7000, DP_TCP_ACK, 12, NULL);
	ck_assert_int_eq(dp_worker_packet(w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
}

static void addr_of(bool v6, const char *s, uint8_t a[16])
{
	memset(a, 0, 16);
	ck_assert_int_eq(inet_pton(v6 ? AF_INET6 : AF_INET, s, a), 1);
}

/*
 * After a refused segment (seq, paylen bytes) from sport: the frame is the
 * RST to the client as if from shown (the resolver it asked), w->extra the
 * RST to the server at to (the resolver, or the redirect target) at seq.
 */
static void assert_reset_both(const struct dp_worker *w, const struct fb *f, bool v6,
			      const char *shown, const char *to, uint16_t sport, uint32_t seq,
			      uint32_t paylen)
{
	struct dp_pkt p;
	uint8_t a[16];
	unsigned al = v6 ? 16 : 4;
	ck_assert_int_eq(dp_parse(f->b, f->len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.tcp_flags & (DP_TCP_RST | DP_TCP_SYN | DP_TCP_FIN), DP_TCP_RST);
	addr_of(v6, shown, a);
	ck_assert_mem_eq(p.src, a, al);
	ck_assert_int_eq(p.sport, 53);
	ck_assert_int_eq(p.dport, sport);
	ck_assert_int_eq(p.dst_mac[5], 0x0a);   /* back to the terminal */
	ck_assert_uint_eq(rd32(f->b + p.l4_off + 8), seq + paylen);
	ck_assert_uint_eq(p.payload_len, 0);
	ck_assert_uint_eq(l4_csum(f->b, f->len), 0);

	ck_assert_uint_gt(w->extra_len, 0);
	ck_assert_int_eq(dp_parse(w->extra, w->extra_len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.tcp_flags & DP_TCP_RST, DP_TCP_RST);
	addr_of(v6, to, a);
	ck_assert_mem_eq(p.dst, a, al);
	ck_assert_int_eq(p.dport, 53);
	ck_assert_int_eq(p.sport, sport);
	ck_assert_uint_eq(rd32(w->extra + p.l4_off + 4), seq);
	ck_assert_uint_eq(l4_csum(w->extra, w->extra_len), 0);
}

/* The events of type since the last clear_events: how many; *last the last. */
static unsigned count_events(const struct dp_worker *w, enum egw_event_type type,
			     const struct egw_event **last)
{
	unsigned n = 0, nev = events(w);
	for (unsigned e = 0; e < nev; e++)
		if (evs[e].type == type) {
			n++;
			if (last)
				*last = &evs[e];
		}
	return n;
}

/* The one drop event, with its reason and the dns section's line. */
static void assert_refused(const struct dp_worker *w, const char *reason)
{
	const struct egw_event *ev = NULL;
	ck_assert_uint_eq(count_events(w, EGW_EV_DROP, &ev), 1);
	ck_assert_str_eq(ev->reason, reason);
	ck_assert_str_eq(ev->rule, FX_FILE ":55");
	ck_assert_int_eq(ev->action, EGW_EA_BLOCKED);
	ck_assert_uint_eq(count_events(w, EGW_EV_DNS, NULL), 0);
}

static void split_query_is_refused(bool v6)
{
	struct dp_worker w;
	struct fb f;
	uint8_t q[300];
	size_t n = 0;
	ck_assert_int_eq(dp_worker_init(&w, 0, 64, 64), 0);
	struct dp_tables *t = tables_v46();
	const char *res = v6 ? "2001:db8:ff::53" : "198.51.100.53";
	handshake(&w, t, v6, res, 45002, 1000);

	/* The first part of a query for a blocked name: never judged from
	 * half a name, and never let through for the rest to follow. */
	put_query(q, &n, 0x4242, "mail.qq.com");
	uint32_t half = (uint32_t)n - 6;
	clear_events(&w);
	seg_raw(&f, v6, res, 45002, 1000, 7000, DP_TCP_ACK | 0x08, 12, q, half);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
	assert_reset_both(&w, &f, v6, res, res, 45002, 1000, half);
	assert_refused(&w, "dns-split");
	ck_assert_uint_eq(w.st.drops[DP_DROP_DNS_SPLIT], 1);
	ck_assert_uint_eq(w.st.resets, 1);
	ck_assert_uint_eq(w.st.dns_answers, 0);

	/* The rest of the query goes nowhere either. */
	seg_raw(&f, v6, res, 45002, 1000 + half, 7000, DP_TCP_ACK | 0x08, 12, q + half, n - half);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_DROP);
	ck_assert_uint_eq(w.extra_len, 0);

	/* A length that claims more than the segment holds, on a new
	 * connection: the same. */
	handshake(&w, t, v6, res, 45003, 1000);
	clear_events(&w);
	seg(&f, v6, res, 45003, 1000, 7000, DP_TCP_ACK, 0, "www.example.cn");
	struct dp_pkt p;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	f.b[p.payload_off + 1] += 10;
	set_csums(&f);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
	assert_reset_both(&w, &f, v6, res, res, 45003, 1000, p.payload_len);
	assert_refused(&w, "dns-split");
	wfx_stop(&w, t);
}

START_TEST(tcp_dns_split_query_is_refused_ipv4)
{
	split_query_is_refused(false);
}
END_TEST

START_TEST(tcp_dns_split_query_is_refused_ipv6)
{
	split_query_is_refused(true);
}
END_TEST

START_TEST(tcp_dns_two_allowed_pipelined_queries_go_on)
{
	struct dp_worker w;
	struct fb f;
	uint8_t q[600];
	size_t n = 0;
	ck_assert_int_eq(dp_worker_init(&w, 0, 64, 64), 0);
	struct dp_tables *t = tables_v46();
	handshake(&w, t, false, "198.51.100.53", 45004, 1000);
	put_query(q, &n, 0x1111, "www.example.cn");
	put_query(q, &n, 0x2222, "news.example.cn");
	clear_events(&w);
	seg_raw(&f, false, "198.51.100.53", 45004, 1000, 7000, DP_TCP_ACK | 0x08, 12, q, n);
	struct fb before = f;
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	ck_assert_uint_eq(f.len, before.len);
	ck_assert_mem_eq(f.b, before.b, f.len);
	ck_assert_uint_eq(w.extra_len, 0);
	/* one dns event per query, in order */
	unsigned nev = events(&w), k = 0;
	const char *want[2] = { "www.example.cn", "news.example.cn" };
	for (unsigned e = 0; e < nev; e++) {
		if (evs[e].type != EGW_EV_DNS)
			continue;
		ck_assert_uint_lt(k, 2);
		ck_assert_str_eq(evs[e].u.dns.rrname, want[k]);
		ck_assert_int_eq(evs[e].u.dns.id, k ? 0x2222 : 0x1111);
		ck_assert_int_eq(evs[e].u.dns.rcode, -1);
		ck_assert_int_eq(evs[e].action, EGW_EA_ALLOWED);
		k++;
	}
	ck_assert_uint_eq(k, 2);
	/* the stream moved past both: the next query is at a boundary */
	clear_events(&w);
	seg(&f, false, "198.51.100.53", 45004, 1000 + (uint32_t)n, 7100, DP_TCP_ACK, 0,
	    "www.example.cn");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	ck_assert_uint_eq(count_events(&w, EGW_EV_DNS, NULL), 1);
	wfx_stop(&w, t);
}
END_TEST

static void allowed_and_blocked_pipelined(bool v6)
{
	struct dp_worker w;
	struct fb f;
	uint8_t q[600];
	size_t n = 0;
	ck_assert_int_eq(dp_worker_init(&w, 0, 64, 64), 0);
	struct dp_tables *t = tables_v46();
	const char *res = v6 ? "2001:db8:ff::53" : "198.51.100.53";
	handshake(&w, t, v6, res, 45005, 1000);
	put_query(q, &n, 0x1111, "www.example.cn");
	put_query(q, &n, 0x2222, "gmail.com");
	clear_events(&w);
	seg_raw(&f, v6, res, 45005, 1000, 7000, DP_TCP_ACK | 0x08, 12, q, n);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
	assert_reset_both(&w, &f, v6, res, res, 45005, 1000, (uint32_t)n);
	ck_assert_uint_eq(w.st.drops[DP_DROP_DNS_NAME], 1);
	ck_assert_uint_eq(w.st.dns_answers, 0);
	/* both judged and logged; the blocked one says why */
	const struct egw_event *ev = NULL;
	ck_assert_uint_eq(count_events(&w, EGW_EV_DNS, &ev), 2);
	ck_assert_str_eq(ev->u.dns.rrname, "gmail.com");
	ck_assert_int_eq(ev->action, EGW_EA_BLOCKED);
	ck_assert_str_eq(ev->reason, "category:commercial-mail");
	ck_assert_int_eq(ev->u.dns.rcode, -1);
	/* the rest of the connection is dropped */
	seg(&f, v6, res, 45005, 1000 + (uint32_t)n, 7000, DP_TCP_ACK, 0, "www.example.cn");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_DROP);
	ck_assert_uint_eq(w.extra_len, 0);
	wfx_stop(&w, t);
}

START_TEST(tcp_dns_allowed_and_blocked_pipelined_reset_ipv4)
{
	allowed_and_blocked_pipelined(false);
}
END_TEST

START_TEST(tcp_dns_allowed_and_blocked_pipelined_reset_ipv6)
{
	allowed_and_blocked_pipelined(true);
}
END_TEST

START_TEST(tcp_dns_continuation_segment_is_refused)
{
	struct dp_worker w;
	struct fb f;
	ck_assert_int_eq(dp_worker_init(&w, 0, 64, 64), 0);
	struct dp_tables *t = tables_v46();
	handshake(&w, t, false, "198.51.100.53", 45006, 1000);
	seg(&f, false, "198.51.100.53", 45006, 1000, 7000, DP_TCP_ACK, 0, "www.example.cn");
	struct dp_pkt p;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	uint32_t n = p.payload_len;
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	/* Bytes that read as a whole query, 7 bytes into the stream's next
	 * message: for the resolver they are the middle of a message. */
	clear_events(&w);
	seg(&f, false, "198.51.100.53", 45006, 1000 + n + 7, 7000, DP_TCP_ACK, 0, "gmail.com");
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
	assert_reset_both(&w, &f, false, "198.51.100.53", "198.51.100.53", 45006, 1000 + n + 7,
			  p.payload_len);
	assert_refused(&w, "dns-split");
	wfx_stop(&w, t);
}
END_TEST

START_TEST(tcp_dns_retransmission_with_a_blocked_name_is_blocked)
{
	struct dp_worker w;
	struct fb f;
	ck_assert_int_eq(dp_worker_init(&w, 0, 64, 64), 0);
	struct dp_tables *t = tables_v46();
	handshake(&w, t, false, "198.51.100.53", 45007, 1000);
	seg(&f, false, "198.51.100.53", 45007, 1000, 7000, DP_TCP_ACK, 0, "www.example.cn");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	/* the same segment again passes */
	seg(&f, false, "198.51.100.53", 45007, 1000, 7000, DP_TCP_ACK, 0, "www.example.cn");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	/* the "retransmission" now asks for a blocked name of the same
	 * length: judged on its own bytes, answered NXDOMAIN */
	clear_events(&w);
	seg(&f, false, "198.51.100.53", 45007, 1000, 7000, DP_TCP_ACK, 0, "mail.gmail.com");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
	struct dp_pkt p;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.tcp_flags & (DP_TCP_FIN | DP_TCP_RST), DP_TCP_FIN);
	ck_assert_int_eq(f.b[p.payload_off + 2 + 3] & 0x0f, 3);   /* NXDOMAIN */
	ck_assert_uint_gt(w.extra_len, 0);
	const struct egw_event *ev = NULL;
	ck_assert_uint_eq(count_events(&w, EGW_EV_DNS, &ev), 1);
	ck_assert_str_eq(ev->u.dns.rrname, "mail.gmail.com");
	ck_assert_int_eq(ev->u.dns.rcode, 3);
	ck_assert_uint_eq(w.st.dns_answers, 1);
	wfx_stop(&w, t);
}
END_TEST

START_TEST(tcp_dns_syn_after_data_and_undecodable_message_are_refused)
{
	struct dp_worker w;
	struct fb f;
	ck_assert_int_eq(dp_worker_init(&w, 0, 64, 64), 0);
	struct dp_tables *t = tables_v46();
	handshake(&w, t, false, "198.51.100.53", 45008, 1000);
	seg(&f, false, "198.51.100.53", 45008, 1000, 7000, DP_TCP_ACK, 0, "www.example.cn");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	/* A SYN that would move the stream's start elsewhere. */
	clear_events(&w);
	seg(&f, false, "198.51.100.53", 45008, 50000, 0, DP_TCP_SYN, 0, NULL);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
	assert_refused(&w, "dns-split");

	/* A whole message that is not a query the gateway can read (a
	 * compression pointer in the name): refused, not let through. */
	handshake(&w, t, false, "198.51.100.53", 45009, 1000);
	uint8_t q[64];
	size_t n = 0;
	put_query(q, &n, 0x4242, "gmail.com");
	q[2 + 12 + 6] = 0xc0;   /* "gmail" then a pointer */
	q[2 + 12 + 7] = 12;
	clear_events(&w);
	seg_raw(&f, false, "198.51.100.53", 45009, 1000, 7000, DP_TCP_ACK, 0, q, n);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
	assert_reset_both(&w, &f, false, "198.51.100.53", "198.51.100.53", 45009, 1000,
			  (uint32_t)n);
	assert_refused(&w, "dns-malformed");
	ck_assert_uint_eq(w.st.drops[DP_DROP_DNS_MALFORMED], 1);
	wfx_stop(&w, t);
}
END_TEST

START_TEST(tcp_dns_redirected_connection_is_judged)
{
	/* 203.0.113.53 is not approved: the connection goes to the redirect
	 * target 198.51.100.53, and its queries are judged the same. */
	struct dp_worker w;
	struct fb f;
	uint8_t q[600];
	size_t n = 0;
	struct dp_pkt p;
	ck_assert_int_eq(dp_worker_init(&w, 0, 64, 64), 0);
	struct dp_tables *t = tables_v46();
	seg(&f, false, "203.0.113.53", 45010, 999, 0, DP_TCP_SYN, 0, NULL);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.dst[0], 198);
	seg_back(&f, false, "198.51.100.53", 45010, 6999, 1000, DP_TCP_SYN | DP_TCP_ACK);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, true, S), DP_DISP_FORWARD);
	/* an allowed query goes to the target */
	seg(&f, false, "203.0.113.53", 45010, 1000, 7000, DP_TCP_ACK, 0, "www.example.cn");
	uint32_t first = f.len - 54;
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.dst[0], 198);
	/* a continuation: refused */
	put_query(q, &n, 0x1111, "www.example.cn");
	put_query(q, &n, 0x2222, "gmail.com");
	clear_events(&w);
	seg_raw(&f, false, "203.0.113.53", 45010, 1000 + first, 7000, DP_TCP_ACK, 0, q, n);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
	/* to the client from the resolver it asked; to the target the RST */
	assert_reset_both(&w, &f, false, "203.0.113.53", "198.51.100.53", 45010, 1000 + first,
			  (uint32_t)n);
	const struct egw_event *ev = NULL;
	ck_assert_uint_eq(count_events(&w, EGW_EV_DNS, &ev), 2);
	ck_assert_str_eq(ev->u.dns.rrname, "gmail.com");
	ck_assert_int_eq(ev->action, EGW_EA_BLOCKED);
	/* the rest of it is dropped */
	seg(&f, false, "203.0.113.53", 45010, 1000 + first + (uint32_t)n, 7000, DP_TCP_ACK, 0,
	    "www.example.cn");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_DROP);
	wfx_stop(&w, t);
}
END_TEST

START_TEST(tcp_dns_pipelined_tunnel_suspect_is_punted)
{
	struct dp_worker w;
	struct fb f;
	uint8_t q[600];
	size_t n = 0;
	ck_assert_int_eq(dp_worker_init(&w, 0, 64, 64), 0);
	struct dp_tables *t = tables_v46();
	w.ctl_up = true;
	handshake(&w, t, false, "198.51.100.53", 45011, 1000);
	put_query(q, &n, 0x1111, "www.example.cn");
	/* 114 characters: past max_qname (100) */
	put_query(q, &n, 0x2222,
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
		  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.cn");
	clear_events(&w);
	seg_raw(&f, false, "198.51.100.53", 45011, 1000, 7000, DP_TCP_ACK, 0, q, n);
	struct fb before = f;
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_PUNT);
	ck_assert_mem_eq(f.b, before.b, f.len);
	ck_assert_uint_eq(w.st.punts, 1);
	const struct egw_event *ev = NULL;
	ck_assert_uint_eq(count_events(&w, EGW_EV_DNS, &ev), 2);
	ck_assert_str_eq(ev->reason, "tunnel-suspect");
	/* punted, the segment counts as sent: the next one is at a boundary */
	seg(&f, false, "198.51.100.53", 45011, 1000 + (uint32_t)n, 7000, DP_TCP_ACK, 0,
	    "www.example.cn");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	wfx_stop(&w, t);
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	eal_fixture_init(argv[0]);
	Suite *s = suite_create("dp_dnstcp");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, tcp_dns_blocked_category_name_ipv4);
	tcase_add_test(tc, tcp_dns_canary_ipv4);
	tcase_add_test(tc, tcp_dns_blocked_category_name_ipv6);
	tcase_add_test(tc, tcp_dns_split_query_is_refused_ipv4);
	tcase_add_test(tc, tcp_dns_split_query_is_refused_ipv6);
	tcase_add_test(tc, tcp_dns_two_allowed_pipelined_queries_go_on);
	tcase_add_test(tc, tcp_dns_allowed_and_blocked_pipelined_reset_ipv4);
	tcase_add_test(tc, tcp_dns_allowed_and_blocked_pipelined_reset_ipv6);
	tcase_add_test(tc, tcp_dns_continuation_segment_is_refused);
	tcase_add_test(tc, tcp_dns_retransmission_with_a_blocked_name_is_blocked);
	tcase_add_test(tc, tcp_dns_syn_after_data_and_undecodable_message_are_refused);
	tcase_add_test(tc, tcp_dns_redirected_connection_is_judged);
	tcase_add_test(tc, tcp_dns_pipelined_tunnel_suspect_is_punted);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s);
}
