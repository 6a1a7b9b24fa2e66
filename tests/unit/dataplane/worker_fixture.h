/* SPDX-License-Identifier: MIT */
/* A worker test's set-up and tear-down: the tables compiled from a policy,
 * a worker, a pool of packet buffers. Needs the EAL up (eal_fixture.h: the
 * tables' LPMs and the pools live in its memory). A failure is a Check
 * assertion: it ends the running test (what was set up stays allocated until
 * the process ends). */
#ifndef TEST_WORKER_FIXTURE_H
#define TEST_WORKER_FIXTURE_H

#include <stdint.h>
#include <stdio.h>

#include <check.h>
#include <rte_mbuf.h>

#include <egw/diag.h>
#include <egw/policy.h>

#include "dp_tables.h"
#include "dp_worker.h"
#include "policy_fixture.h"

/* The tables of pol (its diagnostics on stderr when it does not compile).
 * Free with dp_tables_free. */
static inline struct dp_tables *wfx_tables(const struct egw_policy *pol)
{
	struct egw_diag *d = egw_diag_new();
	ck_assert_ptr_nonnull(d);
	struct dp_tables *t = dp_tables_build(pol, d);
	if (!t)
		egw_diag_print(d, stderr);
	egw_diag_free(d);
	ck_assert_ptr_nonnull(t);
	return t;
}

/* w made worker 0 with a flow table of flows entries and an event buffer of
 * events; returns the example policy's tables (fixture_policy()). Undo with
 * wfx_stop. */
static inline struct dp_tables *wfx_start(struct dp_worker *w, uint32_t flows, uint32_t events)
{
	ck_assert_int_eq(dp_worker_init(w, 0, flows, events), 0);
	return wfx_tables(fixture_policy());
}

static inline void wfx_stop(struct dp_worker *w, struct dp_tables *t)
{
	dp_tables_free(t);
	dp_worker_fini(w);
}

/* A pool of n packet buffers, each with room bytes of data after the
 * headroom; name must be unique in the process. Free with rte_mempool_free. */
static inline struct rte_mempool *wfx_pool(const char *name, unsigned n, uint16_t room)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, n, 0, 0,
							 (uint16_t)(RTE_PKTMBUF_HEADROOM + room),
							 SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(mp);
	return mp;
}

#endif
