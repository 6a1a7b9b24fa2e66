/* SPDX-License-Identifier: MIT */
/* A DPDK EAL for unit tests: no hugepages, no devices, no shared files.
 * eal_fixture_init once from main() first; eal_fixture_run to run the suite
 * (CK_NOFORK: the EAL does not survive fork()) and release the EAL. */
#ifndef TEST_EAL_FIXTURE_H
#define TEST_EAL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include <check.h>
#include <rte_eal.h>

static inline void eal_fixture_init(const char *prog)
{
	char *argv[] = { (char *)prog, (char *)"--no-huge", (char *)"-m", (char *)"512",
			 (char *)"--no-pci", (char *)"--no-shconf", (char *)"-l", (char *)"0",
			 (char *)"--log-level=error", (char *)"--no-telemetry", NULL };
	if (rte_eal_init(10, argv) < 0) {
		fprintf(stderr, "%s: cannot initialise the DPDK EAL\n", prog);
		exit(2);
	}
}

/* Runs every test of s in this process (s is freed), then rte_eal_cleanup.
 * Returns main()'s exit status: 0 when all passed, 1 when any failed. */
static inline int eal_fixture_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_eal_cleanup();
	return failed ? 1 : 0;
}

#endif
