/* SPDX-License-Identifier: MIT */
/*
 * Flagged destinations into the nftables sets flagged_v4 / flagged_v6 of
 * table inet <table> (kernel mode: the compiled ruleset's table; dataplane
 * mode: egw-controld's punt table), with a timeout. Additions are batched:
 * cd_nft_sets_add only queues; cd_nft_sets_flush sends all queued elements
 * as one libnftables buffer = one transaction. Re-adding an element resets
 * its timeout. Thread safety: one thread.
 */
#ifndef CD_NFT_SETS_H
#define CD_NFT_SETS_H

#include <stddef.h>
#include <stdint.h>

#define CD_NFT_SETS_BATCH 256

struct cd_nft_sets;

struct cd_nft_sets *cd_nft_sets_new(const char *table, unsigned timeout_s);
void cd_nft_sets_free(struct cd_nft_sets *s);
/* Queue addr (16 bytes; IPv4 in the first 4). Duplicates in one batch are
 * merged. A full batch is flushed first. 0 or -errno. */
int cd_nft_sets_add(struct cd_nft_sets *s, int family, const uint8_t *addr);
size_t cd_nft_sets_pending(const struct cd_nft_sets *s);
/* The batch as nft text into buf (for tests); length or -1. */
int cd_nft_sets_text(const struct cd_nft_sets *s, char *buf, size_t cap);
/* Send the batch. 0, or -1 with *err (malloc'd) from nftables; the batch is
 * dropped either way. */
int cd_nft_sets_flush(struct cd_nft_sets *s, char **err);
uint64_t cd_nft_sets_added(const struct cd_nft_sets *s);

/*
 * Memory of what is flagged (at most CD_NFT_SETS_KEEP addresses; the one
 * expiring first gives way), so that a kernel-mode reload, which replaces
 * the table and its sets, restores them in the same transaction:
 * cd_nft_sets_restore_text writes "add element ..." lines with the time
 * each address has left (nothing for expired ones). Length or -1.
 */
#define CD_NFT_SETS_KEEP 4096
void cd_nft_sets_remember(struct cd_nft_sets *s, int family, const uint8_t *addr,
			  uint64_t now_us);
int cd_nft_sets_restore_text(const struct cd_nft_sets *s, uint64_t now_us,
			     char *buf, size_t cap);
size_t cd_nft_sets_remembered(const struct cd_nft_sets *s, uint64_t now_us);

#endif
