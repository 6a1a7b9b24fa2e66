/* SPDX-License-Identifier: MIT */
/*
 * Service manager readiness (systemd Type=notify) without libsystemd: one
 * datagram to $NOTIFY_SOCKET (a path, or an abstract "@name"); a no-op when
 * it is not set. Both daemons say READY=1 once they serve, RELOADING=1 then
 * READY=1 around a reload, STOPPING=1 on the way out. Thread safety: any
 * thread (no state).
 */
#ifndef EGW_NOTIFY_H
#define EGW_NOTIFY_H

/* state: "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...", lines joined
 * by '\n'. 0 (no $NOTIFY_SOCKET), 1 (sent) or -errno. */
int egw_notify(const char *state);

#endif
