/* SPDX-License-Identifier: MIT */
/*
 * The NXDOMAIN answer to a DNS query over TCP and the reset toward the
 * server (control/cd_inject.c), on crafted IPv4 and IPv6 segments, and the
 * inspection's decision for them (control/cd_inspect.c).
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <egw/policy.h>

#include "cd_inject.h"
#include "cd_inspect.h"
#include "cd_pkt.h"
#include "../dns_question.h"

#define POLICY EGW_SOURCE_DIR "/tests/unit/control/data/inspect.cfg"

#define CLIENT_SEQ 0x11223344u
#define CLIENT_ACK 0xa0b0c0d0u

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned rd16(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

static size_t dns_query(uint8_t *b, const char *name)
{
	return tq_dns_query(b, 0xbeef, name, 1);
}

/*
 * A TCP segment from src:40000 to dst:53 with flags, seq CLIENT_SEQ, ack
 * CLIENT_ACK, a 12-byte options block (timestamps: the answer must drop
 * them), carrying pl. Returns its length.
 */
static size_t segment(uint8_t *b, int af, const char *src, const char *dst, uint8_t flags,
		      const uint8_t *pl, size_t plen)
{
	size_t hl = af == AF_INET ? 20 : 40, l4 = 32 + plen;
	uint8_t *t = b + hl;

	memset(b, 0, hl + l4);
	if (af == AF_INET) {
		b[0] = 0x45;
		b[2] = (uint8_t)((20 + l4) >> 8);
		b[3] = (uint8_t)(20 + l4);
		b[8] = 64;
		b[9] = 6;
		inet_pton(AF_INET, src, b + 12);
		inet_pton(AF_INET, dst, b + 16);
	} else {
		b[0] = 0x60;
		b[4] = (uint8_t)(l4 >> 8);
		b[5] = (uint8_t)l4;
		b[6] = 6;
		b[7] = 64;
		inet_pton(AF_INET6, src, b + 8);
		inet_pton(AF_INET6, dst, b + 24);
	}
	t[0] = 40000 >> 8; t[1] = 40000 & 0xff;
	t[3] = 53;
	t[4] = CLIENT_SEQ >> 24; t[5] = (CLIENT_SEQ >> 16) & 0xff;
	t[6] = (CLIENT_SEQ >> 8) & 0xff; t[7] = CLIENT_SEQ & 0xff;
	t[8] = CLIENT_ACK >> 24; t[9] = (CLIENT_ACK >> 16) & 0xff;
	t[10] = (CLIENT_ACK >> 8) & 0xff; t[11] = CLIENT_ACK & 0xff;
	t[12] = 8 << 4;
	t[13] = flags;
	t[14] = 0x10;
	t[20] = 1; t[21] = 1; t[22] = 8; t[23] = 10;   /* NOP NOP TS */
	memcpy(t + 32, pl, plen);
	return hl + l4;
}

/* A length-prefixed query for name in one PSH|ACK segment. */
static size_t query_segment(uint8_t *b, int af, const char *src, const char *dst,
			    const char *name)
{
	uint8_t pl[300];
	size_t ql = dns_query(pl + 2, name);

	pl[0] = (uint8_t)(ql >> 8);
	pl[1] = (uint8_t)ql;
	return segment(b, af, src, dst, 0x18, pl, ql + 2);
}

/* Internet checksum over the pseudo-header and the segment: 0 when right. */
static unsigned tcp_csum_residue(const uint8_t *pkt, size_t len)
{
	int v4 = (pkt[0] >> 4) == 4;
	size_t hl = v4 ? 20 : 40, alen = v4 ? 4 : 16, l4 = len - hl;
	const uint8_t *addrs = pkt + (v4 ? 12 : 8);
	uint32_t s = 6 + (uint32_t)l4;

	for (size_t i = 0; i < 2 * alen; i += 2)
		s += rd16(addrs + i);
	for (size_t i = 0; i + 1 < l4; i += 2)
		s += rd16(pkt + hl + i);
	if (l4 & 1)
		s += (uint32_t)pkt[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (~s) & 0xffff;
}

static unsigned ip4_csum_residue(const uint8_t *pkt)
{
	uint32_t s = 0;

	for (size_t i = 0; i < 20; i += 2)
		s += rd16(pkt + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (~s) & 0xffff;
}

static void parse(const uint8_t *b, size_t n, struct cd_pkt *k)
{
	ck_assert_int_eq(cd_pkt_parse(b, n, k), CD_PKT_OK);
}

/* The answer segment r (length rl) to the query q (length qn). */
static void check_answer(const uint8_t *q, size_t qn, const uint8_t *r, int rl, int af)
{
	size_t hl = af == AF_INET ? 20 : 40, alen = af == AF_INET ? 4 : 16;
	size_t qpl = qn - hl - 32;           /* the query's payload, prefix included */
	const uint8_t *t = r + hl, *qt = q + hl;

	ck_assert_int_gt(rl, (int)(hl + 22 + 12));
	if (af == AF_INET) {
		ck_assert_uint_eq(rd16(r + 2), (unsigned)rl);
		ck_assert_uint_eq(r[9], 6);
		ck_assert_mem_eq(r + 12, q + 16, 4);     /* from the server */
		ck_assert_mem_eq(r + 16, q + 12, 4);     /* to the client */
		ck_assert_uint_eq(ip4_csum_residue(r), 0);
	} else {
		ck_assert_uint_eq(rd16(r + 4), (unsigned)rl - 40);
		ck_assert_uint_eq(r[6], 6);
		ck_assert_mem_eq(r + 8, q + 24, alen);
		ck_assert_mem_eq(r + 24, q + 8, alen);
	}
	ck_assert_uint_eq(rd16(t), 53);
	ck_assert_uint_eq(rd16(t + 2), 40000);
	ck_assert_uint_eq(rd32(t + 4), CLIENT_ACK);                 /* seq = client's ack */
	ck_assert_uint_eq(rd32(t + 8), CLIENT_SEQ + (uint32_t)qpl); /* ack past the query */
	ck_assert_uint_eq(t[12] >> 4, 5);                           /* options dropped */
	ck_assert_uint_eq(t[13], 0x19);                             /* FIN|PSH|ACK */
	ck_assert_uint_eq(tcp_csum_residue(r, (size_t)rl), 0);
	/* one length-prefixed DNS answer: NXDOMAIN, same id and question */
	ck_assert_uint_eq(rd16(t + 20), (unsigned)rl - hl - 22);
	ck_assert_uint_eq(rd16(t + 22), 0xbeef);
	ck_assert_uint_eq(t[24] & 0x80, 0x80);                      /* QR */
	ck_assert_uint_eq(t[25] & 0x0f, 3);                         /* NXDOMAIN */
	ck_assert_uint_eq(rd16(t + 26), 1);                         /* qdcount */
	ck_assert_mem_eq(t + 22 + 12, qt + 32 + 2 + 12, qpl - 2 - 12);
}

static void check_server_rst(const uint8_t *q, const uint8_t *r, int rl, int af)
{
	size_t hl = af == AF_INET ? 20 : 40;
	const uint8_t *t = r + hl;

	ck_assert_int_eq(rl, (int)hl + 20);
	if (af == AF_INET) {
		ck_assert_mem_eq(r + 12, q + 12, 8);     /* client -> server */
		ck_assert_uint_eq(ip4_csum_residue(r), 0);
	} else {
		ck_assert_mem_eq(r + 8, q + 8, 32);
	}
	ck_assert_uint_eq(rd16(t), 40000);
	ck_assert_uint_eq(rd16(t + 2), 53);
	ck_assert_uint_eq(rd32(t + 4), CLIENT_SEQ);  /* where the server expects it */
	ck_assert_uint_eq(rd32(t + 8), CLIENT_ACK);
	ck_assert_uint_eq(t[13], 0x14);              /* RST|ACK */
	ck_assert_uint_eq(tcp_csum_residue(r, (size_t)rl), 0);
}

START_TEST(tcp_answer_ipv4)
{
	uint8_t q[600], r[1600];
	struct cd_pkt k;
	size_t n = query_segment(q, AF_INET, "10.1.0.10", "198.51.100.53", "mail.qq.com");

	parse(q, n, &k);
	check_answer(q, n, r, cd_inject_build_nxdomain(&k, r, sizeof(r)), AF_INET);
	check_server_rst(q, r, cd_inject_build_rst_server(&k, r, sizeof(r)), AF_INET);
}
END_TEST

START_TEST(tcp_answer_ipv6)
{
	uint8_t q[600], r[1600];
	struct cd_pkt k;
	size_t n = query_segment(q, AF_INET6, "2001:db8:1::10", "2001:db8:53::53",
				 "use-application-dns.net");

	parse(q, n, &k);
	check_answer(q, n, r, cd_inject_build_nxdomain(&k, r, sizeof(r)), AF_INET6);
	check_server_rst(q, r, cd_inject_build_rst_server(&k, r, sizeof(r)), AF_INET6);
}
END_TEST

START_TEST(tcp_answer_refused)
{
	uint8_t q[600], pl[300], r[1600];
	struct cd_pkt k;
	size_t ql = dns_query(pl + 2, "mail.qq.com"), n;

	/* the length prefix says more than the segment holds (split query) */
	pl[0] = 0;
	pl[1] = (uint8_t)(ql + 5);
	n = segment(q, AF_INET, "10.1.0.10", "198.51.100.53", 0x18, pl, ql + 2);
	parse(q, n, &k);
	ck_assert_int_eq(cd_inject_build_nxdomain(&k, r, sizeof(r)), -1);
	/* ... or less (a second message follows in the segment) */
	pl[1] = (uint8_t)(ql - 1);
	n = segment(q, AF_INET, "10.1.0.10", "198.51.100.53", 0x18, pl, ql + 2);
	parse(q, n, &k);
	ck_assert_int_eq(cd_inject_build_nxdomain(&k, r, sizeof(r)), -1);
	/* a SYN carrying the query: no ACK to take the sequence number from */
	pl[1] = (uint8_t)ql;
	n = segment(q, AF_INET, "10.1.0.10", "198.51.100.53", 0x02, pl, ql + 2);
	parse(q, n, &k);
	ck_assert_int_eq(cd_inject_build_nxdomain(&k, r, sizeof(r)), -1);
	ck_assert_int_eq(cd_inject_build_rst_server(&k, r, sizeof(r)), -1);
	/* only the length prefix: no DNS header */
	n = segment(q, AF_INET, "10.1.0.10", "198.51.100.53", 0x18, pl, 2);
	parse(q, n, &k);
	ck_assert_int_eq(cd_inject_build_nxdomain(&k, r, sizeof(r)), -1);
	/* the buffer too small for the answer */
	n = query_segment(q, AF_INET, "10.1.0.10", "198.51.100.53", "mail.qq.com");
	parse(q, n, &k);
	ck_assert_int_eq(cd_inject_build_nxdomain(&k, r, 60), -1);
	ck_assert_int_gt(cd_inject_build_nxdomain(&k, r, sizeof(r)), 0);
}
END_TEST

/* What controld does with the segments, per the inspection's decision. */
START_TEST(tcp_query_decisions)
{
	struct egw_diag *diag = egw_diag_new();
	struct egw_policy *pol = egw_policy_load(POLICY, diag);
	struct cd_inspect *in;
	struct cd_decision d;
	char err[256];
	uint8_t q[600];
	size_t n;

	if (!pol)
		egw_diag_print(diag, stderr);
	ck_assert_ptr_nonnull(pol);
	egw_diag_free(diag);
	in = cd_inspect_new(pol, err, sizeof(err));
	ck_assert_ptr_nonnull(in);

	/* a denied category's name: dropped, answered NXDOMAIN in the stream */
	n = query_segment(q, AF_INET, "10.1.0.10", "198.51.100.53", "mail.qq.com");
	cd_inspect_packet(in, q, n, 1700000000000000ull, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.nxdomain);
	ck_assert(!d.final);
	ck_assert_uint_eq(d.n_events, 1);
	ck_assert_str_eq(d.ev[0].reason, "category:commercial-mail");
	ck_assert_int_eq(d.ev[0].u.dns.rcode, 3);
	/* over IPv6, a name below a denied domain */
	n = query_segment(q, AF_INET6, "2001:db8:1::10", "2001:db8:53::53", "a.b.gmail.com");
	cd_inspect_packet(in, q, n, 1700000000001000ull, &d);
	ck_assert_int_eq(d.verdict, CD_DROP);
	ck_assert(d.nxdomain);
	ck_assert_int_eq(d.pkt.family, AF_INET6);
	/* an allowed name passes, no answer */
	n = query_segment(q, AF_INET, "10.1.0.10", "198.51.100.53", "example.com");
	cd_inspect_packet(in, q, n, 1700000000002000ull, &d);
	ck_assert_int_eq(d.verdict, CD_ACCEPT);
	ck_assert(!d.nxdomain);
	ck_assert(!d.reset);

	cd_inspect_free(in);
	egw_policy_free(pol);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inject_tcp");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, tcp_answer_ipv4);
	tcase_add_test(tc, tcp_answer_ipv6);
	tcase_add_test(tc, tcp_answer_refused);
	tcase_add_test(tc, tcp_query_decisions);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
