/* SPDX-License-Identifier: MIT */
/* What egw-controld hands to nftables and reads from /proc: the punt table,
 * flagged-set batches, kernel error mapping, nfqueue counters. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <string.h>

#include "cd_kernel.h"
#include "cd_nfq.h"
#include "cd_nft_sets.h"
#include "cd_queue_rule.h"
#include "ct_helpers.h"

START_TEST(punt_table_native_and_mark)
{
	struct cd_queue_rule_cfg c;
	char buf[4096];

	cd_queue_rule_cfg_default(&c);
	c.native = true;
	c.queue_num = 4;
	c.queue_count = 2;
	c.bypass = true;
	ck_assert_int_gt(cd_queue_rule_nft_text(&c, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "delete table inet egw_punt\n"));
	ck_assert_ptr_nonnull(strstr(buf, "iifname \"egw-punt\" counter queue num 4-5 bypass"));
	ck_assert_ptr_nonnull(strstr(buf, "ip daddr @flagged_v4 counter drop"));
	ck_assert_ptr_null(strstr(buf, "meta mark set"));

	c.native = false;
	c.bypass = false;
	c.iifname = "g0";
	ck_assert_int_gt(cd_queue_rule_nft_text(&c, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "iifname \"g0\" counter meta mark set 0x00e90001"));
	ck_assert_ptr_null(strstr(buf, "queue num"));
	/* too small a buffer is an error, not a truncated ruleset */
	ck_assert_int_eq(cd_queue_rule_nft_text(&c, buf, 100), -1);
}
END_TEST

START_TEST(flagged_batch_is_one_transaction_text)
{
	struct cd_nft_sets *s = cd_nft_sets_new("egw", 300);
	uint8_t a[16] = { 0 }, b[16];
	char buf[1024];

	inet_pton(AF_INET, "203.0.113.53", a);
	inet_pton(AF_INET6, "2001:db8:ff::53", b);
	ck_assert_int_eq(cd_nft_sets_add(s, AF_INET, a), 0);
	ck_assert_int_eq(cd_nft_sets_add(s, AF_INET6, b), 0);
	ck_assert_int_eq(cd_nft_sets_add(s, AF_INET, a), 0);   /* merged */
	ck_assert_uint_eq(cd_nft_sets_pending(s), 2);
	ck_assert_int_gt(cd_nft_sets_text(s, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf,
		"add element inet egw flagged_v4 { 203.0.113.53 timeout 300s }\n"
		"add element inet egw flagged_v6 { 2001:db8:ff::53 timeout 300s }\n");
	ck_assert_int_eq(cd_nft_sets_add(s, 99, a), -EAFNOSUPPORT);
	cd_nft_sets_free(s);
}
END_TEST

START_TEST(kernel_errors_mapped_to_policy_lines)
{
	const char *e =
		"Error: Could not process rule: No such file or directory\n"
		"add rule inet egw p0 tcp dport 22 queue num 0 comment \"lab.cfg:80 punt country !CN\"\n"
		"                                  ^^^^^^^^^^^\n"
		"Error: syntax error, unexpected junk\n"
		"add rule inet egw x junk\n"
		"                   ^^^^\n";
	char out[1024];

	cd_kernel_map_errors(e, out, sizeof(out));
	ck_assert_ptr_nonnull(strstr(out,
		"lab.cfg:80 punt country !CN: nftables refused the rule: Could not process rule"));
	ck_assert_ptr_nonnull(strstr(out, "nftables: syntax error, unexpected junk in: add rule inet egw x junk"));
}
END_TEST

START_TEST(nfqueue_proc_counters)
{
	const char *text =
		"    0  12345     3 2  2048    17     2        99  1\n"
		"    1  12346     1 2  2048     5     0        12  1\n"
		"    7  22222     9 2  2048  1000  1000      5000  1\n";
	struct cd_nfq_stats st = { 0 };

	ck_assert_int_eq(cd_nfq_parse_proc(text, 0, 2, &st), 2);
	ck_assert_uint_eq(st.kernel_queue_dropped, 22);
	ck_assert_uint_eq(st.kernel_user_dropped, 2);
	ck_assert_uint_eq(st.queue_total, 4);
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(cd_nfq_parse_proc("garbage\n\n", 0, 1, &st), 0);
	ck_assert_uint_eq(st.kernel_queue_dropped, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules_text");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, punt_table_native_and_mark);
	tcase_add_test(tc, flagged_batch_is_one_transaction_text);
	tcase_add_test(tc, kernel_errors_mapped_to_policy_lines);
	tcase_add_test(tc, nfqueue_proc_counters);
	suite_add_tcase(s, tc);
	return ct_run(s);
}
