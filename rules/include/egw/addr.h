/* SPDX-License-Identifier: MIT */
/*
 * Addresses and prefixes (IPv4 and IPv6), shared by every egw module.
 * Pure functions, thread-safe, no allocation.
 */
#ifndef EGW_ADDR_H
#define EGW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An address is a prefix of full length (32 or 128). */
struct egw_prefix {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t len;      /* prefix length, 0..32 or 0..128 */
	uint8_t addr[16]; /* network byte order; IPv4 in addr[0..3], rest 0;
			     host bits are always zero */
};

/* "198.51.100.0/24", "2001:db8::/32", or a bare address (full length). */
#define EGW_PREFIX_STRLEN 64

/*
 * Parse s. Returns 0, or -1 with *why set to a static English reason
 * ("not an IPv4 or IPv6 address", "prefix length 33 is longer than 32",
 * "host bits set: did you mean 10.1.0.0/16?"). The "did you mean" text is
 * written into the thread-local buffer behind *why; copy it before the next
 * call in the same thread.
 */
int egw_prefix_parse(const char *s, struct egw_prefix *out, const char **why);
/* Writes "a.b.c.d/len" (bare address when len is full). Returns buf. */
char *egw_prefix_format(const struct egw_prefix *p, char *buf, size_t cap);
/* Writes the address only. */
char *egw_addr_format(const struct egw_prefix *p, char *buf, size_t cap);

static inline unsigned egw_prefix_maxlen(const struct egw_prefix *p)
{
	return p->family == AF_INET ? 32u : 128u;
}
static inline bool egw_prefix_is_host(const struct egw_prefix *p)
{
	return p->len == egw_prefix_maxlen(p);
}

/* true when a lies within b (same family, b.len <= a.len, a's first b.len bits equal b's). */
bool egw_prefix_within(const struct egw_prefix *a, const struct egw_prefix *b);
/* true when the two prefixes share any address. */
bool egw_prefix_overlaps(const struct egw_prefix *a, const struct egw_prefix *b);
/* true when addr (16 bytes, family as given) lies within p. */
bool egw_prefix_contains(const struct egw_prefix *p, int family, const uint8_t *addr);
/* Orders by family, then address, then length; for qsort. */
int egw_prefix_cmp(const void *a, const void *b);

/* "02:00:0a:01:00:0a" (also "-" separated, any case). 0 or -1. */
int egw_mac_parse(const char *s, uint8_t mac[6]);
char *egw_mac_format(const uint8_t mac[6], char *buf, size_t cap); /* cap >= 18 */

#endif
