/* SPDX-License-Identifier: MIT */
/*
 * egwctl policy: work on a policy file without touching the daemons.
 *   egwctl policy check FILE   validate; every error as "file:line: message"
 *                              on stderr, exit 1 on any; on success one
 *                              summary line on stdout, exit 0.
 * Usage errors exit 2.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <egw/diag.h>
#include <egw/policy.h>

#include "ctl.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: egwctl policy check FILE\n");
}

/* Load path, printing every error; NULL when the policy is bad (*status 1)
 * or could not be loaded at all (*status 2). */
static struct egw_policy *load_or_report(const char *path, int *status)
{
	struct egw_diag *d = egw_diag_new();
	if (!d) {
		fprintf(stderr, "egwctl: out of memory\n");
		*status = 2;
		return NULL;
	}
	struct egw_policy *p = egw_policy_load(path, d);
	int err = errno;
	egw_diag_print(d, stderr);
	*status = 0;
	if (!p) {
		if (err == ENOMEM && egw_diag_count(d) == 0) {
			fprintf(stderr, "egwctl: out of memory loading %s\n", path);
			*status = 2;
		} else {
			*status = 1;
		}
	}
	egw_diag_free(d);
	return p;
}

static size_t count_terminals(const struct egw_policy *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_units; i++)
		n += p->units[i].n_terminals;
	return n;
}

static size_t count_rules(const struct egw_policy *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_profiles; i++)
		n += p->profiles[i].n_rules;
	return n;
}

static void print_summary(const char *path, const struct egw_policy *p)
{
	printf("%s: OK: %zu unit%s, %zu terminal%s, %zu profile%s, %zu rule%s, "
	       "%zu categor%s, %zu geo class%s",
	       path, p->n_units, p->n_units == 1 ? "" : "s",
	       count_terminals(p), count_terminals(p) == 1 ? "" : "s",
	       p->n_profiles, p->n_profiles == 1 ? "" : "s",
	       count_rules(p), count_rules(p) == 1 ? "" : "s",
	       p->n_categories, p->n_categories == 1 ? "y" : "ies",
	       p->n_geo_classes, p->n_geo_classes == 1 ? "" : "es");
	for (size_t i = 0; i < p->n_geo_classes; i++) {
		const struct egw_geo_class *g = &p->geo_classes[i];
		printf("%s %s (%zu IPv4, %zu IPv6 prefixes)", i ? "," : ":", g->code,
		       g->v4.n, g->v6.n);
	}
	printf("\n");
}

static int cmd_check(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		usage(stderr);
		return 2;
	}
	int status;
	struct egw_policy *p = load_or_report(argv[1], &status);
	if (!p)
		return status;
	print_summary(argv[1], p);
	egw_policy_free(p);
	return 0;
}

struct policy_cmd {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the subcommand */
};

static const struct policy_cmd cmds[] = {
	{ "check", cmd_check },
	/* "compile" (--target nft FILE): added by the nftables back end
	 * (developer nft) as cmd_compile, using load_or_report(). */
};

int ctl_policy_main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "egwctl policy: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
