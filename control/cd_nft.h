/* SPDX-License-Identifier: MIT */
/*
 * libnftables runner: one text buffer = one kernel transaction (a failing
 * command rolls back the whole buffer). Thread safety: one context per call,
 * so any thread; not async-signal-safe.
 */
#ifndef CD_NFT_H
#define CD_NFT_H

#include <stdbool.h>

/*
 * Run buf. dry_run: the kernel checks the transaction and aborts it.
 * Returns 0, or -1 with *err (when err is not NULL) set to nft's error text
 * (malloc'd, caller frees; may be NULL on ENOMEM).
 */
int cd_nft_run(const char *buf, bool dry_run, char **err);

/* Like cd_nft_run but returns the command's output in *out (malloc'd). */
int cd_nft_query(const char *buf, char **out, char **err);

#endif
