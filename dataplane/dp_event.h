/* SPDX-License-Identifier: MIT */
/*
 * Events of the fast path: filling struct egw_event from a flow and its
 * verdict, and the per-worker event buffer that the replay writer or the
 * control-plane stream drains. A full buffer never blocks the worker: the
 * event is counted as lost.
 *
 * Thread safety: a buffer belongs to one worker; drained by that worker (or
 * under the worker's quiescence).
 */
#ifndef DP_EVENT_H
#define DP_EVENT_H

#include <stdint.h>

#include <egw/event.h>
#include <egw/policy.h>

#include "dp_flow.h"

struct dp_event_buf {
	struct egw_event *v;
	uint32_t n, cap;
	uint64_t made, lost;
};

int dp_event_buf_init(struct dp_event_buf *b, uint32_t cap); /* 0 / -ENOMEM */
void dp_event_buf_fini(struct dp_event_buf *b);

/* A slot for the next event (zeroed), or NULL (counted lost) when full. */
struct egw_event *dp_event_next(struct dp_event_buf *b);

/*
 * Fill ev (already zeroed) for flow f: addresses and ports as the client
 * sent them (src = the inside terminal), identity fields from the verdict's
 * unit and terminal, action, reason and rule from the verdict. For
 * EGW_EV_FLOW, the counters and state; end_reason NULL for a flow start.
 */
void dp_event_fill(struct egw_event *ev, enum egw_event_type type, const struct dp_flow *f,
		   const struct egw_policy *pol, uint64_t ts_us, const char *end_reason);

/* egw.action of a verdict. */
enum egw_event_action dp_event_action(const struct dp_verdict *v);

#endif
