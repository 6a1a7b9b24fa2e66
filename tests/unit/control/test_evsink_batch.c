/* SPDX-License-Identifier: MIT */
/*
 * The daemon's event path in batches (cd_evsink + cd_dpipc + the behaviour
 * log): a stream of events split across reads of the fast path's socket,
 * mixed with controld's own events, ends as exactly those lines, in order,
 * in a log that verifies; the sink never holds more than the kill -9 bound
 * (256 events) once a read has been handled.
 */
#include <arpa/inet.h>
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cd_dpipc.h"
#include "cd_evsink.h"
#include "elog.h"
#include "elog_format.h"
#include "elog_verify.h"
#include "ct_helpers.h"

#define N_STREAM 3000   /* events from the fast path */
#define N_MAX 8192      /* all events of the test (controld's included) */

static bool from_controld[N_MAX];

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	return fd;
}

/* Event number seq (its flow_id), from the fast path or from controld. */
static void make_event(struct egw_event *ev, uint64_t seq, bool controld)
{
	ck_assert_uint_lt(seq, N_MAX);
	from_controld[seq] = controld;
	memset(ev, 0, sizeof(*ev));
	ev->type = controld ? EGW_EV_DNS : EGW_EV_FLOW;
	ev->action = EGW_EA_ALLOWED;
	ev->family = AF_INET;
	ev->proto = 6;
	ev->src_port = (uint16_t)(1024 + seq % 60000);
	ev->dest_port = 443;
	ev->ts_us = 1795000000000000ULL + seq;
	ev->flow_id = seq;
	inet_pton(AF_INET, "10.1.0.10", ev->src_ip);
	inet_pton(AF_INET, "198.51.100.80", ev->dest_ip);
	snprintf(ev->user, sizeof(ev->user), "user%llu", (unsigned long long)seq);
	if (controld)
		snprintf(ev->u.dns.rrname, sizeof(ev->u.dns.rrname), "q%llu.example.cn",
			 (unsigned long long)seq);
	else
		snprintf(ev->u.flow.state, sizeof(ev->u.flow.state), "closed");
}

/* Lines of the day file now on disk (the header included). */
static uint64_t lines_on_disk(const char *path)
{
	FILE *f = fopen(path, "r");
	uint64_t n = 0;
	int c;

	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static unsigned nerrors;
static void collect(void *arg, enum elog_severity sev, const char *file, uint64_t line,
		    const char *msg)
{
	(void)arg;
	if (sev == ELOG_ERROR) {
		nerrors++;
		fprintf(stderr, "%s:%llu: %s\n", file, (unsigned long long)line, msg);
	}
}

START_TEST(stream_split_across_reads_in_order)
{
	char *dir = ct_mkdtemp("egwt-evbatch"), sock[512], logdir[512], day_path[700],
	     name[64], err[256];
	int64_t day = elog_day_of_us((int64_t)time(NULL) * 1000000);
	struct egw_ipc_events *m = malloc(EGW_IPC_MAX_MSG);
	uint64_t seq = 0, sent_fast = 0, sent_ctl = 0;
	size_t step = 1;
	struct cd_dpipc_stats st;

	ck_assert_ptr_nonnull(m);
	snprintf(sock, sizeof(sock), "%s/dataplane.sock", dir);
	snprintf(logdir, sizeof(logdir), "%s/log", dir);
	elog_name_format(day, ELOG_F_PLAIN, name, sizeof(name));
	snprintf(day_path, sizeof(day_path), "%s/%s", logdir, name);

	struct cd_evsink *sink = cd_evsink_open_elog(logdir, 0, false, err, sizeof(err));
	ck_assert_msg(sink != NULL, "cd_evsink_open_elog: %s", err);
	int lfd = listen_at(sock);
	struct cd_dpipc *c = cd_dpipc_new(sock, sink);
	ck_assert_ptr_nonnull(c);
	cd_dpipc_tick(c, 1);
	ck_assert(cd_dpipc_connected(c));
	int sfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(sfd, 0);

	while (sent_fast < N_STREAM) {
		/* a few of controld's own events, collected but not pushed:
		 * they must come before the next message's */
		for (unsigned k = 0; k < seq % 3; k++) {
			struct egw_event ev;
			make_event(&ev, seq++, true);
			ck_assert_int_eq(cd_evsink_emit(sink, &ev), 0);
			sent_ctl++;
		}
		/* one message of 1, 4, 13, 40, 121 ... events (at most a full one) */
		size_t k = step;
		if (k > EGW_IPC_EVENTS_MAX)
			k = EGW_IPC_EVENTS_MAX;
		if (k > N_STREAM - sent_fast)
			k = N_STREAM - sent_fast;
		size_t len = sizeof(*m) + k * sizeof(struct egw_event);
		egw_ipc_hdr_init(&m->hdr, EGW_IPC_EVENTS, (uint32_t)len, (uint32_t)seq);
		m->count = (uint32_t)k;
		m->lost = 0;
		for (size_t i = 0; i < k; i++)
			make_event(&m->ev[i], seq++, false);
		ck_assert_int_eq(send(sfd, m, len, 0), (ssize_t)len);
		cd_dpipc_handle(c);
		sent_fast += k;
		step = step > EGW_IPC_EVENTS_MAX ? 1 : step * 3 + 1;
		/* after a read, at most 255 lines (the header included) wait
		 * in memory: what kill -9 may lose */
		ck_assert_uint_ge(lines_on_disk(day_path) + (ELOG_BATCH_LINES - 1), seq + 1);
		ck_assert_uint_eq(cd_evsink_count(sink), seq);
	}

	/* cd_evsink_emit alone hands the batch on once it is full */
	uint64_t before = cd_evsink_count(sink);
	for (unsigned i = 0; i < CD_EVSINK_BATCH + 10; i++) {
		struct egw_event ev;
		make_event(&ev, seq++, true);
		ck_assert_int_eq(cd_evsink_emit(sink, &ev), 0);
		sent_ctl++;
	}
	ck_assert_uint_eq(cd_evsink_count(sink), before + CD_EVSINK_BATCH);
	cd_dpipc_get_stats(c, &st);
	ck_assert_uint_eq(st.events, N_STREAM);
	cd_dpipc_free(c);
	cd_evsink_close(sink);   /* pushes the last 10 */
	ck_assert_uint_eq(sent_fast + sent_ctl, seq);

	/* every event exactly once, in the order handed in */
	FILE *f = fopen(day_path, "r");
	char *line = NULL;
	size_t cap = 0;
	uint64_t next = 0;
	ck_assert_ptr_nonnull(f);
	while (getline(&line, &cap, f) > 0) {
		json_error_t je;
		json_t *o = json_loads(line, 0, &je);
		ck_assert_msg(o != NULL, "line %llu: %s", (unsigned long long)next, je.text);
		const char *type = json_string_value(json_object_get(o, "event_type"));
		ck_assert_ptr_nonnull(type);
		if (strncmp(type, "egw_", 4)) {
			json_int_t id = json_integer_value(json_object_get(o, "flow_id"));
			ck_assert_msg((uint64_t)id == next, "event %lld where %llu was due",
				      (long long)id, (unsigned long long)next);
			ck_assert_str_eq(type, egw_event_type_name(from_controld[next] ?
								   EGW_EV_DNS : EGW_EV_FLOW));
			next++;
		}
		json_decref(o);
	}
	free(line);
	fclose(f);
	ck_assert_uint_eq(next, seq);

	struct elog_verify_opts o = { .dir = logdir, .since_day = INT64_MIN, .today = day,
				      .report = collect };
	struct elog_verify_result res;
	nerrors = 0;
	ck_assert_int_eq(elog_verify(&o, &res), 0);
	ck_assert_uint_eq(res.errors, 0);
	ck_assert_uint_eq(nerrors, 0);

	close(sfd);
	close(lfd);
	free(m);
	ct_rm_rf(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("evsink_batch");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, stream_split_across_reads_in_order);
	suite_add_tcase(s, tc);
	return ct_run(s);
}
