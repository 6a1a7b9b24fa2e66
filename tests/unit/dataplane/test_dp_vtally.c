/* SPDX-License-Identifier: MIT */
/* Control-plane verdicts for flows that are gone: counted once across
 * workers (control_verdicts_no_flow in the stats), never for a verdict one
 * worker took, nor for one some worker never received. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include <egw/ipc.h>

#include <rte_eal.h>

#include "dp_stats.h"
#include "dp_tables.h"
#include "dp_vtally.h"
#include "dp_worker.h"
#include "eal_fixture.h"
#include "frame_builder.h"
#include "policy_fixture.h"
#include "worker_fixture.h"

#define LN_MAC "02:00:0a:01:00:0b"
#define S 1000000ull

START_TEST(tally_counts_a_verdict_once_when_no_worker_had_it)
{
	static struct dp_vtally t;
	dp_vtally_init(&t);
	/* Taken by one of three workers: never counted. */
	uint32_t a = dp_vtally_open(&t, 3);
	ck_assert(!dp_vtally_miss(&t, a));
	ck_assert(!dp_vtally_miss(&t, a));
	/* Missed by all three: the last one counts it. */
	uint32_t b = dp_vtally_open(&t, 3);
	ck_assert(!dp_vtally_miss(&t, b));
	ck_assert(!dp_vtally_miss(&t, b));
	ck_assert(dp_vtally_miss(&t, b));
	/* One worker never got it (its ring was full): not counted. */
	uint32_t c = dp_vtally_open(&t, 3);
	ck_assert(!dp_vtally_miss(&t, c));
	dp_vtally_cancel(&t, c);
	ck_assert(!dp_vtally_miss(&t, c));
	/* One worker: its miss is the verdict's. */
	uint32_t d = dp_vtally_open(&t, 1);
	ck_assert(dp_vtally_miss(&t, d));
	/* Slots are reused round the ring. */
	for (unsigned i = 0; i < DP_VTALLY_SLOTS; i++)
		(void)dp_vtally_open(&t, 2);
	uint32_t e = dp_vtally_open(&t, 2);
	ck_assert_uint_eq(e, (d + DP_VTALLY_SLOTS + 1) % DP_VTALLY_SLOTS);
	ck_assert(!dp_vtally_miss(&t, e));
	ck_assert(dp_vtally_miss(&t, e));
}
END_TEST

static void verdict_for(struct egw_ipc_flow_verdict *v, uint16_t sport)
{
	memset(v, 0, sizeof(*v));
	egw_ipc_hdr_init(&v->hdr, EGW_IPC_FLOW_VERDICT, sizeof(*v), 1);
	v->family = AF_INET;
	v->proto = 6;
	v->verdict = EGW_IPC_V_ALLOW;
	v->src_port = sport;
	v->dst_port = 22;
	memcpy(v->src_ip, (uint8_t[]){ 10, 1, 0, 11 }, 4);
	memcpy(v->dst_ip, (uint8_t[]){ 203, 0, 113, 80 }, 4);
}

/* What the port loop does with a verdict for n workers. */
static void deliver(struct dp_vtally *t, struct dp_worker **w, unsigned n,
		    const struct egw_ipc_flow_verdict *v)
{
	struct egw_ipc_flow_verdict copy = *v;
	copy.hdr.seq = dp_vtally_open(t, n);
	for (unsigned i = 0; i < n; i++)
		if (dp_worker_install(w[i], &copy) == -ENOENT && dp_vtally_miss(t, copy.hdr.seq))
			w[i]->st.verdicts_no_flow++;
}

START_TEST(verdict_for_a_timed_out_flow_is_counted_in_stats)
{
	static struct dp_vtally tally;
	struct dp_worker w0, w1;
	struct dp_worker *ws[2] = { &w0, &w1 };
	struct fb f;
	struct egw_ipc_flow_verdict v;
	dp_vtally_init(&tally);
	ck_assert_int_eq(dp_worker_init(&w0, 0, 64, 64), 0);
	ck_assert_int_eq(dp_worker_init(&w1, 1, 64, 64), 0);
	struct dp_tables *t = wfx_tables(fixture_policy());
	w0.ctl_up = true;

	/* li.na's SSH to the US is punted; worker 0 holds the flow. */
	fb_tcp4(&f, LN_MAC, "10.1.0.11", "203.0.113.80", 42000, 22, DP_TCP_SYN);
	ck_assert_int_eq(dp_worker_packet(&w0, t, f.b, &f.len, false, S), DP_DISP_PUNT);
	verdict_for(&v, 42000);
	deliver(&tally, ws, 2, &v);
	ck_assert_uint_eq(w0.st.verdicts_no_flow + w1.st.verdicts_no_flow, 0);
	ck_assert_int_eq(dp_worker_packet(&w0, t, f.b, &f.len, false, S), DP_DISP_FORWARD);

	/* The flow times out; the control plane's late verdict finds nothing. */
	dp_worker_tick(&w0, t, S + 86400 * S);
	ck_assert_uint_eq(w0.ft.n, 0);
	v.verdict = EGW_IPC_V_DROP;
	deliver(&tally, ws, 2, &v);
	/* ... and one for a flow never seen. */
	verdict_for(&v, 42001);
	deliver(&tally, ws, 2, &v);

	json_t *st = dp_stats_json(ws, 2);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(json_integer_value(json_object_get(st, "control_verdicts_no_flow")), 2);
	json_decref(st);
	/* Nothing was recreated: the next packet is decided (punted) again. */
	fb_tcp4(&f, LN_MAC, "10.1.0.11", "203.0.113.80", 42000, 22, DP_TCP_ACK);
	ck_assert_int_eq(dp_worker_packet(&w0, t, f.b, &f.len, false, 2 * 86400 * S),
			 DP_DISP_PUNT);
	dp_tables_free(t);
	dp_worker_fini(&w0);
	dp_worker_fini(&w1);
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	eal_fixture_init(argv[0]);
	Suite *s = suite_create("dp_vtally");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, tally_counts_a_verdict_once_when_no_worker_had_it);
	tcase_add_test(tc, verdict_for_a_timed_out_flow_is_counted_in_stats);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s);
}
