/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x request Host extraction from the first bytes of a TCP stream.
 * Bounds-checked; thread-safe; no allocation.
 */
#ifndef EGW_HTTP_HOST_H
#define EGW_HTTP_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum egw_http_host_result {
	EGW_HOST_FOUND = 1,      /* host (lower case, port stripped) in out */
	EGW_HOST_ABSENT = 0,     /* complete header block without Host */
	EGW_HOST_NOT_HTTP = -1,  /* does not start with an HTTP/1.x request line */
	EGW_HOST_INCOMPLETE = -2,/* headers continue past len */
	EGW_HOST_MALFORMED = -3,
};

/*
 * out must hold cap >= 256 bytes. An answer (FOUND/ABSENT) needs the whole
 * header block. The host is that of an absolute-form target or CONNECT's
 * authority when present (RFC 9112 3.2.2), else the Host header; lower case,
 * port and one trailing dot stripped; an IPv6 literal without its brackets
 * ("2001:db8::1", as written); an IPv4 address as written. MALFORMED: two
 * Host headers with different values, obs-fold, whitespace before a colon,
 * control bytes, userinfo, a host that is not a valid name or address.
 * Lines may end in CRLF or LF. Details: rules/src/http_host.c.
 */
int egw_http_host(const uint8_t *data, size_t len, char *out, size_t cap);

/*
 * Whether byte c is an RFC 9110 token character (tchar: ALPHA, DIGIT,
 * "!#$%&'*+-.^_`|~"), as a bitmap of the ASCII bytes. A request line starts
 * with one (the method): egw_http_host gives EGW_HOST_NOT_HTTP for any data
 * whose first byte is not, so a caller may skip the call on that byte.
 */
static inline bool egw_http_tchar(uint8_t c)
{
	static const uint64_t map[2] = { 0x03ff6cfa00000000ull, 0x57ffffffc7fffffeull };
	return c < 128 && (map[c >> 6] >> (c & 63)) & 1;
}

#endif
