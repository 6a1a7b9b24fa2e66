/* SPDX-License-Identifier: MIT */
/*
 * DPDK telemetry commands (dpdk-telemetry.py, the /var/run/dpdk socket):
 *   /egw/stats  the counters, flattened ("drops_spoof": n, ...)
 *   /egw/flows  live flows, one line each (at most 64)
 * The sources are called from the telemetry thread; they must be safe
 * there (see dp_port.c). Set src to NULL before the sources go away.
 */
#ifndef DP_TELEMETRY_H
#define DP_TELEMETRY_H

#include <jansson.h>

struct dp_telemetry_src {
	void *arg;
	json_t *(*stats)(void *arg);  /* an object; new reference */
	json_t *(*flows)(void *arg);  /* { "flows": [ {...}, ... ] }; new reference */
};

/* 0, or -errno when the commands cannot be registered. */
int dp_telemetry_set(const struct dp_telemetry_src *src);

#endif
