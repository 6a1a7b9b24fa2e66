/* SPDX-License-Identifier: MIT */
/* Management socket requests: whatever arrives is validated without harm. */
#include <stddef.h>
#include <stdint.h>

#include "cd_mgmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cd_mgmt_req r;
	char err[256];

	cd_mgmt_parse_request((const char *)data, size, false, &r, err, sizeof(err));
	cd_mgmt_parse_request((const char *)data, size, true, &r, err, sizeof(err));
	return 0;
}
