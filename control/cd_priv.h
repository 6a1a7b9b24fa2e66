/* SPDX-License-Identifier: MIT */
/*
 * Least privilege and service manager integration.
 *
 * cd_priv_drop: after start-up (sockets bound, rules installed), keep only
 * CAP_NET_ADMIN (nfqueue verdicts, nftables) in the effective, permitted
 * and bounding sets, so that helpers (iptables-nft at exit) get no more
 * either. The uid stays 0 (the run and log directories are root's).
 * (Readiness for systemd: egw_notify, egw/notify.h.)
 */
#ifndef CD_PRIV_H
#define CD_PRIV_H

#include <stddef.h>

/* 0, or -1 with the reason in err. */
int cd_priv_drop(char *err, size_t errlen);

#endif
