/* SPDX-License-Identifier: MIT */
/* egwctl policy: placeholder until the policy commands land (see the issue notes). */
#include <stdio.h>

#include "ctl.h"

int ctl_policy_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "egwctl policy: not built yet\n");
	return 2;
}
