/* SPDX-License-Identifier: MIT */
/*
 * The nfqueue consumer of egw-controld (libmnl API of libnetfilter_queue).
 *
 * Binds queue_num .. queue_num+queue_count-1 (one netlink socket each; the
 * punt rule fans out over them), in copy-packet mode with copy_range bytes,
 * queue length maxlen, GSO packets accepted unsegmented (F_GSO), and
 * F_FAIL_OPEN when fail_open (a full queue then accepts instead of dropping;
 * when the daemon is gone the punt rule's "bypass" does the same).
 *
 * Packets are read in bursts of up to 64 with one recvmmsg() per burst.
 * Verdicts are sent once per burst: runs of equal verdicts (and marks)
 * become one NFQNL_MSG_VERDICT_BATCH each, all in one send.
 *
 * Thread safety: one thread owns a struct cd_nfq. Errors: constructors return
 * NULL with a one-line reason in err; others return 0 or -errno.
 */
#ifndef CD_NFQ_H
#define CD_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cd_nfq_cfg {
	uint16_t queue_num;    /* first queue */
	uint16_t queue_count;  /* 1.. CD_NFQ_MAX_QUEUES */
	uint32_t maxlen;       /* kernel queue length, packets */
	uint32_t copy_range;   /* bytes of each packet copied to us */
	bool fail_open;
};

#define CD_NFQ_MAX_QUEUES 16

void cd_nfq_cfg_default(struct cd_nfq_cfg *c);

/* A queued packet, valid during the callback only. */
struct cd_nfq_pkt {
	uint32_t id;
	uint16_t queue;
	uint16_t hw_protocol;   /* ETH_P_IP / ETH_P_IPV6, host order */
	const uint8_t *data;    /* network header first */
	size_t len;             /* bytes in data (<= copy_range) */
	size_t orig_len;        /* length on the wire */
	uint32_t mark;
	uint32_t indev;         /* ifindex, 0 when none */
	bool gso;               /* unsegmented GSO packet */
};

enum cd_verdict { CD_DROP = 0, CD_ACCEPT = 1 };

/* Returns the verdict for pkt; may set *mark (starts 0 = leave the packet
 * mark alone) to a new packet mark sent with the verdict. */
typedef enum cd_verdict (*cd_nfq_cb)(void *arg, const struct cd_nfq_pkt *pkt,
				     uint32_t *mark);

struct cd_nfq_stats {
	uint64_t packets;       /* received by us */
	uint64_t accepted, dropped;
	uint64_t enobufs;       /* socket overruns: packets lost to us */
	uint64_t truncated;     /* messages longer than a receive slot (given
				 * the fail_mode verdict uninspected) */
	uint64_t kernel_queue_dropped; /* queue full (from /proc), summed */
	uint64_t kernel_user_dropped;  /* netlink send failed in kernel */
	uint32_t queue_total;   /* currently waiting in the kernel queues */
};

struct cd_nfq;

struct cd_nfq *cd_nfq_open(const struct cd_nfq_cfg *cfg, char *err, size_t errlen);
void cd_nfq_close(struct cd_nfq *q);     /* unbinds; NULL ok */
/* Number of sockets, their fds in fds[0..n). */
size_t cd_nfq_fds(const struct cd_nfq *q, int *fds, size_t max);
/* Read what is waiting on socket i (non-blocking), call cb for each packet,
 * send the verdicts. Returns packets handled (>= 0) or -errno. */
int cd_nfq_process(struct cd_nfq *q, size_t i, cd_nfq_cb cb, void *arg);
/* Change F_FAIL_OPEN on every queue (policy reload). 0 or -errno. */
int cd_nfq_set_fail_open(struct cd_nfq *q, bool fail_open);
/* Counters; the kernel's part read from /proc/net/netfilter/nfnetlink_queue. */
void cd_nfq_get_stats(const struct cd_nfq *q, struct cd_nfq_stats *out);

/* Parse the /proc file's text for queues [first, first+count); adds into
 * out's kernel fields. Returns queues found. Pure; for tests. */
int cd_nfq_parse_proc(const char *text, uint16_t first, uint16_t count,
		      struct cd_nfq_stats *out);

#endif
