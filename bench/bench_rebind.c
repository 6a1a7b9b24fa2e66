/* SPDX-License-Identifier: MIT */
/*
 * What a reload costs the packet loop: bench_rebind POLICY FLOWS [STEP]
 *
 * Fills a worker's flow table with FLOWS TCP flows (terminals 10.0.0.0/8,
 * the policy decides them as the fast path does), then re-decides them
 * under a second build of the same policy twice, side by side:
 *  - whole: dp_worker_rebind, the whole table at once (what the port loop
 *    did until it rebound in slices: the time no packet was polled);
 *  - sliced: dp_worker_rebind_begin, then dp_worker_rebind_step STEP
 *    entries at a time (DP_REBIND_STEP, as the port loop does): the
 *    longest step is the longest pause a reload now puts in the loop.
 * Prints one JSON line (times in microseconds, CPU time of this thread).
 * Runs its own EAL (no hugepages, no devices).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <rte_eal.h>

#include <egw/policy.h>

#include "../dataplane/dp_tables.h"
#include "../dataplane/dp_worker.h"

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static struct dp_tables *build(const char *path)
{
	struct egw_diag *d = egw_diag_new();
	struct egw_policy *pol = d ? egw_policy_load(path, d) : NULL;
	struct dp_tables *t = pol ? dp_tables_build(pol, d) : NULL;
	if (!t && d)
		egw_diag_print(d, stderr);
	egw_diag_free(d);
	return t;
}

/* A TCP SYN from 10.(i>>16).(i>>8).i:(1024 + i % 50000) to 192.0.2.80:443. */
static uint32_t syn(uint8_t *b, uint32_t i)
{
	static const uint8_t head[] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00,
		0x45, 0x00, 0x00, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,
	};
	memcpy(b, head, sizeof(head));
	uint8_t *ip = b + 14, *t = ip + 20;
	ip[12] = 10;
	ip[13] = (uint8_t)(i >> 16);
	ip[14] = (uint8_t)(i >> 8);
	ip[15] = (uint8_t)i;
	ip[16] = 192;
	ip[17] = 0;
	ip[18] = 2;
	ip[19] = 80;
	memset(t, 0, 20);
	uint16_t sp = (uint16_t)(1024 + i % 50000);
	t[0] = (uint8_t)(sp >> 8);
	t[1] = (uint8_t)sp;
	t[2] = 443 >> 8;
	t[3] = 443 & 0xff;
	t[12] = 5 << 4;
	t[13] = DP_TCP_SYN;
	return 14 + 40;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s POLICY FLOWS [STEP]\n", argv[0]);
		return 2;
	}
	uint32_t flows = (uint32_t)strtoul(argv[2], NULL, 10);
	uint32_t step = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : DP_REBIND_STEP;
	char *eal[] = { argv[0], (char *)"--no-huge", (char *)"-m", (char *)"2048",
			(char *)"--no-pci", (char *)"--no-shconf", (char *)"-l", (char *)"0",
			(char *)"--log-level=error", (char *)"--no-telemetry", NULL };
	if (flows == 0 || step == 0 || rte_eal_init(10, eal) < 0) {
		fprintf(stderr, "%s: bad FLOWS or STEP, or no EAL\n", argv[0]);
		return 2;
	}
	struct dp_tables *a = build(argv[1]), *b = build(argv[1]), *c = build(argv[1]);
	struct dp_worker w;
	if (!a || !b || !c || dp_worker_init(&w, 0, flows, 1024)) {
		fprintf(stderr, "%s: cannot build the tables or the worker\n", argv[0]);
		return 1;
	}
	uint8_t frame[64];
	for (uint32_t i = 0; i < flows; i++) {
		uint32_t len = syn(frame, i);
		(void)dp_worker_packet(&w, a, frame, &len, false, 1000000);
	}
	uint32_t n = w.ft.n;

	double t0 = now_us();
	dp_worker_rebind(&w, a, b);
	double whole = now_us() - t0;

	double longest = 0, total = 0;
	unsigned steps = 0;
	dp_worker_rebind_begin(&w, b, c);
	for (bool done = false; !done; steps++) {
		double s0 = now_us();
		done = dp_worker_rebind_step(&w, c, step);
		double d = now_us() - s0;
		total += d;
		if (d > longest)
			longest = d;
	}
	printf("{\"flows\": %u, \"step\": %u, \"whole_us\": %.0f, \"sliced_steps\": %u, "
	       "\"sliced_total_us\": %.0f, \"sliced_longest_us\": %.1f, \"flows_after\": %u}\n",
	       n, step, whole, steps, total, longest, w.ft.n);
	dp_worker_fini(&w);
	dp_tables_free(a);
	dp_tables_free(b);
	dp_tables_free(c);
	rte_eal_cleanup();
	return 0;
}
