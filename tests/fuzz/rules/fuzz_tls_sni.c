/* SPDX-License-Identifier: MIT */
/*
 * egw_tls_sni on arbitrary bytes: a name it returns is a valid lower-case
 * domain; more bytes after a complete ClientHello change nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <egw/domain_set.h>
#include <egw/tls_sni.h>

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	char out[256], out2[256];
	int rc = egw_tls_sni(buf, size, out, sizeof(out));
	CHECK(rc >= EGW_SNI_MALFORMED && rc <= EGW_SNI_FOUND);
	if (rc == EGW_SNI_FOUND) {
		size_t n = strlen(out);
		CHECK(n > 0 && n <= 253 && out[n - 1] != '.');
		CHECK(egw_domain_check(out, NULL) == 0);
		for (size_t i = 0; i < n; i++)
			CHECK(!(out[i] >= 'A' && out[i] <= 'Z'));
	} else {
		CHECK(out[0] == '\0');
	}
	if (rc == EGW_SNI_FOUND || rc == EGW_SNI_ABSENT) {
		buf[size] = 0x17;
		CHECK(egw_tls_sni(buf, size + 1, out2, sizeof(out2)) == rc);
		CHECK(strcmp(out, out2) == 0);
	}
	free(buf);
	return 0;
}
