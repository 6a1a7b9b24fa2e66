/* SPDX-License-Identifier: MIT */
/* Chained (multi-segment) mbufs through dp_burst: headers that span
 * segments are read as if the frame were one buffer (a query for a blocked
 * name split inside its IP header is still answered NXDOMAIN, an allowed
 * connection is forwarded byte for byte), whether the first segment has room
 * for the rest or not; only a frame longer than one buffer of its pool is
 * dropped, counted as multi-segment. */
#include <check.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "burst_out.h"
#include "dp_burst.h"
#include "dp_parse.h"
#include "dp_tables.h"
#include "dp_worker.h"
#include "eal_fixture.h"
#include "frame_builder.h"
#include "policy_fixture.h"
#include "worker_fixture.h"

#define ZW_MAC "02:00:0a:01:00:0a"
#define S 1000000ull

/* frame split into segments at the given cut points (ascending, 0-ended).
 * full: the first segment's buffer is filled to its end (no tailroom). */
static struct rte_mbuf *chain(struct rte_mempool *mp, const uint8_t *b, uint32_t len,
			      const uint32_t *cuts, bool full)
{
	struct rte_mbuf *head = NULL;
	uint32_t at = 0;
	for (unsigned i = 0;; i++) {
		uint32_t end = cuts[i] ? cuts[i] : len;
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		ck_assert_ptr_nonnull(m);
		if (!head && full)
			m->data_off = (uint16_t)(m->buf_len - (end - at));
		char *d = rte_pktmbuf_append(m, (uint16_t)(end - at));
		ck_assert_ptr_nonnull(d);
		memcpy(d, b + at, end - at);
		if (!head)
			head = m;
		else
			ck_assert_int_eq(rte_pktmbuf_chain(head, m), 0);
		at = end;
		if (!cuts[i])
			break;
	}
	ck_assert_uint_eq(head->pkt_len, len);
	return head;
}

static void dns_query4(struct fb *f, const char *dst, const char *name)
{
	uint8_t q[64];
	size_t n = fb_dns_query(q, 0x7700, name);
	fb_eth(f, ZW_MAC, 0x0800, 0);
	uint8_t *u = fb_ipv4(f, "10.1.0.10", dst, 17, 8 + (uint32_t)n, 0, 0, 0);
	fb_udp(f, 33333, 53, (uint32_t)n);
	memcpy(u + 8, q, n);
}

static void run(struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf *m, struct burst_out *o)
{
	struct rte_mbuf *pkts[1] = { m };
	dp_burst(w, t, pkts, 1, false, S, o->fwd, &o->nf, o->punt, &o->np, o->reply, &o->nr);
}

static void blocked_query_split(bool full)
{
	struct rte_mempool *mp = wfx_pool(full ? "t_ms_full" : "t_ms_room", 64, 2048);
	struct dp_worker w;
	struct fb f;
	struct burst_out o;
	struct dp_pkt p;
	struct dp_tables *t = wfx_start(&w, 64, 64);

	/* Cut inside the Ethernet header, the IPv4 header and the UDP header. */
	dns_query4(&f, "198.51.100.53", "mail.qq.com");
	static const uint32_t cuts[] = { 9, 14 + 7, 14 + 20 + 5, 0 };
	struct rte_mbuf *m = chain(mp, f.b, f.len, cuts, full);
	ck_assert_uint_eq(m->nb_segs, 4);
	run(&w, t, m, &o);
	ck_assert_uint_eq(o.nr, 1);
	ck_assert_uint_eq(o.nf + o.np, 0);
	ck_assert_uint_eq(o.reply[0]->nb_segs, 1);
	const uint8_t *a = rte_pktmbuf_mtod(o.reply[0], const uint8_t *);
	ck_assert_int_eq(dp_parse(a, o.reply[0]->data_len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.sport, 53);
	ck_assert_int_eq(p.dst[3], 10);
	ck_assert_int_eq(a[p.payload_off], 0x77);
	ck_assert_int_eq(a[p.payload_off + 3] & 0x0f, 3);   /* NXDOMAIN */
	ck_assert_uint_eq(w.st.drops[DP_DROP_MULTI_SEGMENT], 0);
	burst_out_free(&o);

	/* An allowed connection, split in its TCP header: forwarded as sent. */
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 40000, 443, DP_TCP_SYN);
	static const uint32_t cuts2[] = { 14 + 20 + 6, 0 };
	m = chain(mp, f.b, f.len, cuts2, full);
	run(&w, t, m, &o);
	ck_assert_uint_eq(o.nf, 1);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(o.fwd[0]), f.len);
	ck_assert_uint_eq(o.fwd[0]->nb_segs, 1);
	ck_assert_mem_eq(rte_pktmbuf_mtod(o.fwd[0], const uint8_t *), f.b, f.len);
	ck_assert_uint_eq(w.st.rx_pkts[DP_PORT_INSIDE], 2);
	burst_out_free(&o);

	wfx_stop(&w, t);
	rte_mempool_free(mp);
}

START_TEST(headers_across_segments_first_has_room)
{
	blocked_query_split(false);
}
END_TEST

START_TEST(headers_across_segments_first_is_full)
{
	blocked_query_split(true);
}
END_TEST

START_TEST(frame_longer_than_a_buffer_is_dropped_and_counted)
{
	/* Buffers of 256 bytes; a 300-byte frame in two of them cannot be
	 * made one. */
	struct rte_mempool *mp = wfx_pool("t_ms_small", 64, 256);
	struct dp_worker w;
	struct fb f;
	struct burst_out o;
	struct dp_tables *t = wfx_start(&w, 64, 64);
	fb_eth(&f, ZW_MAC, 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "198.51.100.80", 17, 8 + 258, 0, 0, 0);
	fb_udp(&f, 40000, 5000, 258);
	ck_assert_uint_eq(f.len, 300);
	static const uint32_t cuts[] = { 150, 0 };
	struct rte_mbuf *m = chain(mp, f.b, f.len, cuts, true);
	unsigned avail = rte_mempool_avail_count(mp);
	run(&w, t, m, &o);
	ck_assert_uint_eq(o.nf + o.np + o.nr, 0);
	ck_assert_uint_eq(w.st.drops[DP_DROP_MULTI_SEGMENT], 1);
	ck_assert_uint_eq(w.st.rx_pkts[DP_PORT_INSIDE], 1);
	ck_assert_uint_eq(w.st.rx_bytes[DP_PORT_INSIDE], 300);
	ck_assert_uint_eq(rte_mempool_avail_count(mp), avail + 2);   /* both segments freed */
	wfx_stop(&w, t);
	rte_mempool_free(mp);
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	eal_fixture_init(argv[0]);
	Suite *s = suite_create("dp_multiseg");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, headers_across_segments_first_has_room);
	tcase_add_test(tc, headers_across_segments_first_is_full);
	tcase_add_test(tc, frame_longer_than_a_buffer_is_dropped_and_counted);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s);
}
