/* SPDX-License-Identifier: MIT */
/*
 * The fast path's end of the control-plane socket (rules/include/egw/ipc.h):
 * a SOCK_SEQPACKET server. The events subscriber is the oldest open
 * connection whose first message was not a STATS_REQUEST (egw-controld
 * connects and listens; egwctl asks for stats at once and ignores any
 * EVENTS it sees before that). Every received message is checked with
 * egw_ipc_check(); a bad one closes that connection (one line on stderr).
 *
 * Thread safety: main lcore only. Never blocks: a batch that cannot be sent
 * now is dropped and counted as lost.
 */
#ifndef DP_IPC_H
#define DP_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <egw/event.h>
#include <egw/ipc.h>

struct dp_ipc_ops {
	void *arg;
	/* A valid FLOW_VERDICT. */
	void (*verdict)(void *arg, const struct egw_ipc_flow_verdict *v);
	/* Body of a STATS_REPLY for request req (NULL: empty request); new ref. */
	json_t *(*stats)(void *arg, const json_t *req);
	/* A valid RELOAD: 0 or -errno, message into msg. */
	int (*reload)(void *arg, const struct egw_ipc_reload *r, char *msg, size_t cap);
	/* The events subscriber came or went. */
	void (*subscriber)(void *arg, bool up);
};

struct dp_ipc;

/* Listen on path (its directory is created). NULL after one line on stderr
 * (e.g. the socket is in use by a running egw-dataplane). */
struct dp_ipc *dp_ipc_open(const char *path, const struct dp_ipc_ops *ops);
void dp_ipc_close(struct dp_ipc *ipc);

/* Accept and handle what is waiting, for at most timeout_ms. A connection
 * becomes the events subscriber (the control plane is up) when its first
 * message is not a STATS_REQUEST, or when it has said nothing for 200 ms
 * (egw-controld listens first): an egwctl stats client never is, even for
 * a moment. Call it at least every few tens of ms. */
void dp_ipc_poll(struct dp_ipc *ipc, int timeout_ms);

/* Queue events for the subscriber (sent in batches of up to
 * EGW_IPC_EVENTS_MAX; dp_ipc_flush sends a partial batch). Events that
 * cannot be delivered are counted in *lost. */
void dp_ipc_events(struct dp_ipc *ipc, const struct egw_event *ev, unsigned n, uint64_t *lost);
void dp_ipc_flush(struct dp_ipc *ipc, uint64_t *lost);

bool dp_ipc_has_subscriber(const struct dp_ipc *ipc);
uint64_t dp_ipc_protocol_errors(const struct dp_ipc *ipc);

#endif
