/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dp_flow.h"

static struct dp_flow_key key(uint32_t n, uint8_t proto)
{
	struct dp_flow_key k;
	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.proto = proto;
	k.in_ip[0] = 10;
	k.in_ip[2] = (uint8_t)(n >> 8);
	k.in_ip[3] = (uint8_t)n;
	k.out_ip[0] = 198;
	k.in_port = (uint16_t)(1024 + n % 5000);
	k.out_port = 443;
	return k;
}

START_TEST(insert_lookup_remove_against_reference)
{
	struct dp_flow_table ft;
	enum { CAP = 512, KEYS = 2000 };
	bool present[KEYS] = { 0 };
	ck_assert_int_eq(dp_flow_init(&ft, CAP, 0), 0);
	srand(7);
	unsigned n = 0;
	for (int step = 0; step < 40000; step++) {
		uint32_t i = (uint32_t)rand() % KEYS;
		struct dp_flow_key k = key(i, 6);
		uint32_t h = dp_flow_hash(&k);
		struct dp_flow *f = dp_flow_lookup(&ft, &k, h);
		ck_assert_int_eq(f != NULL, present[i]);
		if (f) {
			ck_assert(!memcmp(&f->key, &k, sizeof(k)));
			dp_flow_remove(&ft, f);
			present[i] = false;
			n--;
		} else if (n < CAP) {
			bool ev;
			struct dp_flow old;
			f = dp_flow_insert(&ft, &k, h, (uint64_t)step, &old, &ev);
			ck_assert(!ev);
			present[i] = true;
			n++;
		}
		ck_assert_uint_eq(ft.n, n);
	}
	/* Every present key is still found after all the shifting. */
	for (uint32_t i = 0; i < KEYS; i++) {
		struct dp_flow_key k = key(i, 6);
		ck_assert_int_eq(dp_flow_lookup(&ft, &k, dp_flow_hash(&k)) != NULL, present[i]);
	}
	dp_flow_fini(&ft);
}
END_TEST

START_TEST(full_table_evicts_least_recently_used)
{
	struct dp_flow_table ft;
	ck_assert_int_eq(dp_flow_init(&ft, 4, 1), 0);
	struct dp_flow *f[5];
	struct dp_flow old;
	bool ev;
	for (uint32_t i = 0; i < 4; i++) {
		struct dp_flow_key k = key(i, 17);
		f[i] = dp_flow_insert(&ft, &k, dp_flow_hash(&k), 100 + i, &old, &ev);
		ck_assert(!ev);
	}
	/* Flow 0 used again: flow 1 is now the oldest idle one. */
	dp_flow_touch(&ft, f[0], 200);
	struct dp_flow_key k4 = key(4, 17);
	f[4] = dp_flow_insert(&ft, &k4, dp_flow_hash(&k4), 201, &old, &ev);
	ck_assert(ev);
	struct dp_flow_key k1 = key(1, 17);
	ck_assert(!memcmp(&old.key, &k1, sizeof(k1)));
	ck_assert_uint_eq(ft.st.evicted, 1);
	ck_assert_ptr_null(dp_flow_lookup(&ft, &k1, dp_flow_hash(&k1)));
	struct dp_flow_key k0 = key(0, 17);
	ck_assert_ptr_nonnull(dp_flow_lookup(&ft, &k0, dp_flow_hash(&k0)));
	ck_assert_ptr_nonnull(dp_flow_lookup(&ft, &k4, dp_flow_hash(&k4)));
	ck_assert_uint_eq(ft.n, 4);
	/* Flow ids are distinct and carry the worker. */
	ck_assert_uint_ne(f[4]->id, f[0]->id);
	ck_assert_uint_eq(f[4]->id & 63, 1);
	dp_flow_fini(&ft);
}
END_TEST

/* dp_flow_victim names the entry the next insert evicts, in place (the
 * caller ends it from there), and the reused entry starts clean. */
START_TEST(victim_is_what_insert_evicts_and_reuse_starts_clean)
{
	struct dp_flow_table ft;
	ck_assert_int_eq(dp_flow_init(&ft, 2, 3), 0);
	bool ev;
	struct dp_flow_key k0 = key(0, 6), k1 = key(1, 6), k2 = key(2, 6);
	struct dp_flow *a = dp_flow_insert(&ft, &k0, dp_flow_hash(&k0), 10, NULL, &ev);
	ck_assert_ptr_null(dp_flow_victim(&ft));   /* room left */
	struct dp_flow *b = dp_flow_insert(&ft, &k1, dp_flow_hash(&k1), 11, NULL, &ev);
	ck_assert(!ev);
	/* Flow 0 leaves its traces on the entry. */
	a->pkts[0] = 5;
	a->pkts[1] = 6;
	a->bytes[0] = 700;
	a->bytes[1] = 800;
	a->tcp_state = DP_TS_SYN_IN | DP_TS_RST;
	a->nat = 1;
	a->inspected = 1;
	memset(a->nat_ip, 0xab, sizeof(a->nat_ip));
	memset(a->src_mac, 0xcd, 6);
	memset(a->dst_mac, 0xef, 6);
	a->verdict.action = DP_ACT_DROP;
	a->verdict.unit = 7;
	const struct dp_flow *v = dp_flow_victim(&ft);
	ck_assert_ptr_eq(v, a);
	uint64_t old_id = v->id;
	dp_flow_touch(&ft, b, 12);
	struct dp_flow *c = dp_flow_insert(&ft, &k2, dp_flow_hash(&k2), 20, NULL, &ev);
	ck_assert(ev);
	ck_assert_ptr_eq(c, a);   /* the victim's entry, reused */
	ck_assert_ptr_null(dp_flow_lookup(&ft, &k0, dp_flow_hash(&k0)));
	ck_assert_ptr_eq(dp_flow_lookup(&ft, &k2, dp_flow_hash(&k2)), c);
	ck_assert(!memcmp(&c->key, &k2, sizeof(k2)));
	ck_assert_uint_ne(c->id, old_id);
	ck_assert_uint_eq(c->id & 63, 3);
	ck_assert_uint_eq(c->start_us, 20);
	ck_assert_uint_eq(c->last_us, 20);
	ck_assert_uint_eq(c->pkts[0] + c->pkts[1] + c->bytes[0] + c->bytes[1], 0);
	ck_assert_uint_eq(c->tcp_state, 0);
	ck_assert_uint_eq(c->nat, 0);
	ck_assert_uint_eq(c->inspected, 0);
	ck_assert_uint_eq(c->in_use, 1);
	static const uint8_t zero[16];
	ck_assert(!memcmp(c->nat_ip, zero, 16));
	ck_assert(!memcmp(c->src_mac, zero, 6));
	ck_assert(!memcmp(c->dst_mac, zero, 6));
	ck_assert_uint_eq(c->verdict.action, 0);
	ck_assert_int_eq(c->verdict.unit, 0);
	ck_assert_ptr_eq(dp_flow_victim(&ft), b);
	ck_assert_uint_eq(ft.st.evicted, 1);
	ck_assert_uint_eq(ft.n, 2);
	dp_flow_fini(&ft);
}
END_TEST

/* A full table under random inserts, touches and removals against a
 * model of the LRU order: each insert evicts the model's oldest key, the
 * others stay findable, and the LRU list runs oldest to newest. */
START_TEST(full_table_churn_against_lru_model)
{
	enum { CAP = 64, KEYS = 4000 };
	struct dp_flow_table ft;
	uint32_t order[CAP];   /* model: key numbers, oldest first */
	unsigned n = 0;
	static bool present[KEYS];
	memset(present, 0, sizeof(present));
	ck_assert_int_eq(dp_flow_init(&ft, CAP, 0), 0);
	srand(11);
	for (int step = 0; step < 30000; step++) {
		uint32_t i = (uint32_t)rand() % KEYS;
		struct dp_flow_key k = key(i, 17);
		uint32_t h = dp_flow_hash(&k);
		struct dp_flow *f = dp_flow_lookup(&ft, &k, h);
		ck_assert_int_eq(f != NULL, present[i]);
		unsigned at = 0;
		while (f && order[at] != i)
			at++;
		if (f && rand() % 4 == 0) {
			dp_flow_remove(&ft, f);
			present[i] = false;
			memmove(&order[at], &order[at + 1], (n - at - 1) * sizeof(order[0]));
			n--;
		} else if (f) {
			dp_flow_touch(&ft, f, (uint64_t)step);
			memmove(&order[at], &order[at + 1], (n - at - 1) * sizeof(order[0]));
			order[n - 1] = i;
		} else {
			bool ev;
			struct dp_flow old;
			const struct dp_flow *v = dp_flow_victim(&ft);
			ck_assert_int_eq(v != NULL, n == CAP);
			if (v) {
				struct dp_flow_key ko = key(order[0], 17);
				ck_assert(!memcmp(&v->key, &ko, sizeof(ko)));
			}
			f = dp_flow_insert(&ft, &k, h, (uint64_t)step, &old, &ev);
			ck_assert_int_eq(ev, n == CAP);
			if (ev) {
				struct dp_flow_key ko = key(order[0], 17);
				ck_assert(!memcmp(&old.key, &ko, sizeof(ko)));
				present[order[0]] = false;
				memmove(&order[0], &order[1], (n - 1) * sizeof(order[0]));
				n--;
			}
			order[n++] = i;
			present[i] = true;
		}
		ck_assert_uint_eq(ft.n, n);
	}
	unsigned at = 0;
	for (uint32_t e = ft.lru_head; e != DP_FLOW_NIL; e = ft.flows[e].lru_next) {
		ck_assert_uint_lt(at, n);
		struct dp_flow_key ko = key(order[at++], 17);
		ck_assert(!memcmp(&ft.flows[e].key, &ko, sizeof(ko)));
	}
	ck_assert_uint_eq(at, n);
	for (uint32_t i = 0; i < KEYS; i++) {
		struct dp_flow_key k = key(i, 17);
		ck_assert_int_eq(dp_flow_lookup(&ft, &k, dp_flow_hash(&k)) != NULL, present[i]);
	}
	ck_assert_uint_gt(ft.st.evicted, 1000);
	dp_flow_fini(&ft);
}
END_TEST

static void count(const struct dp_flow *f, void *arg)
{
	(void)f;
	(*(unsigned *)arg)++;
}

START_TEST(timeouts_by_protocol_and_state)
{
	struct dp_flow_table ft;
	ck_assert_int_eq(dp_flow_init(&ft, 16, 0), 0);
	struct dp_flow old;
	bool ev;
	const uint64_t S = 1000000;
	struct dp_flow_key ku = key(1, 17), kt = key(2, 6), ki = key(3, 1), kc = key(4, 6);
	struct dp_flow *u = dp_flow_insert(&ft, &ku, dp_flow_hash(&ku), 0, &old, &ev);
	struct dp_flow *t = dp_flow_insert(&ft, &kt, dp_flow_hash(&kt), 0, &old, &ev);
	struct dp_flow *i = dp_flow_insert(&ft, &ki, dp_flow_hash(&ki), 0, &old, &ev);
	struct dp_flow *c = dp_flow_insert(&ft, &kc, dp_flow_hash(&kc), 0, &old, &ev);
	t->tcp_state = DP_TS_SYN_IN | DP_TS_SYN_OUT;
	c->tcp_state = DP_TS_SYN_IN | DP_TS_SYN_OUT | DP_TS_FIN_IN | DP_TS_FIN_OUT;
	ck_assert(!dp_flow_expired(u, 59 * S));
	ck_assert(dp_flow_expired(u, 60 * S));
	ck_assert(dp_flow_expired(i, 30 * S));
	ck_assert(dp_flow_expired(c, 10 * S));
	ck_assert(!dp_flow_expired(t, 3599 * S));
	t->tcp_state = DP_TS_SYN_IN;
	ck_assert(dp_flow_expired(t, 30 * S));
	t->tcp_state = DP_TS_SYN_IN | DP_TS_SYN_OUT;

	unsigned n = 0;
	ck_assert_uint_eq(dp_flow_expire(&ft, 5 * S, 100, count, &n), 0);
	/* At 40 s: the ICMP and the closed TCP flow are gone, UDP and TCP stay. */
	ck_assert_uint_eq(dp_flow_expire(&ft, 40 * S, 100, count, &n), 2);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_nonnull(dp_flow_lookup(&ft, &ku, dp_flow_hash(&ku)));
	ck_assert_ptr_nonnull(dp_flow_lookup(&ft, &kt, dp_flow_hash(&kt)));
	ck_assert_ptr_null(dp_flow_lookup(&ft, &ki, dp_flow_hash(&ki)));
	/* UDP refreshed at 50 s lives past 60 s. */
	dp_flow_touch(&ft, u, 50 * S);
	ck_assert_uint_eq(dp_flow_expire(&ft, 70 * S, 100, count, &n), 0);
	ck_assert_uint_eq(dp_flow_expire(&ft, 111 * S, 100, count, &n), 1);
	ck_assert_uint_eq(ft.st.expired, 3);
	ck_assert_uint_eq(ft.n, 1);
	dp_flow_fini(&ft);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dp_flow");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, insert_lookup_remove_against_reference);
	tcase_add_test(tc, full_table_evicts_least_recently_used);
	tcase_add_test(tc, victim_is_what_insert_evicts_and_reuse_starts_clean);
	tcase_add_test(tc, full_table_churn_against_lru_model);
	tcase_add_test(tc, timeouts_by_protocol_and_state);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
