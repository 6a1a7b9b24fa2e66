/* SPDX-License-Identifier: MIT */
/* libFuzzer: the fast path's frame parser on arbitrary bytes. Checks that
 * whatever it accepts is self-consistent (offsets inside the frame), and
 * that dp_parse_fast gives what dp_parse gives (return value and every
 * field), its fields written over garbage, and that dp_parse_common either
 * gives that too or leaves the struct alone. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dp_parse.h"
#include "../../unit/dataplane/pkt_compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_pkt p, fp;
	uint32_t len = size > 65535 ? 65535 : (uint32_t)size;

	memset(&fp, 0xa5, sizeof(fp));
	enum dp_drop r = dp_parse(data, len, &p);
	if (dp_parse_fast(data, len, &fp) != r || pkt_compare(&p, &fp))
		abort();
	/* The common-frame parser alone: dp_parse's result, or hands off. */
	struct dp_pkt cp, garbage;
	memset(&cp, 0xa5, sizeof(cp));
	memset(&garbage, 0xa5, sizeof(garbage));
	if (dp_parse_common(data, len, &cp)) {
		if (r != DP_DROP_NONE || pkt_compare(&p, &cp))
			abort();
	} else if (memcmp(&cp, &garbage, sizeof(cp))) {
		abort();
	}
	if (r != DP_DROP_NONE)
		return 0;
	if (p.family == 0)
		return 0;
	if (p.family != AF_INET && p.family != AF_INET6)
		abort();
	if (p.l3_off + p.l3_len > len)
		abort();
	if (p.l4_known && (uint32_t)p.payload_off + p.payload_len > len)
		abort();
	if (p.l4_known && p.l4_off > p.payload_off)
		abort();
	if (p.is_frag == 0 && p.frag_first)
		abort();
	return 0;
}
