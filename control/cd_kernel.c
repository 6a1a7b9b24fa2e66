/* SPDX-License-Identifier: MIT */
/* Kernel mode: compile, apply as one transaction, remove. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd_kernel.h"
#include "cd_nft.h"

char *cd_kernel_compile(const struct egw_policy *p, const struct egw_nft_opts *o,
			char *err, size_t errlen)
{
	char *text = egw_nft_compile(p, o);

	if (!text)
		snprintf(err, errlen, "compiling the policy to nftables: %s", strerror(errno));
	return text;
}

/* The comment "..." of a command line, when it looks like file:line. */
static bool comment_loc(const char *line, size_t len, char *loc, size_t cap)
{
	const char *c = NULL;

	for (size_t i = 0; i + 9 < len; i++)
		if (!memcmp(line + i, "comment \"", 9))
			c = line + i + 9;
	if (!c)
		return false;
	size_t n = 0;
	while (c + n < line + len && c[n] != '"')
		n++;
	if (!n || !memchr(c, ':', n) || n >= cap)
		return false;
	memcpy(loc, c, n);
	loc[n] = '\0';
	return true;
}

void cd_kernel_map_errors(const char *nft_err, char *out, size_t cap)
{
	/* nft: "Error: what\n<command>\n<   ^^^^>\n" per error */
	const char *s = nft_err;
	size_t off = 0;

	if (cap)
		out[0] = '\0';
	while (s && *s) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len > 7 && !memcmp(s, "Error: ", 7)) {
			const char *cmd = e ? e + 1 : NULL;
			const char *cmd_end = cmd ? strchr(cmd, '\n') : NULL;
			char loc[128];
			int w;
			if (cmd && comment_loc(cmd, cmd_end ? (size_t)(cmd_end - cmd) : strlen(cmd),
					       loc, sizeof(loc)))
				w = snprintf(out + off, cap - off, "%s: nftables refused the rule: %.*s\n",
					     loc, (int)(len - 7), s + 7);
			else
				w = snprintf(out + off, cap - off, "nftables: %.*s%s%.*s\n",
					     (int)(len - 7), s + 7, cmd ? " in: " : "",
					     cmd ? (int)(cmd_end ? (size_t)(cmd_end - cmd) : strlen(cmd)) : 0,
					     cmd ? cmd : "");
			if (w < 0 || (size_t)w >= cap - off)
				return;
			off += (size_t)w;
		}
		s = e ? e + 1 : NULL;
	}
	if (off == 0 && nft_err)
		snprintf(out, cap, "nftables: %s", nft_err);
}

int cd_kernel_apply(const char *ruleset, const char *table, bool dry_run,
		    char *err, size_t errlen)
{
	size_t n = strlen(ruleset) + 2 * strlen(table) + 64;
	char *buf = malloc(n), *e = NULL;
	int rc;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* replace, in the same transaction: create-if-missing, delete, load */
	snprintf(buf, n, "table inet %s\ndelete table inet %s\n%s", table, table, ruleset);
	rc = cd_nft_run(buf, dry_run, &e);
	if (rc < 0)
		cd_kernel_map_errors(e ? e : "transaction failed", err, errlen);
	free(e);
	free(buf);
	return rc;
}

int cd_kernel_remove(const char *table)
{
	char buf[160];

	snprintf(buf, sizeof(buf), "table inet %s\ndelete table inet %s\n", table, table);
	return cd_nft_run(buf, false, NULL);
}
