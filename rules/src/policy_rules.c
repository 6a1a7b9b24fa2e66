/* SPDX-License-Identifier: MIT */
/*
 * Categories (named domain and address lists) and profiles (ordered rule
 * lists). A rule's matches are all optional; its action is not.
 */
#include <stdio.h>
#include <string.h>

#include <egw/domain_set.h>

#include "policy_int.h"

static const char *const category_keys[] = { "name", "domains", "addresses", NULL };

static void parse_domains(struct pctx *c, const config_setting_t *e,
			  const char *where, struct egw_category *cat)
{
	const config_setting_t *s = config_setting_get_member(e, "domains");
	if (!s)
		return;
	char w[256];
	snprintf(w, sizeof(w), "%s.domains", where);
	if (!expect_seq(c, s, w, "an array of domain names"))
		return;
	int n = config_setting_length(s);
	cat->domains = pctx_alloc(c, (size_t)n, sizeof(*cat->domains));
	cat->domain_locs = pctx_alloc(c, (size_t)n, sizeof(*cat->domain_locs));
	if (!cat->domains || !cat->domain_locs)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *d = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(d) != CONFIG_TYPE_STRING) {
			perr(c, d, "%s: expected a domain name string, got %s", w,
			     type_name(config_setting_type(d)));
			continue;
		}
		const char *v = config_setting_get_string(d);
		size_t len = strlen(v);
		if (len > 1 && v[len - 1] == '.')
			len--;
		char *low = arena_strndup(c->a, v, len);
		if (!low) {
			c->oom = true;
			return;
		}
		for (char *q = low; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
		const char *why = "not a domain name";
		if (egw_domain_check(low, &why) < 0) {
			perr(c, d, "%s: \"%s\": %s", w, v, why);
			continue;
		}
		cat->domain_locs[cat->n_domains] = loc_of(c, d);
		cat->domains[cat->n_domains++] = low;
	}
}

/* Elements of an array or list setting; 1 for anything else present. */
static int seq_len(const config_setting_t *s)
{
	if (!s)
		return 0;
	if (config_setting_is_array(s) || config_setting_is_list(s))
		return config_setting_length(s);
	return 1;
}

void parse_categories(struct pctx *c, const config_setting_t *s)
{
	struct egw_policy *p = c->p;
	if (!s)
		return;
	int n = config_setting_length(s);
	p->categories = pctx_alloc(c, (size_t)n, sizeof(*p->categories));
	if (!p->categories)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		char where[128];
		snprintf(where, sizeof(where), "categories[%d]", i);
		if (!expect_group(c, e, where))
			continue;
		struct egw_category *cat = &p->categories[p->n_categories];
		cat->loc = loc_of(c, e);
		cat->name = element_name(c, e, where, "category", p->categories,
					 p->n_categories, sizeof(*cat),
					 offsetof(struct egw_category, loc));
		if (cat->name)
			snprintf(where, sizeof(where), "categories[\"%s\"]", cat->name);
		check_keys(c, e, where, category_keys);
		parse_domains(c, e, where, cat);
		read_prefixes(c, e, "addresses", where, false, true, &cat->addresses, NULL);
		if (seq_len(config_setting_get_member(e, "domains")) +
		    seq_len(config_setting_get_member(e, "addresses")) == 0)
			perr(c, e, "%s: a category needs domains or addresses (or both)",
			     where);
		p->n_categories++;
	}
}

/* ---- ports ---- */

static bool port_num(const char *s, size_t len, long *out)
{
	if (len == 0 || len > 5)
		return false;
	long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* One port element: an int, or a "a-b" (or "a") string. */
static int port_elem(struct pctx *c, const config_setting_t *e, const char *w,
		     struct egw_port_range *out)
{
	int t = config_setting_type(e);
	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
		long long v = config_setting_get_int64(e);
		if (v < 1 || v > 65535) {
			perr(c, e, "%s: %lld is not a port (expected 1..65535)", w, v);
			return -1;
		}
		out->lo = out->hi = (uint16_t)v;
		return 0;
	}
	if (t != CONFIG_TYPE_STRING) {
		perr(c, e, "%s: expected a port (1..65535) or a \"a-b\" range, got %s", w,
		     type_name(t));
		return -1;
	}
	const char *s = config_setting_get_string(e);
	const char *dash = strchr(s, '-');
	long lo, hi;
	bool ok;
	if (dash)
		ok = port_num(s, (size_t)(dash - s), &lo) &&
		     port_num(dash + 1, strlen(dash + 1), &hi);
	else
		ok = port_num(s, strlen(s), &lo) && (hi = lo, true);
	if (!ok) {
		perr(c, e, "%s: \"%s\" is not a port range (expected \"a-b\", like \"8000-8080\")",
		     w, s);
		return -1;
	}
	if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535) {
		perr(c, e, "%s: \"%s\": ports are 1..65535", w, s);
		return -1;
	}
	if (lo > hi) {
		perr(c, e, "%s: \"%s\": range start %ld is above its end %ld", w, s, lo, hi);
		return -1;
	}
	out->lo = (uint16_t)lo;
	out->hi = (uint16_t)hi;
	return 0;
}

static int parse_ports(struct pctx *c, const config_setting_t *s, const char *w,
		       struct egw_rule *r)
{
	int t = config_setting_type(s);
	if (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) {
		int n = config_setting_length(s);
		if (n == 0) {
			perr(c, s, "%s: must not be empty", w);
			return -1;
		}
		r->ports = pctx_alloc(c, (size_t)n, sizeof(*r->ports));
		if (!r->ports)
			return -1;
		int ret = 0;
		for (int i = 0; i < n; i++) {
			if (port_elem(c, config_setting_get_elem(s, (unsigned)i), w,
				      &r->ports[r->n_ports]) < 0)
				ret = -1;
			else
				r->n_ports++;
		}
		return ret;
	}
	r->ports = pctx_alloc(c, 1, sizeof(*r->ports));
	if (!r->ports)
		return -1;
	if (port_elem(c, s, w, &r->ports[0]) < 0)
		return -1;
	r->n_ports = 1;
	return 0;
}

/* ---- rules and profiles ---- */

static const char *const rule_keys[] = {
	"action", "category", "country", "dst", "proto", "port", NULL
};
static const char *const actions[] = { "allow", "deny", "punt", NULL };
static const char *const protos[] = { "any", "icmp", "tcp", "udp", NULL };
static const enum egw_proto proto_vals[] = {
	EGW_PROTO_ANY, EGW_PROTO_ICMP, EGW_PROTO_TCP, EGW_PROTO_UDP
};

static void parse_rule(struct pctx *c, const config_setting_t *e, const char *where,
		       struct egw_rule *r)
{
	struct egw_policy *p = c->p;
	r->loc = loc_of(c, e);
	r->category = -1;
	r->proto = EGW_PROTO_ANY;
	check_keys(c, e, where, rule_keys);

	int v;
	int ra = read_enum(c, e, "action", where, actions, &v);
	if (ra == 0)
		perr(c, e, "%s: action missing (\"allow\", \"deny\" or \"punt\")", where);
	if (ra > 0)
		r->action = (enum egw_action)v;

	const char *cat;
	if (read_str(c, e, "category", where, &cat) > 0) {
		r->category = egw_policy_find_category(p, cat);
		if (r->category < 0) {
			char names[512];
			list_names(names, sizeof(names), p->n_categories, p->categories,
				   sizeof(*p->categories));
			perr(c, config_setting_get_member(e, "category"),
			     "%s.category: category \"%s\" does not exist (categories: %s)",
			     where, cat, names);
		}
	}
	read_geo_refs(c, e, "country", where, &r->geo, &r->n_geo);
	int rd = read_prefixes(c, e, "dst", where, false, false, &r->dst, NULL);
	(void)rd;
	if (read_enum(c, e, "proto", where, protos, &v) > 0)
		r->proto = proto_vals[v];

	const config_setting_t *ps = config_setting_get_member(e, "port");
	if (ps) {
		char w[256];
		snprintf(w, sizeof(w), "%s.port", where);
		parse_ports(c, ps, w, r);
		if (r->proto == EGW_PROTO_ICMP)
			perr(c, ps, "%s: a port with proto \"icmp\" (ICMP has no ports; "
				    "use proto \"tcp\" or \"udp\", or drop the port)", w);
	}
}

static const char *const profile_keys[] = { "name", "rules", NULL };

void parse_profiles(struct pctx *c, const config_setting_t *s)
{
	struct egw_policy *p = c->p;
	if (!s)
		return;
	int n = config_setting_length(s);
	if (n == 0) {
		perr(c, s, "profiles: must not be empty (units refer to profiles)");
		return;
	}
	p->profiles = pctx_alloc(c, (size_t)n, sizeof(*p->profiles));
	if (!p->profiles)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		char where[128];
		snprintf(where, sizeof(where), "profiles[%d]", i);
		if (!expect_group(c, e, where))
			continue;
		struct egw_profile *pr = &p->profiles[p->n_profiles];
		pr->loc = loc_of(c, e);
		pr->name = element_name(c, e, where, "profile", p->profiles,
					p->n_profiles, sizeof(*pr),
					offsetof(struct egw_profile, loc));
		if (pr->name)
			snprintf(where, sizeof(where), "profiles[\"%s\"]", pr->name);
		check_keys(c, e, where, profile_keys);
		p->n_profiles++;

		const config_setting_t *rs = config_setting_get_member(e, "rules");
		if (!rs) {
			perr(c, e, "%s: rules missing (a list of rules; ( ) denies everything)",
			     where);
			continue;
		}
		if (!config_setting_is_list(rs)) {
			perr(c, rs, "%s.rules: expected a list ( { ... }, ... ), got %s", where,
			     type_name(config_setting_type(rs)));
			continue;
		}
		int nr = config_setting_length(rs);
		pr->rules = pctx_alloc(c, (size_t)nr, sizeof(*pr->rules));
		if (!pr->rules)
			continue;
		for (int j = 0; j < nr; j++) {
			const config_setting_t *re = config_setting_get_elem(rs, (unsigned)j);
			char rw[192];
			snprintf(rw, sizeof(rw), "%s.rules[%d]", where, j);
			if (!expect_group(c, re, rw))
				continue;
			parse_rule(c, re, rw, &pr->rules[pr->n_rules++]);
		}
	}
}
