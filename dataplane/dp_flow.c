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

int dp_flow_init_socket(struct dp_flow_table *ft, uint32_t capacity, unsigned worker,
			int socket)
{
	memset(ft, 0, sizeof(*ft));
	if (capacity == 0 || capacity > (1u << 30))
		return -EINVAL;
	uint32_t slots = 16;
	while (slots < 2 * capacity)
		slots *= 2;
	if (socket != DP_FLOW_HEAP) {
		ft->huge = true;
		ft->flows = rte_zmalloc_socket("egw_flows", (size_t)capacity * sizeof(*ft->flows),
					       RTE_CACHE_LINE_SIZE, socket);
		ft->index = rte_zmalloc_socket("egw_flow_index", (size_t)slots * sizeof(*ft->index),
					       RTE_CACHE_LINE_SIZE, socket);
	} else {
		ft->flows = calloc(capacity, sizeof(*ft->flows));
		ft->index = calloc(slots, sizeof(*ft->index));
	}
	if (!ft->flows || !ft->index) {
		dp_flow_fini(ft);
		return -ENOMEM;
	}
	ft->cap = capacity;
	ft->mask = slots - 1;
	for (uint32_t i = 0; i < capacity; i++)
		ft->flows[i].lru_next = i + 1 < capacity ? i + 1 : DP_FLOW_NIL;
	ft->free_head = 0;
	ft->lru_head = ft->lru_tail = DP_FLOW_NIL;
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

struct dp_flow *dp_flow_lookup(struct dp_flow_table *ft, const struct dp_flow_key *k,
			       uint32_t hash)
{
	for (uint32_t i = hash & ft->mask;; i = (i + 1) & ft->mask) {
		uint32_t s = ft->index[i];
		if (!s)
			return NULL;
		struct dp_flow *f = &ft->flows[s - 1];
		if (f->hash == hash && key_eq(&f->key, k))
			return f;
	}
}

static void lru_unlink(struct dp_flow_table *ft, struct dp_flow *f)
{
	uint32_t me = (uint32_t)(f - ft->flows);
	if (f->lru_prev != DP_FLOW_NIL)
		ft->flows[f->lru_prev].lru_next = f->lru_next;
	else
		ft->lru_head = f->lru_next;
	if (f->lru_next != DP_FLOW_NIL)
		ft->flows[f->lru_next].lru_prev = f->lru_prev;
	else
		ft->lru_tail = f->lru_prev;
	(void)me;
}

static void lru_append(struct dp_flow_table *ft, struct dp_flow *f)
{
	uint32_t me = (uint32_t)(f - ft->flows);
	f->lru_next = DP_FLOW_NIL;
	f->lru_prev = ft->lru_tail;
	if (ft->lru_tail != DP_FLOW_NIL)
		ft->flows[ft->lru_tail].lru_next = me;
	else
		ft->lru_head = me;
	ft->lru_tail = me;
}

void dp_flow_relink(struct dp_flow_table *ft, struct dp_flow *f)
{
	if (ft->lru_tail == (uint32_t)(f - ft->flows))
		return;
	lru_unlink(ft, f);
	lru_append(ft, f);
}

/* Backward-shift deletion of the index slot holding f. */
static void index_delete(struct dp_flow_table *ft, struct dp_flow *f)
{
	uint32_t want = (uint32_t)(f - ft->flows) + 1;
	uint32_t i = f->hash & ft->mask;

	while (ft->index[i] != want)
		i = (i + 1) & ft->mask;
	for (uint32_t j = i;;) {
		j = (j + 1) & ft->mask;
		uint32_t s = ft->index[j];
		if (!s)
			break;
		uint32_t home = ft->flows[s - 1].hash & ft->mask;
		/* Can the entry at j move to i? Only if its home is not in (i, j]. */
		bool in_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!in_between) {
			ft->index[i] = s;
			i = j;
		}
	}
	ft->index[i] = 0;
}

void dp_flow_remove(struct dp_flow_table *ft, struct dp_flow *f)
{
	index_delete(ft, f);
	lru_unlink(ft, f);
	f->in_use = 0;
	f->lru_next = ft->free_head;
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
		/* Full: the least recently used entry (the LRU head) is
		 * reused in place, without the free list. */
		idx = ft->lru_head;
		f = &ft->flows[idx];
		if (evicted)
			*evicted = *f;
		*did_evict = true;
		ft->st.evicted++;
		ft->st.removed++;
		index_delete(ft, f);
		ft->lru_head = f->lru_next;
		if (ft->lru_head != DP_FLOW_NIL) {
			ft->flows[ft->lru_head].lru_prev = DP_FLOW_NIL;
			/* The next victim: its first line (key, hash, links)
			 * for the next burst's dp_flow_prefetch_victim. */
			__builtin_prefetch(&ft->flows[ft->lru_head], 1, 3);
		} else {
			ft->lru_tail = DP_FLOW_NIL;
		}
	} else {
		idx = ft->free_head;
		f = &ft->flows[idx];
		ft->free_head = f->lru_next;
		ft->n++;
	}
	/* Every field, one by one: cheaper than clearing the whole entry
	 * (~200 bytes) and then writing most of it again. */
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
	_Static_assert(sizeof(struct dp_flow) ==
		       offsetof(struct dp_flow, nat_ip) + sizeof(((struct dp_flow *)0)->nat_ip),
		       "dp_flow_insert: a field added to struct dp_flow needs its initial value");
	f->id = (ft->next_id++ << 6 | (ft->worker & 63)) & ((1ull << 53) - 1);
	uint32_t i = hash & ft->mask;
	while (ft->index[i])
		i = (i + 1) & ft->mask;
	ft->index[i] = idx + 1;
	lru_append(ft, f);
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
	unsigned removed = 0, seen = 0;
	uint32_t i = ft->lru_head;

	while (i != DP_FLOW_NIL && seen++ < max) {
		struct dp_flow *f = &ft->flows[i];
		uint32_t next = f->lru_next;
		if (dp_flow_expired(f, now_us)) {
			if (done)
				done(f, arg);
			ft->st.expired++;
			dp_flow_remove(ft, f);
			removed++;
		} else if (now_us - f->last_us < DP_TO_MIN * 1000000ull) {
			break;   /* this and every later one is too fresh */
		}
		i = next;
	}
	return removed;
}

void dp_flow_foreach(struct dp_flow_table *ft,
		     void (*fn)(const struct dp_flow *f, void *arg), void *arg)
{
	for (uint32_t i = ft->lru_head; i != DP_FLOW_NIL; i = ft->flows[i].lru_next)
		fn(&ft->flows[i], arg);
}
