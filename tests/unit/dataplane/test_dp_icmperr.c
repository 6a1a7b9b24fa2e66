/* SPDX-License-Identifier: MIT */
/* ICMP and ICMPv6 errors through the worker: one about a flow the gateway
 * passes (PMTU discovery: fragmentation needed, packet too big; a port
 * unreachable from the terminal) passes with that flow, one about a blocked
 * flow is dropped with it, one about no flow (or addressed to someone else,
 * or with a cut quote, or after the flow timed out) is dropped and counted
 * as icmp-error-no-flow. */
#include <check.h>

#include <rte_eal.h>
#include <string.h>

#include "dp_icmperr.h"
#include "dp_parse.h"
#include "dp_tables.h"
#include "eal_fixture.h"
#include "dp_worker.h"
#include "frame_builder.h"
#include "policy_fixture.h"
#include "worker_fixture.h"

#define ZW_MAC "02:00:0a:01:00:0a"
#define WF_MAC "02:00:0a:02:00:14"
#define RT_MAC "02:ee:00:00:00:02"
#define S 1000000ull

/* The packet an error quotes: IP header + the first 8 bytes of L4. */
struct q {
	uint8_t b[128];
	uint32_t len;
};

static void quote4(struct q *q, const char *src, const char *dst, uint8_t proto,
		   uint16_t sport, uint16_t dport)
{
	struct fb f;
	fb_eth(&f, ZW_MAC, 0x0800, 0);
	fb_ipv4(&f, src, dst, proto, 40, 0, 0, 0);
	if (proto == 1)
		fb_icmp_echo(&f, 8, sport);
	else
		fb_tcp(&f, sport, dport, DP_TCP_ACK);
	q->len = f.len - 14;
	memcpy(q->b, f.b + 14, q->len);
}

static void quote6(struct q *q, const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
	struct fb f;
	fb_eth(&f, ZW_MAC, 0x86dd, 0);
	fb_ipv6(&f, src, dst, 6, 20);
	fb_tcp(&f, sport, dport, DP_TCP_ACK);
	q->len = f.len - 14;
	memcpy(q->b, f.b + 14, q->len);
}

/* ICMP (IPv4) or ICMPv6 error type/code from src to dst quoting q (its
 * first cut bytes when cut is not 0). */
static void icmp_err(struct fb *f, const char *mac, bool v6, const char *src, const char *dst,
		     uint8_t type, uint8_t code, const struct q *q, uint32_t cut)
{
	uint32_t n = cut ? cut : q->len;
	uint8_t *h;
	fb_eth(f, mac, v6 ? 0x86dd : 0x0800, 0);
	if (v6)
		h = fb_ipv6(f, src, dst, 58, 8 + n);
	else
		h = fb_ipv4(f, src, dst, 1, 8 + n, 0, 0, 0);
	memset(h, 0, 8);
	h[0] = type;
	h[1] = code;
	if (type == 3 && code == 4)
		fb_put16(h + 6, 1400);   /* next-hop MTU */
	if (v6 && type == 2)
		fb_put16(h + 6, 1280);   /* MTU (low half) */
	memcpy(h + 8, q->b, n);
	f->len += 8 + n;
}

static enum dp_disp in(struct dp_worker *w, const struct dp_tables *t, struct fb *f,
		       uint64_t now)
{
	return dp_worker_packet(w, t, f->b, &f->len, false, now);
}

static enum dp_disp out(struct dp_worker *w, const struct dp_tables *t, struct fb *f,
			uint64_t now)
{
	return dp_worker_packet(w, t, f->b, &f->len, true, now);
}

START_TEST(errors_about_an_allowed_flow_pass_with_it)
{
	struct dp_worker w;
	struct fb f;
	struct q q;
	struct dp_tables *t = wfx_start(&w, 64, 64);

	/* zhang.wei's HTTPS connection to 198.51.100.80 (CN-GD: allowed). */
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 40000, 443, DP_TCP_SYN);
	ck_assert_int_eq(in(&w, t, &f, S), DP_DISP_FORWARD);
	uint32_t flows = w.ft.n;

	/* A router on the way: fragmentation needed, for PMTU discovery. */
	quote4(&q, "10.1.0.10", "198.51.100.80", 6, 40000, 443);
	icmp_err(&f, RT_MAC, false, "198.51.100.1", "10.1.0.10", 3, 4, &q, 0);
	ck_assert_int_eq(out(&w, t, &f, S + 1), DP_DISP_FORWARD);
	/* Time exceeded (traceroute) about the same connection. */
	icmp_err(&f, RT_MAC, false, "198.51.100.1", "10.1.0.10", 11, 0, &q, 0);
	ck_assert_int_eq(out(&w, t, &f, S + 2), DP_DISP_FORWARD);
	ck_assert_uint_eq(w.st.icmp_errors, 2);
	ck_assert_uint_eq(w.ft.n, flows);   /* no flow of its own */

	/* The terminal's port unreachable about the server's datagram. */
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 40001, 5000);
	ck_assert_int_eq(in(&w, t, &f, S + 3), DP_DISP_FORWARD);
	quote4(&q, "198.51.100.80", "10.1.0.10", 17, 5000, 40001);
	icmp_err(&f, ZW_MAC, false, "10.1.0.10", "198.51.100.80", 3, 3, &q, 0);
	ck_assert_int_eq(in(&w, t, &f, S + 4), DP_DISP_FORWARD);

	/* An echo request that met a TTL of zero. */
	fb_eth(&f, ZW_MAC, 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "198.51.100.80", 1, 8, 0, 0, 0);
	fb_icmp_echo(&f, 8, 77);
	ck_assert_int_eq(in(&w, t, &f, S + 5), DP_DISP_FORWARD);
	quote4(&q, "10.1.0.10", "198.51.100.80", 1, 77, 0);
	icmp_err(&f, RT_MAC, false, "198.51.100.1", "10.1.0.10", 11, 0, &q, 0);
	ck_assert_int_eq(out(&w, t, &f, S + 6), DP_DISP_FORWARD);
	ck_assert_uint_eq(w.st.icmp_errors, 4);
	ck_assert_uint_eq(w.st.drops[DP_DROP_ICMP_NO_FLOW], 0);
	wfx_stop(&w, t);
}
END_TEST

START_TEST(packet_too_big_ipv6)
{
	struct dp_worker w;
	struct fb f;
	struct q q;
	struct dp_tables *t = wfx_start(&w, 64, 64);
	fb_eth(&f, ZW_MAC, 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::80", 6, 20);
	fb_tcp(&f, 45000, 443, DP_TCP_SYN);
	ck_assert_int_eq(in(&w, t, &f, S), DP_DISP_FORWARD);
	quote6(&q, "2001:db8:1::10", "2001:db8:ff::80", 45000, 443);
	icmp_err(&f, RT_MAC, true, "2001:db8:ff::1", "2001:db8:1::10", 2, 0, &q, 0);
	ck_assert_int_eq(out(&w, t, &f, S + 1), DP_DISP_FORWARD);
	ck_assert_uint_eq(w.st.icmp_errors, 1);
	/* The same about another port: no flow. */
	quote6(&q, "2001:db8:1::10", "2001:db8:ff::80", 45001, 443);
	icmp_err(&f, RT_MAC, true, "2001:db8:ff::1", "2001:db8:1::10", 2, 0, &q, 0);
	ck_assert_int_eq(out(&w, t, &f, S + 2), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_ICMP_NO_FLOW], 1);
	wfx_stop(&w, t);
}
END_TEST

START_TEST(errors_about_no_flow_are_dropped_and_counted)
{
	struct dp_worker w;
	struct fb f;
	struct q q;
	struct dp_tables *t = wfx_start(&w, 64, 64);
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 40000, 443, DP_TCP_SYN);
	ck_assert_int_eq(in(&w, t, &f, S), DP_DISP_FORWARD);
	uint64_t n = 0;

	/* About a connection nobody opened. */
	quote4(&q, "10.1.0.10", "198.51.100.80", 6, 40999, 443);
	icmp_err(&f, RT_MAC, false, "198.51.100.1", "10.1.0.10", 3, 1, &q, 0);
	ck_assert_int_eq(out(&w, t, &f, S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_ICMP_NO_FLOW], ++n);
	/* About the flow, but sent to another terminal. */
	quote4(&q, "10.1.0.10", "198.51.100.80", 6, 40000, 443);
	icmp_err(&f, RT_MAC, false, "198.51.100.1", "10.1.0.11", 3, 4, &q, 0);
	ck_assert_int_eq(out(&w, t, &f, S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_ICMP_NO_FLOW], ++n);
	/* Pointing the wrong way: from the inside about our own packet. */
	icmp_err(&f, ZW_MAC, false, "10.1.0.10", "198.51.100.80", 3, 3, &q, 0);
	ck_assert_int_eq(in(&w, t, &f, S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_ICMP_NO_FLOW], ++n);
	/* A quote cut inside the ports, and one cut inside the IP header. */
	icmp_err(&f, RT_MAC, false, "198.51.100.1", "10.1.0.10", 3, 4, &q, 20 + 3);
	ck_assert_int_eq(out(&w, t, &f, S), DP_DISP_DROP);
	icmp_err(&f, RT_MAC, false, "198.51.100.1", "10.1.0.10", 3, 4, &q, 12);
	ck_assert_int_eq(out(&w, t, &f, S), DP_DISP_DROP);
	n += 2;
	ck_assert_uint_eq(w.st.drops[DP_DROP_ICMP_NO_FLOW], n);
	/* A later fragment quoted (no ports). */
	q.b[6] = 0x00;
	q.b[7] = 0x10;
	icmp_err(&f, RT_MAC, false, "198.51.100.1", "10.1.0.10", 3, 4, &q, 0);
	ck_assert_int_eq(out(&w, t, &f, S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_ICMP_NO_FLOW], ++n);
	/* After the flow timed out (an unanswered SYN: well under a day). */
	quote4(&q, "10.1.0.10", "198.51.100.80", 6, 40000, 443);
	icmp_err(&f, RT_MAC, false, "198.51.100.1", "10.1.0.10", 3, 4, &q, 0);
	ck_assert_int_eq(out(&w, t, &f, S + 86400 * S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_ICMP_NO_FLOW], ++n);
	ck_assert_uint_eq(w.st.icmp_errors, 0);
	wfx_stop(&w, t);
}
END_TEST

START_TEST(errors_about_a_blocked_flow_are_dropped_with_it)
{
	struct dp_worker w;
	struct fb f;
	struct q q;
	struct dp_tables *t = wfx_start(&w, 64, 64);
	/* wang.fang (health) may not reach the US. */
	fb_tcp4(&f, WF_MAC, "10.2.0.20", "203.0.113.80", 40000, 80, DP_TCP_SYN);
	ck_assert_int_eq(in(&w, t, &f, S), DP_DISP_DROP);
	uint64_t before = w.st.drops[DP_DROP_PROFILE];
	ck_assert_uint_gt(before, 0);
	quote4(&q, "10.2.0.20", "203.0.113.80", 6, 40000, 80);
	icmp_err(&f, RT_MAC, false, "203.0.113.1", "10.2.0.20", 3, 1, &q, 0);
	ck_assert_int_eq(out(&w, t, &f, S + 1), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_PROFILE], before + 1);
	ck_assert_uint_eq(w.st.drops[DP_DROP_ICMP_NO_FLOW], 0);
	wfx_stop(&w, t);
}
END_TEST

START_TEST(quoted_key_is_bounds_checked)
{
	/* Every cut of a valid error parses to a key or to -1, never past
	 * the frame (ASan would catch it). */
	struct fb f;
	struct q q;
	struct dp_pkt p;
	struct dp_flow_key k;
	quote6(&q, "2001:db8:1::10", "2001:db8:ff::80", 45000, 443);
	for (uint32_t cut = 1; cut <= q.len; cut++) {
		icmp_err(&f, RT_MAC, true, "2001:db8:ff::1", "2001:db8:1::10", 1, 4, &q, cut);
		ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
		int r = dp_icmperr_key(f.b, &p, true, &k);
		ck_assert_int_eq(r, cut >= 48 ? 0 : -1);
		if (!r) {
			ck_assert_int_eq(k.in_port, 45000);
			ck_assert_int_eq(k.out_port, 443);
			ck_assert_int_eq(k.in_ip[15], 0x10);
		}
	}
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	eal_fixture_init(argv[0]);
	Suite *s = suite_create("dp_icmperr");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, errors_about_an_allowed_flow_pass_with_it);
	tcase_add_test(tc, packet_too_big_ipv6);
	tcase_add_test(tc, errors_about_no_flow_are_dropped_and_counted);
	tcase_add_test(tc, errors_about_a_blocked_flow_are_dropped_with_it);
	tcase_add_test(tc, quoted_key_is_bounds_checked);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s);
}
