/* SPDX-License-Identifier: MIT */
/*
 * egwctl's client of egw-controld's management sockets (cd_mgmt.h):
 * SOCK_SEQPACKET, one JSON object per message. Command-line tool only.
 */
#ifndef CTL_CLIENT_H
#define CTL_CLIENT_H

#include <jansson.h>

#define CTL_RUN_DIR "/run/egw"

/* Connect to path. fd, or -1 with a message on stderr. */
int ctl_client_connect(const char *path);
/* Send req (not consumed), wait for the reply (timeout_ms). New reference,
 * or NULL with a message on stderr. */
json_t *ctl_client_call(int fd, json_t *req, int timeout_ms);

#endif
