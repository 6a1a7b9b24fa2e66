/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the whole worker path (parse, identity, flow table, verdict,
 * fragments, DNS events) on a sequence of frames against the example policy.
 * Input: records of [flags:1][len:2 big endian][frame:len]; flags bit 0 =
 * from the outside, bits 1-7 = seconds to advance the clock.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../unit/dataplane/eal_fixture.h"
#include "../../unit/dataplane/policy_fixture.h"
#include "dp_policy.h"
#include "dp_tables.h"
#include "dp_worker.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dp_tables *tables;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	eal_fixture_init((*argv)[0]);
	struct egw_diag *d = egw_diag_new();
	tables = dp_tables_build(fixture_policy(), d);
	egw_diag_free(d);
	if (!tables)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_worker w;
	uint64_t now = 1000000000ull;

	/* A small table so eviction happens too. */
	if (dp_worker_init(&w, 0, 8, 16))
		abort();
	size_t off = 0;
	while (off + 3 <= size) {
		uint8_t flags = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		now += (uint64_t)(flags >> 1) * 1000000u;
		dp_worker_tick(&w, tables, now);
		uint8_t frame[65536];
		memcpy(frame, data + off, len);   /* the worker may rewrite it */
		uint32_t l = (uint32_t)len;
		enum dp_disp d = dp_worker_packet(&w, tables, frame, &l, flags & 1, now);
		if (d != DP_DISP_DROP && d != DP_DISP_FORWARD && d != DP_DISP_PUNT &&
		    d != DP_DISP_REPLY)
			abort();
		if (l > len)
			abort();   /* an answer is never longer than its query */
		if (w.ft.n > w.ft.cap)
			abort();
		/* The consumer's side: every event formats (its policy alive). */
		const struct dp_raw_event *e;
		struct egw_event ev;
		while ((e = dp_event_peek(&w.ev))) {
			dp_event_format(e, &ev);
			dp_event_pop(&w.ev);
		}
		off += len;
	}
	dp_worker_flush(&w, tables, "shutdown");
	if (w.ft.n != 0)
		abort();
	dp_worker_fini(&w);
	return 0;
}
