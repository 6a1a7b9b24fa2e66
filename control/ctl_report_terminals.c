/* SPDX-License-Identifier: MIT */
/*
 * egwctl report terminals [--since T] [--until T] [--json] [--dir D] [--config F]
 * Unregistered and spoofing sources seen (events whose egw.reason is
 * "unregistered" or "spoof"): source address, MAC, first and last seen,
 * count, the unit the address falls in, and the registered terminal the MAC
 * belongs to (its switch port). From the summaries' "suspect" member; a day
 * that T cuts through is read from its file for exact counts.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_logdir.h"
#include "ctl_report.h"
#include "elog_format.h"
#include "elog_query.h"

struct src {
	char reason[16], ip[64], mac[32];
	uint64_t count;
	int64_t first, last;          /* INT64_MAX / INT64_MIN: no timestamp */
	struct egw_prefix addr;
	bool has_addr;
};

struct acc {
	struct src *v;
	size_t n, cap;
	json_t *index;                /* key -> position in v */
	json_t *incomplete;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: egwctl report terminals [--since T] [--until T] [--json]\n"
		"                              [--dir DIR] [--config FILE]\n"
		"T: 2026-11-27, 2026-11-27T10:00:00+08:00, now, 7d, 12h, 30m\n");
}

static int add(struct acc *a, const char *key, json_t *e)
{
	json_t *pos = json_object_get(a->index, key);
	json_t *f = json_object_get(e, "first"), *l = json_object_get(e, "last");
	int64_t fu = INT64_MAX, lu = INT64_MIN;
	struct src *s;

	if (f)
		elog_ts_parse(json_string_value(f), &fu);
	if (l)
		elog_ts_parse(json_string_value(l), &lu);
	if (!pos) {
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 64;
			struct src *nv = realloc(a->v, nc * sizeof(*nv));
			if (!nv)
				return -1;
			a->v = nv;
			a->cap = nc;
		}
		s = &a->v[a->n];
		memset(s, 0, sizeof(*s));
		const char *r = json_string_value(json_object_get(e, "reason"));
		const char *ip = json_string_value(json_object_get(e, "ip"));
		const char *mac = json_string_value(json_object_get(e, "mac"));
		if (strlen(r) >= sizeof(s->reason) || strlen(ip) >= sizeof(s->ip) ||
		    strlen(mac) >= sizeof(s->mac))
			return 0; /* not from our writer: no address is that long */
		strcpy(s->reason, r);
		strcpy(s->ip, ip);
		strcpy(s->mac, mac);
		s->first = INT64_MAX;
		s->last = INT64_MIN;
		const char *why;
		s->has_addr = egw_prefix_parse(ip, &s->addr, &why) == 0;
		if (json_object_set_new(a->index, key, json_integer((json_int_t)a->n)) < 0)
			return -1;
		a->n++;
	} else {
		s = &a->v[json_integer_value(pos)];
	}
	s->count += (uint64_t)json_integer_value(json_object_get(e, "count"));
	if (fu < s->first)
		s->first = fu;
	if (lu > s->last)
		s->last = lu;
	return 0;
}

static int cmp_src(const void *x, const void *y)
{
	const struct src *a = x, *b = y;
	int c;

	if (a->has_addr != b->has_addr)
		return a->has_addr ? -1 : 1;
	c = a->has_addr ? egw_prefix_cmp(&a->addr, &b->addr) : strcmp(a->ip, b->ip);
	if (!c)
		c = strcmp(a->mac, b->mac);
	return c ? c : strcmp(a->reason, b->reason);
}

/* The registered terminal that owns mac (first in policy order), or NULL. */
static const struct egw_terminal *mac_owner(const struct egw_policy *p, const char *mac)
{
	uint8_t m[6];

	if (!*mac || egw_mac_parse(mac, m) < 0)
		return NULL;
	for (size_t u = 0; u < p->n_units; u++)
		for (size_t i = 0; i < p->units[u].n_terminals; i++)
			if (!memcmp(p->units[u].terminals[i].mac, m, 6))
				return &p->units[u].terminals[i];
	return NULL;
}

static json_t *ts_json(int64_t us, bool valid)
{
	char t[40];

	if (!valid)
		return json_null();
	elog_ts_format(us, t, sizeof(t));
	return json_string(t);
}

/* "2026-01-08 00:00:00" (UTC) */
static void ts_text(int64_t us, bool valid, char *buf, size_t cap)
{
	char t[40];

	if (!valid) {
		snprintf(buf, cap, "-");
		return;
	}
	elog_ts_format(us, t, sizeof(t));
	t[10] = ' ';
	t[19] = 0;
	snprintf(buf, cap, "%s", t);
}

static int output(const struct egw_policy *p, struct acc *a, int64_t since, int64_t until,
		  bool json)
{
	json_t *arr = json_array(), *doc;
	char f[40], l[40], sw[200], t1[40], t2[40];

	if (a->n)
		qsort(a->v, a->n, sizeof(*a->v), cmp_src);
	if (!json) {
		ts_text(since, since != INT64_MIN, t1, sizeof(t1));
		ts_text(until, until != INT64_MAX, t2, sizeof(t2));
		printf("Unregistered and spoofing sources (%s to %s UTC): %zu\n",
		       since == INT64_MIN ? "start of the log" : t1,
		       until == INT64_MAX ? "now" : t2, a->n);
		if (a->n)
			printf("  %-12s %-39s %-17s %-19s %-19s %8s  %-16s %s\n", "reason",
			       "source ip", "mac", "first seen", "last seen", "count", "unit",
			       "MAC registered to (switch port)");
	}
	for (size_t i = 0; i < a->n; i++) {
		struct src *s = &a->v[i];
		int u = s->has_addr ? ctl_unit_of(p, &s->addr) : -1;
		const struct egw_terminal *t = mac_owner(p, s->mac);
		char tip[EGW_PREFIX_STRLEN];
		bool ts = s->first != INT64_MAX && s->last != INT64_MIN;
		json_t *owner = json_null();

		if (t) {
			egw_addr_format(&t->ip, tip, sizeof(tip));
			owner = json_pack("{s:s, s:s, s:s, s:s, s:s}", "unit",
					  p->units[t->unit].name, "ip", tip, "user", t->user,
					  "switch_port", t->switch_port, "location", t->location);
		}
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:o, s:o}",
			"reason", s->reason, "ip", s->ip, "mac", s->mac,
			"first_seen", ts_json(s->first, ts), "last_seen", ts_json(s->last, ts),
			"count", (json_int_t)s->count,
			"unit", u < 0 ? json_null() : json_string(p->units[u].name),
			"mac_terminal", owner));
		if (json)
			continue;
		ts_text(s->first, ts, f, sizeof(f));
		ts_text(s->last, ts, l, sizeof(l));
		if (t)
			snprintf(sw, sizeof(sw), "%s %s (%s)", tip, *t->user ? t->user : "-",
				 *t->switch_port ? t->switch_port : "-");
		else
			snprintf(sw, sizeof(sw), "-");
		printf("  %-12s %-39s %-17s %-19s %-19s %8llu  %-16s %s\n", s->reason, s->ip,
		       *s->mac ? s->mac : "-", f, l, (unsigned long long)s->count,
		       u < 0 ? "-" : p->units[u].name, sw);
	}
	if (!json) {
		for (size_t i = 0; i < json_array_size(a->incomplete); i++)
			printf("note: %s: too many distinct sources, some were not counted\n",
			       json_string_value(json_array_get(a->incomplete, i)));
		json_decref(arr);
		return 0;
	}
	doc = json_pack("{s:s, s:o, s:o, s:O, s:o}", "report", "terminals",
			"since", ts_json(since, since != INT64_MIN),
			"until", ts_json(until, until != INT64_MAX),
			"incomplete", a->incomplete, "sources", arr);
	if (!doc)
		return 1;
	json_dumpf(doc, stdout, JSON_COMPACT);
	printf("\n");
	json_decref(doc);
	return 0;
}

/* Does the summary's suspect entry e lie within [since, until)? 1 wholly,
 * 0 not at all, -1 partly (or unknown: no timestamps). */
static int within(json_t *e, int64_t since, int64_t until)
{
	json_t *f = json_object_get(e, "first"), *l = json_object_get(e, "last");
	int64_t fu, lu;

	if (since == INT64_MIN && until == INT64_MAX)
		return 1;
	if (!f || !l || elog_ts_parse(json_string_value(f), &fu) < 0 ||
	    elog_ts_parse(json_string_value(l), &lu) < 0)
		return -1;
	if (fu >= since && lu < until)
		return 1;
	if (lu < since || fu >= until)
		return 0;
	return -1;
}

static int scan(struct acc *a, const char *dir, int64_t day, int64_t since, int64_t until,
		unsigned *skipped, char *err, size_t errlen)
{
	json_t *sum, *e, *v;
	const char *k;
	size_t i;
	int r = elog_summary_read(dir, day, &sum, err, errlen);

	if (r < 0)
		return -1;
	if (r == 1 && elog_summary_is_current(sum)) {
		/* a closed day's summary: an entry may straddle the range */
		json_object_foreach(json_object_get(sum, "suspect"), k, e)
			if (within(e, since, until) < 0) {
				json_decref(sum);
				r = ctl_day_read(dir, day, since, until, &sum, skipped, err, errlen);
				if (r <= 0)
					return r;
				break;
			}
	} else {
		/* none (the open day) or an old one: the file, read once and for
		 * the range, so a damaged line is told once */
		json_decref(sum);
		r = ctl_day_read(dir, day, since, until, &sum, skipped, err, errlen);
		if (r <= 0)
			return r;
	}
	json_object_foreach(json_object_get(sum, "suspect"), k, e)
		if (within(e, since, until) == 1 && add(a, k, e) < 0) {
			snprintf(err, errlen, "out of memory");
			json_decref(sum);
			return -1;
		}
	json_array_foreach(json_object_get(sum, "incomplete"), i, v)
		if (!strcmp(json_string_value(v), "suspect")) {
			char ds[16];
			elog_day_format(day, ds, sizeof(ds));
			json_array_append_new(a->incomplete, json_string(ds));
		}
	json_decref(sum);
	return 1;
}

struct term_opts {
	int64_t since, until, now;
};

static int term_opt(void *arg, int c, const char *val)
{
	struct term_opts *o = arg;

	if (elog_time_arg(val, o->now, c == 's' ? &o->since : &o->until) < 0) {
		fprintf(stderr, "egwctl report: --%s %s: not a time\n",
			c == 's' ? "since" : "until", val);
		return 2;
	}
	return 0;
}

int ctl_report_terminals(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "since", required_argument, NULL, 's' }, { "until", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 } };
	struct term_opts o = { INT64_MIN, INT64_MAX, ctl_now_us() };
	struct ctl_report_run run;
	char err[4600];
	int64_t since, until, *days;
	struct acc a = { 0 };
	size_t nd;
	int rc;

	if ((rc = ctl_report_start(argc, argv, lo, term_opt, &o, usage, &run)) >= 0)
		return rc;
	rc = 1;
	since = o.since;
	until = o.until;
	if (since != INT64_MIN && until != INT64_MAX && since >= until) {
		/* an empty range is a mistake, not a report of nothing (as logs query) */
		fprintf(stderr, "egwctl report terminals: --since is not before --until\n");
		rc = 2;
		goto out;
	}
	days = run.days;
	nd = run.nd;
	a.index = json_object();
	a.incomplete = json_array();
	if (!a.index || !a.incomplete) {
		fprintf(stderr, "egwctl report: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < nd; i++) {
		/* an event is in the file of its own day or a later one (written
		 * after it was stamped; at most a batch later) */
		if (since != INT64_MIN && days[i] < elog_day_of_us(since))
			continue;
		if (until != INT64_MAX && days[i] > elog_day_of_us(until - 1) + 1)
			continue;
		if (scan(&a, run.dir, days[i], since, until, &run.skipped, err, sizeof(err)) < 0) {
			fprintf(stderr, "egwctl report: %s\n", err);
			goto out;
		}
	}
	rc = output(run.p, &a, since, until, run.json);
	if (!rc && run.skipped)
		rc = 1;  /* reported, but without lines the user was told of */
out:
	json_decref(a.index);
	json_decref(a.incomplete);
	free(a.v);
	ctl_report_end(&run);
	return rc;
}
