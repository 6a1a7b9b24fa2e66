/* SPDX-License-Identifier: MIT */
/*
 * Run a helper program (iptables-nft, ip6tables-nft) with a fixed argv: no
 * shell, no PATH search (argv[0] is an absolute path), empty environment.
 * Blocks until it exits. Thread safety: any thread.
 */
#ifndef CD_SPAWN_H
#define CD_SPAWN_H

#include <stdbool.h>

/* Returns the exit status (0..255), or -errno when it could not run or was
 * killed. quiet: its stdout and stderr go to /dev/null. */
int cd_spawn(const char *const argv[], bool quiet);   /* at most 31 args */

/* First of the candidate absolute paths that is executable, or NULL. */
const char *cd_spawn_find(const char *const *candidates);

#endif
