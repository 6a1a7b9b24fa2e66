/* SPDX-License-Identifier: MIT */
/*
 * Kernel mode: the whole policy as one nftables ruleset (egw_nft_compile),
 * applied with libnftables as one transaction that replaces the previous
 * table "inet <table>" (the old one stays when the kernel refuses the new).
 * nft's errors are mapped back to the policy: the failing rule's comment
 * carries its "file:line", which leads the reported line.
 * Thread safety: main thread.
 */
#ifndef CD_KERNEL_H
#define CD_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#include <egw/nft.h>
#include <egw/policy.h>

/* Compile p. NULL with err set. The text is malloc'd. */
char *cd_kernel_compile(const struct egw_policy *p, const struct egw_nft_opts *o,
			char *err, size_t errlen);
/* Apply (dry_run: check only). 0, or -1 with the mapped errors in err. */
int cd_kernel_apply(const char *ruleset, const char *table, bool dry_run,
		    char *err, size_t errlen);
/* Delete the table. 0 or -1. */
int cd_kernel_remove(const char *table);

/* Rewrite nft's error text so that each error line starts with the policy
 * location found in the offending command's comment ("x.cfg:12: ...").
 * Pure; for tests. */
void cd_kernel_map_errors(const char *nft_err, char *out, size_t cap);

#endif
