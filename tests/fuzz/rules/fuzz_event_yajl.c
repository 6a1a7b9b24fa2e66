/* SPDX-License-Identifier: MIT */
/*
 * egw_event_encode (yajl, streaming) against egw_event_to_json + json_dumpb
 * (JSON_COMPACT, the log writer's flags) on a struct egw_event made of
 * arbitrary bytes: both must succeed and write the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <egw/event.h>

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct egw_event_enc *enc;
	struct egw_event *ev = malloc(sizeof(*ev));
	const char *y;
	size_t yn;

	if (!ev)
		return 0;
	if (!enc)
		enc = egw_event_enc_new();  /* reused, as by the writer */
	CHECK(enc != NULL);
	memset(ev, 0, sizeof(*ev));
	memcpy(ev, data, size < sizeof(*ev) ? size : sizeof(*ev));
	json_t *o = egw_event_to_json(ev);
	CHECK(o != NULL);
	size_t jn = json_dumpb(o, NULL, 0, JSON_COMPACT);
	char *j = malloc(jn ? jn : 1);
	CHECK(j != NULL);
	CHECK(json_dumpb(o, j, jn, JSON_COMPACT) == jn);
	CHECK(egw_event_encode(enc, ev, &y, &yn) == 0);
	CHECK(yn == jn && memcmp(y, j, jn) == 0);
	free(j);
	json_decref(o);
	free(ev);
	return 0;
}
