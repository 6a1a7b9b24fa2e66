/* SPDX-License-Identifier: MIT */
#include "dp_vtally.h"

/* Set on a slot whose verdict some worker never received. */
#define CANCELLED 0x80000000u

void dp_vtally_init(struct dp_vtally *t)
{
	for (uint32_t i = 0; i < DP_VTALLY_SLOTS; i++)
		atomic_init(&t->left[i], 0);
	t->next = 0;
}

uint32_t dp_vtally_open(struct dp_vtally *t, unsigned n)
{
	uint32_t id = t->next++ % DP_VTALLY_SLOTS;
	atomic_store_explicit(&t->left[id], n, memory_order_release);
	return id;
}

void dp_vtally_cancel(struct dp_vtally *t, uint32_t id)
{
	atomic_fetch_or_explicit(&t->left[id % DP_VTALLY_SLOTS], CANCELLED,
				 memory_order_acq_rel);
}

bool dp_vtally_miss(struct dp_vtally *t, uint32_t id)
{
	uint32_t old = atomic_fetch_sub_explicit(&t->left[id % DP_VTALLY_SLOTS], 1,
						 memory_order_acq_rel);
	return old == 1;   /* neither cancelled nor taken, and the last to look */
}
