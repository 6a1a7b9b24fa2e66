/* SPDX-License-Identifier: MIT */
/* Validation of fast path <-> control plane messages (egw/ipc.h). */
#include <string.h>
#include <sys/socket.h>

#include <egw/ipc.h>

void egw_ipc_hdr_init(struct egw_ipc_hdr *h, enum egw_ipc_type type,
		      uint32_t len, uint32_t seq)
{
	h->magic = EGW_IPC_MAGIC;
	h->version = EGW_IPC_VERSION;
	h->type = (uint16_t)type;
	h->len = len;
	h->seq = seq;
}

static int nul_within(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -1;
}

static int check_verdict(const struct egw_ipc_flow_verdict *v, const char **why)
{
	if (v->family == AF_INET) {
		for (int i = 4; i < 16; i++)
			if (v->src_ip[i] || v->dst_ip[i])
				return fail(why, "IPv4 address with bytes past the fourth");
	} else if (v->family != AF_INET6) {
		return fail(why, "family is neither AF_INET nor AF_INET6");
	}
	switch (v->proto) {
	case 6:
	case 17:
		break;
	case 1:
	case 58:
		if (v->dst_port)
			return fail(why, "ICMP verdict with a destination port");
		break;
	default:
		return fail(why, "protocol is not TCP, UDP, ICMP or ICMPv6");
	}
	if (v->verdict > EGW_IPC_V_RESET)
		return fail(why, "unknown verdict");
	if (v->timeout_s > 86400)
		return fail(why, "timeout longer than one day");
	if (!nul_within(v->reason, sizeof(v->reason)) || !nul_within(v->rule, sizeof(v->rule)))
		return fail(why, "reason or rule not NUL-terminated");
	return 0;
}

int egw_ipc_check(const void *msg, size_t n, const char **why)
{
	const struct egw_ipc_hdr *h = msg;

	if (n < sizeof(*h))
		return fail(why, "shorter than the header");
	if (h->magic != EGW_IPC_MAGIC)
		return fail(why, "bad magic");
	if (h->version != EGW_IPC_VERSION)
		return fail(why, "unsupported protocol version");
	if (h->len != n)
		return fail(why, "header length does not match the message size");
	if (n > EGW_IPC_MAX_MSG)
		return fail(why, "longer than EGW_IPC_MAX_MSG");
	switch (h->type) {
	case EGW_IPC_EVENTS: {
		const struct egw_ipc_events *e = msg;
		if (n < sizeof(*e))
			return fail(why, "EVENTS shorter than its header");
		if (e->count == 0 || e->count > EGW_IPC_EVENTS_MAX)
			return fail(why, "EVENTS count out of range");
		if (n != sizeof(*e) + (size_t)e->count * sizeof(struct egw_event))
			return fail(why, "EVENTS length does not match its count");
		for (uint32_t i = 0; i < e->count; i++)
			if (e->ev[i].type >= EGW_EV__COUNT || e->ev[i].action >= EGW_EA__COUNT)
				return fail(why, "EVENTS: unknown event type or action");
		return 0;
	}
	case EGW_IPC_FLOW_VERDICT:
		if (n != sizeof(struct egw_ipc_flow_verdict))
			return fail(why, "FLOW_VERDICT has the wrong length");
		return check_verdict(msg, why);
	case EGW_IPC_STATS_REQUEST:
	case EGW_IPC_STATS_REPLY:
		return 0;
	case EGW_IPC_RELOAD: {
		const struct egw_ipc_reload *r = msg;
		if (n != sizeof(*r))
			return fail(why, "RELOAD has the wrong length");
		if (r->phase < EGW_IPC_RELOAD_PREPARE || r->phase > EGW_IPC_RELOAD_ABORT)
			return fail(why, "RELOAD: unknown phase");
		if (r->generation == 0)
			return fail(why, "RELOAD: generation 0");
		if (!nul_within(r->path, sizeof(r->path)))
			return fail(why, "RELOAD: path not NUL-terminated");
		if (r->phase == EGW_IPC_RELOAD_PREPARE && r->path[0] != '/')
			return fail(why, "RELOAD PREPARE: path is not absolute");
		return 0;
	}
	case EGW_IPC_RELOAD_REPLY: {
		const struct egw_ipc_reload_reply *r = msg;
		if (n != sizeof(*r))
			return fail(why, "RELOAD_REPLY has the wrong length");
		if (r->phase < EGW_IPC_RELOAD_PREPARE || r->phase > EGW_IPC_RELOAD_ABORT)
			return fail(why, "RELOAD_REPLY: unknown phase");
		if (!nul_within(r->message, sizeof(r->message)))
			return fail(why, "RELOAD_REPLY: message not NUL-terminated");
		return 0;
	}
	default:
		return fail(why, "unknown message type");
	}
}

const char *egw_ipc_type_name(enum egw_ipc_type t)
{
	switch (t) {
	case EGW_IPC_EVENTS: return "EVENTS";
	case EGW_IPC_FLOW_VERDICT: return "FLOW_VERDICT";
	case EGW_IPC_STATS_REQUEST: return "STATS_REQUEST";
	case EGW_IPC_STATS_REPLY: return "STATS_REPLY";
	case EGW_IPC_RELOAD: return "RELOAD";
	case EGW_IPC_RELOAD_REPLY: return "RELOAD_REPLY";
	}
	return "?";
}
