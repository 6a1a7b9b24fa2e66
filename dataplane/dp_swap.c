/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <time.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp_swap.h"

int dp_swap_init(struct dp_swap *s, unsigned nworkers, const void *initial)
{
	s->qs = NULL;
	s->n = 0;
	atomic_store(&s->cur, initial);
	if (!nworkers || nworkers > RTE_MAX_LCORE)
		return -EINVAL;
	size_t sz = rte_rcu_qsbr_get_memsize(nworkers);
	if (sz == (size_t)1 || !sz)   /* 1: the API's error */
		return -EINVAL;
	s->qs = rte_zmalloc("egw_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (!s->qs)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(s->qs, nworkers)) {
		rte_free(s->qs);
		s->qs = NULL;
		return -EINVAL;
	}
	for (unsigned i = 0; i < nworkers; i++)
		rte_rcu_qsbr_thread_register(s->qs, i);
	s->n = nworkers;
	return 0;
}

void dp_swap_fini(struct dp_swap *s)
{
	rte_free(s->qs);
	s->qs = NULL;
	s->n = 0;
}

const void *dp_swap_online(struct dp_swap *s, unsigned id)
{
	/* Online first (it ends with a full fence), then load: either the
	 * writer sees this worker online and waits for it, or this load sees
	 * what the writer stored. */
	rte_rcu_qsbr_thread_online(s->qs, id);
	return dp_swap_current(s);
}

void dp_swap_offline(struct dp_swap *s, unsigned id)
{
	rte_rcu_qsbr_thread_offline(s->qs, id);
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One grace period: every online worker reports a quiescent state after
 * now. 0, or -ETIMEDOUT with the first late worker in *stuck. */
static int grace_period(struct dp_swap *s, unsigned timeout_ms, unsigned *stuck)
{
	uint64_t token = rte_rcu_qsbr_start(s->qs);
	uint64_t deadline = mono_us() + (uint64_t)timeout_ms * 1000u;
	const struct timespec nap = { 0, 20000 };

	while (!rte_rcu_qsbr_check(s->qs, token, false)) {
		if (mono_us() < deadline) {
			nanosleep(&nap, NULL);
			continue;
		}
		for (unsigned i = 0; i < s->n; i++) {
			uint64_t c = __atomic_load_n(&s->qs->qsbr_cnt[i].cnt, __ATOMIC_ACQUIRE);
			if (c != __RTE_QSBR_CNT_THR_OFFLINE && c < token) {
				if (stuck)
					*stuck = i;
				return -ETIMEDOUT;
			}
		}
		/* Every worker caught up while we looked. */
		break;
	}
	return 0;
}

int dp_swap_publish(struct dp_swap *s, const void *next, unsigned timeout_ms, unsigned *stuck)
{
	atomic_store_explicit(&s->cur, next, memory_order_release);
	/* Pairs with the fence in rte_rcu_qsbr_thread_online (a worker
	 * coming online while we publish). */
	atomic_thread_fence(memory_order_seq_cst);
	int r = grace_period(s, timeout_ms, stuck);
	if (!r)
		r = grace_period(s, timeout_ms, stuck);
	return r;
}
