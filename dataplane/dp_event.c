/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_event.h"

int dp_event_buf_init(struct dp_event_buf *b, uint32_t cap)
{
	memset(b, 0, sizeof(*b));
	b->v = calloc(cap ? cap : 1, sizeof(*b->v));
	if (!b->v)
		return -ENOMEM;
	b->cap = cap ? cap : 1;
	return 0;
}

void dp_event_buf_fini(struct dp_event_buf *b)
{
	free(b->v);
	b->v = NULL;
}

struct egw_event *dp_event_next(struct dp_event_buf *b)
{
	if (b->n == b->cap) {
		b->lost++;
		return NULL;
	}
	struct egw_event *ev = &b->v[b->n++];
	memset(ev, 0, sizeof(*ev));
	b->made++;
	return ev;
}

enum egw_event_action dp_event_action(const struct dp_verdict *v)
{
	switch (v->action) {
	case DP_ACT_ALLOW: return EGW_EA_ALLOWED;
	case DP_ACT_PUNT: return EGW_EA_PUNTED;
	case DP_ACT_REDIRECT: return EGW_EA_REDIRECTED;
	default: return EGW_EA_BLOCKED;
	}
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

void dp_event_fill(struct egw_event *ev, enum egw_event_type type, const struct dp_flow *f,
		   const struct egw_policy *pol, uint64_t ts_us, const char *end_reason)
{
	const struct dp_flow_key *k = &f->key;
	const struct dp_verdict *v = &f->verdict;

	ev->type = (uint8_t)type;
	ev->action = (uint8_t)dp_event_action(v);
	ev->family = k->family;
	ev->proto = k->proto;
	if (k->proto == 6 || k->proto == 17) {
		ev->src_port = k->in_port;
		ev->dest_port = k->out_port;
	}
	memcpy(ev->src_ip, k->in_ip, 16);
	/* A redirected query is logged with the resolver the client asked. */
	memcpy(ev->dest_ip, f->nat ? f->nat_ip : k->out_ip, 16);
	memcpy(ev->src_mac, f->src_mac, 6);
	ev->has_mac = 1;
	ev->ts_us = ts_us;
	ev->flow_id = f->id;
	if (v->unit >= 0 && (size_t)v->unit < pol->n_units)
		copy(ev->unit, sizeof(ev->unit), pol->units[v->unit].name);
	if (v->term) {
		copy(ev->user, sizeof(ev->user), v->term->user);
		copy(ev->switch_port, sizeof(ev->switch_port), v->term->switch_port);
		copy(ev->location, sizeof(ev->location), v->term->location);
	}
	dp_reason_format(v, pol, ev->reason, sizeof(ev->reason));
	if (v->loc)
		egw_loc_format(v->loc, false, ev->rule, sizeof(ev->rule));
	if (type == EGW_EV_FLOW) {
		ev->u.flow.pkts_toserver = f->pkts[0];
		ev->u.flow.pkts_toclient = f->pkts[1];
		ev->u.flow.bytes_toserver = f->bytes[0];
		ev->u.flow.bytes_toclient = f->bytes[1];
		ev->u.flow.start_us = f->start_us;
		if (end_reason) {
			ev->u.flow.end_us = f->last_us;
			bool closed = (f->tcp_state & DP_TS_RST) ||
				      ((f->tcp_state & DP_TS_FIN_IN) && (f->tcp_state & DP_TS_FIN_OUT));
			copy(ev->u.flow.state, sizeof(ev->u.flow.state),
			     closed ? "closed" : f->pkts[1] ? "established" : "new");
			/* A closed TCP connection's entry ends on its short timeout. */
			if (closed && !strcmp(end_reason, "timeout"))
				end_reason = "tcp-close";
			copy(ev->u.flow.reason, sizeof(ev->u.flow.reason), end_reason);
		} else {
			copy(ev->u.flow.state, sizeof(ev->u.flow.state), "new");
		}
	}
}
