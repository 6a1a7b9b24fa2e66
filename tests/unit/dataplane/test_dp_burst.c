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

int main(int argc, char **argv)
{
	(void)argc;
	eal_fixture_init(argv[0]);
	Suite *s = suite_create("dp_burst");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, new_flows_evict_in_order_one_at_a_time);
	tcase_add_test(tc, new_flows_evict_in_order_in_bursts);
	tcase_add_test(tc, new_flows_evict_in_order_in_odd_bursts);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s);
}
