/* SPDX-License-Identifier: MIT */
/*
 * The punt rules that hand packets to egw-controld's nfqueue(s).
 *
 * Two ways, detected at start (cd_queue_detect_native):
 *  - native: an nft "queue num N[-M] [bypass]" statement (CONFIG_NFT_QUEUE);
 *  - mark: nft sets the punt mark, and an iptables-nft / ip6tables-nft rule
 *    (chain EGW_PUNT in table mangle, jumped to from FORWARD, which runs at
 *    priority -150: after the kernel-mode ruleset's forward chain at -160,
 *    before its verdict chain at 10, see rules/include/egw/nft.h) queues
 *    packets with that mark:
 *    "-m mark --mark M -j NFQUEUE --queue-num N [--queue-balance N:M]
 *    [--queue-bypass]". iptables-nft runs via posix_spawn with a fixed argv.
 *
 * Dataplane mode (kernel_mode false): table inet <table> (default
 * "egw_punt") has a forward chain at priority -155 that, for packets coming
 * in on iifname (the tap "egw-punt"), drops those to a flagged destination
 * (sets flagged_v4/flagged_v6, timeout entries added by cd_nft_sets) and
 * punts the rest. Assumption (the dataplane's call, see docs/controld.md):
 * the kernel routes packets from the tap back out of the tap (ip_forward,
 * policy routing "iif egw-punt"), so they cross the forward hook.
 *
 * Kernel mode (kernel_mode true): the compiled ruleset does the punting
 * (queue statements or the mark); only the mark mode's iptables part is
 * installed here.
 *
 * bypass (fail_mode open): with no listener bound, the kernel accepts
 * instead of dropping.
 *
 * Remove on every exit path (cd_queue_rule_remove); install removes what a
 * killed predecessor left first. Thread safety: main thread only.
 */
#ifndef CD_QUEUE_RULE_H
#define CD_QUEUE_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cd_queue_rule_cfg {
	bool kernel_mode;
	bool native;            /* result of cd_queue_detect_native */
	const char *iifname;    /* dataplane mode: the punt tap, "egw-punt" */
	const char *table;      /* dataplane mode: "egw_punt" (family inet) */
	uint16_t queue_num, queue_count;
	uint32_t mark;          /* mark mode: the punt mark */
	bool bypass;            /* fail open */
};

void cd_queue_rule_cfg_default(struct cd_queue_rule_cfg *c);

/* 1: the kernel takes the nft queue statement; 0: it does not (err holds
 * the kernel's word); -1: nftables itself failed (err says why). Checked
 * in a dry-run transaction on a scratch table: nothing is left behind. */
int cd_queue_detect_native(char *err, size_t errlen);

/* The nft text of the dataplane-mode table (also deletes an old one in the
 * same transaction). Returns length, or -1 when cap is too small. Pure. */
int cd_queue_rule_nft_text(const struct cd_queue_rule_cfg *c, char *buf, size_t cap);

/* Install. 0, or -1 with a one-line reason in err (nothing left installed). */
int cd_queue_rule_install(const struct cd_queue_rule_cfg *c, char *err, size_t errlen);
/* Remove everything install may have added (also a predecessor's). Safe to
 * call when nothing is installed. Returns 0 or -1 when something stayed. */
int cd_queue_rule_remove(const struct cd_queue_rule_cfg *c);

#endif
