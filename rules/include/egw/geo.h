/* SPDX-License-Identifier: MIT */
/*
 * The geo compiler: walk a MaxMind DB's search tree once and produce, for
 * each requested geo class, its IPv4 and IPv6 prefix lists (sorted, merged,
 * non-overlapping). Workers never call libmaxminddb per packet: they look up
 * tables built from these lists.
 *
 * IPv4 networks are taken from the IPv4 subtree (::/96 of an IPv6 database);
 * the aliases that point into it (MaxMind writes IPv4-mapped ::ffff:0:0/96,
 * Teredo 2001::/32 and 6to4 2002::/16; any record that leads to the IPv4
 * start node counts) are not reported again as IPv6 networks.
 *
 * Thread safety: reentrant; no global state.
 */
#ifndef EGW_GEO_H
#define EGW_GEO_H

#include <egw/diag.h>
#include <egw/policy.h>

/*
 * Fill classes[i].v4 / .v6 for every class. country_field and region_field
 * are dotted paths into a record ("country.iso_code", "subdivisions.0.iso_code";
 * a numeric component indexes an array); NULL means those defaults. A record
 * belongs to class "CN" when the string at country_field is CN, to "CN-GD"
 * when moreover the string at region_field is GD; both compared with ASCII
 * case folded (other bytes exactly). A class that no record of the database
 * produces is an error reported at classes[i].loc, naming the regions the
 * database does have for that country ("geo class CN-XX: the database has
 * no region XX for CN (it has: 11, 22)") or that it has no such country. A
 * missing, unreadable, non-MMDB or corrupt database (bad metadata, a record
 * outside the tree or the data section, a node reached twice, a tree deeper
 * than the address width, an undecodable data record) is an error at dbloc
 * (may be NULL); the walk is linear in the file size and never loops.
 * classes[i].v4/v6 are overwritten (pass them empty). Returns 0, or -1 after
 * recording errors in diag; on -1 every class's lists are empty. Prefix
 * arrays are malloc'd; free them with egw_geo_release.
 */
int egw_geo_compile(const char *db_path, const char *country_field,
		    const char *region_field, struct egw_geo_class *classes,
		    size_t n_classes, const struct egw_loc *dbloc,
		    struct egw_diag *diag);
/* Frees and empties the lists of every class; safe on empty lists. */
void egw_geo_release(struct egw_geo_class *classes, size_t n_classes);

/*
 * "CN", "CN-GD", "!CN", "CN-Inner Mongolia": [!]CC[-REGION] where CC is two
 * ASCII letters and REGION 1..EGW_GEO_REGION_MAX bytes of valid UTF-8 whose
 * ASCII characters are letters, digits, spaces and ' ( ) , - . / _, with no
 * leading or trailing space (spaces inside are written as they are; a class
 * code never needs quoting or escaping). Stores code/country/region upper case (ASCII). 0 or -1 with
 * *why (static English text; why may be NULL). *out is overwritten entirely
 * (loc zeroed: set it afterwards; v4/v6 empty). negate may be NULL where
 * negation is not allowed: "!CN" is then an error.
 */
int egw_geo_class_parse(const char *s, struct egw_geo_class *out, bool *negate,
			const char **why);

#endif
