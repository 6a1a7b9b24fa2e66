/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <rte_mbuf.h>

#include "dp_burst.h"

/* Packets prepared ahead of processing (flow index prefetch distance). */
#define DP_BURST_STAGE 32

static void one(struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf *m,
		struct dp_pre *pre, bool from_outside, uint64_t now_us,
		struct rte_mbuf **fwd, uint16_t *nfwd, struct rte_mbuf **punt,
		uint16_t *npunt, struct rte_mbuf **reply, uint16_t *nreply)
{
	if (m->nb_segs != 1) {
		unsigned port = from_outside ? DP_PORT_OUTSIDE : DP_PORT_INSIDE;
		w->st.rx_pkts[port]++;
		w->st.rx_bytes[port] += m->pkt_len;
		w->st.drops[DP_DROP_MULTI_SEGMENT]++;
		rte_pktmbuf_free(m);
		return;
	}
	uint32_t len = m->data_len;
	enum dp_disp d = dp_worker_packet_prepared(w, t, rte_pktmbuf_mtod(m, uint8_t *), &len,
						   from_outside, now_us, pre);
	if (len < m->data_len)
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - len));
	if (w->extra_len) {
		/* A second frame (the RST to the server): to the other port. */
		struct rte_mbuf *x = rte_pktmbuf_alloc(m->pool);
		char *p = x ? rte_pktmbuf_append(x, (uint16_t)w->extra_len) : NULL;
		if (p) {
			memcpy(p, w->extra, w->extra_len);
			fwd[(*nfwd)++] = x;
		} else if (x) {
			rte_pktmbuf_free(x);
		}
	}
	if (d == DP_DISP_FORWARD)
		fwd[(*nfwd)++] = m;
	else if (d == DP_DISP_PUNT) {
		if (w->has_punt_mac)
			memcpy(rte_pktmbuf_mtod(m, uint8_t *), w->punt_mac, 6);
		punt[(*npunt)++] = m;
	}
	else if (d == DP_DISP_REPLY)
		reply[(*nreply)++] = m;
	else
		rte_pktmbuf_free(m);
}

void dp_burst(struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf **pkts,
	      uint16_t n, bool from_outside, uint64_t now_us, struct rte_mbuf **fwd,
	      uint16_t *nfwd, struct rte_mbuf **punt, uint16_t *npunt,
	      struct rte_mbuf **reply, uint16_t *nreply)
{
	struct dp_pre pre[DP_BURST_STAGE];

	*nfwd = *npunt = *nreply = 0;
	for (uint16_t base = 0; base < n; base += DP_BURST_STAGE) {
		uint16_t k = n - base < DP_BURST_STAGE ? (uint16_t)(n - base) : DP_BURST_STAGE;
		/* Stage 1: parse, hash, prefetch the index slots. */
		for (uint16_t i = 0; i < k; i++) {
			struct rte_mbuf *m = pkts[base + i];
			if (m->nb_segs == 1)
				dp_worker_prepare(w, rte_pktmbuf_mtod(m, uint8_t *), m->data_len,
						  from_outside, &pre[i]);
		}
		/* Stage 2: prefetch the entries the slots point to. */
		if (k > 1)
			for (uint16_t i = 0; i < k; i++)
				if (pkts[base + i]->nb_segs == 1 && pre[i].parse == DP_DROP_NONE &&
				    pre[i].p.family)
					dp_flow_prefetch_entry(&w->ft, pre[i].h);
		/* Stage 3: process. */
		for (uint16_t i = 0; i < k; i++)
			one(w, t, pkts[base + i], &pre[i], from_outside, now_us, fwd, nfwd,
			    punt, npunt, reply, nreply);
	}
}
