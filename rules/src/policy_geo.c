/* SPDX-License-Identifier: MIT */
/*
 * The geo part of a policy: the geo section (where the MaxMind DB is and how
 * its records are laid out), the distinct geo classes that rules' country
 * lists and dns.resolver_regions use, and their compilation into prefix
 * lists by the geo compiler (egw/geo.h), once per load.
 */
#include <stdio.h>
#include <string.h>

#include <egw/geo.h>

#include "policy_int.h"

static const char *const geo_keys[] = {
	"database", "country_field", "region_field", NULL
};

/* "country.iso_code", "subdivisions.0.iso_code": non-empty components of
 * letters, digits, '_' and '-'. */
static bool field_path_ok(const char *s)
{
	if (!*s || *s == '.' || s[strlen(s) - 1] == '.' || strstr(s, ".."))
		return false;
	for (const char *q = s; *q; q++) {
		char ch = *q;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

static char *field(struct pctx *c, const config_setting_t *s, const char *key,
		   const char *def)
{
	const char *v;
	if (read_str(c, s, key, "geo", &v) > 0) {
		if (field_path_ok(v))
			return pctx_strdup(c, v);
		perr(c, config_setting_get_member(s, key),
		     "geo.%s: \"%s\" is not a dotted path into a record "
		     "(like \"country.iso_code\" or \"subdivisions.0.iso_code\")", key, v);
	}
	return pctx_strdup(c, def);
}

void parse_geo_cfg(struct pctx *c, const config_setting_t *s)
{
	struct egw_geo_cfg *g = &c->p->geo;
	g->loc = s ? loc_of(c, s) : loc_default(c);
	g->country_field = field(c, s, "country_field", "country.iso_code");
	g->region_field = field(c, s, "region_field", "subdivisions.0.iso_code");
	if (!s)
		return;
	check_keys(c, s, "geo", geo_keys);
	const char *db;
	int r = read_str(c, s, "database", "geo", &db);
	if (r == 0)
		perr(c, s, "geo: database missing (the path of a MaxMind .mmdb file)");
	if (r <= 0)
		return;
	if (!*db) {
		perr(c, config_setting_get_member(s, "database"),
		     "geo.database: must not be empty");
		return;
	}
	g->loc = loc_of(c, config_setting_get_member(s, "database"));
	g->database = path_resolve(c, c->dir, db);
}

int geo_use(struct pctx *c, const config_setting_t *s, const char *where,
	    struct egw_geo_ref *ref)
{
	struct egw_policy *p = c->p;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		perr(c, s, "%s: expected a geo class string (\"CN\", \"CN-GD\", \"!CN\"), got %s",
		     where, type_name(config_setting_type(s)));
		return -1;
	}
	const char *str = config_setting_get_string(s);
	struct egw_geo_class cls;
	bool negate = false;
	const char *why = "not a geo class";
	memset(&cls, 0, sizeof(cls));
	if (egw_geo_class_parse(str, &cls, &negate, &why) < 0) {
		perr(c, s, "%s: \"%s\": %s", where, str, why);
		return -1;
	}
	size_t i;
	for (i = 0; i < p->n_geo_classes; i++)
		if (!strcmp(p->geo_classes[i].code, cls.code))
			break;
	if (i == p->n_geo_classes) {
		if (i >= UINT16_MAX) {
			perr(c, s, "%s: too many distinct geo classes (at most %u)", where,
			     UINT16_MAX);
			return -1;
		}
		if (i == c->cap_geo) {
			size_t cap = c->cap_geo ? c->cap_geo * 2 : 16;
			struct egw_geo_class *v = pctx_alloc(c, cap, sizeof(*v));
			if (!v)
				return -1;
			if (i)
				memcpy(v, p->geo_classes, i * sizeof(*v));
			p->geo_classes = v;
			c->cap_geo = cap;
		}
		cls.v4.v = NULL;
		cls.v4.n = 0;
		cls.v6.v = NULL;
		cls.v6.n = 0;
		cls.loc = loc_of(c, s);
		p->geo_classes[i] = cls;
		p->n_geo_classes++;
	} else {
		/* dns is read after the profiles: keep the earliest line */
		struct egw_loc l = loc_of(c, s);
		struct egw_geo_class *g = &p->geo_classes[i];
		if (l.file == g->loc.file && l.line < g->loc.line)
			g->loc = l;
	}
	ref->cls = (uint16_t)i;
	ref->negate = negate;
	return 0;
}

int read_geo_refs(struct pctx *c, const config_setting_t *g, const char *key,
		  const char *where, struct egw_geo_ref **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	const config_setting_t *s = config_setting_get_member(g, key);
	if (!s)
		return 0;
	char w[256];
	snprintf(w, sizeof(w), "%s.%s", where, key);
	if (!expect_seq(c, s, w, "an array of geo classes ([ \"CN\", \"!US\" ])"))
		return -1;
	int len = config_setting_length(s);
	if (len == 0) {
		perr(c, s, "%s: must not be empty", w);
		return -1;
	}
	*out = pctx_alloc(c, (size_t)len, sizeof(**out));
	if (!*out)
		return -1;
	int ret = 1;
	for (int i = 0; i < len; i++) {
		if (geo_use(c, config_setting_get_elem(s, (unsigned)i), w, &(*out)[*n]) < 0)
			ret = -1;
		else
			(*n)++;
	}
	return ret;
}

void geo_finish(struct pctx *c)
{
	struct egw_policy *p = c->p;
	if (p->n_geo_classes == 0)
		return;
	if (!p->geo.database) {
		if (p->geo.loc.line)
			return; /* a geo section without a usable database: reported */
		const struct egw_geo_class *g = &p->geo_classes[0];
		perr_at(c, &g->loc,
			"geo class \"%s\" needs a geo section with a database "
			"(geo.database, a MaxMind .mmdb file)", g->code);
		return;
	}
	if (egw_geo_compile(p->geo.database, p->geo.country_field, p->geo.region_field,
			    p->geo_classes, p->n_geo_classes, &p->geo.loc, c->diag) < 0)
		c->errors++;
}
