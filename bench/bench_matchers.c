/* SPDX-License-Identifier: MIT */
/*
 * Matcher and decoder speed: domain-set lookups against a large set, DNS
 * query decoding, ClientHello SNI and HTTP Host extraction.
 * Usage: bench_matchers [SOURCE_DIR] (for the test vectors; default ".").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <egw/dns_msg.h>
#include <egw/domain_set.h>
#include <egw/http_host.h>
#include <egw/tls_sni.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t load(const char *dir, const char *name, uint8_t *buf, size_t cap)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/unit/rules/data/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "bench_matchers: cannot open %s (give the source directory)\n", path);
		exit(1);
	}
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static volatile size_t sink;

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	enum { NDOM = 200000, NQ = 4096, ROUNDS = 500 };
	struct egw_domain_set *s = egw_domain_set_new();
	char name[128];
	for (unsigned i = 0; i < NDOM; i++) {
		snprintf(name, sizeof(name), "d%u.example%u.cn", i, i % 977);
		if (egw_domain_set_add(s, name, i % 64, NULL) < 0)
			return 1;
	}
	egw_domain_set_freeze(s);
	static char qs[NQ][128];
	for (unsigned i = 0; i < NQ; i++) /* half hit, half miss; 5 labels */
		snprintf(qs[i], sizeof(qs[i]), "www.cdn%u.d%u.example%u.cn", i,
			 (i * 7919u) % (2 * NDOM), ((i * 7919u) % (2 * NDOM)) % 977);
	uint32_t v[8];
	double t0 = now();
	for (unsigned r = 0; r < ROUNDS; r++)
		for (unsigned i = 0; i < NQ; i++)
			sink += egw_domain_set_match(s, qs[i], strlen(qs[i]), v, 8);
	double t = now() - t0;
	printf("domain_set_match  %u names, 5-label queries: %.0f ns/lookup\n", NDOM,
	       t / ((double)ROUNDS * NQ) * 1e9);
	egw_domain_set_free(s);

	uint8_t buf[2048];
	size_t n = load(dir, "dig_edns_mail.QQ.com_A.bin", buf, sizeof(buf));
	struct egw_dns_query q;
	t0 = now();
	for (unsigned r = 0; r < 2000000; r++)
		sink += (size_t)egw_dns_decode_query(buf, n, &q);
	printf("dns_decode_query  dig query:   %.0f ns/query\n", (now() - t0) / 2e6 * 1e9);

	char out[256];
	n = load(dir, "clienthello_openssl_tls13_gmail.com.bin", buf, sizeof(buf));
	t0 = now();
	for (unsigned r = 0; r < 1000000; r++)
		sink += (size_t)egw_tls_sni(buf, n, out, sizeof(out));
	printf("tls_sni           openssl hello: %.0f ns/hello\n", (now() - t0) / 1e6 * 1e9);

	n = load(dir, "http_curl_Mail.QQ.com_8080.bin", buf, sizeof(buf));
	t0 = now();
	for (unsigned r = 0; r < 1000000; r++)
		sink += (size_t)egw_http_host(buf, n, out, sizeof(out));
	printf("http_host         curl request:  %.0f ns/request\n", (now() - t0) / 1e6 * 1e9);
	return 0;
}
