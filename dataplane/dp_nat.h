/* SPDX-License-Identifier: MIT */
/*
 * Address rewriting for DNS redirection: replace a packet's source or
 * destination address in place and fix the IPv4 header checksum and the
 * TCP/UDP checksum incrementally (RFC 1624), for IPv4 and IPv6, first and
 * later fragments alike (a later fragment has only the IP header to fix).
 * DPDK-free, no allocation.
 */
#ifndef DP_NAT_H
#define DP_NAT_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_parse.h"

/* frame was parsed into p; addr is 4 or 16 bytes by p->family. Updates
 * p->src or p->dst too. */
void dp_nat_set_addr(uint8_t *frame, struct dp_pkt *p, bool dst, const uint8_t *addr);

/* The 16-bit ones' complement checksum of data (for tests). */
uint16_t dp_nat_csum(const uint8_t *data, uint32_t len, uint32_t sum);

#endif
