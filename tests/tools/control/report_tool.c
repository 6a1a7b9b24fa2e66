/* SPDX-License-Identifier: MIT */
/*
 * Test driver for egwctl report (tests/golden/report.test.sh): writes the
 * events described on stdin through the real log writer, its clock set to
 * each event's time (so the writer rotates at UTC midnight as it would).
 *   report_tool write DIR [zstd|none]
 * One event per line, fields separated by blanks, "-" for none:
 *   TIME TYPE SRC_IP SRC_MAC ACTION REASON DEST_IP [WRITTEN]
 * TIME is the event's timestamp (ISO 8601); WRITTEN, when given, the time
 * the writer writes it (a batch written after midnight). Lines starting
 * with # are skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elog.h"
#include "elog_format.h"

static int64_t sim_now;

static int64_t sim_clock(void *arg)
{
	(void)arg;
	return sim_now;
}

static const char *opt(const char *s)
{
	return strcmp(s, "-") ? s : "";
}

int main(int argc, char **argv)
{
	struct elog_cfg cfg = { .clock = sim_clock, .compress = true };
	char line[1024], f[8][128], ts[40], err[512];
	struct elog *l = NULL;
	unsigned lineno = 0;
	uint64_t flow = 1;

	if (argc < 3 || argc > 4 || strcmp(argv[1], "write")) {
		fprintf(stderr, "usage: report_tool write DIR [zstd|none] < events\n");
		return 2;
	}
	cfg.dir = argv[2];
	if (argc == 4)
		cfg.compress = strcmp(argv[3], "none") != 0;
	while (fgets(line, sizeof(line), stdin)) {
		int64_t t, w;
		int n;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		n = sscanf(line, "%127s %127s %127s %127s %127s %127s %127s %127s", f[0], f[1],
			   f[2], f[3], f[4], f[5], f[6], f[7]);
		if (n < 7 || elog_ts_parse(f[0], &t) < 0 ||
		    (n == 8 && elog_ts_parse(f[7], &w) < 0)) {
			fprintf(stderr, "stdin:%u: expected TIME TYPE SRC MAC ACTION REASON DEST "
				"[WRITTEN]\n", lineno);
			return 2;
		}
		sim_now = n == 8 ? w : t;
		if (!l && !(l = elog_open(&cfg, err, sizeof(err)))) {
			fprintf(stderr, "elog_open: %s\n", err);
			return 1;
		}
		elog_ts_format(t, ts, sizeof(ts));
		json_t *egw = json_object();
		if (*opt(f[3]))
			json_object_set_new(egw, "src_mac", json_string(f[3]));
		json_object_set_new(egw, "action", json_string(f[4]));
		if (*opt(f[5]))
			json_object_set_new(egw, "reason", json_string(f[5]));
		json_object_set_new(egw, "rule", json_string("egw.cfg:1"));
		json_t *ev = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:o}", "timestamp", ts,
				       "event_type", f[1], "flow_id", (json_int_t)flow++,
				       "src_ip", f[2], "dest_ip", f[6], "proto", "TCP", "egw", egw);
		if (!ev || elog_write(l, &ev, 1) != 1) {
			fprintf(stderr, "stdin:%u: event not accepted\n", lineno);
			return 1;
		}
		json_decref(ev);
		elog_tick(l);
	}
	return l && elog_close(l) ? 1 : 0;
}
