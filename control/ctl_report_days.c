/* SPDX-License-Identifier: MIT */
/* Days, day summaries and the policy for egwctl report: see ctl_report.h. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_logdir.h"
#include "ctl_report.h"
#include "elog_format.h"
#include "elog_query.h"
#include "elog_reader.h"

static int cmp_day(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int64_t *ctl_report_days(const char *dir, size_t *n, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int64_t *v = NULL, day;
	size_t cap = 0, k = 0, out = 0;
	enum elog_file_kind kind;

	*n = 0;
	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((e = readdir(d))) {
		if (elog_name_parse(e->d_name, &day, &kind) < 0)
			continue;
		if (k == cap) {
			int64_t *nv = realloc(v, (cap ? cap * 2 : 64) * sizeof(*v));
			if (!nv) {
				snprintf(err, errlen, "out of memory");
				free(v);
				closedir(d);
				return NULL;
			}
			v = nv;
			cap = cap ? cap * 2 : 64;
		}
		v[k++] = day;
	}
	closedir(d);
	if (!v && !(v = malloc(sizeof(*v)))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	qsort(v, k, sizeof(*v), cmp_day);
	for (size_t i = 0; i < k; i++)
		if (!out || v[out - 1] != v[i])
			v[out++] = v[i];
	*n = out;
	return v;
}

/* The day's log file: plain first (the open day), then zstd. Only an
 * absent file (ENOENT) is no file: one that cannot be looked at is
 * returned, for opening it to say why. */
static bool day_file(const char *dir, int64_t day, char *path, size_t cap, bool *zstd)
{
	char name[ELOG_NAME_MAX];

	elog_name_format(day, ELOG_F_PLAIN, name, sizeof(name));
	snprintf(path, cap, "%s/%s", dir, name);
	*zstd = false;
	if (access(path, F_OK) == 0 || errno != ENOENT)
		return true;
	elog_name_format(day, ELOG_F_ZSTD, name, sizeof(name));
	snprintf(path, cap, "%s/%s", dir, name);
	*zstd = true;
	return access(path, F_OK) == 0 || errno != ENOENT;
}

void ctl_report_skip(void *arg, const char *path, uint64_t line, const char *what)
{
	fprintf(stderr, "egwctl report: %s:%llu: %s, skipped\n", path,
		(unsigned long long)line, what);
	(*(unsigned *)arg)++;
}

int ctl_day_read(const char *dir, int64_t day, int64_t since_us, int64_t until_us,
		 json_t **out, unsigned *skipped, char *err, size_t errlen)
{
	bool zstd, complete, open_range = since_us == INT64_MIN && until_us == INT64_MAX;
	char path[4200], what[256];
	const char *line, *why;
	struct elog_reader *r;
	uint64_t at = 0;
	json_error_t je;
	size_t len;
	json_t *sum;
	int rc;

	*out = NULL;
	if (!day_file(dir, day, path, sizeof(path), &zstd))
		return 0;
	if (!(r = elog_reader_open(path, zstd, &why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	if (!(sum = elog_summary_new(day))) {
		elog_reader_close(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while ((rc = elog_reader_next(r, &line, &len, &complete, &why)) == 1 ||
	       rc == ELOG_READER_SKIPPED) {
		struct elog_line ln;
		const char *ts;
		int64_t us;

		at++;
		if (rc == ELOG_READER_SKIPPED) {
			ctl_report_skip(skipped, path, at, why);
			continue;
		}
		if (!complete)
			continue;  /* torn: the writer's line in progress, or a crash's */
		if (elog_line_parse(line, len, &ln, &why) < 0) {
			snprintf(what, sizeof(what), "not a log line (%s)", why);
			ctl_report_skip(skipped, path, at, what);
			continue;
		}
		if (ln.record)
			continue;
		json_t *ev = json_loadb(line, len, 0, &je);
		if (!json_is_object(ev)) {
			snprintf(what, sizeof(what), "not a JSON event (%s)",
				 ev ? "not an object" : je.text);
			ctl_report_skip(skipped, path, at, what);
			json_decref(ev);
			continue;
		}
		ts = elog_event_str(ev, NULL, "timestamp");
		if (ts && elog_ts_parse(ts, &us) == 0 ? (us >= since_us && us < until_us)
						       : open_range)
			elog_summary_add(sum, ev);
		json_decref(ev);
	}
	elog_reader_close(r);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		json_decref(sum);
		return -1;
	}
	*out = sum;
	return 1;
}

int ctl_day_summary(const char *dir, int64_t day, json_t **out, unsigned *skipped,
		    char *err, size_t errlen)
{
	int rc = elog_summary_read(dir, day, out, err, errlen);

	if (rc < 0)
		return -1;
	if (rc == 1 && elog_summary_is_current(*out))
		return 1;
	json_decref(*out);
	*out = NULL;
	return ctl_day_read(dir, day, INT64_MIN, INT64_MAX, out, skipped, err, errlen);
}

struct egw_policy *ctl_report_policy(const char *config, const char *dir_opt, char *dir,
				     size_t cap)
{
	struct egw_diag *diag = egw_diag_new();
	struct egw_policy *p;

	if (!config)
		config = CTL_DEFAULT_CONFIG;
	if (!diag) {
		fprintf(stderr, "egwctl report: out of memory\n");
		return NULL;
	}
	p = egw_policy_load(config, diag);
	if (!p) {
		egw_diag_sort(diag);
		egw_diag_print(diag, stderr);
		if (!egw_diag_count(diag))
			fprintf(stderr, "%s: %s\n", config, strerror(errno));
		fprintf(stderr, "egwctl report: the policy %s cannot be read (give it "
			"with --config FILE)\n", config);
		egw_diag_free(diag);
		return NULL;
	}
	egw_diag_free(diag);
	snprintf(dir, cap, "%s", dir_opt ? dir_opt : p->log.directory);
	return p;
}

int ctl_unit_of(const struct egw_policy *p, const struct egw_prefix *addr)
{
	int best = -1;
	unsigned best_len = 0;

	for (size_t u = 0; u < p->n_units; u++)
		for (size_t i = 0; i < p->units[u].prefixes.n; i++) {
			const struct egw_prefix *q = &p->units[u].prefixes.v[i];
			if (egw_prefix_within(addr, q) && (best < 0 || q->len > best_len)) {
				best = (int)u;
				best_len = q->len;
			}
		}
	return best;
}

int ctl_report_start(int argc, char **argv, const struct option *own, ctl_report_opt_fn opt,
		     void *arg, void (*usage)(FILE *), struct ctl_report_run *r)
{
	static const struct option shared[] = {
		{ "json", no_argument, NULL, 'j' }, { "dir", required_argument, NULL, 'D' },
		{ "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' } };
	struct option lo[8 + 4 + 1];
	const char *dir_opt = NULL, *config = NULL;
	char err[4600];
	size_t n = 0;
	int c, rc;

	memset(r, 0, sizeof(*r));
	for (; own && own[n].name && n < 8; n++)
		lo[n] = own[n];
	memcpy(lo + n, shared, sizeof(shared));
	memset(lo + n + 4, 0, sizeof(lo[0]));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'j': r->json = true; break;
		case 'D': dir_opt = optarg; break;
		case 'c': config = optarg; break;
		case 'h': usage(stdout); return 0;
		case '?': usage(stderr); return 2;
		default:
			if ((rc = opt(arg, c, optarg)) != 0)
				return rc;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!(r->p = ctl_report_policy(config, dir_opt, r->dir, sizeof(r->dir))))
		return 1;
	if (!(r->days = ctl_report_days(r->dir, &r->nd, err, sizeof(err)))) {
		fprintf(stderr, "egwctl report: %s\n", err);
		ctl_report_end(r);
		return 1;
	}
	return -1;
}

void ctl_report_end(struct ctl_report_run *r)
{
	free(r->days);
	egw_policy_free(r->p);
	r->days = NULL;
	r->p = NULL;
}
