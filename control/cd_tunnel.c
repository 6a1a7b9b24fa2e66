/* SPDX-License-Identifier: MIT */
/* DNS tunnelling signs with a bounded per-terminal rate table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "cd_tunnel.h"

#define PROBE 8

struct slot {
	uint8_t used;
	uint8_t family;
	uint8_t addr[16];
	uint64_t window;     /* second number */
	uint32_t count;      /* queries in that second */
	uint64_t last_us;
};

struct cd_tunnel {
	struct slot s[CD_TUNNEL_SLOTS];
};

struct cd_tunnel *cd_tunnel_new(void)
{
	struct cd_tunnel *t = calloc(1, sizeof(*t));

	if (!t)
		errno = ENOMEM;
	return t;
}

void cd_tunnel_free(struct cd_tunnel *t)
{
	free(t);
}

static uint32_t hash(int family, const uint8_t *a)
{
	uint32_t h = 2166136261u ^ (uint32_t)family;
	size_t n = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < n; i++)
		h = (h ^ a[i]) * 16777619u;
	return h;
}

static struct slot *find(struct cd_tunnel *t, int family, const uint8_t *src)
{
	uint32_t h = hash(family, src);
	struct slot *victim = NULL;

	for (unsigned i = 0; i < PROBE; i++) {
		struct slot *s = &t->s[(h + i) % CD_TUNNEL_SLOTS];
		if (s->used && s->family == family && !memcmp(s->addr, src, 16))
			return s;
		if (!s->used) {
			if (!victim || victim->used)
				victim = s;
		} else if (!victim || (victim->used && s->last_us < victim->last_us)) {
			victim = s;
		}
	}
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	victim->family = (uint8_t)family;
	memcpy(victim->addr, src, 16);
	return victim;
}

unsigned cd_tunnel_check(struct cd_tunnel *t, const struct cd_tunnel_limits *lim,
			 int family, const uint8_t *src, uint64_t now_us,
			 size_t qname_len, unsigned max_label, double entropy_bits)
{
	unsigned m = 0;
	struct slot *s = find(t, family, src);
	uint64_t sec = now_us / 1000000u;

	if (s->window != sec) {
		s->window = sec;
		s->count = 0;
	}
	if (s->count < UINT32_MAX)
		s->count++;
	s->last_us = now_us;

	if (qname_len > lim->max_qname)
		m |= CD_TUN_QNAME_LEN;
	if (max_label > lim->max_label)
		m |= CD_TUN_LABEL_LEN;
	if (entropy_bits > lim->min_entropy_bits)
		m |= CD_TUN_ENTROPY;
	if (s->count > lim->max_queries_per_second)
		m |= CD_TUN_RATE;
	return m;
}

char *cd_tunnel_describe(unsigned mask, char *buf, size_t cap)
{
	static const struct { unsigned bit; const char *name; } n[] = {
		{ CD_TUN_QNAME_LEN, "qname-length" },
		{ CD_TUN_LABEL_LEN, "label-length" },
		{ CD_TUN_ENTROPY, "entropy" },
		{ CD_TUN_RATE, "query-rate" },
	};
	size_t off = 0;

	if (cap)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		if (!(mask & n[i].bit))
			continue;
		int w = snprintf(buf + off, cap - off, "%s%s", off ? "," : "", n[i].name);
		if (w < 0 || (size_t)w >= cap - off)
			break;
		off += (size_t)w;
	}
	return buf;
}
