/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
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
	ck_assert_ptr_null(dp_flow_victim(&ft, dp_flow_hash(&k1)));   /* room left */
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
	dp_flow_touch(&ft, b, 12);
	const struct dp_flow *v = dp_flow_victim(&ft, dp_flow_hash(&k2));
	ck_assert_ptr_eq(v, a);
	uint64_t old_id = v->id;
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
	ck_assert_ptr_eq(dp_flow_victim(&ft, dp_flow_hash(&k0)), b);
	ck_assert_uint_eq(ft.st.evicted, 1);
	ck_assert_uint_eq(ft.n, 2);
	/* In two steps: the claimed entry still holds the evicted flow (for
	 * its end event) but is out of the index until filled. */
	struct dp_flow_key k3 = key(3, 6);
	bool evicting;
	struct dp_flow *d = dp_flow_claim(&ft, dp_flow_hash(&k3), &evicting);
	ck_assert(evicting);
	ck_assert_ptr_eq(d, b);
	ck_assert(!memcmp(&d->key, &k1, sizeof(k1)));
	ck_assert_uint_eq(d->last_us, 12);
	ck_assert_ptr_null(dp_flow_lookup(&ft, &k1, dp_flow_hash(&k1)));
	dp_flow_fill(&ft, d, &k3, dp_flow_hash(&k3), 30);
	ck_assert_ptr_eq(dp_flow_lookup(&ft, &k3, dp_flow_hash(&k3)), d);
	ck_assert_ptr_eq(dp_flow_lookup(&ft, &k2, dp_flow_hash(&k2)), c);
	ck_assert_uint_eq(d->start_us, 30);
	ck_assert_uint_eq(ft.st.evicted, 2);
	ck_assert_uint_eq(ft.n, 2);
	dp_flow_fini(&ft);
}
END_TEST

/*
 * A table of at most DP_FLOW_EVICT_SAMPLE entries is exact LRU: under
 * random inserts, touches and removals (times strictly increasing), each
 * insert into a full table evicts the model's oldest key, the others stay
 * findable, and the entries in use are the model's keys.
 */
START_TEST(small_table_churn_is_exact_lru)
{
	enum { KEYS = 40 };
	static const uint32_t caps[] = { 1, 2, 5, DP_FLOW_EVICT_SAMPLE };
	ck_assert_uint_le(5, DP_FLOW_EVICT_SAMPLE);
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		const uint32_t CAP = caps[c];
		struct dp_flow_table ft;
		uint32_t order[DP_FLOW_EVICT_SAMPLE];   /* model: key numbers, oldest first */
		unsigned n = 0;
		bool present[KEYS] = { 0 };
		ck_assert_int_eq(dp_flow_init(&ft, CAP, 0), 0);
		srand(11);
		for (int step = 0; step < 6000; step++) {
			uint32_t i = (uint32_t)rand() % (CAP * 3 + 1);
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
				const struct dp_flow *v = dp_flow_victim(&ft, h);
				ck_assert_int_eq(v != NULL, n == CAP);
				struct dp_flow_key ko = key(order[0], 17);
				if (v)
					ck_assert(!memcmp(&v->key, &ko, sizeof(ko)));
				f = dp_flow_insert(&ft, &k, h, (uint64_t)step, &old, &ev);
				ck_assert_int_eq(ev, n == CAP);
				if (ev) {
					ck_assert(!memcmp(&old.key, &ko, sizeof(ko)));
					ck_assert_ptr_eq(f, v);   /* the victim's entry */
					present[order[0]] = false;
					memmove(&order[0], &order[1], (n - 1) * sizeof(order[0]));
					n--;
				}
				order[n++] = i;
				present[i] = true;
			}
			ck_assert_uint_eq(ft.n, n);
		}
		unsigned seen = 0;
		for (const struct dp_flow *f = dp_flow_next(&ft, NULL); f; f = dp_flow_next(&ft, f)) {
			uint32_t kn = (uint32_t)f->key.in_ip[2] << 8 | f->key.in_ip[3];
			ck_assert_uint_lt(kn, KEYS);
			ck_assert(present[kn]);
			seen++;
		}
		ck_assert_uint_eq(seen, n);
		for (uint32_t i = 0; i < KEYS; i++) {
			struct dp_flow_key k = key(i, 17);
			ck_assert_int_eq(dp_flow_lookup(&ft, &k, dp_flow_hash(&k)) != NULL,
					 present[i]);
		}
		ck_assert_uint_gt(ft.st.evicted, 300);
		dp_flow_fini(&ft);
	}
}
END_TEST

/*
 * A large full table: a flow used after every other one is never the next
 * insert's victim, whichever part of the table the eviction samples, and
 * the victim is a flow that was in the table (the others stay findable).
 */
START_TEST(large_table_never_evicts_the_flow_just_used)
{
	enum { CAP = 1000, KEYS = 6000 };
	struct dp_flow_table ft;
	static bool present[KEYS];
	static struct dp_flow *entry[KEYS];
	memset(present, 0, sizeof(present));
	ck_assert_int_eq(dp_flow_init(&ft, CAP, 0), 0);
	bool ev;
	struct dp_flow old;
	uint64_t now = 1;
	uint32_t next_key = 0;
	for (; next_key < CAP; next_key++) {
		struct dp_flow_key k = key(next_key, 6);
		/* Older toward the end of the array: the hand meets both. */
		entry[next_key] = dp_flow_insert(&ft, &k, dp_flow_hash(&k),
						 now + (next_key * 7919u) % CAP, &old, &ev);
		ck_assert(!ev);
		present[next_key] = true;
	}
	now += CAP;
	srand(5);
	/* Several turns of the hand over the array. */
	for (int round = 0; round < 4 * CAP; round++) {
		uint32_t u;
		do
			u = (uint32_t)rand() % next_key;
		while (!present[u]);
		dp_flow_touch(&ft, entry[u], now++);
		ck_assert_uint_lt(next_key, KEYS);
		struct dp_flow_key k = key(next_key, 6);
		ck_assert_ptr_ne(dp_flow_victim(&ft, dp_flow_hash(&k)), entry[u]);
		struct dp_flow *f = dp_flow_insert(&ft, &k, dp_flow_hash(&k), now++, &old, &ev);
		ck_assert(ev);
		struct dp_flow_key ku = key(u, 6);
		ck_assert(memcmp(&old.key, &ku, sizeof(ku)));
		ck_assert_ptr_nonnull(dp_flow_lookup(&ft, &ku, dp_flow_hash(&ku)));
		uint32_t gone = (uint32_t)old.key.in_ip[2] << 8 | old.key.in_ip[3];
		ck_assert(present[gone]);
		present[gone] = false;
		present[next_key] = true;
		entry[next_key++] = f;
		if (next_key == KEYS)
			break;
	}
	ck_assert_uint_eq(ft.n, CAP);
	for (uint32_t i = 0; i < KEYS; i++) {
		struct dp_flow_key k = key(i, 6);
		ck_assert_int_eq(dp_flow_lookup(&ft, &k, dp_flow_hash(&k)) != NULL, present[i]);
	}
	dp_flow_fini(&ft);
}
END_TEST

/*
 * The index agrees with the entries: every lane's entry is in use with
 * the lane's hash, in that hash's home or second bucket; every entry in use
 * has one lane; each bucket's count of keys away is right.
 */
static void check_index(const struct dp_flow_table *ft)
{
	uint32_t nb = ft->bmask + 1, lanes = 0;
	uint32_t *away = calloc(nb, sizeof(*away));
	ck_assert_ptr_nonnull(away);
	for (uint32_t b = 0; b < nb; b++) {
		ck_assert_uint_eq(ft->bkt[b].ent[DP_FLOW_OVF], 0);
		for (unsigned l = 0; l < DP_FLOW_LANES; l++) {
			uint32_t e = ft->bkt[b].ent[l], s = ft->bkt[b].sig[l];
			if (!e) {
				ck_assert_uint_eq(s, 0);
				continue;
			}
			lanes++;
			ck_assert_uint_le(e, ft->cap);
			ck_assert(ft->flows[e - 1].in_use);
			ck_assert_uint_eq(ft->flows[e - 1].hash, s);
			uint32_t home = dp_flow_home_bucket(ft, s);
			if (b != home) {
				ck_assert_uint_eq(b, dp_flow_alt_bucket(ft, s));
				away[home]++;
			}
		}
	}
	for (uint32_t b = 0; b < nb; b++)
		ck_assert_uint_eq(ft->bkt[b].sig[DP_FLOW_OVF], away[b]);
	ck_assert_uint_eq(lanes, ft->n);
	free(away);
}

/* A hash with 16 values: many keys with the same hash (lookups compare
 * keys after hashes), all in a few buckets (both of a key's buckets full:
 * moves, and evictions from the key's buckets while the table has room). */
static uint32_t crowded_hash(const struct dp_flow_key *k)
{
	uint32_t h = dp_flow_hash(k);
	return (h & 0x3) | (h & 0x30000000) | 0xfff0;
}

/* Random inserts (evicting when full), removals and lookups against a
 * set: every key the model holds is found, no other, under a normal and a
 * crowded hash. */
START_TEST(churn_with_evictions_keeps_every_other_flow_findable)
{
	enum { CAP = 300, KEYS = 900 };
	for (int crowded = 0; crowded < 2; crowded++) {
		struct dp_flow_table ft;
		static bool present[KEYS];
		memset(present, 0, sizeof(present));
		ck_assert_int_eq(dp_flow_init(&ft, CAP, 0), 0);
		srand(crowded ? 17 : 13);
		unsigned n = 0;
		for (int step = 0; step < 20000; step++) {
			uint32_t i = (uint32_t)rand() % KEYS;
			struct dp_flow_key k = key(i, 17);
			uint32_t h = crowded ? crowded_hash(&k) : dp_flow_hash(&k);
			struct dp_flow *f = dp_flow_lookup(&ft, &k, h);
			ck_assert_int_eq(f != NULL, present[i]);
			if (f && rand() % 3 == 0) {
				dp_flow_remove(&ft, f);
				present[i] = false;
				n--;
			} else if (f) {
				ck_assert(!memcmp(&f->key, &k, sizeof(k)));
				dp_flow_touch(&ft, f, (uint64_t)step);
			} else {
				bool ev;
				struct dp_flow old;
				f = dp_flow_insert(&ft, &k, h, (uint64_t)step, &old, &ev);
				/* Crowded: the key's buckets may be full before the table. */
				if (!crowded || n == CAP)
					ck_assert_int_eq(ev, n == CAP);
				if (ev) {
					uint32_t gone = (uint32_t)old.key.in_ip[2] << 8 |
							old.key.in_ip[3];
					ck_assert(present[gone]);
					present[gone] = false;
				} else {
					n++;
				}
				present[i] = true;
			}
			ck_assert_uint_eq(ft.n, n);
			if (step % 997 == 0) {
				for (uint32_t j = 0; j < KEYS; j++) {
					struct dp_flow_key kj = key(j, 17);
					uint32_t hj = crowded ? crowded_hash(&kj) : dp_flow_hash(&kj);
					ck_assert_int_eq(dp_flow_lookup(&ft, &kj, hj) != NULL,
							 present[j]);
				}
				check_index(&ft);
			}
		}
		if (crowded)
			ck_assert_uint_lt(n, CAP);   /* 16 hashes: at most 2 x 16 buckets' worth */
		ck_assert_uint_gt(ft.st.evicted, 100);
		dp_flow_fini(&ft);
	}
}
END_TEST

struct sweep_ctx {
	const bool *due;
	unsigned ended, wrong;
};

static void swept(const struct dp_flow *f, void *arg)
{
	struct sweep_ctx *c = arg;
	uint32_t kn = (uint32_t)f->key.in_ip[2] << 8 | f->key.in_ip[3];
	c->ended++;
	if (!c->due[kn])
		c->wrong++;
}

/*
 * Expiry by sweep: calls of max m remove every expired flow within
 * ceil(cap / m) calls, each once, and never a live one.
 */
/*
 * Both buckets of a new key full: a key of one of them that has room in its
 * own other bucket moves there (nothing is evicted); when no key can move
 * (here: 14 keys with one hash fill both), the least recently used of the
 * two buckets' keys is evicted for it, though the table has room, and
 * dp_flow_victim names it beforehand.
 */
START_TEST(full_buckets_move_a_key_then_evict_their_oldest)
{
	struct dp_flow_table ft;
	ck_assert_int_eq(dp_flow_init(&ft, 64, 0), 0);
	ck_assert_uint_eq(ft.bmask + 1, 16);
	const uint32_t T = 0x12345;
	uint32_t b1 = dp_flow_home_bucket(&ft, T), b2 = dp_flow_alt_bucket(&ft, T);
	ck_assert_uint_ne(b1, b2);
	bool ev;
	struct dp_flow old;
	uint32_t kn = 0, h = 1, hs[2 * DP_FLOW_LANES];
	/* 7 keys at home in b1 and 7 in b2, each with a free other bucket. */
	for (int side = 0; side < 2; side++)
		for (int i = 0; i < DP_FLOW_LANES; i++, kn++) {
			uint32_t want = side ? b2 : b1;
			for (;; h++) {
				uint32_t a = dp_flow_alt_bucket(&ft, h);
				if (dp_flow_home_bucket(&ft, h) == want && a != b1 && a != b2)
					break;
			}
			struct dp_flow_key k = key(kn, 6);
			hs[kn] = h++;
			dp_flow_insert(&ft, &k, hs[kn], kn, &old, &ev);
			ck_assert(!ev);
		}
	struct dp_flow_key kt = key(kn++, 6);
	ck_assert_ptr_null(dp_flow_victim(&ft, T));
	struct dp_flow *ft_t = dp_flow_insert(&ft, &kt, T, kn, &old, &ev);
	ck_assert(!ev);
	ck_assert_ptr_eq(dp_flow_lookup(&ft, &kt, T), ft_t);
	ck_assert_uint_eq(ft.n, 15);
	check_index(&ft);
	/* Every key still found, whichever moved. */
	for (uint32_t j = 0; j < 2 * DP_FLOW_LANES; j++) {
		struct dp_flow_key k = key(j, 6);
		ck_assert_ptr_nonnull(dp_flow_lookup(&ft, &k, hs[j]));
	}
	dp_flow_fini(&ft);

	/* 15 keys of one hash: the 15th evicts the oldest of the first 14. */
	ck_assert_int_eq(dp_flow_init(&ft, 64, 0), 0);
	struct dp_flow *e[15];
	for (uint32_t i = 0; i < 14; i++) {
		struct dp_flow_key k = key(100 + i, 17);
		ck_assert_ptr_null(dp_flow_victim(&ft, T));
		e[i] = dp_flow_insert(&ft, &k, T, 10 + i, &old, &ev);
		ck_assert(!ev);
	}
	dp_flow_touch(&ft, e[0], 50);   /* key 101 is now the oldest */
	struct dp_flow_key k14 = key(114, 17), k1 = key(101, 17);
	const struct dp_flow *v = dp_flow_victim(&ft, T);
	ck_assert_ptr_eq(v, e[1]);
	e[14] = dp_flow_insert(&ft, &k14, T, 60, &old, &ev);
	ck_assert(ev);
	ck_assert(!memcmp(&old.key, &k1, sizeof(k1)));
	ck_assert_ptr_eq(e[14], e[1]);   /* the victim's entry */
	ck_assert_uint_eq(ft.n, 14);
	ck_assert_uint_eq(ft.st.evicted, 1);
	ck_assert_ptr_null(dp_flow_lookup(&ft, &k1, T));
	for (uint32_t i = 0; i < 15; i++) {
		struct dp_flow_key k = key(100 + i, 17);
		ck_assert_int_eq(dp_flow_lookup(&ft, &k, T) != NULL, i != 1);
	}
	check_index(&ft);
	/* Removing them all leaves an empty index. */
	for (uint32_t i = 0; i < 15; i++) {
		struct dp_flow_key k = key(100 + i, 17);
		struct dp_flow *f = dp_flow_lookup(&ft, &k, T);
		if (f)
			dp_flow_remove(&ft, f);
	}
	ck_assert_uint_eq(ft.n, 0);
	check_index(&ft);
	dp_flow_fini(&ft);
}
END_TEST

START_TEST(sweep_removes_every_expired_flow_within_its_bound)
{
	enum { CAP = 5000, M = 64 };
	const uint64_t S = 1000000;
	struct dp_flow_table ft;
	static bool due[CAP];
	ck_assert_int_eq(dp_flow_init(&ft, CAP, 0), 0);
	srand(3);
	unsigned n_due = 0;
	const uint64_t now = 4000 * S;
	struct dp_flow *all[CAP];
	for (uint32_t i = 0; i < CAP; i++) {
		static const uint8_t protos[] = { 6, 17, 1 };
		struct dp_flow_key k = key(i, protos[i % 3]);
		bool ev;
		all[i] = dp_flow_insert(&ft, &k, dp_flow_hash(&k), now, NULL, &ev);
	}
	/* A first sweep while every flow is fresh: nothing to do, and the
	 * sweeps below start mid-table and wrap around. */
	ck_assert_uint_eq(dp_flow_expire(&ft, now, CAP / 2 + 7, NULL, NULL), 0);
	for (uint32_t i = 0; i < CAP; i++) {
		struct dp_flow *f = all[i];
		f->last_us = now - (uint64_t)(rand() % 4000) * S;
		if (i % 3 == 0 && rand() % 2)
			f->tcp_state = DP_TS_SYN_IN | DP_TS_SYN_OUT;
		due[i] = dp_flow_expired(f, now);
		n_due += due[i];
	}
	/* A few removed ahead of the sweep leave holes it passes over. */
	for (uint32_t i = 0; i < CAP; i += 101) {
		struct dp_flow_key k = key(i, (uint8_t[]){ 6, 17, 1 }[i % 3]);
		struct dp_flow *f = dp_flow_lookup(&ft, &k, dp_flow_hash(&k));
		ck_assert_ptr_nonnull(f);
		n_due -= due[i];
		due[i] = false;
		dp_flow_remove(&ft, f);
	}
	ck_assert_uint_gt(n_due, CAP / 4);
	ck_assert_uint_lt(n_due, CAP);
	struct sweep_ctx c = { due, 0, 0 };
	unsigned removed = 0;
	for (unsigned call = 0; call < (CAP + M - 1) / M; call++) {
		unsigned r = dp_flow_expire(&ft, now, M, swept, &c);
		ck_assert_uint_le(r, M);
		removed += r;
	}
	ck_assert_uint_eq(c.wrong, 0);
	ck_assert_uint_eq(c.ended, n_due);
	ck_assert_uint_eq(removed, n_due);
	ck_assert_uint_eq(ft.st.expired, n_due);
	for (uint32_t i = 0; i < CAP; i++) {
		struct dp_flow_key k = key(i, (uint8_t[]){ 6, 17, 1 }[i % 3]);
		bool live = i % 101 != 0 && !due[i];
		ck_assert_int_eq(dp_flow_lookup(&ft, &k, dp_flow_hash(&k)) != NULL, live);
	}
	/* Nothing more to do in another full turn. */
	for (unsigned call = 0; call < (CAP + M - 1) / M; call++)
		ck_assert_uint_eq(dp_flow_expire(&ft, now, M, swept, &c), 0);
	dp_flow_fini(&ft);
}
END_TEST

/* Entries are cache-line aligned and a hit's fields lie in its first
 * DP_FLOW_HOT_LINES lines (what dp_flow_prefetch_entry fetches). */
START_TEST(entry_layout_keeps_a_hit_in_two_lines)
{
	struct dp_flow_table ft;
	ck_assert_int_eq(dp_flow_init(&ft, 3, 0), 0);
	ck_assert_uint_eq((uintptr_t)ft.flows % 64, 0);
	ck_assert_uint_eq(sizeof(struct dp_flow) % 64, 0);
	size_t hot = 64 * DP_FLOW_HOT_LINES;
	ck_assert_uint_le(offsetof(struct dp_flow, key) + sizeof(struct dp_flow_key), 64);
	ck_assert_uint_le(offsetof(struct dp_flow, last_us) + 8, 64);
	ck_assert_uint_le(offsetof(struct dp_flow, src_mac) + 6, hot);
	ck_assert_uint_lt(offsetof(struct dp_flow, tcp_state), hot);
	ck_assert_uint_lt(offsetof(struct dp_flow, inspected), hot);
	ck_assert_uint_lt(offsetof(struct dp_flow, nat), hot);
	ck_assert_uint_le(offsetof(struct dp_flow, bytes) + 16, hot);
	ck_assert_uint_le(offsetof(struct dp_flow, verdict) + sizeof(struct dp_verdict), hot);
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

/* A large table never filled: the sweep and the iteration cover the part
 * ever used, so expired flows go within ceil(used / m) calls, and removed
 * entries (holes) are skipped. */
START_TEST(sweep_of_a_partly_used_table_covers_what_was_used)
{
	enum { CAP = 100000, USED = 300 };
	const uint64_t S = 1000000;
	struct dp_flow_table ft;
	ck_assert_int_eq(dp_flow_init(&ft, CAP, 0), 0);
	bool ev;
	for (uint32_t i = 0; i < USED; i++) {
		struct dp_flow_key k = key(i, 17);
		dp_flow_insert(&ft, &k, dp_flow_hash(&k), 1 * S, NULL, &ev);
	}
	struct dp_flow_key k7 = key(7, 17);
	dp_flow_remove(&ft, dp_flow_lookup(&ft, &k7, dp_flow_hash(&k7)));
	unsigned seen = 0;
	for (const struct dp_flow *f = dp_flow_next(&ft, NULL); f; f = dp_flow_next(&ft, f)) {
		ck_assert(f->in_use);
		ck_assert(memcmp(&f->key, &k7, sizeof(k7)));
		seen++;
	}
	ck_assert_uint_eq(seen, USED - 1);
	unsigned n = 0;
	/* UDP: 60 s. Three calls of 100 cover the 300 entries ever used. */
	for (int call = 0; call < 3; call++)
		dp_flow_expire(&ft, 100 * S, 100, count, &n);
	ck_assert_uint_eq(n, USED - 1);
	ck_assert_uint_eq(ft.n, 0);
	ck_assert_ptr_null(dp_flow_next(&ft, NULL));
	dp_flow_fini(&ft);
}
END_TEST

START_TEST(a_hint_finds_only_its_own_key)
{
	/* dp_flow_lookup_hint trusts an entry number only for an entry in
	 * use that holds the key: a hint to another key's entry, to a removed
	 * entry (its key bytes still there) or no hint all find what the
	 * index says. dp_flow_prefetch_entry's hints are entries of that hash. */
	struct dp_flow_table ft;
	enum { CAP = 64, KEYS = 48 };
	ck_assert_int_eq(dp_flow_init(&ft, CAP, 0), 0);
	struct dp_flow_key k[KEYS];
	uint32_t h[KEYS], ent[KEYS];
	for (uint32_t i = 0; i < KEYS; i++) {
		bool ev;
		k[i] = key(i, 17);
		h[i] = dp_flow_hash(&k[i]);
		struct dp_flow *f = dp_flow_insert(&ft, &k[i], h[i], 1, NULL, &ev);
		ent[i] = (uint32_t)(f - ft.flows) + 1;
	}
	for (uint32_t i = 0; i < KEYS; i++) {
		struct dp_flow *f = &ft.flows[ent[i] - 1];
		ck_assert_ptr_eq(dp_flow_lookup_hint(&ft, &k[i], h[i], ent[i]), f);
		ck_assert_ptr_eq(dp_flow_lookup_hint(&ft, &k[i], h[i], 0), f);
		ck_assert_ptr_eq(dp_flow_lookup_hint(&ft, &k[i], h[i], ent[(i + 1) % KEYS]), f);
		uint32_t e = dp_flow_prefetch_entry(&ft, h[i]);
		ck_assert(e == 0 || ft.flows[e - 1].hash == h[i]);
	}
	/* Removed: the old entry is not taken for it, even as a hint. */
	dp_flow_remove(&ft, &ft.flows[ent[5] - 1]);
	ck_assert(!memcmp(&ft.flows[ent[5] - 1].key, &k[5], sizeof(k[5])));
	ck_assert_ptr_null(dp_flow_lookup_hint(&ft, &k[5], h[5], ent[5]));
	/* Back in another entry: the stale hint still finds the new one. */
	dp_flow_remove(&ft, &ft.flows[ent[6] - 1]);
	bool ev;
	struct dp_flow *g = dp_flow_insert(&ft, &k[5], h[5], 2, NULL, &ev);
	ck_assert_ptr_eq(dp_flow_lookup_hint(&ft, &k[5], h[5], ent[5]), g);
	ck_assert_ptr_null(dp_flow_lookup_hint(&ft, &k[6], h[6], ent[6]));
	dp_flow_fini(&ft);
}
END_TEST

START_TEST(keys_differing_in_any_byte_differ)
{
	struct dp_flow_key a = key(77, 6), b;
	uint8_t *p = (uint8_t *)&b;
	memcpy(&b, &a, sizeof(b));
	ck_assert(dp_flow_key_eq(&a, &b));
	for (size_t i = 0; i < sizeof(b); i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			p[i] ^= (uint8_t)(1u << bit);
			ck_assert_msg(!dp_flow_key_eq(&a, &b), "byte %zu bit %u", i, bit);
			ck_assert(!dp_flow_key_eq(&b, &a));
			p[i] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert(dp_flow_key_eq(&b, &a));
}
END_TEST

/*
 * The hash spreads keys that differ in one field only (address plans are
 * like that: many terminals to one server, one terminal to many servers or
 * ports, IPv6 interface identifiers) evenly over the home buckets: 2^15
 * keys, 4 a bucket on average; a hash blind to a field piles them up.
 */
START_TEST(hash_spreads_keys_differing_in_one_field)
{
	enum { NB = 1 << 13, KEYS = 1 << 15 };
	static unsigned load[NB];
	for (int field = 0; field < 6; field++) {
		memset(load, 0, sizeof(load));
		unsigned max = 0;
		for (uint32_t n = 0; n < KEYS; n++) {
			struct dp_flow_key k = key(0, 17);
			switch (field) {
			case 0: k.in_ip[1] = (uint8_t)(n >> 16); k.in_ip[2] = (uint8_t)(n >> 8); k.in_ip[3] = (uint8_t)n; break;
			case 1: k.out_ip[2] = (uint8_t)(n >> 8); k.out_ip[3] = (uint8_t)n; break;
			case 2: k.in_port = (uint16_t)n; k.out_port = (uint16_t)(n >> 16 | 53); break;
			case 3: k.out_port = (uint16_t)n; k.in_port = 40000; break;
			case 4: k.family = AF_INET6; memcpy(&k.in_ip[8], &n, 4); break;
			default: k.family = AF_INET6; memcpy(&k.out_ip[12], &n, 4); break;
			}
			unsigned b = dp_flow_hash(&k) & (NB - 1);
			if (++load[b] > max)
				max = load[b];
		}
		/* Uniform random placement: a fullest bucket of ~13. */
		ck_assert_msg(max <= 16, "field %d: %u keys in one bucket of %u", field, max, NB);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dp_flow");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);   /* randomized churn under the sanitizers, on a loaded machine */
	tcase_add_test(tc, insert_lookup_remove_against_reference);
	tcase_add_test(tc, full_table_evicts_least_recently_used);
	tcase_add_test(tc, victim_is_what_insert_evicts_and_reuse_starts_clean);
	tcase_add_test(tc, small_table_churn_is_exact_lru);
	tcase_add_test(tc, large_table_never_evicts_the_flow_just_used);
	tcase_add_test(tc, churn_with_evictions_keeps_every_other_flow_findable);
	tcase_add_test(tc, full_buckets_move_a_key_then_evict_their_oldest);
	tcase_add_test(tc, sweep_removes_every_expired_flow_within_its_bound);
	tcase_add_test(tc, sweep_of_a_partly_used_table_covers_what_was_used);
	tcase_add_test(tc, entry_layout_keeps_a_hit_in_two_lines);
	tcase_add_test(tc, timeouts_by_protocol_and_state);
	tcase_add_test(tc, a_hint_finds_only_its_own_key);
	tcase_add_test(tc, keys_differing_in_any_byte_differ);
	tcase_add_test(tc, hash_spreads_keys_differing_in_one_field);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
