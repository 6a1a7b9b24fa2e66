/* SPDX-License-Identifier: MIT */
/*
 * The fast path <-> control plane socket protocol (egw/ipc.h): egw_ipc_check
 * on whatever a peer could send, as received and laid over a well-formed
 * header of each type (so that the bodies' checks are reached). A message
 * it accepts must hold everything ipc.h promises the receiver, which then
 * reads it without further checks: the length, the count of events, known
 * event types and actions, NUL-terminated strings within their fields, a
 * verdict's family, protocol, verdict and timeout, a reload's phase,
 * generation and absolute path. Accepted events must encode as JSON
 * (egw_event_to_json, as egw-controld logs them). A refusal must say why.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <egw/event.h>
#include <egw/ipc.h>

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void accepted(const void *msg, size_t n)
{
	const struct egw_ipc_hdr *h = msg;

	CHECK(n >= sizeof(*h) && n <= EGW_IPC_MAX_MSG && h->len == n);
	CHECK(h->magic == EGW_IPC_MAGIC && h->version == EGW_IPC_VERSION);
	switch (h->type) {
	case EGW_IPC_EVENTS: {
		const struct egw_ipc_events *e = msg;
		CHECK(e->count >= 1 && e->count <= EGW_IPC_EVENTS_MAX);
		CHECK(n == sizeof(*e) + (size_t)e->count * sizeof(struct egw_event));
		for (uint32_t i = 0; i < e->count; i++) {
			CHECK(e->ev[i].type < EGW_EV__COUNT && e->ev[i].action < EGW_EA__COUNT);
			json_t *o = egw_event_to_json(&e->ev[i]);
			CHECK(o != NULL);
			char *s = json_dumps(o, JSON_COMPACT);
			CHECK(s != NULL);
			free(s);
			json_decref(o);
		}
		break;
	}
	case EGW_IPC_FLOW_VERDICT: {
		const struct egw_ipc_flow_verdict *v = msg;
		CHECK(n == sizeof(*v));
		CHECK(v->family == AF_INET || v->family == AF_INET6);
		if (v->family == AF_INET)
			for (int i = 4; i < 16; i++)
				CHECK(!v->src_ip[i] && !v->dst_ip[i]);
		CHECK(v->proto == 6 || v->proto == 17 || v->proto == 1 || v->proto == 58);
		if (v->proto == 1 || v->proto == 58)
			CHECK(v->dst_port == 0);
		CHECK(v->verdict <= EGW_IPC_V_RESET && v->timeout_s <= 86400);
		CHECK(terminated(v->reason, sizeof(v->reason)) &&
		      terminated(v->rule, sizeof(v->rule)));
		break;
	}
	case EGW_IPC_STATS_REQUEST:
	case EGW_IPC_STATS_REPLY:
		break;   /* the body is JSON, parsed by the receiver with a length */
	case EGW_IPC_RELOAD: {
		const struct egw_ipc_reload *r = msg;
		CHECK(n == sizeof(*r));
		CHECK(r->phase >= EGW_IPC_RELOAD_PREPARE && r->phase <= EGW_IPC_RELOAD_ABORT);
		CHECK(r->generation != 0 && terminated(r->path, sizeof(r->path)));
		if (r->phase == EGW_IPC_RELOAD_PREPARE)
			CHECK(r->path[0] == '/');
		break;
	}
	case EGW_IPC_RELOAD_REPLY: {
		const struct egw_ipc_reload_reply *r = msg;
		CHECK(n == sizeof(*r));
		CHECK(r->phase >= EGW_IPC_RELOAD_PREPARE && r->phase <= EGW_IPC_RELOAD_ABORT);
		CHECK(terminated(r->message, sizeof(r->message)));
		break;
	}
	default:
		CHECK(0);   /* an unknown type must be refused */
	}
	CHECK(strcmp(egw_ipc_type_name((enum egw_ipc_type)h->type), "?") != 0);
}

static void check(const uint8_t *msg, size_t n)
{
	/* An exact-size copy, aligned as a receive buffer: over-reads show. */
	void *buf = aligned_alloc(16, (n + 15) / 16 * 16 + 16);
	const char *why = NULL;

	if (!buf)
		return;
	memcpy(buf, msg, n);
	if (egw_ipc_check(buf, n, &why) == 0)
		accepted(buf, n);
	else
		CHECK(why != NULL && why[0] != '\0');
	free(buf);
}

/* The size a message of type t has when well-formed (data picks the count
 * of events and the length of a JSON body). */
static size_t well_formed_size(unsigned t, const uint8_t *data, size_t size)
{
	switch (t) {
	case EGW_IPC_EVENTS:
		return sizeof(struct egw_ipc_events) +
		       (size_t)(1 + (size > 1 ? data[1] % 3 : 0)) * sizeof(struct egw_event);
	case EGW_IPC_FLOW_VERDICT:
		return sizeof(struct egw_ipc_flow_verdict);
	case EGW_IPC_RELOAD:
		return sizeof(struct egw_ipc_reload);
	case EGW_IPC_RELOAD_REPLY:
		return sizeof(struct egw_ipc_reload_reply);
	default:   /* stats, and unknown types */
		return sizeof(struct egw_ipc_hdr) + (size > 2 ? size - 2 : 0) % 512;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > EGW_IPC_MAX_MSG + 16)
		return 0;
	check(data, size);   /* as received */
	if (size < 1)
		return 0;
	/* The same bytes as the body of a well-formed header: data[0] picks
	 * the type (0 and 7 are unknown ones), the rest follows the header
	 * (after the count of an EVENTS message, which data[1] picks). */
	unsigned t = data[0] % 8;
	size_t n = well_formed_size(t, data, size);
	uint8_t *m = calloc(1, n);
	if (!m)
		return 0;
	size_t off = sizeof(struct egw_ipc_hdr), from = 2;
	if (t == EGW_IPC_EVENTS) {
		struct egw_ipc_events *e = (struct egw_ipc_events *)m;
		e->count = (uint32_t)((n - sizeof(*e)) / sizeof(struct egw_event));
		off = sizeof(*e);
	}
	if (size > from)
		memcpy(m + off, data + from, size - from < n - off ? size - from : n - off);
	struct egw_ipc_hdr *h = (struct egw_ipc_hdr *)m;
	egw_ipc_hdr_init(h, (enum egw_ipc_type)t, (uint32_t)n, 1);
	check(m, n);
	free(m);
	return 0;
}
