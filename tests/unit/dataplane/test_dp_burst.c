/* SPDX-License-Identifier: MIT */
/* New flows through dp_burst into a full flow table: each new flow evicts
 * the least recently used one, whose end event ("evicted") names that flow
 * with its own counters, in order, before the new flow's event; every
 * packet goes on as its verdict says (a table of CAP <= DP_FLOW_EVICT_SAMPLE
 * entries is exact LRU; flows of one burst share a time and leave first in,
 * first out). (The burst prefetches the eviction's sample ahead of the
 * evictions; this checks that the evictions it prepares for come out right
 * whatever the burst size.) */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "burst_out.h"
#include "dp_burst.h"
#include "dp_parse.h"
#include "dp_tables.h"
#include "dp_worker.h"
#include "eal_fixture.h"
#include "event_view.h"
#include "frame_builder.h"
#include "policy_fixture.h"
#include "worker_fixture.h"

#define ZW_MAC "02:00:0a:01:00:0a"
#define S 1000000ull
#define CAP 4
_Static_assert(CAP <= DP_FLOW_EVICT_SAMPLE, "test_dp_burst: exact LRU needs a small table");
#define N 40
_Static_assert(N <= BURST_OUT_MAX, "one burst_out holds a whole run");

static struct rte_mbuf *syn(struct rte_mempool *mp, uint16_t sport)
{
	struct fb f;
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", sport, 443, DP_TCP_SYN);
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	ck_assert_ptr_nonnull(m);
	char *d = rte_pktmbuf_append(m, (uint16_t)f.len);
	ck_assert_ptr_nonnull(d);
	memcpy(d, f.b, f.len);
	return m;
}

static void full_table_burst(uint16_t burst)
{
	char name[32];
	snprintf(name, sizeof(name), "t_burst_%u", burst);   /* one per test */
	struct rte_mempool *mp = wfx_pool(name, 256, RTE_MBUF_DEFAULT_DATAROOM);
	struct dp_worker w;
	struct dp_tables *t = wfx_start(&w, CAP, 256);

	/* Flows 40000.. (one SYN each), in bursts of `burst`, then one more
	 * packet of each of the last CAP flows. */
	uint16_t sent = 0;
	while (sent < N) {
		struct rte_mbuf *pkts[N];
		uint16_t n = N - sent < burst ? (uint16_t)(N - sent) : burst;
		for (uint16_t i = 0; i < n; i++)
			pkts[i] = syn(mp, (uint16_t)(40000 + sent + i));
		struct burst_out o;
		dp_burst(&w, t, pkts, n, false, S + sent, o.fwd, &o.nf, o.punt, &o.np,
			 o.reply, &o.nr);
		ck_assert_uint_eq(o.nf, n);   /* allowed: forwarded */
		burst_out_free(&o);
		sent += n;
	}
	ck_assert_uint_eq(w.ft.n, CAP);
	ck_assert_uint_eq(w.ft.st.created, N);
	ck_assert_uint_eq(w.ft.st.evicted, N - CAP);

	/* Events: each flow's start; from the (CAP+1)th on, the eviction of
	 * the oldest flow right before it. */
	unsigned ne = events(&w);
	ck_assert_uint_eq(ne, N + (N - CAP));
	unsigned e = 0;
	uint64_t ids[N];
	for (unsigned i = 0; i < N; i++) {
		if (i >= CAP) {
			const struct egw_event *x = &evs[e++];
			ck_assert_uint_eq(x->type, EGW_EV_FLOW);
			ck_assert_str_eq(x->u.flow.reason, "evicted");
			ck_assert_uint_eq(x->src_port, 40000 + i - CAP);
			ck_assert_uint_eq(x->flow_id, ids[i - CAP]);
			ck_assert_uint_eq(x->u.flow.pkts_toserver, 1);
			ck_assert_uint_eq(x->u.flow.start_us, S + (i - CAP) / burst * burst);
		}
		const struct egw_event *x = &evs[e++];
		ck_assert_uint_eq(x->type, EGW_EV_FLOW);
		ck_assert_str_eq(x->u.flow.reason, "");
		ck_assert_uint_eq(x->src_port, 40000 + i);
		ids[i] = x->flow_id;
		for (unsigned j = 0; j < i; j++)
			ck_assert_uint_ne(ids[j], ids[i]);
	}
	clear_events(&w);
	/* The last CAP flows are still there: their next packets are no new
	 * flows (no event, nothing evicted). */
	struct rte_mbuf *pkts[CAP];
	for (uint16_t i = 0; i < CAP; i++)
		pkts[i] = syn(mp, (uint16_t)(40000 + N - CAP + i));
	struct burst_out o;
	dp_burst(&w, t, pkts, CAP, false, 2 * S, o.fwd, &o.nf, o.punt, &o.np, o.reply, &o.nr);
	ck_assert_uint_eq(o.nf, CAP);
	burst_out_free(&o);
	ck_assert_uint_eq(events(&w), 0);
	ck_assert_uint_eq(w.ft.st.evicted, N - CAP);

	wfx_stop(&w, t);
	rte_mempool_free(mp);
}

START_TEST(new_flows_evict_in_order_one_at_a_time)
{
	full_table_burst(1);
}
END_TEST

START_TEST(new_flows_evict_in_order_in_bursts)
{
	full_table_burst(32);
}
END_TEST

START_TEST(new_flows_evict_in_order_in_odd_bursts)
{
	full_table_burst(7);
}
END_TEST

/* frame into a new mbuf of mp. */
static struct rte_mbuf *mbuf_of(struct rte_mempool *mp, const struct fb *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	ck_assert_ptr_nonnull(m);
	char *d = rte_pktmbuf_append(m, (uint16_t)f->len);
	ck_assert_ptr_nonnull(d);
	memcpy(d, f->b, f->len);
	return m;
}

/* A client segment of connection sport -> 198.51.100.80:80 carrying data. */
static struct rte_mbuf *data(struct rte_mempool *mp, uint16_t sport, const char *text)
{
	struct fb f;
	size_t n = strlen(text);
	fb_eth(&f, ZW_MAC, 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "198.51.100.80", 6, 20 + (uint32_t)n, 0, 0, 0);
	fb_tcp(&f, sport, 80, DP_TCP_ACK | 0x08);
	memcpy(f.b + f.len, text, n);
	f.len += (uint32_t)n;
	return mbuf_of(mp, &f);
}

/* (sport, dport, TCP flags) of frame m. */
static void ports_flags(const struct rte_mbuf *m, uint16_t sport, uint16_t dport, uint8_t flags)
{
	struct dp_pkt p;
	ck_assert_int_eq(dp_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &p),
			 DP_DROP_NONE);
	ck_assert_uint_eq(p.sport, sport);
	ck_assert_uint_eq(p.dport, dport);
	ck_assert_uint_eq(p.tcp_flags & (DP_TCP_RST | DP_TCP_SYN), flags);
}

START_TEST(two_resets_in_one_burst_each_send_their_rst_to_the_server)
{
	/* The worker leaves the RST to the server of a blocked connection in
	 * one place (w->extra): the burst sends it before the next packet is
	 * processed, so two blocked connections in one burst both reach their
	 * servers, in the burst's order, among the packets forwarded. */
	struct rte_mempool *mp = wfx_pool("t_burst_rst", 64, RTE_MBUF_DEFAULT_DATAROOM);
	struct dp_worker w;
	struct dp_tables *t = wfx_start(&w, 64, 256);
	struct rte_mbuf *pkts[5];
	struct burst_out o;
	struct fb f;

	for (uint16_t i = 0; i < 3; i++) {
		fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", (uint16_t)(41000 + i), 80,
			DP_TCP_SYN);
		pkts[i] = mbuf_of(mp, &f);
	}
	dp_burst(&w, t, pkts, 3, false, S, o.fwd, &o.nf, o.punt, &o.np, o.reply, &o.nr);
	ck_assert_uint_eq(o.nf, 3);
	burst_out_free(&o);

	static const char blocked[] = "GET /inbox HTTP/1.1\r\nHost: mail.qq.com\r\n\r\n";
	pkts[0] = data(mp, 41000, blocked);
	pkts[1] = data(mp, 41002, "GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n");
	pkts[2] = data(mp, 41001, blocked);
	pkts[3] = data(mp, 41002, "more");
	pkts[4] = data(mp, 41000, "more");   /* after its reset: dropped */
	dp_burst(&w, t, pkts, 5, false, 2 * S, o.fwd, &o.nf, o.punt, &o.np, o.reply, &o.nr);
	ck_assert_uint_eq(o.np, 0);
	ck_assert_uint_eq(o.nr, 2);   /* the frames themselves: RSTs to the clients */
	ports_flags(o.reply[0], 80, 41000, DP_TCP_RST);
	ports_flags(o.reply[1], 80, 41001, DP_TCP_RST);
	ck_assert_uint_eq(o.nf, 4);
	ports_flags(o.fwd[0], 41000, 80, DP_TCP_RST);   /* to the server */
	ports_flags(o.fwd[1], 41002, 80, 0);
	ports_flags(o.fwd[2], 41001, 80, DP_TCP_RST);
	ports_flags(o.fwd[3], 41002, 80, 0);
	ck_assert_uint_eq(o.fwd[3]->data_len, 14 + 20 + 20 + 4);
	burst_out_free(&o);
	ck_assert_uint_eq(w.st.resets, 2);
	ck_assert_uint_eq(w.st.rx_pkts[DP_PORT_INSIDE], 8);

	wfx_stop(&w, t);
	rte_mempool_free(mp);
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	eal_fixture_init(argv[0]);
	Suite *s = suite_create("dp_burst");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, new_flows_evict_in_order_one_at_a_time);
	tcase_add_test(tc, new_flows_evict_in_order_in_bursts);
	tcase_add_test(tc, new_flows_evict_in_order_in_odd_bursts);
	tcase_add_test(tc, two_resets_in_one_burst_each_send_their_rst_to_the_server);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s);
}
