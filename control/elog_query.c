/* SPDX-License-Identifier: MIT */
/* Behaviour-log event accessors, the query filter, time arguments and the
 * days of a log directory. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "elog_format.h"
#include "elog_query.h"

void elog_filter_init(struct elog_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->since_us = INT64_MIN;
	f->until_us = INT64_MAX;
}

const char *elog_event_str(json_t *ev, const char *obj, const char *key)
{
	json_t *o = obj ? json_object_get(ev, obj) : ev;
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *elog_event_domain(json_t *ev)
{
	const char *s = elog_event_str(ev, "dns", "rrname");

	if (!s)
		s = elog_event_str(ev, "tls", "sni");
	if (!s)
		s = elog_event_str(ev, "http", "hostname");
	return s;
}

bool elog_domain_match(const char *name, const char *dom)
{
	size_t n = strlen(name), d = strlen(dom);

	if (n && name[n - 1] == '.')
		n--;
	if (d && dom[d - 1] == '.')
		d--;
	if (!d || n < d || strncasecmp(name + n - d, dom, d))
		return false;
	return n == d || name[n - d - 1] == '.';
}

static bool ip_match(const struct egw_prefix *p, const char *s)
{
	uint8_t a[16];

	if (!s)
		return false;
	if (p->family == AF_INET && inet_pton(AF_INET, s, a) == 1)
		return egw_prefix_contains(p, AF_INET, a);
	if (p->family == AF_INET6 && inet_pton(AF_INET6, s, a) == 1)
		return egw_prefix_contains(p, AF_INET6, a);
	return false;
}

static bool str_eq(const char *want, const char *have)
{
	return have && !strcmp(want, have);
}

bool elog_filter_match(const struct elog_filter *f, json_t *ev, int64_t ts_us)
{
	if (ts_us < f->since_us || ts_us >= f->until_us)
		return false;
	if (f->unit && !str_eq(f->unit, elog_event_str(ev, "egw", "unit")))
		return false;
	if (f->user && !str_eq(f->user, elog_event_str(ev, "egw", "user")))
		return false;
	if (f->verdict && !str_eq(f->verdict, elog_event_str(ev, "egw", "action")))
		return false;
	if (f->domain) {
		const char *d = elog_event_domain(ev);
		if (!d || !elog_domain_match(d, f->domain))
			return false;
	}
	if (f->has_ip && !ip_match(&f->ip, elog_event_str(ev, NULL, "src_ip")) &&
	    !ip_match(&f->ip, elog_event_str(ev, NULL, "dest_ip")))
		return false;
	return true;
}

int elog_time_arg(const char *s, int64_t now_us, int64_t *out)
{
	char *end;
	long long v;
	int64_t unit;

	if (!strcmp(s, "now")) {
		*out = now_us;
		return 0;
	}
	if (elog_ts_parse(s, out) == 0)
		return 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoll(s, &end, 10);
	if (end[0] == 0 || end[1] != 0 || v < 0 || v > 100000)
		return -1;
	switch (end[0]) {
	case 'd': unit = 86400; break;
	case 'h': unit = 3600; break;
	case 'm': unit = 60; break;
	case 's': unit = 1; break;
	default: return -1;
	}
	*out = now_us - (int64_t)v * unit * 1000000;
	return 0;
}

static int cmp_day_files(const void *a, const void *b)
{
	const struct elog_day_files *x = a, *y = b;

	return x->day < y->day ? -1 : x->day > y->day;
}

struct elog_day_files *elog_list_days(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct elog_day_files *v = NULL, *nv;
	struct dirent *de;
	size_t k = 0, cap = 0, out = 0;
	int64_t day;
	enum elog_file_kind kind;
	int err;

	*n = 0;
	if (!d)
		return NULL;
	/* one entry a file, then sorted and merged by day */
	for (;;) {
		errno = 0;
		if (!(de = readdir(d)))
			break;
		if (elog_name_parse(de->d_name, &day, &kind) < 0 || kind == ELOG_F_SUMMARY)
			continue;
		if (k == cap) {
			nv = realloc(v, (cap ? cap * 2 : 64) * sizeof(*v));
			if (!nv)
				goto fail;
			v = nv;
			cap = cap ? cap * 2 : 64;
		}
		v[k++] = (struct elog_day_files){ .day = day, .plain = kind == ELOG_F_PLAIN,
						  .zstd = kind == ELOG_F_ZSTD };
	}
	if (errno)
		goto fail;  /* a day left out unsaid would be a day lost */
	closedir(d);
	if (!v && !(v = malloc(sizeof(*v))))
		return NULL;
	qsort(v, k, sizeof(*v), cmp_day_files);
	for (size_t i = 0; i < k; i++) {
		if (out && v[out - 1].day == v[i].day) {
			v[out - 1].plain |= v[i].plain;
			v[out - 1].zstd |= v[i].zstd;
		} else {
			v[out++] = v[i];
		}
	}
	*n = out;
	return v;
fail:
	err = errno ? errno : ENOMEM;
	free(v);
	closedir(d);
	errno = err;
	return NULL;
}
