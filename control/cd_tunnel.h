/* SPDX-License-Identifier: MIT */
/*
 * DNS-tunnelling signs (policy dns.suspicious): query name length, longest
 * label, entropy per character, and the query rate per terminal, counted in
 * a bounded table (CD_TUNNEL_SLOTS terminals; when full, the least recently
 * seen terminal of a probe run is replaced, so memory never grows).
 *
 * Thread safety: one thread owns a struct cd_tunnel. No allocation after new.
 */
#ifndef CD_TUNNEL_H
#define CD_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CD_TUNNEL_SLOTS 4096

struct cd_tunnel_limits {
	uint32_t max_qname;
	uint32_t max_label;
	double min_entropy_bits;   /* flagged when entropy exceeds this */
	uint32_t max_queries_per_second;
};

enum cd_tunnel_sign {
	CD_TUN_NONE = 0,
	CD_TUN_QNAME_LEN = 1 << 0,
	CD_TUN_LABEL_LEN = 1 << 1,
	CD_TUN_ENTROPY = 1 << 2,
	CD_TUN_RATE = 1 << 3,
};

struct cd_tunnel;

struct cd_tunnel *cd_tunnel_new(void);  /* NULL, errno ENOMEM */
void cd_tunnel_free(struct cd_tunnel *t);

/*
 * Count one query from terminal src (16 bytes, family) at now_us and check
 * the name's signs. qname_len / max_label / entropy from egw_dns_query.
 * Returns a mask of enum cd_tunnel_sign (0: nothing suspicious). The rate
 * is the number of queries within the last whole second window.
 */
unsigned cd_tunnel_check(struct cd_tunnel *t, const struct cd_tunnel_limits *lim,
			 int family, const uint8_t *src, uint64_t now_us,
			 size_t qname_len, unsigned max_label, double entropy_bits);

/* "qname-length,entropy" for a mask; buf >= 64 bytes. */
char *cd_tunnel_describe(unsigned mask, char *buf, size_t cap);

#endif
