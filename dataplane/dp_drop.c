/* SPDX-License-Identifier: MIT */
#include "dp_drop.h"

static const char *const names[DP_DROP__COUNT] = {
	[DP_DROP_NONE] = "none",
#define DP_DROP_NAME(e, s) [DP_DROP_##e] = s,
	DP_DROP_REASONS(DP_DROP_NAME)
#undef DP_DROP_NAME
};

const char *dp_drop_name(unsigned reason)
{
	return reason < DP_DROP__COUNT ? names[reason] : "?";
}
