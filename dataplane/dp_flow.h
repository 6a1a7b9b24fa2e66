/* SPDX-License-Identifier: MIT */
/*
 * The per-worker flow table: bidirectional (one entry per connection, keyed
 * by its inside and outside ends, so a reply finds its request's entry),
 * fixed capacity (gateway.flows), protocol-aware idle timeouts, and when
 * full, eviction (counted) of an approximately least recently used flow.
 *
 * Layout: entries in one cache-aligned array, 192 bytes (three lines) each;
 * a hit reads and writes only its own entry's first two lines (key,
 * last_us, state and source MAC in the first; counters and verdict in the
 * second). No list runs through the entries: a hit writes nothing else.
 * The index is an array of 64-byte buckets (a power of two of them, at
 * least capacity / 4: at most 4 entries per bucket on average), each with 7
 * lanes of (the entry's full 32-bit hash, entry number + 1). A key lives in
 * its home bucket (hash & bmask) or, when that was full at its insert, in
 * its second bucket (dp_flow_alt_bucket, from other bits of the hash); a
 * home bucket counts the keys of its own that live in their second one, so
 * a lookup that misses at home and finds that count 0 is done after one
 * cache line. A lookup compares a bucket's 7 hashes at once (SSE2), so
 * neither a probe nor a delete reads entries or loops over slots, and a
 * delete just clears its lane. When both buckets of a new key are full, one
 * key of either moves to its own other bucket if that has room (a one-step
 * cuckoo move); when none can, the least recently used entry of the two
 * buckets is evicted for it (counted as an eviction, table full or not).
 * With random hashes this last case does not occur in practice (two full
 * buckets, and the 14 keys in them all with a full other bucket, at an
 * average load of at most 4 of 7); crafted colliding keys only evict each
 * other.
 *
 * Eviction (table full, the usual case): a hand moves over the entry array; each eviction
 * looks at the next DP_FLOW_EVICT_SAMPLE entries from the hand, takes the
 * one used least recently (oldest last_us; of equals, the first from the
 * hand), and moves the hand just past it. Deterministic. A table of at most
 * DP_FLOW_EVICT_SAMPLE entries is thus exact LRU (equal times: first in,
 * first out); in a larger one the victim is the oldest of its sample, so a
 * flow used after every other one is never the next victim, but the
 * table-wide oldest flow may outlive younger ones.
 *
 * Expiry: a hit still checks dp_flow_expired; idle flows are found by a
 * sweep (dp_flow_expire, a second hand over the array, a fixed number of
 * entries per call). The worker's tick (every millisecond on a port, every
 * packet in replay) sweeps DP_FLOW_EXPIRE_BATCH entries, so the whole table
 * (up to the highest entry ever used) is swept at least every
 * ceil(capacity / DP_FLOW_EXPIRE_BATCH) ticks: an idle flow's
 * end event comes at most that many ticks after its timeout runs out
 * (1,048,576 flows: 4,096 ticks, 4.1 s on a port; 65,536 flows: 0.26 s).
 * The event is stamped with the flow's last packet time either way.
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
#include <string.h>

#include <egw/dns_stream.h>

#include "dp_policy.h"
#include "dp_prefetch.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif
#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

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

/*
 * One entry, three cache lines. The first two are what a hit reads and
 * writes (dp_flow_prefetch_entry fetches them); the third is read when the
 * flow starts, ends, is removed or is redirected.
 */
struct dp_flow {
	/* Line 0: the lookup and a hit's checks. */
	struct dp_flow_key key;        /* 44 bytes */
	uint8_t tcp_state;
	uint8_t in_use;
	uint8_t nat;                   /* DNS redirect: out_ip is the target */
	uint8_t inspected;             /* first client payload looked at (SNI/Host);
					  TCP/53: dns below is valid */
	uint64_t last_us;
	uint8_t src_mac[6];            /* the terminal's */
	uint16_t gen;                  /* the table's gen when it was decided */
	/* Line 1: what a hit counts and acts on. */
	uint64_t pkts[2] __attribute__((aligned(64))); /* [0] to server (outward), [1] to client */
	uint64_t bytes[2];
	struct dp_verdict verdict;
	/* Line 2: cold. */
	uint32_t hash __attribute__((aligned(64)));    /* also in the index slot */
	uint32_t free_next;            /* free entries: the next one; else unused */
	uint64_t id;
	uint64_t start_us;
	uint8_t dst_mac[6];            /* what the terminal sent to (the next hop) */
	uint8_t nat_ip[16];            /* the resolver the client asked */
	/* A TCP/53 flow: where the client's DNS messages start (dns_query
	 * in dp_worker.c). Not cleared by dp_flow_fill (a new flow costs no
	 * store for it): valid only once inspected is set, which dns_query
	 * does when it first clears it. */
	struct egw_dns_stream dns;
};

#define DP_FLOW_NIL UINT32_MAX
/* Entries a hit touches (from the first): dp_flow_prefetch_entry's lines. */
#define DP_FLOW_HOT_LINES 2
/* Entries each eviction compares (the LRU of this many). */
#define DP_FLOW_EVICT_SAMPLE 8
/*
 * Entries the worker's tick sweeps for expiry: a 2^20 table in 4,096 ticks
 * (4.1 s at one tick a millisecond); ~256 sequential line reads a tick.
 */
#define DP_FLOW_EXPIRE_BATCH 256

/*
 * One index bucket (one cache line). Lanes 0..6: sig = the entry's hash,
 * ent = entry number + 1 (0: empty lane, sig 0). sig[7] counts this home
 * bucket's keys that live in their second bucket; ent[7] is always 0.
 */
#define DP_FLOW_LANES 7
#define DP_FLOW_LANE_MASK 0x7fu
#define DP_FLOW_OVF 7
struct dp_flow_bucket {
	uint32_t sig[8];
	uint32_t ent[8];
} __attribute__((aligned(64)));

struct dp_flow_stats {
	uint64_t created, expired, evicted, closed, removed;
};

struct dp_flow_table {
	struct dp_flow *flows;
	uint32_t cap, n;
	struct dp_flow_bucket *bkt;
	bool huge;             /* flows and index from rte_zmalloc_socket */
	uint32_t bmask;        /* buckets - 1 */
	uint32_t free_head;    /* through free_next; DP_FLOW_NIL when full */
	uint32_t evict_hand;   /* the next eviction's sample starts here */
	uint32_t expire_hand;  /* the next expiry sweep starts here */
	uint32_t hi;           /* entries in use are all below: [0, hi) were ever used */
	uint64_t next_id;
	unsigned worker;
	struct dp_flow_stats st;
	/* Generation of the verdicts (the owner's: a reload's re-decision,
	 * dp_worker.h); dp_flow_fill stamps new entries with it. */
	uint16_t gen;
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
#if defined(__SSE4_2__)
	/* Hardware CRC32C steps (SSE4.2; DPDK's -march gives it), in two
	 * independent chains of three: about 10 instructions against the
	 * multiplies' 35. Checked against them on 1M keys of address plans
	 * (random, one terminal scanning one server, sequential) in 2^18
	 * buckets: as even on random keys, more even on structured ones. */
	uint64_t a = _mm_crc32_u64(0x9e3779b9u, w0), b = _mm_crc32_u64(0x85ebca6bu, w2);
	a = _mm_crc32_u64(a, w1);
	b = _mm_crc32_u64(b, w3);
	a = _mm_crc32_u64(a, w4);
	b = _mm_crc32_u64(b, w5);
	return (uint32_t)a ^ (uint32_t)(b << 16 | b >> 16);
#else
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
#endif
}

/* Entry number with DP_FLOW_PLAN_BUCKET: evicted from the new key's buckets. */
#define DP_FLOW_PLAN_BUCKET 0x80000000u

static inline uint32_t dp_flow_home_bucket(const struct dp_flow_table *ft, uint32_t hash)
{
	return hash & ft->bmask;
}

/* A key's second bucket: other bits of its hash; never its home bucket
 * while there are two buckets or more. */
static inline uint32_t dp_flow_alt_bucket(const struct dp_flow_table *ft, uint32_t hash)
{
	uint32_t x = (hash >> 16 | hash << 16) * 0x9e3779b1u;
	return (hash ^ ((x >> 4) | 1)) & ft->bmask;
}

/* Bit i set: lanes[i] == v, for the 8 lanes of a bucket array. */
static inline unsigned dp_flow_lanes_eq(const uint32_t *lanes, uint32_t v)
{
#if defined(__SSE2__)
	__m128i x = _mm_set1_epi32((int)v);
	__m128i a = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)lanes), x);
	__m128i b = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)(lanes + 4)), x);
	return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(a)) |
	       (unsigned)_mm_movemask_ps(_mm_castsi128_ps(b)) << 4;
#else
	unsigned m = 0;
	for (unsigned i = 0; i < 8; i++)
		m |= (unsigned)(lanes[i] == v) << i;
	return m;
#endif
}

/*
 * Prefetch the home bucket of hash (first stage of a burst lookup: hash
 * every key of the burst, prefetch their buckets, then look them up), and
 * dp_flow_prefetch_entry the entry whose hash that bucket holds (second
 * stage): its first DP_FLOW_HOT_LINES lines, all a hit touches. Hints only:
 * the table may change between them and the lookup. dp_flow_prefetch_entry
 * returns that entry's number + 1 (for dp_flow_lookup_hint), or 0 when the
 * home bucket holds no such hash (likely a new flow, unless the key lives
 * in its second bucket).
 */
static inline void dp_flow_prefetch_slot(const struct dp_flow_table *ft, uint32_t hash)
{
	dp_prefetch(&ft->bkt[dp_flow_home_bucket(ft, hash)]);
}

static inline uint32_t dp_flow_prefetch_entry(const struct dp_flow_table *ft, uint32_t hash)
{
	const struct dp_flow_bucket *b = &ft->bkt[dp_flow_home_bucket(ft, hash)];
	unsigned m = dp_flow_lanes_eq(b->sig, hash) & DP_FLOW_LANE_MASK;
	if (m) {
		uint32_t e = b->ent[__builtin_ctz(m)];
		if (e) {
			const char *p = (const char *)&ft->flows[e - 1];
			for (unsigned l = 0; l < DP_FLOW_HOT_LINES; l++)
				dp_prefetch(p + 64 * l);
			return e;
		}
	}
	return 0;
}

/* a and b are the same key (every byte of the 44, padding included). */
static inline bool dp_flow_key_eq(const struct dp_flow_key *a, const struct dp_flow_key *b)
{
	_Static_assert(sizeof(*a) == 44, "dp_flow_key_eq: 32 + 8 + 4 bytes");
	uint64_t a8, b8;
	uint32_t a4, b4;
	memcpy(&a8, (const char *)a + 32, 8);
	memcpy(&b8, (const char *)b + 32, 8);
	memcpy(&a4, (const char *)a + 40, 4);
	memcpy(&b4, (const char *)b + 40, 4);
	uint64_t tail = (a8 ^ b8) | (a4 ^ b4);
#if defined(__SSE4_1__)
	/* The addresses as two 16-byte words: two loads, xors, one test. */
	__m128i x = _mm_or_si128(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)a),
					       _mm_loadu_si128((const __m128i *)(const void *)b)),
				 _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)
							      ((const char *)a + 16)),
					       _mm_loadu_si128((const __m128i *)(const void *)
							      ((const char *)b + 16))));
	return _mm_testz_si128(x, x) & !tail;
#else
	return !tail && !memcmp(a, b, 32);
#endif
}

/* k in bucket b (lanes whose hash is hash, then the key). */
static inline struct dp_flow *dp_flow_bucket_find(struct dp_flow_table *ft,
						  const struct dp_flow_bucket *b,
						  const struct dp_flow_key *k, uint32_t hash)
{
	for (unsigned m = dp_flow_lanes_eq(b->sig, hash) & DP_FLOW_LANE_MASK; m; m &= m - 1) {
		uint32_t e = b->ent[__builtin_ctz(m)];
		/* e is 0 only for an empty lane matching hash 0. */
		if (e && dp_flow_key_eq(&ft->flows[e - 1].key, k))
			return &ft->flows[e - 1];
	}
	return NULL;
}

/* The entry for k, or NULL. Does not look at timeouts. */
struct dp_flow *dp_flow_lookup(struct dp_flow_table *ft, const struct dp_flow_key *k,
			       uint32_t hash);

/* The same, inline (for the per-packet path). */
static inline struct dp_flow *dp_flow_lookup_inline(struct dp_flow_table *ft,
						    const struct dp_flow_key *k, uint32_t hash)
{
	const struct dp_flow_bucket *b = &ft->bkt[dp_flow_home_bucket(ft, hash)];
	struct dp_flow *f = dp_flow_bucket_find(ft, b, k, hash);

	if (f || !b->sig[DP_FLOW_OVF])
		return f;
	return dp_flow_bucket_find(ft, &ft->bkt[dp_flow_alt_bucket(ft, hash)], k, hash);
}

/*
 * dp_flow_lookup_inline, first trying entry ent - 1 (ent: what
 * dp_flow_prefetch_entry(ft, hash) returned for this burst, or 0): an entry
 * in use holding k is k's (a key is in the table once), so a hit reads no
 * bucket. Any ent of this table is safe, a stale one costs the index walk.
 */
static inline struct dp_flow *dp_flow_lookup_hint(struct dp_flow_table *ft,
						  const struct dp_flow_key *k, uint32_t hash,
						  uint32_t ent)
{
	if (ent) {
		struct dp_flow *f = &ft->flows[ent - 1];
		if (f->in_use && dp_flow_key_eq(&f->key, k))
			return f;
	}
	return dp_flow_lookup_inline(ft, k, hash);
}

/*
 * Add k (not present), with hash its dp_flow_hash. When an entry has to go
 * first (the one dp_flow_victim(ft, hash) names: the table is full, or both
 * buckets of k are, see above), it is evicted: *did_evict is set, and it is
 * copied to *evicted (for its end event) unless evicted is NULL. Never fails
 * for capacity >= 1. dp_flow_claim then dp_flow_fill.
 */
struct dp_flow *dp_flow_insert(struct dp_flow_table *ft, const struct dp_flow_key *k,
			       uint32_t hash, uint64_t now_us, struct dp_flow *evicted,
			       bool *did_evict);

/*
 * dp_flow_insert in two steps, for a caller that ends an evicted flow from
 * its entry in place (no copy): dp_flow_claim returns the entry a new key
 * of this hash takes: a free one, or (*evicting set) dp_flow_victim's,
 * already out of the index and counted as evicted but with the evicted
 * flow's contents intact. The caller reads it, and calls dp_flow_fill
 * before anything else touches the table: it writes the new flow (key k,
 * times now_us, everything else cleared) and indexes it.
 */
struct dp_flow *dp_flow_claim(struct dp_flow_table *ft, uint32_t hash, bool *evicting);
void dp_flow_fill(struct dp_flow_table *ft, struct dp_flow *f, const struct dp_flow_key *k,
		  uint32_t hash, uint64_t now_us);

/* The number of the entry the sampled eviction takes (table full). */
static inline uint32_t dp_flow_victim_index(const struct dp_flow_table *ft)
{
	uint32_t i = ft->evict_hand, best = i;
	uint64_t oldest = ft->flows[i].last_us;

	if (ft->cap - i >= DP_FLOW_EVICT_SAMPLE) {
		/* The common case, without wrapping: unrolled. */
		const struct dp_flow *w = &ft->flows[i];
		for (uint32_t j = 1; j < DP_FLOW_EVICT_SAMPLE; j++) {
			if (w[j].last_us < oldest) {
				oldest = w[j].last_us;
				best = i + j;
			}
		}
		return best;
	}
	uint32_t n = ft->cap < DP_FLOW_EVICT_SAMPLE ? ft->cap : DP_FLOW_EVICT_SAMPLE;
	for (uint32_t j = 1; j < n; j++) {
		if (++i == ft->cap)
			i = 0;
		if (ft->flows[i].last_us < oldest) {
			oldest = ft->flows[i].last_us;
			best = i;
		}
	}
	return best;
}

/*
 * The entry the next dp_flow_insert (dp_flow_claim) of a key with this hash
 * evicts, or NULL when none goes.
 */
const struct dp_flow *dp_flow_victim(const struct dp_flow_table *ft, uint32_t hash);

/*
 * Prefetch what the next eviction compares: the first line (last_us) of
 * each entry of its sample. A hint for a burst of likely new flows, one
 * burst stage ahead (each eviction then prefetches the sample after it);
 * does nothing while the table has room.
 */
static inline void dp_flow_prefetch_victim(const struct dp_flow_table *ft)
{
	if (ft->free_head != DP_FLOW_NIL)
		return;
	uint32_t i = ft->evict_hand;
	if (ft->cap - i >= DP_FLOW_EVICT_SAMPLE) {
		for (uint32_t j = 0; j < DP_FLOW_EVICT_SAMPLE; j++)
			dp_prefetch(&ft->flows[i + j].last_us);
		return;
	}
	uint32_t n = ft->cap < DP_FLOW_EVICT_SAMPLE ? ft->cap : DP_FLOW_EVICT_SAMPLE;
	for (uint32_t j = 0; j < n; j++) {
		dp_prefetch(&ft->flows[i].last_us);
		if (++i == ft->cap)
			i = 0;
	}
}

/* Mark used now. Writes f only. */
static inline void dp_flow_touch(struct dp_flow_table *ft, struct dp_flow *f, uint64_t now_us)
{
	(void)ft;
	f->last_us = now_us;
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
 * Sweep the next max entries of the array (from where the last call
 * stopped, wrapping around after the highest entry ever used) and remove
 * the expired ones among them, calling done(f, arg) before each removal.
 * Returns how many were removed. Calls of max m sweep every entry in use
 * at least every ceil(cap / m) calls (sooner while the table has never
 * been more than partly used).
 */
unsigned dp_flow_expire(struct dp_flow_table *ft, uint64_t now_us, unsigned max,
			void (*done)(const struct dp_flow *f, void *arg), void *arg);

/* Every entry in use, in array order (for shutdown and dumps); does not
 * look past the highest entry ever used. */
void dp_flow_foreach(struct dp_flow_table *ft,
		     void (*fn)(const struct dp_flow *f, void *arg), void *arg);

/*
 * The next entry in use after f in array order (f NULL: the first), or
 * NULL. f may be removed before the call (entries never move): a loop may
 * remove the entry it is at.
 */
static inline struct dp_flow *dp_flow_next(const struct dp_flow_table *ft,
					   const struct dp_flow *f)
{
	for (uint32_t i = f ? (uint32_t)(f - ft->flows) + 1 : 0; i < ft->hi; i++)
		if (ft->flows[i].in_use)
			return &ft->flows[i];
	return NULL;
}

#endif
