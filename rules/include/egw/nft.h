/* SPDX-License-Identifier: MIT */
/*
 * The nftables back end: the compiled policy as one complete nftables
 * ruleset for kernel mode (a routed gateway), in nft's text syntax, loadable
 * as one transaction (`nft -f`, or nft_run_cmd_from_buffer).
 *
 * Thread safety: reentrant. Ownership: the returned text is malloc'd; the
 * caller frees it.
 */
#ifndef EGW_NFT_H
#define EGW_NFT_H

#include <stdbool.h>
#include <stdint.h>

#include <egw/policy.h>

enum egw_nft_queue_mode {
	/* nft "queue num N [bypass]" statements (kernels with CONFIG_NFT_QUEUE) */
	EGW_NFT_QUEUE_NATIVE = 0,
	/* "meta mark set MARK" and accept; an iptables-nft NFQUEUE rule on that
	 * mark (installed by egw-controld) hands the packet to the queue */
	EGW_NFT_QUEUE_MARK,
};

struct egw_nft_opts {
	const char *table;         /* default "egw" (family inet) */
	enum egw_nft_queue_mode queue_mode;
	uint16_t queue_num;        /* first nfqueue number, default 0 */
	uint16_t queue_count;      /* fanout over this many queues, default 1 */
	uint32_t punt_mark;        /* default 0x00e90001 */
	const char *inside_if;     /* interface facing the units, or NULL: any */
	const char *outside_if;    /* interface facing the internet, or NULL */
};

/*
 * Marks the ruleset and egw-controld share (docs/kernel-mode.md), derived
 * from punt_mark P:
 *  P      packet mark: "to the control plane" (mark mode; the iptables
 *         NFQUEUE rule matches it)
 *  P + 1  packet mark set by controld's nfqueue accept verdict: "inspected,
 *         allowed"; the ruleset copies it to the ct mark, the flow leaves
 *         inspection
 *  P + 2  the same for "inspected, blocked": the ruleset copies it to the ct
 *         mark, resets (TCP) or drops the packet and every later one
 *  P + 3  ct mark "inspection pending": packets of the flow in the original
 *         direction go to the control plane until it says allowed/blocked
 */
#define EGW_NFT_PUNT_MARK_DEFAULT 0x00e90001u
#define EGW_NFT_MARK_OK(p) ((uint32_t)(p) + 1u)
#define EGW_NFT_MARK_BLOCK(p) ((uint32_t)(p) + 2u)
#define EGW_NFT_CTMARK_PENDING(p) ((uint32_t)(p) + 3u)

void egw_nft_opts_default(struct egw_nft_opts *o);
/* NULL with errno set on failure: ENOMEM, or EINVAL for bad options (table
 * not an identifier, bad interface name, queue range past 65535, punt_mark 0
 * or above 0xfffffffc) or a policy whose indices are out of range. o NULL:
 * defaults. Each rule carries a comment with its policy location
 * ("policy.cfg:42"). */
char *egw_nft_compile(const struct egw_policy *p, const struct egw_nft_opts *o);

#endif
