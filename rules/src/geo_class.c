/* SPDX-License-Identifier: MIT */
/*
 * Geo class syntax (see egw/geo.h and docs/extensions.md):
 *   [!]CC[-REGION]
 * CC is a two-letter country code; REGION is what the database's region
 * field holds ("GD", "22", "Guangdong", "Inner Mongolia"): 1 to
 * EGW_GEO_REGION_MAX (127) bytes, no control characters, no leading or
 * trailing space, inner spaces written as they are. ASCII letters are
 * folded to upper case.
 */
#include <egw/geo.h>

#include <string.h>

_Static_assert(EGW_GEO_REGION_MAX == 127, "update the message below");

static char ascii_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static bool ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int egw_geo_class_parse(const char *s, struct egw_geo_class *out, bool *negate,
			const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	memset(out, 0, sizeof(*out));
	if (negate)
		*negate = false;
	if (!s || !*s) {
		*why = "empty geo class";
		return -1;
	}
	if (*s == '!') {
		if (!negate) {
			*why = "negation (\"!\") is not allowed here";
			return -1;
		}
		*negate = true;
		s++;
	}
	if (!ascii_alpha(s[0]) || !ascii_alpha(s[1]) || (s[2] && s[2] != '-')) {
		*why = "a geo class is a two-letter country code, optionally "
		       "followed by -REGION (\"CN\", \"CN-GD\", \"!CN\")";
		return -1;
	}
	out->country[0] = ascii_upper(s[0]);
	out->country[1] = ascii_upper(s[1]);
	out->country[2] = '\0';
	if (s[2] == '-') {
		const char *r = s + 3;
		size_t n = strlen(r);
		if (n == 0) {
			*why = "empty region after \"-\"";
			return -1;
		}
		if (n > EGW_GEO_REGION_MAX) {
			*why = "region is longer than 127 bytes";
			return -1;
		}
		if (r[0] == ' ' || r[n - 1] == ' ') {
			*why = "region starts or ends with a space";
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)r[i];
			if (c < 0x20 || c == 0x7f) {
				*why = "region contains a control character";
				return -1;
			}
			out->region[i] = ascii_upper(r[i]);
		}
		out->region[n] = '\0';
	}
	memcpy(out->code, out->country, 2);
	if (out->region[0]) {
		out->code[2] = '-';
		memcpy(out->code + 3, out->region, strlen(out->region) + 1);
	} else {
		out->code[2] = '\0';
	}
	return 0;
}
