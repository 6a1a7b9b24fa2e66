/* SPDX-License-Identifier: MIT */
/* Lookups and names of a loaded policy: see egw/policy.h. */
#include <stdio.h>
#include <string.h>

#include <egw/policy.h>

char *egw_loc_format(const struct egw_loc *loc, bool full, char *buf, size_t cap)
{
	if (!cap)
		return buf;
	const char *f = loc && loc->file ? loc->file : "?";
	if (!full) {
		const char *slash = strrchr(f, '/');
		if (slash && slash[1])
			f = slash + 1;
	}
	if (loc && loc->line)
		snprintf(buf, cap, "%s:%u", f, loc->line);
	else
		snprintf(buf, cap, "%s", f);
	return buf;
}

int egw_policy_find_unit(const struct egw_policy *p, const char *name)
{
	for (size_t i = 0; p && name && i < p->n_units; i++)
		if (p->units[i].name && !strcmp(p->units[i].name, name))
			return (int)i;
	return -1;
}

int egw_policy_find_profile(const struct egw_policy *p, const char *name)
{
	for (size_t i = 0; p && name && i < p->n_profiles; i++)
		if (p->profiles[i].name && !strcmp(p->profiles[i].name, name))
			return (int)i;
	return -1;
}

int egw_policy_find_category(const struct egw_policy *p, const char *name)
{
	for (size_t i = 0; p && name && i < p->n_categories; i++)
		if (p->categories[i].name && !strcmp(p->categories[i].name, name))
			return (int)i;
	return -1;
}

const char *egw_action_name(enum egw_action a)
{
	switch (a) {
	case EGW_ACT_ALLOW: return "allow";
	case EGW_ACT_DENY: return "deny";
	case EGW_ACT_PUNT: return "punt";
	}
	return "?";
}

const char *egw_proto_name(enum egw_proto p)
{
	switch (p) {
	case EGW_PROTO_ANY: return "any";
	case EGW_PROTO_ICMP: return "icmp";
	case EGW_PROTO_TCP: return "tcp";
	case EGW_PROTO_UDP: return "udp";
	}
	return "?";
}
