/* SPDX-License-Identifier: MIT */
/*
 * What a reload may change in the gateway section. Ports (inside, outside,
 * punt), workers and flows are set up once at start (devices, queues, one
 * lcore and one flow table per worker): a reload that changes any of them
 * is refused and the running policy stays. fail_mode is read per packet
 * from the tables' policy, so it simply applies with the new policy.
 * DPDK-free.
 */
#ifndef DP_GATEWAY_H
#define DP_GATEWAY_H

#include <stddef.h>

#include <egw/policy.h>

/*
 * 0 when next may replace run; -EINVAL with one line in msg naming the
 * gateway section (file:line of next) and every changed setting, old and
 * new value, and that a restart is needed.
 */
int dp_gateway_check_reload(const struct egw_gateway *run, const struct egw_gateway *next,
			    char *msg, size_t cap);

#endif
