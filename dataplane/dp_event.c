/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_event.h"

#define DP_EVENT_CAP_MAX (1u << 24)

int dp_event_buf_init(struct dp_event_buf *b, uint32_t cap)
{
	memset(b, 0, sizeof(*b));
	if (cap > DP_EVENT_CAP_MAX)
		return -EINVAL;
	uint32_t n = 1;
	while (n < cap)
		n <<= 1;
	b->v = calloc(n, sizeof(*b->v));
	if (!b->v)
		return -ENOMEM;
	b->mask = n - 1;
	b->on = true;
	return 0;
}

void dp_event_buf_fini(struct dp_event_buf *b)
{
	free(b->v);
	b->v = NULL;
}

const struct dp_raw_event *dp_event_peek(struct dp_event_buf *b)
{
	uint32_t t = __atomic_load_n(&b->tail, __ATOMIC_RELAXED);
	if (t == __atomic_load_n(&b->pub, __ATOMIC_ACQUIRE))
		return NULL;
	return &b->v[t & b->mask];
}

void dp_event_pop(struct dp_event_buf *b)
{
	uint32_t t = __atomic_load_n(&b->tail, __ATOMIC_RELAXED);
	__atomic_store_n(&b->tail, t + 1, __ATOMIC_RELEASE);
}

unsigned dp_event_drain(struct dp_event_buf *b, struct egw_event *out, unsigned max)
{
	unsigned n = 0;
	const struct dp_raw_event *e;

	while (n < max && (e = dp_event_peek(b))) {
		dp_event_format(e, &out[n++]);
		dp_event_pop(b);
	}
	return n;
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

void dp_event_record(struct dp_raw_event *e, enum egw_event_type type, const struct dp_flow *f,
		     const struct dp_verdict *v, const struct egw_policy *pol, uint64_t ts_us,
		     const char *end)
{
	const struct dp_flow_key *k = &f->key;

	e->pol = pol;
	e->v = *v;
	e->ts_us = ts_us;
	e->flow_id = f->id;
	e->type = (uint8_t)type;
	e->family = k->family;
	e->proto = k->proto;
	if (k->proto == 6 || k->proto == 17) {
		e->src_port = k->in_port;
		e->dest_port = k->out_port;
	} else {
		e->src_port = e->dest_port = 0;
	}
	memcpy(e->src_ip, k->in_ip, 16);
	/* A redirected query is logged with the resolver the client asked. */
	memcpy(e->dest_ip, f->nat ? f->nat_ip : k->out_ip, 16);
	memcpy(e->src_mac, f->src_mac, 6);
	e->name_len = 0;
	if (type == EGW_EV_FLOW) {
		e->pkts[0] = f->pkts[0];
		e->pkts[1] = f->pkts[1];
		e->bytes[0] = f->bytes[0];
		e->bytes[1] = f->bytes[1];
		e->start_us = f->start_us;
		e->end_us = f->last_us;
		e->tcp_state = f->tcp_state;
		e->end = end;
	}
}

void dp_event_set_name(struct dp_raw_event *e, const char *name, size_t len)
{
	if (len > DP_EVENT_NAME_MAX)
		len = DP_EVENT_NAME_MAX;
	memcpy(e->name, name, len);
	e->name_len = (uint16_t)len;
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* The name into a field of cap bytes (cap > DP_EVENT_NAME_MAX), stopping at
 * a NUL as the string copy it replaces did. */
static void copy_name(char *dst, const struct dp_raw_event *e)
{
	size_t n = strnlen(e->name, e->name_len);
	memcpy(dst, e->name, n);
	dst[n] = 0;
}

void dp_event_format(const struct dp_raw_event *e, struct egw_event *ev)
{
	const struct dp_verdict *v = &e->v;
	const struct egw_policy *pol = e->pol;

	memset(ev, 0, sizeof(*ev));
	ev->type = e->type;
	ev->action = (uint8_t)dp_event_action(v);
	ev->family = e->family;
	ev->proto = e->proto;
	ev->src_port = e->src_port;
	ev->dest_port = e->dest_port;
	memcpy(ev->src_ip, e->src_ip, 16);
	memcpy(ev->dest_ip, e->dest_ip, 16);
	memcpy(ev->src_mac, e->src_mac, 6);
	ev->has_mac = 1;
	ev->ts_us = e->ts_us;
	ev->flow_id = e->flow_id;
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
	switch (e->type) {
	case EGW_EV_FLOW:
		ev->u.flow.pkts_toserver = e->pkts[0];
		ev->u.flow.pkts_toclient = e->pkts[1];
		ev->u.flow.bytes_toserver = e->bytes[0];
		ev->u.flow.bytes_toclient = e->bytes[1];
		ev->u.flow.start_us = e->start_us;
		if (e->end) {
			const char *end = e->end;
			ev->u.flow.end_us = e->end_us;
			bool closed = (e->tcp_state & DP_TS_RST) ||
				      ((e->tcp_state & DP_TS_FIN_IN) && (e->tcp_state & DP_TS_FIN_OUT));
			copy(ev->u.flow.state, sizeof(ev->u.flow.state),
			     closed ? "closed" : e->pkts[1] ? "established" : "new");
			/* A closed TCP connection's entry ends on its short timeout. */
			if (closed && !strcmp(end, "timeout"))
				end = "tcp-close";
			copy(ev->u.flow.reason, sizeof(ev->u.flow.reason), end);
		} else {
			copy(ev->u.flow.state, sizeof(ev->u.flow.state), "new");
		}
		break;
	case EGW_EV_DNS:
		ev->u.dns.id = e->dns_id;
		ev->u.dns.rrtype = e->dns_rrtype;
		ev->u.dns.rcode = e->dns_rcode;
		copy_name(ev->u.dns.rrname, e);
		break;
	case EGW_EV_TLS:
		copy_name(ev->u.tls.sni, e);
		break;
	case EGW_EV_HTTP:
		copy_name(ev->u.http.hostname, e);
		break;
	default:
		break;
	}
}
