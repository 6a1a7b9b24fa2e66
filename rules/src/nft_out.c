/* SPDX-License-Identifier: MIT */
/* The nft back end's text buffer and the rules for what may go into it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft_priv.h"

static bool reserve(struct nft_out *o, size_t more)
{
	if (o->oom)
		return false;
	if (o->len + more + 1 <= o->cap)
		return true;
	size_t cap = o->cap ? o->cap : 4096;
	while (cap < o->len + more + 1)
		cap *= 2;
	char *b = realloc(o->buf, cap);
	if (!b) {
		o->oom = true;
		return false;
	}
	o->buf = b;
	o->cap = cap;
	return true;
}

static void __attribute__((format(printf, 2, 0)))
vappend(struct nft_out *o, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		o->oom = true;
		return;
	}
	if (!reserve(o, (size_t)n))
		return;
	vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, ap);
	o->len += (size_t)n;
}

void nft_printf(struct nft_out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vappend(o, fmt, ap);
	va_end(ap);
}

void nft_puts(struct nft_out *o, const char *s)
{
	size_t n = strlen(s);
	if (!reserve(o, n))
		return;
	memcpy(o->buf + o->len, s, n + 1);
	o->len += n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned min;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2; cp = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; cp = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; cp = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *nft_sanitize(const char *s, char *buf, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t w = 0;
	while (*u) {
		size_t n = utf8_len(u);
		if (n == 0) {
			/* invalid byte */
			if (w + 1 >= cap)
				break;
			buf[w++] = '?';
			u++;
			continue;
		}
		if (w + n >= cap)
			break; /* never cut a character */
		if (n == 1) {
			char ch = (char)*u;
			if (*u < 0x20 || *u == 0x7f)
				ch = ' ';
			else if (ch == '"')
				ch = '\'';
			buf[w++] = ch;
		} else {
			memcpy(buf + w, u, n);
			w += n;
		}
		u += n;
	}
	buf[w] = '\0';
	return buf;
}

void nft_comment(struct nft_out *o, const char *fmt, ...)
{
	char raw[512], safe[NFT_COMMENT_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	nft_printf(o, "comment \"%s\"", nft_sanitize(raw, safe, sizeof(safe)));
}

bool nft_identifier_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

bool nft_ifname_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 15)
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '/' || c == '\\' ||
		    c == '$' || c == '*')
			return false;
	}
	return true;
}
