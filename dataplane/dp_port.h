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
 * lcore, publishes them with one pointer swap, and frees the old ones after
 * two rte_rcu_qsbr grace periods (dp_swap.h), when every worker has
 * re-decided its live flows under the new policy (dp_worker_rebind: a flow
 * the new policy treats otherwise ends with reason "reload"; the others go
 * on, no packet lost). A worker stuck for 10 s: the old tables are kept,
 * with one line on stderr naming it. A changed gateway section (ports,
 * workers, flows) is refused with one line naming the change (the old
 * policy keeps running); fail_mode applies on reload.
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
	unsigned mbufs;       /* packet buffers; 0: 3 * workers * (rx + tx
			       * descriptors) + 4096, plus the packets of every
			       * rx_pcap file of a net_pcap port with infinite_rx=1
			       * (net_pcap copies the whole capture into the pool) */
};

#define DP_PORT_MAX_MBUFS (64u << 20)

/* Call dp_port_catch_signals first (main does).
 * 0 after a clean stop; -1 after one line on stderr saying what kept it
 * from starting (a port that does not exist, too few lcores, a tap name
 * already in use, ...). */
/* *pol and *t are the running policy and its tables; a reload replaces
 * them (freeing the old), so on return they are the ones in force. */
int dp_port_main(struct egw_policy **pol, struct dp_tables **t,
		 const struct dp_port_opts *o);

/*
 * SIGINT and SIGTERM (stop) and SIGHUP (reload) caught from now on; call
 * first thing in main, before DPDK starts. A stop asked for while the
 * ports start (a large capture's preload takes seconds) is then kept and
 * honoured as soon as dp_port_main's loop begins. Without it, a process
 * started in the background by a script, which begins with SIGINT
 * ignored (POSIX: asynchronous lists of a shell without job control),
 * dropped that SIGINT, and a script's `kill -INT; wait` hung for good.
 * Main thread, before other threads exist.
 */
void dp_port_catch_signals(void);

#endif
