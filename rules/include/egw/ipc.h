/* SPDX-License-Identifier: MIT */
/*
 * The fast path <-> control plane protocol (egw-dataplane <-> egw-controld,
 * and egwctl for stats), version 1.
 *
 * Transport: one unix SOCK_SEQPACKET socket, EGW_IPC_PATH, created by
 * egw-dataplane (the server; mode 0660; a live socket at the path is a bad
 * start, a stale one is replaced). Up to 8 connections. egw-controld
 * connects and listens; egwctl connects for STATS only. The events
 * subscriber is the oldest open connection whose first message was not a
 * STATS_REQUEST, or that has sent nothing for 200 ms: a client that only
 * wants stats sends its request at once (and ignores any EVENTS, should it
 * get some). While a
 * subscriber is connected the fast path punts (fail_mode applies otherwise).
 * SOCK_SEQPACKET keeps message boundaries, so one message = one
 * send()/recv(); a message is never split or joined.
 *
 * Every message starts with struct egw_ipc_hdr; all integers are in host
 * byte order (both ends run on one machine); all structs are fixed layout
 * with explicit padding (checked by the static asserts below). hdr.len is the
 * whole message length including the header and must equal the number of
 * bytes received. A receiver validates every message with egw_ipc_check()
 * before it touches the body: wrong magic, wrong version, a length that does
 * not match, an unknown type, or a body that is inconsistent (see each type)
 * is a protocol error: the receiver logs one line naming the peer and what
 * is wrong, counts it, and closes the connection. A sender never sends more
 * than EGW_IPC_MAX_MSG bytes.
 *
 * Message types, who sends them, and what the body is:
 *
 *  EGW_IPC_EVENTS        dataplane -> controld   struct egw_ipc_events
 *      A batch of behaviour-log events (1..EGW_IPC_EVENTS_MAX). Sent when a
 *      batch is full or at least every 100 ms while events are pending. When
 *      no controld is connected or its socket is full (send would block), the
 *      batch is dropped and its events are counted in the next batch's `lost`
 *      (and in the stats as events_lost). Never blocks a worker.
 *
 *  EGW_IPC_FLOW_VERDICT  controld -> dataplane   struct egw_ipc_flow_verdict
 *      The verdict of the control plane for a punted flow (after inspection
 *      of DNS, SNI, HTTP Host...). The fast path installs it into the flow
 *      table of the worker that owns the flow, so later packets of the flow
 *      stay in the fast path; a flow no longer in any table (timed out,
 *      evicted) is not created again: the verdict is counted in
 *      "control_verdicts_no_flow" and the flow's next packet is decided
 *      anew (a punted flow is punted again). The
 *      5-tuple is written as the client (inside terminal) sent it: src = the
 *      inside terminal. No reply.
 *
 *  EGW_IPC_STATS_REQUEST controld/egwctl -> dataplane   body: empty, or a
 *      JSON object (not NUL-terminated) with optional "what": "stats" (the
 *      default) or "flows", and for flows optional "unit", "ip", "limit"
 *      (default 1000).
 *  EGW_IPC_STATS_REPLY   dataplane -> requester  body: a JSON object (not
 *      NUL-terminated, UTF-8) with the same hdr.seq as the request. For
 *      "stats": { "ports": { inside|outside|punt: { rx_packets, rx_bytes,
 *      tx_packets, tx_bytes } }, "drops": { reason: count, ... },
 *      "verdicts": { allow, drop, punt, redirect }, "flows": { active,
 *      created, expired, evicted }, "non_ip", "ipv6_nd", "ipv6_mld",
 *      "icmp_errors", "control_verdicts_no_flow", "fragments", "punts",
 *      "fail_open", "dns_answers", "resets", "events", "events_lost",
 *      "events_undelivered", "verdicts_lost", "reloads",
 *      "ipc_protocol_errors", "control_plane", "workers": [ per worker ] }.
 *      For "flows": { "flows": [ { flow_id, proto (number), src_ip,
 *      src_port, dest_ip, dest_port, verdict ("allow"...), reason, rule,
 *      unit, user, pkts_toserver, pkts_toclient, bytes_toserver,
 *      bytes_toclient, start_us, last_us } ] }. A bad request gets
 *      { "error": "..." }. A reply that would exceed EGW_IPC_MAX_MSG is
 *      truncated to a valid JSON object with "truncated": true.
 *
 *  EGW_IPC_RELOAD        controld -> dataplane   struct egw_ipc_reload
 *  EGW_IPC_RELOAD_REPLY  dataplane -> controld   struct egw_ipc_reload_reply
 *      Two-phase reload across both daemons (egwctl reload talks to
 *      controld, which coordinates):
 *        1. PREPARE(generation, path): the fast path loads and compiles the
 *           policy at path into new tables, off the fast path, without
 *           publishing them. Reply ok (status 0) or the first error (status
 *           -errno, message "file:line: what").
 *        2. controld prepares its own side (nftables batch, ...). If both
 *           sides are ready it sends COMMIT(generation): the fast path swaps
 *           the tables (RCU), replies ok. Otherwise ABORT(generation): the
 *           prepared tables are freed, the old policy stays; reply ok.
 *      At most one prepared generation exists; a PREPARE while one is
 *      prepared replaces it. COMMIT/ABORT with a generation that is not the
 *      prepared one gets status -ESTALE and changes nothing. SIGHUP on the
 *      dataplane alone does prepare+commit locally.
 */
#ifndef EGW_IPC_H
#define EGW_IPC_H

#include <stddef.h>
#include <stdint.h>

#include <egw/event.h>

#define EGW_IPC_DIR "/run/egw"
#define EGW_IPC_PATH "/run/egw/dataplane.sock"

#define EGW_IPC_MAGIC 0x49574745u   /* "EGWI" in memory on little endian */
#define EGW_IPC_VERSION 1u
#define EGW_IPC_MAX_MSG 65536u      /* bytes, header included */

enum egw_ipc_type {
	EGW_IPC_EVENTS = 1,
	EGW_IPC_FLOW_VERDICT = 2,
	EGW_IPC_STATS_REQUEST = 3,
	EGW_IPC_STATS_REPLY = 4,
	EGW_IPC_RELOAD = 5,
	EGW_IPC_RELOAD_REPLY = 6,
};

struct egw_ipc_hdr {
	uint32_t magic;    /* EGW_IPC_MAGIC */
	uint16_t version;  /* EGW_IPC_VERSION; any other: protocol error */
	uint16_t type;     /* enum egw_ipc_type */
	uint32_t len;      /* whole message, header included, <= EGW_IPC_MAX_MSG */
	uint32_t seq;      /* sender's counter; a reply carries its request's seq */
};

/* EGW_IPC_EVENTS: hdr.len == sizeof(egw_ipc_events) + count * sizeof(egw_event) */
struct egw_ipc_events {
	struct egw_ipc_hdr hdr;
	uint32_t count;    /* 1..EGW_IPC_EVENTS_MAX */
	uint32_t lost;     /* events dropped since the previous batch was sent */
	struct egw_event ev[];
};

#define EGW_IPC_EVENTS_MAX \
	((EGW_IPC_MAX_MSG - sizeof(struct egw_ipc_events)) / sizeof(struct egw_event))

enum egw_ipc_verdict {
	EGW_IPC_V_ALLOW = 0,   /* forward the flow in both directions */
	EGW_IPC_V_DROP = 1,    /* drop every further packet of the flow */
	EGW_IPC_V_RESET = 2,   /* TCP: drop, and (when supported) reset both
				  ends; other protocols: as DROP */
};

/* EGW_IPC_FLOW_VERDICT: hdr.len == sizeof(struct egw_ipc_flow_verdict).
 * Valid when: family is AF_INET (addresses in [0..3], rest zero) or
 * AF_INET6; proto is 6, 17, 1 or 58; ports zero for ICMP (for ICMP echo,
 * src_port carries the identifier); verdict a known value; timeout_s
 * <= 86400; reason and rule NUL-terminated within their fields. */
struct egw_ipc_flow_verdict {
	struct egw_ipc_hdr hdr;
	uint8_t family;        /* AF_INET or AF_INET6 */
	uint8_t proto;         /* IP protocol number */
	uint8_t verdict;       /* enum egw_ipc_verdict */
	uint8_t pad0;
	uint16_t src_port, dst_port; /* host order; src = inside terminal */
	uint8_t src_ip[16], dst_ip[16]; /* network order */
	uint32_t timeout_s;    /* idle timeout to use; 0: the protocol default */
	uint64_t flow_id;      /* the fast path's flow_id from the event, or 0 */
	char reason[48];       /* as egw_event.reason: "category:commercial-mail" */
	char rule[96];         /* policy location "file:line" */
};

/* EGW_IPC_STATS_REQUEST / _REPLY: hdr followed by 0..(MAX-hdr) bytes of JSON. */

enum egw_ipc_reload_phase {
	EGW_IPC_RELOAD_PREPARE = 1,
	EGW_IPC_RELOAD_COMMIT = 2,
	EGW_IPC_RELOAD_ABORT = 3,
};

/* EGW_IPC_RELOAD: hdr.len == sizeof(struct egw_ipc_reload). path is an
 * absolute path, NUL-terminated within the field, for PREPARE; "" for
 * COMMIT and ABORT. generation != 0. */
struct egw_ipc_reload {
	struct egw_ipc_hdr hdr;
	uint32_t phase;        /* enum egw_ipc_reload_phase */
	uint32_t pad0;
	uint64_t generation;   /* chosen by controld, increasing */
	char path[4096];
};

/* EGW_IPC_RELOAD_REPLY: hdr.len == sizeof(struct egw_ipc_reload_reply);
 * message NUL-terminated within the field. */
struct egw_ipc_reload_reply {
	struct egw_ipc_hdr hdr;
	uint32_t phase;        /* the phase answered */
	int32_t status;        /* 0 ok, or -errno (-EINVAL bad policy, -ESTALE
				  unknown generation, -ENOMEM) */
	uint64_t generation;
	char message[512];     /* "" or "file:line: what" of the first error */
};

_Static_assert(sizeof(struct egw_ipc_hdr) == 16, "ipc header layout");
_Static_assert(sizeof(struct egw_ipc_events) == 24, "ipc events layout");
_Static_assert(sizeof(struct egw_ipc_flow_verdict) % 8 == 0, "ipc verdict layout");
_Static_assert(EGW_IPC_EVENTS_MAX >= 32, "event batches too small");

/* Fill a header for a message of type and total length len. */
void egw_ipc_hdr_init(struct egw_ipc_hdr *h, enum egw_ipc_type type,
		      uint32_t len, uint32_t seq);

/*
 * Validate a received message of n bytes (header and type-specific body, as
 * documented above). Returns 0, or -1 with *why set to a static English
 * reason ("bad magic", "length 40 does not match 7 events", ...).
 * Thread-safe, no allocation.
 */
int egw_ipc_check(const void *msg, size_t n, const char **why);

const char *egw_ipc_type_name(enum egw_ipc_type t); /* "EVENTS", ... or "?" */

#endif
