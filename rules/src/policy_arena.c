/* SPDX-License-Identifier: MIT */
/*
 * The policy arena: every string and array of a loaded policy is carved out
 * of a few large chunks, so that egw_policy_free() is one walk over the
 * chunk list and a half-built policy (on errors) is freed the same way.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

#define CHUNK_MIN (64u * 1024u)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	alignas(max_align_t) unsigned char data[];
};

struct arena {
	struct chunk *head;
};

struct arena *arena_new(void)
{
	struct arena *a = calloc(1, sizeof(*a));
	if (!a)
		errno = ENOMEM;
	return a;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	struct chunk *ch = a->head;
	while (ch) {
		struct chunk *next = ch->next;
		free(ch);
		ch = next;
	}
	free(a);
}

void *arena_alloc(struct arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	if (size > SIZE_MAX / 2)
		return NULL;
	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	struct chunk *ch = a->head;
	if (!ch || ch->cap - ch->used < size) {
		size_t cap = size > CHUNK_MIN ? size : CHUNK_MIN;
		ch = malloc(sizeof(*ch) + cap);
		if (!ch) {
			errno = ENOMEM;
			return NULL;
		}
		ch->used = 0;
		ch->cap = cap;
		/* keep the fuller chunk at the head only when the new one is
		 * a one-off for a big object */
		if (a->head && size > CHUNK_MIN) {
			ch->next = a->head->next;
			a->head->next = ch;
		} else {
			ch->next = a->head;
			a->head = ch;
		}
	}
	void *p = ch->data + ch->used;
	ch->used += size;
	memset(p, 0, size);
	return p;
}

void *arena_array(struct arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / 4 / size) {
		errno = ENOMEM;
		return NULL;
	}
	return arena_alloc(a, n * size);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *d = arena_alloc(a, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void *pctx_alloc(struct pctx *c, size_t n, size_t size)
{
	void *p = arena_array(c->a, n, size);
	if (!p)
		c->oom = true;
	return p;
}

char *pctx_strdup(struct pctx *c, const char *s)
{
	char *d = arena_strdup(c->a, s);
	if (!d)
		c->oom = true;
	return d;
}

const char *pctx_intern(struct pctx *c, const char *file)
{
	if (!file)
		return c->file;
	for (size_t i = 0; i < c->n_files; i++)
		if (!strcmp(c->files[i], file))
			return c->files[i];
	if (c->n_files == c->cap_files) {
		size_t cap = c->cap_files ? c->cap_files * 2 : 8;
		const char **v = arena_array(c->a, cap, sizeof(*v));
		if (!v) {
			c->oom = true;
			return c->file;
		}
		if (c->n_files)
			memcpy(v, c->files, c->n_files * sizeof(*v));
		c->files = v;
		c->cap_files = cap;
	}
	char *d = pctx_strdup(c, file);
	if (!d)
		return c->file;
	c->files[c->n_files++] = d;
	return d;
}
