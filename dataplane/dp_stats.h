/* SPDX-License-Identifier: MIT */
/*
 * Counters as JSON (egwctl stats, replay --stats, STATS_REPLY): the sum
 * over workers, and each worker's own.
 */
#ifndef DP_STATS_H
#define DP_STATS_H

#include <jansson.h>

#include "dp_worker.h"

/* New reference, NULL on ENOMEM. */
json_t *dp_stats_json(struct dp_worker *const *workers, unsigned n);

#endif
