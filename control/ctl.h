/* SPDX-License-Identifier: MIT */
/*
 * egwctl subcommands. Each takes the arguments after its own name
 * (argv[0] is the subcommand name) and returns the process exit status:
 * 0 success, 1 the operation found a problem (bad policy, broken log),
 * 2 usage or environment error.
 */
#ifndef EGW_CTL_H
#define EGW_CTL_H

int ctl_policy_main(int argc, char **argv);  /* check, compile */
int ctl_logs_main(int argc, char **argv);    /* query, verify */
int ctl_stats_main(int argc, char **argv);   /* egw-controld counters */
int ctl_reload_main(int argc, char **argv);  /* two-phase reload */
int ctl_flows_main(int argc, char **argv);   /* live flows of both daemons */
int ctl_report_main(int argc, char **argv);  /* daily */

#endif
