/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <egw/event.h>

#include "dp_burst.h"
#include "dp_replay.h"
#include "dp_stats.h"

#define REPLAY_DATA_ROOM 16384

/* The worker's raw events, formatted and written as EVE lines (the tables
 * they refer to are the replay's, alive throughout). egw_event_encode
 * writes the bytes egw_event_to_json + json_dumpb would, without a tree. */
static int drain(struct dp_worker *w, struct egw_event_enc *enc, FILE *out)
{
	const struct dp_raw_event *e;
	struct egw_event ev;

	while ((e = dp_event_peek(&w->ev))) {
		dp_event_format(e, &ev);
		dp_event_pop(&w->ev);
		const char *text;
		size_t len;
		int r = egw_event_encode(enc, &ev, &text, &len);
		if (r)
			return r;
		if (fwrite(text, 1, len, out) != len || fputc('\n', out) == EOF)
			return -EIO;
	}
	return 0;
}

static int write_stats(struct dp_worker *w, const char *path)
{
	struct dp_worker *ws[1] = { w };
	json_t *j = dp_stats_json(ws, 1);
	if (!j)
		return -ENOMEM;
	int r = json_dump_file(j, path, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(j);
	return r ? -EIO : 0;
}

int dp_replay_run(const struct dp_tables *t, const struct dp_replay_opts *o)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct dp_worker w;
	struct rte_mempool *mp = NULL;
	struct egw_event_enc *enc = NULL;
	int ret = -1;

	pcap_t *pc = pcap_open_offline(o->pcap, errbuf);
	if (!pc) {
		/* libpcap names the file in some of its messages only. */
		if (strstr(errbuf, o->pcap))
			fprintf(stderr, "egw-dataplane: replay: %s\n", errbuf);
		else
			fprintf(stderr, "egw-dataplane: replay: %s: %s\n", o->pcap, errbuf);
		return -1;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, "egw-dataplane: replay: %s: link type %s is not Ethernet\n",
			o->pcap, pcap_datalink_val_to_name(pcap_datalink(pc)));
		pcap_close(pc);
		return -1;
	}
	/* Hugepage memory for the flow table when EAL has it, as in port mode. */
	int fsock = rte_eal_has_hugepages() ? (int)rte_socket_id() : DP_FLOW_HEAP;
	if (dp_worker_init_socket(&w, 0, t->pol->gateway.flows, 4096, fsock)) {
		fprintf(stderr, "egw-dataplane: replay: no memory for a flow table of %u flows\n",
			t->pol->gateway.flows);
		pcap_close(pc);
		return -1;
	}
	enc = egw_event_enc_new();
	if (!enc) {
		fprintf(stderr, "egw-dataplane: replay: no memory for the event encoder\n");
		goto out;
	}
	mp = rte_pktmbuf_pool_create("egw_replay", 63, 0, 0,
				     REPLAY_DATA_ROOM + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	if (!mp) {
		fprintf(stderr, "egw-dataplane: replay: cannot create the mbuf pool: %s\n",
			rte_strerror(rte_errno));
		goto out;
	}

	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t now = 0, n = 0;
	int r;
	while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
		n++;
		now = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		dp_worker_tick(&w, t, now);
		bool outside = dp_worker_from_outside(&w, t, data, h->caplen);
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		if (!m) {
			fprintf(stderr, "egw-dataplane: replay: mbuf pool exhausted\n");
			goto out;
		}
		if (h->caplen > REPLAY_DATA_ROOM) {
			/* A frame this long would be a chain on a port. */
			struct rte_mbuf *m2 = rte_pktmbuf_alloc(mp);
			if (m2 && rte_pktmbuf_chain(m, m2) == 0) {
				m->pkt_len = h->caplen;
			} else if (m2) {
				rte_pktmbuf_free(m2);
			}
		} else {
			memcpy(rte_pktmbuf_append(m, (uint16_t)h->caplen), data, h->caplen);
		}
		struct rte_mbuf *fwd[2], *punt[1], *reply[1];
		uint16_t nf, np, nr;
		dp_burst(&w, t, &m, 1, outside, now, fwd, &nf, punt, &np, reply, &nr);
		unsigned to = outside ? DP_PORT_INSIDE : DP_PORT_OUTSIDE;
		for (uint16_t i = 0; i < nr; i++) {
			w.st.tx_pkts[outside ? DP_PORT_OUTSIDE : DP_PORT_INSIDE]++;
			w.st.tx_bytes[outside ? DP_PORT_OUTSIDE : DP_PORT_INSIDE] += reply[i]->pkt_len;
			rte_pktmbuf_free(reply[i]);
		}
		for (uint16_t i = 0; i < nf; i++) {
			w.st.tx_pkts[to]++;
			w.st.tx_bytes[to] += fwd[i]->pkt_len;
			rte_pktmbuf_free(fwd[i]);
		}
		for (uint16_t i = 0; i < np; i++) {
			w.st.tx_pkts[DP_PORT_PUNT]++;
			w.st.tx_bytes[DP_PORT_PUNT] += punt[i]->pkt_len;
			rte_pktmbuf_free(punt[i]);
		}
		if (drain(&w, enc, o->out)) {
			fprintf(stderr, "egw-dataplane: replay: cannot write events: %s\n",
				strerror(errno));
			goto out;
		}
	}
	if (r == -1) {
		fprintf(stderr, "egw-dataplane: replay: %s: packet %llu: %s\n", o->pcap,
			(unsigned long long)n + 1, pcap_geterr(pc));
		goto out;
	}
	dp_worker_flush(&w, t, "shutdown");
	if (drain(&w, enc, o->out) || fflush(o->out)) {
		fprintf(stderr, "egw-dataplane: replay: cannot write events: %s\n", strerror(errno));
		goto out;
	}
	if (o->stats && write_stats(&w, o->stats)) {
		fprintf(stderr, "egw-dataplane: replay: cannot write %s\n", o->stats);
		goto out;
	}
	fprintf(stderr, "egw-dataplane: replay: %llu packets, %llu events (%llu lost)\n",
		(unsigned long long)n, (unsigned long long)w.ev.made,
		(unsigned long long)w.ev.lost);
	ret = 0;
out:
	egw_event_enc_free(enc);
	rte_mempool_free(mp);
	dp_worker_fini(&w);
	pcap_close(pc);
	return ret;
}
