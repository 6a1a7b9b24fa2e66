/* SPDX-License-Identifier: MIT */
/*
 * TCP resets for a connection the gateway ends (a denied TLS SNI or HTTP
 * Host): from a client segment, the RST to the server (as if from the
 * client) and the RST to the client (as if from the server). L2 header and
 * VLAN tags kept, MACs swapped for the client's; IPv4 options kept;
 * IPv6 extension headers refused. DPDK-free, no allocation.
 */
#ifndef DP_TCPRESET_H
#define DP_TCPRESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_parse.h"

/* Write the reset into out (cap bytes); returns its length, or 0 when it
 * cannot be built. frame/p: the client's segment. out may not be frame. */
uint32_t dp_tcp_reset(const uint8_t *frame, const struct dp_pkt *p, bool to_client,
		      uint8_t *out, size_t cap);

#endif
