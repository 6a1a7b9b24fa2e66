/* SPDX-License-Identifier: MIT */
/*
 * Port mode: the inside, outside and punt ports of the policy's gateway
 * section (PCI addresses or vdev strings, probed with rte_dev_probe unless
 * the EAL already created them with --vdev), one queue pair per worker on
 * each (symmetric RSS where the port supports it), gateway.workers worker
 * lcores (the main lcore keeps the management work: events, signals,
 * stats). Each worker: rx burst -> dp_burst -> tx to the other port
 * unchanged, punts to the punt port; packets coming back from the punt port
 * (accepted by the control plane) go on towards their destination.
 * Runs until SIGINT/SIGTERM.
 */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <egw/policy.h>

#include "dp_tables.h"

struct dp_port_opts {
	const char *events;   /* NULL, or a file for EVE JSON lines */
	const char *stats;    /* NULL, or a file for the counters at exit */
};

/* 0 after a clean stop; -1 after one line on stderr saying what kept it
 * from starting (a port that does not exist, too few lcores, a tap name
 * already in use, ...). */
int dp_port_main(const struct egw_policy *pol, const struct dp_tables *t,
		 const struct dp_port_opts *o);

#endif
