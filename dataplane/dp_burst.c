/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <rte_mbuf.h>

#include "dp_burst.h"

/* Packets prepared ahead of processing (flow index prefetch distance). */
#define DP_BURST_STAGE 32

struct rte_mbuf *dp_burst_linear(struct rte_mbuf *m)
{
	if (m->nb_segs == 1)
		return m;
	if (rte_pktmbuf_linearize(m) == 0)
		return m;   /* the first segment had room for the rest */
	uint16_t room = (uint16_t)(rte_pktmbuf_data_room_size(m->pool) - RTE_PKTMBUF_HEADROOM);
	if (m->pkt_len > room)
		goto drop;
	struct rte_mbuf *n = rte_pktmbuf_alloc(m->pool);
	if (!n)
		goto drop;
	char *d = rte_pktmbuf_append(n, (uint16_t)m->pkt_len);
	const void *r = d ? rte_pktmbuf_read(m, 0, m->pkt_len, d) : NULL;
	if (!r) {
		rte_pktmbuf_free(n);
		goto drop;
	}
	if (r != d)
		memcpy(d, r, m->pkt_len);
	n->port = m->port;
	n->ol_flags = m->ol_flags & (RTE_MBUF_F_RX_RSS_HASH | RTE_MBUF_F_RX_VLAN);
	n->hash = m->hash;
	n->vlan_tci = m->vlan_tci;
	rte_pktmbuf_free(m);
	return n;
drop:
	rte_pktmbuf_free(m);
	return NULL;
}

/* What becomes of m after dp_worker_packets_prepared (d, len bytes), and
 * the worker's second frame when last (the packet that left one). */
static inline void one(struct dp_worker *w, struct rte_mbuf *m, enum dp_disp d, uint32_t len,
		       bool last, struct rte_mbuf **fwd, uint16_t *nfwd, struct rte_mbuf **punt,
		       uint16_t *npunt, struct rte_mbuf **reply, uint16_t *nreply,
		       struct rte_mbuf **drop, uint16_t *ndrop)
{
	if (!m)
		return;   /* a chain that could not be made one buffer (counted) */
	if (len < m->data_len)
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - len));
	if (last && w->extra_len) {
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
		drop[(*ndrop)++] = m;   /* freed together at the end of the burst */
}

void dp_burst(struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf **pkts,
	      uint16_t n, bool from_outside, uint64_t now_us, struct rte_mbuf **fwd,
	      uint16_t *nfwd, struct rte_mbuf **punt, uint16_t *npunt,
	      struct rte_mbuf **reply, uint16_t *nreply)
{
	struct dp_pre pre[DP_BURST_STAGE];
	uint8_t *frames[DP_BURST_STAGE];
	uint32_t lens[DP_BURST_STAGE];
	uint8_t disp[DP_BURST_STAGE];
	struct rte_mbuf *drop[DP_BURST_STAGE];
	unsigned port = from_outside ? DP_PORT_OUTSIDE : DP_PORT_INSIDE;
	uint64_t bytes = 0;

	/* Counted in locals (registers), stored once at the end. */
	uint16_t nf = 0, np = 0, nr = 0, nd = 0;

	for (uint16_t base = 0; base < n; base += DP_BURST_STAGE) {
		uint16_t k = n - base < DP_BURST_STAGE ? (uint16_t)(n - base) : DP_BURST_STAGE;
		/* Stage 1: parse, hash, prefetch the index slots. */
		for (uint16_t i = 0; i < k; i++) {
			struct rte_mbuf *m = pkts[base + i];
			if (m->nb_segs != 1) {
				/* Headers may span segments: one buffer first. */
				uint32_t plen = m->pkt_len;
				m = pkts[base + i] = dp_burst_linear(m);
				if (!m) {
					bytes += plen;
					w->st.drops[DP_DROP_MULTI_SEGMENT]++;
					frames[i] = NULL;
					continue;
				}
			}
			frames[i] = rte_pktmbuf_mtod(m, uint8_t *);
			lens[i] = m->data_len;
			bytes += lens[i];
		}
		dp_worker_prepare_burst(w, frames, lens, k, from_outside, pre);
		/* Stage 2: prefetch the entries the slots point to (their
		 * numbers are the lookups' hints); for a likely new flow
		 * from the inside, what its decision reads first. */
		uint32_t fresh = 0;   /* likely new flows */
		for (uint16_t i = 0; i < k; i++)
			if (frames[i] &&
			    (pre[i].common || (pre[i].parse == DP_DROP_NONE && pre[i].p.family)) &&
			    !(pre[i].ent = dp_flow_prefetch_entry(&w->ft, pre[i].h)) &&
			    !from_outside) {
				/* From the inside: the key's in_ip is the source,
				 * out_ip the destination (p may not be filled). */
				dp_tables_prefetch(t, pre[i].k.family, pre[i].k.in_ip,
						   pre[i].k.out_ip);
				fresh |= 1u << i;
			}
		if (k > 1) {
			/* Their decisions' second lines, the first ones having
			 * been on their way for the rest of the stage. */
			for (uint32_t m = fresh; m; m &= m - 1) {
				unsigned i = (unsigned)__builtin_ctz(m);
				dp_tables_prefetch_more(t, pre[i].k.family, pre[i].k.in_ip,
							pre[i].k.out_ip);
			}
			/* A full table evicts for each new flow: the first
			 * victim and its index slot ahead of time. */
			dp_flow_prefetch_victim(&w->ft);
		}
		/* Stage 3: process, the per-packet path inline in the worker's
		 * loop; it stops after a packet that leaves a second frame. */
		for (uint16_t i = 0; i < k;) {
			uint16_t j = (uint16_t)(i + dp_worker_packets_prepared(w, t, &frames[i],
					&lens[i], k - i, from_outside, now_us, &pre[i], &disp[i]));
			for (; i < j; i++)
				one(w, pkts[base + i], (enum dp_disp)disp[i], lens[i], i + 1 == j,
				    fwd, &nf, punt, &np, reply, &nr, drop, &nd);
		}
		if (nd) {
			rte_pktmbuf_free_bulk(drop, nd);
			nd = 0;
		}
	}
	*nfwd = nf;
	*npunt = np;
	*nreply = nr;
	/* Received: counted once per burst (dp_worker_packet_prepared does not). */
	w->st.rx_pkts[port] += n;
	w->st.rx_bytes[port] += bytes;
}
