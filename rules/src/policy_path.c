/* SPDX-License-Identifier: MIT */
/*
 * Paths in a policy (the geo database, the log directory) are relative to the
 * directory of the policy file. They are stored absolute and lexically
 * normalised ("a/./b/../c" -> "a/c"); the file need not exist yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

char *path_resolve(struct pctx *c, const char *dir, const char *rel)
{
	size_t ld = strlen(dir), lr = strlen(rel);
	char *joined = malloc(ld + lr + 2);
	if (!joined) {
		c->oom = true;
		return NULL;
	}
	if (rel[0] == '/')
		memcpy(joined, rel, lr + 1);
	else
		snprintf(joined, ld + lr + 2, "%s/%s", dir, rel);

	/* Normalise in place: out never runs ahead of in. */
	char *out = pctx_alloc(c, strlen(joined) + 2, 1);
	if (!out) {
		free(joined);
		return NULL;
	}
	size_t o = 0;
	const char *p = joined;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 1 && p[0] == '.') {
			/* skip */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* drop the slash too */
		} else {
			out[o++] = '/';
			memcpy(out + o, p, len);
			o += len;
		}
		p += len;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	free(joined);
	return out;
}
