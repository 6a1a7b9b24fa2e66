/* SPDX-License-Identifier: MIT */
/*
 * The per-worker flow table: bidirectional (one entry per connection, keyed
 * by its inside and outside ends, so a reply finds its request's entry),
 * fixed capacity (gateway.flows), protocol-aware idle timeouts, and when
 * full, eviction of the least recently used flow (counted). Open addressing
 * (linear probing, backward-shift deletion) over an index of 2x capacity,
 * entries in one array, an LRU list through them.
 *
 * Besides connections it holds fragment entries (kind DP_FK_FRAG, keyed by
 * the IP fragment id): the verdict of a first fragment, for the fragments
 * that follow it without ports.
 *
 * Thread safety: none; one table per worker, touched by its worker only.
 * Time is passed in (microseconds) so that replay runs on capture time.
 * DPDK-free except for dp_flow_init_socket (hugepage memory through
 * rte_malloc; needs an initialised EAL) and the prefetch hint.
 */
#ifndef DP_FLOW_H
#define DP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_policy.h"

enum dp_flow_kind { DP_FK_FLOW = 0, DP_FK_FRAG = 1 };

struct dp_flow_key {
	uint8_t in_ip[16];     /* the inside end (the terminal) */
	uint8_t out_ip[16];    /* the outside end */
	uint16_t in_port;      /* ICMP echo: identifier; else 0 */
	uint16_t out_port;
	uint8_t family;
	uint8_t proto;
	uint8_t kind;          /* enum dp_flow_kind */
	uint8_t pad;
	uint32_t frag_id;      /* DP_FK_FRAG only */
};

/* TCP state bits (seen from each side). */
#define DP_TS_SYN_IN 0x01
#define DP_TS_SYN_OUT 0x02
#define DP_TS_FIN_IN 0x04
#define DP_TS_FIN_OUT 0x08
#define DP_TS_RST 0x10

struct dp_flow {
	struct dp_flow_key key;
	uint32_t hash;
	uint32_t lru_prev, lru_next;   /* DP_FLOW_NIL at the ends */
	uint64_t id;
	uint64_t start_us, last_us;
	uint64_t pkts[2], bytes[2];    /* [0] to server (outward), [1] to client */
	struct dp_verdict verdict;
	uint8_t src_mac[6];            /* the terminal's */
	uint8_t dst_mac[6];            /* what the terminal sent to (the next hop) */
	uint8_t tcp_state;
	uint8_t in_use;
	uint8_t nat;                   /* DNS redirect: out_ip is the target */
	uint8_t inspected;             /* first client payload looked at (SNI/Host) */
	uint8_t nat_ip[16];            /* the resolver the client asked */
};

#define DP_FLOW_NIL UINT32_MAX

struct dp_flow_stats {
	uint64_t created, expired, evicted, closed, removed;
};

struct dp_flow_table {
	struct dp_flow *flows;
	uint32_t cap, n;
	uint32_t *index;       /* flow index + 1; 0 empty */
	bool huge;             /* flows and index from rte_zmalloc_socket */
	uint32_t mask;
	uint32_t free_head;    /* through lru_next */
	uint32_t lru_head, lru_tail; /* head: least recently used */
	uint64_t next_id;
	unsigned worker;
	struct dp_flow_stats st;
};

/* Idle timeouts, seconds. */
#define DP_TO_TCP_OPENING 30
#define DP_TO_TCP_ESTABLISHED 3600
#define DP_TO_TCP_CLOSED 10
#define DP_TO_UDP 60
#define DP_TO_ICMP 30
#define DP_TO_OTHER 60
#define DP_TO_FRAG 30
#define DP_TO_MIN 10

/* 0 or -ENOMEM / -EINVAL (capacity 0 or above 2^30). Heap memory. */
int dp_flow_init(struct dp_flow_table *ft, uint32_t capacity, unsigned worker);
/*
 * The same on hugepage memory of NUMA socket (SOCKET_ID_ANY allowed),
 * cache-aligned, through rte_zmalloc_socket: the index and entries of a
 * large table are then reached without a TLB miss per lookup. Needs an
 * initialised EAL with hugepages; DP_FLOW_HEAP as socket: dp_flow_init.
 */
#define DP_FLOW_HEAP (-2)
int dp_flow_init_socket(struct dp_flow_table *ft, uint32_t capacity, unsigned worker,
			int socket);
void dp_flow_fini(struct dp_flow_table *ft);

uint32_t dp_flow_hash(const struct dp_flow_key *k);

/*
 * The same hash from the key's bytes as six little-endian 64-bit words
 * (w[5]: frag_id, upper half zero), for a caller that has just built the
 * key in registers: reading the key back from memory right after storing
 * it field by field stalls on store-to-load forwarding. Equal to
 * dp_flow_hash of that key.
 */
static inline uint32_t dp_flow_hash_words(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3,
					  uint64_t w4, uint64_t w5)
{
	/* Folded in pairs by 64x64->128-bit multiplies: three independent
	 * multiplies, each product mixing all of both words. */
	unsigned __int128 a = (unsigned __int128)(w0 ^ 0xa0761d6478bd642full) *
			      (w1 ^ 0xe7037ed1a0b428dbull);
	unsigned __int128 b = (unsigned __int128)(w2 ^ 0x8ebc6af09c88c6e3ull) *
			      (w3 ^ 0x589965cc75374cc3ull);
	unsigned __int128 c = (unsigned __int128)(w4 ^ 0x1d8e4e27c47d124full) *
			      (w5 ^ 0x9e3779b97f4a7c15ull);
	uint64_t h = (uint64_t)a ^ (uint64_t)(a >> 64) ^ (uint64_t)b ^ (uint64_t)(b >> 64);
	h = h * 0xff51afd7ed558ccdull + ((uint64_t)c ^ (uint64_t)(c >> 64));
	h ^= h >> 32;
	h *= 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ (h >> 29));
}

/*
 * Prefetch the index slot of hash (first stage of a burst lookup: hash
 * every key of the burst, prefetch their slots, then look them up), and
 * dp_flow_prefetch_entry the entry that slot points to (second stage).
 * Hints only: the table may change between them and the lookup.
 */
static inline void dp_flow_prefetch_slot(const struct dp_flow_table *ft, uint32_t hash)
{
	__builtin_prefetch(&ft->index[hash & ft->mask], 0, 3);
}

static inline void dp_flow_prefetch_entry(const struct dp_flow_table *ft, uint32_t hash)
{
	uint32_t s = ft->index[hash & ft->mask];
	if (s) {
		/* Every line of the entry: a hit reads the key (first line),
		 * then the timestamps, counters, verdict and MACs behind it. */
		const char *e = (const char *)&ft->flows[s - 1];
		for (size_t off = 0; off < sizeof(struct dp_flow) + 63; off += 64)
			__builtin_prefetch(e + (off < sizeof(struct dp_flow) ? off :
						sizeof(struct dp_flow) - 1), 1, 3);
	}
}

/* The entry for k, or NULL. Does not look at timeouts. */
struct dp_flow *dp_flow_lookup(struct dp_flow_table *ft, const struct dp_flow_key *k,
			       uint32_t hash);

/*
 * Add k (not present). When the table is full the least recently used
 * entry is evicted first: *did_evict is set, and it is copied to *evicted
 * (for its end event) unless evicted is NULL (a caller that already saw it
 * through dp_flow_victim). Never fails for capacity >= 1.
 */
struct dp_flow *dp_flow_insert(struct dp_flow_table *ft, const struct dp_flow_key *k,
			       uint32_t hash, uint64_t now_us, struct dp_flow *evicted,
			       bool *did_evict);

/*
 * The entry the next dp_flow_insert evicts (the least recently used one),
 * or NULL while the table has room: a caller emits its end event from it
 * in place, before the insert reuses it, instead of copying it.
 */
static inline const struct dp_flow *dp_flow_victim(const struct dp_flow_table *ft)
{
	return ft->free_head == DP_FLOW_NIL ? &ft->flows[ft->lru_head] : NULL;
}

/*
 * Prefetch what the next eviction touches: the victim entry (its key and
 * hash, then its counters for the end event) and, when the victim's first
 * line is already at hand, its index slot. A hint for a burst of likely
 * new flows; does nothing while the table has room.
 */
static inline void dp_flow_prefetch_victim(const struct dp_flow_table *ft)
{
	if (ft->free_head != DP_FLOW_NIL)
		return;
	const struct dp_flow *v = &ft->flows[ft->lru_head];
	const char *e = (const char *)v;
	for (size_t off = 0; off < sizeof(struct dp_flow) + 63; off += 64)
		__builtin_prefetch(e + (off < sizeof(struct dp_flow) ? off :
					sizeof(struct dp_flow) - 1), 1, 3);
	__builtin_prefetch(&ft->index[v->hash & ft->mask], 1, 3);
	if (v->lru_next != DP_FLOW_NIL)
		__builtin_prefetch(&ft->flows[v->lru_next], 1, 3);
}

/* Mark used now: most recently used. */
void dp_flow_relink(struct dp_flow_table *ft, struct dp_flow *f);
static inline void dp_flow_touch(struct dp_flow_table *ft, struct dp_flow *f, uint64_t now_us)
{
	f->last_us = now_us;
	if (ft->lru_tail != (uint32_t)(f - ft->flows))
		dp_flow_relink(ft, f);   /* not already the most recent one */
}
void dp_flow_remove(struct dp_flow_table *ft, struct dp_flow *f);

/* Idle timeout of f in microseconds (by protocol and TCP state). */
uint64_t dp_flow_timeout_us(const struct dp_flow *f);
static inline bool dp_flow_expired(const struct dp_flow *f, uint64_t now_us)
{
	uint64_t idle = now_us - f->last_us;
	/* Every timeout is at least DP_TO_MIN: a flow seen since is live,
	 * without working out its timeout (the common case on a hit). */
	return idle >= DP_TO_MIN * 1000000ull && idle >= dp_flow_timeout_us(f);
}

/*
 * Remove up to max expired entries, least recently used first, calling
 * done(f, arg) before each removal. Returns how many were removed.
 */
unsigned dp_flow_expire(struct dp_flow_table *ft, uint64_t now_us, unsigned max,
			void (*done)(const struct dp_flow *f, void *arg), void *arg);

/* Iterate every entry (for shutdown and dumps). */
void dp_flow_foreach(struct dp_flow_table *ft,
		     void (*fn)(const struct dp_flow *f, void *arg), void *arg);

#endif
