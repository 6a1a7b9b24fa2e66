/* SPDX-License-Identifier: MIT */
/* A reload re-decided in slices (dp_worker_rebind_begin / _step, as the
 * port loop does it): from the begin on, every packet is judged by the new
 * policy, whether or not the sweep has reached its flow yet; the sweep
 * reaches every flow in bounded steps and then lets go of the old tables;
 * end events of flows the new policy ends name the old policy's verdict,
 * the same as the whole-table rebind. */
#include <check.h>
#include <stdio.h>
#include <string.h>

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
#define FLOWS 40

/* Client connection sport -> 192.0.2.80:443 (SYN or ACK), from the inside. */
static enum dp_disp out_seg(struct dp_worker *w, const struct dp_tables *t, uint16_t sport,
			    uint8_t flags, uint64_t now)
{
	struct fb f;
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "192.0.2.80", sport, 443, flags);
	return dp_worker_packet(w, t, f.b, &f.len, false, now);
}

/* The server's answer on connection sport, from the outside. */
static enum dp_disp in_seg(struct dp_worker *w, const struct dp_tables *t, uint16_t sport,
			   uint64_t now)
{
	struct fb f;
	fb_tcp4(&f, "02:ee:00:00:00:02", "192.0.2.80", "10.1.0.10", 443, sport,
		DP_TCP_SYN | DP_TCP_ACK);
	return dp_worker_packet(w, t, f.b, &f.len, true, now);
}

static unsigned ends(const struct dp_worker *w, const char *reason)
{
	unsigned n = 0, nev = events(w);
	for (uint32_t i = 0; i < nev; i++)
		if (evs[i].type == EGW_EV_FLOW && !strcmp(evs[i].u.flow.reason, reason))
			n++;
	return n;
}

/* The fixture policy without the rule that allows 443: those flows end. */
static struct dp_tables *denying(void)
{
	struct egw_policy *pol = fixture_policy();
	pol->profiles[0].n_rules = 1;   /* standard: only the category rule */
	return wfx_tables(pol);
}

START_TEST(packets_go_by_the_new_policy_before_the_sweep_reaches_them)
{
	struct dp_worker w;
	struct dp_tables *a = wfx_start(&w, 256, 1024);
	for (uint16_t i = 0; i < FLOWS; i++)
		ck_assert_int_eq(out_seg(&w, a, (uint16_t)(40000 + i), DP_TCP_SYN, S),
				 DP_DISP_FORWARD);
	ck_assert_uint_eq(w.ft.n, FLOWS);

	struct dp_tables *b = denying();
	clear_events(&w);
	dp_worker_rebind_begin(&w, a, b);
	/* Nothing re-decided yet: the old tables are still needed. */
	ck_assert_ptr_eq(w.sweep_old, a);
	ck_assert_uint_eq(ends(&w, "reload"), 0);
	ck_assert_uint_eq(w.ft.n, FLOWS);

	/* A reply of flow 0 and a segment of flow 1, ahead of the sweep: the
	 * new policy ends both flows (their end events: the old verdict),
	 * the reply has no flow any more, the segment is a new flow the new
	 * policy drops. */
	ck_assert_int_eq(in_seg(&w, b, 40000, 2 * S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_NO_FLOW], 1);
	ck_assert_int_eq(out_seg(&w, b, 40001, DP_TCP_ACK, 2 * S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_PROFILE], 1);
	ck_assert_uint_eq(ends(&w, "reload"), 2);
	ck_assert_int_eq(evs[0].type, EGW_EV_FLOW);
	ck_assert_int_eq(evs[0].action, EGW_EA_ALLOWED);
	ck_assert_uint_eq(evs[0].src_port, 40000);
	ck_assert_uint_eq(evs[0].u.flow.pkts_toserver, 1);

	/* The sweep, a few entries a step, ends every other flow. */
	unsigned steps = 0;
	while (!dp_worker_rebind_step(&w, b, 8))
		steps++;
	ck_assert_uint_ge(steps, FLOWS / 8 - 1);
	ck_assert_ptr_null(w.sweep_old);
	ck_assert_uint_eq(ends(&w, "reload"), FLOWS);
	/* Only flow 1's new (dropped) flow is left, of this generation. */
	ck_assert_uint_eq(w.ft.n, 1);
	for (const struct dp_flow *f = dp_flow_next(&w.ft, NULL); f; f = dp_flow_next(&w.ft, f))
		ck_assert_uint_eq(f->gen, w.ft.gen);
	ck_assert(dp_worker_rebind_step(&w, b, 8));   /* done stays done */
	dp_tables_free(a);
	wfx_stop(&w, b);
}
END_TEST

START_TEST(a_kept_flow_is_kept_whether_a_packet_or_the_sweep_gets_there_first)
{
	struct dp_worker w;
	struct dp_tables *a = wfx_start(&w, 256, 1024);
	for (uint16_t i = 0; i < FLOWS; i++)
		ck_assert_int_eq(out_seg(&w, a, (uint16_t)(40000 + i), DP_TCP_SYN, S),
				 DP_DISP_FORWARD);
	/* The same policy again: nothing ends, replies pass before and after
	 * the sweep. */
	struct dp_tables *b = wfx_tables(fixture_policy());
	clear_events(&w);
	dp_worker_rebind_begin(&w, a, b);
	ck_assert_int_eq(in_seg(&w, b, 40005, 2 * S), DP_DISP_FORWARD);
	ck_assert_uint_eq(w.ft.n, FLOWS);
	while (!dp_worker_rebind_step(&w, b, 7))
		;
	ck_assert_uint_eq(ends(&w, "reload"), 0);
	for (uint16_t i = 0; i < FLOWS; i++)
		ck_assert_int_eq(in_seg(&w, b, (uint16_t)(40000 + i), 3 * S), DP_DISP_FORWARD);
	ck_assert_uint_eq(w.st.drops[DP_DROP_NO_FLOW], 0);
	dp_tables_free(a);

	/* A second reload while a sweep is on finishes the first one first:
	 * then the newest tables decide. */
	struct dp_tables *c = denying();
	dp_worker_rebind_begin(&w, b, c);
	ck_assert_uint_eq(ends(&w, "reload"), 0);
	struct dp_tables *d = wfx_tables(fixture_policy());
	dp_worker_rebind_begin(&w, c, d);   /* the sweep under c ends every flow */
	ck_assert_uint_eq(ends(&w, "reload"), FLOWS);
	ck_assert_uint_eq(w.ft.n, 0);
	ck_assert_ptr_eq(w.sweep_old, c);
	/* Steps count entries looked at (in use or not): bounded work each. */
	ck_assert(!dp_worker_rebind_step(&w, d, 1));
	while (!dp_worker_rebind_step(&w, d, 8))
		;
	ck_assert_ptr_null(w.sweep_old);
	ck_assert_int_eq(out_seg(&w, d, 41000, DP_TCP_SYN, 4 * S), DP_DISP_FORWARD);
	dp_tables_free(b);
	dp_tables_free(c);
	wfx_stop(&w, d);
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	eal_fixture_init(argv[0]);
	Suite *s = suite_create("dp_rebind");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, packets_go_by_the_new_policy_before_the_sweep_reaches_them);
	tcase_add_test(tc, a_kept_flow_is_kept_whether_a_packet_or_the_sweep_gets_there_first);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
