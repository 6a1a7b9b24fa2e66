/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <egw/event.h>

#include "dp_burst.h"
#include "dp_parse.h"
#include "dp_port.h"
#include "dp_stats.h"
#include "dp_worker.h"

#define BURST 32
#define RX_DESC 1024
#define TX_DESC 1024
#define EVENT_RING 4096

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct port {
	const char *role;      /* "inside", "outside", "punt" */
	const char *devargs;
	uint16_t id;
	bool probed;           /* by us: detach at the end */
};

struct wctx {
	struct dp_worker w;
	const struct dp_tables *t;
	struct port *ports;
	uint16_t queue;
	struct rte_ring *events;  /* worker -> main */
	atomic_bool done;
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The device name of a devargs string: what comes before the first ','. */
static void dev_name(const char *devargs, char *name, size_t cap)
{
	size_t n = strcspn(devargs, ",");
	if (n >= cap)
		n = cap - 1;
	memcpy(name, devargs, n);
	name[n] = 0;
}

/* "iface=NAME" of a net_tap devargs, for the name-in-use check. */
static bool tap_iface(const char *devargs, char *iface, size_t cap)
{
	if (strncmp(devargs, "net_tap", 7))
		return false;
	const char *p = strstr(devargs, "iface=");
	if (!p)
		return false;
	p += 6;
	size_t n = strcspn(p, ",");
	if (n >= cap)
		n = cap - 1;
	memcpy(iface, p, n);
	iface[n] = 0;
	return true;
}

static int attach(struct port *p)
{
	char name[RTE_DEV_NAME_MAX_LEN], iface[IF_NAMESIZE + 8];

	dev_name(p->devargs, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, &p->id) == 0)
		return 0;   /* created by the EAL (--vdev or a bound PCI device) */
	if (tap_iface(p->devargs, iface, sizeof(iface))) {
		if (strlen(iface) >= IF_NAMESIZE) {
			fprintf(stderr, "egw-dataplane: %s port \"%s\": interface name \"%s\" is "
				"longer than %d characters\n", p->role, p->devargs, iface,
				IF_NAMESIZE - 1);
			return -1;
		}
		if (if_nametoindex(iface)) {
			fprintf(stderr, "egw-dataplane: %s port \"%s\": interface %s already "
				"exists (another egw-dataplane running?)\n", p->role, p->devargs, iface);
			return -1;
		}
	}
	int r = rte_dev_probe(p->devargs);
	if (r < 0 || rte_eth_dev_get_port_by_name(name, &p->id)) {
		fprintf(stderr, "egw-dataplane: %s port \"%s\": cannot open the device: %s\n",
			p->role, p->devargs, rte_strerror(r < 0 ? -r : ENODEV));
		return -1;
	}
	p->probed = true;
	return 0;
}

/* A 40-byte key of repeated 0x6d5a makes Toeplitz RSS symmetric. */
static uint8_t sym_key[40];

static int configure(struct port *p, uint16_t nq, struct rte_mempool *mp)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int r;

	memset(&conf, 0, sizeof(conf));
	r = rte_eth_dev_info_get(p->id, &info);
	if (r)
		goto fail;
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		fprintf(stderr, "egw-dataplane: %s port \"%s\" has %u queues, gateway.workers needs %u "
			"(for net_af_packet add qpairs=%u)\n", p->role, p->devargs,
			RTE_MIN(info.max_rx_queues, info.max_tx_queues), nq, nq);
		return -1;
	}
	if (nq > 1 && info.flow_type_rss_offloads) {
		for (size_t i = 0; i < sizeof(sym_key); i += 2) {
			sym_key[i] = 0x6d;
			sym_key[i + 1] = 0x5a;
		}
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = sym_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(sym_key);
		conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
						   info.flow_type_rss_offloads;
	}
	r = rte_eth_dev_configure(p->id, nq, nq, &conf);
	if (r)
		goto fail;
	for (uint16_t q = 0; q < nq; q++) {
		r = rte_eth_rx_queue_setup(p->id, q, RX_DESC, rte_eth_dev_socket_id(p->id), NULL, mp);
		if (r)
			goto fail;
		r = rte_eth_tx_queue_setup(p->id, q, TX_DESC, rte_eth_dev_socket_id(p->id), NULL);
		if (r)
			goto fail;
	}
	r = rte_eth_promiscuous_enable(p->id);
	if (r && r != -ENOTSUP)
		goto fail;
	r = rte_eth_dev_start(p->id);
	if (r)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "egw-dataplane: %s port \"%s\": cannot configure: %s\n", p->role,
		p->devargs, rte_strerror(r < 0 ? -r : r));
	return -1;
}

static void tx_to(struct dp_worker *w, struct port *p, unsigned port, uint16_t q,
		 struct rte_mbuf **m, uint16_t n)
{
	if (!n)
		return;
	uint16_t sent = rte_eth_tx_burst(p->id, q, m, n);
	for (uint16_t i = 0; i < sent; i++) {
		w->st.tx_pkts[port]++;
		w->st.tx_bytes[port] += m[i]->pkt_len;
	}
	if (sent < n) {
		w->st.drops[port == DP_PORT_PUNT ? DP_DROP_PUNT_TX : DP_DROP_TX_FULL] += n - sent;
		rte_pktmbuf_free_bulk(m + sent, n - sent);
	}
}

/* Packets back from the punt port were accepted by the control plane: on
 * to the outside when they come from a unit, else to the inside. */
static void punt_return(struct wctx *c, struct rte_mbuf **m, uint16_t n)
{
	struct rte_mbuf *out[BURST], *in[BURST];
	uint16_t no = 0, ni = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct dp_pkt p;
		c->w.st.rx_pkts[DP_PORT_PUNT]++;
		c->w.st.rx_bytes[DP_PORT_PUNT] += m[i]->pkt_len;
		if (m[i]->nb_segs != 1 || dp_parse(rte_pktmbuf_mtod(m[i], const uint8_t *),
						   m[i]->data_len, &p) != DP_DROP_NONE ||
		    p.family == 0) {
			rte_pktmbuf_free(m[i]);
			continue;
		}
		uint32_t cls = dp_tables_class(c->t, p.family, p.src);
		if (c->t->class_unit[cls] >= 0)
			out[no++] = m[i];
		else
			in[ni++] = m[i];
	}
	tx_to(&c->w, &c->ports[1], DP_PORT_OUTSIDE, c->queue, out, no);
	tx_to(&c->w, &c->ports[0], DP_PORT_INSIDE, c->queue, in, ni);
}

static void push_events(struct wctx *c)
{
	struct dp_event_buf *b = &c->w.ev;
	if (!b->n)
		return;
	unsigned done = rte_ring_enqueue_burst_elem(c->events, b->v, sizeof(struct egw_event),
						    b->n, NULL);
	b->lost += b->n - done;
	b->n = 0;
}

static int worker_main(void *arg)
{
	struct wctx *c = arg;
	struct rte_mbuf *rx[BURST], *fwd[BURST], *punt[BURST];
	uint16_t nf, np;
	uint64_t last_tick = 0;

	while (!stop) {
		uint64_t now = now_us();
		for (int side = 0; side < 2; side++) {
			struct port *from = &c->ports[side], *to = &c->ports[!side];
			uint16_t n = rte_eth_rx_burst(from->id, c->queue, rx, BURST);
			if (!n)
				continue;
			dp_burst(&c->w, c->t, rx, n, side == 1, now, fwd, &nf, punt, &np);
			tx_to(&c->w, to, side ? DP_PORT_INSIDE : DP_PORT_OUTSIDE, c->queue, fwd, nf);
			tx_to(&c->w, &c->ports[2], DP_PORT_PUNT, c->queue, punt, np);
		}
		uint16_t n = rte_eth_rx_burst(c->ports[2].id, c->queue, rx, BURST);
		if (n)
			punt_return(c, rx, n);
		if (now - last_tick >= 1000) {
			dp_worker_tick(&c->w, c->t, now);
			last_tick = now;
		}
		push_events(c);
	}
	dp_worker_flush(&c->w, c->t, "shutdown");
	push_events(c);
	atomic_store(&c->done, true);
	return 0;
}

static uint64_t drain_events(struct wctx *ws, unsigned n, FILE *out)
{
	struct egw_event ev[64];
	uint64_t lost = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned k;
		while ((k = rte_ring_dequeue_burst_elem(ws[i].events, ev, sizeof(ev[0]), 64, NULL))) {
			for (unsigned j = 0; j < k; j++) {
				if (!out) {
					lost++;   /* nobody reads events */
					continue;
				}
				json_t *js = egw_event_to_json(&ev[j]);
				if (!js || json_dumpf(js, out, JSON_COMPACT) || fputc('\n', out) == EOF)
					lost++;
				json_decref(js);
			}
		}
	}
	if (out)
		fflush(out);
	return lost;
}

int dp_port_main(const struct egw_policy *pol, const struct dp_tables *t,
		 const struct dp_port_opts *o)
{
	const struct egw_gateway *g = &pol->gateway;
	struct port ports[3] = {
		{ .role = "inside", .devargs = g->inside },
		{ .role = "outside", .devargs = g->outside },
		{ .role = "punt", .devargs = g->punt },
	};
	unsigned nw = g->workers ? g->workers : 1;
	struct wctx *ws = NULL;
	struct rte_mempool *mp = NULL;
	FILE *events = NULL;
	int ret = -1, attached = 0;
	unsigned started = 0;

	if (rte_lcore_count() < nw + 1) {
		fprintf(stderr, "egw-dataplane: gateway.workers = %u needs %u lcores (EAL -l), "
			"have %u\n", nw, nw + 1, rte_lcore_count());
		return -1;
	}
	if (o->events && !(events = fopen(o->events, "a"))) {
		fprintf(stderr, "egw-dataplane: %s: %s\n", o->events, strerror(errno));
		return -1;
	}
	for (; attached < 3; attached++)
		if (attach(&ports[attached]))
			goto out;
	if (ports[0].id == ports[1].id || ports[0].id == ports[2].id || ports[1].id == ports[2].id) {
		fprintf(stderr, "egw-dataplane: gateway: inside, outside and punt must be three "
			"different ports\n");
		goto out;
	}
	unsigned nmbuf = 3 * nw * (RX_DESC + TX_DESC) + 4096;
	mp = rte_pktmbuf_pool_create("egw_mbufs", nmbuf, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     (int)rte_socket_id());
	if (!mp) {
		fprintf(stderr, "egw-dataplane: cannot allocate %u packet buffers: %s "
			"(no hugepages? see firmware/setup.sh)\n", nmbuf, rte_strerror(rte_errno));
		goto out;
	}
	for (int i = 0; i < 3; i++)
		if (configure(&ports[i], (uint16_t)nw, mp))
			goto out;

	ws = rte_zmalloc("egw_workers", nw * sizeof(*ws), 64);
	if (!ws) {
		fprintf(stderr, "egw-dataplane: no memory for %u workers\n", nw);
		goto out;
	}
	for (unsigned i = 0; i < nw; i++) {
		char rn[RTE_RING_NAMESIZE];
		snprintf(rn, sizeof(rn), "egw_ev_%u", i);
		ws[i].events = rte_ring_create_elem(rn, sizeof(struct egw_event), EVENT_RING,
						    (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!ws[i].events || dp_worker_init(&ws[i].w, i, g->flows, 1024)) {
			fprintf(stderr, "egw-dataplane: no memory for worker %u (%u flows)\n", i, g->flows);
			goto out;
		}
		ws[i].t = t;
		ws[i].ports = ports;
		ws[i].queue = (uint16_t)i;
		ws[i].w.ctl_up = false;   /* no control plane connection yet */
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	unsigned lc;
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (started == nw)
			break;
		if (rte_eal_remote_launch(worker_main, &ws[started], lc)) {
			fprintf(stderr, "egw-dataplane: cannot start worker on lcore %u\n", lc);
			stop = 1;
			break;
		}
		started++;
	}
	if (started == nw) {
		fprintf(stderr, "egw-dataplane: forwarding %s <-> %s (punt %s), %u worker(s), "
			"fail_mode %s\n", g->inside, g->outside, g->punt, nw,
			g->fail_mode == EGW_FAIL_OPEN ? "open" : "closed");
		ret = 0;
	}
	uint64_t lost = 0;
	while (!stop) {
		usleep(100000);
		lost += drain_events(ws, started, events);
	}
	rte_eal_mp_wait_lcore();
	lost += drain_events(ws, started, events);
	if (o->stats) {
		struct dp_worker *wp[RTE_MAX_LCORE];
		for (unsigned i = 0; i < nw; i++) {
			ws[i].w.ev.lost += i == 0 ? lost : 0;
			wp[i] = &ws[i].w;
		}
		json_t *j = dp_stats_json(wp, nw);
		if (!j || json_dump_file(j, o->stats, JSON_INDENT(1) | JSON_SORT_KEYS)) {
			fprintf(stderr, "egw-dataplane: cannot write %s\n", o->stats);
			ret = -1;
		}
		json_decref(j);
	}
out:
	if (ws) {
		for (unsigned i = 0; i < nw; i++) {
			dp_worker_fini(&ws[i].w);
			rte_ring_free(ws[i].events);
		}
		rte_free(ws);
	}
	for (int i = 0; i < attached; i++) {
		rte_eth_dev_stop(ports[i].id);
		rte_eth_dev_close(ports[i].id);
	}
	rte_mempool_free(mp);
	if (events)
		fclose(events);
	return ret;
}
