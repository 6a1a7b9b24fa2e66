/* SPDX-License-Identifier: MIT */
/* egwctl: the operator's tool. Dispatches to control/ctl_*.c. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

struct ctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct ctl_cmd cmds[] = {
	{ "policy", ctl_policy_main, "policy check [--json] FILE | policy compile --target nft "
	  "[OPTIONS] FILE" },
	{ "logs", ctl_logs_main, "logs query [FILTERS] [--json] [--now T] [--dir DIR | --config FILE]"
	  " | logs verify [--since T] [--now T] [--json] [--dir DIR | --config FILE]" },
	{ "stats", ctl_stats_main, "stats [--json] [--socket PATH] [--dataplane-socket PATH]" },
	{ "reload", ctl_reload_main, "reload [--json] [--socket PATH]" },
	{ "flows", ctl_flows_main, "flows [--unit U] [--ip A] [--json] [--socket PATH] "
	  "[--dataplane-socket PATH]" },
	{ "report", ctl_report_main, "report daily [--date D] [--top N] [--json] "
	  "[--dir DIR | --config FILE]" },
	/* a second help line for report (dispatch takes the first entry) */
	{ "report", ctl_report_main, "report registry [--days N] [--date D] [--json] | "
	  "report terminals [--since T] [--until T] [--json]  (both: [--dir DIR] [--config FILE])" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: egwctl COMMAND [ARGS]   (egwctl COMMAND --help: its options)\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  egwctl %s\n", cmds[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name)) {
			/* what getopt names in its messages ("egwctl stats: ...") */
			static char name[64];
			snprintf(name, sizeof(name), "egwctl %s", cmds[i].name);
			argv[1] = name;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "egwctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
