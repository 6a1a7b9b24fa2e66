/* SPDX-License-Identifier: MIT */
/*
 * The geo compiler: walk a MaxMind DB's search tree once and produce, for
 * each requested geo class, its IPv4 and IPv6 prefix lists (sorted, merged,
 * non-overlapping). Workers never call libmaxminddb per packet: they look up
 * tables built from these lists.
 *
 * IPv4 networks are taken from the IPv4 subtree (::/96 of an IPv6 database);
 * the IPv4-mapped (::ffff:0:0/96) and 6to4 (2002::/16) aliases that point
 * into it are not reported again as IPv6 networks.
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
 * a numeric component indexes an array). A class that no record of the
 * database produces is an error reported at classes[i].loc, naming the
 * values the database does have for that country. A missing, unreadable or
 * corrupt database is an error at dbloc. Returns 0, or -1 after recording
 * errors in diag. Prefix arrays are malloc'd; free them with egw_geo_release.
 */
int egw_geo_compile(const char *db_path, const char *country_field,
		    const char *region_field, struct egw_geo_class *classes,
		    size_t n_classes, const struct egw_loc *dbloc,
		    struct egw_diag *diag);
void egw_geo_release(struct egw_geo_class *classes, size_t n_classes);

/* "CN", "CN-GD", "!CN": 0 or -1 with *why. out->v4/v6 left empty. */
int egw_geo_class_parse(const char *s, struct egw_geo_class *out, bool *negate,
			const char **why);

#endif
