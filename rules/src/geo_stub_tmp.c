/* SPDX-License-Identifier: MIT */
/*
 * TEMPORARY (parser branch): weak stand-ins for the geo compiler until
 * developer geo's rules/src/geo.c is merged; the real definitions override
 * these. Deleted before the parser branch's final commit.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <maxminddb.h>

#include <egw/geo.h>

__attribute__((weak))
int egw_geo_class_parse(const char *s, struct egw_geo_class *out, bool *negate,
			const char **why)
{
	memset(out, 0, sizeof(*out));
	*negate = false;
	if (*s == '!') {
		*negate = true;
		s++;
	}
	size_t n = strlen(s);
	if (n < 2 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]) ||
	    (n > 2 && (s[2] != '-' || n < 4 || n > 2 + 1 + 3))) {
		*why = "not a geo class";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		out->code[i] = (char)toupper((unsigned char)s[i]);
	memcpy(out->country, out->code, 2);
	if (n > 2)
		memcpy(out->region, out->code + 3, n - 3);
	return 0;
}

__attribute__((weak))
int egw_geo_compile(const char *db_path, const char *country_field,
		    const char *region_field, struct egw_geo_class *classes,
		    size_t n_classes, const struct egw_loc *dbloc,
		    struct egw_diag *diag)
{
	(void)country_field;
	(void)region_field;
	(void)classes;
	(void)n_classes;
	MMDB_s mmdb;
	int r = MMDB_open(db_path, MMDB_MODE_MMAP, &mmdb);
	if (r != MMDB_SUCCESS) {
		egw_diag_error(diag, dbloc->file, dbloc->line, "geo.database: %s: %s",
			       db_path, MMDB_strerror(r));
		return -1;
	}
	MMDB_close(&mmdb);
	return 0;
}

__attribute__((weak))
void egw_geo_release(struct egw_geo_class *classes, size_t n_classes)
{
	for (size_t i = 0; i < n_classes; i++) {
		free(classes[i].v4.v);
		free(classes[i].v6.v);
		classes[i].v4.v = classes[i].v6.v = NULL;
		classes[i].v4.n = classes[i].v6.n = 0;
	}
}
