/* SPDX-License-Identifier: MIT */
/* A queued packet as egw-controld sees it: header parsing, and the replies
 * it would inject (NXDOMAIN, RST) built from whatever parsed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cd_inject.h"
#include "cd_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cd_pkt k;
	uint8_t out[1600];
	/* an exact-size copy so that any over-read is caught */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	if (cd_pkt_parse(copy, size, &k) == CD_PKT_OK) {
		if (k.payload_len && (k.payload_len > size || k.payload < copy ||
				      k.payload + k.payload_len > copy + size))
			abort();
		cd_inject_build_nxdomain(&k, out, sizeof(out));
		cd_inject_build_rst(&k, out, sizeof(out));
		cd_inject_build_rst_server(&k, out, sizeof(out));
	}
	free(copy);
	return 0;
}
