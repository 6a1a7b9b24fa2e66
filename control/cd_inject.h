/* SPDX-License-Identifier: MIT */
/*
 * Answers the gateway sends on its own: the NXDOMAIN reply to a refused DNS
 * query and the TCP reset of a refused connection, both sent to the client
 * as if from the server it addressed, through raw sockets (IPPROTO_RAW,
 * header included) in the daemon's network namespace; routing takes them
 * to the client. Needs CAP_NET_RAW at open time only (the sockets stay).
 *
 * Thread safety: one thread. Errors: 0 or -errno.
 */
#ifndef CD_INJECT_H
#define CD_INJECT_H

#include <stddef.h>
#include <stdint.h>

#include "cd_pkt.h"

struct cd_inject;

struct cd_inject *cd_inject_open(void);   /* NULL with errno */
void cd_inject_close(struct cd_inject *j);

/* Reply to the UDP DNS query in k (parsed from the queued packet) with
 * NXDOMAIN. */
int cd_inject_nxdomain(struct cd_inject *j, const struct cd_pkt *k);
/* Reset the TCP connection of k towards its client. */
int cd_inject_rst(struct cd_inject *j, const struct cd_pkt *k);

/* Build the reply packet (IP header first) into out; length or -1. Pure;
 * for tests. */
int cd_inject_build_nxdomain(const struct cd_pkt *k, uint8_t *out, size_t cap);
int cd_inject_build_rst(const struct cd_pkt *k, uint8_t *out, size_t cap);

#endif
