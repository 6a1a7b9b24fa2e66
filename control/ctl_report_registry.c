/* SPDX-License-Identifier: MIT */
/*
 * egwctl report registry [--days N] [--date D] [--json] [--dir D] [--config F]
 * Per unit: each registered public address with the last day traffic was
 * seen from or to it, and those with none in the N days up to D flagged as
 * de-registration candidates; registered terminals with no traffic in those
 * days. Works from the per-day summaries ("ip" and "source" maps), newest
 * day first, and stops as soon as everything has been seen.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_logdir.h"
#include "ctl_report.h"
#include "elog_format.h"
#include "elog_query.h"

struct pub {
	size_t unit;
	const struct egw_prefix *pfx;
	int64_t last;           /* day, -1: never */
};

struct term {
	const struct egw_terminal *t;
	int64_t last;
};

struct reg {
	struct pub *pubs;
	size_t n_pubs;
	struct term *terms;     /* sorted by address */
	size_t n_terms;
	size_t left;            /* not seen yet */
	json_t *incomplete;     /* days whose maps were capped */
};

static void usage(FILE *out)
{
	fprintf(out, "usage: egwctl report registry [--days N] [--date YYYY-MM-DD] [--json]\n"
		"                             [--dir DIR] [--config FILE]\n");
}

static int cmp_term(const void *a, const void *b)
{
	const struct term *x = a, *y = b;

	return egw_prefix_cmp(&x->t->ip, &y->t->ip);
}

static void seen_ip(struct reg *g, const char *key, int64_t day)
{
	struct egw_prefix a;
	const char *why;

	if (egw_prefix_parse(key, &a, &why) < 0 || !egw_prefix_is_host(&a))
		return;
	for (size_t i = 0; i < g->n_pubs; i++)
		if (g->pubs[i].last < 0 && egw_prefix_within(&a, g->pubs[i].pfx)) {
			g->pubs[i].last = day;
			g->left--;
		}
}

static void seen_source(struct reg *g, const char *key, int64_t day)
{
	char ip[128];
	const char *sp = strchr(key, ' '), *why;
	size_t n = sp ? (size_t)(sp - key) : strlen(key);
	struct egw_terminal t = { 0 };
	struct term k = { .t = &t }, *hit;
	uint8_t mac[6];

	if (n >= sizeof(ip))
		return;
	memcpy(ip, key, n);
	ip[n] = 0;
	if (egw_prefix_parse(ip, &t.ip, &why) < 0 || !egw_prefix_is_host(&t.ip))
		return;
	hit = bsearch(&k, g->terms, g->n_terms, sizeof(k), cmp_term);
	if (!hit || hit->last >= 0)
		return;
	/* from the terminal itself: its MAC, or no MAC in the event */
	if (sp && (egw_mac_parse(sp + 1, mac) < 0 || memcmp(mac, hit->t->mac, 6)))
		return;
	hit->last = day;
	g->left--;
}

static void scan_day(struct reg *g, json_t *sum, int64_t day)
{
	json_t *v, *inc = json_object_get(sum, "incomplete");
	const char *k;
	size_t i;
	char ds[16];

	json_object_foreach(json_object_get(sum, "ip"), k, v)
		seen_ip(g, k, day);
	json_object_foreach(json_object_get(sum, "source"), k, v)
		seen_source(g, k, day);
	json_array_foreach(inc, i, v) {
		const char *m = json_string_value(v);
		if (!strcmp(m, "ip") || !strcmp(m, "source")) {
			elog_day_format(day, ds, sizeof(ds));
			json_array_append_new(g->incomplete, json_string(ds));
			break;
		}
	}
}

/* Status of something last seen on day last (-1 never), as of day date. */
static const char *status(int64_t last, int64_t date, unsigned days, int64_t from,
			  bool *candidate)
{
	*candidate = false;
	if (last >= 0 && date - last < (int64_t)days)
		return "in use";
	if (last < 0 && from > date - (int64_t)days + 1)
		return "no traffic yet (log too short)";
	*candidate = true;
	return NULL;
}

static json_t *day_json(int64_t day)
{
	char ds[16];

	if (day < 0)
		return json_null();
	elog_day_format(day, ds, sizeof(ds));
	return json_string(ds);
}

static void day_text(int64_t day, char *buf, size_t cap)
{
	if (day < 0)
		snprintf(buf, cap, "never");
	else
		elog_day_format(day, buf, cap);
}

static int output(const struct egw_policy *p, struct reg *g, int64_t date, unsigned days,
		  int64_t from, bool json)
{
	char ds[16], fs[16], a[EGW_PREFIX_STRLEN], m[18], ls[16];
	size_t cand = 0, idle = 0;
	json_t *units = json_array(), *doc;
	bool c;

	elog_day_format(date, ds, sizeof(ds));
	elog_day_format(from, fs, sizeof(fs));
	if (!json)
		printf("Registry report %s: de-registration candidates have no traffic in the "
		       "last %u day(s) (log from %s)\n", ds, days, fs);
	for (size_t u = 0; u < p->n_units; u++) {
		json_t *pa = json_array(), *ta = json_array();
		if (!json)
			printf("unit %s\n  %-40s %-12s %s\n", p->units[u].name, "public address",
			       "last traffic", "status");
		for (size_t i = 0; i < g->n_pubs; i++) {
			struct pub *x = &g->pubs[i];
			if (x->unit != u)
				continue;
			const char *st = status(x->last, date, days, from, &c);
			cand += c;
			egw_prefix_format(x->pfx, a, sizeof(a));
			day_text(x->last, ls, sizeof(ls));
			if (!json)
				printf("  %-40s %-12s %s\n", a, ls,
				       c ? "DE-REGISTRATION CANDIDATE" : st);
			json_array_append_new(pa, json_pack("{s:s, s:o, s:o, s:b}",
				"address", a, "last_seen", day_json(x->last),
				"idle_days", x->last < 0 ? json_null() : json_integer(date - x->last),
				"candidate", c));
		}
		if (!json && !p->units[u].public_addresses.n)
			printf("  (no public addresses registered)\n");
		for (size_t i = 0; i < p->units[u].n_terminals; i++) {
			const struct egw_terminal *t = &p->units[u].terminals[i];
			struct term k = { .t = t }, *x;
			x = bsearch(&k, g->terms, g->n_terms, sizeof(k), cmp_term);
			status(x->last, date, days, from, &c);
			idle += c;
			egw_addr_format(&t->ip, a, sizeof(a));
			egw_mac_format(t->mac, m, sizeof(m));
			json_array_append_new(ta, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b}",
				"ip", a, "mac", m, "switch_port", t->switch_port,
				"location", t->location, "user", t->user,
				"last_seen", day_json(x->last),
				"idle_days", x->last < 0 ? json_null() : json_integer(date - x->last),
				"idle", c));
		}
		json_array_append_new(units, json_pack("{s:s, s:o, s:o}", "unit",
			p->units[u].name, "public_addresses", pa, "terminals", ta));
	}
	if (json) {
		doc = json_pack("{s:s, s:s, s:i, s:s, s:O, s:I, s:I, s:o}", "report", "registry",
				"date", ds, "days", (json_int_t)days, "log_from", fs,
				"incomplete", g->incomplete, "candidates", (json_int_t)cand,
				"idle_terminals", (json_int_t)idle, "units", units);
		if (!doc)
			return 1;
		json_dumpf(doc, stdout, JSON_COMPACT);
		printf("\n");
		json_decref(doc);
		return 0;
	}
	printf("registered terminals with no traffic in the last %u day(s):\n", days);
	if (!idle)
		printf("  (none)\n");
	else
		printf("  %-16s %-39s %-17s %-14s %-16s %s\n", "unit", "ip", "mac",
		       "switch port", "user", "last traffic");
	for (size_t u = 0; u < p->n_units; u++)
		for (size_t i = 0; i < p->units[u].n_terminals; i++) {
			const struct egw_terminal *t = &p->units[u].terminals[i];
			struct term k = { .t = t }, *x;
			x = bsearch(&k, g->terms, g->n_terms, sizeof(k), cmp_term);
			status(x->last, date, days, from, &c);
			if (!c)
				continue;
			egw_addr_format(&t->ip, a, sizeof(a));
			egw_mac_format(t->mac, m, sizeof(m));
			day_text(x->last, ls, sizeof(ls));
			printf("  %-16s %-39s %-17s %-14s %-16s %s\n", p->units[u].name, a, m,
			       *t->switch_port ? t->switch_port : "-", *t->user ? t->user : "-", ls);
		}
	printf("%zu public address(es), %zu de-registration candidate(s); %zu terminal(s), "
	       "%zu idle\n", g->n_pubs, cand, g->n_terms, idle);
	for (size_t i = 0; i < json_array_size(g->incomplete); i++)
		printf("note: %s: too many distinct addresses, some were not counted\n",
		       json_string_value(json_array_get(g->incomplete, i)));
	json_decref(units);
	return 0;
}

struct reg_opts {
	unsigned long ndays;
	int64_t date;
};

static int reg_opt(void *arg, int c, const char *val)
{
	struct reg_opts *o = arg;
	char *end;

	if (c == 'n') {
		errno = 0;
		o->ndays = strtoul(val, &end, 10);
		if (errno || *end || !*val || *val == '-' || o->ndays < 1 || o->ndays > 36500) {
			fprintf(stderr, "egwctl report: --days %s: expected 1..36500\n", val);
			return 2;
		}
	} else if (elog_day_parse(val, &o->date) < 0 || val[10]) {
		fprintf(stderr, "egwctl report: --date %s: expected YYYY-MM-DD\n", val);
		return 2;
	}
	return 0;
}

int ctl_report_registry(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "days", required_argument, NULL, 'n' }, { "date", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 } };
	struct reg_opts o = { 30, elog_day_of_us(ctl_now_us()) };
	struct ctl_report_run run;
	char err[4600];
	int64_t date, *days;
	struct reg g = { 0 };
	struct egw_policy *p;
	size_t nd, k = 0, i;
	int rc;

	if ((rc = ctl_report_start(argc, argv, lo, reg_opt, &o, usage, &run)) >= 0)
		return rc;
	rc = 1;
	p = run.p;
	days = run.days;
	nd = run.nd;
	date = o.date;
	while (nd && days[nd - 1] > date)
		nd--;
	if (!nd) {
		char ds[16];
		elog_day_format(date, ds, sizeof(ds));
		fprintf(stderr, "egwctl report: no behaviour log up to %s in %s\n", ds, run.dir);
		goto out;
	}
	for (size_t u = 0; u < p->n_units; u++) {
		g.n_pubs += p->units[u].public_addresses.n;
		g.n_terms += p->units[u].n_terminals;
	}
	g.pubs = calloc(g.n_pubs + 1, sizeof(*g.pubs));
	g.terms = calloc(g.n_terms + 1, sizeof(*g.terms));
	g.incomplete = json_array();
	if (!g.pubs || !g.terms || !g.incomplete) {
		fprintf(stderr, "egwctl report: out of memory\n");
		goto out;
	}
	for (size_t u = 0; u < p->n_units; u++) {
		for (i = 0; i < p->units[u].public_addresses.n; i++)
			g.pubs[k++] = (struct pub){ u, &p->units[u].public_addresses.v[i], -1 };
		for (i = 0; i < p->units[u].n_terminals; i++)
			g.terms[g.left++] = (struct term){ &p->units[u].terminals[i], -1 };
	}
	qsort(g.terms, g.n_terms, sizeof(*g.terms), cmp_term);
	g.left = g.n_pubs + g.n_terms;
	for (i = nd; i-- > 0 && g.left;) {
		json_t *sum;
		int r = ctl_day_summary(run.dir, days[i], &sum, &run.skipped, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "egwctl report: %s\n", err);
			goto out;
		}
		if (r == 0)
			continue;
		scan_day(&g, sum, days[i]);
		json_decref(sum);
	}
	rc = output(p, &g, date, (unsigned)o.ndays, days[0], run.json);
	if (!rc && run.skipped)
		rc = 1;  /* reported, but without lines the user was told of */
out:
	json_decref(g.incomplete);
	free(g.pubs);
	free(g.terms);
	ctl_report_end(&run);
	return rc;
}
