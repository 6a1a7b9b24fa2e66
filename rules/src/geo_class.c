/* SPDX-License-Identifier: MIT */
/*
 * Geo class syntax (see egw/geo.h and docs/extensions.md):
 *   [!]CC[-REGION]
 * CC is a two-letter country code; REGION is what the database's region
 * field holds ("GD", "22", "Guangdong", "Inner Mongolia", "Provence-Alpes-
 * Côte d'Azur"): 1 to EGW_GEO_REGION_MAX (127) bytes of well-formed UTF-8
 * whose ASCII characters are letters, digits, spaces and ' ( ) , - . / _
 * (all that real databases use; nothing that needs quoting in an nftables
 * comment, a log line or JSON), no leading or trailing space. ASCII letters
 * are folded to upper case.
 */
#include <egw/geo.h>

#include <string.h>

_Static_assert(EGW_GEO_REGION_MAX == 127, "update the message below");

static char ascii_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static bool region_ascii_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr(" '(),-./_", c);
}

/* Length of the well-formed UTF-8 sequence at s (a lead byte >= 0x80), or
 * 0 when it is not one (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned min, cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, min = 0x80, cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, min = 0x800, cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
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
		const unsigned char *u = (const unsigned char *)r;
		for (size_t i = 0; i < n;) {
			if (u[i] >= 0x80) {
				size_t len = utf8_seq(u + i);
				if (!len) {
					*why = "region is not valid UTF-8";
					return -1;
				}
				memcpy(out->region + i, r + i, len);
				i += len;
				continue;
			}
			if (!region_ascii_ok(u[i])) {
				*why = "a region may contain letters, digits, spaces "
				       "and ' ( ) , - . / _ only";
				return -1;
			}
			out->region[i] = ascii_upper(r[i]);
			i++;
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
