/* SPDX-License-Identifier: MIT */
/* egwctl logs: placeholder until the logs commands land (see the issue notes). */
#include <stdio.h>

#include "ctl.h"

int ctl_logs_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "egwctl logs: not built yet\n");
	return 2;
}
