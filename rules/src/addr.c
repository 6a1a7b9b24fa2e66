/* SPDX-License-Identifier: MIT */
/* Addresses and prefixes: see egw/addr.h. */
#include <egw/addr.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char why_buf[160];

static void mask_host_bits(uint8_t *a, unsigned len, unsigned max)
{
	for (unsigned bit = len; bit < max; bit++)
		a[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
}

int egw_prefix_parse(const char *s, struct egw_prefix *out, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	char buf[EGW_PREFIX_STRLEN];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(buf)) {
		*why = "not an IPv4 or IPv6 address or prefix";
		return -1;
	}
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	long len = -1;
	if (slash) {
		*slash = '\0';
		const char *p = slash + 1;
		if (!*p || strlen(p) > 3) {
			*why = "bad prefix length";
			return -1;
		}
		for (const char *q = p; *q; q++) {
			if (!isdigit((unsigned char)*q)) {
				*why = "bad prefix length";
				return -1;
			}
		}
		len = strtol(p, NULL, 10);
	}
	memset(out, 0, sizeof(*out));
	unsigned max;
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		*why = "not an IPv4 or IPv6 address or prefix";
		return -1;
	}
	if (len < 0)
		len = max;
	if ((unsigned long)len > max) {
		snprintf(why_buf, sizeof(why_buf), "prefix length %ld is longer than %u",
			 len, max);
		*why = why_buf;
		return -1;
	}
	out->len = (uint8_t)len;
	uint8_t masked[16];
	memcpy(masked, out->addr, 16);
	mask_host_bits(masked, out->len, max);
	if (memcmp(masked, out->addr, 16) != 0) {
		memcpy(out->addr, masked, 16);
		char fix[EGW_PREFIX_STRLEN];
		egw_prefix_format(out, fix, sizeof(fix));
		snprintf(why_buf, sizeof(why_buf), "host bits set: did you mean %s?", fix);
		*why = why_buf;
		return -1;
	}
	return 0;
}

char *egw_addr_format(const struct egw_prefix *p, char *buf, size_t cap)
{
	if (!inet_ntop(p->family, p->addr, buf, (socklen_t)cap))
		snprintf(buf, cap, "?");
	return buf;
}

char *egw_prefix_format(const struct egw_prefix *p, char *buf, size_t cap)
{
	egw_addr_format(p, buf, cap);
	if (!egw_prefix_is_host(p)) {
		size_t n = strlen(buf);
		snprintf(buf + n, cap > n ? cap - n : 0, "/%u", p->len);
	}
	return buf;
}

static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned bytes = len / 8, rem = len % 8;
	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rem) {
		uint8_t m = (uint8_t)(0xffu << (8 - rem));
		return (a[bytes] & m) == (b[bytes] & m);
	}
	return true;
}

bool egw_prefix_within(const struct egw_prefix *a, const struct egw_prefix *b)
{
	return a->family == b->family && b->len <= a->len &&
	       bits_equal(a->addr, b->addr, b->len);
}

bool egw_prefix_overlaps(const struct egw_prefix *a, const struct egw_prefix *b)
{
	return egw_prefix_within(a, b) || egw_prefix_within(b, a);
}

bool egw_prefix_contains(const struct egw_prefix *p, int family, const uint8_t *addr)
{
	return p->family == family && bits_equal(addr, p->addr, p->len);
}

int egw_prefix_cmp(const void *a, const void *b)
{
	const struct egw_prefix *x = a, *y = b;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	int c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

int egw_mac_parse(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -1;
	char sep = s[2];
	if (sep != ':' && sep != '-')
		return -1;
	for (int i = 0; i < 6; i++) {
		const char *p = s + i * 3;
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			return -1;
		if (i < 5 && p[2] != sep)
			return -1;
		char h[3] = { p[0], p[1], 0 };
		mac[i] = (uint8_t)strtoul(h, NULL, 16);
	}
	return 0;
}

char *egw_mac_format(const uint8_t mac[6], char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	char t[18];

	/* one per logged event: without printf */
	for (int i = 0; i < 6; i++) {
		t[3 * i] = hex[mac[i] >> 4];
		t[3 * i + 1] = hex[mac[i] & 15];
		t[3 * i + 2] = i < 5 ? ':' : '\0';
	}
	if (cap) {
		size_t n = cap - 1 < 17 ? cap - 1 : 17;
		memcpy(buf, t, n);
		buf[n] = '\0';
	}
	return buf;
}
