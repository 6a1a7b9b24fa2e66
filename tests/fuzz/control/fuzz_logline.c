/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the behaviour log's readers: the line parser, the
 * verifier over a whole (plain or zstd) file, and the time parsers. Hostile
 * files must never crash verify. First byte: which one (mod 4); the key is
 * 32 zero bytes (seeds in tests/fuzz/corpus/fuzz_logline are chained with it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elog_format.h"
#include "elog_query.h"
#include "elog_verify.h"

static void quiet(void *arg, enum elog_severity sev, const char *file, uint64_t line,
		  const char *msg)
{
	(void)arg;
	(void)sev;
	(void)file;
	(void)line;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct elog_mac *mac;
	static const uint8_t key[ELOG_KEY_LEN];

	if (!mac)
		mac = elog_mac_new(key);
	if (size < 1 || !mac)
		return 0;
	unsigned mode = data[0] % 4;
	data++;
	size--;
	if (mode == 0) {
		struct elog_line ln;
		const char *why;
		elog_line_parse((const char *)data, size, &ln, &why);
	} else if (mode == 1 || mode == 2) {
		struct elog_vfile v = { .mac = mac, .name = "fuzz", .day = INT64_MIN,
					.head_seq = 3, .report = quiet };
		/* fmemopen needs a writable buffer of at least one byte */
		char *copy = malloc(size + 1);
		if (!copy)
			return 0;
		memcpy(copy, data, size);
		FILE *f = fmemopen(copy, size ? size : 1, "rb");
		if (f && !size) {
			fclose(f);
			f = fmemopen(copy, 1, "rb");
		}
		if (f)
			elog_verify_file(&v, f, mode == 2);
		free(copy);
	} else {
		char *s = malloc(size + 1);
		int64_t us;
		if (!s)
			return 0;
		memcpy(s, data, size);
		s[size] = 0;
		elog_ts_parse(s, &us);
		elog_time_arg(s, 0, &us);
		free(s);
	}
	return 0;
}
