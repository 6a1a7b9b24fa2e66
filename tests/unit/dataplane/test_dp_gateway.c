/* SPDX-License-Identifier: MIT */
/* A reload that changes the gateway section: refused with one line naming
 * the section's place and each change (old -> new); fail_mode alone is no
 * reason to refuse. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "dp_gateway.h"

static struct egw_gateway gw(void)
{
	struct egw_gateway g = {
		.inside = (char *)"net_af_packet0,iface=egw-in",
		.outside = (char *)"net_af_packet1,iface=egw-out",
		.punt = (char *)"net_tap0,iface=egw-punt",
		.workers = 1, .flows = 262144, .fail_mode = EGW_FAIL_CLOSED,
		.loc = { "egw.cfg", 9 },
	};
	return g;
}

START_TEST(unchanged_or_fail_mode_only_is_accepted)
{
	struct egw_gateway a = gw(), b = gw();
	char msg[512] = "";
	ck_assert_int_eq(dp_gateway_check_reload(&a, &b, msg, sizeof(msg)), 0);
	b.fail_mode = EGW_FAIL_OPEN;
	b.loc.line = 12;
	ck_assert_int_eq(dp_gateway_check_reload(&a, &b, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "");
	/* workers 0 is the default, 1 */
	a.workers = 0;
	ck_assert_int_eq(dp_gateway_check_reload(&a, &b, msg, sizeof(msg)), 0);
}
END_TEST

START_TEST(each_change_is_named)
{
	struct egw_gateway a = gw(), b = gw();
	char msg[512];
	b.workers = 2;
	ck_assert_int_eq(dp_gateway_check_reload(&a, &b, msg, sizeof(msg)), -EINVAL);
	ck_assert_str_eq(msg, "egw.cfg:9: gateway.workers (1 -> 2) changed: the gateway's ports, "
			      "workers and flows change only on a restart of egw-dataplane; the "
			      "running policy stays");
	b = gw();
	b.inside = (char *)"0000:01:00.0";
	b.flows = 1024;
	ck_assert_int_eq(dp_gateway_check_reload(&a, &b, msg, sizeof(msg)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "egw.cfg:9: gateway.inside (\"net_af_packet0,iface=egw-in\""
					  " -> \"0000:01:00.0\"), gateway.flows (262144 -> 1024) "
					  "changed: "));
	b = gw();
	b.punt = NULL;
	ck_assert_int_eq(dp_gateway_check_reload(&a, &b, msg, sizeof(msg)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "gateway.punt (\"net_tap0,iface=egw-punt\" -> \"\")"));
	/* A short buffer: cut, still one terminated line. */
	char small[24];
	ck_assert_int_eq(dp_gateway_check_reload(&a, &b, small, sizeof(small)), -EINVAL);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dp_gateway");
	TCase *tc = tcase_create("reload");
	tcase_add_test(tc, unchanged_or_fail_mode_only_is_accepted);
	tcase_add_test(tc, each_change_is_named);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
