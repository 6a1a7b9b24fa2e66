/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <egw/addr.h>
#include <egw/event.h>

/* 2026-11-27T04:20:00Z */
#define T0 1795753200ULL

/* Encode, write as text, parse the text back: what a log reader sees. */
static json_t *roundtrip(const struct egw_event *ev, char **text)
{
	json_t *o = egw_event_to_json(ev);
	ck_assert_ptr_nonnull(o);
	char *s = json_dumps(o, JSON_COMPACT);
	ck_assert_ptr_nonnull(s);
	json_decref(o);
	json_error_t err;
	json_t *back = json_loads(s, 0, &err);
	ck_assert_msg(back != NULL, "not JSON: %s: %s", err.text, s);
	if (text)
		*text = s;
	else
		free(s);
	return back;
}

static const char *str(json_t *o, const char *path)
{
	/* "a.b": one level of nesting is enough here */
	char key[64];
	const char *dot = strchr(path, '.');
	if (dot) {
		memcpy(key, path, (size_t)(dot - path));
		key[dot - path] = '\0';
		o = json_object_get(o, key);
		path = dot + 1;
	}
	json_t *v = json_object_get(o, path);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long num(json_t *o, const char *k1, const char *k2)
{
	if (k2)
		o = json_object_get(o, k1);
	json_t *v = json_object_get(o, k2 ? k2 : k1);
	ck_assert_msg(json_is_integer(v), "%s.%s is not an integer", k1, k2 ? k2 : "");
	return json_integer_value(v);
}

START_TEST(dns_event)
{
	struct egw_event ev = { 0 };
	ev.type = EGW_EV_DNS;
	ev.action = EGW_EA_BLOCKED;
	ev.family = AF_INET;
	ev.proto = 17;
	ev.src_port = 40000;
	ev.dest_port = 53;
	inet_pton(AF_INET, "10.1.0.10", ev.src_ip);
	inet_pton(AF_INET, "198.51.100.53", ev.dest_ip);
	ev.src_mac[0] = 0x02; ev.src_mac[3] = 0x0a; ev.src_mac[5] = 0x0a;
	ev.has_mac = 1;
	ev.ts_us = T0 * 1000000 + 123456;
	ev.flow_id = 1234567890123ULL;
	strcpy(ev.unit, "finance");
	strcpy(ev.user, "zhang.wei");
	strcpy(ev.switch_port, "sw1/0/12");
	strcpy(ev.location, "City Hall 3F");
	strcpy(ev.reason, "category:commercial-mail");
	strcpy(ev.rule, "/etc/egw/egw.cfg:42");
	ev.u.dns.id = 0x4ce6;
	ev.u.dns.rrtype = 1;
	ev.u.dns.rcode = 3;
	strcpy(ev.u.dns.rrname, "mail.qq.com");
	char *text;
	json_t *o = roundtrip(&ev, &text);
	/* Suricata's field order starts with the timestamp */
	const char *head = "{\"timestamp\":\"2026-11-27T04:20:00.123456+0000\","
			   "\"event_type\":\"dns\",\"flow_id\":1234567890123,\"src_ip\":";
	ck_assert_msg(strncmp(text, head, strlen(head)) == 0, "%s", text);
	free(text);
	ck_assert_str_eq(str(o, "timestamp"), "2026-11-27T04:20:00.123456+0000");
	ck_assert_str_eq(str(o, "event_type"), "dns");
	ck_assert_int_eq(num(o, "flow_id", NULL), 1234567890123LL);
	ck_assert_str_eq(str(o, "src_ip"), "10.1.0.10");
	ck_assert_str_eq(str(o, "dest_ip"), "198.51.100.53");
	ck_assert_int_eq(num(o, "src_port", NULL), 40000);
	ck_assert_int_eq(num(o, "dest_port", NULL), 53);
	ck_assert_str_eq(str(o, "proto"), "UDP");
	ck_assert_str_eq(str(o, "egw.unit"), "finance");
	ck_assert_str_eq(str(o, "egw.user"), "zhang.wei");
	ck_assert_str_eq(str(o, "egw.src_mac"), "02:00:00:0a:00:0a");
	ck_assert_str_eq(str(o, "egw.switch_port"), "sw1/0/12");
	ck_assert_str_eq(str(o, "egw.location"), "City Hall 3F");
	ck_assert_str_eq(str(o, "egw.action"), "blocked");
	ck_assert_str_eq(str(o, "egw.reason"), "category:commercial-mail");
	ck_assert_str_eq(str(o, "egw.rule"), "/etc/egw/egw.cfg:42");
	ck_assert_str_eq(str(o, "dns.type"), "query");
	ck_assert_int_eq(num(o, "dns", "id"), 0x4ce6);
	ck_assert_str_eq(str(o, "dns.rrname"), "mail.qq.com");
	ck_assert_str_eq(str(o, "dns.rrtype"), "A");
	ck_assert_str_eq(str(o, "dns.rcode"), "NXDOMAIN");
	ck_assert_uint_eq(json_object_size(o), 10);
	json_decref(o);

	/* a query passed on: no rcode; a type with no name */
	ev.u.dns.rcode = -1;
	ev.u.dns.rrtype = 65280;
	o = roundtrip(&ev, NULL);
	ck_assert_ptr_null(json_object_get(json_object_get(o, "dns"), "rcode"));
	ck_assert_str_eq(str(o, "dns.rrtype"), "TYPE65280");
	json_decref(o);
	ev.u.dns.rcode = 2;
	o = roundtrip(&ev, NULL);
	ck_assert_str_eq(str(o, "dns.rcode"), "SERVFAIL");
	json_decref(o);
}
END_TEST

START_TEST(flow_event_ipv6)
{
	struct egw_event ev = { 0 };
	ev.type = EGW_EV_FLOW;
	ev.action = EGW_EA_ALLOWED;
	ev.family = AF_INET6;
	ev.proto = 6;
	ev.src_port = 51000;
	ev.dest_port = 443;
	inet_pton(AF_INET6, "2001:db8:1::10", ev.src_ip);
	inet_pton(AF_INET6, "2001:db8:ff::80", ev.dest_ip);
	ev.ts_us = T0 * 1000000;
	ev.flow_id = 7;
	strcpy(ev.unit, "finance");
	ev.u.flow.pkts_toserver = 10;
	ev.u.flow.pkts_toclient = 12;
	ev.u.flow.bytes_toserver = 1500;
	ev.u.flow.bytes_toclient = 9000000000ULL;
	ev.u.flow.start_us = (T0 - 30) * 1000000 + 5;
	ev.u.flow.end_us = T0 * 1000000;
	strcpy(ev.u.flow.state, "closed");
	strcpy(ev.u.flow.reason, "tcp-close");
	json_t *o = roundtrip(&ev, NULL);
	ck_assert_str_eq(str(o, "event_type"), "flow");
	ck_assert_str_eq(str(o, "timestamp"), "2026-11-27T04:20:00.000000+0000");
	ck_assert_str_eq(str(o, "src_ip"), "2001:db8:1::10");
	ck_assert_str_eq(str(o, "dest_ip"), "2001:db8:ff::80");
	ck_assert_str_eq(str(o, "proto"), "TCP");
	ck_assert_int_eq(num(o, "dest_port", NULL), 443);
	ck_assert_int_eq(num(o, "flow", "pkts_toserver"), 10);
	ck_assert_int_eq(num(o, "flow", "pkts_toclient"), 12);
	ck_assert_int_eq(num(o, "flow", "bytes_toserver"), 1500);
	ck_assert_int_eq(num(o, "flow", "bytes_toclient"), 9000000000LL);
	ck_assert_str_eq(str(o, "flow.start"), "2026-11-27T04:19:30.000005+0000");
	ck_assert_str_eq(str(o, "flow.end"), "2026-11-27T04:20:00.000000+0000");
	ck_assert_str_eq(str(o, "flow.state"), "closed");
	ck_assert_str_eq(str(o, "flow.reason"), "tcp-close");
	/* no MAC, empty strings left out */
	json_t *g = json_object_get(o, "egw");
	ck_assert_ptr_null(json_object_get(g, "src_mac"));
	ck_assert_ptr_null(json_object_get(g, "user"));
	ck_assert_ptr_null(json_object_get(g, "rule"));
	ck_assert_uint_eq(json_object_size(g), 2); /* unit, action */
	json_decref(o);
	/* counters beyond int64 saturate instead of wrapping negative */
	ev.u.flow.bytes_toclient = UINT64_MAX;
	o = roundtrip(&ev, NULL);
	ck_assert_int_eq(num(o, "flow", "bytes_toclient"), INT64_MAX);
	json_decref(o);
}
END_TEST

START_TEST(audit_event_without_addresses)
{
	struct egw_event ev = { 0 };
	ev.type = EGW_EV_AUDIT;
	ev.action = EGW_EA_ALLOWED;
	ev.ts_us = T0 * 1000000 + 999999;
	strcpy(ev.u.audit.who, "uid 0 (root)");
	strcpy(ev.u.audit.what, "reload /etc/egw/egw.cfg");
	strcpy(ev.u.audit.result, "ok");
	json_t *o = roundtrip(&ev, NULL);
	ck_assert_str_eq(str(o, "timestamp"), "2026-11-27T04:20:00.999999+0000");
	ck_assert_str_eq(str(o, "event_type"), "audit");
	ck_assert_ptr_null(json_object_get(o, "flow_id"));
	ck_assert_ptr_null(json_object_get(o, "src_ip"));
	ck_assert_ptr_null(json_object_get(o, "dest_ip"));
	ck_assert_ptr_null(json_object_get(o, "src_port"));
	ck_assert_ptr_null(json_object_get(o, "proto"));
	ck_assert_str_eq(str(o, "audit.who"), "uid 0 (root)");
	ck_assert_str_eq(str(o, "audit.what"), "reload /etc/egw/egw.cfg");
	ck_assert_str_eq(str(o, "audit.result"), "ok");
	ck_assert_uint_eq(json_object_size(o), 4); /* timestamp, event_type, egw, audit */
	json_decref(o);
}
END_TEST

START_TEST(other_types_and_protocols)
{
	struct egw_event ev = { 0 };
	ev.family = AF_INET;
	inet_pton(AF_INET, "10.1.0.99", ev.src_ip);
	inet_pton(AF_INET, "203.0.113.80", ev.dest_ip);
	ev.src_port = 1;
	ev.dest_port = 2;
	ev.type = EGW_EV_DROP;
	ev.action = EGW_EA_BLOCKED;
	ev.proto = 1;
	strcpy(ev.reason, "unregistered");
	json_t *o = roundtrip(&ev, NULL);
	ck_assert_str_eq(str(o, "event_type"), "drop");
	ck_assert_str_eq(str(o, "proto"), "ICMP");
	ck_assert_ptr_null(json_object_get(o, "src_port")); /* no ports for ICMP */
	ck_assert_ptr_null(json_object_get(o, "drop"));
	ck_assert_str_eq(str(o, "egw.reason"), "unregistered");
	json_decref(o);

	ev.proto = 58;
	ev.type = EGW_EV_TLS;
	ev.action = EGW_EA_PUNTED;
	strcpy(ev.u.tls.sni, "gmail.com");
	o = roundtrip(&ev, NULL);
	ck_assert_str_eq(str(o, "proto"), "IPv6-ICMP");
	ck_assert_str_eq(str(o, "tls.sni"), "gmail.com");
	ck_assert_str_eq(str(o, "egw.action"), "punted");
	json_decref(o);

	ev.proto = 47;
	ev.type = EGW_EV_HTTP;
	ev.action = EGW_EA_REDIRECTED;
	strcpy(ev.u.http.hostname, "mail.qq.com");
	o = roundtrip(&ev, NULL);
	ck_assert_str_eq(str(o, "proto"), "47");
	ck_assert_str_eq(str(o, "http.hostname"), "mail.qq.com");
	ck_assert_str_eq(str(o, "egw.action"), "redirected");
	json_decref(o);

	ev.proto = 0;
	ev.type = EGW_EV_ALERT;
	ev.action = EGW_EA_PUNTED;
	strcpy(ev.reason, "tunnel-suspect");
	strcpy(ev.u.alert.signature, "DNS tunnelling: label of 60 bytes");
	strcpy(ev.u.alert.detail, "entropy 4.7 bits/char");
	o = roundtrip(&ev, NULL);
	ck_assert_ptr_null(json_object_get(o, "proto"));
	ck_assert_str_eq(str(o, "alert.signature"), "DNS tunnelling: label of 60 bytes");
	ck_assert_str_eq(str(o, "alert.detail"), "entropy 4.7 bits/char");
	ck_assert_str_eq(str(o, "alert.category"), "tunnel-suspect");
	ck_assert_str_eq(str(o, "alert.action"), "punted");
	json_decref(o);

	/* out-of-range enumerations and family */
	ev.type = 99;
	ev.action = 77;
	ev.family = 200;
	o = roundtrip(&ev, NULL);
	ck_assert_str_eq(str(o, "event_type"), "unknown");
	ck_assert_str_eq(str(o, "egw.action"), "unknown");
	ck_assert_ptr_null(json_object_get(o, "src_ip"));
	ck_assert_uint_eq(json_object_size(o), 3);
	json_decref(o);
	ck_assert_str_eq(egw_event_type_name(EGW_EV_FLOW), "flow");
	ck_assert_str_eq(egw_event_type_name(EGW_EV__COUNT), "unknown");
	ck_assert_str_eq(egw_event_action_name(EGW_EA_ALLOWED), "allowed");
	ck_assert_str_eq(egw_event_action_name(EGW_EA__COUNT), "unknown");
}
END_TEST

START_TEST(garbage_strings_stay_valid_json)
{
	struct egw_event ev = { 0 };
	ev.type = EGW_EV_TLS;
	/* invalid bytes escaped; valid UTF-8 kept */
	strcpy(ev.u.tls.sni, "\xff\xfe" "ab\xe4\xb8\xad\xe6\x96\x87" "\xc0\xaf" "\xed\xa0\x80"
			     "\xf0\x9f\x98\x80" "\xf4\x90\x80\x80" "\"\\\x01" "\xe4\xb8");
	json_t *o = roundtrip(&ev, NULL);
	ck_assert_str_eq(str(o, "tls.sni"),
			 "\\xff\\xfeab\xe4\xb8\xad\xe6\x96\x87\\xc0\\xaf\\xed\\xa0\\x80"
			 "\xf0\x9f\x98\x80\\xf4\\x90\\x80\\x80\"\\\x01\\xe4\\xb8");
	json_decref(o);
	/* fields with no NUL at all: read up to their size, not beyond */
	memset(&ev, 0xff, sizeof(ev));
	ev.type = EGW_EV_TLS;
	ev.family = 0;
	memset(ev.u.tls.sni, 'a', sizeof(ev.u.tls.sni));
	o = roundtrip(&ev, NULL);
	const char *sni = str(o, "tls.sni");
	ck_assert_uint_eq(strlen(sni), 256);
	ck_assert_uint_eq(strspn(sni, "a"), 256);
	/* 0xff in every other string: escaped, 4 characters a byte */
	ck_assert_uint_eq(strlen(str(o, "egw.unit")), 4 * 48);
	ck_assert_uint_eq(strlen(str(o, "egw.rule")), 4 * 96);
	json_decref(o);
	/* every type with every byte 0x80..0xff in its strings */
	for (unsigned t = 0; t < EGW_EV__COUNT; t++) {
		for (unsigned b = 0x80; b <= 0xff; b++) {
			memset(&ev, (int)b, sizeof(ev));
			ev.type = (uint8_t)t;
			json_t *x = egw_event_to_json(&ev);
			ck_assert_ptr_nonnull(x);
			char *s = json_dumps(x, JSON_COMPACT);
			ck_assert_ptr_nonnull(s);
			json_t *y = json_loads(s, 0, NULL);
			ck_assert_ptr_nonnull(y);
			json_decref(y);
			free(s);
			json_decref(x);
		}
	}
}
END_TEST

/* The encoder formats addresses, MACs and times itself (they are in every
 * event): each must read exactly as inet_ntop and printf write them. */
START_TEST(formatting_matches_the_reference)
{
	struct egw_event ev = { 0 };
	char want[64];
	ev.type = EGW_EV_DROP;
	ev.family = AF_INET;
	ev.has_mac = 1;
	for (unsigned v = 0; v < 256; v++) {
		uint8_t a[4] = { (uint8_t)v, (uint8_t)(255 - v), (uint8_t)(v * 7), (uint8_t)(v / 3) };
		memcpy(ev.src_ip, a, 4);
		memset(ev.src_mac, (int)v, 6);
		ev.src_mac[5] = (uint8_t)(255 - v);
		/* seconds, fractions and dates over a wide range, years past 9999 too */
		ev.ts_us = (uint64_t)v * 1000003ULL * 1000003ULL * 1009ULL + v * 7919ULL;
		json_t *o = roundtrip(&ev, NULL);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET, a, want, sizeof(want)));
		ck_assert_str_eq(str(o, "src_ip"), want);
		snprintf(want, sizeof(want), "%02x:%02x:%02x:%02x:%02x:%02x", v, v, v, v, v, 255 - v);
		ck_assert_str_eq(str(o, "egw.src_mac"), want);
		time_t sec = (time_t)(ev.ts_us / 1000000);
		struct tm tm;
		ck_assert_ptr_nonnull(gmtime_r(&sec, &tm));
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (unsigned)(ev.ts_us % 1000000));
		ck_assert_str_eq(str(o, "timestamp"), want);
		json_decref(o);
	}
	char mac[18];
	uint8_t m[6] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };
	ck_assert_str_eq(egw_mac_format(m, mac, sizeof(mac)), "de:ad:be:ef:00:01");
	ck_assert_str_eq(egw_mac_format(m, mac, 6), "de:ad"); /* truncated like snprintf */
}
END_TEST

/* Timestamps are computed without gmtime_r (calendar arithmetic): each
 * must read as gmtime_r + printf write it, at the edges of days, months,
 * leap years and centuries and over the whole 64-bit microsecond range. */
static void check_ts(uint64_t us)
{
	struct egw_event ev = { 0 };
	char want[64];
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;

	ev.type = EGW_EV_DROP;
	ev.ts_us = us;
	json_t *o = roundtrip(&ev, NULL);
	ck_assert_ptr_nonnull(gmtime_r(&sec, &tm));
	snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (unsigned)(us % 1000000));
	ck_assert_msg(str(o, "timestamp") && !strcmp(str(o, "timestamp"), want),
		      "%llu: %s, want %s", (unsigned long long)us, str(o, "timestamp"), want);
	json_decref(o);
}

START_TEST(timestamps_match_gmtime)
{
	static const int years[] = { 1970, 1971, 1972, 1999, 2000, 2001, 2024, 2026, 2100,
				     2400, 9999, 10000, 12345, 100000, 584554 };
	static const int64_t deltas[] = { -86400000001LL, -1000001, -1, 0, 1, 999999, 1000000,
					  86399999999LL };
	uint64_t x = 0x2545f4914f6cdd1dULL;

	for (size_t y = 0; y < sizeof(years) / sizeof(years[0]); y++)
		for (int mon = 0; mon < 12; mon++) {
			struct tm tm = { .tm_year = years[y] - 1900, .tm_mon = mon, .tm_mday = 1 };
			int64_t s = (int64_t)timegm(&tm);
			ck_assert((uint64_t)s < UINT64_MAX / 1000000);
			uint64_t base = (uint64_t)s * 1000000;  /* unsigned: past INT64_MAX */
			for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++)
				if (deltas[d] >= 0 || base >= (uint64_t)-deltas[d])
					check_ts(base + (uint64_t)deltas[d]);
		}
	/* 29 February and the day after, leap and not */
	for (int y = 1970; y <= 2410; y++) {
		struct tm tm = { .tm_year = y - 1900, .tm_mon = 1, .tm_mday = 29, .tm_hour = 23 };
		check_ts((uint64_t)timegm(&tm) * 1000000 + 3599999999ULL);
	}
	check_ts(0);
	check_ts((uint64_t)INT64_MAX);
	check_ts(UINT64_MAX);
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_ts(i % 2 ? x : x % (4102444800ULL * 1000000)); /* anywhere; before 2100 */
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("event_json");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, dns_event);
	tcase_add_test(tc, flow_event_ipv6);
	tcase_add_test(tc, audit_event_without_addresses);
	tcase_add_test(tc, other_types_and_protocols);
	tcase_add_test(tc, garbage_strings_stay_valid_json);
	tcase_add_test(tc, formatting_matches_the_reference);
	tcase_add_test(tc, timestamps_match_gmtime);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
