/* SPDX-License-Identifier: MIT */
/*
 * bench_evsink: events per controld CPU second through egw-controld's
 * fast-path event input (issue 4, branch evbatch). See bench/log.md.
 *
 * A fake fast path (a thread) sends EGW_IPC_EVENTS messages of `per_msg`
 * events as fast as the socket takes them (blocking sends: no event is
 * dropped) to a SOCK_SEQPACKET socket; the main thread is controld's side,
 * the daemon's real modules in the daemon's loop: poll(2), cd_dpipc_handle
 * (the socket reads), cd_evsink (the sink) into the behaviour log
 * (elog_write_events), cd_evsink_tick after every poll round. Two sinks, run
 * alternately in one process (the first of each round alternates too):
 *   per-event: a sink of cd_evsink_open_ops (unbatched), every event to
 *              elog_write_events(l, ev, 1) alone (the code on main before
 *              this branch);
 *   batched:   cd_evsink_open_elog (one elog_write_events call per message).
 * Counted: the main thread's CPU time (CLOCK_THREAD_CPUTIME_ID: controld's
 * work, not the fake fast path's) and the event lines in the day file at
 * the end, which must be every event sent, in order (else exit 1).
 *
 * Usage: bench_evsink [events [per_msg [rounds [dir]]]]
 *   defaults 200000, EGW_IPC_EVENTS_MAX ("" too), 3, a new
 *   /tmp/egwt-evbatch-bench-*; each run's log is removed once checked.
 * BENCH_EVSINK_ONLY=batched|per-event runs one kind (for callgrind:
 *   --toggle-collect=consume).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
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

struct feeder {
	int lfd;
	uint64_t events;
	size_t per_msg;
};

static void make_event(struct egw_event *ev, uint64_t seq)
{
	static const char *const names[] = { "www.example.cn", "mail.qq.com",
		"cdn.jsdelivr.net", "\xe4\xbe\x8b\xe5\xad\x90.\xe4\xb8\xad\xe5\x9b\xbd" };

	memset(ev, 0, sizeof(*ev));
	ev->type = seq % 3 == 0 ? EGW_EV_TLS : seq % 3 == 1 ? EGW_EV_DNS : EGW_EV_FLOW;
	ev->action = seq % 5 ? EGW_EA_ALLOWED : EGW_EA_BLOCKED;
	ev->family = AF_INET;
	ev->proto = 6;
	ev->src_port = (uint16_t)(1024 + seq % 60000);
	ev->dest_port = 443;
	ev->ts_us = 1795000000000000ULL + seq;
	ev->flow_id = seq + 1;   /* 0 is not written */
	inet_pton(AF_INET, "10.1.0.10", ev->src_ip);
	inet_pton(AF_INET, "198.51.100.80", ev->dest_ip);
	snprintf(ev->unit, sizeof(ev->unit), "finance");
	snprintf(ev->user, sizeof(ev->user), "user%u", (unsigned)(seq % 500));
	snprintf(ev->rule, sizeof(ev->rule), "/etc/egw/egw.cfg:%u", (unsigned)(seq % 90));
	switch (ev->type) {
	case EGW_EV_TLS:
		snprintf(ev->u.tls.sni, sizeof(ev->u.tls.sni), "%s", names[seq % 4]);
		break;
	case EGW_EV_DNS:
		snprintf(ev->u.dns.rrname, sizeof(ev->u.dns.rrname), "%s", names[seq % 4]);
		ev->u.dns.rrtype = 1;
		break;
	default:
		ev->u.flow.pkts_toserver = seq;
		ev->u.flow.bytes_toclient = seq * 1400;
		snprintf(ev->u.flow.state, sizeof(ev->u.flow.state), "closed");
		break;
	}
}

/* The fake fast path: accept controld, send every event, close. */
static void *feed(void *arg)
{
	struct feeder *f = arg;
	struct egw_ipc_events *m = malloc(EGW_IPC_MAX_MSG);
	uint64_t seq = 0;
	int fd = accept(f->lfd, NULL, NULL);

	if (!m || fd < 0) {
		fprintf(stderr, "bench_evsink: feeder: %s\n", strerror(errno));
		exit(1);
	}
	while (seq < f->events) {
		size_t k = f->per_msg;
		if (k > f->events - seq)
			k = (size_t)(f->events - seq);
		size_t len = sizeof(*m) + k * sizeof(struct egw_event);
		egw_ipc_hdr_init(&m->hdr, EGW_IPC_EVENTS, (uint32_t)len, (uint32_t)seq);
		m->count = (uint32_t)k;
		m->lost = 0;
		for (size_t i = 0; i < k; i++)
			make_event(&m->ev[i], seq++);
		if (send(fd, m, len, MSG_NOSIGNAL) != (ssize_t)len) {
			fprintf(stderr, "bench_evsink: feeder send: %s\n", strerror(errno));
			exit(1);
		}
	}
	close(fd);
	free(m);
	return NULL;
}

/* main's sink: no emit_n, one elog_write_events call per event */
static int old_emit(void *ctx, const struct egw_event *ev)
{
	return elog_write_events(ctx, ev, 1) == 1 ? 0 : -EIO;
}
static int old_flush(void *ctx) { return elog_flush(ctx); }
static void old_close(void *ctx) { elog_close(ctx); }
static int old_tick(void *ctx) { return elog_tick(ctx); }
static const struct cd_evsink_ops old_ops = { old_emit, old_flush, old_close, old_tick };

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* controld's loop until the fast path hangs up (noinline: callgrind's
 * --toggle-collect=consume counts exactly this). */
__attribute__((noinline)) static void consume(struct cd_dpipc *c, struct cd_evsink *s)
{
	while (cd_dpipc_connected(c)) {
		struct pollfd pf = { .fd = cd_dpipc_fd(c), .events = POLLIN };
		if (poll(&pf, 1, ELOG_TICK_MS) > 0)
			cd_dpipc_handle(c);
		cd_evsink_tick(s);
	}
}

/* The day file's event lines: all of them, flow_id 0..n-1 in order. */
static int check_lines(const char *path, uint64_t n, uint64_t *lines)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	uint64_t next = 0;
	int rc = 0;

	*lines = 0;
	if (!f) {
		fprintf(stderr, "bench_evsink: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		const char *p = strstr(line, "\"flow_id\":");
		if (strstr(line, "\"event_type\":\"egw_"))
			continue;
		if (!p || strtoull(p + 10, NULL, 10) != next + 1) {
			fprintf(stderr, "bench_evsink: %s: event line %llu is not event %llu\n",
				path, (unsigned long long)*lines, (unsigned long long)next);
			rc = -1;
			break;
		}
		next++;
		(*lines)++;
	}
	free(line);
	fclose(f);
	if (!rc && next != n) {
		fprintf(stderr, "bench_evsink: %s: %llu event lines, %llu sent\n", path,
			(unsigned long long)next, (unsigned long long)n);
		rc = -1;
	}
	return rc;
}

static int run(const char *base, int round, bool batched, uint64_t events, size_t per_msg)
{
	char dir[512], sock[600], path[700], name[64], err[256];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct feeder f = { .events = events, .per_msg = per_msg };
	struct cd_evsink *s;
	struct cd_dpipc *c;
	pthread_t t;
	uint64_t lines;
	double c0, w0, cpu, wall;

	snprintf(dir, sizeof(dir), "%s/%s-%d", base, batched ? "batched" : "per-event", round);
	snprintf(sock, sizeof(sock), "%s.sock", dir);
	if (batched) {
		s = cd_evsink_open_elog(dir, 0, false, err, sizeof(err));
	} else {
		struct elog_cfg cfg = { .dir = dir };
		struct elog *l = elog_open(&cfg, err, sizeof(err));
		s = l ? cd_evsink_open_ops(&old_ops, l) : NULL;
	}
	if (!s) {
		fprintf(stderr, "bench_evsink: %s: %s\n", dir, err);
		return -1;
	}
	f.lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "bench_evsink: %s: path too long for a socket\n", sock);
		return -1;
	}
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	if (f.lfd < 0 || bind(f.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f.lfd, 1) < 0) {
		fprintf(stderr, "bench_evsink: %s: %s\n", sock, strerror(errno));
		return -1;
	}
	c = cd_dpipc_new(sock, s);
	if (!c || pthread_create(&t, NULL, feed, &f)) {
		fprintf(stderr, "bench_evsink: setup failed\n");
		return -1;
	}
	w0 = wall_s();
	c0 = thread_cpu_s();
	cd_dpipc_tick(c, 1);
	consume(c, s);
	cd_evsink_close(s);     /* the last lines to disk: counted */
	cpu = thread_cpu_s() - c0;
	wall = wall_s() - w0;
	pthread_join(t, NULL);
	cd_dpipc_free(c);
	close(f.lfd);
	unlink(sock);

	elog_name_format(elog_day_of_us((int64_t)time(NULL) * 1000000), ELOG_F_PLAIN,
			 name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (check_lines(path, events, &lines) < 0)
		return -1;      /* the directory is kept to look at */
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "bench_evsink: removing %s: %s\n", dir, strerror(errno));
	printf("%-9s round %d: %llu events in %llu-event messages, %llu lines in order; "
	       "%.0f events per controld CPU s (%.3f s), %.0f per wall s (%.3f s)\n",
	       batched ? "batched" : "per-event", round, (unsigned long long)events,
	       (unsigned long long)per_msg, (unsigned long long)lines, (double)lines / cpu,
	       cpu, (double)lines / wall, wall);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t events = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
	size_t per_msg = argc > 2 && argv[2][0] ? strtoul(argv[2], NULL, 10) : EGW_IPC_EVENTS_MAX;
	int rounds = argc > 3 ? atoi(argv[3]) : 3;
	const char *only = getenv("BENCH_EVSINK_ONLY");
	char tmpl[] = "/tmp/egwt-evbatch-bench-XXXXXX";
	const char *base = argc > 4 ? argv[4] : mkdtemp(tmpl);

	if (!base || !events || !per_msg || per_msg > EGW_IPC_EVENTS_MAX || rounds < 1) {
		fprintf(stderr, "usage: bench_evsink [events [per_msg (1..%zu) [rounds [dir]]]]\n",
			(size_t)EGW_IPC_EVENTS_MAX);
		return 2;
	}
	printf("bench_evsink: logs in %s\n", base);
	fflush(stdout);
	for (int r = 1; r <= rounds; r++) {
		/* odd rounds per-event first, even rounds batched first */
		for (int i = 0; i < 2; i++) {
			bool batched = (i == 1) == (r % 2 == 1);
			if (only && strcmp(only, batched ? "batched" : "per-event"))
				continue;
			if (run(base, r, batched, events, per_msg))
				return 1;
		}
	}
	if (argc <= 4)
		rmdir(base);
	return 0;
}
