/* SPDX-License-Identifier: MIT */
/*
 * Check a policy's @include directives before libconfig reads it.
 *
 * libconfig 1.5's scanner calls exit() ("input in flex scanner failed") when
 * an @include names something it can open but not read, such as a directory
 * ("@include \"\"" names the include directory itself), and it stops a
 * daemon that way in the middle of a reload. So every @include of the
 * policy, and of the files it includes, must name a readable regular file
 * before libconfig sees any of them; a NUL byte in a policy file is refused
 * too (libconfig would read the name or value up to it and silently drop the
 * rest). Errors are reported at the directive's line and counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy_int.h"

#define MAX_DEPTH 10           /* libconfig's own include depth limit */
#define MAX_POLICY_BYTES (64u << 20)

/* "@include "NAME": WHY" when name is given, else "WHAT" alone. */
static void report(struct pctx *c, const char *shown, unsigned line,
		   const char *name, const char *why)
{
	struct egw_loc l = { pctx_intern(c, shown), line };
	if (name)
		perr_at(c, &l, "@include \"%s\": %s", name, why);
	else
		perr_at(c, &l, "%s", why);
}

/* "@include" (any case) at the start of a line after blanks. */
static const char *directive(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 8 || strncasecmp(p, "@include", 8))
		return NULL;
	return p + 8;
}

static int check_file(struct pctx *c, const char *path, const char *shown,
		      unsigned depth);

static void check_directive(struct pctx *c, const char *shown, unsigned line,
			    const char *p, const char *eol, unsigned depth)
{
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	if (p == eol || *p != '"')
		return; /* not an include libconfig recognises: a syntax error later */
	const char *name = ++p;
	while (p < eol && *p != '"')
		p++;
	if (p == eol)
		return;
	size_t n = (size_t)(p - name);
	if (n == 0) {
		report(c, shown, line, "",
		       "an empty name (it would name the policy's directory)");
		return;
	}
	if (memchr(name, '\0', n)) {
		report(c, shown, line, "", "the name contains a NUL byte");
		return;
	}
	char rel[4096], full[4096];
	if (n >= sizeof(rel)) {
		report(c, shown, line, "...", "name too long");
		return;
	}
	memcpy(rel, name, n);
	rel[n] = '\0';
	int w = rel[0] == '/' ? snprintf(full, sizeof(full), "%s", rel)
			      : snprintf(full, sizeof(full), "%s/%s", c->dir, rel);
	if (w < 0 || (size_t)w >= sizeof(full)) {
		report(c, shown, line, rel, "path too long");
		return;
	}
	if (depth + 1 >= MAX_DEPTH) {
		report(c, shown, line, rel, "includes nested more than 10 deep");
		return;
	}
	struct stat st;
	if (stat(full, &st) != 0) {
		char why[160];
		snprintf(why, sizeof(why), "cannot open: %s", strerror(errno));
		report(c, shown, line, rel, why);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		report(c, shown, line, rel, "not a regular file");
		return;
	}
	check_file(c, full, display_file(c, rel), depth + 1);
}

/* 0 when path and everything it includes can be given to libconfig. */
static int check_file(struct pctx *c, const char *path, const char *shown,
		      unsigned depth)
{
	size_t before = c->errors;
	struct stat st;
	char why[160];
	if (stat(path, &st) != 0) {
		snprintf(why, sizeof(why), "cannot open: %s", strerror(errno));
		report(c, shown, 0, NULL, why);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		report(c, shown, 0, NULL, "cannot read: not a regular file");
		return -1;
	}
	if ((unsigned long long)st.st_size > MAX_POLICY_BYTES) {
		report(c, shown, 0, NULL, "cannot read: larger than 64 MiB");
		return -1;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(why, sizeof(why), "cannot open: %s", strerror(errno));
		report(c, shown, 0, NULL, why);
		return -1;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		c->oom = true;
		return -1;
	}
	len = fread(buf, 1, cap - 1, f);
	fclose(f);

	unsigned line = 1;
	const char *p = buf, *end = buf + len;
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		/* libconfig would say "syntax error" and nothing more */
		report(c, shown, 1, NULL, "the file starts with a UTF-8 byte order mark "
		       "(as some Windows editors save it); remove it: a policy is plain text");
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (memchr(p, '\0', (size_t)(eol - p))) {
			/* Once: a binary file would give one error a line. */
			report(c, shown, line, NULL,
			       "a NUL byte: a policy is text (not checked further)");
			break;
		} else {
			const char *q = directive(p, eol);
			if (q)
				check_directive(c, shown, line, q, eol, depth);
		}
		p = eol + 1;
		line++;
	}
	free(buf);
	return c->errors == before ? 0 : -1;
}

int policy_check_includes(struct pctx *c, const char *path)
{
	return check_file(c, path, c->file, 0);
}
