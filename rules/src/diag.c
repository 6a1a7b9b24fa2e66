/* SPDX-License-Identifier: MIT */
/* Diagnostics list: see egw/diag.h. */
#include <egw/diag.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct diag_msg {
	char *text;   /* "file:line: message", NULL when it could not be stored */
	size_t body;  /* where "message" starts in text */
	char *file;
	unsigned line;
	size_t seq;
};

struct egw_diag {
	struct diag_msg *v;
	size_t n, cap;
};

struct egw_diag *egw_diag_new(void)
{
	struct egw_diag *d = calloc(1, sizeof(*d));
	if (!d)
		errno = ENOMEM;
	return d;
}

void egw_diag_free(struct egw_diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].text);
		free(d->v[i].file);
	}
	free(d->v);
	free(d);
}

__attribute__((format(printf, 4, 0)))
void egw_diag_verror(struct egw_diag *d, const char *file, unsigned line,
		     const char *fmt, va_list ap)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag_msg *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	struct diag_msg *m = &d->v[d->n];
	m->line = line;
	m->seq = d->n;
	m->file = file ? strdup(file) : NULL;

	char body[1024];
	vsnprintf(body, sizeof(body), fmt, ap);
	char *text = NULL;
	int r;
	if (file && line)
		r = asprintf(&text, "%s:%u: %s", file, line, body);
	else if (file)
		r = asprintf(&text, "%s: %s", file, body);
	else
		r = asprintf(&text, "%s", body);
	m->text = r < 0 ? NULL : text;
	m->body = r < 0 ? 0 : (size_t)r - strlen(body);
	d->n++;
}

void egw_diag_error(struct egw_diag *d, const char *file, unsigned line,
		    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	egw_diag_verror(d, file, line, fmt, ap);
	va_end(ap);
}

size_t egw_diag_count(const struct egw_diag *d)
{
	return d->n;
}

const char *egw_diag_message(const struct egw_diag *d, size_t i)
{
	if (i >= d->n)
		return NULL;
	return d->v[i].text ? d->v[i].text : "(error message lost: out of memory)";
}

unsigned egw_diag_line(const struct egw_diag *d, size_t i)
{
	return i < d->n ? d->v[i].line : 0;
}

const char *egw_diag_file(const struct egw_diag *d, size_t i)
{
	return i < d->n ? d->v[i].file : NULL;
}

const char *egw_diag_text(const struct egw_diag *d, size_t i)
{
	if (i >= d->n)
		return NULL;
	return d->v[i].text ? d->v[i].text + d->v[i].body : "(error message lost: out of memory)";
}

static int msg_cmp(const void *a, const void *b)
{
	const struct diag_msg *x = a, *y = b;
	int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void egw_diag_sort(struct egw_diag *d)
{
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(d->v[0]), msg_cmp);
}

void egw_diag_print(const struct egw_diag *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(out, "%s\n", egw_diag_message(d, i));
}
