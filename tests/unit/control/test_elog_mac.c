/* SPDX-License-Identifier: MIT */
/*
 * The chain MAC (elog_mac_chain) is HMAC-SHA256(key, prev || data): checked
 * against libcrypto's own HMAC (EVP_Q_mac) for every data length across
 * several SHA-256 blocks, for several keys, and with one context reused
 * line after line as the writer does.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "elog_format.h"

static void reference(const uint8_t key[ELOG_KEY_LEN], const uint8_t prev[ELOG_CHAIN_LEN],
		      const uint8_t *data, size_t len, uint8_t out[ELOG_CHAIN_LEN])
{
	static uint8_t msg[ELOG_CHAIN_LEN + 1024];
	size_t n = 0;

	ck_assert_uint_le(len, 1024);
	memcpy(msg, prev, ELOG_CHAIN_LEN);
	memcpy(msg + ELOG_CHAIN_LEN, data, len);
	ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, ELOG_KEY_LEN,
					msg, ELOG_CHAIN_LEN + len, out, ELOG_CHAIN_LEN, &n));
	ck_assert_uint_eq(n, ELOG_CHAIN_LEN);
}

START_TEST(matches_hmac_sha256)
{
	uint8_t key[ELOG_KEY_LEN], prev[ELOG_CHAIN_LEN] = { 0 }, data[1024];
	uint8_t got[ELOG_CHAIN_LEN], want[ELOG_CHAIN_LEN];
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < sizeof(data); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		data[i] = (uint8_t)x;
	}
	for (int k = 0; k < 4; k++) {
		memset(key, 0, sizeof(key));
		if (k == 1)
			memset(key, 0xff, sizeof(key));
		if (k >= 2)
			memcpy(key, data + 100 * k, sizeof(key));
		struct elog_mac *m = elog_mac_new(key);
		ck_assert_ptr_nonnull(m);
		/* every length 0..700 (one to twelve blocks), chained as lines are */
		for (size_t len = 0; len <= 700; len++) {
			ck_assert_int_eq(elog_mac_chain(m, prev, data + len % 300, len, got), 0);
			reference(key, prev, data + len % 300, len, want);
			ck_assert_msg(!memcmp(got, want, sizeof(got)), "key %d, %zu bytes", k, len);
			memcpy(prev, got, sizeof(prev));
		}
		elog_mac_free(m);
	}
}
END_TEST

START_TEST(different_keys_differ)
{
	uint8_t k1[ELOG_KEY_LEN] = { 1 }, k2[ELOG_KEY_LEN] = { 2 }, prev[ELOG_CHAIN_LEN] = { 0 };
	uint8_t a[ELOG_CHAIN_LEN], b[ELOG_CHAIN_LEN];
	struct elog_mac *m1 = elog_mac_new(k1), *m2 = elog_mac_new(k2);

	ck_assert_ptr_nonnull(m1);
	ck_assert_ptr_nonnull(m2);
	ck_assert_int_eq(elog_mac_chain(m1, prev, "line", 4, a), 0);
	ck_assert_int_eq(elog_mac_chain(m2, prev, "line", 4, b), 0);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	elog_mac_free(m1);
	elog_mac_free(m2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elog_mac");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, matches_hmac_sha256);
	tcase_add_test(tc, different_keys_differ);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
