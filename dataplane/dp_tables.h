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
 * and evaluating a profile on a miss is a few bit tests per rule (first
 * match; the profiles here have tens of rules, and a miss happens once per
 * flow). Registered terminals: an rte_hash from address to terminal.
 *
 * Needs an initialised EAL (rte_malloc memory; about 70 MiB for the IPv4
 * LPM). The policy must outlive the tables (verdicts point at its locs).
 */
#ifndef DP_TABLES_H
#define DP_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include <egw/diag.h>
#include <egw/policy.h>

struct egw_domain_set;
struct rte_lpm;
struct rte_lpm6;
struct rte_hash;

/* A compiled profile rule; bit indexes into the class bitmap, -1 unused. */
struct dp_rule {
	const struct egw_rule *rule;
	int32_t cat_bit;      /* category addresses */
	int32_t dst_bit;      /* the rule's own dst list */
	uint8_t proto_v4, proto_v6; /* IP protocol to match, 0 any (but see ports) */
	bool has_ports;
};

struct dp_profile {
	struct dp_rule *rules;
	size_t n_rules;
};

struct dp_tables {
	const struct egw_policy *pol;
	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;
	uint32_t n_classes;      /* class 0: in no prefix of the policy */
	uint32_t default4, default6; /* class of a miss: 0, or that of a /0 */
	uint32_t nwords;         /* 64-bit words per class bitmap */
	int32_t *class_unit;     /* n_classes; -1 none */
	uint64_t *class_bits;    /* n_classes * nwords */
	uint32_t cat_base;       /* bit of category c: cat_base + c */
	uint32_t resolver_bit;   /* dns.resolvers */
	struct rte_hash *terms;  /* key struct dp_addr_key -> position */
	const struct egw_terminal **term_at; /* by hash position */
	struct dp_profile *profiles; /* pol->n_profiles */
	/* Category domains (value: category index) and, under block_doh, the
	 * Firefox canary (value DP_NAME_CANARY). */
	struct egw_domain_set *names;
};

#define DP_NAME_CANARY UINT32_MAX
#define DP_CANARY_DOMAIN "use-application-dns.net"

struct dp_addr_key {
	uint8_t family;
	uint8_t pad[3];
	uint8_t addr[16];
};

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

/* Registered terminal at addr, or NULL. */
const struct egw_terminal *dp_tables_terminal(const struct dp_tables *t, int family,
					      const uint8_t *addr);

#endif
