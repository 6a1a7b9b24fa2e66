/* SPDX-License-Identifier: MIT */
/*
 * Reading libconfig settings for the policy loader: every read checks the
 * type, the range or the allowed values, and reports what it expected at the
 * setting's own file:line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <egw/diag.h>
#include <egw/policy.h>

#include "policy_int.h"

/* libconfig names an @include'd file as the directive wrote it, relative to
 * the include directory (the policy's); show it as a path relative to where
 * the caller named the policy, like the policy itself. */
const char *display_file(struct pctx *c, const char *f)
{
	if (!f || !strcmp(f, c->file) || f[0] == '/')
		return pctx_intern(c, f);
	const char *slash = strrchr(c->file, '/');
	if (!slash)
		return pctx_intern(c, f);
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash - c->file), c->file, f);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return pctx_intern(c, f);
	return pctx_intern(c, buf);
}

struct egw_loc loc_of(struct pctx *c, const config_setting_t *s)
{
	struct egw_loc l = { c->file, 0 };
	if (s) {
		l.file = display_file(c, config_setting_source_file(s));
		l.line = config_setting_source_line(s);
	}
	return l;
}

struct egw_loc loc_default(const struct pctx *c)
{
	struct egw_loc l = { c->file, 0 };
	return l;
}

const char *loc_ref(const struct egw_loc *first, const struct egw_loc *here,
		    char *buf, size_t cap)
{
	if (first->file == here->file || (first->file && here->file &&
					  !strcmp(first->file, here->file)))
		snprintf(buf, cap, "line %u", first->line);
	else
		snprintf(buf, cap, "%s:%u", first->file ? first->file : "?", first->line);
	return buf;
}

void perr_at(struct pctx *c, const struct egw_loc *l, const char *fmt, ...)
{
	va_list ap;
	c->errors++;
	va_start(ap, fmt);
	egw_diag_verror(c->diag, l->file ? l->file : c->file, l->line, fmt, ap);
	va_end(ap);
}

void perr(struct pctx *c, const config_setting_t *s, const char *fmt, ...)
{
	struct egw_loc l = loc_of(c, s);
	va_list ap;
	c->errors++;
	va_start(ap, fmt);
	egw_diag_verror(c->diag, l.file, l.line, fmt, ap);
	va_end(ap);
}

const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	default: return "nothing";
	}
}

char *join_names(const char *const *names, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; names[i]; i++) {
		int r = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", names[i]);
		if (r < 0 || (size_t)r >= cap - n) {
			if (cap > 4)
				strcpy(buf + cap - 4, "...");
			break;
		}
		n += (size_t)r;
	}
	return buf;
}

/* Edit distance for "did you mean" hints (short keys only). */
static unsigned distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 31 || lb > 31)
		return 99;
	unsigned row[32];
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

void check_keys(struct pctx *c, const config_setting_t *s, const char *where,
		const char *const *allowed)
{
	if (!s || !config_setting_is_group(s))
		return;
	int n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(m);
		if (!name)
			continue;
		bool known = false;
		const char *hint = NULL;
		unsigned best = 3;
		for (size_t k = 0; allowed[k]; k++) {
			if (!strcmp(name, allowed[k])) {
				known = true;
				break;
			}
			unsigned d = distance(name, allowed[k]);
			if (d < best) {
				best = d;
				hint = allowed[k];
			}
		}
		if (known)
			continue;
		char list[512];
		join_names(allowed, list, sizeof(list));
		if (hint)
			perr(c, m, "%s: unknown key \"%s\" (did you mean \"%s\"? allowed: %s)",
			     where, name, hint, list);
		else
			perr(c, m, "%s: unknown key \"%s\" (allowed: %s)", where, name, list);
	}
}

bool expect_group(struct pctx *c, const config_setting_t *s, const char *where)
{
	if (config_setting_is_group(s))
		return true;
	perr(c, s, "%s: expected a group { ... }, got %s", where,
	     type_name(config_setting_type(s)));
	return false;
}

bool expect_seq(struct pctx *c, const config_setting_t *s, const char *where,
		const char *what)
{
	if (config_setting_is_array(s) || config_setting_is_list(s))
		return true;
	perr(c, s, "%s: expected %s, got %s", where, what,
	     type_name(config_setting_type(s)));
	return false;
}

static const config_setting_t *member(const config_setting_t *g, const char *key)
{
	if (!g || !config_setting_is_group(g))
		return NULL;
	return config_setting_get_member(g, key);
}

int read_str(struct pctx *c, const config_setting_t *g, const char *key,
	     const char *where, const char **out)
{
	const config_setting_t *s = member(g, key);
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		perr(c, s, "%s.%s: expected a string, got %s", where, key,
		     type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_string(s);
	return 1;
}

int read_int(struct pctx *c, const config_setting_t *g, const char *key,
	     const char *where, long long lo, long long hi, long long *out)
{
	const config_setting_t *s = member(g, key);
	if (!s)
		return 0;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		perr(c, s, "%s.%s: expected an integer %lld..%lld, got %s", where, key,
		     lo, hi, type_name(t));
		return -1;
	}
	long long v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		perr(c, s, "%s.%s: %lld is out of range (expected %lld..%lld)", where,
		     key, v, lo, hi);
		return -1;
	}
	*out = v;
	return 1;
}

int read_bool(struct pctx *c, const config_setting_t *g, const char *key,
	      const char *where, bool *out)
{
	const config_setting_t *s = member(g, key);
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		perr(c, s, "%s.%s: expected a boolean (true or false), got %s", where,
		     key, type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 1;
}

int read_number(struct pctx *c, const config_setting_t *g, const char *key,
		const char *where, double lo, double hi, double *out)
{
	const config_setting_t *s = member(g, key);
	if (!s)
		return 0;
	int t = config_setting_type(s);
	double v;
	if (t == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else {
		perr(c, s, "%s.%s: expected a number %g..%g, got %s", where, key, lo,
		     hi, type_name(t));
		return -1;
	}
	if (!(v >= lo && v <= hi)) {
		perr(c, s, "%s.%s: %g is out of range (expected %g..%g)", where, key,
		     v, lo, hi);
		return -1;
	}
	*out = v;
	return 1;
}

int read_enum(struct pctx *c, const config_setting_t *g, const char *key,
	      const char *where, const char *const *names, int *out)
{
	const char *v;
	int r = read_str(c, g, key, where, &v);
	if (r <= 0)
		return r;
	for (int i = 0; names[i]; i++) {
		if (!strcmp(v, names[i])) {
			*out = i;
			return 1;
		}
	}
	char list[256];
	size_t n = 0;
	list[0] = '\0';
	for (int i = 0; names[i] && n < sizeof(list); i++) {
		int w = snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
				 i ? ", " : "", names[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	perr(c, member(g, key), "%s.%s: \"%s\" is not one of %s", where, key, v, list);
	return -1;
}

int read_prefixes(struct pctx *c, const config_setting_t *g, const char *key,
		  const char *where, bool hosts_only, bool empty_ok,
		  struct egw_prefix_list *out, struct egw_loc **locs)
{
	const config_setting_t *s = member(g, key);
	out->v = NULL;
	out->n = 0;
	if (locs)
		*locs = NULL;
	if (!s)
		return 0;
	char w[256];
	snprintf(w, sizeof(w), "%s.%s", where, key);
	if (!expect_seq(c, s, w, hosts_only ? "an array of IP addresses"
					 : "an array of IP addresses or CIDR prefixes"))
		return -1;
	int n = config_setting_length(s);
	if (n == 0 && !empty_ok) {
		perr(c, s, "%s: must not be empty", w);
		return -1;
	}
	out->v = pctx_alloc(c, (size_t)n, sizeof(*out->v));
	if (locs)
		*locs = pctx_alloc(c, (size_t)n, sizeof(**locs));
	if (!out->v || (locs && !*locs))
		return -1;
	int ret = 1;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			perr(c, e, "%s: expected a string (an IP address%s), got %s", w,
			     hosts_only ? "" : " or CIDR prefix",
			     type_name(config_setting_type(e)));
			ret = -1;
			continue;
		}
		const char *str = config_setting_get_string(e);
		const char *why = NULL;
		struct egw_prefix pfx;
		if (egw_prefix_parse(str, &pfx, &why) < 0) {
			perr(c, e, "%s: \"%s\": %s", w, str, why);
			ret = -1;
			continue;
		}
		if (hosts_only && !egw_prefix_is_host(&pfx)) {
			perr(c, e, "%s: \"%s\" is a prefix; expected one address", w, str);
			ret = -1;
			continue;
		}
		if (locs)
			(*locs)[out->n] = loc_of(c, e);
		out->v[out->n++] = pfx;
	}
	return ret;
}

bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

/* "NAME, NAME, ..." of the names that exist, for "does not exist" errors. */
void list_names(char *buf, size_t cap, size_t n, const void *base,
		       size_t stride)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *name = *(char *const *)((const char *)base + i * stride);
		if (!name)
			continue;
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++) {
			const char *o = *(char *const *)((const char *)base + j * stride);
			dup = o && !strcmp(o, name);
		}
		if (dup)
			continue;
		int w = snprintf(buf + used, cap - used, "%s\"%s\"", used ? ", " : "", name);
		if (w < 0 || (size_t)w >= cap - used) {
			if (cap > 4)
				strcpy(buf + cap - 4, "...");
			return;
		}
		used += (size_t)w;
	}
	if (!used)
		snprintf(buf, cap, "none defined");
}

/* Reads the name of a list element; reports missing, bad and duplicate
 * names (prev: the n elements before, whose name field is at offset 0 of
 * a struct of size stride, and whose loc is at loc_off). */
char *element_name(struct pctx *c, const config_setting_t *e,
			  const char *where, const char *kind, const void *prev,
			  size_t n, size_t stride, size_t loc_off)
{
	const char *v;
	int r = read_str(c, e, "name", where, &v);
	if (r == 0)
		perr(c, e, "%s: name missing", where);
	if (r <= 0)
		return NULL;
	const config_setting_t *ns = config_setting_get_member(e, "name");
	if (!name_ok(v)) {
		perr(c, ns, "%s.name: \"%s\" is not a valid name (1..64 letters, digits, "
			    "'.', '-', '_')", where, v);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *base = (const char *)prev + i * stride;
		const char *other = *(char *const *)base;
		if (other && !strcmp(other, v)) {
			const struct egw_loc *l = (const struct egw_loc *)(base + loc_off);
			struct egw_loc here = loc_of(c, ns);
			char at[256];
			perr(c, ns, "duplicate %s name \"%s\" (first defined at %s)", kind,
			     v, loc_ref(l, &here, at, sizeof(at)));
			break;
		}
	}
	return pctx_strdup(c, v);
}
