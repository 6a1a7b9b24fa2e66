/* SPDX-License-Identifier: MIT */
/* Where one dp_burst call of up to BURST_OUT_MAX frames puts its output
 * (dp_burst.h: fwd holds 2n, punt and reply n), and its release. */
#ifndef TEST_BURST_OUT_H
#define TEST_BURST_OUT_H

#include <stdint.h>

#include <rte_mbuf.h>

#define BURST_OUT_MAX 64

struct burst_out {
	struct rte_mbuf *fwd[2 * BURST_OUT_MAX], *punt[BURST_OUT_MAX], *reply[BURST_OUT_MAX];
	uint16_t nf, np, nr;
};

/* Frees every mbuf o holds. */
static inline void burst_out_free(struct burst_out *o)
{
	for (uint16_t i = 0; i < o->nf; i++)
		rte_pktmbuf_free(o->fwd[i]);
	for (uint16_t i = 0; i < o->np; i++)
		rte_pktmbuf_free(o->punt[i]);
	for (uint16_t i = 0; i < o->nr; i++)
		rte_pktmbuf_free(o->reply[i]);
}

#endif
