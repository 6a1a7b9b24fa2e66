/* SPDX-License-Identifier: MIT */
/*
 * Internals of the geo compiler (egw/geo.h): the prefix-list builder and the
 * search-tree walk. Not installed; for rules/src/geo*.c only.
 */
#ifndef EGW_GEO_INTERNAL_H
#define EGW_GEO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <maxminddb.h>

#include <egw/addr.h>
#include <egw/policy.h>

/*
 * A prefix list under construction. Prefixes appended in ascending order (a
 * search-tree walk yields them so) are merged on the fly: adjacent siblings
 * become their parent, contained prefixes are dropped. Out-of-order input is
 * accepted and fixed by egw_geo_plist_finish (sort, then the same merge).
 */
struct egw_geo_plist {
	struct egw_prefix *v;
	size_t n, cap;
	bool unsorted;
};

/* 0, or -1 on allocation failure (the list is unchanged). */
int egw_geo_plist_append(struct egw_geo_plist *l, const struct egw_prefix *p);
/* Normalise and move into out (which must be empty); l is left empty.
 * 0, or -1 on allocation failure (l is then freed, out empty). */
int egw_geo_plist_finish(struct egw_geo_plist *l, struct egw_prefix_list *out);
void egw_geo_plist_free(struct egw_geo_plist *l);

/* Called once per network the tree maps to a data record: family AF_INET
 * or AF_INET6, p normalised (host bits zero). Returns 0 or -1 to stop the
 * walk (the callback has recorded why). */
typedef int (*egw_geo_leaf_fn)(void *arg, const struct egw_prefix *p,
			   const MMDB_entry_s *entry);

/*
 * Walk the whole search tree of mmdb once, in ascending address order,
 * calling leaf for each network that has data: IPv4 networks from the IPv4
 * subtree (::/96 of an IPv6 database), IPv6 networks from the rest, without
 * the aliases that lead back into the IPv4 subtree (::ffff:0:0/96,
 * 2001::/32, 2002::/16: any record pointing at the IPv4 start node). Every node is checked (number, record type, depth, reached
 * once). Returns 0; -1 with *why (static or in whybuf) on a corrupt tree or
 * allocation failure; -2 when leaf returned -1.
 */
int egw_geo_walk(const MMDB_s *mmdb, egw_geo_leaf_fn leaf, void *arg,
	     char *whybuf, size_t whycap, const char **why);

#endif
