/* SPDX-License-Identifier: MIT */
/*
 * The log directory egwctl logs/report use: --dir DIR, or log.directory of
 * the policy (--config FILE, default /etc/egw/egw.cfg), relative paths
 * resolved against the policy's folder (policy.md), EGW_LOG_DIR_DEFAULT when
 * it has none (as the daemons). Only the log section is read, so a policy
 * whose other sections fail to compile still gives it.
 */
#ifndef EGW_CTL_LOGDIR_H
#define EGW_CTL_LOGDIR_H

#include <stddef.h>
#include <stdint.h>

#define CTL_DEFAULT_CONFIG "/etc/egw/egw.cfg"

/* 0 and the directory in buf, or -1 after printing one error line. */
int ctl_log_dir(const char *dir_opt, const char *config, char *buf, size_t cap);

/* Real time, microseconds since the epoch. */
int64_t ctl_now_us(void);

#endif
