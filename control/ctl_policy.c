/* SPDX-License-Identifier: MIT */
/*
 * egwctl policy: work on a policy file without touching the daemons.
 *   egwctl policy check FILE   validate; every error as "file:line: message"
 *                              on stderr, exit 1 on any; on success one
 *                              summary line on stdout, exit 0.
 *   egwctl policy compile --target nft [--queue-mode native|mark]
 *          [--queue-num N] [--queue-count N] [--punt-mark M]
 *          [--inside IF] [--outside IF] [--table NAME] FILE
 *                              the nftables ruleset of kernel mode on
 *                              stdout (load it with `nft -f`).
 * Usage errors exit 2.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <egw/diag.h>
#include <egw/nft.h>
#include <egw/policy.h>

#include "ctl.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: egwctl policy check [--json] FILE\n"
		"       egwctl policy compile --target nft [--queue-mode native|mark]\n"
		"              [--queue-num N] [--queue-count N] [--punt-mark M]\n"
		"              [--inside IF] [--outside IF] [--table NAME] FILE\n");
}

/* Load path, printing every error (to stderr, or into *errors as JSON
 * objects when errors is not NULL); NULL when the policy is bad (*status 1)
 * or could not be loaded at all (*status 2). */
static struct egw_policy *load_or_report(const char *path, int *status, json_t *errors)
{
	struct egw_diag *d = egw_diag_new();
	if (!d) {
		fprintf(stderr, "egwctl: out of memory\n");
		*status = 2;
		return NULL;
	}
	struct egw_policy *p = egw_policy_load(path, d);
	int err = errno;
	if (errors) {
		for (size_t i = 0; i < egw_diag_count(d); i++) {
			json_t *e = json_pack("{s:s?, s:i, s:s}", "file", egw_diag_file(d, i),
					      "line", (json_int_t)egw_diag_line(d, i),
					      "message", egw_diag_text(d, i));
			if (e)
				json_array_append_new(errors, e);
		}
	} else {
		egw_diag_print(d, stderr);
	}
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

/* policy check --json: { file, ok, errors: [ { file, line, message } ],
 * summary (when ok): { units, terminals, profiles, rules, categories,
 * geo_classes: [ { code, ipv4_prefixes, ipv6_prefixes } ] } }. */
static int check_json(const char *path)
{
	json_t *errors = json_array(), *o = NULL;
	int status = 2;
	if (!errors)
		goto oom;
	struct egw_policy *p = load_or_report(path, &status, errors);
	json_t *sum = NULL;
	if (p) {
		json_t *geo = json_array();
		for (size_t i = 0; geo && i < p->n_geo_classes; i++) {
			const struct egw_geo_class *g = &p->geo_classes[i];
			json_array_append_new(geo, json_pack("{s:s, s:I, s:I}", "code", g->code,
							     "ipv4_prefixes", (json_int_t)g->v4.n,
							     "ipv6_prefixes", (json_int_t)g->v6.n));
		}
		sum = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o*}", "units", (json_int_t)p->n_units,
				"terminals", (json_int_t)count_terminals(p),
				"profiles", (json_int_t)p->n_profiles,
				"rules", (json_int_t)count_rules(p),
				"categories", (json_int_t)p->n_categories, "geo_classes", geo);
		egw_policy_free(p);
		if (!sum)
			goto oom;
	} else if (status == 2 && json_array_size(errors) == 0) {
		json_decref(errors);
		return 2;   /* said on stderr */
	}
	o = json_pack("{s:s, s:b, s:o, s:o*}", "file", path, "ok", p != NULL, "errors", errors,
		      "summary", sum);
	errors = NULL;
	if (!o || json_dumpf(o, stdout, JSON_INDENT(2)) || printf("\n") < 0)
		goto oom;
	json_decref(o);
	return status;
oom:
	json_decref(errors);
	json_decref(o);
	fprintf(stderr, "egwctl: out of memory\n");
	return 2;
}

static int cmd_check(int argc, char **argv)
{
	if (argc == 3 && (!strcmp(argv[1], "--json") || !strcmp(argv[2], "--json")))
		return check_json(!strcmp(argv[1], "--json") ? argv[2] : argv[1]);
	if (argc != 2 || argv[1][0] == '-') {
		if (argc < 2)
			fprintf(stderr, "egwctl policy check: which policy file?\n");
		else if (argv[1][0] == '-')
			fprintf(stderr, "egwctl policy check: unknown option '%s'\n", argv[1]);
		else
			fprintf(stderr, "egwctl policy check: one policy file only ('%s' is a "
				"second)\n", argv[2]);
		usage(stderr);
		return 2;
	}
	int status;
	struct egw_policy *p = load_or_report(argv[1], &status, NULL);
	if (!p)
		return status;
	print_summary(argv[1], p);
	egw_policy_free(p);
	return 0;
}

/* Unsigned number of at most max (decimal or 0x hex); -1 when not. */
static long long number(const char *s, unsigned long long max)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	return (long long)v;
}

static int cmd_compile(int argc, char **argv)
{
	struct egw_nft_opts o;
	const char *target = NULL, *file = NULL;
	egw_nft_opts_default(&o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long long n;
		if (a[0] != '-') {
			if (file) {
				fprintf(stderr, "egwctl policy compile: one policy file only\n");
				return 2;
			}
			file = a;
			continue;
		}
		static const char *const valued[] = { "--target", "--queue-mode", "--queue-num",
						      "--queue-count", "--punt-mark", "--inside",
						      "--outside", "--table", NULL };
		bool known = false;
		for (size_t k = 0; valued[k]; k++)
			known |= !strcmp(a, valued[k]);
		if (!known) {
			fprintf(stderr, "egwctl policy compile: unknown option '%s'%s\n", a,
				!strcmp(a, "--json") ? " (the ruleset is nftables text: its JSON is "
				"nft -j list table, once loaded)" : "");
			usage(stderr);
			return 2;
		}
		if (!v) {
			fprintf(stderr, "egwctl policy compile: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--target")) {
			target = v;
		} else if (!strcmp(a, "--queue-mode")) {
			if (!strcmp(v, "native")) {
				o.queue_mode = EGW_NFT_QUEUE_NATIVE;
			} else if (!strcmp(v, "mark")) {
				o.queue_mode = EGW_NFT_QUEUE_MARK;
			} else {
				fprintf(stderr, "egwctl policy compile: --queue-mode is native or mark, not '%s'\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--queue-num") && (n = number(v, 65535)) >= 0) {
			o.queue_num = (uint16_t)n;
		} else if (!strcmp(a, "--queue-count") && (n = number(v, 65535)) >= 1) {
			o.queue_count = (uint16_t)n;
		} else if (!strcmp(a, "--punt-mark") && (n = number(v, 0xfffffffcu)) >= 1) {
			o.punt_mark = (uint32_t)n;
		} else if (!strcmp(a, "--inside")) {
			o.inside_if = v;
		} else if (!strcmp(a, "--outside")) {
			o.outside_if = v;
		} else if (!strcmp(a, "--table")) {
			o.table = v;
		} else if (!strcmp(a, "--queue-num") || !strcmp(a, "--queue-count") ||
			   !strcmp(a, "--punt-mark")) {
			fprintf(stderr, "egwctl policy compile: bad number for %s: '%s'\n", a, v);
			return 2;
		} else {
			fprintf(stderr, "egwctl policy compile: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!target || strcmp(target, "nft")) {
		fprintf(stderr, "egwctl policy compile: --target nft is required (the only target)\n");
		return 2;
	}
	if (!file) {
		usage(stderr);
		return 2;
	}
	int status;
	struct egw_policy *p = load_or_report(file, &status, NULL);
	if (!p)
		return status;
	char *text = egw_nft_compile(p, &o);
	int err = errno;
	egw_policy_free(p);
	if (!text) {
		if (err == EINVAL)
			fprintf(stderr, "egwctl policy compile: bad option (table must be an identifier, "
				"interfaces 1-15 characters without quotes or '/', queues up to 65535)\n");
		else
			fprintf(stderr, "egwctl policy compile: %s\n", strerror(err));
		return 2;
	}
	int rc = fputs(text, stdout) < 0 || fflush(stdout) ? 2 : 0;
	if (rc)
		fprintf(stderr, "egwctl policy compile: writing the ruleset: %s\n", strerror(errno));
	free(text);
	return rc;
}

struct policy_cmd {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the subcommand */
};

static const struct policy_cmd cmds[] = {
	{ "check", cmd_check },
	{ "compile", cmd_compile },
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
