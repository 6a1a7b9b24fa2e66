/* SPDX-License-Identifier: MIT */
/*
 * The fast tables compiled from a struct egw_policy. Built once, off the
 * fast path, then only read by workers (any number at once, no locks); a
 * reload builds a new set and swaps the pointer (RCU).
 *
 * One longest-prefix-match table per family (rte_lpm / rte_lpm6) maps an
 * address to an "address class": the policy's prefixes (unit prefixes, geo
 * class prefix lists, category addresses, rule dst lists, approved
 * resolvers) cut the address space into regions that every rule treats
 * alike; each region's class says which unit it belongs to (longest unit
 * prefix) and which geo classes, categories, rule dst lists and resolver
 * list contain it (a bitmap). So one lookup of the source gives the unit,
 * one lookup of the destination gives everything the rules can ask about it,
 * and evaluating a profile on a miss walks only the rules that can hold for
 * the destination's class (per-class candidate lists, below; first match).
 * Registered terminals: an open-addressing table from address to terminal
 * (dp_tables_terminal, inline). The DNS step's two questions about a
 * destination class are answered once per class (class_flags).
 *
 * Needs an initialised EAL (rte_malloc memory; about 70 MiB for the IPv4
 * LPM). The policy must outlive the tables (verdicts point at its locs).
 */
#ifndef DP_TABLES_H
#define DP_TABLES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "dp_prefetch.h"

#include <egw/diag.h>
#include <egw/policy.h>

struct egw_domain_set;
struct rte_lpm;
struct rte_lpm6;
struct rte_hash;

/* Port ranges a compiled rule holds itself (more: read from the rule). */
#define DP_RULE_RANGES 4

/* A compiled profile rule; bit indexes into the class bitmap, -1 unused. */
struct dp_rule {
	const struct egw_rule *rule;
	int32_t cat_bit;      /* category addresses */
	int32_t dst_bit;      /* the rule's own dst list */
	/* IP protocol to match, 0 any (but see ports): [0] IPv4, [1] IPv6 */
	uint8_t proto[2];
	bool has_ports;
	/* has_ports: the number of port ranges, each port_lo[k] ..
	 * port_lo[k] + port_span[k]; 0 when there are more than
	 * DP_RULE_RANGES (then rule->ports are read). */
	uint8_t n_ranges;
	uint16_t port_lo[DP_RULE_RANGES], port_span[DP_RULE_RANGES];
	/* The verdict when the rule decides: enum dp_action, enum dp_reason,
	 * enum dp_drop (dp_policy.h), rule->category, and whether it is an
	 * allow (rule->action). */
	uint8_t action, reason, drop;
	bool allow;
	int16_t category;
};

/*
 * Compiled first-match walk (dp_tables_build): a rule "can hold" for a
 * destination class when its address conditions (dst list, category
 * addresses, geo references, with negation) hold for that class. For each
 * profile the rules without any address condition are in free_rules; for
 * each (profile, destination class) the rules with address conditions that
 * hold for the class are in a list in dp_tables.cand_pool at offset
 * cand[cls]. Both are ascending rule indexes ended by DP_CAND_END, so the
 * walk merges the two and checks only proto/ports (and, redundantly, the
 * address conditions) of the candidates, in the profile's order: the same
 * first match as walking every rule.
 *
 * Memory: identical lists are stored once (shared between classes and
 * profiles). Worst case, without sharing, n_profiles * n_classes index words
 * plus n_classes * (conditional rules of all profiles + n_profiles) list
 * words; when that passes DP_CAND_MAX_WORDS (32 Mi words, 128 MiB) the
 * build keeps cand NULL for every profile and decisions walk every rule.
 */
#define DP_CAND_END UINT32_MAX
#define DP_CAND_MAX_WORDS (32u << 20)

struct dp_profile {
	struct dp_rule *rules;
	size_t n_rules;
	uint32_t *free_rules;   /* ascending, ended by DP_CAND_END */
	const uint32_t *cand;   /* n_classes offsets into cand_pool; NULL: walk all */
};

struct dp_tables {
	const struct egw_policy *pol;
	struct rte_lpm *lpm4;
	const uint32_t *lpm4_tbl24; /* lpm4's first-level table (for prefetching) */
	const uint32_t *lpm4_tbl8;  /* and its second-level groups */
	struct rte_lpm6 *lpm6;
	uint32_t n_classes;      /* class 0: in no prefix of the policy */
	uint32_t default4, default6; /* class of a miss: 0, or that of a /0 */
	uint32_t nwords;         /* 64-bit words per class bitmap */
	int32_t *class_unit;     /* n_classes; -1 none */
	uint64_t *class_bits;    /* n_classes * nwords */
	uint32_t cat_base;       /* bit of category c: cat_base + c */
	uint32_t resolver_bit;   /* dns.resolvers */
	uint8_t *class_flags;    /* n_classes; DP_CF_* (the DNS step's questions) */
	/* Registered terminals by address: open addressing (linear probing)
	 * over term_slots (a power of two, at least twice the entries), each
	 * slot the address hash and an entry index + 1 (0: empty). */
	struct dp_term_slot *term_slots;
	struct dp_term_ent *term_ents;
	uint32_t term_mask;
	struct dp_profile *profiles; /* pol->n_profiles */
	const struct dp_profile **unit_profile; /* pol->n_units: each unit's profile */
	uint32_t *cand_index;    /* n_profiles * n_classes, profiles[p].cand points in */
	uint32_t *cand_pool;     /* candidate lists; [0] the empty list */
	size_t cand_words;       /* used words of cand_pool (for reports) */
	/* Category domains (value: category index) and, under block_doh, the
	 * Firefox canary (value DP_NAME_CANARY). */
	struct egw_domain_set *names;
};

/* class_flags: an approved resolver (dns.resolvers or a resolver region);
 * under dns.block_doh, in the DoH category's addresses. */
#define DP_CF_RESOLVER 0x01
#define DP_CF_DOH      0x02

#define DP_NAME_CANARY UINT32_MAX
#define DP_CANARY_DOMAIN "use-application-dns.net"

struct dp_addr_key {
	uint8_t family;
	uint8_t pad[3];
	uint8_t addr[16];
};

struct dp_term_slot {
	uint32_t hash;
	uint32_t ent;            /* index into term_ents + 1; 0: empty */
};

/* One line each: what deciding reads of a terminal (term's unit and MAC,
 * copied) comes with the address, without reading *term. */
struct dp_term_ent {
	struct dp_addr_key k;    /* addr beyond 4 bytes zero for IPv4 */
	uint8_t mac[6];          /* term->mac */
	uint32_t unit;           /* term->unit */
	const struct egw_terminal *term;
} __attribute__((aligned(64)));

/*
 * Prefetch the first lines a decision about a new flow from src to dst reads
 * (family's addresses, 16 bytes each): src's terminal slot and, for IPv4,
 * dst's first-level LPM entry. A hint, for a burst's later packets while
 * earlier ones are processed.
 */
static inline void dp_tables_prefetch(const struct dp_tables *t, int family,
				      const uint8_t *src, const uint8_t *dst);
/*
 * The next step, once dp_tables_prefetch's lines have had time to arrive:
 * the terminal entry src's slot names, and for IPv4 the second-level LPM
 * entry when dst's first-level entry points to one.
 */
static inline void dp_tables_prefetch_more(const struct dp_tables *t, int family,
					   const uint8_t *src, const uint8_t *dst);
/* rte_lpm's first-level entry: valid and pointing to a group (checked
 * against rte_lpm.h in dp_tables.c). */
#define DP_LPM_EXT_MASK 0x03000000u
#define DP_LPM_TBL8_GROUP 256u

/*
 * Build the tables for pol. Returns NULL with errors in diag (one line
 * naming what could not be built) and errno set.
 */
struct dp_tables *dp_tables_build(const struct egw_policy *pol, struct egw_diag *diag);
void dp_tables_free(struct dp_tables *t);

/* Address class of addr (16 bytes, family AF_INET/AF_INET6). */
uint32_t dp_tables_class(const struct dp_tables *t, int family, const uint8_t *addr);

static inline bool dp_class_bit(const struct dp_tables *t, uint32_t cls, uint32_t bit)
{
	return (t->class_bits[(size_t)cls * t->nwords + bit / 64] >> (bit % 64)) & 1;
}

/* True when the destination class lies in the geo class reference. */
static inline bool dp_class_geo(const struct dp_tables *t, uint32_t cls,
				const struct egw_geo_ref *g)
{
	return dp_class_bit(t, cls, g->cls) != g->negate;
}

/* True when the address conditions of dr (category, dst, geo) hold for cls. */
static inline bool dp_rule_addr_holds(const struct dp_tables *t, const struct dp_rule *dr,
				      uint32_t cls)
{
	const struct egw_rule *r = dr->rule;

	if (dr->cat_bit >= 0 && !dp_class_bit(t, cls, (uint32_t)dr->cat_bit))
		return false;
	if (dr->dst_bit >= 0 && !dp_class_bit(t, cls, (uint32_t)dr->dst_bit))
		return false;
	if (!r->n_geo)
		return true;
	for (size_t i = 0; i < r->n_geo; i++)
		if (dp_class_geo(t, cls, &r->geo[i]))
			return true;
	return false;
}

/* Hash of a terminal address: 4 bytes (IPv4) or 16, as 32-bit words. */
static inline uint32_t dp_term_hash(int family, const uint8_t *addr)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)family;
	unsigned nw = family == AF_INET ? 1 : 4;

	for (unsigned i = 0; i < nw; i++) {
		uint32_t w;
		memcpy(&w, addr + 4 * i, 4);
		h ^= w;
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (uint32_t)h;
}

static inline void dp_tables_prefetch(const struct dp_tables *t, int family,
				      const uint8_t *src, const uint8_t *dst)
{
	dp_prefetch(&t->term_slots[dp_term_hash(family, src) & t->term_mask]);
	if (family == AF_INET)
		dp_prefetch(&t->lpm4_tbl24[(uint32_t)dst[0] << 16 | (uint32_t)dst[1] << 8 | dst[2]]);
}

static inline void dp_tables_prefetch_more(const struct dp_tables *t, int family,
					   const uint8_t *src, const uint8_t *dst)
{
	uint32_t h = dp_term_hash(family, src);
	const struct dp_term_slot *s = &t->term_slots[h & t->term_mask];
	if (s->ent && s->hash == h)
		dp_prefetch(&t->term_ents[s->ent - 1]);
	if (family == AF_INET) {
		uint32_t e;   /* an rte_lpm_tbl_entry, read as its bytes */
		memcpy(&e, &t->lpm4_tbl24[(uint32_t)dst[0] << 16 | (uint32_t)dst[1] << 8 | dst[2]],
		       sizeof(e));
		if ((e & DP_LPM_EXT_MASK) == DP_LPM_EXT_MASK)
			dp_prefetch(&t->lpm4_tbl8[(e & 0xffffffu) * DP_LPM_TBL8_GROUP + dst[3]]);
	}
}

/*
 * Registered terminal at addr (16 bytes, IPv4 in [0..3]), or NULL. Inline:
 * it is on every new flow's path. A slot's hash is compared before its
 * entry is read; addresses compare as words.
 */
static inline const struct dp_term_ent *dp_tables_terminal_ent(const struct dp_tables *t,
							       int family, const uint8_t *addr)
{
	uint32_t h = dp_term_hash(family, addr);
	uint64_t a0, a1 = 0;

	if (family == AF_INET) {
		uint32_t a4;
		memcpy(&a4, addr, 4);
		a0 = a4;
	} else {
		memcpy(&a0, addr, 8);
		memcpy(&a1, addr + 8, 8);
	}
	for (uint32_t i = h & t->term_mask;; i = (i + 1) & t->term_mask) {
		const struct dp_term_slot *s = &t->term_slots[i];
		if (!s->ent)
			return NULL;
		if (s->hash != h)
			continue;
		const struct dp_term_ent *e = &t->term_ents[s->ent - 1];
		uint64_t e0, e1;
		memcpy(&e0, e->k.addr, 8);
		memcpy(&e1, e->k.addr + 8, 8);
		/* one test for the whole key (hashes rarely meet by chance) */
		if (((e0 ^ a0) | (e1 ^ a1) | (uint64_t)(e->k.family ^ (unsigned)family)) == 0)
			return e;
	}
}

static inline const struct egw_terminal *dp_tables_terminal(const struct dp_tables *t,
							    int family, const uint8_t *addr)
{
	const struct dp_term_ent *e = dp_tables_terminal_ent(t, family, addr);
	return e ? e->term : NULL;
}

#endif
