/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "dp_port.h"

int dp_port_main(const struct egw_policy *pol, const struct dp_tables *t)
{
	(void)t;
	fprintf(stderr, "egw-dataplane: port mode (%s, %s) is not built yet; use --replay\n",
		pol->gateway.inside, pol->gateway.outside);
	return -1;
}
