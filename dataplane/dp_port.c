/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <egw/addr.h>
#include <egw/diag.h>
#include <egw/event.h>
#include <egw/ipc.h>
#include <egw/notify.h>

#include "dp_burst.h"
#include "dp_gateway.h"
#include "dp_vtally.h"
#include "dp_ipc.h"
#include "dp_parse.h"
#include "dp_port.h"
#include "dp_stats.h"
#include "dp_swap.h"
#include "dp_telemetry.h"
#include "dp_worker.h"

#define BURST 32
#define RX_DESC 1024
#define TX_DESC 1024
#define EVENT_RING 4096

static volatile sig_atomic_t stop, hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup = 1;
	else
		stop = 1;
}

void dp_port_catch_signals(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
}

/* A worker that reports no quiescent state for this long is stuck. */
#define GRACE_TIMEOUT_MS 10000

struct port {
	const char *role;      /* "inside", "outside", "punt" */
	const char *devargs;
	uint16_t id;
	bool probed;           /* by us: detach at the end */
};

struct wctx {
	struct dp_worker w;
	const struct dp_tables *t;    /* the worker's own view */
	struct dp_swap *swap;         /* the tables in force (dp_swap.h) */
	struct port *ports;
	uint16_t queue;
	struct rte_ring *verdicts;    /* main -> worker */
	struct dp_vtally *vtally;     /* verdicts no worker had a flow for */
	/* A flows snapshot: main fills the request and sets snap = 1; the
	 * worker appends to snap_arr and sets snap = 2. */
	atomic_int snap;
	json_t *snap_arr;
	const char *snap_unit;
	const struct egw_prefix *snap_ip;
	size_t snap_limit;
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
/* The iface= of devargs of a driver whose name starts with drv. */
static bool devargs_iface(const char *devargs, const char *drv, char *iface, size_t cap)
{
	if (strncmp(devargs, drv, strlen(drv)))
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
	if (devargs_iface(p->devargs, "net_af_packet", iface, sizeof(iface)) &&
	    !if_nametoindex(iface)) {
		/* The PMD would fail with -1, read as "Operation not
		 * permitted": say what is wrong instead. */
		fprintf(stderr, "egw-dataplane: %s port \"%s\": interface %s does not exist\n",
			p->role, p->devargs, iface);
		return -1;
	}
	if (devargs_iface(p->devargs, "net_tap", iface, sizeof(iface))) {
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
		/* Many drivers return -1 whatever went wrong: their own
		 * message above says what; -1 is no errno to print. */
		if (r == -1)
			fprintf(stderr, "egw-dataplane: %s port \"%s\": cannot open the device "
				"(the driver's message above says why)\n", p->role, p->devargs);
		else
			fprintf(stderr, "egw-dataplane: %s port \"%s\": cannot open the device: "
				"%s\n", p->role, p->devargs, rte_strerror(r < 0 ? -r : ENODEV));
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
	/* Lengths read before the send: a sent mbuf is the driver's (net_null
	 * frees it at once). The unsent ones are still ours. */
	uint64_t bytes = 0;
	for (uint16_t i = 0; i < n; i++)
		bytes += m[i]->pkt_len;
	uint16_t sent = rte_eth_tx_burst(p->id, q, m, n);
	for (uint16_t i = sent; i < n; i++)
		bytes -= m[i]->pkt_len;
	w->st.tx_pkts[port] += sent;
	w->st.tx_bytes[port] += bytes;
	if (sent < n) {
		w->st.drops[port == DP_PORT_PUNT ? DP_DROP_PUNT_TX : DP_DROP_TX_FULL] += n - sent;
		rte_pktmbuf_free_bulk(m + sent, n - sent);
	}
}

/* Packets back from the punt port were accepted by the control plane: MACs
 * and TTL of their flow restored, on to where they were going. */
static void punt_return(struct wctx *c, struct rte_mbuf **m, uint16_t n)
{
	struct rte_mbuf *out[BURST], *in[BURST];
	uint16_t no = 0, ni = 0;

	for (uint16_t i = 0; i < n; i++) {
		c->w.st.rx_pkts[DP_PORT_PUNT]++;
		c->w.st.rx_bytes[DP_PORT_PUNT] += m[i]->pkt_len;
		m[i] = dp_burst_linear(m[i]);   /* NULL: freed, too long for a buffer */
		if (!m[i]) {
			c->w.st.drops[DP_DROP_MULTI_SEGMENT]++;
			continue;
		}
		int to = dp_worker_unpunt(&c->w, c->t, rte_pktmbuf_mtod(m[i], uint8_t *),
					  m[i]->data_len);
		if (to == DP_PORT_OUTSIDE)
			out[no++] = m[i];
		else if (to == DP_PORT_INSIDE)
			in[ni++] = m[i];
		else
			rte_pktmbuf_free(m[i]);
	}
	tx_to(&c->w, &c->ports[1], DP_PORT_OUTSIDE, c->queue, out, no);
	tx_to(&c->w, &c->ports[0], DP_PORT_INSIDE, c->queue, in, ni);
}

static int worker_main(void *arg)
{
	struct wctx *c = arg;
	struct rte_mbuf *rx[BURST], *fwd[2 * BURST], *punt[BURST], *reply[BURST];
	uint16_t nf, np, nr;
	uint64_t last_tick = 0;

	c->t = dp_swap_online(c->swap, c->w.id);
	while (!stop) {
		uint64_t now = now_us();
		/* Quiescent: nothing loaded before this point is in use; then
		 * follow the tables in force (see dp_swap.h). */
		if (!c->w.sweep_old)
			dp_swap_quiescent(c->swap, c->w.id);
		const struct dp_tables *nt = dp_swap_current(c->swap);
		if (nt != c->t) {
			/* A reload: packets go by nt from now on; the flows
			 * are decided again as they are seen, and DP_REBIND_STEP
			 * a loop. Until none is left they may point into the
			 * old tables, so no quiescent state is reported (the
			 * publisher waits, then frees them: dp_swap.h). */
			dp_worker_rebind_begin(&c->w, c->t, nt);
			c->t = nt;
		}
		if (c->w.sweep_old)
			(void)dp_worker_rebind_step(&c->w, c->t, DP_REBIND_STEP);
		if (atomic_load_explicit(&c->snap, memory_order_acquire) == 1) {
			dp_worker_flows_json(&c->w, c->t, c->snap_unit, c->snap_ip, c->snap_limit,
					     c->snap_arr);
			atomic_store_explicit(&c->snap, 2, memory_order_release);
		}
		struct egw_ipc_flow_verdict v;
		for (int k = 0; k < 16 && !rte_ring_dequeue_elem(c->verdicts, &v, sizeof(v)); k++)
			if (dp_worker_install(&c->w, &v) == -ENOENT &&
			    dp_vtally_miss(c->vtally, v.hdr.seq))
				c->w.st.verdicts_no_flow++;   /* evicted or ended meanwhile */
		for (int side = 0; side < 2; side++) {
			struct port *from = &c->ports[side], *to = &c->ports[!side];
			uint16_t n = rte_eth_rx_burst(from->id, c->queue, rx, BURST);
			if (!n)
				continue;
			dp_burst(&c->w, c->t, rx, n, side == 1, now, fwd, &nf, punt, &np, reply, &nr);
			tx_to(&c->w, to, side ? DP_PORT_INSIDE : DP_PORT_OUTSIDE, c->queue, fwd, nf);
			tx_to(&c->w, from, side ? DP_PORT_OUTSIDE : DP_PORT_INSIDE, c->queue, reply, nr);
			tx_to(&c->w, &c->ports[2], DP_PORT_PUNT, c->queue, punt, np);
		}
		uint16_t n = rte_eth_rx_burst(c->ports[2].id, c->queue, rx, BURST);
		if (n)
			punt_return(c, rx, n);
		if (now - last_tick >= 1000) {
			dp_worker_tick(&c->w, c->t, now);
			last_tick = now;
		}
	}
	dp_worker_flush(&c->w, c->t, "shutdown");
	dp_swap_offline(c->swap, c->w.id);
	return 0;
}

struct run {
	struct wctx *ws;
	unsigned nw;
	struct egw_policy *pol, *prep_pol;
	struct dp_tables *t, *prep_t;
	uint64_t prep_gen, local_gen;
	struct dp_swap swap;
	bool swap_ok;
	struct dp_ipc *ipc;
	FILE *events;
	struct egw_event_enc *enc;    /* for events: EVE lines without a tree */
	uint64_t lost, verdicts_lost, reloads;
};

/*
 * Every worker's raw events, formatted here (off the workers) into struct
 * egw_event for the --events file and the control-plane stream. The
 * policies they refer to are alive: commit() drains before freeing one.
 */
static void drain_events(struct run *r)
{
	struct egw_event ev[64];

	for (unsigned i = 0; i < r->nw; i++) {
		unsigned k;
		while ((k = dp_event_drain(&r->ws[i].w.ev, ev, 64))) {
			for (unsigned j = 0; r->events && j < k; j++) {
				const char *text;
				size_t len;
				if (egw_event_encode(r->enc, &ev[j], &text, &len) ||
				    fwrite(text, 1, len, r->events) != len ||
				    fputc('\n', r->events) == EOF)
					r->lost++;
			}
			uint64_t lost = 0;
			dp_ipc_events(r->ipc, ev, k, &lost);
			if (!r->events)
				r->lost += lost;
		}
	}
	if (r->events)
		fflush(r->events);
}

/* Do the workers record events? Only when something consumes them: the
 * --events file or a control-plane subscriber. */
static void set_consumed(struct run *r, bool subscriber)
{
	for (unsigned i = 0; r->ws && i < r->nw; i++)
		dp_event_set_consumed(&r->ws[i].w.ev, r->events || subscriber);
}

static void flush_ipc(struct run *r)
{
	uint64_t lost = 0;
	dp_ipc_flush(r->ipc, &lost);
	if (!r->events)
		r->lost += lost;
}

static void unprepare(struct run *r)
{
	dp_tables_free(r->prep_t);
	egw_policy_free(r->prep_pol);
	r->prep_t = NULL;
	r->prep_pol = NULL;
	r->prep_gen = 0;
}

static int prepare(struct run *r, const char *path, uint64_t gen, char *msg, size_t cap)
{
	struct egw_diag *d = egw_diag_new();
	int ret = -ENOMEM;

	unprepare(r);
	if (!d)
		goto out;
	r->prep_pol = egw_policy_load(path, d);
	if (!r->prep_pol) {
		ret = egw_diag_count(d) ? -EINVAL : -errno;
		snprintf(msg, cap, "%s", egw_diag_count(d) ? egw_diag_message(d, 0) : strerror(errno));
		goto out;
	}
	ret = dp_gateway_check_reload(&r->pol->gateway, &r->prep_pol->gateway, msg, cap);
	if (ret)
		goto out;
	r->prep_t = dp_tables_build(r->prep_pol, d);
	if (!r->prep_t) {
		ret = -errno ? -errno : -ENOMEM;
		snprintf(msg, cap, "%s", egw_diag_count(d) ? egw_diag_message(d, 0) : "cannot build tables");
		goto out;
	}
	r->prep_gen = gen;
	ret = 0;
out:
	if (ret)
		unprepare(r);
	egw_diag_free(d);
	return ret;
}

static int commit(struct run *r, uint64_t gen, char *msg, size_t cap)
{
	if (!r->prep_t || gen != r->prep_gen) {
		snprintf(msg, cap, "generation %llu is not the prepared one", (unsigned long long)gen);
		return -ESTALE;
	}
	struct egw_policy *old_pol = r->pol;
	struct dp_tables *old_t = r->t;
	unsigned stuck = 0;
	/* Publish, then wait until no worker can read the old tables (each
	 * has re-decided its flows under the new ones: dp_swap.h). */
	int e = dp_swap_publish(&r->swap, r->prep_t, GRACE_TIMEOUT_MS, &stuck);
	r->pol = r->prep_pol;
	r->t = r->prep_t;
	r->prep_pol = NULL;
	r->prep_t = NULL;
	r->prep_gen = 0;
	r->reloads++;
	if (e) {
		/* The new policy is in force, but the stuck worker may still
		 * read the old tables: keep them (leak) rather than free them
		 * under it. */
		snprintf(msg, cap, "worker %u passed no quiescent state in %u s (stuck?): the new "
			 "policy is in force, the old tables are kept (not freed)",
			 stuck, GRACE_TIMEOUT_MS / 1000);
		fprintf(stderr, "egw-dataplane: reload: %s\n", msg);
		return 0;
	}
	/* Events recorded under the old policy refer into it: format them
	 * all before it goes (no worker records with it any more). */
	drain_events(r);
	dp_tables_free(old_t);
	egw_policy_free(old_pol);
	return 0;
}

static int on_reload(void *arg, const struct egw_ipc_reload *m, char *msg, size_t cap)
{
	struct run *r = arg;

	switch (m->phase) {
	case EGW_IPC_RELOAD_PREPARE:
		return prepare(r, m->path, m->generation, msg, cap);
	case EGW_IPC_RELOAD_COMMIT:
		return commit(r, m->generation, msg, cap);
	case EGW_IPC_RELOAD_ABORT:
		if (m->generation != r->prep_gen) {
			snprintf(msg, cap, "generation %llu is not the prepared one",
				 (unsigned long long)m->generation);
			return -ESTALE;
		}
		unprepare(r);
		return 0;
	}
	return -EINVAL;
}

/* One tally for the process (one run at a time; all zero is empty). */
static struct dp_vtally g_vtally;

static void on_verdict(void *arg, const struct egw_ipc_flow_verdict *v)
{
	struct run *r = arg;
	struct egw_ipc_flow_verdict copy = *v;
	/* The worker that has the flow takes it; the others find nothing.
	 * The copies carry their tally slot in hdr.seq. */
	copy.hdr.seq = dp_vtally_open(&g_vtally, r->nw);
	for (unsigned i = 0; i < r->nw; i++)
		if (rte_ring_enqueue_elem(r->ws[i].verdicts, &copy, sizeof(copy))) {
			r->verdicts_lost++;
			dp_vtally_cancel(&g_vtally, copy.hdr.seq);
		}
}

static json_t *stats_json(struct run *r)
{
	struct dp_worker *wp[RTE_MAX_LCORE];
	for (unsigned i = 0; i < r->nw; i++)
		wp[i] = &r->ws[i].w;
	json_t *j = dp_stats_json(wp, r->nw);
	if (j) {
		uint64_t unconsumed = 0;
		for (unsigned i = 0; i < r->nw; i++)
			unconsumed += r->ws[i].w.ev.unconsumed;
		json_object_set_new(j, "events_undelivered",
				    json_integer((json_int_t)(r->lost + unconsumed)));
		json_object_set_new(j, "verdicts_lost", json_integer((json_int_t)r->verdicts_lost));
		json_object_set_new(j, "reloads", json_integer((json_int_t)r->reloads));
		json_object_set_new(j, "ipc_protocol_errors",
				    json_integer((json_int_t)dp_ipc_protocol_errors(r->ipc)));
		json_object_set_new(j, "control_plane", json_boolean(dp_ipc_has_subscriber(r->ipc)));
	}
	return j;
}

/* One flows snapshot at a time (socket and telemetry threads). */
static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;

/* Live flows of every worker, filtered (egwctl flows). */
static json_t *flows_json_locked(struct run *r, const json_t *req);

static json_t *flows_json(struct run *r, const json_t *req)
{
	pthread_mutex_lock(&snap_lock);
	json_t *j = flows_json_locked(r, req);
	pthread_mutex_unlock(&snap_lock);
	return j;
}

static json_t *flows_json_locked(struct run *r, const json_t *req)
{
	const char *unit = json_string_value(json_object_get(req, "unit"));
	const char *ips = json_string_value(json_object_get(req, "ip"));
	json_int_t limit = json_integer_value(json_object_get(req, "limit"));
	struct egw_prefix ip;
	const char *why = NULL;

	if (ips && *ips && (egw_prefix_parse(ips, &ip, &why) || !egw_prefix_is_host(&ip)))
		return json_pack("{ss}", "error", "ip: not an address");
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	for (unsigned i = 0; i < r->nw; i++) {
		struct wctx *c = &r->ws[i];
		c->snap_arr = arr;
		c->snap_unit = unit;
		c->snap_ip = ips && *ips ? &ip : NULL;
		c->snap_limit = limit > 0 ? (size_t)limit : 1000;
		atomic_store_explicit(&c->snap, 1, memory_order_release);
		unsigned waited = 0;
		while (atomic_load_explicit(&c->snap, memory_order_acquire) != 2 && ++waited < 2000)
			usleep(500);
		if (waited >= 2000) {
			/* The worker may still write into arr: leave it to it. */
			return json_pack("{ss}", "error", "a worker did not answer");
		}
		atomic_store(&c->snap, 0);
	}
	return json_pack("{so}", "flows", arr);
}

static json_t *on_stats(void *arg, const json_t *req)
{
	const char *what = req ? json_string_value(json_object_get(req, "what")) : NULL;
	if (what && !strcmp(what, "flows"))
		return flows_json(arg, req);
	if (what && strcmp(what, "stats"))
		return json_pack("{ss}", "error", "\"what\" is \"stats\" or \"flows\"");
	return stats_json(arg);
}

static json_t *tel_stats(void *arg)
{
	return stats_json(arg);
}

static json_t *tel_flows(void *arg)
{
	return flows_json(arg, NULL);
}

static void on_subscriber(void *arg, bool up)
{
	struct run *r = arg;
	for (unsigned i = 0; r->ws && i < r->nw; i++)
		__atomic_store_n(&r->ws[i].w.ctl_up, up, __ATOMIC_RELAXED);
	set_consumed(r, up);
	fprintf(stderr, "egw-dataplane: control plane %s\n", up ? "connected" : "gone");
}

/*
 * Packets net_pcap preloads into the pool for dev: with infinite_rx=1 it
 * copies every rx_pcap file whole at start. 0 for other devices, and for a
 * file that cannot be read (net_pcap then says why).
 */
static uint64_t pcap_preload(const char *dev)
{
	uint64_t n = 0;

	if (!dev || strncmp(dev, "net_pcap", 8) || !strstr(dev, "infinite_rx=1"))
		return 0;
	for (const char *p = strstr(dev, "rx_pcap="); p; p = strstr(p, "rx_pcap=")) {
		p += 8;
		size_t len = strcspn(p, ",");
		char path[4096], err[PCAP_ERRBUF_SIZE];
		if (len >= sizeof(path))
			continue;
		memcpy(path, p, len);
		path[len] = 0;
		pcap_t *pc = pcap_open_offline(path, err);
		if (!pc)
			continue;
		struct pcap_pkthdr *h;
		const u_char *data;
		while (pcap_next_ex(pc, &h, &data) == 1)
			n++;
		pcap_close(pc);
	}
	return n;
}

/* NUMA socket of the lcore worker i will run on (the i-th worker lcore). */
static int worker_socket(unsigned i)
{
	unsigned lc, k = 0;

	RTE_LCORE_FOREACH_WORKER(lc) {
		if (k++ == i)
			return (int)rte_lcore_to_socket_id(lc);
	}
	return SOCKET_ID_ANY;
}

int dp_port_main(struct egw_policy **polp, struct dp_tables **tp,
		 const struct dp_port_opts *o)
{
	const struct egw_gateway *g = &(*polp)->gateway;
	struct port ports[3] = {
		{ .role = "inside", .devargs = g->inside },
		{ .role = "outside", .devargs = g->outside },
		{ .role = "punt", .devargs = g->punt },
	};
	unsigned nw = g->workers ? g->workers : 1;
	struct run r = { .pol = *polp, .t = *tp, .nw = nw };
	struct rte_mempool *mp = NULL;
	int ret = -1, attached = 0;
	unsigned started = 0;

	if (rte_lcore_count() < nw + 1) {
		fprintf(stderr, "egw-dataplane: gateway.workers = %u needs %u lcores (EAL -l), "
			"have %u\n", nw, nw + 1, rte_lcore_count());
		return -1;
	}
	struct dp_ipc_ops ops = { .arg = &r, .verdict = on_verdict, .stats = on_stats,
				  .reload = on_reload, .subscriber = on_subscriber };
	r.ipc = dp_ipc_open(o->socket ? o->socket : EGW_IPC_PATH, &ops);
	if (!r.ipc)
		return -1;
	if (o->events && !(r.events = fopen(o->events, "a"))) {
		fprintf(stderr, "egw-dataplane: %s: %s\n", o->events, strerror(errno));
		goto out;
	}
	if (r.events && !(r.enc = egw_event_enc_new())) {
		fprintf(stderr, "egw-dataplane: no memory for the event encoder\n");
		goto out;
	}
	for (; attached < 3; attached++)
		if (attach(&ports[attached]))
			goto out;
	if (ports[0].id == ports[1].id || ports[0].id == ports[2].id || ports[1].id == ports[2].id) {
		fprintf(stderr, "egw-dataplane: gateway: inside, outside and punt must be three "
			"different ports\n");
		goto out;
	}
	uint64_t want = o->mbufs;
	if (!want) {
		want = 3ull * nw * (RX_DESC + TX_DESC) + 4096;
		const char *devs[3] = { g->inside, g->outside, g->punt };
		for (int i = 0; i < 3; i++)
			want += pcap_preload(devs[i]);
		if (want > DP_PORT_MAX_MBUFS) {
			fprintf(stderr, "egw-dataplane: the captures of the net_pcap ports need "
				"%llu packet buffers, more than %u: use smaller captures\n",
				(unsigned long long)want, DP_PORT_MAX_MBUFS);
			goto out;
		}
	}
	unsigned nmbuf = (unsigned)want;
	mp = rte_pktmbuf_pool_create("egw_mbufs", nmbuf, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     (int)rte_socket_id());
	if (!mp) {
		uint64_t mib = ((uint64_t)nmbuf * (sizeof(struct rte_mbuf) +
						   RTE_MBUF_DEFAULT_BUF_SIZE) >> 20) + 1;
		fprintf(stderr, "egw-dataplane: cannot allocate %u packet buffers (about %llu "
			"MiB): %s (too few hugepages? EGW_HUGEPAGES for firmware/setup.sh, "
			"EAL -m, or a smaller --mbufs)\n", nmbuf, (unsigned long long)mib,
			rte_strerror(rte_errno));
		goto out;
	}
	if (!o->mbufs)
		fprintf(stderr, "egw-dataplane: %u packet buffers\n", nmbuf);
	for (int i = 0; i < 3; i++)
		if (configure(&ports[i], (uint16_t)nw, mp))
			goto out;

	r.ws = rte_zmalloc("egw_workers", nw * sizeof(*r.ws), 64);
	if (!r.ws) {
		fprintf(stderr, "egw-dataplane: no memory for %u workers\n", nw);
		goto out;
	}
	int se = dp_swap_init(&r.swap, nw, r.t);
	if (se) {
		fprintf(stderr, "egw-dataplane: cannot set up RCU for %u workers: %s\n", nw,
			strerror(-se));
		goto out;
	}
	r.swap_ok = true;
	for (unsigned i = 0; i < nw; i++) {
		char rn[RTE_RING_NAMESIZE];
		snprintf(rn, sizeof(rn), "egw_vd_%u", i);
		r.ws[i].verdicts = rte_ring_create_elem(rn, sizeof(struct egw_ipc_flow_verdict), 1024,
							(int)rte_socket_id(),
							RING_F_SP_ENQ | RING_F_SC_DEQ);
		/* The flow table on hugepages of the worker's NUMA socket when
		 * EAL has hugepages (--no-huge runs keep it on the heap). */
		int fsock = rte_eal_has_hugepages() ? worker_socket(i) : DP_FLOW_HEAP;
		int wr = dp_worker_init_socket(&r.ws[i].w, i, g->flows, EVENT_RING, fsock);
		if (wr == -ENOMEM && fsock != DP_FLOW_HEAP) {
			fprintf(stderr, "egw-dataplane: worker %u: no hugepage memory for %u "
				"flows, flow table on the heap (slower)\n", i, g->flows);
			wr = dp_worker_init_socket(&r.ws[i].w, i, g->flows, EVENT_RING, DP_FLOW_HEAP);
		}
		if (!r.ws[i].verdicts || wr) {
			fprintf(stderr, "egw-dataplane: no memory for worker %u (%u flows)\n", i, g->flows);
			goto out;
		}
		r.ws[i].t = r.t;
		r.ws[i].vtally = &g_vtally;
		r.ws[i].swap = &r.swap;
		struct rte_ether_addr pm;
		if (rte_eth_macaddr_get(ports[2].id, &pm) == 0) {
			memcpy(r.ws[i].w.punt_mac, pm.addr_bytes, 6);
			r.ws[i].w.has_punt_mac = true;
		}
		r.ws[i].ports = ports;
		r.ws[i].queue = (uint16_t)i;
	}
	set_consumed(&r, false);
	unsigned lc;
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (started == nw)
			break;
		if (rte_eal_remote_launch(worker_main, &r.ws[started], lc)) {
			fprintf(stderr, "egw-dataplane: cannot start worker on lcore %u\n", lc);
			stop = 1;
			break;
		}
		started++;
	}
	struct dp_telemetry_src tel = { .arg = &r, .stats = tel_stats, .flows = tel_flows };
	if (started == nw && dp_telemetry_set(&tel))
		fprintf(stderr, "egw-dataplane: telemetry commands not registered (continuing)\n");
	if (started == nw) {
		fprintf(stderr, "egw-dataplane: forwarding %s <-> %s (punt %s), %u worker(s), "
			"fail_mode %s, socket %s\n", g->inside, g->outside, g->punt, nw,
			g->fail_mode == EGW_FAIL_OPEN ? "open" : "closed",
			o->socket ? o->socket : EGW_IPC_PATH);
		ret = 0;
		/* systemd Type=notify: the ports forward from here on */
		egw_notify("READY=1\nSTATUS=forwarding");
	}
	uint64_t last_flush = now_us();
	while (!stop) {
		dp_ipc_poll(r.ipc, 10);
		drain_events(&r);
		uint64_t now = now_us();
		if (now - last_flush >= 100000) {
			flush_ipc(&r);
			last_flush = now;
		}
		if (hup) {
			char msg[512] = "";
			hup = 0;
			egw_notify("RELOADING=1");
			int e = prepare(&r, r.pol->path, ++r.local_gen | (1ull << 63), msg, sizeof(msg));
			if (!e)
				e = commit(&r, r.prep_gen, msg, sizeof(msg));
			if (e)
				fprintf(stderr, "egw-dataplane: reload refused, old policy stays: %s\n", msg);
			else
				fprintf(stderr, "egw-dataplane: reloaded %s%s%s\n", r.pol->path,
					*msg ? ": " : "", msg);
			egw_notify("READY=1");   /* refused or not, it forwards */
		}
	}
	egw_notify("STOPPING=1");
	dp_telemetry_set(NULL);
	rte_eal_mp_wait_lcore();
	drain_events(&r);
	flush_ipc(&r);
	if (o->stats) {
		json_t *j = stats_json(&r);
		if (!j || json_dump_file(j, o->stats, JSON_INDENT(1) | JSON_SORT_KEYS)) {
			fprintf(stderr, "egw-dataplane: cannot write %s\n", o->stats);
			ret = -1;
		}
		json_decref(j);
	}
out:
	dp_ipc_close(r.ipc);
	unprepare(&r);
	if (r.swap_ok)
		dp_swap_fini(&r.swap);
	if (r.ws) {
		for (unsigned i = 0; i < nw; i++) {
			dp_worker_fini(&r.ws[i].w);
			rte_ring_free(r.ws[i].verdicts);
		}
		rte_free(r.ws);
	}
	for (int i = 0; i < attached; i++) {
		rte_eth_dev_stop(ports[i].id);
		rte_eth_dev_close(ports[i].id);
	}
	rte_mempool_free(mp);
	if (r.events)
		fclose(r.events);
	egw_event_enc_free(r.enc);
	*polp = r.pol;
	*tp = r.t;
	return ret;
}
