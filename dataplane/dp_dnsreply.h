/* SPDX-License-Identifier: MIT */
/*
 * The gateway's own DNS answers: turn a UDP query frame, in place, into the
 * NXDOMAIN answer back to its sender (MACs, addresses and ports swapped,
 * VLAN tags kept, lengths and checksums rewritten, IPv4 and IPv6).
 * DPDK-free, no allocation.
 */
#ifndef DP_DNSREPLY_H
#define DP_DNSREPLY_H

#include <stdint.h>

#include "dp_parse.h"

/* frame was parsed into p (a UDP query). Returns the answer frame's
 * length (never longer than the query), or 0 when the query cannot be
 * answered (then the frame is unchanged). */
uint32_t dp_dns_nxdomain(uint8_t *frame, const struct dp_pkt *p);

#endif
