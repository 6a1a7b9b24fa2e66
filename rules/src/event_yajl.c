/* SPDX-License-Identifier: MIT */
/*
 * Behaviour-log events as EVE JSON text streamed with yajl's generator: see
 * egw/event.h. The members, their order and their text (event_int.h) are
 * those of event_json.c; only the serialisation differs: no json_t tree is
 * built, allocated and freed per event, yajl writes straight into a buffer
 * the encoder keeps from event to event.
 *
 * Escaping. With escape_solidus and validate_utf8 off (strings are valid
 * UTF-8 by construction, event_int.h) yajl 2.1 escapes exactly what jansson
 * does without JSON_ENSURE_ASCII / JSON_ESCAPE_SLASH: '"', '\\', the five
 * short forms (\b \f \n \r \t) and the other control characters as
 * \u00XX with upper-case hex digits, as jansson; '/', DEL and non-ASCII
 * are written as they are. tests/unit/rules/test_event_yajl.c and
 * fuzz_event_yajl check the two encoders byte for byte.
 */
#include <egw/event.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include <egw/addr.h>

#include "event_int.h"

struct egw_event_enc {
	yajl_gen g;
	char *buf;
	size_t len, cap;
	bool oom;
};

/* Room for any event's text (strings at most 256 bytes a field, 6 bytes of
 * output per input byte at worst): print_cb then never grows the buffer. */
#define ENC_ROOM 16384

static int grow(struct egw_event_enc *e, size_t n)
{
	size_t ncap = e->cap ? e->cap : ENC_ROOM;
	while (ncap < e->len + n)
		ncap *= 2;
	char *nb = realloc(e->buf, ncap);
	if (!nb) {
		e->oom = true;
		return -1;
	}
	e->buf = nb;
	e->cap = ncap;
	return 0;
}

/* yajl hands over the text in many small pieces (a quote, a key, a colon):
 * copy short ones by hand rather than through a memcpy call. */
static void print_cb(void *ctx, const char *s, size_t n)
{
	struct egw_event_enc *e = ctx;

	if (__builtin_expect(e->len + n > e->cap, 0) && grow(e, n) < 0)
		return;
	char *o = e->buf + e->len;
	if (n <= 8) {
		for (size_t i = 0; i < n; i++)
			o[i] = s[i];
	} else {
		memcpy(o, s, n);
	}
	e->len += n;
}

struct egw_event_enc *egw_event_enc_new(void)
{
	struct egw_event_enc *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->g = yajl_gen_alloc(NULL);
	if (!e->g || grow(e, ENC_ROOM) < 0 ||
	    !yajl_gen_config(e->g, yajl_gen_beautify, 0) ||
	    !yajl_gen_config(e->g, yajl_gen_validate_utf8, 0) ||
	    !yajl_gen_config(e->g, yajl_gen_escape_solidus, 0) ||
	    !yajl_gen_config(e->g, yajl_gen_print_callback, print_cb, e)) {
		egw_event_enc_free(e);
		errno = ENOMEM;
		return NULL;
	}
	return e;
}

void egw_event_enc_free(struct egw_event_enc *e)
{
	if (!e)
		return;
	if (e->g)
		yajl_gen_free(e->g);
	free(e->buf);
	free(e);
}

/* Keys and enumeration names: this file's or event_json.c's ASCII literals. */
static void key(yajl_gen g, const char *k)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

static void kstr(yajl_gen g, const char *k, const char *v)
{
	key(g, k);
	yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

static void kint(yajl_gen g, const char *k, long long v)
{
	key(g, k);
	yajl_gen_integer(g, v);
}

/* Counters saturate at INT64_MAX, as event_json.c's uint_json. */
static void kuint(yajl_gen g, const char *k, uint64_t v)
{
	kint(g, k, v > (uint64_t)INT64_MAX ? INT64_MAX : (long long)v);
}

/* A string field, always written (event_json.c's str_field). */
static void kfield(yajl_gen g, const char *k, const char *f, size_t cap)
{
	char buf[EGW_EV_STR_MAX];

	key(g, k);
	yajl_gen_string(g, (const unsigned char *)buf, egw_ev_str_text(f, cap, buf));
}

/* Only when not empty (event_json.c's put_str). */
static void kfield_opt(yajl_gen g, const char *k, const char *f, size_t cap)
{
	if (cap && f[0])
		kfield(g, k, f, cap);
}

static void kts(yajl_gen g, const char *k, uint64_t us)
{
	char buf[EGW_EV_TS_MAX];

	key(g, k);
	yajl_gen_string(g, (const unsigned char *)buf, egw_ev_ts_text(us, buf));
}

/* 0, or -1 when an address cannot be written (event_json.c fails too). */
static int kaddr(yajl_gen g, const char *k, int af, const uint8_t *a)
{
	char buf[INET6_ADDRSTRLEN];
	size_t n = egw_ev_addr_text(af, a, buf);

	if (!n)
		return -1;
	key(g, k);
	yajl_gen_string(g, (const unsigned char *)buf, n);
	return 0;
}

#define FIELD(x) (x), sizeof(x)

static int addresses(yajl_gen g, const struct egw_event *ev)
{
	int af = egw_ev_family(ev);
	bool ports = ev->proto == 6 || ev->proto == 17;
	char num[8];
	const char *pn;

	if (af && kaddr(g, "src_ip", af, ev->src_ip) < 0)
		return -1;
	if (ports)
		kint(g, "src_port", ev->src_port);
	if (af && kaddr(g, "dest_ip", af, ev->dest_ip) < 0)
		return -1;
	if (ports)
		kint(g, "dest_port", ev->dest_port);
	pn = egw_ev_proto_text(ev->proto, num);
	if (pn)
		kstr(g, "proto", pn);
	return 0;
}

static void egw_object(yajl_gen g, const struct egw_event *ev)
{
	key(g, "egw");
	yajl_gen_map_open(g);
	kfield_opt(g, "unit", FIELD(ev->unit));
	kfield_opt(g, "user", FIELD(ev->user));
	if (ev->has_mac) {
		char mac[18];
		kstr(g, "src_mac", egw_mac_format(ev->src_mac, mac, sizeof(mac)));
	}
	kfield_opt(g, "switch_port", FIELD(ev->switch_port));
	kfield_opt(g, "location", FIELD(ev->location));
	kstr(g, "action", egw_event_action_name(ev->action));
	kfield_opt(g, "reason", FIELD(ev->reason));
	kfield_opt(g, "rule", FIELD(ev->rule));
	yajl_gen_map_close(g);
}

static void type_object(yajl_gen g, const struct egw_event *ev)
{
	char num[16];

	if (ev->type >= EGW_EV__COUNT || ev->type == EGW_EV_DROP)
		return;
	key(g, egw_event_type_name(ev->type));
	yajl_gen_map_open(g);
	switch (ev->type) {
	case EGW_EV_FLOW:
		kuint(g, "pkts_toserver", ev->u.flow.pkts_toserver);
		kuint(g, "pkts_toclient", ev->u.flow.pkts_toclient);
		kuint(g, "bytes_toserver", ev->u.flow.bytes_toserver);
		kuint(g, "bytes_toclient", ev->u.flow.bytes_toclient);
		if (ev->u.flow.start_us)
			kts(g, "start", ev->u.flow.start_us);
		if (ev->u.flow.end_us)
			kts(g, "end", ev->u.flow.end_us);
		kfield_opt(g, "state", FIELD(ev->u.flow.state));
		kfield_opt(g, "reason", FIELD(ev->u.flow.reason));
		break;
	case EGW_EV_DNS:
		kstr(g, "type", "query");
		kint(g, "id", ev->u.dns.id);
		kfield(g, "rrname", FIELD(ev->u.dns.rrname));
		kstr(g, "rrtype", egw_ev_rrtype_text(ev->u.dns.rrtype, num));
		if (ev->u.dns.rcode >= 0)
			kstr(g, "rcode", egw_ev_rcode_text(ev->u.dns.rcode, num));
		break;
	case EGW_EV_TLS:
		kfield(g, "sni", FIELD(ev->u.tls.sni));
		break;
	case EGW_EV_HTTP:
		kfield(g, "hostname", FIELD(ev->u.http.hostname));
		break;
	case EGW_EV_ALERT:
		kstr(g, "action", egw_event_action_name(ev->action));
		kfield(g, "signature", FIELD(ev->u.alert.signature));
		kfield_opt(g, "category", FIELD(ev->reason));
		kfield_opt(g, "detail", FIELD(ev->u.alert.detail));
		break;
	case EGW_EV_AUDIT:
		kfield(g, "who", FIELD(ev->u.audit.who));
		kfield(g, "what", FIELD(ev->u.audit.what));
		kfield(g, "result", FIELD(ev->u.audit.result));
		break;
	default:
		break;
	}
	yajl_gen_map_close(g);
}

int egw_event_encode(struct egw_event_enc *e, const struct egw_event *ev,
		     const char **text, size_t *len)
{
	yajl_gen g = e->g;

	yajl_gen_reset(g, NULL);
	e->len = 0;
	e->oom = false;  /* a failed grow: the text is cut, the call fails */
	yajl_gen_map_open(g);
	kts(g, "timestamp", ev->ts_us);
	kstr(g, "event_type", egw_event_type_name(ev->type));
	if (ev->flow_id)
		kint(g, "flow_id", (long long)(ev->flow_id & INT64_MAX));
	if (addresses(g, ev) < 0)
		return -ENOMEM;
	egw_object(g, ev);
	type_object(g, ev);
	/* the generator's state cannot go wrong here (maps balanced, depth 2);
	 * the last call's status covers it all the same */
	if (yajl_gen_map_close(g) != yajl_gen_status_ok || e->oom)
		return -ENOMEM;
	*text = e->buf;
	*len = e->len;
	return 0;
}
