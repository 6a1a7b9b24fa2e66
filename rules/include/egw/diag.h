/* SPDX-License-Identifier: MIT */
/*
 * egw diagnostics: a list of "file:line: message" errors collected in one run.
 *
 * Every parser and compiler in egw reports into a struct egw_diag and keeps
 * going, so that one run reports every error of an input (pfctl, nftables).
 *
 * Thread safety: a diag belongs to one thread at a time.
 * Ownership: egw_diag_new() returns an object the caller frees with
 * egw_diag_free(); messages stay valid until then.
 */
#ifndef EGW_DIAG_H
#define EGW_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct egw_diag;

/* Returns NULL on allocation failure (errno = ENOMEM). */
struct egw_diag *egw_diag_new(void);
void egw_diag_free(struct egw_diag *d);

/*
 * Record an error. file may be NULL (message has no place); line 0 means
 * "the whole file" and prints as "file: message". On allocation failure the
 * error is still counted (egw_diag_count) but its text is lost.
 */
void egw_diag_error(struct egw_diag *d, const char *file, unsigned line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void egw_diag_verror(struct egw_diag *d, const char *file, unsigned line,
		     const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

size_t egw_diag_count(const struct egw_diag *d);
/* "file:line: message"; i < egw_diag_count(d). */
const char *egw_diag_message(const struct egw_diag *d, size_t i);
/* Line of message i (0 if none); for tests and sorting. */
unsigned egw_diag_line(const struct egw_diag *d, size_t i);
/* File of message i, or NULL when it has none. */
const char *egw_diag_file(const struct egw_diag *d, size_t i);
/* Message i without its "file:line: " (for JSON output). */
const char *egw_diag_text(const struct egw_diag *d, size_t i);
/* Sort messages by (file, line), stable; parsers report in walk order. */
void egw_diag_sort(struct egw_diag *d);
/* One message per line. */
void egw_diag_print(const struct egw_diag *d, FILE *out);

#endif
