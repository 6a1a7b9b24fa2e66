/* SPDX-License-Identifier: MIT */
/*
 * One worker's packet path, the same for ports and replay:
 *   parse -> (inside) flow lookup -> on a miss the policy verdict, a new
 *   flow and its start event -> counters -> a disposition (forward to the
 *   other port unchanged, drop, or punt to the control plane).
 *   (outside) only packets of a flow opened from the inside pass.
 * Non-IP frames (ARP, ...) pass both ways. ICMP errors take the verdict of
 * the flow whose packet they quote (dp_icmperr), else are dropped
 * (icmp-error-no-flow). Non-first fragments take the
 * verdict recorded for their first fragment, else the L3-only verdict.
 * DNS to a non-approved resolver under violation = "redirect" is rewritten
 * to dns.redirect_to (a flow keyed by the target remembers the resolver
 * asked) and its answers rewritten back, checksums fixed. A DNS query for
 * the Firefox canary (block_doh), a doh-category name (block_doh) or a name
 * in a category the unit's profile denies (a rule with a category and no
 * other match) is answered NXDOMAIN by the gateway (UDP; over TCP, a
 * segment holding one whole query, the answer closes the connection to the
 * client, w->extra holds the RST toward the server, and the rest of the
 * connection is dropped); a category rule with punt sends the query to the
 * control plane,
 * and so does a query showing tunnelling signs (dns.suspicious: a longer
 * name or label, or a higher entropy per character, than allowed; the
 * queries-per-second limit is the control plane's).
 * The first client payload of an allowed TCP flow is looked at for a TLS
 * ClientHello SNI or an HTTP Host: a name the same rules deny resets the
 * connection both ways (the frame becomes the RST to the client, w->extra
 * the RST to the server) and drops the flow from then on.
 *
 * Thread safety: a worker's state is its own; the tables are read-only and
 * passed per call (the caller holds them across an RCU read section).
 * DPDK-free.
 */
#ifndef DP_WORKER_H
#define DP_WORKER_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "dp_drop.h"
#include "dp_event.h"
#include "dp_flow.h"
#include "dp_tables.h"

enum dp_port_id { DP_PORT_INSIDE = 0, DP_PORT_OUTSIDE, DP_PORT_PUNT, DP_PORT__COUNT };

enum dp_disp {
	DP_DISP_DROP = 0,
	DP_DISP_FORWARD,   /* to the other port */
	DP_DISP_PUNT,      /* to the punt port */
	DP_DISP_REPLY,     /* the frame became the gateway's answer: back out
			      the port it came in on */
};

struct dp_stats {
	uint64_t rx_pkts[DP_PORT__COUNT], rx_bytes[DP_PORT__COUNT];
	uint64_t tx_pkts[DP_PORT__COUNT], tx_bytes[DP_PORT__COUNT];
	uint64_t drops[DP_DROP__COUNT];
	uint64_t verdicts[4];        /* new flows by enum dp_action */
	uint64_t non_ip, fragments, punts, fail_open, dns_answers, resets;
	uint64_t nd, mld;            /* IPv6 ND / MLD passed without a flow */
	uint64_t icmp_errors;        /* ICMP errors that took their flow's verdict */
	uint64_t verdicts_no_flow;   /* control-plane verdicts no worker had the
					flow for (dp_vtally) */
};

/*
 * DNS queries per second per terminal (dns.suspicious.max_queries_per_
 * second): a set-associative cache keyed by the inside address, counting
 * queries in the current second of packet time. When a set is full the
 * entry with the oldest second is reused, so a terminal can only be
 * under-counted when more than DP_QRATE_WAYS busy terminals share a set
 * (DP_QRATE_SETS * DP_QRATE_WAYS = 16,384 terminals asking in one second).
 */
#define DP_QRATE_SETS 4096
#define DP_QRATE_WAYS 4
struct dp_qrate {
	uint8_t addr[16];
	uint8_t family;              /* 0: unused */
	uint32_t count;
	uint64_t sec;
};

struct dp_worker {
	alignas(64) unsigned id;
	bool ctl_up;                 /* a control plane takes punts (atomic) */
	struct dp_flow_table ft;
	struct dp_event_buf ev;
	struct dp_stats st;
	uint64_t last_tick_us;
	/* The punt port's MAC: punted frames are addressed to it (the kernel
	 * drops frames for other hosts). */
	uint8_t punt_mac[6];
	bool has_punt_mac;
	/* A second frame the last packet produced (the RST to the server when
	 * a connection is reset), to go out the other port; 0: none. */
	uint32_t extra_len;
	uint8_t extra[128];
	struct dp_qrate *qrate;      /* DP_QRATE_SETS * DP_QRATE_WAYS */
	/* A reload's sweep (dp_worker_rebind_begin): the tables the flows of
	 * an older generation than ft.gen were decided under, NULL when no
	 * such flow is left; the next entry to look at. */
	const struct dp_tables *sweep_old;
	uint32_t sweep_hand;
};

/* 0 or -errno. The flow table on the heap (dp_flow_init). */
int dp_worker_init(struct dp_worker *w, unsigned id, uint32_t flows, uint32_t events);
/* The same with the flow table on hugepages of socket (dp_flow_init_socket). */
int dp_worker_init_socket(struct dp_worker *w, unsigned id, uint32_t flows, uint32_t events,
			  int socket);
void dp_worker_fini(struct dp_worker *w);

/* frame may be rewritten in place (DNS redirection, the gateway's NXDOMAIN
 * answers); *len is updated when its length changes. */
enum dp_disp dp_worker_packet(struct dp_worker *w, const struct dp_tables *t,
			      uint8_t *frame, uint32_t *len, bool from_outside,
			      uint64_t now_us);

/*
 * The same in two stages, for bursts (dp_burst): dp_worker_prepare parses
 * the frame, computes its flow key and hash and prefetches the flow index
 * slot; dp_worker_packet_prepared then does what dp_worker_packet does with
 * that (frame unchanged in between; it may change *pre), except counting
 * the frame in st.rx_pkts / st.rx_bytes: the caller does (per burst), as
 * dp_worker_packet does. Preparing a whole burst before processing it
 * overlaps the index cache misses.
 */
struct dp_pre {
	struct dp_pkt p;
	struct dp_flow_key k;
	uint32_t h;
	uint8_t parse;       /* enum dp_drop of dp_parse */
	bool common;         /* dp_parse_common's frame: TCP or UDP, not a
				fragment, k and h set */
	/* A common frame whose p is not filled yet: lw holds what a hit of
	 * a flow needs (the lean path, dp_worker.c); anything else fills p
	 * first (dp_worker_pre_fill). Set by dp_worker_prepare. */
	bool lean;
	uint32_t ent;        /* 0, or a hint: dp_flow_prefetch_entry(h) of
				w->ft (the caller may set it after prepare) */
	uint64_t lw;         /* lean: protocol | TCP flags << 8 | destination
				port << 16 | payload length << 32 */
};
/*
 * Fill pre->p of a lean pre (no-op otherwise), from the same frame. After
 * it dp_worker_packet_prepared takes the general path even for a plain hit
 * (the tests compare the two).
 */
void dp_worker_pre_fill(const uint8_t *frame, uint32_t len, struct dp_pre *pre);
void dp_worker_prepare(struct dp_worker *w, const uint8_t *frame, uint32_t len,
		       bool from_outside, struct dp_pre *pre);
/* dp_worker_prepare of frames[i] (lens[i] bytes) into pre[i] for i < n, in
 * one call (a NULL frames[i] is skipped: pre[i] is left as it was). */
void dp_worker_prepare_burst(struct dp_worker *w, uint8_t *const *frames,
			     const uint32_t *lens, unsigned n, bool from_outside,
			     struct dp_pre *pre);
enum dp_disp dp_worker_packet_prepared(struct dp_worker *w, const struct dp_tables *t,
				       uint8_t *frame, uint32_t *len, bool from_outside,
				       uint64_t now_us, struct dp_pre *pre);
/*
 * dp_worker_packet_prepared of frames[i] (lens[i] bytes; lens[i] updated)
 * into disp[i], for i = 0, 1, ... < n; a NULL frames[i] is skipped (disp[i]
 * left as it was). Stops after the first packet that leaves a second frame
 * in w->extra, for the caller to send before going on. Returns how many of
 * the n it went through. One call per burst: the per-packet path inline.
 */
unsigned dp_worker_packets_prepared(struct dp_worker *w, const struct dp_tables *t,
				    uint8_t *const *frames, uint32_t *lens, unsigned n,
				    bool from_outside, uint64_t now_us, struct dp_pre *pre,
				    uint8_t *disp);

/* Expire idle flows (bounded work; call every few ms). */
void dp_worker_tick(struct dp_worker *w, const struct dp_tables *t, uint64_t now_us);

/* End every flow now with reason ("shutdown", "reload"; a string with static
 * storage: the raw events keep the pointer), emitting events. */
void dp_worker_flush(struct dp_worker *w, const struct dp_tables *t, const char *reason);

/*
 * After a reload: re-decide every flow under the new tables t (old: the
 * tables its verdicts were made under). A flow whose action stays the same
 * keeps going with the new verdict (replies keep passing, nothing is
 * lost); a flow the new policy treats otherwise (an allowed flow now
 * denied, a dropped one now allowed, ...) ends with reason "reload" (its
 * end event from old) and is removed, so its next packet starts a new flow
 * under t. A control-plane verdict stays while t still punts the flow.
 * After this the worker holds no pointer into old or its policy.
 */
void dp_worker_rebind(struct dp_worker *w, const struct dp_tables *old,
		      const struct dp_tables *t);

/*
 * dp_worker_rebind in slices, so that a reload never stops the packets for
 * long (a whole table at 1M flows is ~0.2 s of re-decisions): after
 * dp_worker_rebind_begin(w, old, t) the worker processes packets under t at
 * once; a flow is re-decided (as dp_worker_rebind would) when a packet of
 * it is next seen, and dp_worker_rebind_step re-decides at most max more
 * entries each call (each loop), returning true once none is left (then,
 * and only then, the worker holds no pointer into old: it must not report
 * a quiescent state before, dp_swap.h). A begin during a sweep first
 * finishes that sweep.
 */
void dp_worker_rebind_begin(struct dp_worker *w, const struct dp_tables *old,
			    const struct dp_tables *t);
bool dp_worker_rebind_step(struct dp_worker *w, const struct dp_tables *t, uint32_t max);
/* Entries dp_port's loop sweeps per iteration: ~12 us on average at 1M
 * flows (bench_rebind), well within what a 1,024-descriptor ring holds at
 * 10 GbE line rate (69 us). */
#define DP_REBIND_STEP 64

/*
 * A control-plane verdict for a punted flow (src = the inside end). Returns
 * 0, or -ENOENT when this worker has no such flow (the caller counts, in
 * st.verdicts_no_flow, a verdict no worker had the flow for: dp_vtally; the
 * flow is not created again: its next packet is decided, and punted, anew).
 */
struct egw_ipc_flow_verdict;
int dp_worker_install(struct dp_worker *w, const struct egw_ipc_flow_verdict *v);

/*
 * Append this worker's live flows (not fragment entries) to arr as JSON
 * objects (flow_id, proto, src_ip, src_port, dest_ip, dest_port, verdict,
 * reason, rule, unit, user, pkts/bytes both ways, start_us, last_us), at
 * most limit in all; unit (or NULL) and ip (NULL, or a host prefix matching
 * either end) filter. Worker thread only (it reads the flow table).
 */
struct egw_prefix;
void dp_worker_flows_json(const struct dp_worker *w, const struct dp_tables *t,
			  const char *unit, const struct egw_prefix *ip, size_t limit,
			  json_t *arr);

/*
 * A frame back from the punt port (the control plane let it through and
 * the kernel routed it back out of the tap): restore the MACs and TTL /
 * hop limit of its flow (the kernel rewrote them) and say where it goes:
 * DP_PORT_OUTSIDE when it comes from the inside end, else DP_PORT_INSIDE;
 * -1 to drop it (not IP, malformed).
 */
int dp_worker_unpunt(struct dp_worker *w, const struct dp_tables *t, uint8_t *frame,
		     uint32_t len);

/* For replay: does this frame come from the outside? True when it belongs
 * to a flow as its reply, or its destination is inside a unit; for ND: a
 * router advertisement or redirect is, ND from a registered terminal's
 * address is not. */
bool dp_worker_from_outside(struct dp_worker *w, const struct dp_tables *t,
			    const uint8_t *frame, uint32_t len);

#endif
