/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <egw/dns_msg.h>

#define DATA EGW_SOURCE_DIR "/tests/unit/rules/data/"

static size_t load(const char *name, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(name, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", name);
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	ck_assert_uint_gt(n, 0);
	return n;
}

/* Query of "mail.qq.com" (as "Mail.QQ.com") type A sent by dig 9.18 with
 * EDNS (an OPT record with a cookie follows the question). */
static size_t dig_edns(uint8_t *buf)
{
	return load(DATA "dig_edns_mail.QQ.com_A.bin", buf, 512);
}

START_TEST(decode_dig_query)
{
	uint8_t m[512];
	size_t n = dig_edns(m);
	ck_assert_uint_eq(n, 52);
	struct egw_dns_query q;
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_OK);
	ck_assert_uint_eq(q.id, 0x4ce6);
	ck_assert_uint_eq(q.flags, 0x0120);
	ck_assert_uint_eq(q.qdcount, 1);
	ck_assert_str_eq(q.qname, "mail.qq.com");
	ck_assert_uint_eq(q.qname_len, 11);
	ck_assert_uint_eq(q.qtype, 1);
	ck_assert_uint_eq(q.qclass, 1);
	ck_assert_uint_eq(q.labels, 3);
	ck_assert_uint_eq(q.max_label, 4);
	ck_assert_uint_eq(q.question_end, 29);
	/* "mailqqcom": m and q twice, a i l c o once, 9 characters */
	double want = -(2 * (2 / 9.0) * log2(2 / 9.0) + 5 * (1 / 9.0) * log2(1 / 9.0));
	ck_assert_double_eq_tol(q.entropy_bits, want, 1e-12);

	ck_assert_uint_eq(load(DATA "dig_noedns_www.gmail.com_AAAA.bin", m, sizeof(m)), 31);
	ck_assert_int_eq(egw_dns_decode_query(m, 31, &q), EGW_DNS_OK);
	ck_assert_str_eq(q.qname, "www.gmail.com");
	ck_assert_uint_eq(q.qtype, 28);
	ck_assert_uint_eq(q.question_end, 31);
	ck_assert_str_eq(egw_dns_type_name(q.qtype), "AAAA");
}
END_TEST

START_TEST(truncated_at_every_length)
{
	uint8_t m[512];
	size_t n = dig_edns(m);
	struct egw_dns_query q;
	for (size_t len = 0; len < 29; len++) {
		uint8_t copy[64];
		memcpy(copy, m, len);
		ck_assert_msg(egw_dns_decode_query(copy, len, &q) == EGW_DNS_TRUNCATED,
			      "length %zu", len);
	}
	for (size_t len = 29; len <= n; len++)
		ck_assert_int_eq(egw_dns_decode_query(m, len, &q), EGW_DNS_OK);
}
END_TEST

/* header with id 0x1234, flags, qdcount, then the given question bytes */
static size_t mk(uint8_t *m, uint16_t flags, uint16_t qd, const void *qbytes, size_t qlen)
{
	uint8_t h[12] = { 0x12, 0x34, (uint8_t)(flags >> 8), (uint8_t)flags,
			  (uint8_t)(qd >> 8), (uint8_t)qd, 0, 0, 0, 0, 0, 0 };
	memcpy(m, h, 12);
	memcpy(m + 12, qbytes, qlen);
	return 12 + qlen;
}

#define Q(s) s, sizeof(s) - 1

START_TEST(not_a_query)
{
	uint8_t m[600];
	struct egw_dns_query q;
	size_t n = mk(m, 0x8180, 1, Q("\1a\2cn\0\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_NOT_QUERY);
	n = mk(m, 0x2000, 1, Q("\1a\2cn\0\0\1\0\1")); /* opcode 4 NOTIFY */
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_NOT_QUERY);
	n = mk(m, 0x2800, 1, Q("\1a\2cn\0\0\1\0\1")); /* opcode 5 UPDATE */
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_NOT_QUERY);
	n = mk(m, 0x0100, 0, Q("\1a\2cn\0\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_NO_QUESTION);
	n = mk(m, 0x0100, 2, Q("\1a\2cn\0\0\1\0\1\1b\2cn\0\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_NO_QUESTION);
	n = mk(m, 0x0100, 1, Q("\1a\2cn\0\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_OK);
	ck_assert_str_eq(q.qname, "a.cn");
}
END_TEST

START_TEST(bad_names)
{
	uint8_t m[600];
	struct egw_dns_query q;
	/* compression pointer, alone and after a label */
	size_t n = mk(m, 0x0100, 1, Q("\xc0\x0c\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
	n = mk(m, 0x0100, 1, Q("\3www\xc0\x0c\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
	/* a pointer looping on itself is refused too, not followed */
	n = mk(m, 0x0100, 1, Q("\xc0\x0c"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
	/* extended (0x40) and reserved (0x80) label types */
	n = mk(m, 0x0100, 1, Q("\x41" "a\0\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
	n = mk(m, 0x0100, 1, Q("\x80\0\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
	/* bytes that do not belong in a name */
	n = mk(m, 0x0100, 1, Q("\3a.b\2cn\0\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
	n = mk(m, 0x0100, 1, Q("\3a b\2cn\0\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
	n = mk(m, 0x0100, 1, Q("\3a\0b\2cn\0\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
	n = mk(m, 0x0100, 1, Q("\3a\xff" "b\2cn\0\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
	n = mk(m, 0x0100, 1, Q("\3a\\b\2cn\0\0\1\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
}
END_TEST

/* Build a query for labels of the given lengths ('a'..'z' cycling). */
static size_t mk_long(uint8_t *m, const unsigned *lens, unsigned nl)
{
	uint8_t qb[600];
	size_t o = 0;
	for (unsigned i = 0; i < nl; i++) {
		qb[o++] = (uint8_t)lens[i];
		for (unsigned k = 0; k < lens[i]; k++)
			qb[o++] = (uint8_t)('a' + (k + i) % 26);
	}
	memcpy(qb + o, "\0\0\x10\0\1", 5);
	return mk(m, 0x0100, 1, qb, o + 5);
}

START_TEST(name_limits)
{
	uint8_t m[600];
	struct egw_dns_query q;
	unsigned ok[] = { 63, 63, 63, 61 }; /* 255 bytes on the wire */
	size_t n = mk_long(m, ok, 4);
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_OK);
	ck_assert_uint_eq(q.qname_len, 253);
	ck_assert_uint_eq(strlen(q.qname), 253);
	ck_assert_uint_eq(q.labels, 4);
	ck_assert_uint_eq(q.max_label, 63);
	ck_assert_uint_eq(q.qtype, 16);
	ck_assert_str_eq(egw_dns_type_name(q.qtype), "TXT");
	unsigned bad[] = { 63, 63, 63, 62 }; /* 256 bytes */
	n = mk_long(m, bad, 4);
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
	unsigned many[128];
	for (int i = 0; i < 128; i++)
		many[i] = 1; /* 257 bytes */
	n = mk_long(m, many, 128);
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_BAD_NAME);
	n = mk_long(m, many, 127); /* 255 bytes */
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_OK);
	ck_assert_uint_eq(q.labels, 127);
	ck_assert_uint_eq(q.qname_len, 253);
	/* the root */
	n = mk(m, 0x0100, 1, Q("\0\0\2\0\1"));
	ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_OK);
	ck_assert_str_eq(q.qname, "");
	ck_assert_uint_eq(q.labels, 0);
	ck_assert_uint_eq(q.question_end, 17);
	ck_assert_double_eq(q.entropy_bits, 0.0);
}
END_TEST

START_TEST(entropy_of_known_strings)
{
	ck_assert_double_eq(egw_dns_entropy("", 0), 0.0);
	ck_assert_double_eq(egw_dns_entropy("...", 3), 0.0);
	ck_assert_double_eq(egw_dns_entropy("aaaa", 4), 0.0);
	ck_assert_double_eq_tol(egw_dns_entropy("ab", 2), 1.0, 1e-12);
	ck_assert_double_eq_tol(egw_dns_entropy("a.b", 3), 1.0, 1e-12);
	ck_assert_double_eq_tol(egw_dns_entropy("abcd", 4), 2.0, 1e-12);
	ck_assert_double_eq_tol(egw_dns_entropy("0123456789abcdef", 16), 4.0, 1e-12);
	ck_assert_double_eq_tol(egw_dns_entropy("aab", 3), 0.9182958340544896, 1e-12);
	/* only len bytes count */
	ck_assert_double_eq_tol(egw_dns_entropy("abcd", 2), 1.0, 1e-12);
}
END_TEST

/* The textbook sum, term by term: what egw_dns_entropy must agree with. */
static double entropy_reference(const char *s, size_t len)
{
	double count[256] = { 0 }, n = 0, h = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '.')
			count[(unsigned char)s[i]]++, n++;
	for (unsigned c = 0; c < 256 && n > 0; c++)
		if (count[c] > 0)
			h -= count[c] / n * log2(count[c] / n);
	return h;
}

START_TEST(entropy_matches_the_definition)
{
	/* Random strings over small and large alphabets, every length a name
	 * can have and longer ones (another path inside). */
	char s[600];
	unsigned seed = 12345;
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(round % 600);
		unsigned alphabet = 1 + (unsigned)(round * 7) % 255;
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			s[i] = (char)(1 + (seed >> 16) % alphabet);
		}
		double got = egw_dns_entropy(s, len), want = entropy_reference(s, len);
		ck_assert_msg(fabs(got - want) < 1e-9, "len %zu alphabet %u: %.12f, want %.12f",
			      len, alphabet, got, want);
	}
	/* Every count up to a full 255-byte name of one character. */
	memset(s, 'x', 255);
	ck_assert_double_eq_tol(egw_dns_entropy(s, 255), 0.0, 1e-12);
	s[0] = 'y';
	ck_assert_double_eq_tol(egw_dns_entropy(s, 255), entropy_reference(s, 255), 1e-12);
}
END_TEST

/* Every byte value inside a label: printable ASCII but '.', '\\' and the
 * space is kept (lower-cased), any other byte makes the name BAD_NAME. */
START_TEST(every_label_byte)
{
	uint8_t m[64];
	struct egw_dns_query q;
	unsigned ok = 0;
	for (unsigned c = 0; c < 256; c++) {
		uint8_t qb[] = { 3, 'X', (uint8_t)c, 'y', 2, 'c', 'n', 0, 0, 1, 0, 1 };
		size_t n = mk(m, 0x0100, 1, qb, sizeof(qb));
		int rc = egw_dns_decode_query(m, n, &q);
		if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
			char want[] = { 'x', (char)(c >= 'A' && c <= 'Z' ? c + 32 : c), 'y', '.',
					'c', 'n', 0 };
			ck_assert_msg(rc == EGW_DNS_OK, "byte 0x%02x: %d", c, rc);
			ck_assert_str_eq(q.qname, want);
			ck_assert_double_eq(q.entropy_bits, egw_dns_entropy(want, 6));
			ok++;
		} else {
			ck_assert_msg(rc == EGW_DNS_BAD_NAME, "byte 0x%02x: %d", c, rc);
			/* the name read so far: the label's first byte */
			ck_assert_str_eq(q.qname, "x");
			ck_assert_uint_eq(q.labels, 0);
		}
	}
	ck_assert_uint_eq(ok, 0x7f - 0x21 - 2);
}
END_TEST

/*
 * Random questions (1..6 labels of 1..63 bytes of mixed case, up to the
 * 255-byte wire limit): the name lower-cased and dotted, the label counts,
 * and the entropy equal to the bit to egw_dns_entropy of the decoded name.
 * Each decoded twice, into a result cleared and one filled with garbage:
 * every field is the same (nothing is left from before), also for each
 * truncation of the message.
 */
START_TEST(random_questions)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
	uint8_t m[600], qb[600];
	char want[600];
	unsigned seed = 777;
	for (int round = 0; round < 3000; round++) {
		seed = seed * 1103515245u + 12345u;
		unsigned nl = 1 + (seed >> 16) % 6, maxl = 0;
		size_t o = 0, w = 0;
		for (unsigned l = 0; l < nl; l++) {
			seed = seed * 1103515245u + 12345u;
			unsigned len = 1 + (seed >> 16) % (round % 3 ? 12 : 63);
			if (o + 1 + len + 1 > 255)
				break;
			qb[o++] = (uint8_t)len;
			if (w)
				want[w++] = '.';
			for (unsigned k = 0; k < len; k++) {
				seed = seed * 1103515245u + 12345u;
				char c = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
				qb[o++] = (uint8_t)c;
				want[w++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			}
			if (len > maxl)
				maxl = len;
		}
		want[w] = 0;
		unsigned labels = 0;
		for (size_t i = 0; i < o; i += 1 + qb[i])
			labels++;
		memcpy(qb + o, "\0\0\x1c\0\1", 5);
		size_t n = mk(m, 0x0100, 1, qb, o + 5);
		struct egw_dns_query q;
		memset(&q, 0x5a, sizeof(q));
		ck_assert_int_eq(egw_dns_decode_query(m, n, &q), EGW_DNS_OK);
		ck_assert_str_eq(q.qname, want);
		ck_assert_uint_eq(q.qname_len, w);
		ck_assert_uint_eq(q.labels, labels);
		ck_assert_uint_eq(q.max_label, maxl);
		ck_assert_uint_eq(q.qtype, 28);
		ck_assert_uint_eq(q.question_end, n);
		ck_assert_msg(q.entropy_bits == egw_dns_entropy(want, w), "%s: %.17g vs %.17g",
			      want, q.entropy_bits, egw_dns_entropy(want, w));
		for (size_t cut = 0; cut <= n; cut += 1 + cut / 8) {
			struct egw_dns_query a, b;
			memset(&a, 0, sizeof(a));
			memset(&b, 0xa5, sizeof(b));
			int ra = egw_dns_decode_query(m, cut, &a);
			int rb = egw_dns_decode_query(m, cut, &b);
			ck_assert_int_eq(ra, rb);
			ck_assert_int_eq(ra, cut == n ? EGW_DNS_OK : EGW_DNS_TRUNCATED);
			ck_assert_str_eq(a.qname, b.qname);
			ck_assert(a.id == b.id && a.flags == b.flags && a.qdcount == b.qdcount &&
				  a.qtype == b.qtype && a.qclass == b.qclass &&
				  a.qname_len == b.qname_len && a.labels == b.labels &&
				  a.max_label == b.max_label && a.entropy_bits == b.entropy_bits &&
				  a.question_end == b.question_end);
			/* what was read of the name, and nothing more */
			ck_assert_uint_le(strlen(a.qname), w);
			ck_assert(strncmp(a.qname, want, strlen(a.qname)) == 0);
		}
	}
}
END_TEST

START_TEST(nxdomain_field_by_field)
{
	uint8_t m[512], r[512];
	size_t n = dig_edns(m);
	memset(r, 0xee, sizeof(r));
	int rl = egw_dns_build_response(m, n, 3, r, sizeof(r));
	ck_assert_int_eq(rl, 29);
	ck_assert_uint_eq(r[0], 0x4c); /* id */
	ck_assert_uint_eq(r[1], 0xe6);
	/* QR=1 opcode=0 AA=0 TC=0 RD=1 | RA=1 Z=0 AD=0 CD=0 rcode=3 */
	ck_assert_uint_eq(r[2], 0x81);
	ck_assert_uint_eq(r[3], 0x83);
	ck_assert_uint_eq(r[4], 0); /* qdcount 1 */
	ck_assert_uint_eq(r[5], 1);
	for (int i = 6; i < 12; i++) /* an, ns, ar: 0 (no OPT echoed) */
		ck_assert_uint_eq(r[i], 0);
	ck_assert_mem_eq(r + 12, "\4Mail\2QQ\3com\0\0\1\0\1", 17); /* case kept */
	ck_assert_uint_eq(r[29], 0xee);
	/* the response is not a query, but it carries the same question */
	struct egw_dns_query q;
	ck_assert_int_eq(egw_dns_decode_query(r, (size_t)rl, &q), EGW_DNS_NOT_QUERY);
	r[2] &= 0x7f;
	ck_assert_int_eq(egw_dns_decode_query(r, (size_t)rl, &q), EGW_DNS_OK);
	ck_assert_str_eq(q.qname, "mail.qq.com");

	/* RD clear stays clear; REFUSED */
	m[2] &= (uint8_t)~0x01;
	rl = egw_dns_build_response(m, n, 5, r, sizeof(r));
	ck_assert_int_eq(rl, 29);
	ck_assert_uint_eq(r[2], 0x80);
	ck_assert_uint_eq(r[3], 0x85);
}
END_TEST

START_TEST(response_never_writes_past_cap)
{
	uint8_t m[512], r[64];
	size_t n = dig_edns(m);
	for (size_t cap = 0; cap < 29; cap++) {
		memset(r, 0xee, sizeof(r));
		ck_assert_int_eq(egw_dns_build_response(m, n, 3, r, cap), -1);
		for (size_t i = 0; i < sizeof(r); i++)
			ck_assert_uint_eq(r[i], 0xee);
	}
	ck_assert_int_eq(egw_dns_build_response(m, n, 3, r, 29), 29);
	ck_assert_int_eq(egw_dns_build_response(m, n, 16, r, sizeof(r)), -1);
	ck_assert_int_eq(egw_dns_build_response(m, 20, 3, r, sizeof(r)), -1);
	/* a response is not answered */
	uint8_t resp[64];
	ck_assert_int_eq(egw_dns_build_response(m, n, 3, resp, sizeof(resp)), 29);
	ck_assert_int_eq(egw_dns_build_response(resp, 29, 3, r, sizeof(r)), -1);
	/* in place */
	ck_assert_int_eq(egw_dns_build_response(m, n, 2, m, n), 29);
	ck_assert_uint_eq(m[3], 0x82);
	ck_assert_mem_eq(m + 12, "\4Mail\2QQ\3com\0\0\1\0\1", 17);
}
END_TEST

START_TEST(names_for_logs)
{
	ck_assert_str_eq(egw_dns_type_name(1), "A");
	ck_assert_str_eq(egw_dns_type_name(28), "AAAA");
	ck_assert_str_eq(egw_dns_type_name(65), "HTTPS");
	ck_assert_str_eq(egw_dns_type_name(255), "ANY");
	ck_assert_ptr_null(egw_dns_type_name(0));
	ck_assert_ptr_null(egw_dns_type_name(9999));
	ck_assert_str_eq(egw_dns_rcode_name(0), "NOERROR");
	ck_assert_str_eq(egw_dns_rcode_name(2), "SERVFAIL");
	ck_assert_str_eq(egw_dns_rcode_name(3), "NXDOMAIN");
	ck_assert_str_eq(egw_dns_rcode_name(5), "REFUSED");
	ck_assert_ptr_null(egw_dns_rcode_name(-1));
	ck_assert_ptr_null(egw_dns_rcode_name(16));
	ck_assert_str_eq(egw_dns_strerror(EGW_DNS_TRUNCATED),
			 "message ends inside its header or question");
	ck_assert_str_eq(egw_dns_strerror(EGW_DNS_NO_QUESTION), "question count is not 1");
	ck_assert_str_ne(egw_dns_strerror(EGW_DNS_BAD_NAME), egw_dns_strerror(EGW_DNS_NOT_QUERY));
	ck_assert_str_eq(egw_dns_strerror(42), "unknown DNS decoding error");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dns_msg");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, decode_dig_query);
	tcase_add_test(tc, truncated_at_every_length);
	tcase_add_test(tc, not_a_query);
	tcase_add_test(tc, bad_names);
	tcase_add_test(tc, name_limits);
	tcase_add_test(tc, entropy_of_known_strings);
	tcase_add_test(tc, entropy_matches_the_definition);
	tcase_add_test(tc, nxdomain_field_by_field);
	tcase_add_test(tc, response_never_writes_past_cap);
	tcase_add_test(tc, names_for_logs);
	tcase_add_test(tc, every_label_byte);
	tcase_add_test(tc, random_questions);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
