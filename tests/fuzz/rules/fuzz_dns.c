/* SPDX-License-Identifier: MIT */
/*
 * egw_dns_decode_query on arbitrary bytes; for every query it accepts, the
 * NXDOMAIN built from it must carry the same question, fit exactly, and
 * never be written past a smaller cap.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <egw/dns_msg.h>
#include <egw/domain_set.h>

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so that any read past size is caught */
	uint8_t *msg = malloc(size ? size : 1);
	if (!msg)
		return 0;
	memcpy(msg, data, size);
	struct egw_dns_query q;
	int rc = egw_dns_decode_query(msg, size, &q);
	CHECK(rc <= 0 && rc >= EGW_DNS_BAD_NAME);
	CHECK(egw_dns_strerror(rc) != NULL);
	if (rc != EGW_DNS_OK) {
		CHECK(egw_dns_build_response(msg, size, 3, NULL, 0) == -1);
		free(msg);
		return 0;
	}
	CHECK(q.qname_len == strlen(q.qname) && q.qname_len <= 253);
	CHECK(q.question_end <= size && q.question_end >= 17);
	CHECK(q.max_label <= 63 && q.labels <= 127);
	for (size_t i = 0; i < q.qname_len; i++)
		CHECK(!(q.qname[i] >= 'A' && q.qname[i] <= 'Z'));
	CHECK(q.entropy_bits >= 0 && q.entropy_bits <= log2(256) + 1e-9);
	CHECK(q.entropy_bits == egw_dns_entropy(q.qname, q.qname_len));

	uint8_t *out = malloc(q.question_end);
	if (!out) {
		free(msg);
		return 0;
	}
	CHECK(egw_dns_build_response(msg, size, 3, out, q.question_end - 1) == -1);
	int n = egw_dns_build_response(msg, size, 3, out, q.question_end);
	CHECK(n == (int)q.question_end);
	CHECK((out[2] & 0x80) && (out[3] & 0x0f) == 3 && (out[3] & 0x80));
	/* the answer, read as a query again, asks the same question */
	out[2] &= 0x7f;
	struct egw_dns_query r;
	CHECK(egw_dns_decode_query(out, (size_t)n, &r) == EGW_DNS_OK);
	CHECK(r.id == q.id && r.qtype == q.qtype && r.qclass == q.qclass);
	CHECK(strcmp(r.qname, q.qname) == 0 && r.labels == q.labels);
	CHECK(memcmp(out + 12, msg + 12, q.question_end - 12) == 0);
	free(out);
	free(msg);
	return 0;
}
