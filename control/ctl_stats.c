/* SPDX-License-Identifier: MIT */
/* egwctl stats: counters of egw-controld (read-only socket). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_client.h"

static void print_obj(const char *prefix, json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		if (!strcmp(k, "ok"))
			continue;
		if (json_is_object(v)) {
			char p[256];
			snprintf(p, sizeof(p), "%s%s.", prefix, k);
			if (json_object_size(v) == 0)
				printf("%s%s: none\n", prefix, k);
			print_obj(p, v);
		} else if (json_is_integer(v)) {
			printf("%s%s: %lld\n", prefix, k, (long long)json_integer_value(v));
		} else if (json_is_string(v)) {
			printf("%s%s: %s\n", prefix, k, json_string_value(v));
		} else if (json_is_boolean(v)) {
			printf("%s%s: %s\n", prefix, k, json_is_true(v) ? "yes" : "no");
		}
	}
}

int ctl_stats_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *path = CTL_RUN_DIR "/controld-ro.sock";
	int json = 0, c, fd, rc = 1;
	json_t *req, *rep;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 's': path = optarg; break;
		case 'h':
			printf("usage: egwctl stats [--json] [--socket PATH]\n");
			return 0;
		default:
			fprintf(stderr, "usage: egwctl stats [--json] [--socket PATH]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: egwctl stats [--json] [--socket PATH]\n");
		return 2;
	}
	fd = ctl_client_connect(path);
	if (fd < 0)
		return 2;
	req = json_pack("{s:s}", "cmd", "stats");
	rep = req ? ctl_client_call(fd, req, 5000) : NULL;
	json_decref(req);
	close(fd);
	if (!rep)
		return 2;
	if (!json_is_true(json_object_get(rep, "ok"))) {
		fprintf(stderr, "egwctl stats: %s\n",
			json_string_value(json_object_get(rep, "error")) ?: "refused");
		json_decref(rep);
		return 1;
	}
	json_object_del(rep, "ok");
	if (json) {
		json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		print_obj("", rep);
	}
	rc = 0;
	json_decref(rep);
	return rc;
}
