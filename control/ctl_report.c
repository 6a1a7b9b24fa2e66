/* SPDX-License-Identifier: MIT */
/*
 * egwctl report daily [--date D] [--top N] [--json] [--dir D | --config F]
 * A day's statistics from its summary (no decompression); for the day still
 * being written (no summary yet) the file is read once.
 * egwctl report registry|terminals: control/ctl_report_registry.c and
 * control/ctl_report_terminals.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_logdir.h"
#include "ctl_report.h"
#include "elog_format.h"
#include "elog_query.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: egwctl report daily [--date YYYY-MM-DD] [--top N] [--json]\n"
		"                          [--dir DIR | --config FILE]\n"
		"       egwctl report registry [--days N] [--date YYYY-MM-DD] [--json]\n"
		"                          [--dir DIR] [--config FILE]\n"
		"       egwctl report terminals [--since T] [--until T] [--json]\n"
		"                          [--dir DIR] [--config FILE]\n"
		"registry, terminals: the policy is --config FILE (default %s)\n",
		CTL_DEFAULT_CONFIG);
}

struct kv {
	const char *k;
	json_int_t v;
};

static int cmp_kv(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	if (x->v != y->v)
		return x->v < y->v ? 1 : -1;
	return strcmp(x->k, y->k);
}

static void top(json_t *sum, const char *map, const char *title, unsigned n)
{
	json_t *m = json_object_get(sum, map), *v;
	size_t cnt = json_object_size(m), i = 0;
	struct kv *a = calloc(cnt ? cnt : 1, sizeof(*a));
	const char *k;

	if (!a)
		return;
	json_object_foreach(m, k, v)
		a[i++] = (struct kv){ k, json_integer_value(v) };
	qsort(a, cnt, sizeof(*a), cmp_kv);
	printf("%s:\n", title);
	if (!cnt)
		printf("  (none)\n");
	for (i = 0; i < cnt && i < n; i++)
		printf("  %-40s %lld\n", a[i].k, (long long)a[i].v);
	free(a);
}

static int daily(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "date", required_argument, NULL, 'd' }, { "top", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' }, { "dir", required_argument, NULL, 'D' },
		{ "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	const char *dir_opt = NULL, *config = NULL;
	char dir[4096], name[ELOG_NAME_MAX], path[4200], ds[16], err[512], *end;
	unsigned long top_n;
	struct stat st;
	int64_t day = elog_day_of_us(ctl_now_us());
	unsigned n = 10, skipped = 0;
	bool json = false, sealed;
	json_t *sum;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (elog_day_parse(optarg, &day) < 0 || optarg[10]) {
				fprintf(stderr, "egwctl report: --date %s: expected YYYY-MM-DD\n", optarg);
				return 2;
			}
			break;
		case 't':
			errno = 0;
			top_n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || top_n < 1 ||
			    top_n > 100000) {
				fprintf(stderr, "egwctl report daily: --top %s: expected a number "
					"1..100000\n", optarg);
				return 2;
			}
			n = (unsigned)top_n;
			break;
		case 'h': usage(stdout); return 0;
		case 'j': json = true; break;
		case 'D': dir_opt = optarg; break;
		case 'c': config = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (ctl_log_dir(dir_opt, config, dir, sizeof(dir)) < 0)
		return 2;
	/* not "no log for D": there is no log directory at all */
	if (stat(dir, &st) != 0) {
		fprintf(stderr, "egwctl report: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "egwctl report: %s: not a directory\n", dir);
		return 2;
	}
	sum = elog_summary_load(dir, day);
	if (!sum) {
		/* only an absent file means no log: one there that cannot be
		 * read is an error elog_summary_of_file names */
		elog_name_format(day, ELOG_F_PLAIN, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		bool z = access(path, F_OK) != 0 && errno == ENOENT;
		if (z) {
			elog_name_format(day, ELOG_F_ZSTD, name, sizeof(name));
			snprintf(path, sizeof(path), "%s/%s", dir, name);
		}
		if (z && access(path, F_OK) != 0 && errno == ENOENT) {
			elog_day_format(day, ds, sizeof(ds));
			fprintf(stderr, "egwctl report: no log for %s in %s\n", ds, dir);
			return 1;
		}
		if (elog_summary_of_file(path, z, day, &sum, &sealed, ctl_report_skip, &skipped,
					 err, sizeof(err)) < 0) {
			fprintf(stderr, "egwctl report: %s\n", err);
			return 1;
		}
	}
	if (json) {
		json_dumpf(sum, stdout, JSON_COMPACT);
		printf("\n");
	} else {
		printf("Daily report %s: %lld events\n",
		       json_string_value(json_object_get(sum, "day")),
		       (long long)json_integer_value(json_object_get(sum, "events")));
		top(sum, "event_type", "events by type", 16);
		top(sum, "action", "events by verdict", 8);
		top(sum, "unit", "top units", n);
		top(sum, "user", "top users", n);
		top(sum, "domain", "top domains", n);
		top(sum, "blocked_domain", "top blocked domains", n);
		top(sum, "reason", "top reasons", n);
		top(sum, "ip", "top addresses", n);
		if (json_array_size(json_object_get(sum, "incomplete")))
			printf("note: some lists hold only the first 100000 distinct values\n");
	}
	json_decref(sum);
	return skipped ? 1 : 0;  /* reported, but without lines the user was told of */
}

int ctl_report_main(int argc, char **argv)
{
	/* argv[1] is what getopt names in its messages */
	if (argc >= 2 && !strcmp(argv[1], "daily")) {
		argv[1] = (char *)"egwctl report daily";
		return daily(argc - 1, argv + 1);
	}
	if (argc >= 2 && !strcmp(argv[1], "registry")) {
		argv[1] = (char *)"egwctl report registry";
		return ctl_report_registry(argc - 1, argv + 1);
	}
	if (argc >= 2 && !strcmp(argv[1], "terminals")) {
		argv[1] = (char *)"egwctl report terminals";
		return ctl_report_terminals(argc - 1, argv + 1);
	}
	bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
	if (argc < 2)
		fprintf(stderr, "egwctl report: which report?\n");
	else if (!help)
		fprintf(stderr, "egwctl report: unknown report '%s'\n", argv[1]);
	usage(help ? stdout : stderr);
	return help ? 0 : 2;
}
