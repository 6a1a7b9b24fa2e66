/* SPDX-License-Identifier: MIT */
/*
 * The compiled exit policy: the one intermediate form that every back end
 * (the DPDK fast path, the nftables kernel mode, the control plane) consumes.
 *
 * egw_policy_load() parses and validates a libconfig policy file
 * (../shared/spec/policy.md), compiles its geo classes from the MaxMind DB,
 * and returns an immutable struct egw_policy. Every element remembers the
 * file:line it came from (struct egw_loc), so every verdict can cite it.
 *
 * Ownership: the policy owns every string and array reachable from it; all
 * is freed by egw_policy_free(). Nothing in it changes after load.
 * Thread safety: load/free from one thread; a loaded policy may be read from
 * any number of threads at once without locks.
 */
#ifndef EGW_POLICY_H
#define EGW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <egw/addr.h>
#include <egw/diag.h>

/* Where an element of the policy was written. file is interned by the policy
 * (libconfig @include may spread a policy over several files). line 0: the
 * setting was not written and its default applies; file is then the policy. */
struct egw_loc {
	const char *file;
	unsigned line;
};

/* Formats "file:line" (basename of file unless full is true); "file" alone
 * when line is 0 (a default). Returns buf (truncated to cap). */
char *egw_loc_format(const struct egw_loc *loc, bool full, char *buf, size_t cap);

struct egw_prefix_list {
	struct egw_prefix *v;
	size_t n;
};

enum egw_fail_mode { EGW_FAIL_CLOSED = 0, EGW_FAIL_OPEN };

struct egw_gateway {
	char *inside;      /* DPDK device strings (PCI address or vdev) */
	char *outside;
	char *punt;
	unsigned workers;  /* default 1 */
	uint32_t flows;    /* flow-table capacity, default 1048576 */
	enum egw_fail_mode fail_mode;
	struct egw_loc loc, fail_mode_loc;
};

/*
 * A geo class as the policy writes it, without negation: country "CN" or
 * country-region "CN-GD". Compiled by the geo compiler into the sorted,
 * non-overlapping, merged prefix lists of every network the database maps
 * to it. Negation ("!CN") lives in struct egw_geo_ref.
 */
/* Bytes of a region ("GD", "Inner Mongolia"); real databases carry English
 * names of up to 65 bytes. */
#define EGW_GEO_REGION_MAX 127
struct egw_geo_class {
	/* "CN" or "CN-GD" as written, upper case (ASCII letters only: bytes
	 * >= 0x80 are kept as written) */
	char code[3 + EGW_GEO_REGION_MAX + 1];
	char country[3];    /* "CN" */
	char region[EGW_GEO_REGION_MAX + 1]; /* "GD", or "" for a whole country */
	struct egw_prefix_list v4, v6;
	struct egw_loc loc; /* first use in the policy */
};

struct egw_geo_ref {
	uint16_t cls;       /* index into egw_policy.geo_classes */
	bool negate;        /* "!CN": every address not in the class
			       (including addresses the database does not know) */
};

struct egw_geo_cfg {
	char *database;      /* absolute path */
	char *country_field; /* dotted path, default "country.iso_code" */
	char *region_field;  /* default "subdivisions.0.iso_code" */
	struct egw_loc loc;
};

struct egw_terminal {
	struct egw_prefix ip;  /* full-length prefix */
	uint8_t mac[6];
	char *switch_port;     /* "" when not given */
	char *location;
	char *user;
	uint32_t unit;         /* index into egw_policy.units */
	struct egw_loc loc;
};

struct egw_unit {
	char *name;
	struct egw_prefix_list prefixes;
	struct egw_prefix_list public_addresses;
	uint32_t profile;      /* index into egw_policy.profiles */
	struct egw_terminal *terminals;
	size_t n_terminals;
	struct egw_loc loc;
};

enum egw_binding { EGW_BINDING_STRICT = 0, EGW_BINDING_PREFIX, EGW_BINDING_OFF };
/* What a packet from an unidentified source gets. */
enum egw_unregistered { EGW_UNREG_DROP = 0, EGW_UNREG_PUNT, EGW_UNREG_ALLOW };

struct egw_terminals_cfg {
	enum egw_binding binding;
	enum egw_unregistered unregistered;
	struct egw_loc binding_loc, unregistered_loc;
};

enum egw_dns_violation { EGW_DNSV_DROP = 0, EGW_DNSV_REDIRECT, EGW_DNSV_PUNT };

struct egw_dns_suspicious {
	uint32_t max_qname;          /* default 100 */
	uint32_t max_label;          /* default 52 */
	double min_entropy_bits;     /* default 4.0 (bits per character) */
	uint32_t max_queries_per_second; /* per terminal, default 50 */
	struct egw_loc loc;
};

struct egw_dns {
	struct egw_prefix_list resolvers;  /* approved resolver addresses */
	struct egw_geo_ref *resolver_regions;
	size_t n_resolver_regions;
	enum egw_dns_violation violation;  /* default drop */
	/* redirect_to: one address per family at most; a query of a family
	 * with no redirect target is dropped under "redirect". */
	bool has_redirect_v4, has_redirect_v6;
	struct egw_prefix redirect_v4, redirect_v6;
	bool block_dot;                    /* default true */
	bool block_doh;                    /* default true */
	struct egw_dns_suspicious suspicious;
	struct egw_loc loc, resolvers_loc, violation_loc, block_dot_loc,
		block_doh_loc;
};

struct egw_category {
	char *name;
	char **domains;        /* lower case, no trailing dot */
	size_t n_domains;
	struct egw_loc *domain_locs; /* n_domains entries */
	struct egw_prefix_list addresses;
	struct egw_loc loc;
};

enum egw_action { EGW_ACT_ALLOW = 0, EGW_ACT_DENY, EGW_ACT_PUNT };

/* Rule protocols. ICMP means ICMP for IPv4 and ICMPv6 for IPv6. A rule with
 * ports and proto ANY matches TCP and UDP to those ports. */
enum egw_proto { EGW_PROTO_ANY = 0, EGW_PROTO_ICMP = 1, EGW_PROTO_TCP = 6,
		 EGW_PROTO_UDP = 17 };

struct egw_port_range {
	uint16_t lo, hi;       /* inclusive, lo <= hi */
};

/* All present matches must hold; an absent one (n == 0 / -1) matches all. */
struct egw_rule {
	enum egw_action action;
	int32_t category;      /* index into egw_policy.categories, or -1 */
	struct egw_geo_ref *geo;
	size_t n_geo;          /* destination in ANY of these classes */
	struct egw_prefix_list dst; /* destination in ANY of these */
	enum egw_proto proto;
	struct egw_port_range *ports;
	size_t n_ports;        /* destination port in ANY of these */
	struct egw_loc loc;
};

struct egw_profile {
	char *name;
	struct egw_rule *rules; /* first match wins; no match: deny at loc */
	size_t n_rules;
	struct egw_loc loc;
};

enum egw_compress { EGW_COMPRESS_ZSTD = 0, EGW_COMPRESS_NONE };
enum egw_syslog_proto { EGW_SYSLOG_NONE = 0, EGW_SYSLOG_UDP, EGW_SYSLOG_TCP };

/* log.directory when the policy leaves it out */
#define EGW_LOG_DIR_DEFAULT "/var/log/egw"

struct egw_log_cfg {
	char *directory;          /* absolute path; default EGW_LOG_DIR_DEFAULT */
	unsigned retention_days;  /* >= 60, default 180 */
	enum egw_compress compress; /* default zstd */
	enum egw_syslog_proto syslog_proto;
	char *syslog_host;        /* NULL when no syslog */
	uint16_t syslog_port;
	struct egw_loc loc, retention_loc;
};

struct egw_policy {
	char *path;               /* absolute path of the policy file */
	int version;              /* 1 */
	struct egw_gateway gateway;
	struct egw_geo_cfg geo;
	struct egw_geo_class *geo_classes;
	size_t n_geo_classes;
	struct egw_unit *units;
	size_t n_units;
	struct egw_terminals_cfg terminals;
	struct egw_dns dns;
	struct egw_category *categories;
	size_t n_categories;
	int32_t doh_category;     /* index of the category named "doh", or -1 */
	struct egw_profile *profiles;
	size_t n_profiles;
	struct egw_log_cfg log;
	void *priv;               /* arena; not for consumers */
};

/*
 * Parse, validate and compile the policy at path. Returns NULL when anything
 * is wrong, with every error recorded in diag (which must not be NULL);
 * also NULL with errno = ENOMEM on allocation failure.
 */
struct egw_policy *egw_policy_load(const char *path, struct egw_diag *diag);
void egw_policy_free(struct egw_policy *p);

/* Lookups by name; -1 when absent. */
int egw_policy_find_unit(const struct egw_policy *p, const char *name);
int egw_policy_find_profile(const struct egw_policy *p, const char *name);
int egw_policy_find_category(const struct egw_policy *p, const char *name);

/* Stable short names for enums (as written in the policy and the logs). */
const char *egw_action_name(enum egw_action a);    /* "allow" "deny" "punt" */
const char *egw_proto_name(enum egw_proto p);      /* "any" "icmp" "tcp" "udp" */

#endif
