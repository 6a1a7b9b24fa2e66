/* SPDX-License-Identifier: MIT */
/*
 * Events of the fast path, in two halves:
 *
 *  - the worker records a compact raw event (struct dp_raw_event: flow key,
 *    verdict, counters, timestamps, the name of a DNS/TLS/HTTP event) into
 *    its own ring (struct dp_event_buf), a few dozen stores and no string
 *    formatting;
 *  - the consumer (the main lcore draining for the control-plane stream
 *    and the --events file, or the replay writer) turns each raw event into
 *    struct egw_event (dp_event_format), which is what the IPC stream
 *    carries and what egw_event_to_json encodes.
 *
 * Policy lifetime: a raw event refers into the policy in force when it was
 * made (the verdict's terminal and rule location, unit and category
 * indices, and pol itself). That policy must stay alive until the event is
 * formatted: whoever frees a policy after a reload first waits until no
 * worker can record with it any more (every worker acknowledged the new
 * tables) and then drains every ring (formats what is left) before freeing.
 * dp_port.c's commit() does exactly that. An end reason (dp_event_record's
 * end) is kept as a pointer too: it must be a string with static storage.
 *
 * A full ring never blocks the worker: the event is counted as lost. When
 * nobody consumes events (dp_event_set_consumed(b, false): no subscriber
 * and no --events file) the worker records nothing; such events are still
 * counted in made, and in unconsumed.
 *
 * Thread safety: one producer (the worker owning the ring) and one
 * consumer (the thread that drains it; the same thread in replay and the
 * unit tests) at a time, lock-free. made/lost/unconsumed are written by the
 * producer only and may be read (approximately) from any thread.
 * DPDK-free.
 */
#ifndef DP_EVENT_H
#define DP_EVENT_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <egw/event.h>
#include <egw/policy.h>

#include "dp_flow.h"

/* Longest name a raw event keeps (DNS rrname, TLS SNI, HTTP host): the size
 * of egw_event's name fields less the NUL. */
#define DP_EVENT_NAME_MAX 255

struct dp_raw_event {
	const struct egw_policy *pol;   /* the verdict's policy (see above) */
	struct dp_verdict v;            /* action, reason, unit, term, loc */
	uint64_t ts_us, flow_id;
	uint64_t start_us, end_us;      /* EGW_EV_FLOW */
	uint64_t pkts[2], bytes[2];     /* EGW_EV_FLOW */
	const char *end;                /* EGW_EV_FLOW: end reason, NULL: start */
	uint8_t type;                   /* enum egw_event_type */
	uint8_t family, proto;
	uint8_t tcp_state;              /* DP_TS_* of the flow */
	uint16_t src_port, dest_port;   /* 0 unless TCP/UDP */
	uint8_t src_ip[16], dest_ip[16];
	uint8_t src_mac[6];
	uint16_t dns_id, dns_rrtype;    /* EGW_EV_DNS */
	int16_t dns_rcode;
	uint16_t name_len;              /* bytes of name (no NUL kept) */
	char name[DP_EVENT_NAME_MAX];
};

struct dp_event_buf {
	struct dp_raw_event *v;
	uint32_t mask;                  /* capacity - 1 (a power of two) */
	bool on;                        /* events are consumed (atomic) */
	/* Producer's side. */
	uint32_t head;                  /* next slot to fill */
	uint32_t tail_seen;             /* the consumer's tail, last read */
	uint64_t made, lost, unconsumed;
	/* Shared, each on its own cache line. */
	alignas(64) uint32_t pub;       /* head as published (release) */
	alignas(64) uint32_t tail;      /* next slot to consume (release) */
};

/* A ring of at least cap raw events (rounded up to a power of two, at most
 * 2^24), consumed (on) from the start. 0 / -ENOMEM / -EINVAL. */
int dp_event_buf_init(struct dp_event_buf *b, uint32_t cap);
void dp_event_buf_fini(struct dp_event_buf *b);

/* Is anybody consuming the events? Set by the consumer's owner; read by the
 * producer. */
static inline void dp_event_set_consumed(struct dp_event_buf *b, bool on)
{
	__atomic_store_n(&b->on, on, __ATOMIC_RELAXED);
}

/*
 * Producer: a slot for the next event (not zeroed), or NULL: nobody
 * consumes events (counted in made and unconsumed) or the ring is full
 * (counted lost). Fill it, then dp_event_push.
 */
static inline struct dp_raw_event *dp_event_slot(struct dp_event_buf *b)
{
	if (!__atomic_load_n(&b->on, __ATOMIC_RELAXED)) {
		b->made++;
		b->unconsumed++;
		return NULL;
	}
	if (b->head - b->tail_seen > b->mask) {
		b->tail_seen = __atomic_load_n(&b->tail, __ATOMIC_ACQUIRE);
		if (b->head - b->tail_seen > b->mask) {
			b->lost++;
			return NULL;
		}
	}
	b->made++;
	return &b->v[b->head & b->mask];
}

/* Producer: publish the slot dp_event_slot gave. */
static inline void dp_event_push(struct dp_event_buf *b)
{
	b->head++;
	__atomic_store_n(&b->pub, b->head, __ATOMIC_RELEASE);
}

/*
 * Record into e (a slot) an event of type about flow f under verdict v
 * (f's own, or the one a DNS/TLS/HTTP name decided) of policy pol:
 * addresses and ports as the client sent them (src = the inside terminal;
 * a redirected query with the resolver the client asked), for EGW_EV_FLOW
 * the counters, start and TCP state, and end: NULL for a flow start, else
 * the end reason ("timeout", "evicted", "shutdown", "reload"; static
 * storage), the flow's last_us its end. The name, DNS fields: the caller's.
 */
void dp_event_record(struct dp_raw_event *e, enum egw_event_type type, const struct dp_flow *f,
		     const struct dp_verdict *v, const struct egw_policy *pol, uint64_t ts_us,
		     const char *end);

/* Set e's name (DNS rrname, TLS SNI, HTTP host): the first
 * DP_EVENT_NAME_MAX bytes of name[0..len). */
void dp_event_set_name(struct dp_raw_event *e, const char *name, size_t len);

/* Consumer: the oldest event not yet consumed, or NULL; it stays valid
 * (and its slot reserved) until dp_event_pop. */
const struct dp_raw_event *dp_event_peek(struct dp_event_buf *b);
void dp_event_pop(struct dp_event_buf *b);

/*
 * The struct egw_event of raw event e (ev zeroed first, every field as
 * interfaces.md says: unit, user, switch_port, location from the verdict's
 * unit and terminal, reason and rule from the verdict, flow state "new" for
 * a start, else "closed"/"established"/"new", and a closed TCP flow's
 * "timeout" written "tcp-close"). e's policy must be alive.
 */
void dp_event_format(const struct dp_raw_event *e, struct egw_event *ev);

/* Consumer: format and pop up to max events into out; returns how many. */
unsigned dp_event_drain(struct dp_event_buf *b, struct egw_event *out, unsigned max);

/* egw.action of a verdict. */
enum egw_event_action dp_event_action(const struct dp_verdict *v);

#endif
