/* SPDX-License-Identifier: MIT */
/* Domain-name validation: see egw/domain_set.h (egw_domain_check). */
#include <egw/domain_set.h>

#include <stdio.h>
#include <string.h>

#include "name_check.h"

#define LABEL_MAX 63
#define NAME_MAX_LEN 253

static _Thread_local char why_buf[200];

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Quote s[0..len) into dst for a message: printable ASCII as is, other bytes
 * as \xNN, cut with "..." when long. */
static void quote(char *dst, size_t cap, const char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? 1 : 4;
		if (o + need + 4 >= cap) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1)
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
	}
	dst[o] = '\0';
}

enum label_fault { LF_LONG, LF_CHAR, LF_HYPHEN_START, LF_HYPHEN_END, LF_DIGITS };

static int fail_label(const char **why, enum label_fault f, const char *label,
		      size_t len, unsigned char bad)
{
	if (!why)
		return -1;
	char q[80], b[16];
	quote(q, sizeof(q), label, len);
	if (bad >= 0x20 && bad < 0x7f)
		snprintf(b, sizeof(b), "'%c'", bad);
	else
		snprintf(b, sizeof(b), "byte \\x%02x", bad);
	switch (f) {
	case LF_LONG:
		snprintf(why_buf, sizeof(why_buf),
			 "label \"%s\" is %zu characters long, more than %d",
			 q, len, LABEL_MAX);
		break;
	case LF_CHAR:
		snprintf(why_buf, sizeof(why_buf),
			 "label \"%s\" has %s, which is not a letter, digit, '-' or '_'",
			 q, b);
		break;
	case LF_HYPHEN_START:
		snprintf(why_buf, sizeof(why_buf), "label \"%s\" starts with '-'", q);
		break;
	case LF_HYPHEN_END:
		snprintf(why_buf, sizeof(why_buf), "label \"%s\" ends with '-'", q);
		break;
	case LF_DIGITS:
		snprintf(why_buf, sizeof(why_buf),
			 "last label \"%s\" is all digits (an IP address belongs in addresses, not domains)",
			 q);
		break;
	}
	*why = why_buf;
	return -1;
}

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -1;
}

int egw_name_check(const char *s, size_t len, bool numeric_tld, const char **why)
{
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0)
		return fail(why, "empty domain name");
	if (len >= 2 && s[0] == '*' && s[1] == '.')
		return fail(why, "wildcard \"*.\" not needed: a domain already "
				 "matches every name below it");
	if (len > NAME_MAX_LEN) {
		if (why) {
			snprintf(why_buf, sizeof(why_buf),
				 "domain name is %zu characters long, more than %d",
				 len, NAME_MAX_LEN);
			*why = why_buf;
		}
		return -1;
	}
	size_t start = 0;
	bool all_digits = true;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (s[i] < '0' || s[i] > '9')
				all_digits = false;
			continue;
		}
		const char *label = s + start;
		size_t n = i - start;
		if (n == 0)
			return fail(why, start == 0 ?
				    "domain name starts with '.' (empty label)" :
				    "empty label (two dots in a row)");
		if (n > LABEL_MAX)
			return fail_label(why, LF_LONG, label, n, 0);
		for (size_t k = 0; k < n; k++)
			if (!label_char(label[k]))
				return fail_label(why, LF_CHAR, label, n,
						  (unsigned char)label[k]);
		if (label[0] == '-')
			return fail_label(why, LF_HYPHEN_START, label, n, 0);
		if (label[n - 1] == '-')
			return fail_label(why, LF_HYPHEN_END, label, n, 0);
		if (i == len && all_digits && !numeric_tld)
			return fail_label(why, LF_DIGITS, label, n, 0);
		start = i + 1;
		all_digits = true;
	}
	return 0;
}

int egw_domain_check(const char *domain, const char **why)
{
	if (!domain)
		return fail(why, "no domain name");
	return egw_name_check(domain, strlen(domain), false, why);
}
