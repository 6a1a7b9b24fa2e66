/* SPDX-License-Identifier: MIT */
/*
 * egw-dataplane [EAL options] -- --config FILE [--events FILE] [--stats FILE]
 * egw-dataplane [EAL options] -- --config FILE --replay PCAP
 *               [--replay-out FILE] [--stats FILE]
 *
 * The fast path: ports from the policy's gateway section, or, with
 * --replay, a capture run offline through the same worker code, its events
 * written as EVE JSON lines (stdout or --replay-out). --events: port mode
 * also writes its events to FILE; --stats: the counters as JSON at exit;
 * --socket: the control-plane socket (default /run/egw/dataplane.sock);
 * --mbufs N: the port mode's packet buffer pool (default: sized for the
 * queues plus every capture a net_pcap infinite_rx port preloads).
 * Replay without EAL
 * options gets a small EAL of its own (no hugepages, no devices); with EAL
 * options it gets --no-shconf added, so that it runs beside a gateway.
 * --replay-out is replaced only by a run that succeeded (dp_outfile.h).
 * Exit status: 0, 1 on a bad start or a failed run (one line on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <egw/diag.h>
#include <egw/policy.h>

#include "dp_outfile.h"
#include "dp_port.h"
#include "dp_replay.h"
#include "dp_tables.h"

struct opts {
	const char *config, *replay, *replay_out, *stats, *events, *socket;
	unsigned mbufs;   /* 0: sized by dp_port_main */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: egw-dataplane [EAL options] -- --config FILE [--events FILE] [--stats FILE]"
		   " [--socket PATH] [--mbufs N]\n"
		   "       egw-dataplane [EAL options] -- --config FILE --replay PCAP"
		   " [--replay-out FILE] [--stats FILE]\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "replay", required_argument, NULL, 'r' },
		{ "replay-out", required_argument, NULL, 'o' },
		{ "stats", required_argument, NULL, 's' },
		{ "events", required_argument, NULL, 'e' },
		{ "socket", required_argument, NULL, 'S' },
		{ "mbufs", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'r': o->replay = optarg; break;
		case 'o': o->replay_out = optarg; break;
		case 's': o->stats = optarg; break;
		case 'e': o->events = optarg; break;
		case 'S': o->socket = optarg; break;
		case 'm': {
			char *end;
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || v < 1024 ||
			    v > DP_PORT_MAX_MBUFS) {
				fprintf(stderr, "egw-dataplane: --mbufs '%s': want a number of "
					"packet buffers from 1024 to %u\n", optarg, DP_PORT_MAX_MBUFS);
				return -1;
			}
			o->mbufs = (unsigned)v;
			break;
		}
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "egw-dataplane: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->config) {
		fprintf(stderr, "egw-dataplane: --config FILE is required\n");
		return -1;
	}
	if (o->mbufs && o->replay) {
		fprintf(stderr, "egw-dataplane: --mbufs is for port mode, not --replay\n");
		return -1;
	}
	if (o->replay_out && !o->replay) {
		fprintf(stderr, "egw-dataplane: --replay-out needs --replay\n");
		return -1;
	}
	return 0;
}

/* Whether argv[1..n) holds opt. */
static bool has_arg(char **argv, int n, const char *opt)
{
	for (int i = 1; i < n; i++)
		if (!strcmp(argv[i], opt))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	int sep = 1;

	while (sep < argc && strcmp(argv[sep], "--"))
		sep++;
	/* Our options: after "--" (or all of them when there is no "--"). */
	int app_argc = sep < argc ? argc - sep : argc;
	char **app_argv = sep < argc ? argv + sep : argv;
	if (sep == argc)
		sep = 1;
	if (parse_opts(app_argc, app_argv, &o)) {
		usage(stderr);
		return 1;
	}

	/* Port mode: a stop asked for while DPDK and the ports start is
	 * kept (dp_port.h). Replay keeps the default dispositions. */
	if (!o.replay)
		dp_port_catch_signals();

	static char *replay_eal[] = { NULL, (char *)"--no-huge", (char *)"-m", (char *)"512",
				      (char *)"--no-pci", (char *)"--no-shconf", (char *)"-l",
				      (char *)"0", (char *)"--log-level=error",
				      (char *)"--no-telemetry", NULL };
	int eal_argc = sep;
	char **eal_argv = argv;
	char **own = NULL;
	if (o.replay && sep == 1) {
		replay_eal[0] = argv[0];
		eal_argv = replay_eal;
		eal_argc = 10;
	} else if (o.replay && !has_arg(argv, sep, "--no-shconf") &&
		   !has_arg(argv, sep, "--in-memory")) {
		/* A replay shares nothing: without this it would fail on the
		 * lock of a gateway running on the same file prefix. */
		own = calloc((size_t)sep + 2, sizeof(*own));
		if (!own) {
			fprintf(stderr, "egw-dataplane: out of memory\n");
			return 1;
		}
		memcpy(own, argv, (size_t)sep * sizeof(*own));
		own[sep] = (char *)"--no-shconf";
		eal_argv = own;
		eal_argc = sep + 1;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		if (rte_errno)
			fprintf(stderr, "egw-dataplane: cannot initialise DPDK: %s%s\n",
				rte_strerror(rte_errno), rte_errno == ENOMEM ?
				" (no hugepages? see firmware/setup.sh, or --no-huge)" : "");
		else   /* the EAL said why above, and left no errno */
			fprintf(stderr, "egw-dataplane: cannot initialise DPDK (EAL's message "
				"above says why)\n");
		free(own);
		return 1;
	}

	int ret = 1;
	struct egw_diag *diag = egw_diag_new();
	struct egw_policy *pol = NULL;
	struct dp_tables *t = NULL;
	struct dp_outfile out = { 0 };
	char err[512];
	if (!diag)
		goto out;
	pol = egw_policy_load(o.config, diag);
	if (!pol) {
		egw_diag_print(diag, stderr);
		if (!egw_diag_count(diag))
			fprintf(stderr, "egw-dataplane: %s: %s\n", o.config, strerror(errno));
		goto out;
	}
	t = dp_tables_build(pol, diag);
	if (!t) {
		egw_diag_print(diag, stderr);
		goto out;
	}
	if (o.replay) {
		if (o.replay_out &&
		    dp_outfile_open(&out, o.replay_out, o.replay, err, sizeof(err))) {
			fprintf(stderr, "egw-dataplane: --replay-out %s\n", err);
			goto out;
		}
		struct dp_replay_opts ro = { .pcap = o.replay, .out = out.f ? out.f : stdout,
					     .stats = o.stats };
		ret = dp_replay_run(t, &ro) ? 1 : 0;
	} else {
		struct dp_port_opts po = { .events = o.events, .stats = o.stats,
					   .socket = o.socket, .mbufs = o.mbufs };
		ret = dp_port_main(&pol, &t, &po) ? 1 : 0;
	}
out:
	if (dp_outfile_close(&out, ret == 0, err, sizeof(err))) {
		fprintf(stderr, "egw-dataplane: --replay-out %s\n", err);
		ret = 1;
	}
	free(own);
	dp_tables_free(t);
	egw_policy_free(pol);
	egw_diag_free(diag);
	rte_eal_cleanup();
	return ret;
}
