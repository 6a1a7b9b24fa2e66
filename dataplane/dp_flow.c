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
	uint32_t slots = 16;
	while (slots < 2 * capacity)
		slots *= 2;
	size_t fsz = (size_t)capacity * sizeof(*ft->flows);
	size_t isz = (size_t)slots * sizeof(*ft->index);
	if (socket != DP_FLOW_HEAP) {
		ft->huge = true;
		ft->flows = rte_zmalloc_socket("egw_flows", fsz, RTE_CACHE_LINE_SIZE, socket);
		ft->index = rte_zmalloc_socket("egw_flow_index", isz, RTE_CACHE_LINE_SIZE,
					       socket);
	} else {
		/* Cache-aligned too: an entry's lines are its own. Both
		 * sizes are multiples of 64. */
		ft->flows = aligned_alloc(64, fsz);
		ft->index = aligned_alloc(64, isz);
		if (ft->flows)
			memset(ft->flows, 0, fsz);
		if (ft->index)
			memset(ft->index, 0, isz);
	}
	if (!ft->flows || !ft->index) {
		dp_flow_fini(ft);
		return -ENOMEM;
	}
	ft->cap = capacity;
	ft->mask = slots - 1;
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
		rte_free(ft->index);
	} else {
		free(ft->flows);
		free(ft->index);
	}
	ft->flows = NULL;
	ft->index = NULL;
}

uint32_t dp_flow_hash(const struct dp_flow_key *k)
{
	_Static_assert(sizeof(*k) == 44, "dp_flow_key: the hash reads 44 bytes");
	uint64_t w[6] = { 0 };

	memcpy(w, k, sizeof(*k));
	return dp_flow_hash_words(w[0], w[1], w[2], w[3], w[4], w[5]);
}

static inline bool key_eq(const struct dp_flow_key *a, const struct dp_flow_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static inline uint64_t slot_of(uint32_t hash, uint32_t entry)
{
	return (uint64_t)hash << 32 | (entry + 1);
}

struct dp_flow *dp_flow_lookup(struct dp_flow_table *ft, const struct dp_flow_key *k,
			       uint32_t hash)
{
	for (uint32_t i = hash & ft->mask;; i = (i + 1) & ft->mask) {
		uint64_t s = ft->index[i];
		if (!s)
			return NULL;
		if ((uint32_t)(s >> 32) == hash) {
			struct dp_flow *f = &ft->flows[(uint32_t)s - 1];
			if (key_eq(&f->key, k))
				return f;
		}
	}
}

/* Backward-shift deletion of the index slot holding f: homes from the
 * slots' hash halves, no entry read. */
static void index_delete(struct dp_flow_table *ft, struct dp_flow *f)
{
	uint64_t want = slot_of(f->hash, (uint32_t)(f - ft->flows));
	uint32_t i = f->hash & ft->mask;

	while (ft->index[i] != want)
		i = (i + 1) & ft->mask;
	for (uint32_t j = i;;) {
		j = (j + 1) & ft->mask;
		uint64_t s = ft->index[j];
		if (!s)
			break;
		uint32_t home = (uint32_t)(s >> 32) & ft->mask;
		/* Can the entry at j move to the hole i? Only if its home is
		 * not in (i, j], i.e. it is at least as far from home as the
		 * hole is from j. Which way this goes is a coin toss for the
		 * branch predictor (callgrind --branch-sim: 3 mispredictions
		 * per new flow here), so it is done without a branch: the hole
		 * is written either way (with what it held when the entry
		 * stays: the hole's value is overwritten later in any case). */
		uint64_t move = -(uint64_t)(((j - home) & ft->mask) >= ((j - i) & ft->mask));
		ft->index[i] = (s & move) | (ft->index[i] & ~move);
		i = (uint32_t)((j & move) | (i & ~move));
	}
	ft->index[i] = 0;
}

void dp_flow_remove(struct dp_flow_table *ft, struct dp_flow *f)
{
	index_delete(ft, f);
	f->in_use = 0;
	f->free_next = ft->free_head;
	ft->free_head = (uint32_t)(f - ft->flows);
	ft->n--;
	ft->st.removed++;
}

struct dp_flow *dp_flow_insert(struct dp_flow_table *ft, const struct dp_flow_key *k,
			       uint32_t hash, uint64_t now_us, struct dp_flow *evicted,
			       bool *did_evict)
{
	uint32_t idx;
	struct dp_flow *f;

	*did_evict = false;
	if (ft->free_head == DP_FLOW_NIL) {
		/* Full: the sample's least recently used entry is reused in
		 * place, without the free list; the hand moves just past it
		 * (the younger entries before it are sampled again: equals
		 * go first in, first out). */
		idx = dp_flow_victim_index(ft);
		f = &ft->flows[idx];
		if (evicted)
			*evicted = *f;
		*did_evict = true;
		ft->st.evicted++;
		ft->st.removed++;
		index_delete(ft, f);
		ft->evict_hand = idx + 1 < ft->cap ? idx + 1 : 0;
		/* The next sample's first lines, for the next eviction (a
		 * burst of new flows evicts one after another). */
		dp_flow_prefetch_victim(ft);
	} else {
		idx = ft->free_head;
		f = &ft->flows[idx];
		ft->free_head = f->free_next;
		ft->n++;
		if (idx >= ft->hi)
			ft->hi = idx + 1;   /* the free list starts in array order */
	}
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
	memset(f->nat_ip, 0, sizeof(f->nat_ip));
	_Static_assert(offsetof(struct dp_flow, src_mac) + 6 == 62 &&
		       offsetof(struct dp_flow, nat_ip) + 16 == 174,
		       "dp_flow_insert: a field added to struct dp_flow needs its initial value");
	f->id = (ft->next_id++ << 6 | (ft->worker & 63)) & ((1ull << 53) - 1);
	uint32_t i = hash & ft->mask;
	while (ft->index[i])
		i = (i + 1) & ft->mask;
	ft->index[i] = slot_of(hash, idx);
	ft->st.created++;
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
