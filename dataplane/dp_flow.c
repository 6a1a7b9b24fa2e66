/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "dp_flow.h"

int dp_flow_init(struct dp_flow_table *ft, uint32_t capacity, unsigned worker)
{
	return dp_flow_init_socket(ft, capacity, worker, DP_FLOW_HEAP);
}

_Static_assert(sizeof(struct dp_flow) == 192, "struct dp_flow: three cache lines");
_Static_assert(offsetof(struct dp_flow, last_us) + 8 <= 64 &&
	       offsetof(struct dp_flow, gen) + 2 <= 64 &&
	       offsetof(struct dp_flow, src_mac) + 6 <= 64 &&
	       offsetof(struct dp_flow, inspected) < 64,
	       "struct dp_flow: a hit's checks in the first line");
_Static_assert(offsetof(struct dp_flow, verdict) + sizeof(struct dp_verdict) <=
	       64 * DP_FLOW_HOT_LINES,
	       "struct dp_flow: a hit's counters and verdict in the hot lines");

int dp_flow_init_socket(struct dp_flow_table *ft, uint32_t capacity, unsigned worker,
			int socket)
{
	memset(ft, 0, sizeof(*ft));
	if (capacity == 0 || capacity > (1u << 30))
		return -EINVAL;
	_Static_assert(sizeof(struct dp_flow_bucket) == 64, "struct dp_flow_bucket: one line");
	/* At most 4 entries per 7-lane bucket on average. */
	uint32_t nb = 1;
	while ((uint64_t)nb * 4 < capacity)
		nb *= 2;
	size_t fsz = (size_t)capacity * sizeof(*ft->flows);
	size_t bsz = (size_t)nb * sizeof(*ft->bkt);
	if (socket != DP_FLOW_HEAP) {
		ft->huge = true;
		ft->flows = rte_zmalloc_socket("egw_flows", fsz, RTE_CACHE_LINE_SIZE, socket);
		ft->bkt = rte_zmalloc_socket("egw_flow_index", bsz, RTE_CACHE_LINE_SIZE, socket);
	} else {
		/* Cache-aligned too: an entry's lines are its own. Both
		 * sizes are multiples of 64. */
		ft->flows = aligned_alloc(64, fsz);
		ft->bkt = aligned_alloc(64, bsz);
		if (ft->flows)
			memset(ft->flows, 0, fsz);
		if (ft->bkt)
			memset(ft->bkt, 0, bsz);
	}
	if (!ft->flows || !ft->bkt) {
		dp_flow_fini(ft);
		return -ENOMEM;
	}
	ft->cap = capacity;
	ft->bmask = nb - 1;
	for (uint32_t i = 0; i < capacity; i++)
		ft->flows[i].free_next = i + 1 < capacity ? i + 1 : DP_FLOW_NIL;
	ft->free_head = 0;
	ft->worker = worker;
	ft->next_id = 1;
	return 0;
}

void dp_flow_fini(struct dp_flow_table *ft)
{
	if (ft->huge) {
		rte_free(ft->flows);
		rte_free(ft->bkt);
	} else {
		free(ft->flows);
		free(ft->bkt);
	}
	ft->flows = NULL;
	ft->bkt = NULL;
}

uint32_t dp_flow_hash(const struct dp_flow_key *k)
{
	_Static_assert(sizeof(*k) == 44, "dp_flow_key: the hash reads 44 bytes");
	uint64_t w[6] = { 0 };

	memcpy(w, k, sizeof(*k));
	return dp_flow_hash_words(w[0], w[1], w[2], w[3], w[4], w[5]);
}

struct dp_flow *dp_flow_lookup(struct dp_flow_table *ft, const struct dp_flow_key *k,
			       uint32_t hash)
{
	return dp_flow_lookup_inline(ft, k, hash);
}

/* The first empty lane of b, or -1. */
static inline int free_lane(const struct dp_flow_bucket *b)
{
	unsigned m = dp_flow_lanes_eq(b->ent, 0) & DP_FLOW_LANE_MASK;
	return m ? __builtin_ctz(m) : -1;
}

/* Clear the lane of entry idx (hash h): in its home bucket, or in its
 * second one (the home's count of keys away goes down). */
static void slot_delete(struct dp_flow_table *ft, uint32_t idx, uint32_t h)
{
	uint32_t home = dp_flow_home_bucket(ft, h);
	struct dp_flow_bucket *b = &ft->bkt[home];
	unsigned m = dp_flow_lanes_eq(b->ent, idx + 1) & DP_FLOW_LANE_MASK;

	if (__builtin_expect(!m, 0)) {
		b = &ft->bkt[dp_flow_alt_bucket(ft, h)];
		m = dp_flow_lanes_eq(b->ent, idx + 1) & DP_FLOW_LANE_MASK;
		ft->bkt[home].sig[DP_FLOW_OVF]--;
	}
	unsigned l = (unsigned)__builtin_ctz(m);
	b->sig[l] = 0;
	b->ent[l] = 0;
}

/*
 * A one-step cuckoo move for a key whose buckets b1 and b2 are both full:
 * a key of either whose own other bucket has an empty lane. Returns the
 * bucket (*bucket) and lane (*lane) to take it from, or false.
 */
static bool move_find(const struct dp_flow_table *ft, uint32_t b1, uint32_t b2,
		      uint32_t *bucket, unsigned *lane)
{
	const uint32_t both[2] = { b1, b2 };
	for (unsigned x = 0; x < 2; x++) {
		const struct dp_flow_bucket *b = &ft->bkt[both[x]];
		for (unsigned l = 0; l < DP_FLOW_LANES; l++) {
			uint32_t s = b->sig[l];
			uint32_t home = dp_flow_home_bucket(ft, s);
			uint32_t other = home == both[x] ? dp_flow_alt_bucket(ft, s) : home;
			if (other != both[x] && free_lane(&ft->bkt[other]) >= 0) {
				*bucket = both[x];
				*lane = l;
				return true;
			}
		}
	}
	return false;
}

/* Move the key in lane l of bucket x to its other bucket (which has room). */
static void move_key(struct dp_flow_table *ft, uint32_t x, unsigned l)
{
	struct dp_flow_bucket *b = &ft->bkt[x];
	uint32_t s = b->sig[l];
	uint32_t home = dp_flow_home_bucket(ft, s);
	uint32_t other = home == x ? dp_flow_alt_bucket(ft, s) : home;
	struct dp_flow_bucket *o = &ft->bkt[other];
	int ol = free_lane(o);

	o->sig[ol] = s;
	o->ent[ol] = b->ent[l];
	if (home == x)
		ft->bkt[home].sig[DP_FLOW_OVF]++;   /* moved away from home */
	else
		ft->bkt[home].sig[DP_FLOW_OVF]--;   /* moved back home */
	b->sig[l] = 0;
	b->ent[l] = 0;
}

/*
 * What an insert of hash evicts: NIL (room), the sample's victim (table
 * full), or, when neither bucket can take the key even after a move, the
 * least recently used entry of the two buckets (| DP_FLOW_PLAN_BUCKET).
 */
static uint32_t plan(const struct dp_flow_table *ft, uint32_t hash)
{
	uint32_t b1 = dp_flow_home_bucket(ft, hash), b2 = dp_flow_alt_bucket(ft, hash);
	uint32_t x;
	unsigned l;

	if (__builtin_expect(free_lane(&ft->bkt[b1]) >= 0, 1) || free_lane(&ft->bkt[b2]) >= 0 ||
	    move_find(ft, b1, b2, &x, &l))
		return ft->free_head == DP_FLOW_NIL ? dp_flow_victim_index(ft) : DP_FLOW_NIL;
	/* Both full (as they are only for colliding keys): the least recently
	 * used of their keys goes. */
	uint32_t best = DP_FLOW_NIL;
	uint64_t oldest = UINT64_MAX;
	const uint32_t both[2] = { b1, b2 };
	for (unsigned i = 0; i < 2; i++)
		for (l = 0; l < DP_FLOW_LANES; l++) {
			uint32_t e = ft->bkt[both[i]].ent[l] - 1;
			if (best == DP_FLOW_NIL || ft->flows[e].last_us < oldest) {
				oldest = ft->flows[e].last_us;
				best = e;
			}
		}
	return best | DP_FLOW_PLAN_BUCKET;
}

const struct dp_flow *dp_flow_victim(const struct dp_flow_table *ft, uint32_t hash)
{
	uint32_t v = plan(ft, hash);

	return v == DP_FLOW_NIL ? NULL : &ft->flows[v & ~DP_FLOW_PLAN_BUCKET];
}

void dp_flow_remove(struct dp_flow_table *ft, struct dp_flow *f)
{
	uint32_t idx = (uint32_t)(f - ft->flows);

	slot_delete(ft, idx, f->hash);
	f->in_use = 0;
	f->free_next = ft->free_head;
	ft->free_head = idx;
	ft->n--;
	ft->st.removed++;
}

/* Put entry idx (hash) into the index: its home bucket, else its second,
 * else (dp_flow_claim's plan made sure one can) after a move. */
static void place(struct dp_flow_table *ft, uint32_t hash, uint32_t idx)
{
	uint32_t b1 = dp_flow_home_bucket(ft, hash);
	struct dp_flow_bucket *b = &ft->bkt[b1];
	int l = free_lane(b);

	if (__builtin_expect(l < 0, 0)) {
		uint32_t b2 = dp_flow_alt_bucket(ft, hash);
		l = free_lane(&ft->bkt[b2]);
		if (l < 0) {
			uint32_t x = 0;
			unsigned ml = 0;
			bool ok = move_find(ft, b1, b2, &x, &ml);
			(void)ok;   /* the plan saw to it */
			move_key(ft, x, ml);
			l = (int)ml;
			b2 = x;
		}
		if (b2 != b1) {
			b = &ft->bkt[b2];
			ft->bkt[b1].sig[DP_FLOW_OVF]++;
		}
	}
	b->sig[l] = hash;
	b->ent[l] = idx + 1;
}

struct dp_flow *dp_flow_claim(struct dp_flow_table *ft, uint32_t hash, bool *evicting)
{
	uint32_t v = plan(ft, hash), idx;
	struct dp_flow *f;

	if (v != DP_FLOW_NIL) {
		/* The victim's entry is reused in place, without the free
		 * list. A sampled victim: the hand moves just past it (the
		 * younger entries before it are sampled again: equals go
		 * first in, first out). */
		idx = v & ~DP_FLOW_PLAN_BUCKET;
		f = &ft->flows[idx];
		ft->st.evicted++;
		ft->st.removed++;
		slot_delete(ft, idx, f->hash);
		if (!(v & DP_FLOW_PLAN_BUCKET)) {
			ft->evict_hand = idx + 1 < ft->cap ? idx + 1 : 0;
			/* The next sample's first lines, for the next
			 * eviction (a burst of new flows evicts one after
			 * another). */
			dp_flow_prefetch_victim(ft);
		}
		*evicting = true;
		return f;
	}
	idx = ft->free_head;
	f = &ft->flows[idx];
	ft->free_head = f->free_next;
	ft->n++;
	if (idx >= ft->hi)
		ft->hi = idx + 1;   /* the free list starts in array order */
	*evicting = false;
	return f;
}

void dp_flow_fill(struct dp_flow_table *ft, struct dp_flow *f, const struct dp_flow_key *k,
		  uint32_t hash, uint64_t now_us)
{
	/* Every field, one by one: cheaper than clearing the whole entry
	 * and then writing most of it again. */
	f->key = *k;
	f->hash = hash;
	f->start_us = f->last_us = now_us;
	f->pkts[0] = f->pkts[1] = 0;
	f->bytes[0] = f->bytes[1] = 0;
	memset(&f->verdict, 0, sizeof(f->verdict));
	memset(f->src_mac, 0, sizeof(f->src_mac));
	memset(f->dst_mac, 0, sizeof(f->dst_mac));
	f->tcp_state = 0;
	f->in_use = 1;
	f->nat = 0;
	f->inspected = 0;
	f->gen = ft->gen;
	memset(f->nat_ip, 0, sizeof(f->nat_ip));
	_Static_assert(offsetof(struct dp_flow, gen) + 2 == 64 &&
		       offsetof(struct dp_flow, nat_ip) + 16 == 174,
		       "dp_flow_fill: a field added to struct dp_flow needs its initial value");
	f->id = (ft->next_id++ << 6 | (ft->worker & 63)) & ((1ull << 53) - 1);
	place(ft, hash, (uint32_t)(f - ft->flows));
	ft->st.created++;
}

struct dp_flow *dp_flow_insert(struct dp_flow_table *ft, const struct dp_flow_key *k,
			       uint32_t hash, uint64_t now_us, struct dp_flow *evicted,
			       bool *did_evict)
{
	struct dp_flow *f = dp_flow_claim(ft, hash, did_evict);

	if (*did_evict && evicted)
		*evicted = *f;
	dp_flow_fill(ft, f, k, hash, now_us);
	return f;
}

uint64_t dp_flow_timeout_us(const struct dp_flow *f)
{
	uint64_t s;

	if (f->key.kind == DP_FK_FRAG)
		s = DP_TO_FRAG;
	else if (f->key.proto == 6) {
		uint8_t t = f->tcp_state;
		if ((t & DP_TS_RST) || ((t & DP_TS_FIN_IN) && (t & DP_TS_FIN_OUT)))
			s = DP_TO_TCP_CLOSED;
		else if ((t & DP_TS_SYN_IN) && (t & DP_TS_SYN_OUT))
			s = DP_TO_TCP_ESTABLISHED;
		else
			s = DP_TO_TCP_OPENING;
	} else if (f->key.proto == 17) {
		s = DP_TO_UDP;
	} else if (f->key.proto == 1 || f->key.proto == 58) {
		s = DP_TO_ICMP;
	} else {
		s = DP_TO_OTHER;
	}
	return s * 1000000ull;
}

unsigned dp_flow_expire(struct dp_flow_table *ft, uint64_t now_us, unsigned max,
			void (*done)(const struct dp_flow *f, void *arg), void *arg)
{
	unsigned removed = 0;
	uint32_t i = ft->expire_hand;

	if (i >= ft->hi)
		i = 0;
	for (unsigned seen = 0; seen < max && seen < ft->hi; seen++) {
		struct dp_flow *f = &ft->flows[i];
		if (f->in_use && dp_flow_expired(f, now_us)) {
			if (done)
				done(f, arg);
			ft->st.expired++;
			dp_flow_remove(ft, f);
			removed++;
		}
		if (++i >= ft->hi)
			i = 0;
	}
	ft->expire_hand = i;
	return removed;
}

void dp_flow_foreach(struct dp_flow_table *ft,
		     void (*fn)(const struct dp_flow *f, void *arg), void *arg)
{
	for (uint32_t i = 0; i < ft->hi; i++)
		if (ft->flows[i].in_use)
			fn(&ft->flows[i], arg);
}
