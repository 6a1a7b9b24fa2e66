/* SPDX-License-Identifier: MIT */
/*
 * DNS over TCP in egw-controld (control/cd_inspect.c), as the fast path
 * reads it: the SYN sets where the client's stream starts, every query of a
 * segment is judged (one dns event each), a segment that is not whole
 * messages at a message boundary is refused with both sides reset and the
 * rest of the connection dropped, a retransmission is judged on its bytes.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <egw/policy.h>

#include "cd_inspect.h"
#include "../dns_question.h"

#define POLICY EGW_SOURCE_DIR "/tests/unit/control/data/inspect.cfg"
#define DNS_RULE "inspect.cfg:15"   /* the dns section */

static struct egw_policy *pol;
static struct cd_inspect *in;
static uint64_t clock_us = 1700000000000000ull;
static struct cd_decision d;

static void setup(void)
{
	struct egw_diag *diag = egw_diag_new();
	char err[256];

	pol = egw_policy_load(POLICY, diag);
	if (!pol)
		egw_diag_print(diag, stderr);
	ck_assert_ptr_nonnull(pol);
	egw_diag_free(diag);
	in = cd_inspect_new(pol, err, sizeof(err));
	ck_assert_ptr_nonnull(in);
}

static void teardown(void)
{
	cd_inspect_free(in);
	egw_policy_free(pol);
}

/* Append the length-prefixed query for name to b at *n. */
static void put_query(uint8_t *b, size_t *n, const char *name)
{
	size_t m = tq_dns_query(b + *n + 2, 0x4242, name, 1);
	b[*n] = (uint8_t)(m >> 8);
	b[*n + 1] = (uint8_t)m;
	*n += 2 + m;
}

/*
 * Decide a TCP segment from the finance terminal (IPv4 10.1.0.10, or IPv6
 * 2001:db8:1::10) port sport to the approved resolver's port 53, with seq,
 * flags and pl[0..plen); cut: bytes of the payload the queue did not copy.
 */
static void seg_cut(bool v6, uint16_t sport, uint32_t seq, uint8_t flags, const uint8_t *pl,
		    size_t plen, size_t cut)
{
	static uint8_t b[2048];
	size_t hl = v6 ? 40 : 20, l4 = 20 + plen;
	uint8_t *t = b + hl;

	memset(b, 0, hl + l4);
	if (!v6) {
		b[0] = 0x45;
		b[2] = (uint8_t)((20 + l4) >> 8);
		b[3] = (uint8_t)(20 + l4);
		b[8] = 64;
		b[9] = 6;
		inet_pton(AF_INET, "10.1.0.10", b + 12);
		inet_pton(AF_INET, "198.51.100.53", b + 16);
	} else {
		b[0] = 0x60;
		b[4] = (uint8_t)(l4 >> 8);
		b[5] = (uint8_t)l4;
		b[6] = 6;
		b[7] = 64;
		inet_pton(AF_INET6, "2001:db8:1::10", b + 8);
		inet_pton(AF_INET6, "2001:db8:53::53", b + 24);
	}
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[3] = 53;
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[11] = (flags & 0x10) ? 1 : 0;   /* ack */
	t[12] = 5 << 4;
	t[13] = flags;
	if (plen)
		memcpy(t + 20, pl, plen);
	clock_us += 1000;
	cd_inspect_packet(in, b, hl + l4 - cut, clock_us, &d);
}

static void seg(bool v6, uint16_t sport, uint32_t seq, uint8_t flags, const uint8_t *pl,
		size_t plen)
{
	seg_cut(v6, sport, seq, flags, pl, plen, 0);
}

/* The SYN of a connection whose first byte is first. */
static void syn(bool v6, uint16_t sport, uint32_t first)
{
	seg(v6, sport, first - 1, 0x02, NULL, 0);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	ck_assert(!d.final);
	ck_assert_uint_eq(d.n_events, 0);
}

static unsigned count(enum egw_event_type type, const struct egw_event **last)
{
	unsigned n = 0;
	for (unsigned i = 0; i < d.n_events; i++)
		if (d.ev[i].type == type) {
			n++;
			if (last)
				*last = &d.ev[i];
		}
	return n;
}

/* The decision refuses the segment (why) and ends the connection. */
static void assert_refused(const char *why)
{
	const struct egw_event *ev = NULL;
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.final);
	ck_assert(d.reset);
	ck_assert(d.reset_server);
	ck_assert(!d.nxdomain);
	ck_assert_str_eq(d.why, why);
	ck_assert_uint_eq(count(EGW_EV_DROP, &ev), 1);
	ck_assert_str_eq(ev->reason, why);
	ck_assert_str_eq(ev->rule, DNS_RULE);
	ck_assert_int_eq(ev->action, EGW_EA_BLOCKED);
}

START_TEST(pipelined_allowed_queries_are_each_judged)
{
	uint8_t q[600];
	size_t n = 0;
	syn(false, 41000, 1000);
	put_query(q, &n, "www.example.cn");
	put_query(q, &n, "news.example.cn");
	seg(false, 41000, 1000, 0x18, q, n);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	ck_assert(!d.final);
	ck_assert_uint_eq(count(EGW_EV_DNS, NULL), 2);
	ck_assert_str_eq(d.ev[0].u.dns.rrname, "www.example.cn");
	ck_assert_str_eq(d.ev[1].u.dns.rrname, "news.example.cn");
	/* the next query starts where those ended */
	size_t m = 0;
	uint8_t r[300];
	put_query(r, &m, "www.example.cn");
	seg(false, 41000, 1000 + (uint32_t)n, 0x18, r, m);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	ck_assert_uint_eq(count(EGW_EV_DNS, NULL), 1);
}
END_TEST

static void allowed_and_blocked(bool v6)
{
	uint8_t q[600];
	size_t n = 0;
	const struct egw_event *ev = NULL;
	syn(v6, 41001, 1000);
	put_query(q, &n, "www.example.cn");
	put_query(q, &n, "gmail.com");
	seg(v6, 41001, 1000, 0x18, q, n);
	/* dropped, both sides reset, no answer (two queries were asked) */
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.final);
	ck_assert(d.reset);
	ck_assert(d.reset_server);
	ck_assert(!d.nxdomain);
	ck_assert_str_eq(d.why, "category:commercial-mail");
	ck_assert_uint_eq(count(EGW_EV_DNS, &ev), 2);
	ck_assert_str_eq(ev->u.dns.rrname, "gmail.com");
	ck_assert_str_eq(ev->reason, "category:commercial-mail");
	ck_assert_int_eq(ev->action, EGW_EA_BLOCKED);
	ck_assert_int_eq(ev->u.dns.rcode, -1);
	ck_assert_int_eq(d.ev[0].action, EGW_EA_ALLOWED);
	/* the rest of the connection is dropped */
	size_t m = 0;
	uint8_t r[300];
	put_query(r, &m, "www.example.cn");
	seg(v6, 41001, 1000 + (uint32_t)n, 0x18, r, m);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert_uint_eq(d.n_events, 0);
}

START_TEST(allowed_and_blocked_pipelined_end_the_connection_ipv4)
{
	allowed_and_blocked(false);
}
END_TEST

START_TEST(allowed_and_blocked_pipelined_end_the_connection_ipv6)
{
	allowed_and_blocked(true);
}
END_TEST

static void split(bool v6)
{
	uint8_t q[300];
	size_t n = 0;
	syn(v6, 41002, 1000);
	put_query(q, &n, "mail.qq.com");
	seg(v6, 41002, 1000, 0x18, q, n - 6);
	assert_refused("dns-split");
	ck_assert_uint_eq(count(EGW_EV_DNS, NULL), 0);
	/* the rest never reaches the resolver either */
	seg(v6, 41002, 1000 + (uint32_t)n - 6, 0x18, q + n - 6, 6);
	ck_assert_int_eq(d.verdict, CD_DROP);
}

START_TEST(split_query_is_refused_ipv4)
{
	split(false);
}
END_TEST

START_TEST(split_query_is_refused_ipv6)
{
	split(true);
}
END_TEST

START_TEST(continuation_and_cut_segments_are_refused)
{
	uint8_t q[300];
	size_t n = 0;
	syn(false, 41003, 1000);
	put_query(q, &n, "www.example.cn");
	seg(false, 41003, 1000, 0x18, q, n);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	/* whole-looking bytes 7 bytes into the next message */
	seg(false, 41003, 1000 + (uint32_t)n + 7, 0x18, q, n);
	assert_refused("dns-split");

	/* a segment longer than what the queue copied: the bytes past the
	 * copy are not seen, so the segment is not judged whole */
	syn(false, 41004, 1000);
	size_t m = n;
	put_query(q, &m, "gmail.com");
	seg_cut(false, 41004, 1000, 0x18, q, m, m - n);
	assert_refused("dns-split");
	ck_assert_uint_eq(count(EGW_EV_DNS, NULL), 0);
}
END_TEST

START_TEST(retransmission_is_judged_on_its_bytes)
{
	uint8_t q[300], r[300];
	size_t n = 0, m = 0;
	syn(false, 41005, 1000);
	put_query(q, &n, "www.example.cn");
	seg(false, 41005, 1000, 0x18, q, n);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	/* the same seq, a blocked name of the same length */
	put_query(r, &m, "mail.gmail.com");
	ck_assert_uint_eq(m, n);
	seg(false, 41005, 1000, 0x18, r, m);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.nxdomain);   /* one query: answered in the stream */
	ck_assert_uint_eq(count(EGW_EV_DNS, NULL), 1);
	ck_assert_int_eq(d.ev[0].u.dns.rcode, 3);
}
END_TEST

START_TEST(syn_after_data_and_undecodable_message_are_refused)
{
	uint8_t q[300];
	size_t n = 0;
	syn(false, 41006, 1000);
	put_query(q, &n, "www.example.cn");
	seg(false, 41006, 1000, 0x18, q, n);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	seg(false, 41006, 70000, 0x02, NULL, 0);
	assert_refused("dns-split");

	/* a compression pointer in the name: not a query the gateway reads */
	syn(false, 41007, 1000);
	n = 0;
	put_query(q, &n, "gmail.com");
	q[2 + 12 + 6] = 0xc0;
	q[2 + 12 + 7] = 12;
	seg(false, 41007, 1000, 0x18, q, n);
	assert_refused("dns-malformed");

	struct cd_inspect_stats st;
	cd_inspect_get_stats(in, &st);
	ck_assert_uint_eq(st.dns_refused, 2);
}
END_TEST

START_TEST(no_handshake_seen_first_segment_sets_the_start)
{
	/* After a restart of egw-controld (or when the fast path punts a
	 * connection's segment): the first segment is taken as a start. */
	uint8_t q[300];
	size_t n = 0;
	put_query(q, &n, "www.example.cn");
	seg(false, 41008, 5000, 0x18, q, n);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	seg(false, 41008, 5000 + (uint32_t)n, 0x18, q, n);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	seg(false, 41008, 5001, 0x18, q, n);
	assert_refused("dns-split");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inspect_dnstcp");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pipelined_allowed_queries_are_each_judged);
	tcase_add_test(tc, allowed_and_blocked_pipelined_end_the_connection_ipv4);
	tcase_add_test(tc, allowed_and_blocked_pipelined_end_the_connection_ipv6);
	tcase_add_test(tc, split_query_is_refused_ipv4);
	tcase_add_test(tc, split_query_is_refused_ipv6);
	tcase_add_test(tc, continuation_and_cut_segments_are_refused);
	tcase_add_test(tc, retransmission_is_judged_on_its_bytes);
	tcase_add_test(tc, syn_after_data_and_undecodable_message_are_refused);
	tcase_add_test(tc, no_handshake_seen_first_segment_sets_the_start);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
