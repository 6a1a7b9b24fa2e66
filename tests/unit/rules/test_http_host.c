/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <egw/http_host.h>

#define DATA EGW_SOURCE_DIR "/tests/unit/rules/data/"

static size_t load(const char *name, uint8_t *dst, size_t cap)
{
	FILE *f = fopen(name, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", name);
	size_t n = fread(dst, 1, cap, f);
	fclose(f);
	ck_assert_uint_gt(n, 0);
	return n;
}

static char out[256];

static int host(const char *s)
{
	return egw_http_host((const uint8_t *)s, strlen(s), out, sizeof(out));
}

START_TEST(real_requests)
{
	uint8_t b[1024];
	size_t n = load(DATA "http_curl_Mail.QQ.com_8080.bin", b, sizeof(b));
	ck_assert_int_eq(egw_http_host(b, n, out, sizeof(out)), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "mail.qq.com");
	n = load(DATA "http_curl_proxy_gmail.com.bin", b, sizeof(b));
	ck_assert_int_eq(egw_http_host(b, n, out, sizeof(out)), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "gmail.com");
}
END_TEST

START_TEST(truncated_at_every_length)
{
	static const char *files[] = {
		DATA "http_curl_Mail.QQ.com_8080.bin",
		DATA "http_curl_proxy_gmail.com.bin",
	};
	uint8_t b[1024];
	for (size_t f = 0; f < 2; f++) {
		size_t n = load(files[f], b, sizeof(b));
		for (size_t len = 0; len < n; len++) {
			uint8_t cut[1024];
			memcpy(cut, b, len);
			ck_assert_msg(egw_http_host(cut, len, out, sizeof(out)) ==
				      EGW_HOST_INCOMPLETE, "%s cut at %zu", files[f], len);
		}
		/* a body after the headers changes nothing */
		memcpy(b + n, "\x16\x03\x01zzzz", 7);
		ck_assert_int_eq(egw_http_host(b, n + 7, out, sizeof(out)), EGW_HOST_FOUND);
	}
}
END_TEST

START_TEST(host_forms)
{
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: Example.COM\r\n\r\n"), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "example.com");
	/* name case, optional whitespace, port, trailing dot */
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nhOST:\t a.b.cn:8080 \t\r\n\r\n"), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "a.b.cn");
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost:a.b.cn.\r\n\r\n"), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "a.b.cn");
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: a.b.cn:\r\n\r\n"), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "a.b.cn");
	/* addresses */
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: 198.51.100.80\r\n\r\n"), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "198.51.100.80");
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: [2001:DB8:ff::80]:8080\r\n\r\n"),
			 EGW_HOST_FOUND);
	ck_assert_str_eq(out, "2001:db8:ff::80");
	ck_assert_int_eq(host("GET / HTTP/1.0\r\nHost: [::1]\r\n\r\n"), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "::1");
	/* bare LF line ends, HTTP/1.0, other methods */
	ck_assert_int_eq(host("POST /x HTTP/1.0\nHost: qq.com\n\n"), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "qq.com");
	ck_assert_int_eq(host("OPTIONS * HTTP/1.1\r\nHost: qq.com\r\n\r\n"), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "qq.com");
	/* the same Host twice is accepted */
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: qq.com\r\nX: 1\r\nhost: QQ.com\r\n\r\n"),
			 EGW_HOST_FOUND);
	ck_assert_str_eq(out, "qq.com");
	/* header names that merely contain "host" */
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nX-Forwarded-Host: evil.cn\r\nHosts: x.cn\r\n"
			      "Host: good.cn\r\n\r\n"), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "good.cn");
}
END_TEST

START_TEST(target_authority_wins)
{
	/* RFC 9112 3.2.2: absolute-form target over Host */
	ck_assert_int_eq(host("GET http://Blocked.CN:81/p?q HTTP/1.1\r\nHost: allowed.cn\r\n\r\n"),
			 EGW_HOST_FOUND);
	ck_assert_str_eq(out, "blocked.cn");
	ck_assert_int_eq(host("GET HTTPS://x.cn?a HTTP/1.1\r\n\r\n"), EGW_HOST_FOUND);
	ck_assert_str_eq(out, "x.cn");
	ck_assert_int_eq(host("GET http://[2001:db8::1]/ HTTP/1.1\r\nHost: a.cn\r\n\r\n"),
			 EGW_HOST_FOUND);
	ck_assert_str_eq(out, "2001:db8::1");
	/* CONNECT's authority-form */
	ck_assert_int_eq(host("CONNECT mail.qq.com:443 HTTP/1.1\r\nHost: other.cn:443\r\n\r\n"),
			 EGW_HOST_FOUND);
	ck_assert_str_eq(out, "mail.qq.com");
	/* absent */
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), EGW_HOST_ABSENT);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(host("GET / HTTP/1.0\r\n\r\n"), EGW_HOST_ABSENT);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost:\r\n\r\n"), EGW_HOST_ABSENT);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost:   \r\n\r\n"), EGW_HOST_ABSENT);
}
END_TEST

START_TEST(malformed_requests)
{
	/* request smuggling: two different Hosts */
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: good.cn\r\nHost: evil.cn\r\n\r\n"),
			 EGW_HOST_MALFORMED);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: good.cn\r\nHost: good.cn:80\r\n\r\n"),
			 EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET http://a.cn/ HTTP/1.1\r\nHost: b.cn\r\nHost: c.cn\r\n\r\n"),
			 EGW_HOST_MALFORMED);
	/* obs-fold, space before the colon, no colon, CR alone, control bytes */
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: a.cn\r\n evil.cn\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost : a.cn\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost a.cn\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\n: a.cn\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: a.cn\rX: y\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nX: a\x01" "b\r\nHost: a.cn\r\n\r\n"),
			 EGW_HOST_MALFORMED);
	uint8_t nul[] = "GET / HTTP/1.1\r\nHost: a\0.cn\r\n\r\n";
	ck_assert_int_eq(egw_http_host(nul, sizeof(nul) - 1, out, sizeof(out)), EGW_HOST_MALFORMED);
	/* bad hosts */
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: user@a.cn\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET http://good.cn@evil.cn/ HTTP/1.1\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: a..cn\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: a cn\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: a.cn:80x\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: a.cn:123456\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: a.cn:80:80\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: :80\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: [2001:db8::1\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: [not-v6]\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: caf\xc3\xa9.fr\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: 999.1.1.1\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: 10.1.2\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: 2001\r\n\r\n"), EGW_HOST_MALFORMED);
	/* targets that are neither origin-, absolute- nor asterisk-form */
	ck_assert_int_eq(host("GET a.cn:80 HTTP/1.1\r\nHost: a.cn\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET http:/a.cn HTTP/1.1\r\nHost: a.cn\r\n\r\n"), EGW_HOST_MALFORMED);
	ck_assert_int_eq(host("GET http:///x HTTP/1.1\r\nHost: a.cn\r\n\r\n"), EGW_HOST_MALFORMED);
	/* a name too long */
	char big[400];
	strcpy(big, "GET / HTTP/1.1\r\nHost: ");
	size_t o = strlen(big);
	for (int i = 0; i < 254; i++)
		big[o++] = (i % 60 == 59) ? '.' : 'a';
	strcpy(big + o, "\r\n\r\n");
	ck_assert_int_eq(host(big), EGW_HOST_MALFORMED);
}
END_TEST

START_TEST(not_http)
{
	ck_assert_int_eq(host("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"), EGW_HOST_NOT_HTTP);
	ck_assert_int_eq(host("\x16\x03\x01\x02\x00"), EGW_HOST_NOT_HTTP);
	ck_assert_int_eq(host("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), EGW_HOST_NOT_HTTP);
	ck_assert_int_eq(host("GET /\r\n"), EGW_HOST_NOT_HTTP); /* HTTP/0.9 */
	ck_assert_int_eq(host("GET / HTTP/1.x\r\n\r\n"), EGW_HOST_NOT_HTTP);
	ck_assert_int_eq(host("GET / HTTP/1.1 \r\n\r\n"), EGW_HOST_NOT_HTTP);
	ck_assert_int_eq(host("GET  / HTTP/1.1\r\n\r\n"), EGW_HOST_NOT_HTTP);
	ck_assert_int_eq(host(" GET / HTTP/1.1\r\n\r\n"), EGW_HOST_NOT_HTTP);
	ck_assert_int_eq(host("GET / http/1.1\r\n\r\n"), EGW_HOST_NOT_HTTP);
	ck_assert_int_eq(host("GET / HTTP/1.1\rX"), EGW_HOST_NOT_HTTP);
	ck_assert_int_eq(host("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA / HTTP/1.1\r\n\r\n"),
			 EGW_HOST_NOT_HTTP);
	/* prefixes that may still become a request */
	ck_assert_int_eq(host(""), EGW_HOST_INCOMPLETE);
	ck_assert_int_eq(host("G"), EGW_HOST_INCOMPLETE);
	ck_assert_int_eq(host("GET /very/long"), EGW_HOST_INCOMPLETE);
	ck_assert_int_eq(host("GET / HTTP/1.1\r\nHost: a.cn\r\n"), EGW_HOST_INCOMPLETE);
}
END_TEST

/* RFC 9110 5.6.2 tchar, spelled out: the oracle for the two tests below. */
static int rfc_tchar(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", (int)c) != NULL);
}

/*
 * Every byte value as a request's first byte: a method token character
 * keeps the request (the same Host found), any other byte makes it not
 * HTTP (the early refusal of the first byte, as the request line decides).
 */
START_TEST(every_first_byte)
{
	const char *rest = "ET / HTTP/1.1\r\nHost: a.example\r\n\r\n";
	uint8_t b[64];
	size_t n = 1 + strlen(rest);
	memcpy(b + 1, rest, n - 1);
	unsigned found = 0;
	for (unsigned c = 0; c < 256; c++) {
		b[0] = (uint8_t)c;
		/* the header's predicate for callers skipping the call */
		ck_assert_msg(egw_http_tchar((uint8_t)c) == !!rfc_tchar(c), "tchar 0x%02x", c);
		strcpy(out, "stale");
		int rc = egw_http_host(b, n, out, sizeof(out));
		if (rfc_tchar(c)) {
			ck_assert_msg(rc == EGW_HOST_FOUND, "first byte 0x%02x: %d", c, rc);
			ck_assert_str_eq(out, "a.example");
			found++;
		} else {
			ck_assert_msg(rc == EGW_HOST_NOT_HTTP, "first byte 0x%02x: %d", c, rc);
			ck_assert_str_eq(out, "");
		}
		/* alone, the byte is a prefix of a method or nothing HTTP */
		rc = egw_http_host(b, 1, out, sizeof(out));
		ck_assert_int_eq(rc, rfc_tchar(c) ? EGW_HOST_INCOMPLETE : EGW_HOST_NOT_HTTP);
	}
	ck_assert_uint_eq(found, 26 + 26 + 10 + 15);
}
END_TEST

/* Every byte value inside a field name: a token character or the colon
 * keeps the request well-formed, any other byte is MALFORMED. */
START_TEST(every_field_name_byte)
{
	const char *head = "GET / HTTP/1.1\r\nHost: a.example\r\nX";
	const char *tail = "y: v\r\n\r\n";
	uint8_t b[96];
	size_t h = strlen(head), t = strlen(tail);
	memcpy(b, head, h);
	memcpy(b + h + 1, tail, t);
	for (unsigned c = 0; c < 256; c++) {
		b[h] = (uint8_t)c;
		int rc = egw_http_host(b, h + 1 + t, out, sizeof(out));
		if (rfc_tchar(c) || c == ':') {
			ck_assert_msg(rc == EGW_HOST_FOUND, "field byte 0x%02x: %d", c, rc);
			ck_assert_str_eq(out, "a.example");
		} else {
			ck_assert_msg(rc == EGW_HOST_MALFORMED, "field byte 0x%02x: %d", c, rc);
		}
	}
}
END_TEST

START_TEST(small_out_buffer)
{
	char small[8];
	const char *r = "GET / HTTP/1.1\r\nHost: gmail.com\r\n\r\n";
	ck_assert_int_eq(egw_http_host((const uint8_t *)r, strlen(r), small, sizeof(small)),
			 EGW_HOST_MALFORMED);
	char fits[10];
	ck_assert_int_eq(egw_http_host((const uint8_t *)r, strlen(r), fits, sizeof(fits)),
			 EGW_HOST_FOUND);
	ck_assert_str_eq(fits, "gmail.com");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http_host");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, real_requests);
	tcase_add_test(tc, truncated_at_every_length);
	tcase_add_test(tc, host_forms);
	tcase_add_test(tc, target_authority_wins);
	tcase_add_test(tc, malformed_requests);
	tcase_add_test(tc, not_http);
	tcase_add_test(tc, small_out_buffer);
	tcase_add_test(tc, every_first_byte);
	tcase_add_test(tc, every_field_name_byte);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
