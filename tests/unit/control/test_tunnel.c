/* SPDX-License-Identifier: MIT */
/* DNS-tunnelling signs and the bounded per-terminal rate table. */
#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "cd_pkt.h"
#include "cd_tunnel.h"
#include "ct_helpers.h"

static const struct cd_tunnel_limits lim = { 100, 52, 4.0, 50 };

START_TEST(each_sign_alone)
{
	struct cd_tunnel *t = cd_tunnel_new();
	uint8_t a[16] = { 10, 1, 0, 10 };
	char d[64];

	ck_assert_uint_eq(cd_tunnel_check(t, &lim, AF_INET, a, 1, 15, 7, 3.1), 0);
	ck_assert_uint_eq(cd_tunnel_check(t, &lim, AF_INET, a, 2, 101, 7, 3.1), CD_TUN_QNAME_LEN);
	ck_assert_uint_eq(cd_tunnel_check(t, &lim, AF_INET, a, 3, 100, 53, 3.1), CD_TUN_LABEL_LEN);
	ck_assert_uint_eq(cd_tunnel_check(t, &lim, AF_INET, a, 4, 100, 52, 4.01), CD_TUN_ENTROPY);
	ck_assert_str_eq(cd_tunnel_describe(CD_TUN_QNAME_LEN | CD_TUN_RATE, d, sizeof(d)),
			 "qname-length,query-rate");
	cd_tunnel_free(t);
}
END_TEST

START_TEST(rate_per_terminal_per_second)
{
	struct cd_tunnel *t = cd_tunnel_new();
	uint8_t a[16] = { 10, 1, 0, 10 }, b[16] = { 10, 1, 0, 11 };
	uint64_t base = 5000000000ull;
	unsigned m = 0;

	for (int i = 0; i < 50; i++)
		m |= cd_tunnel_check(t, &lim, AF_INET, a, base + (uint64_t)i, 10, 5, 2.0);
	ck_assert_uint_eq(m, 0);
	/* the 51st in the same second is too many; another terminal is not */
	ck_assert_uint_eq(cd_tunnel_check(t, &lim, AF_INET, a, base + 60, 10, 5, 2.0), CD_TUN_RATE);
	ck_assert_uint_eq(cd_tunnel_check(t, &lim, AF_INET, b, base + 61, 10, 5, 2.0), 0);
	/* an IPv6 address with the same first bytes is another terminal */
	ck_assert_uint_eq(cd_tunnel_check(t, &lim, AF_INET6, a, base + 62, 10, 5, 2.0), 0);
	ck_assert_uint_eq(cd_tunnel_check(t, &lim, AF_INET, a, base + 1000000, 10, 5, 2.0), 0);
	cd_tunnel_free(t);
}
END_TEST

START_TEST(table_stays_bounded)
{
	struct cd_tunnel *t = cd_tunnel_new();
	uint8_t a[16] = { 0 };

	/* many more terminals than slots: no growth, no crash, counts reset */
	for (uint32_t i = 0; i < 4 * CD_TUNNEL_SLOTS; i++) {
		memcpy(a, &i, 4);
		ck_assert_uint_eq(cd_tunnel_check(t, &lim, AF_INET, a, 1000000ull + i, 10, 5, 2.0), 0);
	}
	cd_tunnel_free(t);
}
END_TEST

START_TEST(packet_headers_bounds)
{
	/* IPv4 UDP with a UDP length shorter than the capture: payload bounded */
	uint8_t p[60] = { 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17, 0, 0, 10, 1, 0, 10,
			  198, 51, 100, 53, 0xc0, 0x01, 0, 53, 0, 12 };
	struct cd_pkt k;

	ck_assert_int_eq(cd_pkt_parse(p, sizeof(p), &k), CD_PKT_OK);
	ck_assert_uint_eq(k.payload_len, 4);
	ck_assert_uint_eq(k.dport, 53);
	p[0] = 0x44;  /* IHL 4 */
	ck_assert_int_eq(cd_pkt_parse(p, sizeof(p), &k), CD_PKT_BAD_HEADER);
	p[0] = 0x4f;  /* IHL 15: 60 bytes of header, nothing after */
	ck_assert_int_eq(cd_pkt_parse(p, 40, &k), CD_PKT_SHORT);
	p[0] = 0x55;
	ck_assert_int_eq(cd_pkt_parse(p, sizeof(p), &k), CD_PKT_BAD_VERSION);
	/* IPv6 with a hop-by-hop header whose length runs past the capture */
	uint8_t q[48] = { 0x60, 0, 0, 0, 0, 8, 0, 64 };
	q[40] = 17;
	q[41] = 20;
	ck_assert_int_eq(cd_pkt_parse(q, sizeof(q), &k), CD_PKT_SHORT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tunnel");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, each_sign_alone);
	tcase_add_test(tc, rate_per_terminal_per_second);
	tcase_add_test(tc, table_stays_bounded);
	tcase_add_test(tc, packet_headers_bounds);
	suite_add_tcase(s, tc);
	return ct_run(s);
}
