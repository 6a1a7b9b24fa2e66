/* SPDX-License-Identifier: MIT */
/*
 * A received burst of mbufs through one worker: each single-segment mbuf
 * goes through dp_worker_packet; forwarded ones are appended to fwd[],
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

void dp_burst(struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf **pkts,
	      uint16_t n, bool from_outside, uint64_t now_us, struct rte_mbuf **fwd,
	      uint16_t *nfwd, struct rte_mbuf **punt, uint16_t *npunt,
	      struct rte_mbuf **reply, uint16_t *nreply);

#endif
