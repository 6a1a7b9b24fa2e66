/* SPDX-License-Identifier: MIT */
/*
 * Inspection of punted packets and the verdict for each.
 *
 * Built from a loaded policy (cd_inspect_new): a domain set of every
 * category's domains (value = category index), the DoH canary, the
 * tunnelling limits. Per packet: parse the headers (cd_pkt), find the
 * terminal (unit by longest prefix, terminal by exact address), take the
 * name the packet shows (DNS query name, TLS SNI, HTTP Host) and evaluate
 * the unit's profile first-match, in order, as the fast path does, with the
 * name known: a rule's `category` holds when the name is in the category
 * or the destination in its addresses. `punt` counts as allow here (the
 * inspection is what punt asked for). DNS queries additionally:
 * block_doh (doh category, canary use-application-dns.net) and tunnelling
 * signs (dns.suspicious); a DNS query that is refused is answered
 * NXDOMAIN when the caller can inject (d->nxdomain) and dropped. Over TCP
 * (port 53, length-prefixed) too: d->nxdomain and d->reset are both set,
 * reset being what to do when the answer cannot be built (the query is
 * not one whole message in this segment); a refused query without an
 * answer (tunnelling signs) gets d->reset alone.
 *
 * DNS over TCP is read as a stream (egw/dns_stream.h), as the fast path
 * reads it: each flow remembers where the client's next message starts
 * (from its SYN, which the kernel-mode ruleset queues too, or from its first
 * payload segment), a segment must be a run of whole messages at a message
 * boundary, and every message in it is judged (one dns event each). One
 * message: as above. Several: a blocked or undecodable one drops the
 * segment and decides the flow (final, d->reset and d->reset_server); a
 * tunnelling-suspect one as above. A segment that is not whole messages at
 * a boundary (split, continuation, out of order, retransmitted with other
 * boundaries, cut by the queue's copy range), or a SYN once data went
 * through, is refused: a `drop` event with reason "dns-split" at the dns
 * section, final, both sides reset.
 *
 * A bounded flow cache (5-tuple) keeps each flow's decision: one event per
 * flow decision, not per packet, and a blocked flow stays blocked. DNS
 * queries are decided one by one, except that a query whose name shows
 * tunnelling signs (length, label length, entropy; not the rate alone)
 * blocks its whole flow: the socket that sent it is the tunnel. A packet
 * whose reversed 5-tuple is a known flow is that flow's reply and gets its
 * verdict (pending: accept).
 *
 * Thread safety: one thread owns a struct cd_inspect; the policy must
 * outlive it (swap both on reload).
 */
#ifndef CD_INSPECT_H
#define CD_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <egw/dns_stream.h>
#include <egw/event.h>
#include <egw/policy.h>

#include "cd_nfq.h"
#include "cd_pkt.h"

/* Events of one decision: a dns and an alert event for each query of a
 * TCP segment (at most EGW_DNS_STREAM_MAX_MSGS), or a drop event. */
#define CD_DECISION_EVENTS (2 * EGW_DNS_STREAM_MAX_MSGS + 1)

struct cd_decision {
	enum cd_verdict verdict;
	bool final;              /* the flow is decided (not a lone DNS query,
				    not a handshake waiting for its name) */
	bool reply;              /* a reply of a known flow (verdict follows it) */
	bool nxdomain;           /* answer the DNS query with NXDOMAIN */
	bool reset;              /* TCP: reset the connection (towards the client) */
	bool reset_server;       /* TCP: also reset it towards the server (a RST|ACK
				    from the client at this segment's seq) */
	bool flag_dst;           /* put the destination in flagged_v4/v6 */
	/* final and not a reply: the flow's reason and policy location (for
	 * the fast path's copy of the verdict), on its first decision and on
	 * every later packet the fast path still punts; valid until the next
	 * cd_inspect_packet. NULL otherwise. */
	const char *why;
	const struct egw_loc *why_loc;
	struct cd_pkt pkt;       /* the parsed headers */
	unsigned n_events;       /* events to log (e.g. dns + alert; one dns
				    event per query of a TCP segment) */
	/* last, and not cleared by cd_inspect_packet beyond n_events */
	struct egw_event ev[CD_DECISION_EVENTS];
};

/* Counters by decision reason, for egwctl stats. */
struct cd_inspect_stats {
	uint64_t packets, accepted, dropped;
	uint64_t unparsable;     /* accepted or dropped per fail mode, counted */
	uint64_t dns, tls, http;
	uint64_t dns_refused;     /* TCP/53 segments refused: dns-split, dns-malformed */
	uint64_t category_blocked, doh_blocked, tunnel_flagged, default_denied;
	uint64_t flows_cached, flow_evictions;
};

struct cd_inspect;

/* NULL with a one-line reason in err (ENOMEM, a domain the set refuses). */
struct cd_inspect *cd_inspect_new(const struct egw_policy *p, char *err, size_t errlen);
void cd_inspect_free(struct cd_inspect *in);

/* Decide on one packet (bytes from the IP header) at now_us. Always fills d. */
void cd_inspect_packet(struct cd_inspect *in, const uint8_t *data, size_t len,
		       uint64_t now_us, struct cd_decision *d);

void cd_inspect_get_stats(const struct cd_inspect *in, struct cd_inspect_stats *out);

/* true when addr is an approved resolver: in dns.resolvers, or located in
 * one of dns.resolver_regions (as the fast path decides). */
bool cd_inspect_is_resolver(const struct cd_inspect *in, int family, const uint8_t *addr);



/* Flows in the cache (not idle-expired at now_us), for egwctl flows. */
struct cd_flow_info {
	uint8_t family, proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	bool decided;
	enum cd_verdict verdict;
	uint64_t last_us;
	const struct egw_loc *loc;  /* NULL while undecided */
	const char *reason;
	const char *unit;           /* "" when the source is in no unit */
	const char *user;           /* "" when not a registered terminal */
};
typedef void (*cd_flow_fn)(void *arg, const struct cd_flow_info *f);
void cd_inspect_foreach_flow(const struct cd_inspect *in, uint64_t now_us,
			     cd_flow_fn fn, void *arg);
#endif
