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

/* A piece that does not fit (not expected: ENC_ROOM holds any event). Out
 * of line, so that print_cb's usual path needs no stack frame. */
__attribute__((noinline, cold)) static void print_grow(struct egw_event_enc *e,
							const char *s, size_t n)
{
	if (grow(e, n) < 0)
		return;
	memcpy(e->buf + e->len, s, n);
	e->len += n;
}

/* yajl hands over the text in many small pieces (a separator, a quote, a
 * key, a value): about 180 calls an event, so this is kept short. Pieces of
 * up to 16 bytes are copied with two overlapping fixed-size moves. */
static void print_cb(void *ctx, const char *s, size_t n)
{
	struct egw_event_enc *e = ctx;
	size_t len = e->len;

	if (__builtin_expect(n > e->cap - len, 0)) {
		print_grow(e, s, n);
		return;
	}
	char *o = e->buf + len;
	e->len = len + n;
	if (n == 1) {
		*o = *s;
	} else if (n >= 8 && n <= 16) {
		memcpy(o, s, 8);
		memcpy(o + n - 8, s + n - 8, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(o, s, 4);
		memcpy(o + n - 4, s + n - 4, 4);
	} else {
		memcpy(o, s, n);
	}
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

/* Keys are this file's string literals, their length known at compile time
 * ("" k "" refuses anything but a literal). */
#define KEY(g, k) yajl_gen_string((g), (const unsigned char *)("" k ""), sizeof("" k "") - 1)

/* Enumeration names (event_json.c's ASCII literals). */
static void str(yajl_gen g, const char *v)
{
	yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

#define KSTR(g, k, v) (KEY(g, k), str(g, v))

/*
 * A number: the decimal text handed to yajl_gen_number, which yajl writes
 * as it is (with the separators and state checks of any value).
 * yajl_gen_integer would format it with sprintf("%lld"), the largest single
 * cost of the generator; this is the same text (the tests compare with
 * jansson's, which prints "%" JSON_INTEGER_FORMAT).
 */
static void num(yajl_gen g, int64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char buf[24], *o = buf + sizeof(buf);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	while (u >= 100) {
		unsigned r = (unsigned)(u % 100);
		u /= 100;
		o -= 2;
		memcpy(o, pairs + 2 * r, 2);
	}
	if (u >= 10) {
		o -= 2;
		memcpy(o, pairs + 2 * u, 2);
	} else {
		*--o = (char)('0' + u);
	}
	if (v < 0)
		*--o = '-';
	yajl_gen_number(g, o, (size_t)(buf + sizeof(buf) - o));
}

#define KINT(g, k, v) (KEY(g, k), num(g, v))

/* Counters saturate at INT64_MAX, as event_json.c's uint_json. */
#define KUINT(g, k, v) KINT(g, k, (v) > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(v))

/* A string field's text (event_json.c's str_field): the field itself when
 * it is ASCII, else its valid-UTF-8 copy. */
static void field(yajl_gen g, const char *f, size_t cap)
{
	char buf[EGW_EV_STR_MAX];
	size_t n;
	const char *t = egw_ev_str_view(f, cap, buf, &n);

	yajl_gen_string(g, (const unsigned char *)t, n);
}

/* A string field, always written. */
#define KFIELD(g, k, f) (KEY(g, k), field(g, (f), sizeof(f)))
/* Only when not empty (event_json.c's put_str). */
#define KFIELD_OPT(g, k, f) do { if ((f)[0]) KFIELD(g, k, f); } while (0)

static void ts(yajl_gen g, uint64_t us)
{
	char buf[EGW_EV_TS_MAX];

	yajl_gen_string(g, (const unsigned char *)buf, egw_ev_ts_text(us, buf));
}

#define KTS(g, k, us) (KEY(g, k), ts(g, us))

/* Both addresses' text is made before anything is written: event_json.c
 * fails on an address it cannot write, so this does too (-1). */
static int addresses(yajl_gen g, const struct egw_event *ev)
{
	int af = egw_ev_family(ev);
	bool ports = ev->proto == 6 || ev->proto == 17;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], nb[8];
	size_t sn = 0, dn = 0;
	const char *pn;

	if (af) {
		sn = egw_ev_addr_text(af, ev->src_ip, src);
		dn = egw_ev_addr_text(af, ev->dest_ip, dst);
		if (!sn || !dn)
			return -1;
		KEY(g, "src_ip");
		yajl_gen_string(g, (const unsigned char *)src, sn);
	}
	if (ports)
		KINT(g, "src_port", ev->src_port);
	if (af) {
		KEY(g, "dest_ip");
		yajl_gen_string(g, (const unsigned char *)dst, dn);
	}
	if (ports)
		KINT(g, "dest_port", ev->dest_port);
	pn = egw_ev_proto_text(ev->proto, nb);
	if (pn)
		KSTR(g, "proto", pn);
	return 0;
}

static void egw_object(yajl_gen g, const struct egw_event *ev)
{
	KEY(g, "egw");
	yajl_gen_map_open(g);
	KFIELD_OPT(g, "unit", ev->unit);
	KFIELD_OPT(g, "user", ev->user);
	if (ev->has_mac) {
		char mac[18];
		KSTR(g, "src_mac", egw_mac_format(ev->src_mac, mac, sizeof(mac)));
	}
	KFIELD_OPT(g, "switch_port", ev->switch_port);
	KFIELD_OPT(g, "location", ev->location);
	KSTR(g, "action", egw_event_action_name(ev->action));
	KFIELD_OPT(g, "reason", ev->reason);
	KFIELD_OPT(g, "rule", ev->rule);
	yajl_gen_map_close(g);
}

static void type_object(yajl_gen g, const struct egw_event *ev)
{
	char nb[16];

	if (ev->type >= EGW_EV__COUNT || ev->type == EGW_EV_DROP)
		return;
	str(g, egw_event_type_name(ev->type));  /* the key */
	yajl_gen_map_open(g);
	switch (ev->type) {
	case EGW_EV_FLOW:
		KUINT(g, "pkts_toserver", ev->u.flow.pkts_toserver);
		KUINT(g, "pkts_toclient", ev->u.flow.pkts_toclient);
		KUINT(g, "bytes_toserver", ev->u.flow.bytes_toserver);
		KUINT(g, "bytes_toclient", ev->u.flow.bytes_toclient);
		if (ev->u.flow.start_us)
			KTS(g, "start", ev->u.flow.start_us);
		if (ev->u.flow.end_us)
			KTS(g, "end", ev->u.flow.end_us);
		KFIELD_OPT(g, "state", ev->u.flow.state);
		KFIELD_OPT(g, "reason", ev->u.flow.reason);
		break;
	case EGW_EV_DNS:
		KSTR(g, "type", "query");
		KINT(g, "id", ev->u.dns.id);
		KFIELD(g, "rrname", ev->u.dns.rrname);
		KSTR(g, "rrtype", egw_ev_rrtype_text(ev->u.dns.rrtype, nb));
		if (ev->u.dns.rcode >= 0)
			KSTR(g, "rcode", egw_ev_rcode_text(ev->u.dns.rcode, nb));
		break;
	case EGW_EV_TLS:
		KFIELD(g, "sni", ev->u.tls.sni);
		break;
	case EGW_EV_HTTP:
		KFIELD(g, "hostname", ev->u.http.hostname);
		break;
	case EGW_EV_ALERT:
		KSTR(g, "action", egw_event_action_name(ev->action));
		KFIELD(g, "signature", ev->u.alert.signature);
		KFIELD_OPT(g, "category", ev->reason);
		KFIELD_OPT(g, "detail", ev->u.alert.detail);
		break;
	case EGW_EV_AUDIT:
		KFIELD(g, "who", ev->u.audit.who);
		KFIELD(g, "what", ev->u.audit.what);
		KFIELD(g, "result", ev->u.audit.result);
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
	KTS(g, "timestamp", ev->ts_us);
	KSTR(g, "event_type", egw_event_type_name(ev->type));
	if (ev->flow_id)
		KINT(g, "flow_id", (int64_t)(ev->flow_id & INT64_MAX));
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
