/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <rte_mbuf.h>

#include "dp_burst.h"

void dp_burst(struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf **pkts,
	      uint16_t n, bool from_outside, uint64_t now_us, struct rte_mbuf **fwd,
	      uint16_t *nfwd, struct rte_mbuf **punt, uint16_t *npunt,
	      struct rte_mbuf **reply, uint16_t *nreply)
{
	*nfwd = *npunt = *nreply = 0;
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
		uint32_t len = m->data_len;
		enum dp_disp d = dp_worker_packet(w, t, rte_pktmbuf_mtod(m, uint8_t *), &len,
						  from_outside, now_us);
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
}
