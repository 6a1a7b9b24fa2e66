/* SPDX-License-Identifier: MIT */
/*
 * An output file that is written in full or not at all (--replay-out):
 * what a run writes goes to a temporary file beside PATH, which replaces
 * PATH only when the run succeeded. A failed run (a capture that does not
 * open, a typo in its name) leaves an earlier PATH as it was. PATH that
 * exists and is not a regular file (/dev/stdout, a pipe) is written
 * directly. Single-threaded; the caller owns the struct.
 */
#ifndef DP_OUTFILE_H
#define DP_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct dp_outfile {
	FILE *f;      /* where to write, once open */
	char *path;   /* PATH (owned copy) */
	char *tmp;    /* the temporary file, or NULL when writing PATH itself */
};

/*
 * Open o for PATH. not_this: an input file that PATH must not be (the same
 * file under any name is refused, so that the run cannot destroy its own
 * input), or NULL. 0, or -1 with one line in err (PATH and why).
 */
int dp_outfile_open(struct dp_outfile *o, const char *path, const char *not_this, char *err,
		    size_t errlen);
/*
 * Close o; ok: the run succeeded, so its output replaces PATH. 0, or -1
 * with one line in err (writing or renaming failed: PATH is then as it was
 * when it was a regular file). Not ok: the temporary file is removed.
 */
int dp_outfile_close(struct dp_outfile *o, bool ok, char *err, size_t errlen);

#endif
