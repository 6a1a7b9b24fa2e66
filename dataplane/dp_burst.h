/* SPDX-License-Identifier: MIT */
/*
 * A received burst of mbufs through one worker: each mbuf goes through
 * dp_worker_packet (a chained, multi-segment one first made one buffer by
 * dp_burst_linear, its entry in pkts[] replaced; one too long for a buffer
 * of its pool is dropped and counted as multi-segment); forwarded ones are appended to fwd[],
 * punted ones to punt[], the gateway's answers (sent back out the port
 * they came in on) to reply[], dropped ones freed. Used by the port loop and
 * by replay alike. reply and punt must hold n entries, fwd 2n (a reset
 * connection adds the RST to the server).
 */
#ifndef DP_BURST_H
#define DP_BURST_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_worker.h"

struct rte_mbuf;

/*
 * m as one segment: m itself (already one, or its first segment had room
 * for the rest: rte_pktmbuf_linearize), or a copy in a new mbuf of m's pool
 * (m freed). NULL when it cannot be (longer than one buffer of the pool, or
 * the pool is empty): m is freed. Any thread; the mbuf is the caller's.
 */
struct rte_mbuf *dp_burst_linear(struct rte_mbuf *m);

void dp_burst(struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf **pkts,
	      uint16_t n, bool from_outside, uint64_t now_us, struct rte_mbuf **fwd,
	      uint16_t *nfwd, struct rte_mbuf **punt, uint16_t *npunt,
	      struct rte_mbuf **reply, uint16_t *nreply);

#endif
