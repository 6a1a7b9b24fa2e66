/* SPDX-License-Identifier: MIT */
/*
 * Behaviour-log writer throughput on one core, the full path: struct
 * egw_event in, the line on disk out, no loss allowed; two encoders side by
 * side in the same run:
 *   jansson: egw_event_to_json + elog_write (object tree, json_dumpb)
 *   yajl:    elog_write_events (egw_event_encode streams the same bytes)
 * both then HMAC-chained and written in batches by the same writer.
 *   bench_log [EVENTS [DIR [all|json|yajl|parts]]]
 *   (default 1000000 events, a fresh temp dir, all: the parts alone, then
 *   both full paths; json / yajl: that full path only; parts: only those)
 * Prints events/s of wall time and per CPU second (getrusage, user+system,
 * and the user/system split) for the encoders alone, jansson's
 * serialisation alone and each full path.
 *
 * "Without loss", as issue 4 words it: after each full path the directory
 * is checked as `egwctl logs verify` checks it (elog_verify: chain, seals,
 * checkpoint) and read back line by line: every event handed in must be one
 * event line, in order, whose text is that event's encoding. The program
 * fails (exit 1) otherwise. For a repeatable figure run it under callgrind
 * with --toggle-collect=run_full or --toggle-collect=run_yajl
 * (instructions/event = Ir / EVENTS): see bench/log.md.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <egw/event.h>

#include "elog.h"
#include "elog_format.h"
#include "elog_reader.h"
#include "elog_verify.h"

#define DISTINCT 1024
#define BATCH 64

/* CPU time of this process (user and system): what one core spends, which
 * a loaded machine distorts less than the wall clock. */
struct cpu {
	double user, sys;
};

static struct cpu cpu_now(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (struct cpu){ ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
			     ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6 };
}

static double cpu_s(void)
{
	struct cpu c = cpu_now();
	return c.user + c.sys;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Events as the fast path makes them: mostly TLS and DNS, some flows. */
static void make_events(struct egw_event *evs)
{
	for (int i = 0; i < DISTINCT; i++) {
		struct egw_event *ev = &evs[i];
		memset(ev, 0, sizeof(*ev));
		ev->type = i % 4 == 3 ? EGW_EV_FLOW : i % 2 ? EGW_EV_DNS : EGW_EV_TLS;
		ev->action = i % 7 ? EGW_EA_ALLOWED : EGW_EA_BLOCKED;
		ev->family = AF_INET;
		ev->proto = ev->type == EGW_EV_DNS ? 17 : 6;
		ev->src_port = (uint16_t)(40000 + i);
		ev->dest_port = ev->type == EGW_EV_DNS ? 53 : 443;
		uint8_t src[4] = { 10, 1, (uint8_t)(i / 250), (uint8_t)(10 + i % 250) };
		uint8_t dst[4] = { 198, 51, 100, (uint8_t)(i % 200) };
		memcpy(ev->src_ip, src, 4);
		memcpy(ev->dest_ip, dst, 4);
		uint8_t mac[6] = { 2, 0, 10, 1, (uint8_t)(i / 250), (uint8_t)i };
		memcpy(ev->src_mac, mac, 6);
		ev->has_mac = 1;
		ev->ts_us = 1795753200000000ULL + (uint64_t)i * 1013;
		ev->flow_id = (uint64_t)i * 7919 + 1;
		snprintf(ev->unit, sizeof(ev->unit), "%s", i % 3 ? "finance" : "税务局");
		snprintf(ev->user, sizeof(ev->user), "user%d", i % 97);
		snprintf(ev->switch_port, sizeof(ev->switch_port), "sw1/0/%d", i % 48);
		snprintf(ev->location, sizeof(ev->location), "Building A %dF", i % 9);
		snprintf(ev->reason, sizeof(ev->reason), "%s",
			 ev->action == EGW_EA_BLOCKED ? "category:gambling" : "profile-default");
		snprintf(ev->rule, sizeof(ev->rule), "egw.cfg:%d", 80 + i % 40);
		switch (ev->type) {
		case EGW_EV_TLS:
			snprintf(ev->u.tls.sni, sizeof(ev->u.tls.sni), "www%d.example.cn", i);
			break;
		case EGW_EV_DNS:
			ev->u.dns.id = (uint16_t)(i * 31);
			ev->u.dns.rrtype = i % 5 ? 1 : 28;
			ev->u.dns.rcode = i % 11 ? 0 : 3;
			snprintf(ev->u.dns.rrname, sizeof(ev->u.dns.rrname),
				 "img%d.cdn.example.com", i);
			break;
		default:
			ev->u.flow.pkts_toserver = (uint64_t)i * 3;
			ev->u.flow.pkts_toclient = (uint64_t)i * 5;
			ev->u.flow.bytes_toserver = (uint64_t)i * 1400;
			ev->u.flow.bytes_toclient = (uint64_t)i * 52000;
			ev->u.flow.start_us = ev->ts_us - 30000000;
			ev->u.flow.end_us = ev->ts_us;
			snprintf(ev->u.flow.state, sizeof(ev->u.flow.state), "closed");
			snprintf(ev->u.flow.reason, sizeof(ev->u.flow.reason), "tcp-close");
			break;
		}
	}
}

/* The full path, events from structs: kept out of line so that callgrind
 * can count it alone (--toggle-collect=run_full). Returns events lost. */
__attribute__((noinline)) uint64_t run_full(struct elog *l, const struct egw_event *evs,
					    uint64_t total);
__attribute__((noinline)) uint64_t run_full(struct elog *l, const struct egw_event *evs,
					    uint64_t total)
{
	uint64_t lost = 0;

	for (uint64_t n = 0; n < total; n += BATCH) {
		json_t *j[BATCH];
		size_t k = total - n < BATCH ? (size_t)(total - n) : BATCH;
		for (size_t i = 0; i < k; i++)
			j[i] = egw_event_to_json(&evs[(n + i) % DISTINCT]);
		lost += k - elog_write(l, j, k);
		for (size_t i = 0; i < k; i++)
			json_decref(j[i]);
		if (n % 4096 == 0)
			elog_tick(l);
	}
	if (elog_flush(l))
		lost++;
	return lost;
}

/* The full path through the struct entry point (yajl): the same batches. */
__attribute__((noinline)) uint64_t run_yajl(struct elog *l, const struct egw_event *evs,
					    uint64_t total);
__attribute__((noinline)) uint64_t run_yajl(struct elog *l, const struct egw_event *evs,
					    uint64_t total)
{
	uint64_t lost = 0;

	for (uint64_t n = 0; n < total; n += BATCH) {
		struct egw_event b[BATCH];
		size_t k = total - n < BATCH ? (size_t)(total - n) : BATCH;
		/* the batch as it arrives from the fast path: a copy of structs */
		for (size_t i = 0; i < k; i++)
			b[i] = evs[(n + i) % DISTINCT];
		lost += k - elog_write_events(l, b, k);
		if (n % 4096 == 0)
			elog_tick(l);
	}
	if (elog_flush(l))
		lost++;
	return lost;
}

static void report(const char *what, uint64_t n, double wall, double cpu, const char *extra)
{
	printf("bench_log: %-28s %8.0f events/s wall, %8.0f events per CPU second%s\n",
	       what, n / wall, n / cpu, extra);
}

/* The text each event must have on disk (its encoding, checked byte for
 * byte against jansson's by the unit tests), for the read-back. */
struct expect {
	char *text[DISTINCT];
	size_t len[DISTINCT];
};

static int expect_make(struct expect *x, const struct egw_event *evs)
{
	struct egw_event_enc *enc = egw_event_enc_new();
	const char *t;
	size_t n;

	if (!enc)
		return -1;
	for (int i = 0; i < DISTINCT; i++) {
		if (egw_event_encode(enc, &evs[i], &t, &n) || !(x->text[i] = malloc(n)))
			return -1;
		memcpy(x->text[i], t, n);
		x->len[i] = n;
	}
	egw_event_enc_free(enc);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Read back the day files of dir in order: *events = event lines that are
 * exactly the events handed in, in order; -1 at the first line that is
 * not (said on stderr). */
static int read_back(const char *dir, const struct expect *x, uint64_t *events)
{
	struct dirent **names;
	int nn = scandir(dir, &names, NULL, by_name), rc = 0;
	char path[1200];

	*events = 0;
	if (nn < 0) {
		perror(dir);
		return -1;
	}
	for (int i = 0; i < nn; i++) {
		int64_t day;
		enum elog_file_kind kind;
		if (rc || elog_name_parse(names[i]->d_name, &day, &kind) < 0 ||
		    kind == ELOG_F_SUMMARY) {
			free(names[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		const char *line, *why = "";
		struct elog_reader *r = elog_reader_open(path, kind == ELOG_F_ZSTD, &why);
		size_t len;
		bool complete;
		int got;
		uint64_t lineno = 0;
		if (!r) {
			fprintf(stderr, "%s: %s\n", path, why);
			rc = -1;
			continue;
		}
		while ((got = elog_reader_next(r, &line, &len, &complete, &why)) == 1) {
			struct elog_line ln;
			lineno++;
			if (!complete || elog_line_parse(line, len, &ln, &why) < 0) {
				fprintf(stderr, "%s: line %" PRIu64 ": %s\n", path,
					lineno, complete ? why : "torn");
				rc = -1;
				break;
			}
			if (ln.record)
				continue;
			/* body = the event's text without its '}', then ,"egw_seq": */
			size_t k = (size_t)(*events % DISTINCT), n = x->len[k] - 1;
			if (ln.body_len < n + sizeof(ELOG_SEQ_PREFIX) - 1 ||
			    memcmp(ln.body, x->text[k], n) ||
			    memcmp(ln.body + n, ELOG_SEQ_PREFIX, sizeof(ELOG_SEQ_PREFIX) - 1)) {
				fprintf(stderr, "%s: line %" PRIu64 " is not event %" PRIu64
					" handed in\n", path, lineno, *events);
				rc = -1;
				break;
			}
			(*events)++;
		}
		if (got < 0) {
			fprintf(stderr, "%s: %s\n", path, why);
			rc = -1;
		}
		elog_reader_close(r);
	}
	free(names);
	return rc;
}

/* One full path into dir/sub: 0, or 1 when an event was lost. */
static int full(const char *dir, const char *sub, const struct egw_event *evs,
		const struct expect *x, uint64_t total, bool structs)
{
	char path[600], err[512], extra[200];
	struct elog_cfg cfg = { 0 };
	struct elog_stats st;
	struct elog *l;
	uint64_t lost, events = 0;
	const char *name = structs ? "yajl" : "jansson";

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	cfg.dir = path;
	cfg.compress = true;
	l = elog_open(&cfg, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "elog_open: %s\n", err);
		return 1;
	}
	double t0 = now_s();
	struct cpu c0 = cpu_now();
	lost = structs ? run_yajl(l, evs, total) : run_full(l, evs, total);
	double wall = now_s() - t0;
	struct cpu c1 = cpu_now();
	elog_get_stats(l, &st);
	if (elog_close(l))
		lost++;
	double user = c1.user - c0.user, sys = c1.sys - c0.sys;
	snprintf(extra, sizeof(extra), "; %.1f MB/s, %.0f bytes/line, user %.0f%% system "
		 "%.0f%%, written=%" PRIu64 " failed=%" PRIu64, st.bytes / wall / 1e6,
		 (double)st.bytes / (double)st.written, 100 * user / (user + sys),
		 100 * sys / (user + sys), st.written, st.failed);
	snprintf(err, sizeof(err), "full path, %s:", name);
	report(err, total, wall, user + sys, extra);

	/* without loss: logs verify passes and every event is on disk */
	struct elog_verify_opts vo = { .dir = path, .since_day = INT64_MIN,
				       .today = elog_day_of_us((int64_t)(time(NULL)) * 1000000) };
	struct elog_verify_result vr = { 0 };
	int vrc = elog_verify(&vo, &vr);
	int brc = read_back(path, x, &events);
	bool ok = !lost && !st.failed && vrc == 0 && brc == 0 && events == total;
	printf("bench_log: %-8s %s: %" PRIu64 " events handed in, %" PRIu64 " event lines "
	       "read back in order; logs verify: %s (%u file(s), %" PRIu64 " lines, %u errors)\n",
	       name, ok ? "no loss" : "LOSS", total, events, vrc == 0 ? "OK" : "BROKEN",
	       vr.files, vr.lines, vr.errors);
	return !ok;
}

int main(int argc, char **argv)
{
	uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	char tmpl[] = "/tmp/egw-bench-log-XXXXXX", cmd[600], extra[160];
	const char *dir = argc > 2 ? argv[2] : mkdtemp(tmpl);
	const char *mode = argc > 3 ? argv[3] : "all";
	bool all = !strcmp(mode, "all"), parts = all || !strcmp(mode, "parts");
	bool do_json = all || !strcmp(mode, "json"), do_yajl = all || !strcmp(mode, "yajl");
	static struct egw_event evs[DISTINCT];
	static struct expect x;
	int bad = 0;
	double t0, c0;

	if (!dir) {
		perror("mkdtemp");
		return 1;
	}
	if (!parts && !do_json && !do_yajl) {
		fprintf(stderr, "usage: bench_log [EVENTS [DIR [all|json|yajl|parts]]]\n");
		return 2;
	}
	make_events(evs);
	if (expect_make(&x, evs) < 0) {
		fprintf(stderr, "bench_log: out of memory\n");
		return 1;
	}
	/* the parts alone, for where the time goes: encoding (struct -> json_t,
	 * freed again), jansson's serialisation of trees built beforehand, and
	 * yajl's streaming encoder (struct -> text) */
	if (parts) {
		static char buf[65536];
		static json_t *trees[DISTINCT];
		size_t sink = 0;
		uint64_t m = total < 200000 ? total : 200000;
		t0 = now_s();
		c0 = cpu_s();
		for (uint64_t n = 0; n < m; n++)
			json_decref(egw_event_to_json(&evs[n % DISTINCT]));
		report("egw_event_to_json alone:", m, now_s() - t0, cpu_s() - c0, "");
		for (int i = 0; i < DISTINCT; i++)
			trees[i] = egw_event_to_json(&evs[i]);
		t0 = now_s();
		c0 = cpu_s();
		for (uint64_t n = 0; n < m; n++)
			sink += json_dumpb(trees[n % DISTINCT], buf, sizeof(buf), JSON_COMPACT);
		snprintf(extra, sizeof(extra), " (%zu bytes)", sink / m);
		report("json_dumpb alone:", m, now_s() - t0, cpu_s() - c0, extra);
		for (int i = 0; i < DISTINCT; i++)
			json_decref(trees[i]);

		struct egw_event_enc *enc = egw_event_enc_new();
		const char *text;
		size_t len;
		if (!enc)
			return 1;
		sink = 0;
		t0 = now_s();
		c0 = cpu_s();
		for (uint64_t n = 0; n < m; n++) {
			if (egw_event_encode(enc, &evs[n % DISTINCT], &text, &len))
				return 1;
			sink += len;
		}
		snprintf(extra, sizeof(extra), " (%zu bytes)", sink / m);
		report("egw_event_encode alone:", m, now_s() - t0, cpu_s() - c0, extra);
		egw_event_enc_free(enc);
	}
	if (do_json)
		bad |= full(dir, "json", evs, &x, total, false);
	if (do_yajl)
		bad |= full(dir, "yajl", evs, &x, total, true);
	if (argc <= 2) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	for (int i = 0; i < DISTINCT; i++)
		free(x.text[i]);
	return bad;
}
