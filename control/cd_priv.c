/* SPDX-License-Identifier: MIT */
/* Capabilities and sd_notify. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cd_priv.h"

int cd_priv_drop(char *err, size_t errlen)
{
	const cap_value_t keep[] = { CAP_NET_ADMIN };
	cap_t caps;
	int rc = -1;

	/* the bounding set first (needs CAP_SETPCAP, which goes next) */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		if (c == CAP_NET_ADMIN)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
			snprintf(err, errlen, "dropping capability %d from the bounding set: %s",
				 (int)c, strerror(errno));
			return -1;
		}
	}
	caps = cap_init();
	if (!caps) {
		snprintf(err, errlen, "capabilities: %s", strerror(errno));
		return -1;
	}
	if (cap_set_flag(caps, CAP_EFFECTIVE, 1, keep, CAP_SET) < 0 ||
	    cap_set_flag(caps, CAP_PERMITTED, 1, keep, CAP_SET) < 0 ||
	    cap_set_proc(caps) < 0) {
		snprintf(err, errlen, "capabilities: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	cap_free(caps);
	return rc;
}

int cd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;
	ssize_t r;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
	return r < 0 ? -errno : 1;
}
