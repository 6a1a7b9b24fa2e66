/* SPDX-License-Identifier: MIT */
/*
 * Behaviour-log writer throughput on one core: events per second through
 * elog_write (serialise, HMAC chain, write(2)), with no loss.
 *   bench_log [EVENTS [DIR]]   (default 1000000 events, a fresh temp dir)
 * The events are built once beforehand (building JSON is the caller's cost);
 * prints events/s, MB/s and the counters; fails if any event was lost.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "elog.h"
#include "elog_format.h"

#define DISTINCT 1024

/* CPU time of this process (user + system): what one core spends, which a
 * loaded machine distorts less than the wall clock. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	char tmpl[] = "/tmp/egw-bench-log-XXXXXX", err[512], cmd[600];
	const char *dir = argc > 2 ? argv[2] : mkdtemp(tmpl);
	struct elog_cfg cfg = { .dir = dir, .compress = true };
	json_t *ev[DISTINCT];
	struct elog_stats st;
	struct elog *l;
	double t0, t1, c0, c1;

	if (!dir) {
		perror("mkdtemp");
		return 1;
	}
	for (int i = 0; i < DISTINCT; i++) {
		char ts[40], src[32];
		elog_ts_format(1764201600000000LL + i * 1000, ts, sizeof(ts));
		snprintf(src, sizeof(src), "10.1.%d.%d", i / 250, 10 + i % 250);
		ev[i] = json_pack("{s:s, s:s, s:I, s:s, s:i, s:s, s:i, s:s, "
				  "s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:s}}",
			"timestamp", ts, "event_type", "tls", "flow_id", (json_int_t)i * 7919,
			"src_ip", src, "src_port", 40000 + i, "dest_ip", "198.51.100.80",
			"dest_port", 443, "proto", "TCP",
			"egw", "unit", "finance", "user", "zhang.wei", "src_mac", "02:00:0a:01:00:0a",
			"switch_port", "sw1/0/3", "location", "Building A 3F", "action", "allowed",
			"reason", "profile-default", "rule", "egw.cfg:86",
			"tls", "sni", "www.example.cn");
	}
	/* the serialisation alone (jansson), the floor of the writer's cost */
	{
		static char buf[65536];
		size_t sink = 0;
		uint64_t m = total < 200000 ? total : 200000;
		t0 = now_s();
		c0 = cpu_s();
		for (uint64_t n = 0; n < m; n++)
			sink += json_dumpb(ev[n % DISTINCT], buf, sizeof(buf), JSON_COMPACT);
		t1 = now_s();
		c1 = cpu_s();
		printf("bench_log: json_dumpb alone: %.0f events/s wall, %.0f events per CPU "
		       "second (%zu bytes)\n", m / (t1 - t0), m / (c1 - c0), sink / m);
	}
	l = elog_open(&cfg, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "elog_open: %s\n", err);
		return 1;
	}
	t0 = now_s();
	c0 = cpu_s();
	for (uint64_t n = 0; n < total; n += 64) {
		size_t k = total - n < 64 ? (size_t)(total - n) : 64;
		elog_write(l, &ev[n % DISTINCT], k);
		if (n % 4096 == 0)
			elog_tick(l);
	}
	elog_flush(l);
	t1 = now_s();
	c1 = cpu_s();
	elog_get_stats(l, &st);
	elog_close(l);
	printf("bench_log: writer: %" PRIu64 " events in %.3f s wall, %.3f s CPU: "
	       "%.0f events/s wall, %.0f events per CPU second, %.1f MB/s, "
	       "%.0f bytes/line; written=%" PRIu64 " failed=%" PRIu64 "\n",
	       total, t1 - t0, c1 - c0, total / (t1 - t0), total / (c1 - c0),
	       st.bytes / (t1 - t0) / 1e6,
	       (double)st.bytes / (double)st.written, st.written, st.failed);
	for (int i = 0; i < DISTINCT; i++)
		json_decref(ev[i]);
	if (argc <= 2) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return st.failed || st.written < total ? 1 : 0;
}
