/* SPDX-License-Identifier: MIT */
/* DNS over TCP for a blocked name, as `dig +tcp` sees it: the gateway itself
 * answers NXDOMAIN on the client's connection (right seq/ack, valid
 * checksums, IPv4 and IPv6), the query never goes on, the connection toward
 * the resolver is reset; an allowed name over TCP still passes. */
#include <check.h>

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

/* A DNS query message for name (type A, id 0x4242, RD). */
static size_t dns_msg(uint8_t *q, const char *name)
{
	return fb_dns_query(q, 0x4242, name);
}

/*
 * A TCP segment from the terminal (IPv4 when v6 is NULL) to dst:53 from
 * port sport with seq/ack, flags, and optlen bytes of TCP options (NOPs and
 * a timestamp, as Linux sends them); with name, the payload is the
 * length-prefixed query for it.
 */
static void seg(struct fb *f, bool v6, const char *dst, uint16_t sport, uint32_t seq,
		uint32_t ack, uint8_t flags, unsigned optlen, const char *name)
{
	uint8_t q[300];
	size_t qn = name ? dns_msg(q + 2, name) : 0;
	if (name)
		fb_put16(q, (uint16_t)qn);
	uint32_t pay = name ? (uint32_t)qn + 2 : 0, l4 = 20 + optlen + pay;
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
	memcpy(f->b + f->len, q, pay);
	f->len += pay;
	set_csums(f);
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

START_TEST(tcp_dns_query_split_over_segments_is_not_answered)
{
	/* Half a query (the length says more follows): never answered from
	 * a guess, and the name is not judged; the segment goes on. */
	struct dp_worker w;
	struct fb f;
	struct dp_tables *t = wfx_start(&w, 64, 64);
	seg(&f, false, "198.51.100.53", 45002, 1, 0, DP_TCP_SYN, 0, NULL);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	seg(&f, false, "198.51.100.53", 45002, 2, 1, DP_TCP_ACK, 0, "mail.qq.com");
	struct dp_pkt p;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	f.b[p.payload_off + 1] += 10;   /* the length claims 10 more bytes */
	set_csums(&f);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	ck_assert_uint_eq(w.st.dns_answers, 0);
	ck_assert_uint_eq(w.extra_len, 0);
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
	tcase_add_test(tc, tcp_dns_query_split_over_segments_is_not_answered);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s);
}
