/* SPDX-License-Identifier: MIT */
/*
 * The gateway's own DNS answers over TCP (port 53): turn a client segment
 * that carries one whole query (RFC 7766: two-byte length, then the
 * message), in place, into the server's last segment to the client: the
 * NXDOMAIN answer with PSH, ACK and FIN (seq = the client's ack, ack = the
 * client's seq + its payload), MACs, addresses and ports swapped, VLAN tags
 * and IPv4 options kept, TCP options dropped, lengths and checksums
 * rewritten, IPv4 and IPv6 (no extension headers). The connection toward
 * the server is reset separately (dp_tcp_reset, from the segment before it
 * is rewritten). DPDK-free, no allocation.
 */
#ifndef DP_DNSTCP_H
#define DP_DNSTCP_H

#include <stdint.h>

#include "dp_parse.h"

/* frame was parsed into p (TCP, client to server). Returns the answer
 * frame's length (never longer than the query frame), or 0 when the
 * segment does not hold exactly one whole query or cannot be answered
 * (then the frame is unchanged). */
uint32_t dp_dns_tcp_nxdomain(uint8_t *frame, const struct dp_pkt *p);

#endif
