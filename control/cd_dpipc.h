/* SPDX-License-Identifier: MIT */
/*
 * egw-controld's side of the fast-path IPC (rules/include/egw/ipc.h): the
 * client of egw-dataplane's socket. Receives event batches (handed to the
 * event sink), sends flow verdicts for punted flows, and drives the fast
 * path's side of a two-phase reload. Connects lazily and reconnects (the
 * fast path may start after controld, or restart): cd_dpipc_tick() retries
 * at most once a second. Without a fast path (kernel mode, tests) nothing is
 * sent and reloads involve controld alone.
 *
 * Every received message is validated with egw_ipc_check(); a bad one is
 * logged (one line), counted, and the connection closed.
 * Thread safety: main thread only.
 */
#ifndef CD_DPIPC_H
#define CD_DPIPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <egw/event.h>
#include <egw/ipc.h>

#include "cd_evsink.h"

struct cd_dpipc;

struct cd_dpipc_stats {
	bool connected;
	uint64_t events, events_lost, verdicts_sent, send_errors, protocol_errors,
		connects;
};

struct cd_dpipc *cd_dpipc_new(const char *path, struct cd_evsink *sink);
void cd_dpipc_free(struct cd_dpipc *c);
/* The socket fd to poll, or -1 while disconnected. */
int cd_dpipc_fd(const struct cd_dpipc *c);
/* Connect if due (now_us), or no-op. */
void cd_dpipc_tick(struct cd_dpipc *c, uint64_t now_us);
/* Read what is waiting (events go to the sink). */
void cd_dpipc_handle(struct cd_dpipc *c);
bool cd_dpipc_connected(const struct cd_dpipc *c);
/* Send a flow verdict (non-blocking; counted when it cannot go). */
int cd_dpipc_send_verdict(struct cd_dpipc *c, const struct egw_ipc_flow_verdict *v);
/* Reload phase (PREPARE with path, COMMIT, ABORT) for generation; waits up to
 * timeout_ms for the reply, handling events meanwhile. 0, or -1 with the
 * fast path's message in err. Not connected: 0 (nothing to do). */
int cd_dpipc_reload(struct cd_dpipc *c, enum egw_ipc_reload_phase phase,
		    uint64_t generation, const char *path, int timeout_ms,
		    char *err, size_t errlen);
void cd_dpipc_get_stats(const struct cd_dpipc *c, struct cd_dpipc_stats *out);

#endif
