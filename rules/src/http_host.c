/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x request Host extraction: see egw/http_host.h.
 *
 * Grammar: RFC 9112 (request line 3, fields 5, target forms 3.2) and RFC 9110
 * (Host 7.2). The whole header block must be present for an answer, because
 * a later Host line can change it. Choices, all aimed at seeing the host the
 * origin server will see and refusing what two parsers could read two ways:
 *  - lines end in CRLF or a bare LF (as common servers accept); a CR
 *    anywhere else is MALFORMED;
 *  - obs-fold (a line starting with SP/HTAB), whitespace before the colon,
 *    a field line without a colon, control characters in a value: MALFORMED;
 *  - several Host lines whose values differ (case-insensitively) are
 *    MALFORMED (request smuggling); identical repeats are accepted;
 *  - the target's authority wins over Host for absolute-form targets
 *    ("GET http://h/ HTTP/1.1", RFC 9112 3.2.2) and CONNECT's authority-form;
 *    other targets must be origin-form ("/...") or "*";
 *  - the host is lower-cased, its port (":digits", possibly empty) and one
 *    trailing dot stripped; a name must pass the domain rules, or be an IPv4
 *    dotted quad when its last label is all digits; userinfo ("user@host") is MALFORMED; an IPv6 literal
 *    "[2001:DB8::1]:80" is reported without brackets, lower-cased, as written
 *    (not re-canonicalised): "2001:db8::1". An empty Host is ABSENT.
 */
#include <egw/http_host.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "name_check.h"

#define METHOD_MAX 32
static const char version[] = "HTTP/1.";

/* RFC 9110 5.6.2 tchar (egw/http_host.h: a bitmap). */
static inline bool tchar(uint8_t c)
{
	return egw_http_tchar(c);
}

static bool ci_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (egw_lower((char)a[i]) != egw_lower((char)b[i]))
			return false;
	return true;
}

struct span {
	const uint8_t *p;
	size_t n;
};

/*
 * Request line: METHOD SP target SP HTTP/1.d (CR) LF. Returns 0 and the
 * offset past the line in *end, or NOT_HTTP / INCOMPLETE (a prefix that may
 * still become a request line).
 */
static int request_line(const uint8_t *d, size_t len, struct span *method,
			struct span *target, size_t *end)
{
	size_t i = 0;
	while (i < len && i <= METHOD_MAX && tchar(d[i]))
		i++;
	if (i > METHOD_MAX)
		return EGW_HOST_NOT_HTTP;
	if (i == len)
		return EGW_HOST_INCOMPLETE;
	if (i == 0 || d[i] != ' ')
		return EGW_HOST_NOT_HTTP;
	*method = (struct span){ d, i };
	size_t t = ++i;
	while (i < len && d[i] > 0x20 && d[i] != 0x7f)
		i++;
	if (i == len)
		return EGW_HOST_INCOMPLETE;
	if (i == t || d[i] != ' ')
		return EGW_HOST_NOT_HTTP;
	*target = (struct span){ d + t, i - t };
	i++;
	for (size_t k = 0; k < sizeof(version) - 1; k++, i++) {
		if (i == len)
			return EGW_HOST_INCOMPLETE;
		if (d[i] != (uint8_t)version[k])
			return EGW_HOST_NOT_HTTP;
	}
	if (i == len)
		return EGW_HOST_INCOMPLETE;
	if (d[i] < '0' || d[i] > '9')
		return EGW_HOST_NOT_HTTP;
	i++;
	if (i < len && d[i] == '\r')
		i++;
	if (i == len)
		return EGW_HOST_INCOMPLETE;
	if (d[i] != '\n')
		return EGW_HOST_NOT_HTTP;
	*end = i + 1;
	return 0;
}

/* Host from an authority "host[:port]" (no userinfo): into out. */
static int authority(const uint8_t *a, size_t n, char *out, size_t cap)
{
	if (n == 0)
		return EGW_HOST_ABSENT;
	const uint8_t *h = a;
	size_t hn;
	bool v6 = false;
	if (a[0] == '[') {
		const uint8_t *close = memchr(a, ']', n);
		if (!close)
			return EGW_HOST_MALFORMED;
		h = a + 1;
		hn = (size_t)(close - h);
		v6 = true;
	} else {
		const uint8_t *colon = memchr(a, ':', n);
		hn = colon ? (size_t)(colon - a) : n;
	}
	/* what follows the host: nothing, or ':' and digits */
	size_t rest = (size_t)(h - a) + hn + (v6 ? 1 : 0);
	if (rest < n) {
		if (a[rest] != ':' || n - rest - 1 > 5)
			return EGW_HOST_MALFORMED;
		for (size_t i = rest + 1; i < n; i++)
			if (a[i] < '0' || a[i] > '9')
				return EGW_HOST_MALFORMED;
	}
	if (hn == 0 || hn + 1 > cap)
		return EGW_HOST_MALFORMED;
	char tmp[256];
	if (hn >= sizeof(tmp))
		return EGW_HOST_MALFORMED;
	for (size_t i = 0; i < hn; i++)
		tmp[i] = egw_lower((char)h[i]);
	tmp[hn] = '\0';
	if (v6) {
		struct in6_addr dummy;
		if (inet_pton(AF_INET6, tmp, &dummy) != 1)
			return EGW_HOST_MALFORMED;
	} else {
		if (egw_name_check(tmp, hn, true, NULL) < 0)
			return EGW_HOST_MALFORMED;
		if (tmp[hn - 1] == '.')
			tmp[--hn] = '\0';
		/* a last label of digits: only a whole IPv4 address will do */
		const char *last = strrchr(tmp, '.');
		last = last ? last + 1 : tmp;
		if (strspn(last, "0123456789") == strlen(last)) {
			struct in_addr a4;
			if (inet_pton(AF_INET, tmp, &a4) != 1)
				return EGW_HOST_MALFORMED;
		}
	}
	memcpy(out, tmp, hn + 1);
	return EGW_HOST_FOUND;
}

/* The authority of an absolute-form target "scheme://authority[/?#...]". */
static int absolute_form(const uint8_t *t, size_t n, struct span *auth)
{
	size_t i = 0;
	if (n == 0 || !((t[0] | 0x20) >= 'a' && (t[0] | 0x20) <= 'z'))
		return EGW_HOST_MALFORMED;
	while (i < n && (((t[i] | 0x20) >= 'a' && (t[i] | 0x20) <= 'z') ||
			 (t[i] >= '0' && t[i] <= '9') || t[i] == '+' ||
			 t[i] == '-' || t[i] == '.'))
		i++;
	if (n - i < 3 || memcmp(t + i, "://", 3) != 0)
		return EGW_HOST_MALFORMED;
	i += 3;
	size_t s = i;
	while (i < n && t[i] != '/' && t[i] != '?' && t[i] != '#')
		i++;
	*auth = (struct span){ t + s, i - s };
	if (auth->n == 0)
		return EGW_HOST_MALFORMED;
	return 0;
}

/*
 * The request behind a first byte that may start a method. Out of line: a
 * stream that is not HTTP (most are told by their first byte) is turned
 * away by egw_http_host without setting up this frame.
 */
static __attribute__((noinline)) int host_parse(const uint8_t *data, size_t len,
						char *out, size_t cap)
{
	struct span method, target, host = { NULL, 0 };
	size_t pos;
	int rc = request_line(data, len, &method, &target, &pos);
	if (rc)
		return rc;
	bool have_host = false;
	for (;;) {
		const uint8_t *nl = memchr(data + pos, '\n', len - pos);
		if (!nl)
			return EGW_HOST_INCOMPLETE;
		const uint8_t *line = data + pos;
		size_t n = (size_t)(nl - line);
		pos += n + 1;
		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0)
			break; /* end of the header block */
		if (line[0] == ' ' || line[0] == '\t')
			return EGW_HOST_MALFORMED; /* obs-fold */
		size_t c = 0;
		while (c < n && tchar(line[c]))
			c++;
		if (c == 0 || c == n || line[c] != ':')
			return EGW_HOST_MALFORMED;
		size_t vs = c + 1, ve = n;
		while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
			vs++;
		while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
			ve--;
		for (size_t i = vs; i < ve; i++)
			if ((line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
				return EGW_HOST_MALFORMED;
		if (!ci_eq(line, c, (const uint8_t *)"host", 4))
			continue;
		struct span v = { line + vs, ve - vs };
		if (have_host && !ci_eq(v.p, v.n, host.p, host.n))
			return EGW_HOST_MALFORMED; /* two different Hosts */
		host = v;
		have_host = true;
	}
	/* the target's own authority, when it has one, is the host */
	struct span auth;
	if (method.n == 7 && memcmp(method.p, "CONNECT", 7) == 0) {
		auth = target;
	} else if (target.p[0] == '/' || (target.n == 1 && target.p[0] == '*')) {
		auth = host;
	} else {
		rc = absolute_form(target.p, target.n, &auth);
		if (rc)
			return rc;
	}
	if (!auth.p || auth.n == 0)
		return EGW_HOST_ABSENT;
	if (memchr(auth.p, '@', auth.n))
		return EGW_HOST_MALFORMED; /* userinfo: not in Host, deprecated in URIs */
	return authority(auth.p, auth.n, out, cap);
}

int egw_http_host(const uint8_t *data, size_t len, char *out, size_t cap)
{
	if (cap)
		out[0] = '\0';
	/* A request line starts with a method token (what request_line would
	 * find first): any other first byte is not HTTP. */
	if (len && !tchar(data[0]))
		return EGW_HOST_NOT_HTTP;
	return host_parse(data, len, out, cap);
}
