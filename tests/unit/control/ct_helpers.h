/* SPDX-License-Identifier: MIT */
/*
 * What the control unit tests (tests/unit/control/test_*.c) share: a
 * scratch directory and its removal, a simulated clock for the log writer
 * (struct elog_cfg.clock), and running a Check suite as the program's exit
 * status. Header-only (each test is its own program); single-threaded.
 */
#ifndef CT_HELPERS_H
#define CT_HELPERS_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A new directory /tmp/<prefix>-XXXXXX (malloc'ed path; the test frees it). */
static inline char *ct_mkdtemp(const char *prefix)
{
	char t[256];
	char *p;

	snprintf(t, sizeof(t), "/tmp/%s-XXXXXX", prefix);
	p = strdup(t);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(mkdtemp(p));
	return p;
}

/* Remove d and everything in it (a path ct_mkdtemp made: no quotes in it). */
static inline void ct_rm_rf(const char *d)
{
	char cmd[512];

	ck_assert_ptr_null(strchr(d, '\''));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	ck_assert_int_eq(system(cmd), 0);
}

/* The simulated time (us since the epoch) that ct_sim_clock returns. */
static int64_t ct_sim_now;

static inline int64_t ct_sim_clock(void *arg)
{
	(void)arg;
	return ct_sim_now;
}

/* Run every test of s (CK_NORMAL: failures are printed) and free it: the
 * test program's exit status, 0 when all passed. */
static inline int ct_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
