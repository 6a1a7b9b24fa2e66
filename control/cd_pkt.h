/* SPDX-License-Identifier: MIT */
/*
 * Headers of a queued packet (starting at the IPv4/IPv6 header), parsed
 * with every length checked against the captured bytes. Pure, thread-safe.
 */
#ifndef CD_PKT_H
#define CD_PKT_H

#include <stddef.h>
#include <stdint.h>

struct cd_pkt {
	uint8_t family;          /* AF_INET / AF_INET6 */
	uint8_t proto;           /* L4 protocol (after IPv6 extension headers) */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;   /* host order; 0 unless TCP/UDP */
	uint8_t tcp_flags;       /* TCP only */
	uint32_t tcp_seq, tcp_ack; /* host order, TCP only */
	size_t l3_off, l4_off;   /* offsets in the packet */
	size_t ip_len;           /* total length per the IP header */
	const uint8_t *payload;  /* L4 payload (captured part) */
	size_t payload_len;
	int fragment;            /* 1: a non-first fragment (no L4 header) */
};

enum cd_pkt_err {
	CD_PKT_OK = 0,
	CD_PKT_SHORT = -1,       /* captured bytes end inside a header */
	CD_PKT_BAD_VERSION = -2,
	CD_PKT_BAD_HEADER = -3,  /* IHL < 5, data offset < 5, lengths inconsistent */
};

/* Parse len bytes at data. Returns enum cd_pkt_err. */
int cd_pkt_parse(const uint8_t *data, size_t len, struct cd_pkt *p);
const char *cd_pkt_strerror(int err);

#endif
