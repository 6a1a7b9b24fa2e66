/* SPDX-License-Identifier: MIT */
/*
 * egw_event_encode (yajl, streaming) against egw_event_to_json + json_dumpb
 * with the log writer's flags (JSON_COMPACT): the same bytes for every event,
 * so that switching the writer's hot path changes no log line.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <egw/event.h>

static struct egw_event_enc *enc;
static unsigned long compared;

/* The writer's jansson path: what elog_write puts on a line today. */
static char *jansson_text(const struct egw_event *ev, size_t *len)
{
	json_t *o = egw_event_to_json(ev);
	ck_assert_ptr_nonnull(o);
	size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT);
	char *s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(json_dumpb(o, s, n, JSON_COMPACT), n);
	s[n] = '\0';
	json_decref(o);
	*len = n;
	return s;
}

/* Both encoders, byte for byte; returns the text (free it). */
static char *same(const struct egw_event *ev)
{
	size_t jn, yn;
	const char *y;
	char *j = jansson_text(ev, &jn);

	ck_assert_int_eq(egw_event_encode(enc, ev, &y, &yn), 0);
	if (jn != yn || memcmp(j, y, jn) != 0)
		ck_abort_msg("encoders differ:\n jansson %.*s\n yajl    %.*s",
			     (int)jn, j, (int)yn, y);
	compared++;
	return j;
}

static void same_free(const struct egw_event *ev)
{
	free(same(ev));
}

/* Every string field of ev set from s (truncated to the field, NUL-terminated
 * when it fits, not when it does not: the encoders read up to the size). */
static void setf(char *f, size_t cap, const char *s)
{
	size_t n = strlen(s);
	if (n > cap)
		n = cap;
	memcpy(f, s, n);
	if (n < cap)
		f[n] = '\0';
}
#define SETF(f, s) setf((f), sizeof(f), (s))
static void set_strings(struct egw_event *ev, const char *s)
{
	SETF(ev->unit, s);
	SETF(ev->user, s);
	SETF(ev->switch_port, s);
	SETF(ev->location, s);
	SETF(ev->reason, s);
	SETF(ev->rule, s);
	switch (ev->type) {
	case EGW_EV_FLOW:
		SETF(ev->u.flow.state, s);
		SETF(ev->u.flow.reason, s);
		break;
	case EGW_EV_DNS:
		SETF(ev->u.dns.rrname, s);
		break;
	case EGW_EV_TLS:
		SETF(ev->u.tls.sni, s);
		break;
	case EGW_EV_HTTP:
		SETF(ev->u.http.hostname, s);
		break;
	case EGW_EV_ALERT:
		SETF(ev->u.alert.signature, s);
		SETF(ev->u.alert.detail, s);
		break;
	case EGW_EV_AUDIT:
		SETF(ev->u.audit.who, s);
		SETF(ev->u.audit.what, s);
		SETF(ev->u.audit.result, s);
		break;
	default:
		break;
	}
}

static void base(struct egw_event *ev, uint8_t type, uint8_t action, uint8_t family)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->action = action;
	ev->family = family;
	ev->proto = 6;
	ev->src_port = 51000;
	ev->dest_port = 443;
	ev->ts_us = 1795753200ULL * 1000000 + 123456;
	ev->flow_id = 0x1234567890abcdefULL;
	if (family == AF_INET6) {
		inet_pton(AF_INET6, "2001:db8::10", ev->src_ip);
		inet_pton(AF_INET6, "2001:db8:ffff::1:0:0:1", ev->dest_ip);
	} else {
		inet_pton(AF_INET, "10.1.20.7", ev->src_ip);
		inet_pton(AF_INET, "198.51.100.255", ev->dest_ip);
		memcpy(ev->src_ip + 4, "\x01\x02", 2); /* bytes past an IPv4 address */
	}
	ev->has_mac = 1;
	memcpy(ev->src_mac, "\x02\x00\x5e\x10\xab\xcd", 6);
	ev->u.flow.pkts_toserver = 12;
	if (type == EGW_EV_DNS) {
		ev->u.dns.id = 4242;
		ev->u.dns.rrtype = 28;
		ev->u.dns.rcode = 3;
	}
}

static const uint8_t types[] = { EGW_EV_FLOW, EGW_EV_DNS, EGW_EV_TLS, EGW_EV_HTTP,
				 EGW_EV_DROP, EGW_EV_ALERT, EGW_EV_AUDIT, EGW_EV__COUNT, 255 };
static const uint8_t actions[] = { EGW_EA_ALLOWED, EGW_EA_BLOCKED, EGW_EA_REDIRECTED,
				   EGW_EA_PUNTED, EGW_EA__COUNT, 200 };
static const uint8_t families[] = { AF_INET, AF_INET6, 0, 99 };

START_TEST(every_type_action_family_full_and_empty)
{
	static const char *const texts[] = {
		"", "a", "office-3", "uid 0 (root)", "reload /etc/egw/egw.cfg",
		"refused: \"bad\" \\ path/to", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	};
	char full[300];
	memset(full, 'x', sizeof(full) - 1);
	full[sizeof(full) - 1] = '\0';
	struct egw_event ev;

	for (size_t t = 0; t < sizeof(types); t++)
		for (size_t a = 0; a < sizeof(actions); a++)
			for (size_t f = 0; f < sizeof(families); f++) {
				for (size_t s = 0; s < sizeof(texts) / sizeof(texts[0]); s++) {
					base(&ev, types[t], actions[a], families[f]);
					set_strings(&ev, texts[s]);
					same_free(&ev);
				}
				/* every field full to its last byte, no NUL */
				base(&ev, types[t], actions[a], families[f]);
				set_strings(&ev, full);
				same_free(&ev);
				/* nothing optional: no mac, flow id, proto */
				base(&ev, types[t], actions[a], families[f]);
				ev.has_mac = 0;
				ev.flow_id = 0;
				ev.proto = 0;
				same_free(&ev);
			}
}
END_TEST

START_TEST(every_byte_value_in_strings)
{
	struct egw_event ev;
	char s[300];

	/* each byte alone, twice and between text, in every kind of field */
	for (unsigned b = 1; b <= 0xff; b++) {
		for (size_t t = 0; t < sizeof(types); t++) {
			base(&ev, types[t], EGW_EA_BLOCKED, AF_INET);
			snprintf(s, sizeof(s), "a%cb%c%c/z", (char)b, (char)b, (char)b);
			set_strings(&ev, s);
			same_free(&ev);
		}
	}
	/* all of 0x01..0xff in one field, and starting at every offset */
	for (unsigned off = 0; off < 255; off++) {
		for (unsigned i = 0; i < 255; i++)
			s[i] = (char)(1 + (off + i) % 255);
		s[255] = '\0';
		for (size_t t = 0; t < sizeof(types); t++) {
			base(&ev, types[t], EGW_EA_ALLOWED, AF_INET6);
			set_strings(&ev, s);
			same_free(&ev);
		}
	}
	/* what a user sees: control characters as jansson writes them */
	base(&ev, EGW_EV_TLS, EGW_EA_BLOCKED, AF_INET);
	strcpy(ev.u.tls.sni, "a\x1f\x0b\x01\x7f/\"\\\t\n\xff");
	char *j = same(&ev);
	ck_assert_ptr_nonnull(strstr(j, "\"sni\":\"a\\u001F\\u000B\\u0001\x7f/\\\"\\\\\\t\\n\\\\xff\""));
	free(j);
}
END_TEST

START_TEST(valid_and_invalid_utf8)
{
	static const char *const seqs[] = {
		"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xef\xbf\xbf",
		"\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", /* valid edges */
		"\xc0\xaf", "\xc1\xbf", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xf0\x8f\xbf\xbf",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\x80", "\xbf", "\xe2\x82",
		"\xf0\x9f\x98", "\xfe\xff",
	};
	struct egw_event ev;
	char s[64];

	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		for (size_t t = 0; t < sizeof(types); t++) {
			base(&ev, types[t], EGW_EA_ALLOWED, AF_INET);
			snprintf(s, sizeof(s), "x%sy%s", seqs[i], seqs[i]);
			set_strings(&ev, s);
			same_free(&ev);
			/* a sequence cut by the end of the field */
			base(&ev, types[t], EGW_EA_ALLOWED, AF_INET);
			memset(ev.u.flow.state, 'q', sizeof(ev.u.flow.state));
			memcpy(ev.u.flow.state + sizeof(ev.u.flow.state) - 1, seqs[i], 1);
			memset(ev.unit, 'u', sizeof(ev.unit));
			memcpy(ev.unit + sizeof(ev.unit) - 2, seqs[i], 2);
			same_free(&ev);
		}
}
END_TEST

START_TEST(extreme_numbers)
{
	static const uint64_t u64[] = { 0, 1, 9, 10, 99, 4294967295ULL, 4294967296ULL,
					(uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX };
	static const uint16_t u16[] = { 0, 1, 53, 255, 256, 65280, 65535 };
	static const int16_t rc[] = { INT16_MIN, -2, -1, 0, 1, 3, 5, 15, 16, 23, 4095, INT16_MAX };
	struct egw_event ev;

	for (size_t i = 0; i < sizeof(u64) / sizeof(u64[0]); i++) {
		base(&ev, EGW_EV_FLOW, EGW_EA_ALLOWED, AF_INET);
		ev.flow_id = u64[i];
		ev.u.flow.pkts_toserver = u64[i];
		ev.u.flow.pkts_toclient = u64[(i + 1) % 10];
		ev.u.flow.bytes_toserver = u64[(i + 3) % 10];
		ev.u.flow.bytes_toclient = u64[(i + 7) % 10];
		ev.u.flow.start_us = u64[i];
		ev.u.flow.end_us = u64[(i + 5) % 10];
		same_free(&ev);
	}
	for (size_t i = 0; i < sizeof(u16) / sizeof(u16[0]); i++)
		for (size_t k = 0; k < sizeof(rc) / sizeof(rc[0]); k++) {
			base(&ev, EGW_EV_DNS, EGW_EA_BLOCKED, AF_INET6);
			ev.proto = 17;
			ev.src_port = u16[i];
			ev.dest_port = u16[(i + 3) % 7];
			ev.u.dns.id = u16[i];
			ev.u.dns.rrtype = u16[(i + k) % 7];
			ev.u.dns.rcode = rc[k];
			same_free(&ev);
		}
	for (unsigned p = 0; p < 256; p++) {
		base(&ev, EGW_EV_DROP, EGW_EA_BLOCKED, AF_INET);
		ev.proto = (uint8_t)p;
		same_free(&ev);
	}
	/* addresses: every byte value in every position */
	for (unsigned b = 0; b < 256; b++)
		for (unsigned pos = 0; pos < 16; pos++) {
			base(&ev, EGW_EV_DROP, EGW_EA_BLOCKED, pos < 4 ? AF_INET : AF_INET6);
			memset(ev.src_ip, 0, 16);
			ev.src_ip[pos] = (uint8_t)b;
			memset(ev.dest_ip, (int)b, 16);
			same_free(&ev);
		}
}
END_TEST

START_TEST(timestamps_near_year_boundaries)
{
	static const int64_t deltas[] = { -1000001, -1, 0, 1, 999999, 1000000 };
	struct egw_event ev;

	for (int y = 1970; y <= 2200; y++) {
		struct tm tm = { .tm_year = y - 1900, .tm_mday = 1 };
		int64_t s = (int64_t)timegm(&tm);
		for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++) {
			int64_t us = s * 1000000 + deltas[d];
			if (us < 0)
				continue;
			base(&ev, EGW_EV_FLOW, EGW_EA_ALLOWED, AF_INET);
			ev.ts_us = (uint64_t)us;
			ev.u.flow.start_us = (uint64_t)us;
			ev.u.flow.end_us = (uint64_t)us + 86400000000ULL * 365;
			same_free(&ev);
		}
	}
	static const uint64_t far[] = { 0, 1, 253402300799999999ULL /* 9999-12-31 */,
					253402300800000000ULL, 999999999999999999ULL,
					(uint64_t)INT64_MAX, UINT64_MAX };
	for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
		base(&ev, EGW_EV_FLOW, EGW_EA_ALLOWED, AF_INET);
		ev.ts_us = ev.u.flow.start_us = ev.u.flow.end_us = far[i];
		same_free(&ev);
	}
}
END_TEST

/* Arbitrary structs (seeded, reproducible), the enumerations mostly valid. */
START_TEST(random_structs)
{
	struct egw_event ev;
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < 20000; i++) {
		uint8_t *p = (uint8_t *)&ev;
		for (size_t k = 0; k < sizeof(ev); k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[k] = (uint8_t)x;
		}
		if (i % 4) {
			ev.type = (uint8_t)(ev.type % EGW_EV__COUNT);
			ev.action = (uint8_t)(ev.action % EGW_EA__COUNT);
			ev.family = (ev.family & 1) ? AF_INET : AF_INET6;
		}
		if (i % 3 == 0) /* short strings in the big fields */
			ev.u.dns.rrname[(unsigned)ev.u.dns.rrname[0] & 63] = '\0';
		same_free(&ev);
	}
}
END_TEST

/* One encoder for many events: a long one then a short one gives the short
 * one alone (no leftovers of the reused buffer). */
START_TEST(encoder_reuse)
{
	struct egw_event big, small;
	const char *y;
	size_t yn;

	base(&big, EGW_EV_AUDIT, EGW_EA_ALLOWED, AF_INET6);
	set_strings(&big, "\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04\x05\x06\x07"
			  "\x08\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04\x05\x06");
	base(&small, EGW_EV_DROP, EGW_EA_BLOCKED, 0);
	small.flow_id = 0;
	small.has_mac = 0;
	small.proto = 0;
	for (int i = 0; i < 3; i++) {
		same_free(&big);
		same_free(&small);
	}
	ck_assert_int_eq(egw_event_encode(enc, &small, &y, &yn), 0);
	ck_assert_uint_eq(yn, strlen("{\"timestamp\":\"2026-11-27T04:20:00.123456+0000\","
				     "\"event_type\":\"drop\","
				     "\"egw\":{\"action\":\"blocked\"}}"));
	ck_assert(memcmp(y, "{\"timestamp\":\"2026-11-27T04:20:00.123456+0000\","
			 "\"event_type\":\"drop\","
			 "\"egw\":{\"action\":\"blocked\"}}", yn) == 0);
}
END_TEST

static void setup(void)
{
	enc = egw_event_enc_new();
	ck_assert_ptr_nonnull(enc);
}

static void teardown(void)
{
	egw_event_enc_free(enc);
	enc = NULL;
}

int main(void)
{
	Suite *s = suite_create("event_yajl");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_type_action_family_full_and_empty);
	tcase_add_test(tc, every_byte_value_in_strings);
	tcase_add_test(tc, valid_and_invalid_utf8);
	tcase_add_test(tc, extreme_numbers);
	tcase_add_test(tc, timestamps_near_year_boundaries);
	tcase_add_test(tc, random_structs);
	tcase_add_test(tc, encoder_reuse);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
