/* SPDX-License-Identifier: MIT */
/*
 * egw_http_host on arbitrary bytes: a host it returns is lower case and
 * bounded; once the header block is complete, more bytes change nothing;
 * an incomplete prefix never yields an answer its completion contradicts.
 */
#include <stdlib.h>
#include <string.h>

#include <egw/http_host.h>

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size + 3);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	char out[256], out2[256];
	int rc = egw_http_host(buf, size, out, sizeof(out));
	CHECK(rc >= EGW_HOST_MALFORMED && rc <= EGW_HOST_FOUND);
	if (rc == EGW_HOST_FOUND) {
		size_t n = strlen(out);
		CHECK(n > 0 && n <= 253);
		for (size_t i = 0; i < n; i++)
			CHECK(!(out[i] >= 'A' && out[i] <= 'Z') && out[i] > 0x20 &&
			      out[i] != '[' && out[i] != ']' && out[i] != '@');
	} else {
		CHECK(out[0] == '\0');
	}
	if (rc == EGW_HOST_FOUND || rc == EGW_HOST_ABSENT || rc == EGW_HOST_MALFORMED) {
		memcpy(buf + size, "\r\n\r", 3);
		CHECK(egw_http_host(buf, size + 3, out2, sizeof(out2)) == rc);
		CHECK(strcmp(out, out2) == 0);
	}
	/* every prefix is INCOMPLETE, or already the same verdict class */
	if (rc != EGW_HOST_INCOMPLETE && size > 0) {
		int p = egw_http_host(buf, size - 1, out2, sizeof(out2));
		CHECK(p == EGW_HOST_INCOMPLETE || p == rc ||
		      (p == EGW_HOST_NOT_HTTP && rc == EGW_HOST_NOT_HTTP));
	}
	free(buf);
	return 0;
}
