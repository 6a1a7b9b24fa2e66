/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dp_gateway.h"

struct list {
	char *buf;
	size_t cap, len;
	unsigned n;
};

/* Append "gateway.KEY (A -> B)", values quoted when q. */
static void add(struct list *l, const char *key, const char *a, const char *b, bool q)
{
	if (l->len >= l->cap)
		return;
	const char *qs = q ? "\"" : "";
	int k = snprintf(l->buf + l->len, l->cap - l->len, "%sgateway.%s (%s%s%s -> %s%s%s)",
			 l->n ? ", " : "", key, qs, a, qs, qs, b, qs);
	if (k > 0)
		l->len += (size_t)k;
	l->n++;
}

static void str(struct list *l, const char *key, const char *a, const char *b)
{
	if (strcmp(a ? a : "", b ? b : ""))
		add(l, key, a ? a : "", b ? b : "", true);
}

static void num(struct list *l, const char *key, unsigned long a, unsigned long b)
{
	char sa[24], sb[24];

	if (a == b)
		return;
	snprintf(sa, sizeof(sa), "%lu", a);
	snprintf(sb, sizeof(sb), "%lu", b);
	add(l, key, sa, sb, false);
}

int dp_gateway_check_reload(const struct egw_gateway *run, const struct egw_gateway *next,
			    char *msg, size_t cap)
{
	char what[768];
	struct list l = { what, sizeof(what), 0, 0 };

	what[0] = 0;
	str(&l, "inside", run->inside, next->inside);
	str(&l, "outside", run->outside, next->outside);
	str(&l, "punt", run->punt, next->punt);
	num(&l, "workers", run->workers ? run->workers : 1, next->workers ? next->workers : 1);
	num(&l, "flows", run->flows, next->flows);
	if (!l.n)
		return 0;
	char at[256];
	egw_loc_format(&next->loc, false, at, sizeof(at));
	snprintf(msg, cap, "%s: %s changed: the gateway's ports, workers and flows change only "
		 "on a restart of egw-dataplane; the running policy stays", at, what);
	return -EINVAL;
}
