/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dp_outfile.h"

int dp_outfile_open(struct dp_outfile *o, const char *path, const char *not_this, char *err,
		    size_t errlen)
{
	struct stat sp, si;
	bool exists = stat(path, &sp) == 0;

	memset(o, 0, sizeof(*o));
	if (exists && not_this && stat(not_this, &si) == 0 && sp.st_dev == si.st_dev &&
	    sp.st_ino == si.st_ino) {
		snprintf(err, errlen, "%s: is the input %s itself; it would be overwritten", path,
			 not_this);
		return -1;
	}
	o->path = strdup(path);
	if (!o->path)
		goto nomem;
	if (exists && !S_ISREG(sp.st_mode)) {
		o->f = fopen(path, "w");   /* a device or a pipe: as it is */
		if (!o->f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		return 0;
	}
	size_t n = strlen(path) + sizeof(".XXXXXX");
	o->tmp = malloc(n);
	if (!o->tmp)
		goto nomem;
	snprintf(o->tmp, n, "%s.XXXXXX", path);
	int fd = mkstemp(o->tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create a file beside it: %s", path,
			 strerror(errno));
		goto fail;
	}
	/* mkstemp makes it 0600: give it what a plain create would have. */
	mode_t um = umask(0);
	umask(um);
	(void)fchmod(fd, exists ? (sp.st_mode & 07777) : (0666 & ~um));
	o->f = fdopen(fd, "w");
	if (!o->f) {
		snprintf(err, errlen, "%s: %s", o->tmp, strerror(errno));
		close(fd);
		unlink(o->tmp);
		goto fail;
	}
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
	return -1;
}

int dp_outfile_close(struct dp_outfile *o, bool ok, char *err, size_t errlen)
{
	int ret = 0;

	if (!o->f)
		return 0;
	if (fclose(o->f) && ok) {
		snprintf(err, errlen, "%s: %s", o->tmp ? o->tmp : o->path, strerror(errno));
		ok = false;
		ret = -1;
	}
	if (o->tmp) {
		if (ok && rename(o->tmp, o->path)) {
			snprintf(err, errlen, "%s: cannot replace it: %s", o->path, strerror(errno));
			ok = false;
			ret = -1;
		}
		if (!ok)
			unlink(o->tmp);
	}
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
	return ret;
}
