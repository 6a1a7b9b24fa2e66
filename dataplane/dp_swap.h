/* SPDX-License-Identifier: MIT */
/*
 * The tables in force and their replacement under traffic (hot reload),
 * with DPDK's quiescent-state-based RCU (rte_rcu_qsbr).
 *
 * Workers (readers, ids 0 .. n-1) keep a pointer to the tables across loop
 * iterations: their flows' verdicts point into the policy behind it, so a
 * worker needs the old tables until it has re-decided its flows under the
 * new ones (dp_worker_rebind). A worker's loop:
 *
 *	dp_swap_quiescent(s, id);        nothing loaded before is in use
 *	nt = dp_swap_current(s);
 *	if (nt != mine) { rebind mine -> nt; mine = nt; }
 *	... packets with mine ...
 *
 * (dp_port.c rebinds in slices, dp_worker_rebind_begin / _step, and skips
 * the quiescent report until the last slice: the rebind "follows the load"
 * for as many loops as it takes.)
 *
 * The main thread, the only writer, builds new tables off the fast path
 * and calls dp_swap_publish: it stores the pointer, then waits for two
 * grace periods. After the first, every worker has reported a quiescent
 * state after the store, so its next load returns the new pointer; after
 * the second, every worker has reported again, so the rebind that followed
 * that load is over and nothing refers to the old tables: the caller may
 * free them. (One grace period is not enough: a worker may report between
 * the store and its rebind, then still read the old tables.)
 *
 * Offline workers (not started, or finished) count as quiescent; a worker
 * coming online takes the current pointer (dp_swap_online) and has no
 * flows to rebind.
 *
 * Thread safety: dp_swap_publish from one thread at a time; the worker
 * calls from worker id's own lcore only; dp_swap_current from anywhere.
 * Needs an initialised EAL (the QSBR variable is rte_malloc memory).
 */
#ifndef DP_SWAP_H
#define DP_SWAP_H

#include <stdatomic.h>

#include <rte_rcu_qsbr.h>

struct dp_swap {
	_Atomic(const void *) cur;
	struct rte_rcu_qsbr *qs;
	unsigned n;
};

/* 0, or -EINVAL (no workers, more than RTE_MAX_LCORE) / -ENOMEM. */
int dp_swap_init(struct dp_swap *s, unsigned nworkers, const void *initial);
void dp_swap_fini(struct dp_swap *s);

/* Worker id starts reporting; returns the pointer it now holds. */
const void *dp_swap_online(struct dp_swap *s, unsigned id);
/* Worker id stops reporting (before it ends, or before it blocks). */
void dp_swap_offline(struct dp_swap *s, unsigned id);

static inline void dp_swap_quiescent(struct dp_swap *s, unsigned id)
{
	rte_rcu_qsbr_quiescent(s->qs, id);
}

static inline const void *dp_swap_current(struct dp_swap *s)
{
	return atomic_load_explicit(&s->cur, memory_order_acquire);
}

/*
 * Put next in force and wait until no worker can use the previous pointer
 * any more (two grace periods, above), at most timeout_ms for each. 0: the
 * previous pointer may be freed. -ETIMEDOUT: next is in force, but worker
 * *stuck reported no quiescent state in time and may still use the
 * previous pointer: do not free it.
 */
int dp_swap_publish(struct dp_swap *s, const void *next, unsigned timeout_ms, unsigned *stuck);

#endif
