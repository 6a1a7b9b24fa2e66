/* SPDX-License-Identifier: MIT */
/*
 * Test driver for the behaviour-log writer (tests/golden/logs*.test.sh).
 *   elog_tool gen DIR FIRST_DAY DAYS PER_DAY [zstd|none] [RETENTION]
 *       PER_DAY events a day over DAYS simulated days (clock set by the tool),
 *       rotating at each UTC midnight; events are numbered by flow_id.
 *       ELOG_TOOL_LAG_US: events carry a timestamp that much older.
 *   elog_tool stream DIR
 *       events without end; after every flush prints "flushed N" (N
 *       events handed to the kernel). For kill -9 tests.
 *   elog_tool append DIR N
 *       N events numbered from 0, then a clean close.
 *   elog_tool syslog DIR udp|tcp PORT N
 *       N events with an RFC 5424 copy to 127.0.0.1:PORT; prints the counts.
 *   stream, append and syslog write on a simulated clock from noon (UTC) of
 *   the current day, a microsecond (stream) or millisecond an event: a run
 *   never crosses midnight, which would start a day file in the middle of
 *   what a test counts.
 *   elog_tool diskfull DIR FILLER
 *       writes, fills the file system with FILLER, keeps writing, prints
 *       the counters, deletes FILLER, writes again; see logs_diskfull.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "elog.h"
#include "elog_format.h"

static int64_t sim_now;

static int64_t sim_clock(void *arg)
{
	(void)arg;
	return sim_now;
}

/* The simulated clock at noon (UTC) of the current day. */
static void sim_noon(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	sim_now = ((int64_t)now.tv_sec / 86400 * 86400 + 43200) * 1000000;
}

static json_t *event(uint64_t n, int64_t ts)
{
	static const char *const units[] = { "finance", "health" };
	static const char *const users[] = { "zhang.wei", "li.na", "wang.fang" };
	static const char *const doms[] = { "mail.qq.com", "www.example.cn", "news.example.org" };
	static const char *const acts[] = { "allowed", "blocked", "redirected", "punted" };
	char t[40], src[32];

	elog_ts_format(ts, t, sizeof(t));
	snprintf(src, sizeof(src), "10.%d.0.%d", 1 + (int)(n % 2), 10 + (int)(n % 3));
	return json_pack("{s:s, s:s, s:I, s:s, s:i, s:s, s:i, s:s, "
			 "s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:i}}",
		"timestamp", t, "event_type", "dns", "flow_id", (json_int_t)n,
		"src_ip", src, "src_port", 40000 + (int)(n % 1000),
		"dest_ip", "198.51.100.53", "dest_port", 53, "proto", "UDP",
		"egw", "unit", units[n % 2], "user", users[n % 3],
		"action", acts[n % 4], "reason", n % 4 == 1 ? "category:commercial-mail" : "",
		"rule", "egw.cfg:70",
		"dns", "type", "query", "rrname", doms[n % 3], "id", (int)(n & 0xffff));
}

static void stats(struct elog *l, const char *when)
{
	struct elog_stats st;

	elog_get_stats(l, &st);
	printf("%s written=%" PRIu64 " failed=%" PRIu64 " backlog=%" PRIu64
	       " write_errors=%" PRIu64 " last_errno=%d\n", when, st.written, st.failed,
	       st.backlog, st.write_errors, st.last_errno);
	fflush(stdout);
}

static int gen(int argc, char **argv)
{
	struct elog_cfg cfg = { .dir = argv[2], .clock = sim_clock, .compress = true };
	char err[512];
	int64_t first;
	int days = atoi(argv[4]), per = atoi(argv[5]);
	uint64_t n = 0;

	if (elog_day_parse(argv[3], &first) < 0 || days <= 0 || per <= 0)
		return 2;
	if (argc > 6)
		cfg.compress = strcmp(argv[6], "none") != 0;
	if (argc > 7)
		cfg.retention_days = (unsigned)atoi(argv[7]);
	/* events stamped this long before they are written (fast-path batches) */
	const char *lagenv = getenv("ELOG_TOOL_LAG_US");
	int64_t lag = lagenv ? atoll(lagenv) : 0;
	sim_now = first * 86400LL * 1000000;
	struct elog *l = elog_open(&cfg, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "elog_open: %s\n", err);
		return 1;
	}
	for (int d = 0; d < days; d++) {
		for (int i = 0; i < per; i++) {
			sim_now = (first + d) * 86400LL * 1000000 +
				  (int64_t)i * (86400LL * 1000000 / per);
			json_t *ev = event(n++, sim_now - lag);
			if (elog_write(l, &ev, 1) != 1) {
				fprintf(stderr, "event %" PRIu64 " not accepted\n", n - 1);
				return 1;
			}
			json_decref(ev);
		}
		elog_tick(l);
	}
	stats(l, "end");
	return elog_close(l) ? 1 : 0;
}

static int stream(char **argv)
{
	struct elog_cfg cfg = { .dir = argv[2], .clock = sim_clock, .compress = true };
	char err[512];
	uint64_t n = 0;
	sim_noon();
	struct elog *l = elog_open(&cfg, err, sizeof(err));

	if (!l) {
		fprintf(stderr, "elog_open: %s\n", err);
		return 1;
	}
	for (;;) {
		json_t *ev[64];
		for (int i = 0; i < 64; i++)
			ev[i] = event(n++, ++sim_now);
		elog_write(l, ev, 64);
		for (int i = 0; i < 64; i++)
			json_decref(ev[i]);
		if (n % 256 == 0) {
			if (elog_tick(l) == 0) {
				printf("flushed %" PRIu64 "\n", n);
				fflush(stdout);
			}
		}
	}
}

static int append(char **argv)
{
	struct elog_cfg cfg = { .dir = argv[2], .clock = sim_clock, .compress = true };
	char err[512];
	int n = atoi(argv[3]);
	sim_noon();
	struct elog *l = elog_open(&cfg, err, sizeof(err));

	if (!l) {
		fprintf(stderr, "elog_open: %s\n", err);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		sim_now += 1000;
		json_t *ev = event((uint64_t)i, sim_now);
		elog_write(l, &ev, 1);
		json_decref(ev);
	}
	stats(l, "end");
	return elog_close(l) ? 1 : 0;
}

static int syslog_copy(char **argv)
{
	/* A day file started mid-run would copy its header line to syslog
	 * too: the simulated clock keeps the count exact. */
	struct elog_cfg cfg = { .dir = argv[2], .clock = sim_clock,
				.syslog_host = "127.0.0.1",
				.syslog_port = (uint16_t)atoi(argv[4]),
				.syslog_proto = strcmp(argv[3], "tcp") ? 1 : 2 };
	sim_noon();
	char err[512];
	int n = atoi(argv[5]);
	struct elog *l = elog_open(&cfg, err, sizeof(err));
	struct elog_stats st;

	if (!l) {
		fprintf(stderr, "elog_open: %s\n", err);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		sim_now += 1000;
		json_t *ev = event((uint64_t)i, sim_now);
		elog_write(l, &ev, 1);
		json_decref(ev);
		if (cfg.syslog_proto == 1 && i % 10 == 9)
			usleep(5000); /* UDP: let the receiver keep up */
	}
	elog_get_stats(l, &st);
	printf("syslog sent=%" PRIu64 " dropped=%" PRIu64 "\n", st.syslog_sent,
	       st.syslog_dropped);
	return elog_close(l) ? 1 : 0;
}

static int diskfull(char **argv)
{
	struct elog_cfg cfg = { .dir = argv[2], .compress = true, .backlog_max = 256 << 10 };
	char err[512], block[65536];
	uint64_t n = 0;
	struct elog *l = elog_open(&cfg, err, sizeof(err));
	struct elog_stats st;
	int fd, rc = 0;

	if (!l) {
		fprintf(stderr, "elog_open: %s\n", err);
		return 1;
	}
	for (int i = 0; i < 1000; i++) {
		json_t *ev = event(n++, 0);
		elog_write(l, &ev, 1);
		json_decref(ev);
	}
	elog_flush(l);
	stats(l, "before");
	fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	memset(block, 'x', sizeof(block));
	while (fd >= 0 && write(fd, block, sizeof(block)) > 0)
		;
	while (fd >= 0 && write(fd, block, 1) > 0)
		;
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 20000; i++) {
		json_t *ev = event(n++, 0);
		elog_write(l, &ev, 1);
		json_decref(ev);
		if (i % 256 == 0)
			elog_tick(l);
	}
	stats(l, "full");
	elog_get_stats(l, &st);
	if (st.failed == 0 || st.write_errors == 0) {
		fprintf(stderr, "the disk never filled\n");
		rc = 1;
	}
	unlink(argv[3]);
	for (int i = 0; i < 1000; i++) {
		json_t *ev = event(n++, 0);
		elog_write(l, &ev, 1);
		json_decref(ev);
	}
	if (elog_flush(l) != 0) {
		fprintf(stderr, "writing did not resume\n");
		rc = 1;
	}
	stats(l, "resumed");
	printf("offered=%" PRIu64 "\n", n);
	elog_close(l);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "gen"))
		return gen(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "stream"))
		return stream(argv);
	if (argc == 6 && !strcmp(argv[1], "syslog"))
		return syslog_copy(argv);
	if (argc == 4 && !strcmp(argv[1], "append"))
		return append(argv);
	if (argc == 4 && !strcmp(argv[1], "diskfull"))
		return diskfull(argv);
	fprintf(stderr, "usage: elog_tool gen DIR FIRST_DAY DAYS PER_DAY [zstd|none] [RETENTION]\n"
		"       elog_tool stream DIR\n       elog_tool append DIR N\n       elog_tool diskfull DIR FILLER\n");
	return 2;
}
