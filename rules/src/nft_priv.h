/* SPDX-License-Identifier: MIT */
/*
 * Internals of the nftables back end (rules/src/nft*.c), not installed.
 *
 * nft_out.c    growing text buffer, safe comments and names
 * nft_addr.c   prefix lists as nft set elements; the longest-prefix dispatch
 *              map (nested unit prefixes cut into disjoint ranges)
 * nft_profile.c one chain per profile, rules in order
 * nft.c        the ruleset: table, sets, base chains, identity, DNS
 *
 * Thread safety: everything works on the caller's struct nft_ctx only.
 */
#ifndef EGW_NFT_PRIV_H
#define EGW_NFT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <egw/nft.h>
#include <egw/policy.h>

/* nft limits a comment (NFTNL_UDATA_COMMENT_MAXLEN) to 128 bytes with NUL. */
#define NFT_COMMENT_MAX 127

struct nft_out {
	char *buf;
	size_t len, cap;
	bool oom;       /* an allocation failed: the text is incomplete */
};

void nft_printf(struct nft_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void nft_puts(struct nft_out *o, const char *s);
/* Appends `comment "TEXT"`: TEXT made quote-safe (nft strings have no
 * escapes: '"' becomes '\''; control bytes and invalid UTF-8 become '?') and
 * cut at a character boundary to NFT_COMMENT_MAX bytes. */
void nft_comment(struct nft_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Writes the sanitised form of s into buf (cap >= 1); returns buf. */
char *nft_sanitize(const char *s, char *buf, size_t cap);
/* true when s may be written bare as an nft identifier (table name). */
bool nft_identifier_ok(const char *s);
/* true when s is a valid interface name (1..15 bytes, no quotes, no '/', no blanks). */
bool nft_ifname_ok(const char *s);

struct nft_ctx {
	const struct egw_policy *p;
	const struct egw_nft_opts *o;
	struct nft_out out;
	char punt[96];           /* statement(s) that hand a packet to the control plane */
	uint32_t m_punt, m_ok, m_block, m_pending;
	bool inspect_dns;        /* DNS queries from units go to the control plane */
	bool inspect_web_all;    /* every TCP 80/443 flow's name is checked (doh names) */
	const char *allow;       /* verdict of "allow": "accept" or "goto allow" */
	const char *file;        /* basename of the policy file */
};

/* "egw.cfg:42", or "egw.cfg (default)" for line 0. */
char *nft_loc(const struct nft_ctx *c, const struct egw_loc *l, char *buf, size_t cap);
#define NFT_LOC_MAX 96

/* "ip" / "ip6" for AF_INET / AF_INET6. */
const char *nft_ipk(int family);
const char *nft_fam_suffix(int family); /* "v4" / "v6" */

/*
 * The prefixes of list of one family, sorted, with every prefix that lies
 * within another removed (interval sets reject overlaps). *out is malloc'd
 * (NULL when the result is empty). Returns the count, or (size_t)-1 on ENOMEM.
 */
size_t nft_outermost(const struct egw_prefix *v, size_t n, int family,
		     struct egw_prefix **out);
/* Writes "{ a, b, c }" or "a" for one element; elements of family only. */
void nft_addr_list(struct nft_out *o, const struct egw_prefix *v, size_t n,
		   int family);
/* Emits a named set of addresses of one family (interval when interval). */
void nft_addr_set(struct nft_ctx *c, const char *name, int family, bool interval,
		  const struct egw_prefix *v, size_t n, const char *comment);
/* Emits map dispatch_v4/v6: source address -> goto profile_<j>, the longest
 * unit prefix deciding where unit prefixes nest. */
void nft_dispatch_map(struct nft_ctx *c, int family);

/* Emits chain profile_<j> for every profile. */
void nft_profiles(struct nft_ctx *c);

#endif
