/* SPDX-License-Identifier: MIT */
/*
 * The geo compiler: see egw/geo.h.
 *
 * One walk of the search tree (geo_walk.c). Each distinct data record is
 * decoded once (cached by its data-section offset, as many networks share
 * one record): its country and region fields are read with MMDB_aget_value
 * and matched against every requested class; each network is then appended
 * to the prefix lists of the classes its record matched (geo_plist.c merges
 * as it goes). The countries and country/region pairs seen are kept for the
 * error message of a class the database cannot produce.
 */
#include <egw/geo.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "geo_internal.h"

#define DEFAULT_COUNTRY_FIELD "country.iso_code"
#define DEFAULT_REGION_FIELD "subdivisions.0.iso_code"
#define LIST_MAX 40 /* values named in an error message */

/* ---- a set of byte strings, upper-cased on insertion ---- */

struct skey {
	char *s;           /* upper case: the key */
	size_t len;
	char *shown;       /* as first seen in the database, same length */
};

struct strset {
	struct skey *keys; /* insertion order */
	size_t n, cap;
	uint32_t *slots;   /* index + 1, 0 = free */
	size_t nslots;     /* power of two */
};

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int strset_grow(struct strset *set)
{
	size_t nslots = set->nslots ? set->nslots * 2 : 64;
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < set->n; i++) {
		size_t j = hash_bytes(set->keys[i].s, set->keys[i].len) & (nslots - 1);
		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = (uint32_t)(i + 1);
	}
	free(set->slots);
	set->slots = slots;
	set->nslots = nslots;
	return 0;
}

/* Adds s (already upper case; as the database writes it: shown) unless
 * present. 0 or -1 (ENOMEM). */
static int strset_add(struct strset *set, const char *s, const char *shown,
		      size_t len)
{
	if ((set->n + 1) * 2 > set->nslots && strset_grow(set) < 0)
		return -1;
	size_t j = hash_bytes(s, len) & (set->nslots - 1);
	while (set->slots[j]) {
		const struct skey *k = &set->keys[set->slots[j] - 1];
		if (k->len == len && memcmp(k->s, s, len) == 0)
			return 0;
		j = (j + 1) & (set->nslots - 1);
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 32;
		struct skey *keys = realloc(set->keys, cap * sizeof(*keys));
		if (!keys)
			return -1;
		set->keys = keys;
		set->cap = cap;
	}
	char *copy = malloc(2 * (len + 1));
	if (!copy)
		return -1;
	memcpy(copy, s, len);
	copy[len] = '\0';
	memcpy(copy + len + 1, shown, len);
	copy[2 * len + 1] = '\0';
	set->keys[set->n] = (struct skey){ copy, len, copy + len + 1 };
	set->slots[j] = (uint32_t)(++set->n);
	return 0;
}

static bool strset_has(const struct strset *set, const char *s, size_t len)
{
	if (!set->nslots)
		return false;
	size_t j = hash_bytes(s, len) & (set->nslots - 1);
	while (set->slots[j]) {
		const struct skey *k = &set->keys[set->slots[j] - 1];
		if (k->len == len && memcmp(k->s, s, len) == 0)
			return true;
		j = (j + 1) & (set->nslots - 1);
	}
	return false;
}

static void strset_free(struct strset *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->keys[i].s);
	free(set->keys);
	free(set->slots);
	*set = (struct strset){ 0 };
}

/* ---- decoded records, by data-section offset ---- */

struct rec {
	uint32_t offset;
	uint32_t first;    /* into ctx.matches */
	uint32_t n;        /* classes this record belongs to */
};

struct ctx {
	struct egw_geo_class *classes;
	size_t n_classes;
	const char *const *cpath, *const *rpath;
	struct egw_geo_plist *v4, *v6;   /* n_classes each */

	struct rec *recs;            /* open addressing on offset; n = 0: free */
	bool *used;
	size_t nrecs, nslots;
	uint32_t *matches;
	size_t nmatch, capmatch;

	struct strset countries;     /* "CN" */
	struct strset pairs;         /* "CN\0GD" */
	bool oom;
	bool corrupt;
	char why[256];
};

static char ascii_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static bool eq_fold(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (ascii_upper(a[i]) != ascii_upper(b[i]))
			return false;
	return true;
}

static uint64_t hash_u32(uint32_t x)
{
	return (uint64_t)x * 0x9E3779B97F4A7C15ull >> 20;
}

static int recs_grow(struct ctx *c)
{
	size_t nslots = c->nslots ? c->nslots * 2 : 1024;
	struct rec *recs = calloc(nslots, sizeof(*recs));
	bool *used = calloc(nslots, sizeof(*used));
	if (!recs || !used) {
		free(recs);
		free(used);
		return -1;
	}
	for (size_t i = 0; i < c->nslots; i++) {
		if (!c->used[i])
			continue;
		size_t j = hash_u32(c->recs[i].offset) & (nslots - 1);
		while (used[j])
			j = (j + 1) & (nslots - 1);
		recs[j] = c->recs[i];
		used[j] = true;
	}
	free(c->recs);
	free(c->used);
	c->recs = recs;
	c->used = used;
	c->nslots = nslots;
	return 0;
}

/*
 * Read the string at path in the record: 1 (with s and len), 0 when it
 * has no string there, -1 when the record cannot be decoded.
 */
static int field(struct ctx *c, const MMDB_entry_s *entry,
		 const char *const *path, const char **s, size_t *len)
{
	MMDB_entry_s start = *entry;
	MMDB_entry_data_s d;
	int rc = MMDB_aget_value(&start, &d, path);
	if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
	    rc == MMDB_INVALID_LOOKUP_PATH_ERROR)
		return 0;
	if (rc != MMDB_SUCCESS) {
		snprintf(c->why, sizeof(c->why),
			 "corrupt data record at offset %u: %s", entry->offset,
			 MMDB_strerror(rc));
		c->corrupt = true;
		return -1;
	}
	if (!d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING || !d.data_size)
		return 0; /* no string, or an empty one ("state1": "") */
	*s = d.utf8_string;
	*len = d.data_size;
	return 1;
}

static int push_match(struct ctx *c, uint32_t cls)
{
	if (c->nmatch == c->capmatch) {
		size_t cap = c->capmatch ? c->capmatch * 2 : 64;
		uint32_t *m = realloc(c->matches, cap * sizeof(*m));
		if (!m)
			return -1;
		c->matches = m;
		c->capmatch = cap;
	}
	c->matches[c->nmatch++] = cls;
	return 0;
}

/* Decode the record at entry and note which classes it belongs to. */
static int decode(struct ctx *c, const MMDB_entry_s *entry, struct rec *out)
{
	const char *cs = NULL, *rs = NULL;
	size_t clen = 0, rlen = 0;
	int hc = field(c, entry, c->cpath, &cs, &clen);
	if (hc < 0)
		return -1;
	int hr = hc ? field(c, entry, c->rpath, &rs, &rlen) : 0;
	if (hr < 0)
		return -1;

	out->offset = entry->offset;
	out->first = (uint32_t)c->nmatch;
	out->n = 0;
	if (!hc)
		return 0;

	/* Remember what the database has, for error messages: keys upper
	 * case, shown as written. */
	size_t keylen = clen + (hr ? 1 + rlen : 0);
	char *key = malloc(2 * keylen + 2);
	if (!key)
		goto oom;
	char *shown = key + keylen + 1;
	memcpy(shown, cs, clen);
	if (hr) {
		shown[clen] = '\0';
		memcpy(shown + clen + 1, rs, rlen);
	}
	for (size_t i = 0; i < keylen; i++)
		key[i] = ascii_upper(shown[i]);
	if (strset_add(&c->countries, key, shown, clen) < 0 ||
	    (hr && strset_add(&c->pairs, key, shown, keylen) < 0)) {
		free(key);
		goto oom;
	}
	free(key);

	for (size_t i = 0; i < c->n_classes; i++) {
		const struct egw_geo_class *k = &c->classes[i];
		if (!eq_fold(cs, clen, k->country))
			continue;
		if (k->region[0] && !(hr && eq_fold(rs, rlen, k->region)))
			continue;
		if (push_match(c, (uint32_t)i) < 0)
			goto oom;
		out->n++;
	}
	return 0;

oom:
	c->oom = true;
	return -1;
}

static const struct rec *lookup(struct ctx *c, const MMDB_entry_s *entry)
{
	if ((c->nrecs + 1) * 2 > c->nslots && recs_grow(c) < 0) {
		c->oom = true;
		return NULL;
	}
	size_t j = hash_u32(entry->offset) & (c->nslots - 1);
	while (c->used[j]) {
		if (c->recs[j].offset == entry->offset)
			return &c->recs[j];
		j = (j + 1) & (c->nslots - 1);
	}
	if (decode(c, entry, &c->recs[j]) < 0)
		return NULL;
	c->used[j] = true;
	c->nrecs++;
	return &c->recs[j];
}

static int on_leaf(void *arg, const struct egw_prefix *p, const MMDB_entry_s *entry)
{
	struct ctx *c = arg;
	const struct rec *r = lookup(c, entry);
	if (!r)
		return -1;
	for (uint32_t i = 0; i < r->n; i++) {
		uint32_t k = c->matches[r->first + i];
		struct egw_geo_plist *l = p->family == AF_INET ? &c->v4[k] : &c->v6[k];
		if (egw_geo_plist_append(l, p) < 0) {
			c->oom = true;
			return -1;
		}
	}
	return 0;
}

/* ---- field paths ---- */

/* "a.b.0.c" -> { "a", "b", "0", "c", NULL } in one allocation; NULL when
 * the path is empty or has an empty component (errno EINVAL) or ENOMEM. */
static char **split_path(const char *path)
{
	size_t n = strlen(path), parts = 1;
	if (n == 0) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		parts += path[i] == '.';
	char **v = malloc((parts + 1) * sizeof(*v) + n + 1);
	if (!v)
		return NULL;
	char *buf = (char *)(v + parts + 1);
	memcpy(buf, path, n + 1);
	size_t k = 0;
	for (char *s = buf;;) {
		char *dot = strchr(s, '.');
		if (dot)
			*dot = '\0';
		if (!*s) {
			free(v);
			errno = EINVAL;
			return NULL;
		}
		v[k++] = s;
		if (!dot)
			break;
		s = dot + 1;
	}
	v[k] = NULL;
	return v;
}

/* ---- error messages ---- */

/* Write a database value for a message: no control bytes, at most 64. */
static void put_value(FILE *f, const char *s, size_t len)
{
	size_t n = len > 64 ? 64 : len;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, f);
	}
	if (n < len)
		fputs("...", f);
}

static int cmp_skey(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int r = memcmp(x->s, y->s, n);
	return r ? r : (x->len > y->len) - (x->len < y->len);
}

static void report_class(struct ctx *c, const struct egw_geo_class *k,
			 const char *cfield, const char *rfield,
			 struct egw_diag *diag)
{
	char *msg = NULL;
	size_t msglen = 0;
	FILE *f = open_memstream(&msg, &msglen);
	if (!f) {
		egw_diag_error(diag, k->loc.file, k->loc.line,
			       "geo class %s: the database has no such networks", k->code);
		return;
	}
	fprintf(f, "geo class %s: ", k->code);
	size_t clen = strlen(k->country);
	if (!strset_has(&c->countries, k->country, clen)) {
		fprintf(f, "the database has no country %s", k->country);
		if (c->countries.n == 0)
			fprintf(f, " (no record has a string at \"%s\"; "
				"check geo.country_field)", cfield);
	} else {
		fprintf(f, "the database has no region %s for %s", k->region,
			k->country);
		struct skey *regions = malloc(c->pairs.n * sizeof(*regions) + 1);
		size_t nr = 0;
		for (size_t i = 0; regions && i < c->pairs.n; i++) {
			const struct skey *p = &c->pairs.keys[i];
			if (p->len > clen && memcmp(p->s, k->country, clen) == 0 &&
			    p->s[clen] == '\0')
				regions[nr++] = (struct skey){
					p->s + clen + 1, p->len - clen - 1,
					p->shown + clen + 1 };
		}
		if (nr == 0) {
			fprintf(f, " (no record of %s has a string at \"%s\"; "
				"check geo.region_field)", k->country, rfield);
		} else {
			qsort(regions, nr, sizeof(*regions), cmp_skey);
			fputs(" (it has: ", f);
			for (size_t i = 0; i < nr && i < LIST_MAX; i++) {
				if (i)
					fputs(", ", f);
				put_value(f, regions[i].shown, regions[i].len);
			}
			if (nr > LIST_MAX)
				fprintf(f, ", ... %zu in all", nr);
			fputc(')', f);
		}
		free(regions);
	}
	if (fclose(f) != 0 || !msg) {
		free(msg);
		egw_diag_error(diag, k->loc.file, k->loc.line,
			       "geo class %s: the database has no such networks", k->code);
		return;
	}
	egw_diag_error(diag, k->loc.file, k->loc.line, "%s", msg);
	free(msg);
}

/* ---- the compiler ---- */

static void db_error(struct egw_diag *diag, const struct egw_loc *dbloc,
		     const char *path, const char *what)
{
	egw_diag_error(diag, dbloc ? dbloc->file : NULL, dbloc ? dbloc->line : 0,
		       "geo database %s: %s", path, what);
}

/* Checks libmaxminddb leaves to lookups; NULL when the file looks sane. */
static const char *check_metadata(const MMDB_s *db)
{
	const MMDB_metadata_s *m = &db->metadata;
	if (m->binary_format_major_version != 2)
		return "unsupported binary format version (not 2)";
	if (m->ip_version != 4 && m->ip_version != 6)
		return "ip_version is neither 4 nor 6";
	if (m->record_size != 24 && m->record_size != 28 && m->record_size != 32)
		return "record size is not 24, 28 or 32 bits";
	if (db->file_size <= 0 ||
	    (uint64_t)m->node_count * db->full_record_byte_size > (uint64_t)db->file_size)
		return "node count is larger than the file (corrupt metadata)";
	return NULL;
}

int egw_geo_compile(const char *db_path, const char *country_field,
		    const char *region_field, struct egw_geo_class *classes,
		    size_t n_classes, const struct egw_loc *dbloc,
		    struct egw_diag *diag)
{
	char buf[512];
	int ret = -1;
	struct ctx c = { .classes = classes, .n_classes = n_classes };
	char **cpath = NULL, **rpath = NULL;
	MMDB_s db;
	bool opened = false;

	for (size_t i = 0; i < n_classes; i++) {
		classes[i].v4 = (struct egw_prefix_list){ 0 };
		classes[i].v6 = (struct egw_prefix_list){ 0 };
	}
	if (!country_field)
		country_field = DEFAULT_COUNTRY_FIELD;
	if (!region_field)
		region_field = DEFAULT_REGION_FIELD;
	if (!db_path || !*db_path) {
		egw_diag_error(diag, dbloc ? dbloc->file : NULL,
			       dbloc ? dbloc->line : 0, "geo: no database given");
		return -1;
	}

	cpath = split_path(country_field);
	rpath = split_path(region_field);
	if (!cpath || !rpath) {
		if (errno == ENOMEM) {
			db_error(diag, dbloc, db_path, "out of memory");
		} else {
			snprintf(buf, sizeof(buf),
				 "field path \"%s\" is not a dotted path (\"a.b.0.c\")",
				 cpath ? region_field : country_field);
			db_error(diag, dbloc, db_path, buf);
		}
		goto out;
	}
	c.cpath = (const char *const *)cpath;
	c.rpath = (const char *const *)rpath;

	/* Clearer words than mmap's for two common mistakes. */
	struct stat st;
	if (stat(db_path, &st) == 0 && (S_ISDIR(st.st_mode) || st.st_size == 0)) {
		db_error(diag, dbloc, db_path, S_ISDIR(st.st_mode) ?
			 "is a directory, not a MaxMind DB file" :
			 "is empty, not a MaxMind DB file");
		goto out;
	}
	int err = MMDB_open(db_path, MMDB_MODE_MMAP, &db);
	if (err != MMDB_SUCCESS) {
		int e = errno;
		if (err == MMDB_FILE_OPEN_ERROR || err == MMDB_IO_ERROR)
			snprintf(buf, sizeof(buf), "cannot open: %s", strerror(e));
		else if (err == MMDB_OUT_OF_MEMORY_ERROR)
			snprintf(buf, sizeof(buf), "out of memory");
		else /* bad metadata, unknown format, bad data or tree */
			snprintf(buf, sizeof(buf),
				 "not a MaxMind DB file, or a corrupt one (%s)",
				 MMDB_strerror(err));
		db_error(diag, dbloc, db_path, buf);
		goto out;
	}
	opened = true;
	const char *bad = check_metadata(&db);
	if (bad) {
		db_error(diag, dbloc, db_path, bad);
		goto out;
	}

	c.v4 = calloc(n_classes + 1, sizeof(*c.v4));
	c.v6 = calloc(n_classes + 1, sizeof(*c.v6));
	if (!c.v4 || !c.v6) {
		db_error(diag, dbloc, db_path, "out of memory");
		goto out;
	}

	const char *why = NULL;
	int rc = egw_geo_walk(&db, on_leaf, &c, buf, sizeof(buf), &why);
	if (rc == -1) {
		db_error(diag, dbloc, db_path, why);
		goto out;
	}
	if (rc == -2) {
		db_error(diag, dbloc, db_path, c.oom ? "out of memory" : c.why);
		goto out;
	}

	ret = 0;
	for (size_t i = 0; i < n_classes; i++) {
		if (egw_geo_plist_finish(&c.v4[i], &classes[i].v4) < 0 ||
		    egw_geo_plist_finish(&c.v6[i], &classes[i].v6) < 0) {
			db_error(diag, dbloc, db_path, "out of memory");
			ret = -1;
			break;
		}
		if (classes[i].v4.n == 0 && classes[i].v6.n == 0) {
			report_class(&c, &classes[i], country_field, region_field, diag);
			ret = -1;
		}
	}

out:
	if (ret < 0)
		egw_geo_release(classes, n_classes);
	if (c.v4 && c.v6) {
		for (size_t i = 0; i < n_classes; i++) {
			egw_geo_plist_free(&c.v4[i]);
			egw_geo_plist_free(&c.v6[i]);
		}
	}
	free(c.v4);
	free(c.v6);
	free(c.recs);
	free(c.used);
	free(c.matches);
	strset_free(&c.countries);
	strset_free(&c.pairs);
	free(cpath);
	free(rpath);
	if (opened)
		MMDB_close(&db);
	return ret;
}

void egw_geo_release(struct egw_geo_class *classes, size_t n_classes)
{
	for (size_t i = 0; i < n_classes; i++) {
		free(classes[i].v4.v);
		free(classes[i].v6.v);
		classes[i].v4 = (struct egw_prefix_list){ 0 };
		classes[i].v6 = (struct egw_prefix_list){ 0 };
	}
}
