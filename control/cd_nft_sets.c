/* SPDX-License-Identifier: MIT */
/* Batched additions to the flagged_v4/flagged_v6 sets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cd_nft.h"
#include "cd_nft_sets.h"

struct elem {
	uint8_t family;
	uint8_t addr[16];
};

struct kept {
	uint8_t family;
	uint8_t addr[16];
	uint64_t expires_us;
};

struct cd_nft_sets {
	struct kept keep[CD_NFT_SETS_KEEP];
	size_t n_keep;
	char table[64];
	unsigned timeout_s;
	struct elem e[CD_NFT_SETS_BATCH];
	size_t n;
	uint64_t added;
};

struct cd_nft_sets *cd_nft_sets_new(const char *table, unsigned timeout_s)
{
	struct cd_nft_sets *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snprintf(s->table, sizeof(s->table), "%s", table);
	s->timeout_s = timeout_s ? timeout_s : 600;
	return s;
}

void cd_nft_sets_free(struct cd_nft_sets *s)
{
	free(s);
}

int cd_nft_sets_add(struct cd_nft_sets *s, int family, const uint8_t *addr)
{
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].family == family &&
		    !memcmp(s->e[i].addr, addr, family == AF_INET ? 4 : 16))
			return 0;
	if (s->n == CD_NFT_SETS_BATCH) {
		char *err = NULL;
		int rc = cd_nft_sets_flush(s, &err);
		if (rc < 0 && err)
			fprintf(stderr, "egw-controld: flagged set update failed: %s", err);
		free(err);
	}
	s->e[s->n].family = (uint8_t)family;
	memset(s->e[s->n].addr, 0, 16);
	memcpy(s->e[s->n].addr, addr, family == AF_INET ? 4 : 16);
	s->n++;
	return 0;
}

size_t cd_nft_sets_pending(const struct cd_nft_sets *s)
{
	return s->n;
}

static int list(const struct cd_nft_sets *s, int family, char *buf, size_t cap, size_t *off)
{
	bool any = false;
	char a[INET6_ADDRSTRLEN];
	int w;

	for (size_t i = 0; i < s->n; i++) {
		if (s->e[i].family != family)
			continue;
		if (!any) {
			w = snprintf(buf + *off, cap - *off, "add element inet %s %s { ",
				     s->table, family == AF_INET ? "flagged_v4" : "flagged_v6");
			if (w < 0 || (size_t)w >= cap - *off)
				return -1;
			*off += (size_t)w;
		}
		inet_ntop(family, s->e[i].addr, a, sizeof(a));
		w = snprintf(buf + *off, cap - *off, "%s%s timeout %us", any ? ", " : "", a,
			     s->timeout_s);
		if (w < 0 || (size_t)w >= cap - *off)
			return -1;
		*off += (size_t)w;
		any = true;
	}
	if (any) {
		w = snprintf(buf + *off, cap - *off, " }\n");
		if (w < 0 || (size_t)w >= cap - *off)
			return -1;
		*off += (size_t)w;
	}
	return 0;
}

int cd_nft_sets_text(const struct cd_nft_sets *s, char *buf, size_t cap)
{
	size_t off = 0;

	if (cap)
		buf[0] = '\0';
	if (list(s, AF_INET, buf, cap, &off) < 0 || list(s, AF_INET6, buf, cap, &off) < 0)
		return -1;
	return (int)off;
}

int cd_nft_sets_flush(struct cd_nft_sets *s, char **err)
{
	size_t cap = 160 + s->n * 80;
	char *buf;
	int rc;

	if (err)
		*err = NULL;
	if (!s->n)
		return 0;
	buf = malloc(cap);
	if (!buf)
		return -1;
	rc = cd_nft_sets_text(s, buf, cap);
	if (rc >= 0)
		rc = cd_nft_run(buf, false, err);
	if (rc == 0)
		s->added += s->n;
	free(buf);
	s->n = 0;
	return rc < 0 ? -1 : 0;
}

uint64_t cd_nft_sets_added(const struct cd_nft_sets *s)
{
	return s->added;
}

void cd_nft_sets_remember(struct cd_nft_sets *s, int family, const uint8_t *addr,
			  uint64_t now_us)
{
	size_t alen = family == AF_INET ? 4 : 16, victim = 0;
	uint64_t exp = now_us + (uint64_t)s->timeout_s * 1000000u;

	for (size_t i = 0; i < s->n_keep; i++) {
		struct kept *k = &s->keep[i];
		if (k->family == family && !memcmp(k->addr, addr, alen)) {
			k->expires_us = exp;   /* re-adding resets the timeout */
			return;
		}
		if (k->expires_us < s->keep[victim].expires_us)
			victim = i;
	}
	if (s->n_keep < CD_NFT_SETS_KEEP)
		victim = s->n_keep++;
	s->keep[victim].family = (uint8_t)family;
	memset(s->keep[victim].addr, 0, 16);
	memcpy(s->keep[victim].addr, addr, alen);
	s->keep[victim].expires_us = exp;
}

size_t cd_nft_sets_remembered(const struct cd_nft_sets *s, uint64_t now_us)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_keep; i++)
		n += s->keep[i].expires_us > now_us + 1000000u;
	return n;
}

int cd_nft_sets_restore_text(const struct cd_nft_sets *s, uint64_t now_us,
			     char *buf, size_t cap)
{
	size_t off = 0;
	char a[INET6_ADDRSTRLEN];

	if (cap)
		buf[0] = '\0';
	for (size_t i = 0; i < s->n_keep; i++) {
		const struct kept *k = &s->keep[i];
		int w;
		if (k->expires_us <= now_us + 1000000u)
			continue;
		inet_ntop(k->family, k->addr, a, sizeof(a));
		w = snprintf(buf + off, cap - off, "add element inet %s %s { %s timeout %llus }\n",
			     s->table, k->family == AF_INET ? "flagged_v4" : "flagged_v6", a,
			     (unsigned long long)((k->expires_us - now_us) / 1000000u));
		if (w < 0 || (size_t)w >= cap - off)
			return -1;
		off += (size_t)w;
	}
	return (int)off;
}
