/* SPDX-License-Identifier: MIT */
/*
 * Behaviour-log events as Suricata EVE JSON: see egw/event.h.
 *
 * An event may carry bytes straight from packets (a DNS name, an SNI, a Host)
 * or arrive over a socket from another process, so nothing in it is trusted:
 * strings are read only up to their field's size (a missing NUL is fine),
 * and every byte that is not part of valid UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) is written as the four
 * characters "\xNN", so the output is always valid JSON and keeps the
 * evidence. Enumerations out of range become "unknown".
 */
#include <egw/event.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <egw/addr.h>
#include <egw/dns_msg.h>

#include "event_int.h"

static const char *const type_names[EGW_EV__COUNT] = {
	[EGW_EV_FLOW] = "flow",   [EGW_EV_DNS] = "dns",     [EGW_EV_TLS] = "tls",
	[EGW_EV_HTTP] = "http",   [EGW_EV_DROP] = "drop",   [EGW_EV_ALERT] = "alert",
	[EGW_EV_AUDIT] = "audit",
};

static const char *const action_names[EGW_EA__COUNT] = {
	[EGW_EA_ALLOWED] = "allowed", [EGW_EA_BLOCKED] = "blocked",
	[EGW_EA_REDIRECTED] = "redirected", [EGW_EA_PUNTED] = "punted",
};

const char *egw_event_type_name(enum egw_event_type t)
{
	return (unsigned)t < EGW_EV__COUNT ? type_names[t] : "unknown";
}

const char *egw_event_action_name(enum egw_event_action a)
{
	return (unsigned)a < EGW_EA__COUNT ? action_names[a] : "unknown";
}

/* Length of a valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;  /* overlong */
		else if (c == 0xed)
			hi = 0x9f;  /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;  /* overlong */
		else if (c == 0xf4)
			hi = 0x8f;  /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t egw_ev_str_text(const char *f, size_t cap, char *buf)
{
	const unsigned char *s = (const unsigned char *)f;
	size_t n = strnlen(f, cap);
	char *o = buf;
	if (n > 256)
		n = 256;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(s + i, n - i);
		if (k) {
			memcpy(o, s + i, k);
			o += k;
			i += k;
		} else {
			static const char hex[] = "0123456789abcdef";
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[s[i] >> 4];
			*o++ = hex[s[i] & 15];
			i++;
		}
	}
	return (size_t)(o - buf);
}

const char *egw_ev_str_view(const char *f, size_t cap, char *buf, size_t *len)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t lim = cap < 256 ? cap : 256, i = 0;
	uint64_t hi = 0;

	/* the length and whether any byte is >= 0x80 (not ASCII) in one pass,
	 * eight bytes at a time up to the word holding the NUL */
	for (; i + 8 <= lim; i += 8) {
		uint64_t w;
		memcpy(&w, f + i, 8);
		if ((w - ones) & ~w & highs)
			break;  /* a NUL in this word */
		hi |= w;
	}
	for (; i < lim && f[i]; i++)
		hi |= (unsigned char)f[i];
	if (hi & highs) {
		*len = egw_ev_str_text(f, cap, buf);
		return buf;
	}
	*len = i;
	return f;
}

/* A JSON string of field f[0..cap) (up to its first NUL), invalid bytes as
 * "\xNN". NULL on ENOMEM. */
static json_t *str_field(const char *f, size_t cap)
{
	char buf[EGW_EV_STR_MAX];
	/* valid UTF-8 by construction: no need for jansson to check it again */
	return json_stringn_nocheck(buf, egw_ev_str_text(f, cap, buf));
}

#define FIELD(x) (x), sizeof(x)

struct enc {
	bool err;
};

/* Keys are this file's own ASCII literals (or type names): no UTF-8 check. */
static void put(struct enc *e, json_t *obj, const char *key, json_t *v)
{
	if (!obj || json_object_set_new_nocheck(obj, key, v) != 0)
		e->err = true;
}

/* Only when the field is not empty. */
static void put_str(struct enc *e, json_t *obj, const char *key, const char *f, size_t cap)
{
	if (cap && f[0])
		put(e, obj, key, str_field(f, cap));
}

/* Counters: JSON integers are signed 64-bit here; saturate. */
static json_t *uint_json(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v);
}

/* Two decimal digits of v (< 100) at o. */
static char *two(char *o, unsigned v)
{
	o[0] = (char)('0' + v / 10);
	o[1] = (char)('0' + v % 10);
	return o + 2;
}

/* Year, month (1-12) and day (1-31) of day z since 1970-01-01 (z >= 0),
 * proleptic Gregorian as gmtime_r: the days-from-civil algorithm inverted
 * (400-year eras of 146,097 days, years starting on 1 March). */
static void civil_from_days(uint64_t z, uint64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;  /* days from 0000-03-01 to 1970-01-01 */
	uint64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);                         /* [0, 146096] */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	unsigned mp = (5 * doy + 2) / 153;                                    /* [0, 11] */

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = era * 400 + yoe + (*m <= 2);
}

/* Suricata's form: 2026-11-27T04:20:00.123456+0000 (UTC). Computed without
 * gmtime_r (it takes the time-zone lock: once per event, three for flows);
 * unit.rules.test_event_json checks it against gmtime_r. */
size_t egw_ev_ts_text(uint64_t us, char *buf)
{
	uint64_t sec = us / 1000000, year;
	unsigned frac = (unsigned)(us % 1000000), sod = (unsigned)(sec % 86400);
	unsigned mon, mday, hour = sod / 3600, min = sod / 60 % 60, s = sod % 60;

	civil_from_days(sec / 86400, &year, &mon, &mday);
	if (year > 9999) {
		/* at most 584,555 for 64-bit microseconds */
		int n = snprintf(buf, EGW_EV_TS_MAX, "%04llu-%02u-%02uT%02u:%02u:%02u.%06u+0000",
				 (unsigned long long)year, mon, mday, hour, min, s, frac);
		return n < 0 ? 0 : (size_t)n < EGW_EV_TS_MAX ? (size_t)n : EGW_EV_TS_MAX - 1;
	}
	char *o = buf;
	o = two(o, (unsigned)year / 100);
	o = two(o, (unsigned)year % 100);
	*o++ = '-';
	o = two(o, mon);
	*o++ = '-';
	o = two(o, mday);
	*o++ = 'T';
	o = two(o, hour);
	*o++ = ':';
	o = two(o, min);
	*o++ = ':';
	o = two(o, s);
	*o++ = '.';
	o = two(o, frac / 10000);
	o = two(o, frac / 100 % 100);
	o = two(o, frac % 100);
	memcpy(o, "+0000", 5);
	return (size_t)(o + 5 - buf);
}

static json_t *timestamp(uint64_t us)
{
	char buf[EGW_EV_TS_MAX];
	return json_stringn_nocheck(buf, egw_ev_ts_text(us, buf));
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 6: return "TCP";
	case 17: return "UDP";
	case 1: return "ICMP";
	case 58: return "IPv6-ICMP";
	default: return NULL;
	}
}

/* Dotted decimal, as inet_ntop writes it, at o (>= 16 bytes); returns the length. */
static size_t ipv4_format(const uint8_t a[4], char *o)
{
	char *p = o;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	return (size_t)(p - 1 - o);
}

size_t egw_ev_addr_text(int af, const uint8_t *addr, char *buf)
{
	if (af == AF_INET)
		return ipv4_format(addr, buf);
	if (inet_ntop(af, addr, buf, INET6_ADDRSTRLEN))
		return strlen(buf);
	return 0;
}

/* An address of family af (AF_INET or AF_INET6) as a JSON string, or NULL. */
static json_t *addr_json(int af, const uint8_t *addr)
{
	char a[INET6_ADDRSTRLEN];
	size_t n = egw_ev_addr_text(af, addr, a);

	return n ? json_stringn_nocheck(a, n) : NULL;
}

int egw_ev_family(const struct egw_event *ev)
{
	return ev->family == AF_INET ? AF_INET : ev->family == AF_INET6 ? AF_INET6 : 0;
}

const char *egw_ev_proto_text(uint8_t p, char num[8])
{
	const char *pn = proto_name(p);

	if (pn || !p)
		return pn;
	snprintf(num, 8, "%u", p);
	return num;
}

const char *egw_ev_rrtype_text(uint16_t t, char num[16])
{
	const char *tn = egw_dns_type_name(t);

	if (tn)
		return tn;
	snprintf(num, 16, "TYPE%u", t);
	return num;
}

const char *egw_ev_rcode_text(int16_t r, char num[16])
{
	const char *rn = egw_dns_rcode_name(r);

	if (rn)
		return rn;
	snprintf(num, 16, "RCODE%d", r);
	return num;
}

static void addresses(struct enc *e, json_t *o, const struct egw_event *ev)
{
	int af = egw_ev_family(ev);
	bool ports = ev->proto == 6 || ev->proto == 17;
	if (af)
		put(e, o, "src_ip", addr_json(af, ev->src_ip));
	if (ports)
		put(e, o, "src_port", json_integer(ev->src_port));
	if (af)
		put(e, o, "dest_ip", addr_json(af, ev->dest_ip));
	if (ports)
		put(e, o, "dest_port", json_integer(ev->dest_port));
	char num[8];
	const char *pn = egw_ev_proto_text(ev->proto, num);
	if (pn)
		put(e, o, "proto", json_string_nocheck(pn));
}

static json_t *egw_object(struct enc *e, const struct egw_event *ev)
{
	json_t *g = json_object();
	put_str(e, g, "unit", FIELD(ev->unit));
	put_str(e, g, "user", FIELD(ev->user));
	if (ev->has_mac) {
		char mac[18];
		put(e, g, "src_mac", json_string_nocheck(egw_mac_format(ev->src_mac, mac, sizeof(mac))));
	}
	put_str(e, g, "switch_port", FIELD(ev->switch_port));
	put_str(e, g, "location", FIELD(ev->location));
	put(e, g, "action", json_string_nocheck(egw_event_action_name(ev->action)));
	put_str(e, g, "reason", FIELD(ev->reason));
	put_str(e, g, "rule", FIELD(ev->rule));
	return g;
}

static json_t *type_object(struct enc *e, const struct egw_event *ev)
{
	json_t *t = json_object();
	switch (ev->type) {
	case EGW_EV_FLOW:
		put(e, t, "pkts_toserver", uint_json(ev->u.flow.pkts_toserver));
		put(e, t, "pkts_toclient", uint_json(ev->u.flow.pkts_toclient));
		put(e, t, "bytes_toserver", uint_json(ev->u.flow.bytes_toserver));
		put(e, t, "bytes_toclient", uint_json(ev->u.flow.bytes_toclient));
		if (ev->u.flow.start_us)
			put(e, t, "start", timestamp(ev->u.flow.start_us));
		if (ev->u.flow.end_us)
			put(e, t, "end", timestamp(ev->u.flow.end_us));
		put_str(e, t, "state", FIELD(ev->u.flow.state));
		put_str(e, t, "reason", FIELD(ev->u.flow.reason));
		break;
	case EGW_EV_DNS: {
		char num[16];
		put(e, t, "type", json_string_nocheck("query"));
		put(e, t, "id", json_integer(ev->u.dns.id));
		put(e, t, "rrname", str_field(FIELD(ev->u.dns.rrname)));
		put(e, t, "rrtype", json_string_nocheck(egw_ev_rrtype_text(ev->u.dns.rrtype, num)));
		if (ev->u.dns.rcode >= 0)
			put(e, t, "rcode", json_string_nocheck(egw_ev_rcode_text(ev->u.dns.rcode, num)));
		break;
	}
	case EGW_EV_TLS:
		put(e, t, "sni", str_field(FIELD(ev->u.tls.sni)));
		break;
	case EGW_EV_HTTP:
		put(e, t, "hostname", str_field(FIELD(ev->u.http.hostname)));
		break;
	case EGW_EV_ALERT:
		put(e, t, "action", json_string_nocheck(egw_event_action_name(ev->action)));
		put(e, t, "signature", str_field(FIELD(ev->u.alert.signature)));
		put_str(e, t, "category", FIELD(ev->reason));
		put_str(e, t, "detail", FIELD(ev->u.alert.detail));
		break;
	case EGW_EV_AUDIT:
		put(e, t, "who", str_field(FIELD(ev->u.audit.who)));
		put(e, t, "what", str_field(FIELD(ev->u.audit.what)));
		put(e, t, "result", str_field(FIELD(ev->u.audit.result)));
		break;
	default: /* drop, or a type we do not know: no object of its own */
		json_decref(t);
		return NULL;
	}
	return t;
}

json_t *egw_event_to_json(const struct egw_event *ev)
{
	struct enc e = { false };
	json_t *o = json_object();
	if (!o)
		return NULL;
	put(&e, o, "timestamp", timestamp(ev->ts_us));
	put(&e, o, "event_type", json_string_nocheck(egw_event_type_name(ev->type)));
	if (ev->flow_id)
		/* as Suricata: a non-negative int64 (the top bit dropped) */
		put(&e, o, "flow_id", json_integer((json_int_t)(ev->flow_id & INT64_MAX)));
	addresses(&e, o, ev);
	put(&e, o, "egw", egw_object(&e, ev));
	if (ev->type < EGW_EV__COUNT && ev->type != EGW_EV_DROP)
		put(&e, o, egw_event_type_name(ev->type), type_object(&e, ev));
	if (e.err) {
		json_decref(o);
		return NULL;
	}
	return o;
}
