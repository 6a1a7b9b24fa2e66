/* SPDX-License-Identifier: MIT */
/*
 * egw_event_to_json on a struct egw_event made of arbitrary bytes (as one
 * could arrive over the event socket): the output must always be JSON that
 * parses back, with the event type and the timestamp present.
 */
#include <stdlib.h>
#include <string.h>

#include <egw/event.h>

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct egw_event *ev = malloc(sizeof(*ev));
	if (!ev)
		return 0;
	memset(ev, 0, sizeof(*ev));
	memcpy(ev, data, size < sizeof(*ev) ? size : sizeof(*ev));
	json_t *o = egw_event_to_json(ev);
	CHECK(o != NULL);
	char *s = json_dumps(o, JSON_COMPACT);
	CHECK(s != NULL);
	json_error_t err;
	json_t *back = json_loads(s, 0, &err);
	CHECK(back != NULL);
	CHECK(json_is_string(json_object_get(back, "timestamp")));
	CHECK(strcmp(json_string_value(json_object_get(back, "event_type")),
		     egw_event_type_name(ev->type)) == 0);
	CHECK(json_is_object(json_object_get(back, "egw")));
	json_decref(back);
	free(s);
	json_decref(o);
	free(ev);
	return 0;
}
