/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <egw/ipc.h>

START_TEST(events_batch_roundtrip_over_seqpacket)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	size_t n = sizeof(struct egw_ipc_events) + 3 * sizeof(struct egw_event);
	struct egw_ipc_events *e = calloc(1, n);
	egw_ipc_hdr_init(&e->hdr, EGW_IPC_EVENTS, (uint32_t)n, 7);
	e->count = 3;
	e->lost = 2;
	e->ev[2].type = EGW_EV_DROP;
	strcpy(e->ev[2].reason, "spoof");
	ck_assert_int_eq(send(sv[0], e, n, 0), (ssize_t)n);
	/* Two messages stay two messages. */
	ck_assert_int_eq(send(sv[0], e, n, 0), (ssize_t)n);
	uint8_t *buf = malloc(EGW_IPC_MAX_MSG);
	ssize_t r = recv(sv[1], buf, EGW_IPC_MAX_MSG, 0);
	ck_assert_int_eq(r, (ssize_t)n);
	const char *why = NULL;
	ck_assert_int_eq(egw_ipc_check(buf, (size_t)r, &why), 0);
	const struct egw_ipc_events *g = (const void *)buf;
	ck_assert_int_eq(g->count, 3);
	ck_assert_int_eq(g->hdr.seq, 7);
	ck_assert_str_eq(g->ev[2].reason, "spoof");
	/* A truncated read of the same batch is rejected. */
	ck_assert_int_eq(egw_ipc_check(buf, (size_t)r - 1, &why), -1);
	ck_assert_str_eq(why, "header length does not match the message size");
	close(sv[0]);
	close(sv[1]);
	free(buf);
	free(e);
}
END_TEST

START_TEST(bad_messages_say_why)
{
	struct egw_ipc_flow_verdict v;
	const char *why = NULL;
	memset(&v, 0, sizeof(v));
	egw_ipc_hdr_init(&v.hdr, EGW_IPC_FLOW_VERDICT, sizeof(v), 1);
	v.family = AF_INET;
	v.proto = 17;
	v.src_ip[0] = 10;
	ck_assert_int_eq(egw_ipc_check(&v, sizeof(v), &why), 0);
	v.src_ip[5] = 1;
	ck_assert_int_eq(egw_ipc_check(&v, sizeof(v), &why), -1);
	ck_assert_str_eq(why, "IPv4 address with bytes past the fourth");
	v.src_ip[5] = 0;
	memset(v.rule, 'x', sizeof(v.rule));
	ck_assert_int_eq(egw_ipc_check(&v, sizeof(v), &why), -1);
	ck_assert_str_eq(why, "reason or rule not NUL-terminated");
	v.rule[0] = 0;
	v.timeout_s = 86400;   /* a day: the longest idle timeout a verdict sets */
	ck_assert_int_eq(egw_ipc_check(&v, sizeof(v), &why), 0);
	v.timeout_s = 86401;
	ck_assert_int_eq(egw_ipc_check(&v, sizeof(v), &why), -1);
	ck_assert_str_eq(why, "timeout longer than one day");
	v.timeout_s = 0;
	v.hdr.version = 2;
	ck_assert_int_eq(egw_ipc_check(&v, sizeof(v), &why), -1);
	ck_assert_str_eq(why, "unsupported protocol version");
	v.hdr.version = EGW_IPC_VERSION;
	v.hdr.magic = 0;
	ck_assert_int_eq(egw_ipc_check(&v, sizeof(v), &why), -1);
	ck_assert_str_eq(why, "bad magic");

	struct egw_ipc_reload rl;
	memset(&rl, 0, sizeof(rl));
	egw_ipc_hdr_init(&rl.hdr, EGW_IPC_RELOAD, sizeof(rl), 2);
	rl.phase = EGW_IPC_RELOAD_PREPARE;
	rl.generation = 1;
	strcpy(rl.path, "relative.cfg");
	ck_assert_int_eq(egw_ipc_check(&rl, sizeof(rl), &why), -1);
	ck_assert_str_eq(why, "RELOAD PREPARE: path is not absolute");
	strcpy(rl.path, "/etc/egw/egw.cfg");
	ck_assert_int_eq(egw_ipc_check(&rl, sizeof(rl), &why), 0);

	struct egw_ipc_events e;
	memset(&e, 0, sizeof(e));
	egw_ipc_hdr_init(&e.hdr, EGW_IPC_EVENTS, sizeof(e), 3);
	ck_assert_int_eq(egw_ipc_check(&e, sizeof(e), &why), -1);
	ck_assert_str_eq(why, "EVENTS count out of range");
	struct egw_ipc_hdr h;
	egw_ipc_hdr_init(&h, (enum egw_ipc_type)99, sizeof(h), 4);
	ck_assert_int_eq(egw_ipc_check(&h, sizeof(h), &why), -1);
	ck_assert_str_eq(why, "unknown message type");
	ck_assert_int_eq(egw_ipc_check(&h, 3, &why), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ipc");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, events_batch_roundtrip_over_seqpacket);
	tcase_add_test(tc, bad_messages_say_why);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
