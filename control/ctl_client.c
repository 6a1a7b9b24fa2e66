/* SPDX-License-Identifier: MIT */
/* egwctl: management socket client. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cd_mgmt.h"
#include "ctl_client.h"

int ctl_client_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "egwctl: %s: path too long\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		/* connect() would say "Connection refused": misleading */
		fprintf(stderr, "egwctl: %s: not a socket (wrong --socket?)\n", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "egwctl: %s: %s%s\n", path, strerror(errno),
			errno == ENOENT || errno == ECONNREFUSED ? " (is egw-controld running?)" :
			errno == EACCES ? " (needs group egw, or egw-audit for the read-only socket)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

json_t *ctl_client_call(int fd, json_t *req, int timeout_ms)
{
	char *s = json_dumps(req, JSON_COMPACT);
	char *buf = NULL;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	json_error_t je;
	json_t *rep = NULL;
	ssize_t r;

	if (!s || send(fd, s, strlen(s), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "egwctl: sending the request: %s\n", strerror(errno));
		goto out;
	}
	if (poll(&pf, 1, timeout_ms) <= 0) {
		fprintf(stderr, "egwctl: no reply from egw-controld within %d ms\n", timeout_ms);
		goto out;
	}
	buf = malloc(CD_MGMT_MAX_MSG + 1);
	if (!buf)
		goto out;
	r = recv(fd, buf, CD_MGMT_MAX_MSG, 0);
	if (r <= 0) {
		fprintf(stderr, "egwctl: egw-controld closed the connection\n");
		goto out;
	}
	rep = json_loadb(buf, (size_t)r, 0, &je);
	if (!rep || !json_is_object(rep)) {
		fprintf(stderr, "egwctl: bad reply from egw-controld: %s\n", rep ? "not an object" : je.text);
		json_decref(rep);
		rep = NULL;
	}
out:
	free(s);
	free(buf);
	return rep;
}
