/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <egw/tls_sni.h>

#define DATA EGW_SOURCE_DIR "/tests/unit/rules/data/"

static uint8_t buf[1 << 16];

static size_t load(const char *name, uint8_t *dst, size_t cap)
{
	FILE *f = fopen(name, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", name);
	size_t n = fread(dst, 1, cap, f);
	fclose(f);
	ck_assert_uint_gt(n, 0);
	return n;
}

static int sni(const uint8_t *d, size_t n, char *out)
{
	return egw_tls_sni(d, n, out, 256);
}

START_TEST(real_client_hellos)
{
	char out[256];
	size_t n = load(DATA "clienthello_openssl_tls13_gmail.com.bin", buf, sizeof(buf));
	ck_assert_int_eq(sni(buf, n, out), EGW_SNI_FOUND);
	ck_assert_str_eq(out, "gmail.com");
	n = load(DATA "clienthello_openssl_tls12_gmail.com.bin", buf, sizeof(buf));
	ck_assert_int_eq(sni(buf, n, out), EGW_SNI_FOUND);
	ck_assert_str_eq(out, "gmail.com");
	n = load(DATA "clienthello_curl_mail.qq.com.bin", buf, sizeof(buf));
	ck_assert_int_eq(sni(buf, n, out), EGW_SNI_FOUND);
	ck_assert_str_eq(out, "mail.qq.com");
	n = load(DATA "clienthello_openssl_noservername.bin", buf, sizeof(buf));
	ck_assert_int_eq(sni(buf, n, out), EGW_SNI_ABSENT);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(truncated_at_every_length)
{
	static const char *files[] = {
		DATA "clienthello_openssl_tls13_gmail.com.bin",
		DATA "clienthello_openssl_tls12_gmail.com.bin",
		DATA "clienthello_curl_mail.qq.com.bin",
		DATA "clienthello_openssl_noservername.bin",
	};
	char out[256];
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t n = load(files[f], buf, sizeof(buf));
		for (size_t len = 0; len < n; len++) {
			/* a copy of exactly len bytes, so ASan sees any overread */
			static uint8_t cut[1 << 16];
			memcpy(cut, buf, len);
			uint8_t *heap = len ? cut : NULL;
			ck_assert_msg(sni(heap ? heap : buf, len, out) == EGW_SNI_INCOMPLETE,
				      "%s cut at %zu", files[f], len);
		}
		/* bytes after the hello (the next record) change nothing */
		memcpy(buf + n, "\x17\x03\x03\x00\x01\x00", 6);
		ck_assert_int_gt(sni(buf, n + 6, out), -1);
	}
}
END_TEST

/* Re-fragment one single-record hello into records of at most k bytes. */
static size_t refragment(const uint8_t *rec, size_t n, size_t k, uint8_t *dst)
{
	const uint8_t *payload = rec + 5;
	size_t plen = n - 5, o = 0;
	for (size_t i = 0; i < plen; i += k) {
		size_t c = plen - i < k ? plen - i : k;
		dst[o++] = 0x16;
		dst[o++] = rec[1];
		dst[o++] = rec[2];
		dst[o++] = (uint8_t)(c >> 8);
		dst[o++] = (uint8_t)c;
		memcpy(dst + o, payload + i, c);
		o += c;
	}
	return o;
}

START_TEST(hello_over_several_records)
{
	char out[256];
	static uint8_t frag[1 << 16];
	size_t n = load(DATA "clienthello_openssl_tls13_gmail.com.bin", buf, sizeof(buf));
	static const size_t ks[] = { 1, 2, 3, 7, 100, 200, 309 };
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		size_t fn = refragment(buf, n, ks[i], frag);
		ck_assert_int_eq(sni(frag, fn, out), EGW_SNI_FOUND);
		ck_assert_str_eq(out, "gmail.com");
		if (ks[i] == 7 || ks[i] == 100)
			for (size_t len = 0; len < fn; len++)
				ck_assert_msg(sni(frag, len, out) == EGW_SNI_INCOMPLETE,
					      "k %zu cut at %zu", ks[i], len);
	}
	/* a record of another type in the middle of the hello */
	size_t fn = refragment(buf, n, 100, frag);
	frag[105] = 0x17;
	ck_assert_int_eq(sni(frag, fn, out), EGW_SNI_MALFORMED);
	/* only the first bytes of that record: already known to be wrong */
	ck_assert_int_eq(sni(frag, 106, out), EGW_SNI_MALFORMED);
	frag[106] = 2;
	frag[105] = 0x16;
	ck_assert_int_eq(sni(frag, 107, out), EGW_SNI_MALFORMED);
	frag[106] = 3;
	frag[108] = 0; /* an empty record */
	frag[109] = 0;
	ck_assert_int_eq(sni(frag, fn, out), EGW_SNI_MALFORMED);
}
END_TEST

/* A synthetic ClientHello: body fields given as raw bytes. */
struct hello {
	const char *sid; size_t sid_len;       /* with its length byte */
	const char *cs; size_t cs_len;         /* with its 2-byte length */
	const char *comp; size_t comp_len;     /* with its length byte */
	const char *ext; size_t ext_len;       /* with the 2-byte block length, or none */
};

#define B(s) s, sizeof(s) - 1

static size_t build(const struct hello *h, uint8_t *o)
{
	size_t body = 2 + 32 + h->sid_len + h->cs_len + h->comp_len + h->ext_len;
	size_t p = 0;
	o[p++] = 0x16; o[p++] = 3; o[p++] = 1;
	o[p++] = (uint8_t)((body + 4) >> 8); o[p++] = (uint8_t)(body + 4);
	o[p++] = 1;
	o[p++] = (uint8_t)(body >> 16); o[p++] = (uint8_t)(body >> 8); o[p++] = (uint8_t)body;
	o[p++] = 3; o[p++] = 3;
	memset(o + p, 0xab, 32);
	p += 32;
	memcpy(o + p, h->sid, h->sid_len); p += h->sid_len;
	memcpy(o + p, h->cs, h->cs_len); p += h->cs_len;
	memcpy(o + p, h->comp, h->comp_len); p += h->comp_len;
	if (h->ext_len)
		memcpy(o + p, h->ext, h->ext_len);
	p += h->ext_len;
	return p;
}

static int try_ext(const char *ext, size_t ext_len, char *out)
{
	struct hello h = { B("\0"), B("\0\2\x13\x01"), B("\1\0"), ext, ext_len };
	size_t n = build(&h, buf);
	return sni(buf, n, out);
}

#define EXT(s) try_ext(B(s), out)

START_TEST(synthetic_hellos)
{
	char out[256];
	/* server_name "Example.COM." and a supported_versions extension */
	ck_assert_int_eq(EXT("\0\x1c"
			     "\0\0\0\x11" "\0\x0f" "\0\0\x0c" "Example.COM."
			     "\0\x2b\0\x03\x02\x03\x04"), EGW_SNI_FOUND);
	ck_assert_str_eq(out, "example.com");
	/* no extension block at all */
	struct hello h = { B("\0"), B("\0\2\x13\x01"), B("\1\0"), NULL, 0 };
	ck_assert_int_eq(sni(buf, build(&h, buf), out), EGW_SNI_ABSENT);
	/* an empty extension block; extensions without server_name */
	ck_assert_int_eq(EXT("\0\0"), EGW_SNI_ABSENT);
	ck_assert_int_eq(EXT("\0\x07" "\0\x2b\0\x03\x02\x03\x04"), EGW_SNI_ABSENT);
	/* a host_name after another name type */
	ck_assert_int_eq(EXT("\0\x11" "\0\0\0\x0d" "\0\x0b" "\1\0\1" "z" "\0\0\4" "a.cn"),
			 EGW_SNI_FOUND);
	ck_assert_str_eq(out, "a.cn");
	/* a 253-character name */
	uint8_t e[400];
	size_t nl = 253;
	/* lengths: block 262, extension 258, list 256, name 253 */
	memcpy(e, "\1\x06" "\0\0\1\x02" "\1\0" "\0\0\xfd", 11);
	for (size_t i = 0; i < nl; i++)
		e[11 + i] = (i % 64 == 63) ? '.' : 'a';
	e[11 + nl - 1] = 'b';
	ck_assert_int_eq(try_ext((const char *)e, 11 + nl, out), EGW_SNI_FOUND);
	ck_assert_uint_eq(strlen(out), 253);
}
END_TEST

START_TEST(malformed_hellos)
{
	char out[256];
	struct hello h = { B("\0"), B("\0\2\x13\x01"), B("\1\0"), NULL, 0 };
	/* session id longer than 32 */
	char sid[34] = { 33 };
	h.sid = sid; h.sid_len = 34;
	ck_assert_int_eq(sni(buf, build(&h, buf), out), EGW_SNI_MALFORMED);
	h.sid = "\0"; h.sid_len = 1;
	/* cipher suites: odd length, empty, past the message */
	h.cs = "\0\3\x13\x01\x13"; h.cs_len = 5;
	ck_assert_int_eq(sni(buf, build(&h, buf), out), EGW_SNI_MALFORMED);
	h.cs = "\0\0"; h.cs_len = 2;
	ck_assert_int_eq(sni(buf, build(&h, buf), out), EGW_SNI_MALFORMED);
	h.cs = "\0\x40\x13\x01"; h.cs_len = 4;
	ck_assert_int_eq(sni(buf, build(&h, buf), out), EGW_SNI_MALFORMED);
	h.cs = "\0\2\x13\x01"; h.cs_len = 4;
	/* no compression method; compression past the message */
	h.comp = "\0"; h.comp_len = 1;
	ck_assert_int_eq(sni(buf, build(&h, buf), out), EGW_SNI_MALFORMED);
	h.comp = "\x09\0"; h.comp_len = 2;
	ck_assert_int_eq(sni(buf, build(&h, buf), out), EGW_SNI_MALFORMED);
	/* one stray byte after the compression methods */
	ck_assert_int_eq(EXT("\0"), EGW_SNI_MALFORMED);
	/* extension block length shorter or longer than the rest */
	ck_assert_int_eq(EXT("\0\x06" "\0\x2b\0\x03\x02\x03\x04"), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x08" "\0\x2b\0\x03\x02\x03\x04"), EGW_SNI_MALFORMED);
	/* an extension longer than the block; a cut extension header */
	ck_assert_int_eq(EXT("\0\x07" "\0\x2b\0\x04\x02\x03\x04"), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x02" "\0\x2b"), EGW_SNI_MALFORMED);
	/* server_name: empty, list length off by one either way, name past
	 * the list, empty name, no host_name entry */
	ck_assert_int_eq(EXT("\0\4" "\0\0\0\0"), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x0b" "\0\0\0\x07" "\0\x06" "\0\0\2" "cn"), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x0b" "\0\0\0\x07" "\0\x04" "\0\0\2" "cn"), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x0b" "\0\0\0\x07" "\0\x05" "\0\0\3" "cn"), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x09" "\0\0\0\x05" "\0\x03" "\0\0\0"), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x0b" "\0\0\0\x07" "\0\x05" "\1\0\2" "cn"), EGW_SNI_MALFORMED);
	/* the well-formed template the cases around it break */
	ck_assert_int_eq(EXT("\0\x0b" "\0\0\0\x07" "\0\x05" "\0\0\2" "cn"), EGW_SNI_FOUND);
	ck_assert_str_eq(out, "cn");
	/* an extension length past the block */
	ck_assert_int_eq(EXT("\0\x0b" "\0\0\0\x08" "\0\x05" "\0\0\2" "cn"), EGW_SNI_MALFORMED);
	/* two host_names; two server_name extensions */
	ck_assert_int_eq(EXT("\0\x11" "\0\0\0\x0d" "\0\x0b" "\0\0\2" "cn" "\0\0\3" "x.y"),
			 EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x16" "\0\0\0\x07" "\0\x05" "\0\0\2" "cn"
			     "\0\0\0\x07" "\0\x05" "\0\0\2" "jp"), EGW_SNI_MALFORMED);
	/* names that are not host names */
	ck_assert_int_eq(EXT("\0\x0e" "\0\0\0\x0a" "\0\x08" "\0\0\5" "a b.c"), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x10" "\0\0\0\x0c" "\0\x0a" "\0\0\7" "1.2.3.4"), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x0d" "\0\0\0\x09" "\0\x07" "\0\0\4" "a..b"), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x0d" "\0\0\0\x09" "\0\x07" "\0\0\4" "a\0.b"), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x0d" "\0\0\0\x09" "\0\x07" "\0\0\4" "ab.."), EGW_SNI_MALFORMED);
	ck_assert_int_eq(EXT("\0\x0d" "\0\0\0\x09" "\0\x07" "\0\0\4" "\xc3\xa9.b"), EGW_SNI_MALFORMED);
	/* handshake message shorter than version + random */
	uint8_t tiny[] = { 0x16, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0 };
	ck_assert_int_eq(sni(tiny, sizeof(tiny), out), EGW_SNI_MALFORMED);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(not_tls)
{
	char out[256];
	ck_assert_int_eq(sni((const uint8_t *)"GET / HTTP/1.1\r\n", 16, out), EGW_SNI_NOT_TLS);
	ck_assert_int_eq(sni((const uint8_t *)"\x17\x03\x03\0\x10", 5, out), EGW_SNI_NOT_TLS);
	ck_assert_int_eq(sni((const uint8_t *)"\x16", 1, out), EGW_SNI_INCOMPLETE);
	ck_assert_int_eq(sni((const uint8_t *)"\x16\x02", 2, out), EGW_SNI_NOT_TLS);
	ck_assert_int_eq(sni((const uint8_t *)"\x16\x03\x01\0\0", 5, out), EGW_SNI_NOT_TLS);
	ck_assert_int_eq(sni((const uint8_t *)"\x16\x03\x01\x40\x01", 5, out), EGW_SNI_NOT_TLS);
	/* SSL 2 compatible hello */
	ck_assert_int_eq(sni((const uint8_t *)"\x80\x2e\x01\x03\x01", 5, out), EGW_SNI_NOT_TLS);
	/* a ServerHello is not a ClientHello */
	size_t n = load(DATA "clienthello_openssl_tls13_gmail.com.bin", buf, sizeof(buf));
	buf[5] = 2;
	ck_assert_int_eq(sni(buf, n, out), EGW_SNI_NOT_TLS);
	/* legacy_version that is not 3.x */
	buf[5] = 1;
	buf[9] = 2;
	ck_assert_int_eq(sni(buf, n, out), EGW_SNI_MALFORMED);
}
END_TEST

/* Every byte value as the first byte of a real ClientHello: only the
 * handshake record type (0x16) keeps it; any other is not TLS, at once. */
START_TEST(every_first_byte)
{
	char out[256];
	size_t n = load(DATA "clienthello_openssl_tls13_gmail.com.bin", buf, sizeof(buf));
	uint8_t first = buf[0];
	ck_assert_uint_eq(first, 0x16);
	for (unsigned c = 0; c < 256; c++) {
		buf[0] = (uint8_t)c;
		ck_assert(egw_tls_sni_may_start((uint8_t)c) == (c == 0x16));
		strcpy(out, "stale");
		int rc = sni(buf, n, out);
		if (c == 0x16) {
			ck_assert_int_eq(rc, EGW_SNI_FOUND);
			ck_assert_str_eq(out, "gmail.com");
		} else {
			ck_assert_msg(rc == EGW_SNI_NOT_TLS, "first byte 0x%02x: %d", c, rc);
			ck_assert_str_eq(out, "");
		}
	}
	buf[0] = first;
}
END_TEST

START_TEST(small_out_buffer)
{
	char out[8];
	size_t n = load(DATA "clienthello_openssl_tls13_gmail.com.bin", buf, sizeof(buf));
	ck_assert_int_eq(egw_tls_sni(buf, n, out, 8), EGW_SNI_MALFORMED);
	char out10[10];
	ck_assert_int_eq(egw_tls_sni(buf, n, out10, 10), EGW_SNI_FOUND);
	ck_assert_str_eq(out10, "gmail.com");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tls_sni");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, real_client_hellos);
	tcase_add_test(tc, truncated_at_every_length);
	tcase_add_test(tc, hello_over_several_records);
	tcase_add_test(tc, synthetic_hellos);
	tcase_add_test(tc, malformed_hellos);
	tcase_add_test(tc, not_tls);
	tcase_add_test(tc, small_out_buffer);
	tcase_add_test(tc, every_first_byte);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
