/* SPDX-License-Identifier: MIT */
/* Streaming line reader over plain or zstd behaviour-log files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "elog_format.h"
#include "elog_reader.h"

#define BUF_CAP (2 * ELOG_MAX_LINE + 131072)

struct elog_reader {
	FILE *f;
	ZSTD_DCtx *dctx;
	char *buf;             /* decompressed bytes [start, end) */
	size_t start, end;
	char *in;              /* compressed input */
	ZSTD_inBuffer zin;
	size_t zret;           /* last ZSTD_decompressStream result (0: frame done) */
	bool zdata;            /* any compressed byte read: no frame is not a frame done */
	bool eof, failed;
	bool skipping;         /* discarding the rest of an overlong line */
	const char *why;
};

struct elog_reader *elog_reader_from_file(FILE *f, bool zstd)
{
	struct elog_reader *r;

	if (!f)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		goto err;
	r->f = f;
	r->buf = malloc(BUF_CAP);
	if (!r->buf)
		goto err;
	if (zstd) {
		r->dctx = ZSTD_createDCtx();
		r->in = malloc(ZSTD_DStreamInSize());
		if (!r->dctx || !r->in)
			goto err;
		r->zin.src = r->in;
	}
	return r;
err:
	if (r) {
		r->f = NULL;
		elog_reader_close(r);
	}
	fclose(f);
	errno = ENOMEM;
	return NULL;
}

FILE *elog_file_open(const char *path, const char **why)
{
	struct stat st;
	FILE *f;
	int fd, e;

	/* O_NONBLOCK: opening a FIFO for reading waits for a writer, for ever */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) < 0)
		goto fail_close;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		*why = "not a regular file";
		return NULL;
	}
	/* plain blocking reads, as fopen's (a regular file never waits anyway) */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    !(f = fdopen(fd, "rb")))
		goto fail_close;
	return f;
fail_close:
	e = errno;
	close(fd);
	errno = e;
fail:
	*why = strerror(errno);
	return NULL;
}

struct elog_reader *elog_reader_open(const char *path, bool zstd, const char **why)
{
	FILE *f = elog_file_open(path, why);
	struct elog_reader *r;

	if (!f)
		return NULL;
	r = elog_reader_from_file(f, zstd);
	if (!r)
		*why = strerror(errno);
	return r;
}

void elog_reader_close(struct elog_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	ZSTD_freeDCtx(r->dctx);
	free(r->in);
	free(r->buf);
	free(r);
}

/* Add bytes at buf[end]; 0 when none could be added because of EOF. */
static size_t refill(struct elog_reader *r)
{
	size_t room = BUF_CAP - r->end;

	if (!r->dctx) {
		size_t n = fread(r->buf + r->end, 1, room, r->f);
		if (n == 0) {
			if (ferror(r->f)) {
				r->failed = true;
				r->why = "read error";
			}
			r->eof = true;
		}
		r->end += n;
		return n;
	}
	for (;;) {
		ZSTD_outBuffer out = { r->buf + r->end, room, 0 };
		if (r->zin.pos == r->zin.size) {
			r->zin.size = fread(r->in, 1, ZSTD_DStreamInSize(), r->f);
			r->zin.pos = 0;
			r->zdata |= r->zin.size > 0;
			if (r->zin.size == 0) {
				r->eof = true;
				if (ferror(r->f)) {
					r->failed = true;
					r->why = "read error";
				} else if (!r->zdata) {
					r->failed = true;
					r->why = "empty file: not zstd data";
				} else if (r->zret != 0) {
					r->failed = true;
					r->why = "compressed data truncated (zstd frame incomplete)";
				}
				return 0;
			}
		}
		r->zret = ZSTD_decompressStream(r->dctx, &out, &r->zin);
		if (ZSTD_isError(r->zret)) {
			r->failed = true;
			r->eof = true;
			r->why = "compressed data corrupt (zstd error)";
			return 0;
		}
		if (out.pos) {
			r->end += out.pos;
			return out.pos;
		}
	}
}

int elog_reader_next(struct elog_reader *r, const char **line, size_t *len,
		     bool *complete, const char **why)
{
	size_t scanned = 0;

	for (;;) {
		if (r->failed) {
			*why = r->why;
			return -1;
		}
		char *nl = memchr(r->buf + r->start + scanned, '\n',
				  r->end - r->start - scanned);
		if (nl) {
			size_t n = (size_t)(nl - (r->buf + r->start));
			*line = r->buf + r->start;
			r->start += n + 1;
			if (r->skipping) {
				/* the end of an overlong line told before */
				r->skipping = false;
				scanned = 0;
				continue;
			}
			if (n > ELOG_MAX_LINE)
				goto too_long;
			*len = n;
			*complete = true;
			return 1;
		}
		scanned = r->end - r->start;
		if (r->skipping) {
			r->start = r->end;
			scanned = 0;
		} else if (scanned > ELOG_MAX_LINE) {
			/* told now; its bytes up to its newline are dropped as
			 * they come (the line never fits the buffer) */
			r->start = r->end;
			r->skipping = true;
			goto too_long;
		}
		if (r->eof) {
			if (scanned == 0)
				return 0;
			*line = r->buf + r->start;
			*len = scanned;
			*complete = false;
			r->start = r->end;
			return 1;
		}
		if (r->start > 0 && BUF_CAP - r->end < ELOG_MAX_LINE) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		refill(r);
	}
too_long:
	*why = "line longer than 65536 bytes";
	return ELOG_READER_SKIPPED;
}
