/* SPDX-License-Identifier: MIT */
/*
 * Line reader for behaviour-log files, plain or zstd-compressed, streaming
 * (a day's file is never loaded whole). Lines are at most ELOG_MAX_LINE bytes;
 * a longer one is passed over (ELOG_READER_SKIPPED), never read whole.
 * Thread safety: one reader per thread. Ownership: the reader owns the FILE
 * it was given; a returned line stays valid until the next call.
 */
#ifndef EGW_ELOG_READER_H
#define EGW_ELOG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct elog_reader;

/*
 * Open path for reading, a regular file only: anything else named like a
 * log file (a FIFO, a device, a directory) is refused without blocking on
 * it. NULL with errno and *why: strerror(errno), or "not a regular file"
 * (errno EINVAL).
 */
FILE *elog_file_open(const char *path, const char **why);
/* elog_file_open and elog_reader_from_file: NULL with errno and *why. */
struct elog_reader *elog_reader_open(const char *path, bool zstd, const char **why);
/* Takes f (closed on failure too). NULL with errno (ENOMEM). */
struct elog_reader *elog_reader_from_file(FILE *f, bool zstd);
/*
 * Next line (without its newline): 1 and *line, *len, *complete (false:
 * the file ends without a newline, a torn last line); 0 at the end; -1 on
 * an error (unreadable, or truncated or corrupt compressed data) with *why,
 * after which the reader returns -1 again; ELOG_READER_SKIPPED with *why
 * for a line longer than ELOG_MAX_LINE, which is passed over (it counts as
 * a line): the next call returns the line after it.
 */
#define ELOG_READER_SKIPPED (-2)
int elog_reader_next(struct elog_reader *r, const char **line, size_t *len,
		     bool *complete, const char **why);
void elog_reader_close(struct elog_reader *r);

#endif
