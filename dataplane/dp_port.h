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
 * The control-plane socket (dp_ipc) streams events to egw-controld, takes
 * its flow verdicts, answers stats and runs two-phase reloads; SIGHUP
 * reloads the policy file alone. A reload builds the new tables on the main
 * lcore, publishes them with one pointer swap, and frees the old ones once
 * every worker has acknowledged the new ones (each re-decides its live
 * flows under the new policy first: no flow and no packet is lost).
 * Runs until SIGINT/SIGTERM.
 */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <egw/policy.h>

#include "dp_tables.h"

struct dp_port_opts {
	const char *events;   /* NULL, or a file for EVE JSON lines */
	const char *stats;    /* NULL, or a file for the counters at exit */
	const char *socket;   /* the control-plane socket path */
};

/* 0 after a clean stop; -1 after one line on stderr saying what kept it
 * from starting (a port that does not exist, too few lcores, a tap name
 * already in use, ...). */
/* *pol and *t are the running policy and its tables; a reload replaces
 * them (freeing the old), so on return they are the ones in force. */
int dp_port_main(struct egw_policy **pol, struct dp_tables **t,
		 const struct dp_port_opts *o);

#endif
