/* SPDX-License-Identifier: MIT */
/* A DPDK EAL for unit tests: no hugepages, no devices, no shared files.
 * Call once from main() before srunner_run_all, and run the suite with
 * CK_NOFORK (the EAL does not survive fork()). */
#ifndef TEST_EAL_FIXTURE_H
#define TEST_EAL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>

static void eal_fixture_init(const char *prog)
{
	char *argv[] = { (char *)prog, (char *)"--no-huge", (char *)"-m", (char *)"512",
			 (char *)"--no-pci", (char *)"--no-shconf", (char *)"-l", (char *)"0",
			 (char *)"--log-level=error", (char *)"--no-telemetry", NULL };
	if (rte_eal_init(10, argv) < 0) {
		fprintf(stderr, "%s: cannot initialise the DPDK EAL\n", prog);
		exit(2);
	}
}

#endif
