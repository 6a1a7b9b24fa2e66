/* SPDX-License-Identifier: MIT */
/*
 * Units and their terminals, and the checks that span units: no prefix in two
 * units, nested unit prefixes only with longest-prefix match deciding, every
 * terminal inside its own unit (by that same match), no IP registered twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

static const char *const unit_keys[] = {
	"name", "prefixes", "profile", "public_addresses", "terminals", NULL
};
static const char *const terminal_keys[] = {
	"ip", "mac", "switch_port", "location", "user", NULL
};

static char *opt_str(struct pctx *c, const config_setting_t *e, const char *key,
		     const char *where)
{
	const char *v = "";
	read_str(c, e, key, where, &v);
	return pctx_strdup(c, v);
}

/* Is ip within one of the unit's prefixes? */
static bool in_unit(const struct egw_unit *u, const struct egw_prefix *ip)
{
	for (size_t i = 0; i < u->prefixes.n; i++)
		if (egw_prefix_within(ip, &u->prefixes.v[i]))
			return true;
	return false;
}

static void parse_terminal(struct pctx *c, const config_setting_t *e,
			   const char *where, struct egw_unit *u, uint32_t ui,
			   struct egw_terminal *t)
{
	t->loc = loc_of(c, e);
	t->unit = ui;
	check_keys(c, e, where, terminal_keys);
	bool ip_ok = false;
	const char *v;
	int r = read_str(c, e, "ip", where, &v);
	if (r == 0)
		perr(c, e, "%s: ip missing (a terminal is registered by ip and mac)", where);
	if (r > 0) {
		const config_setting_t *is = config_setting_get_member(e, "ip");
		const char *why;
		if (egw_prefix_parse(v, &t->ip, &why) < 0)
			perr(c, is, "%s.ip: \"%s\": %s", where, v, why);
		else if (!egw_prefix_is_host(&t->ip))
			perr(c, is, "%s.ip: \"%s\" is a prefix; a terminal has one address",
			     where, v);
		else
			ip_ok = true;
		if (ip_ok && !c->unit_prefixes_bad[ui] && !in_unit(u, &t->ip)) {
			char list[256] = "", buf[EGW_PREFIX_STRLEN];
			size_t n = 0;
			for (size_t i = 0; i < u->prefixes.n && n < sizeof(list); i++) {
				int w = snprintf(list + n, sizeof(list) - n, "%s%s",
						 i ? ", " : "",
						 egw_prefix_format(&u->prefixes.v[i], buf,
								   sizeof(buf)));
				if (w < 0)
					break;
				n += (size_t)w;
			}
			perr(c, is, "%s.ip: terminal %s is outside the unit's prefixes (%s)",
			     where, v, list);
		}
	}
	r = read_str(c, e, "mac", where, &v);
	if (r == 0)
		perr(c, e, "%s: mac missing (a terminal is registered by ip and mac)", where);
	if (r > 0 && egw_mac_parse(v, t->mac) < 0)
		perr(c, config_setting_get_member(e, "mac"),
		     "%s.mac: \"%s\" is not a MAC address (expected six hex bytes, "
		     "like \"02:00:0a:01:00:0a\")", where, v);
	else if (r > 0 && (t->mac[0] & 1))
		/* No frame comes from a group address: under strict binding
		 * the terminal could never use the exit. */
		perr(c, config_setting_get_member(e, "mac"),
		     "%s.mac: \"%s\" is a %s address; a terminal sends from its own "
		     "(unicast) MAC", where, v,
		     memcmp(t->mac, "\xff\xff\xff\xff\xff\xff", 6) ? "multicast" : "broadcast");
	else if (r > 0 && !memcmp(t->mac, "\0\0\0\0\0\0", 6))
		perr(c, config_setting_get_member(e, "mac"),
		     "%s.mac: \"%s\" is all zeros, not a terminal's MAC", where, v);
	t->switch_port = opt_str(c, e, "switch_port", where);
	t->location = opt_str(c, e, "location", where);
	t->user = opt_str(c, e, "user", where);
}

static void parse_unit(struct pctx *c, const config_setting_t *e, char *where,
		       size_t where_cap, uint32_t ui)
{
	struct egw_policy *p = c->p;
	struct egw_unit *u = &p->units[ui];
	u->loc = loc_of(c, e);
	u->name = element_name(c, e, where, "unit", p->units, ui, sizeof(*u),
			       offsetof(struct egw_unit, loc));
	if (u->name)
		snprintf(where, where_cap, "units[\"%s\"]", u->name);
	check_keys(c, e, where, unit_keys);

	int r = read_prefixes(c, e, "prefixes", where, false, false, &u->prefixes,
			      &c->unit_prefix_locs[ui]);
	c->unit_prefixes_bad[ui] = r <= 0;
	if (r == 0)
		perr(c, e, "%s: prefixes missing (the unit's inside address ranges)", where);
	read_prefixes(c, e, "public_addresses", where, false, true,
		      &u->public_addresses, &c->unit_public_locs[ui]);

	const char *prof;
	r = read_str(c, e, "profile", where, &prof);
	if (r == 0)
		perr(c, e, "%s: profile missing (the name of one of profiles)", where);
	if (r > 0) {
		int pi = egw_policy_find_profile(p, prof);
		if (pi < 0) {
			char names[512];
			list_names(names, sizeof(names), p->n_profiles, p->profiles,
				   sizeof(*p->profiles));
			perr(c, config_setting_get_member(e, "profile"),
			     "%s.profile: profile \"%s\" does not exist (profiles: %s)",
			     where, prof, names);
		} else {
			u->profile = (uint32_t)pi;
		}
	}

	const config_setting_t *ts = config_setting_get_member(e, "terminals");
	if (!ts)
		return;
	if (!config_setting_is_list(ts)) {
		perr(c, ts, "%s.terminals: expected a list ( { ip = ...; mac = ...; }, ... ), got %s",
		     where, type_name(config_setting_type(ts)));
		return;
	}
	int n = config_setting_length(ts);
	u->terminals = pctx_alloc(c, (size_t)n, sizeof(*u->terminals));
	if (!u->terminals)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *te = config_setting_get_elem(ts, (unsigned)i);
		char tw[192];
		snprintf(tw, sizeof(tw), "%s.terminals[%d]", where, i);
		if (!expect_group(c, te, tw))
			continue;
		parse_terminal(c, te, tw, u, ui, &u->terminals[u->n_terminals++]);
	}
}

void parse_units(struct pctx *c, const config_setting_t *s)
{
	struct egw_policy *p = c->p;
	if (!s)
		return;
	int n = config_setting_length(s);
	if (n == 0) {
		perr(c, s, "units: must not be empty (the gateway serves at least one unit)");
		return;
	}
	p->units = pctx_alloc(c, (size_t)n, sizeof(*p->units));
	c->unit_prefix_locs = pctx_alloc(c, (size_t)n, sizeof(*c->unit_prefix_locs));
	c->unit_public_locs = pctx_alloc(c, (size_t)n, sizeof(*c->unit_public_locs));
	c->unit_prefixes_bad = pctx_alloc(c, (size_t)n, sizeof(*c->unit_prefixes_bad));
	if (!p->units || !c->unit_prefix_locs || !c->unit_public_locs || !c->unit_prefixes_bad)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		char where[128];
		snprintf(where, sizeof(where), "units[%d]", i);
		if (!expect_group(c, e, where))
			continue;
		parse_unit(c, e, where, sizeof(where), (uint32_t)p->n_units);
		p->n_units++;
	}
}

/* ---- checks across units ---- */

static const char *unit_label(const struct egw_policy *p, uint32_t u, char *buf,
			      size_t cap)
{
	if (p->units[u].name)
		snprintf(buf, cap, "units[\"%s\"]", p->units[u].name);
	else
		snprintf(buf, cap, "units[%u]", u);
	return buf;
}

struct pfx_ref {
	const struct egw_prefix *pfx;
	const struct egw_loc *loc;
	uint32_t unit;
	size_t seq;      /* order of appearance, for "first at" */
};

static int pfx_ref_cmp(const void *a, const void *b)
{
	const struct pfx_ref *x = a, *y = b;
	int r = egw_prefix_cmp(x->pfx, y->pfx);
	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The same prefix twice in units' prefixes (pub false) or public_addresses
 * (pub true): in one unit or in two. */
static void check_prefix_dups(struct pctx *c, bool pub)
{
	struct egw_policy *p = c->p;
	struct egw_loc **locs = pub ? c->unit_public_locs : c->unit_prefix_locs;
	const char *key = pub ? "public_addresses" : "prefixes";
	size_t total = 0;
	for (size_t u = 0; u < p->n_units; u++)
		if (locs[u])
			total += pub ? p->units[u].public_addresses.n : p->units[u].prefixes.n;
	if (total < 2)
		return;
	struct pfx_ref *v = calloc(total, sizeof(*v));
	if (!v) {
		c->oom = true;
		return;
	}
	size_t k = 0;
	for (size_t u = 0; u < p->n_units; u++) {
		if (!locs[u])
			continue;
		const struct egw_prefix_list *l = pub ? &p->units[u].public_addresses
						      : &p->units[u].prefixes;
		for (size_t i = 0; i < l->n; i++) {
			v[k] = (struct pfx_ref){ &l->v[i], &locs[u][i], (uint32_t)u, k };
			k++;
		}
	}
	qsort(v, total, sizeof(*v), pfx_ref_cmp);
	/* f: the first (in the file) of a run of equal prefixes */
	for (size_t i = 1, f = 0; i < total; i++) {
		if (egw_prefix_cmp(v[f].pfx, v[i].pfx)) {
			f = i;
			continue;
		}
		char buf[EGW_PREFIX_STRLEN], at[256], label[96];
		egw_prefix_format(v[i].pfx, buf, sizeof(buf));
		loc_ref(v[f].loc, v[i].loc, at, sizeof(at));
		unit_label(p, v[i].unit, label, sizeof(label));
		if (v[f].unit == v[i].unit)
			perr_at(c, v[i].loc, "%s.%s: %s listed twice (first at %s)",
				label, key, buf, at);
		else
			perr_at(c, v[i].loc,
				"%s.%s: %s is already unit \"%s\"'s (%s); "
				"a %s belongs to one unit", label, key, buf,
				p->units[v[f].unit].name ? p->units[v[f].unit].name : "?", at,
				pub ? "public address" : "prefix");
	}
	free(v);
}

/* The unit prefix an address falls in by longest-prefix match, or NULL. */
static const struct egw_prefix *lpm(const struct egw_policy *p,
				    const struct egw_prefix *ip, uint32_t *unit)
{
	const struct egw_prefix *best = NULL;
	for (size_t u = 0; u < p->n_units; u++) {
		const struct egw_prefix_list *l = &p->units[u].prefixes;
		for (size_t i = 0; i < l->n; i++) {
			if (egw_prefix_within(ip, &l->v[i]) && (!best || l->v[i].len > best->len)) {
				best = &l->v[i];
				*unit = (uint32_t)u;
			}
		}
	}
	return best;
}

struct term_ref {
	const struct egw_terminal *t;
	size_t seq;
};

static int term_ref_cmp(const void *a, const void *b)
{
	const struct term_ref *x = a, *y = b;
	int r = egw_prefix_cmp(&x->t->ip, &y->t->ip);
	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void check_terminals(struct pctx *c)
{
	struct egw_policy *p = c->p;
	size_t total = 0;
	for (size_t u = 0; u < p->n_units; u++)
		total += p->units[u].n_terminals;
	if (!total)
		return;
	struct term_ref *v = calloc(total, sizeof(*v));
	if (!v) {
		c->oom = true;
		return;
	}
	size_t k = 0;
	for (size_t u = 0; u < p->n_units; u++) {
		const struct egw_unit *un = &p->units[u];
		for (size_t i = 0; i < un->n_terminals; i++) {
			const struct egw_terminal *t = &un->terminals[i];
			if (!t->ip.family)
				continue; /* bad ip, reported */
			v[k].t = t;
			v[k].seq = k;
			k++;
			if (c->unit_prefixes_bad[u] || !in_unit(un, &t->ip))
				continue; /* reported at parse */
			uint32_t owner = (uint32_t)u;
			const struct egw_prefix *best = lpm(p, &t->ip, &owner);
			if (best && owner != u) {
				char ip[EGW_PREFIX_STRLEN], pf[EGW_PREFIX_STRLEN], at[256],
					label[96];
				egw_addr_format(&t->ip, ip, sizeof(ip));
				egw_prefix_format(best, pf, sizeof(pf));
				const struct egw_unit *o = &p->units[owner];
				perr_at(c, &t->loc,
					"%s: terminal %s falls in unit \"%s\"'s prefix %s by "
					"longest-prefix match (unit at %s); register it there",
					unit_label(p, (uint32_t)u, label, sizeof(label)), ip,
					o->name ? o->name : "?", pf,
					loc_ref(&o->loc, &t->loc, at, sizeof(at)));
			}
		}
	}
	qsort(v, k, sizeof(*v), term_ref_cmp);
	for (size_t i = 1, f = 0; i < k; i++) {
		if (egw_prefix_cmp(&v[f].t->ip, &v[i].t->ip)) {
			f = i;
			continue;
		}
		char ip[EGW_PREFIX_STRLEN], at[256];
		egw_addr_format(&v[i].t->ip, ip, sizeof(ip));
		perr_at(c, &v[i].t->loc, "terminal %s registered twice (first at %s)", ip,
			loc_ref(&v[f].t->loc, &v[i].t->loc, at, sizeof(at)));
	}
	free(v);
}

void check_units(struct pctx *c)
{
	if (!c->unit_prefix_locs)
		return;
	check_prefix_dups(c, false);
	check_prefix_dups(c, true);
	check_terminals(c);
}
