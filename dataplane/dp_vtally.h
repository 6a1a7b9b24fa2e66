/* SPDX-License-Identifier: MIT */
/*
 * Control-plane verdicts that found no flow. A verdict goes to every worker
 * (the one holding the flow takes it); when none holds it any more (evicted,
 * timed out, ended) the verdict is counted, once, by the worker that missed
 * it last (struct dp_stats.verdicts_no_flow, "control_verdicts_no_flow" in
 * the stats). One slot per verdict in flight, counting the workers that
 * have not missed it yet; a worker that takes the verdict never counts down,
 * so its slot never reaches zero.
 *
 * Thread safety: dp_vtally_open and dp_vtally_cancel from one thread (the
 * one handing out verdicts), dp_vtally_miss from any worker; C11 atomics,
 * DPDK-free. Slots are reused after DP_VTALLY_SLOTS later verdicts, so no
 * more than that may be in flight at once (each worker's verdict ring holds
 * fewer).
 */
#ifndef DP_VTALLY_H
#define DP_VTALLY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define DP_VTALLY_SLOTS 8192u

struct dp_vtally {
	_Atomic uint32_t left[DP_VTALLY_SLOTS];
	uint32_t next;
};

/* All zero is a valid empty tally too. */
void dp_vtally_init(struct dp_vtally *t);

/* A slot for a verdict about to go to n workers (n >= 1); its id, to send
 * along with the verdict. */
uint32_t dp_vtally_open(struct dp_vtally *t, unsigned n);

/* The verdict id could not be handed to one of its workers: it is not
 * counted as found-no-flow, whatever the others find. */
void dp_vtally_cancel(struct dp_vtally *t, uint32_t id);

/* A worker found no flow for verdict id: true when it was the last of its
 * workers to look and none had the flow (count it then). */
bool dp_vtally_miss(struct dp_vtally *t, uint32_t id);

#endif
