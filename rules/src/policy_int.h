/* SPDX-License-Identifier: MIT */
/*
 * Internals of the policy loader (rules/src/policy_*.c): the arena every
 * element of a struct egw_policy lives in, the load context, and helpers that
 * read typed libconfig settings and report "file:line: message" errors.
 *
 * Conventions: readers report every problem into c->diag and keep going;
 * allocation failure sets c->oom (the load then fails with ENOMEM). Not
 * thread-safe: one load context belongs to one thread.
 */
#ifndef EGW_POLICY_INT_H
#define EGW_POLICY_INT_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include <egw/policy.h>

/* policy_arena.c: a bump allocator; everything is freed at once. */
struct arena;
struct arena *arena_new(void);
void arena_free(struct arena *a);
/* Zeroed memory, aligned for any type; NULL on ENOMEM. n may be 0. */
void *arena_alloc(struct arena *a, size_t size);
void *arena_array(struct arena *a, size_t n, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* One load in progress. */
struct pctx {
	struct egw_policy *p;
	struct arena *a;
	struct egw_diag *diag;
	const char *file;      /* the policy file as the caller named it (interned) */
	const char *dir;       /* absolute directory of the policy file */
	const char **files;    /* interned source file names */
	size_t n_files, cap_files;
	bool oom;
	size_t errors;         /* reported so far (the diag may fail to store one) */
	/* geo classes as they are met (policy_geo.c) */
	size_t cap_geo;
	/* per unit: where each of its prefixes was written (policy_units.c) */
	struct egw_loc **unit_prefix_locs;
	struct egw_loc **unit_public_locs;   /* the same for public_addresses */
	bool *unit_prefixes_bad;   /* some prefix of the unit did not parse */
};

/* Intern a file name; never NULL (falls back to c->file on ENOMEM). */
const char *pctx_intern(struct pctx *c, const char *file);
void *pctx_alloc(struct pctx *c, size_t n, size_t size); /* sets oom */
char *pctx_strdup(struct pctx *c, const char *s);

/* policy_includes.c: 0 when the policy and every file it @includes are
 * readable regular text files that libconfig can be given (libconfig 1.5
 * exits the process on an @include of a directory); else errors reported. */
int policy_check_includes(struct pctx *c, const char *path);

/* policy_read.c: locations, errors and typed reads. */
/* The name to show for source file f (libconfig names an @include'd file as
 * written, relative to the policy's directory); interned. */
const char *display_file(struct pctx *c, const char *f);
struct egw_loc loc_of(struct pctx *c, const config_setting_t *s);
struct egw_loc loc_default(const struct pctx *c);
void perr(struct pctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void perr_at(struct pctx *c, const struct egw_loc *l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *type_name(int type);
/* Report every member of group s whose name is not in allowed (NULL-ended). */
void check_keys(struct pctx *c, const config_setting_t *s, const char *where,
		const char *const *allowed);
/* Checks s is a group; reports "WHERE: expected a group ..." otherwise. */
bool expect_group(struct pctx *c, const config_setting_t *s, const char *where);
/* Checks s is an array or a list (a libconfig array holds one scalar type,
 * a list any); reports otherwise. */
bool expect_seq(struct pctx *c, const config_setting_t *s, const char *where,
		const char *what);

/*
 * Typed reads of member key of group g (g may be NULL). Return 1 when read,
 * 0 when absent, -1 when present but wrong (already reported). where names
 * the setting's context in messages ("gateway", "unit \"finance\"").
 */
int read_str(struct pctx *c, const config_setting_t *g, const char *key,
	     const char *where, const char **out);
int read_int(struct pctx *c, const config_setting_t *g, const char *key,
	     const char *where, long long lo, long long hi, long long *out);
int read_bool(struct pctx *c, const config_setting_t *g, const char *key,
	      const char *where, bool *out);
int read_number(struct pctx *c, const config_setting_t *g, const char *key,
		const char *where, double lo, double hi, double *out);
/* String among names (NULL-ended); *out = its index. */
int read_enum(struct pctx *c, const config_setting_t *g, const char *key,
	      const char *where, const char *const *names, int *out);
/* Array or list of IP addresses / CIDRs; hosts_only rejects prefixes.
 * empty_ok false reports an empty list. */
int read_prefixes(struct pctx *c, const config_setting_t *g, const char *key,
		  const char *where, bool hosts_only, bool empty_ok,
		  struct egw_prefix_list *out, struct egw_loc **locs);
/* "line 12" when first is in the file of here, else "file:12"; into buf. */
const char *loc_ref(const struct egw_loc *first, const struct egw_loc *here,
		    char *buf, size_t cap);
/* Writes "a, b, c" of names into buf. */
char *join_names(const char *const *names, char *buf, size_t cap);
/* Writes "\"a\", \"b\"" of the names of n structs at base (each stride
 * bytes, the name pointer first), or "none defined". */
void list_names(char *buf, size_t cap, size_t n, const void *base, size_t stride);
/* The name of list element e (a unit, profile or category; kind says which):
 * reports a missing, malformed or duplicate name, comparing with the n
 * elements before at prev (the name pointer first; loc at loc_off). */
char *element_name(struct pctx *c, const config_setting_t *e, const char *where,
		   const char *kind, const void *prev, size_t n, size_t stride,
		   size_t loc_off);
/* A name of a unit, profile or category: 1..64 of [A-Za-z0-9._-]. */
bool name_ok(const char *s);

/* policy_path.c */
/* Absolute, lexically normalised path of rel against dir (rel may already be
 * absolute). NULL on ENOMEM. */
char *path_resolve(struct pctx *c, const char *dir, const char *rel);

/* Sections, in the order egw_policy_load reads them. */
void parse_gateway(struct pctx *c, const config_setting_t *s);
void parse_terminals_cfg(struct pctx *c, const config_setting_t *s);
void parse_log(struct pctx *c, const config_setting_t *s);
void parse_geo_cfg(struct pctx *c, const config_setting_t *s);
void parse_categories(struct pctx *c, const config_setting_t *s);
void parse_profiles(struct pctx *c, const config_setting_t *s);
void parse_units(struct pctx *c, const config_setting_t *s);
void parse_dns(struct pctx *c, const config_setting_t *s);
void check_units(struct pctx *c);

/* policy_geo.c: geo classes used by rules and dns.resolver_regions. */
/* Parse the geo class setting s into *ref; 0 or -1 (reported). */
int geo_use(struct pctx *c, const config_setting_t *s, const char *where,
	    struct egw_geo_ref *ref);
/* Read an array/list of geo classes. */
int read_geo_refs(struct pctx *c, const config_setting_t *g, const char *key,
		  const char *where, struct egw_geo_ref **out, size_t *n);
/* After all sections: require geo when classes are used, then compile. */
void geo_finish(struct pctx *c);

#endif
