/* SPDX-License-Identifier: MIT */
/* DNS over TCP: which client segments may be judged (whole length-prefixed
 * messages starting where a message of the stream starts), what the
 * stream remembers, and how it treats retransmissions. */
#include <check.h>
#include <string.h>

#include <egw/dns_stream.h>

#include "../dns_question.h"

/* Append the length-prefixed query for name to b at *n. */
static void put_query(uint8_t *b, size_t *n, const char *name)
{
	size_t m = tq_dns_query(b + *n + 2, 0x1234, name, 1);
	b[*n] = (uint8_t)(m >> 8);
	b[*n + 1] = (uint8_t)m;
	*n += 2 + m;
}

START_TEST(one_and_pipelined_queries_are_whole)
{
	struct egw_dns_stream s;
	uint8_t b[512];
	size_t n = 0;
	ck_assert_int_eq(egw_dns_stream_start(&s, 999), 0);
	ck_assert_uint_eq(s.next, 1000);
	put_query(b, &n, "www.example.cn");
	ck_assert_int_eq(egw_dns_stream_check(&s, 1000, b, n), 1);
	size_t one = n;
	put_query(b, &n, "gmail.com");
	ck_assert_int_eq(egw_dns_stream_check(&s, 1000, b, n), 2);
	/* the walk gives both, in order */
	size_t off = 0, mlen;
	const uint8_t *msg;
	ck_assert_int_eq(egw_dns_stream_next(b, n, &off, &msg, &mlen), 1);
	ck_assert_ptr_eq(msg, b + 2);
	ck_assert_uint_eq(off, one);
	ck_assert_int_eq(egw_dns_stream_next(b, n, &off, &msg, &mlen), 1);
	ck_assert_ptr_eq(msg, b + one + 2);
	ck_assert_uint_eq(mlen, n - one - 2);
	ck_assert_int_eq(egw_dns_stream_next(b, n, &off, &msg, &mlen), 0);
	/* check changes nothing; accept moves next past the segment */
	ck_assert_uint_eq(s.next, 1000);
	egw_dns_stream_accept(&s, 1000, n);
	ck_assert_uint_eq(s.next, 1000 + n);
	ck_assert_int_eq(s.known, 2);
}
END_TEST

START_TEST(split_query_is_partial)
{
	struct egw_dns_stream s;
	uint8_t b[512];
	size_t n = 0;
	egw_dns_stream_start(&s, 0);
	put_query(b, &n, "gmail.com");
	/* the first half, and the lone first byte of a length */
	ck_assert_int_eq(egw_dns_stream_check(&s, 1, b, n - 5), EGW_DNSS_PARTIAL);
	ck_assert_int_eq(egw_dns_stream_check(&s, 1, b, 1), EGW_DNSS_PARTIAL);
	/* a whole query followed by the start of another */
	size_t m = n;
	put_query(b, &n, "mail.qq.com");
	ck_assert_int_eq(egw_dns_stream_check(&s, 1, b, m + 3), EGW_DNSS_PARTIAL);
	ck_assert_int_eq(egw_dns_stream_check(&s, 1, b, 0), EGW_DNSS_EMPTY);
	ck_assert_str_eq(egw_dns_stream_strerror(EGW_DNSS_PARTIAL),
			 "the segment ends inside a DNS message (a message split over segments)");
}
END_TEST

START_TEST(continuation_and_out_of_order_are_not_at_a_boundary)
{
	struct egw_dns_stream s;
	uint8_t b[512];
	size_t n = 0;
	egw_dns_stream_start(&s, 100);
	put_query(b, &n, "a.example.cn");
	/* the rest of a message that began in an earlier segment: its
	 * bytes may well look like whole messages, its seq is not one */
	ck_assert_int_eq(egw_dns_stream_check(&s, 101 + 7, b, n), EGW_DNSS_NOT_BOUNDARY);
	/* ahead of the stream (a segment before it was lost), and behind */
	ck_assert_int_eq(egw_dns_stream_check(&s, 101 + 40, b, n), EGW_DNSS_NOT_BOUNDARY);
	ck_assert_int_eq(egw_dns_stream_check(&s, 90, b, n), EGW_DNSS_NOT_BOUNDARY);
	ck_assert_int_eq(egw_dns_stream_check(&s, 101, b, n), 1);
}
END_TEST

START_TEST(first_segment_without_handshake_sets_the_start)
{
	struct egw_dns_stream s;
	uint8_t b[512];
	size_t n = 0;
	memset(&s, 0, sizeof(s));
	put_query(b, &n, "www.example.cn");
	ck_assert_int_eq(egw_dns_stream_check(&s, 5555, b, n), 1);
	egw_dns_stream_accept(&s, 5555, n);
	ck_assert_int_eq(egw_dns_stream_check(&s, 5555 + (uint32_t)n, b, n), 1);
	ck_assert_int_eq(egw_dns_stream_check(&s, 5556, b, n), EGW_DNSS_NOT_BOUNDARY);
}
END_TEST

START_TEST(retransmissions_are_judged_on_their_own_bytes)
{
	struct egw_dns_stream s;
	uint8_t a[512], c[512], r[1024];
	size_t na = 0, nc = 0, nr = 0;
	egw_dns_stream_start(&s, 0xfffffff0u);   /* across the wrap */
	uint32_t s0 = 0xfffffff1u;
	put_query(a, &na, "www.example.cn");
	put_query(c, &nc, "news.example.cn");
	egw_dns_stream_accept(&s, s0, na);
	egw_dns_stream_accept(&s, s0 + (uint32_t)na, nc);
	ck_assert_uint_eq(s.n, 2);
	/* the same start and length, another name: judged again */
	put_query(r, &nr, "xxxxx.gmail.com");
	ck_assert_uint_eq(nr, nc);
	size_t first = nr;
	ck_assert_int_eq(egw_dns_stream_check(&s, s0 + (uint32_t)na, r, nr), 1);
	/* a retransmission of the first segment collapsed with the second
	 * (as Linux retransmits): whole, boundary where the first ended */
	memcpy(r, a, na);
	memcpy(r + na, c, nc);
	ck_assert_int_eq(egw_dns_stream_check(&s, s0, r, na + nc), 2);
	/* the same range, boundaries elsewhere: a message would straddle
	 * the end of the first segment, which the resolver may already hold */
	nr = 0;
	put_query(r, &nr, "www.example.cn.x");
	put_query(r, &nr, "b.cn");
	ck_assert_uint_ne(first, na);
	ck_assert_int_eq(egw_dns_stream_check(&s, s0, r, nr), EGW_DNSS_MISALIGNED);
	/* shorter than what it repeats and ending inside it */
	nr = 0;
	put_query(r, &nr, "b.cn");
	ck_assert_uint_lt(nr, na);
	ck_assert_int_eq(egw_dns_stream_check(&s, s0, r, nr), EGW_DNSS_MISALIGNED);
	/* longer: past next, new data, which then counts as sent */
	memcpy(r, c, nc);
	nr = nc;
	put_query(r, &nr, "x.example.cn");
	ck_assert_int_eq(egw_dns_stream_check(&s, s0 + (uint32_t)na, r, nr), 2);
	egw_dns_stream_accept(&s, s0 + (uint32_t)na, nr);
	ck_assert_uint_eq(s.next, s0 + (uint32_t)(na + nr));
	ck_assert_uint_eq(s.n, 3);
}
END_TEST

START_TEST(only_the_last_starts_are_remembered)
{
	struct egw_dns_stream s;
	uint8_t b[64];
	size_t n = 0;
	egw_dns_stream_start(&s, 0);
	put_query(b, &n, "a.cn");
	for (unsigned i = 0; i < EGW_DNS_STREAM_STARTS + 2; i++)
		egw_dns_stream_accept(&s, 1 + (uint32_t)(i * n), n);
	ck_assert_uint_eq(s.n, EGW_DNS_STREAM_STARTS);
	uint32_t oldest = s.next - (uint32_t)(EGW_DNS_STREAM_STARTS * n);
	ck_assert_int_eq(egw_dns_stream_check(&s, oldest, b, n), 1);
	ck_assert_int_eq(egw_dns_stream_check(&s, oldest - (uint32_t)n, b, n),
			 EGW_DNSS_NOT_BOUNDARY);
}
END_TEST

START_TEST(too_many_messages_and_syn_after_data)
{
	struct egw_dns_stream s;
	uint8_t b[4096];
	size_t n = 0;
	egw_dns_stream_start(&s, 0);
	for (unsigned i = 0; i < EGW_DNS_STREAM_MAX_MSGS; i++)
		put_query(b, &n, "a.cn");
	ck_assert_int_eq(egw_dns_stream_check(&s, 1, b, n), EGW_DNS_STREAM_MAX_MSGS);
	put_query(b, &n, "a.cn");
	ck_assert_int_eq(egw_dns_stream_check(&s, 1, b, n), EGW_DNSS_TOO_MANY);
	/* a SYN again before any data: a new ISN is taken */
	ck_assert_int_eq(egw_dns_stream_start(&s, 500), 0);
	ck_assert_uint_eq(s.next, 501);
	egw_dns_stream_accept(&s, 501, 20);
	/* after data: refused, and the stream stays where it was */
	ck_assert_int_eq(egw_dns_stream_start(&s, 7000), EGW_DNSS_NOT_BOUNDARY);
	ck_assert_uint_eq(s.next, 521);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dns_stream");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, one_and_pipelined_queries_are_whole);
	tcase_add_test(tc, split_query_is_partial);
	tcase_add_test(tc, continuation_and_out_of_order_are_not_at_a_boundary);
	tcase_add_test(tc, first_segment_without_handshake_sets_the_start);
	tcase_add_test(tc, retransmissions_are_judged_on_their_own_bytes);
	tcase_add_test(tc, only_the_last_starts_are_remembered);
	tcase_add_test(tc, too_many_messages_and_syn_after_data);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
