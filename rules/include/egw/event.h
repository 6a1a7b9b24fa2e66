/* SPDX-License-Identifier: MIT */
/*
 * Behaviour-log events: one struct for every event the fast path or the
 * control plane emits (interfaces.md, "Events"). Fixed size and free of
 * pointers, so that the fast path can fill one in place and stream batches
 * of them over a unix socket to egw-controld, which encodes them as EVE JSON
 * lines (egw_event_to_json) and writes the log.
 *
 * Strings are NUL-terminated and truncated to their field; names are copied
 * in (not indexes into a policy) because the policy may be reloaded between
 * the moment an event is made and the moment it is written.
 */
#ifndef EGW_EVENT_H
#define EGW_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum egw_event_type {
	EGW_EV_FLOW = 0,
	EGW_EV_DNS,
	EGW_EV_TLS,
	EGW_EV_HTTP,
	EGW_EV_DROP,
	EGW_EV_ALERT,
	EGW_EV_AUDIT,
	EGW_EV__COUNT
};

/* egw.action */
enum egw_event_action {
	EGW_EA_ALLOWED = 0,
	EGW_EA_BLOCKED,
	EGW_EA_REDIRECTED,
	EGW_EA_PUNTED,
	EGW_EA__COUNT
};

struct egw_event {
	uint8_t type;          /* enum egw_event_type */
	uint8_t action;        /* enum egw_event_action */
	uint8_t family;        /* AF_INET, AF_INET6, or 0 (no addresses: audit) */
	uint8_t proto;         /* IP protocol number (6, 17, 1, 58), 0 unknown */
	uint16_t src_port, dest_port; /* host order */
	uint8_t src_ip[16], dest_ip[16];
	uint8_t src_mac[6];
	uint8_t has_mac;
	uint8_t pad0;
	uint64_t ts_us;        /* Unix time, microseconds (UTC) */
	uint64_t flow_id;      /* 0 when none */
	char unit[48];         /* "" when the source is in no unit */
	char user[48];
	char switch_port[32];
	char location[64];
	char reason[48];       /* "unregistered", "category:commercial-mail", ... */
	char rule[96];         /* policy location "file:line" */
	union {
		struct {
			uint64_t pkts_toserver, pkts_toclient;
			uint64_t bytes_toserver, bytes_toclient;
			uint64_t start_us, end_us;
			char state[16];   /* "new", "established", "closed" */
			char reason[16];  /* "timeout", "tcp-close", "evicted",
					     "shutdown", "reload" */
		} flow;
		struct {
			uint16_t id, rrtype;
			int16_t rcode;     /* -1: none (a query we passed on) */
			char rrname[256];
		} dns;
		struct {
			char sni[256];
		} tls;
		struct {
			char hostname[256];
		} http;
		struct {
			char signature[128]; /* what was flagged, human readable */
			char detail[128];
		} alert;
		struct {
			char who[64];      /* "uid 0 (root)" */
			char what[128];    /* "reload /etc/egw/egw.cfg" */
			char result[64];   /* "ok", "refused: ..." */
		} audit;
	} u;
};

/*
 * Encode as an EVE JSON object (new reference; NULL on ENOMEM), keys in this
 * order: timestamp (Suricata's form, "2026-11-27T04:20:00.123456+0000"),
 * event_type, flow_id (omitted when 0; written as a non-negative int64, the
 * top bit dropped), src_ip, src_port, dest_ip, dest_port (addresses omitted
 * when family is not AF_INET/AF_INET6, ports only for TCP and UDP), proto
 * ("TCP", "UDP", "ICMP", "IPv6-ICMP", else the number as a string; omitted
 * when 0), the egw object { unit, user, src_mac, switch_port, location,
 * action, reason, rule } (empty strings omitted, src_mac only with has_mac),
 * and the type's own object: flow { pkts_toserver, pkts_toclient,
 * bytes_toserver, bytes_toclient, start, end, state, reason }, dns { type:
 * "query", id, rrname, rrtype ("A", or "TYPE65280"), rcode ("NXDOMAIN",
 * only when rcode >= 0) }, tls { sni }, http { hostname }, alert { action,
 * signature, category (= egw.reason), detail }, audit { who, what, result };
 * drop has none. Strings are read up to their field's size (no NUL needed)
 * and bytes that are not valid UTF-8 are written as the text "\xNN", so the
 * output is valid JSON whatever the struct holds. Thread-safe.
 */
json_t *egw_event_to_json(const struct egw_event *ev);
/*
 * The same EVE text streamed with yajl's generator (no object tree), for the
 * log writer's hot path: egw_event_encode writes exactly the bytes that
 * json_dumpb(egw_event_to_json(ev), JSON_COMPACT) writes, for every event
 * (same members and order, same numbers, same escaping: '"', '\\', \b \f
 * \n \r \t, other control characters as \u00XX in upper case, '/' and
 * non-ASCII as they are). An encoder is reused from event to event; *text
 * (not NUL-terminated) stays valid until the next call or the free.
 * Errors: egw_event_enc_new returns NULL (ENOMEM); egw_event_encode returns
 * 0 or -ENOMEM. Thread safety: one encoder per thread.
 */
struct egw_event_enc;
struct egw_event_enc *egw_event_enc_new(void);
void egw_event_enc_free(struct egw_event_enc *enc);
int egw_event_encode(struct egw_event_enc *enc, const struct egw_event *ev,
		     const char **text, size_t *len);

/* "flow", ... / "allowed", ...; "unknown" when out of range (never NULL). */
const char *egw_event_type_name(enum egw_event_type t);
const char *egw_event_action_name(enum egw_event_action a);

#endif
