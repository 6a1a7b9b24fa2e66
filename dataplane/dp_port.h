/* SPDX-License-Identifier: MIT */
/*
 * Port mode: the inside, outside and punt ports of the policy's gateway
 * section, gateway.workers worker lcores, forwarding until SIGINT/SIGTERM.
 * Returns 0 after a clean stop, -1 after one line on stderr saying what
 * kept it from starting (a port that does not exist, too few lcores, ...).
 */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <egw/policy.h>

#include "dp_tables.h"

int dp_port_main(const struct egw_policy *pol, const struct dp_tables *t);

#endif
