/* SPDX-License-Identifier: MIT */
/*
 * ICMP and ICMPv6 error messages (destination unreachable, time exceeded,
 * parameter problem; ICMPv6 packet too big) belong to the flow of the
 * packet they quote: PMTU discovery, traceroute and port-unreachable
 * answers must get through wherever that flow does. These functions find
 * that flow's key from the quoted header; the worker applies the flow's
 * verdict, and drops (counted, icmp-error-no-flow) an error that quotes no
 * flow it holds. DPDK-free, no allocation, thread-safe; every read of the
 * quoted packet is bounds-checked against what the frame holds.
 */
#ifndef DP_ICMPERR_H
#define DP_ICMPERR_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_flow.h"
#include "dp_parse.h"

/* An ICMP error p (parsed, whole: not a fragment): ICMP types 3, 11, 12;
 * ICMPv6 types 1, 2, 3, 4. */
bool dp_icmperr_is(const struct dp_pkt *p);

/*
 * The key of the flow the error in frame (parsed into p) is about, as the
 * worker keys it (make_key): from the outside the quoted packet went from
 * the inside end out, from the inside it came in from the outside end.
 * Returns 0, or -1 when the quote is not one of a flow: not the error's
 * family, truncated (fewer than the 8 bytes of L4 header every error
 * carries), a later fragment (no ports), not TCP, UDP or ICMP echo, or the
 * error is not addressed to the quoted packet's sender.
 */
int dp_icmperr_key(const uint8_t *frame, const struct dp_pkt *p, bool from_outside,
		   struct dp_flow_key *k);

#endif
