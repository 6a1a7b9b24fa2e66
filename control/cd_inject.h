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

/* Reply to the DNS query in k (parsed from the queued packet) with
 * NXDOMAIN. UDP: one datagram. TCP (k: a segment holding exactly one whole
 * length-prefixed query, ACK set): a RST|ACK to the server (seq = the
 * query's, which the server never gets: the caller drops it), then to the
 * client the answer in one segment, seq = the client's ack, ack = past the
 * query, PSH|FIN|ACK, which closes the connection. -EINVAL when k cannot be
 * answered (nothing sent); the error of a failed send otherwise. */
int cd_inject_nxdomain(struct cd_inject *j, const struct cd_pkt *k);
/* Reset the TCP connection of k towards its client. */
int cd_inject_rst(struct cd_inject *j, const struct cd_pkt *k);
/* Reset it towards its server (cd_inject_build_rst_server); -EINVAL when
 * k cannot give one (no ACK, a SYN). */
int cd_inject_rst_server(struct cd_inject *j, const struct cd_pkt *k);

/* Build the reply packet (IP header first) into out; length or -1. Pure;
 * for tests. */
int cd_inject_build_nxdomain(const struct cd_pkt *k, uint8_t *out, size_t cap);
int cd_inject_build_rst(const struct cd_pkt *k, uint8_t *out, size_t cap);
/* The RST|ACK from k's client to k's server, seq = k's seq (TCP with ACK). */
int cd_inject_build_rst_server(const struct cd_pkt *k, uint8_t *out, size_t cap);

#endif
