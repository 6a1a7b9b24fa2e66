/* SPDX-License-Identifier: MIT */
#include <rte_mbuf.h>

#include "dp_burst.h"

void dp_burst(struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf **pkts,
	      uint16_t n, bool from_outside, uint64_t now_us, struct rte_mbuf **fwd,
	      uint16_t *nfwd, struct rte_mbuf **punt, uint16_t *npunt)
{
	*nfwd = *npunt = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (m->nb_segs != 1) {
			unsigned port = from_outside ? DP_PORT_OUTSIDE : DP_PORT_INSIDE;
			w->st.rx_pkts[port]++;
			w->st.rx_bytes[port] += m->pkt_len;
			w->st.drops[DP_DROP_MULTI_SEGMENT]++;
			rte_pktmbuf_free(m);
			continue;
		}
		enum dp_disp d = dp_worker_packet(w, t, rte_pktmbuf_mtod(m, uint8_t *),
						  m->data_len, from_outside, now_us);
		if (d == DP_DISP_FORWARD)
			fwd[(*nfwd)++] = m;
		else if (d == DP_DISP_PUNT)
			punt[(*npunt)++] = m;
		else
			rte_pktmbuf_free(m);
	}
}
