/* SPDX-License-Identifier: MIT */
/* The fast-path IPC client against a stand-in egw-dataplane server:
 * events reach the sink, verdicts arrive valid, reload replies are
 * awaited and their errors passed on, bad messages close the connection. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cd_dpipc.h"
#include "ct_helpers.h"

static int n_events;
static char last_reason[48];

static int sink_emit(void *ctx, const struct egw_event *ev)
{
	(void)ctx;
	n_events++;
	memcpy(last_reason, ev->reason, sizeof(last_reason));
	return 0;
}
static const struct cd_evsink_ops sink_ops = { sink_emit, NULL, NULL, NULL };

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	return fd;
}

/* The server thread answers one reload message with the given status. */
struct srv {
	int fd;
	int32_t status;
	uint32_t phase_seen;
	char path_seen[128];
};

static void *answer_reload(void *arg)
{
	struct srv *s = arg;
	struct egw_ipc_reload *m = calloc(1, sizeof(*m));
	struct egw_ipc_reload_reply r;
	ssize_t n = recv(s->fd, m, sizeof(*m), 0);

	if (n == (ssize_t)sizeof(*m) && m->hdr.type == EGW_IPC_RELOAD) {
		s->phase_seen = m->phase;
		size_t pl = strnlen(m->path, sizeof(s->path_seen) - 1);
		memcpy(s->path_seen, m->path, pl);
		s->path_seen[pl] = '\0';
		memset(&r, 0, sizeof(r));
		egw_ipc_hdr_init(&r.hdr, EGW_IPC_RELOAD_REPLY, sizeof(r), m->hdr.seq);
		r.phase = m->phase;
		r.generation = m->generation;
		r.status = s->status;
		if (s->status)
			snprintf(r.message, sizeof(r.message), "p.cfg:3: bad thing");
		send(s->fd, &r, sizeof(r), 0);
	}
	free(m);
	return NULL;
}

START_TEST(events_verdicts_reload)
{
	char dir[] = "/tmp/egwt-controld-ipc.XXXXXX", path[128], err[256];
	struct cd_evsink *sink = cd_evsink_open_ops(&sink_ops, NULL);
	struct cd_dpipc *c;
	struct cd_dpipc_stats st;
	int lfd, sfd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dataplane.sock", dir);
	c = cd_dpipc_new(path, sink);
	ck_assert_ptr_nonnull(c);
	/* no server yet: not connected, reload involves controld only */
	cd_dpipc_tick(c, 1);
	ck_assert(!cd_dpipc_connected(c));
	ck_assert_int_eq(cd_dpipc_reload(c, EGW_IPC_RELOAD_PREPARE, 1, "/x", 100, err, sizeof(err)), 0);

	lfd = listen_at(path);
	cd_dpipc_tick(c, 2);                 /* retried at most once a second */
	ck_assert(!cd_dpipc_connected(c));
	cd_dpipc_tick(c, 2000000);
	ck_assert(cd_dpipc_connected(c));
	sfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(sfd, 0);

	/* an event batch of 2 */
	size_t len = sizeof(struct egw_ipc_events) + 2 * sizeof(struct egw_event);
	struct egw_ipc_events *e = calloc(1, len);
	egw_ipc_hdr_init(&e->hdr, EGW_IPC_EVENTS, (uint32_t)len, 1);
	e->count = 2;
	e->lost = 5;
	for (int i = 0; i < 2; i++) {
		e->ev[i].type = EGW_EV_DROP;
		e->ev[i].action = EGW_EA_BLOCKED;
		e->ev[i].family = AF_INET;
		e->ev[i].proto = 6;
		snprintf(e->ev[i].reason, sizeof(e->ev[i].reason), "spoof");
	}
	ck_assert_int_eq(send(sfd, e, len, 0), (ssize_t)len);
	cd_dpipc_handle(c);
	ck_assert_int_eq(n_events, 2);
	ck_assert_str_eq(last_reason, "spoof");

	/* a verdict arrives as a valid FLOW_VERDICT */
	struct egw_ipc_flow_verdict v = { .family = AF_INET, .proto = 6,
					  .verdict = EGW_IPC_V_RESET, .src_port = 40000,
					  .dst_port = 443 };
	snprintf(v.reason, sizeof(v.reason), "category:commercial-mail");
	snprintf(v.rule, sizeof(v.rule), "p.cfg:9");
	ck_assert_int_eq(cd_dpipc_send_verdict(c, &v), 0);
	struct egw_ipc_flow_verdict got;
	const char *why = NULL;
	ck_assert_int_eq(recv(sfd, &got, sizeof(got), 0), (ssize_t)sizeof(got));
	ck_assert_int_eq(egw_ipc_check(&got, sizeof(got), &why), 0);
	ck_assert_str_eq(got.reason, "category:commercial-mail");

	/* reload: ok, then refused with the fast path's message */
	struct srv s = { .fd = sfd, .status = 0 };
	pthread_t th;
	pthread_create(&th, NULL, answer_reload, &s);
	ck_assert_int_eq(cd_dpipc_reload(c, EGW_IPC_RELOAD_PREPARE, 7, "/etc/egw/egw.cfg", 5000,
					 err, sizeof(err)), 0);
	pthread_join(th, NULL);
	ck_assert_uint_eq(s.phase_seen, EGW_IPC_RELOAD_PREPARE);
	ck_assert_str_eq(s.path_seen, "/etc/egw/egw.cfg");
	s.status = -EINVAL;
	pthread_create(&th, NULL, answer_reload, &s);
	ck_assert_int_eq(cd_dpipc_reload(c, EGW_IPC_RELOAD_COMMIT, 7, "", 5000, err, sizeof(err)), -1);
	pthread_join(th, NULL);
	ck_assert_str_eq(err, "p.cfg:3: bad thing");

	/* a malformed message: counted, connection closed */
	e->hdr.magic = 0;
	send(sfd, e, len, 0);
	cd_dpipc_handle(c);
	ck_assert(!cd_dpipc_connected(c));
	cd_dpipc_get_stats(c, &st);
	ck_assert_uint_eq(st.protocol_errors, 1);
	ck_assert_uint_eq(st.events_lost, 5);
	ck_assert_uint_eq(st.verdicts_sent, 1);

	free(e);
	close(sfd);
	close(lfd);
	cd_dpipc_free(c);
	cd_evsink_close(sink);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dpipc");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, events_verdicts_reload);
	suite_add_tcase(s, tc);
	return ct_run(s);
}
