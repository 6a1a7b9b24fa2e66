/* SPDX-License-Identifier: MIT */
/* The worker's event ring as its consumers see it: events come out in the
 * order they were made, a full ring loses (and counts) instead of
 * blocking, nothing is recorded while nobody consumes (but it is counted),
 * a producer and a consumer on two threads agree, and an event made under
 * one policy is written with that policy's names after a reload. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dp_event.h"
#include "dp_tables.h"
#include "dp_worker.h"
#include "eal_fixture.h"
#include "frame_builder.h"
#include "policy_fixture.h"
#include "worker_fixture.h"

#define ZW_MAC "02:00:0a:01:00:0a"
#define S 1000000ull

static struct dp_flow flow_n(uint64_t id)
{
	struct dp_flow f;
	memset(&f, 0, sizeof(f));
	f.id = id;
	f.key.family = AF_INET;
	f.key.proto = 17;
	f.key.in_ip[0] = 10;
	f.key.out_ip[0] = 198;
	f.key.in_port = 1000;
	f.key.out_port = 53;
	f.verdict.unit = -1;
	f.verdict.category = -1;
	return f;
}

/* Record a flow start for flow id; false when the ring gave no slot. */
static bool record(struct dp_event_buf *b, const struct egw_policy *pol, uint64_t id)
{
	struct dp_raw_event *e = dp_event_slot(b);
	if (!e)
		return false;
	struct dp_flow f = flow_n(id);
	dp_event_record(e, EGW_EV_FLOW, &f, &f.verdict, pol, id, NULL);
	dp_event_push(b);
	return true;
}

START_TEST(full_ring_loses_and_counts_never_blocks)
{
	struct dp_event_buf b;
	struct egw_event ev[8];
	const struct egw_policy *pol = fixture_policy();

	ck_assert_int_eq(dp_event_buf_init(&b, 3), 0);   /* rounded up to 4 */
	for (uint64_t i = 1; i <= 6; i++)
		record(&b, pol, i);
	ck_assert_uint_eq(b.made, 4);
	ck_assert_uint_eq(b.lost, 2);
	ck_assert_uint_eq(dp_event_drain(&b, ev, 8), 4);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(ev[i].flow_id, i + 1);   /* oldest first */
		ck_assert_int_eq(ev[i].type, EGW_EV_FLOW);
		ck_assert_str_eq(ev[i].u.flow.state, "new");
	}
	/* Drained: room again. */
	ck_assert(record(&b, pol, 7));
	ck_assert_uint_eq(dp_event_drain(&b, ev, 8), 1);
	ck_assert_uint_eq(ev[0].flow_id, 7);
	ck_assert_uint_eq(dp_event_drain(&b, ev, 8), 0);
	dp_event_buf_fini(&b);
}
END_TEST

START_TEST(nothing_recorded_while_nobody_consumes)
{
	struct dp_event_buf b;
	struct egw_event ev[4];
	const struct egw_policy *pol = fixture_policy();

	ck_assert_int_eq(dp_event_buf_init(&b, 4), 0);
	dp_event_set_consumed(&b, false);
	for (uint64_t i = 1; i <= 10; i++)
		ck_assert(!record(&b, pol, i));
	ck_assert_uint_eq(b.made, 10);
	ck_assert_uint_eq(b.unconsumed, 10);
	ck_assert_uint_eq(b.lost, 0);
	ck_assert_uint_eq(dp_event_drain(&b, ev, 4), 0);
	dp_event_set_consumed(&b, true);
	ck_assert(record(&b, pol, 11));
	ck_assert_uint_eq(dp_event_drain(&b, ev, 4), 1);
	ck_assert_uint_eq(ev[0].flow_id, 11);
	dp_event_buf_fini(&b);
}
END_TEST

#define N_THREADED 200000u

struct prod {
	struct dp_event_buf *b;
	const struct egw_policy *pol;
	uint64_t recorded;
};

static void *producer(void *arg)
{
	struct prod *p = arg;
	for (uint64_t i = 1; i <= N_THREADED; i++)
		if (record(p->b, p->pol, i))
			p->recorded++;
	return NULL;
}

START_TEST(producer_and_consumer_threads_agree)
{
	struct dp_event_buf b;
	struct prod p = { &b, fixture_policy(), 0 };
	pthread_t th;

	ck_assert_int_eq(dp_event_buf_init(&b, 64), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, producer, &p), 0);
	uint64_t got = 0, last = 0;
	bool done = false, in_order = true;
	while (!done) {
		done = __atomic_load_n(&b.made, __ATOMIC_RELAXED) +
		       __atomic_load_n(&b.lost, __ATOMIC_RELAXED) == N_THREADED;
		const struct dp_raw_event *e;
		while ((e = dp_event_peek(&b))) {
			/* A whole event: written before it was published. */
			if (e->flow_id <= last || e->ts_us != e->flow_id || e->dest_port != 53)
				in_order = false;
			last = e->flow_id;
			dp_event_pop(&b);
			got++;
		}
	}
	pthread_join(th, NULL);
	while (dp_event_peek(&b)) {
		dp_event_pop(&b);
		got++;
	}
	ck_assert(in_order);
	ck_assert_uint_eq(got, p.recorded);
	ck_assert_uint_eq(b.made, p.recorded);
	ck_assert_uint_eq(b.made + b.lost, N_THREADED);
	dp_event_buf_fini(&b);
}
END_TEST

START_TEST(event_keeps_the_policy_it_was_made_under)
{
	struct dp_worker w;
	struct egw_event ev[8];
	struct fb f;

	ck_assert_int_eq(dp_worker_init(&w, 0, 64, 64), 0);
	struct egw_policy *pa = fixture_policy();
	struct dp_tables *a = wfx_tables(pa);
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 40000, 7);
	ck_assert_int_eq(dp_worker_packet(&w, a, f.b, &f.len, false, 1 * S), DP_DISP_FORWARD);

	/* Policy B: the same, its unit and allow rule renamed and moved. */
	static struct egw_policy pb;
	static struct egw_unit units_b[2];
	static struct egw_profile profiles_b[2];
	static struct egw_rule rules_b[3];
	pb = *pa;
	memcpy(units_b, pa->units, sizeof(units_b));
	memcpy(profiles_b, pa->profiles, sizeof(profiles_b));
	memcpy(rules_b, pa->profiles[0].rules, sizeof(rules_b));
	units_b[0].name = (char *)"finance-b";
	for (int i = 0; i < 3; i++)
		rules_b[i].loc.line += 1000;
	profiles_b[0].rules = rules_b;
	pb.units = units_b;
	pb.profiles = profiles_b;
	struct dp_tables *b = wfx_tables(&pb);
	dp_worker_rebind(&w, a, b);
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 40001, 7);
	ck_assert_int_eq(dp_worker_packet(&w, b, f.b, &f.len, false, 2 * S), DP_DISP_FORWARD);

	/* Formatted only now, after the worker moved to B: the first flow was
	 * decided under A and says so. */
	ck_assert_uint_eq(dp_event_drain(&w.ev, ev, 8), 2);
	ck_assert_str_eq(ev[0].unit, "finance");
	ck_assert_uint_eq(ev[0].src_port, 40000);
	ck_assert_str_eq(ev[1].unit, "finance-b");
	ck_assert_uint_eq(ev[1].src_port, 40001);
	ck_assert_str_ne(ev[0].rule, ev[1].rule);
	ck_assert_str_eq(ev[0].user, ev[1].user);
	dp_tables_free(a);
	wfx_stop(&w, b);
}
END_TEST

START_TEST(names_are_kept_whole_up_to_255_bytes)
{
	struct dp_event_buf b;
	struct egw_event ev[2];
	char name[300];

	memset(name, 'a', sizeof(name));
	ck_assert_int_eq(dp_event_buf_init(&b, 4), 0);
	struct dp_flow f = flow_n(1);
	struct dp_raw_event *e = dp_event_slot(&b);
	dp_event_record(e, EGW_EV_DNS, &f, &f.verdict, fixture_policy(), 5, NULL);
	e->dns_id = 0x1234;
	e->dns_rrtype = 28;
	e->dns_rcode = -1;
	dp_event_set_name(e, name, sizeof(name));
	dp_event_push(&b);
	e = dp_event_slot(&b);
	dp_event_record(e, EGW_EV_TLS, &f, &f.verdict, fixture_policy(), 6, NULL);
	dp_event_set_name(e, "gmail.com", 9);
	dp_event_push(&b);
	ck_assert_uint_eq(dp_event_drain(&b, ev, 2), 2);
	ck_assert_uint_eq(strlen(ev[0].u.dns.rrname), 255);
	ck_assert_uint_eq(ev[0].u.dns.id, 0x1234);
	ck_assert_uint_eq(ev[0].u.dns.rrtype, 28);
	ck_assert_int_eq(ev[0].u.dns.rcode, -1);
	ck_assert_str_eq(ev[1].u.tls.sni, "gmail.com");
	ck_assert_int_eq(ev[1].type, EGW_EV_TLS);
	dp_event_buf_fini(&b);
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	eal_fixture_init(argv[0]);   /* dp_tables_build's LPM tables */
	Suite *s = suite_create("dp_event");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, full_ring_loses_and_counts_never_blocks);
	tcase_add_test(tc, nothing_recorded_while_nobody_consumes);
	tcase_add_test(tc, producer_and_consumer_threads_agree);
	tcase_add_test(tc, event_keeps_the_policy_it_was_made_under);
	tcase_add_test(tc, names_are_kept_whole_up_to_255_bytes);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s);
}
