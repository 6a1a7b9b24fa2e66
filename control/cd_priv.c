/* SPDX-License-Identifier: MIT */
/* Capabilities and sd_notify. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
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
