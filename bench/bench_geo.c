/* SPDX-License-Identifier: MIT */
/*
 * Geo compile time: bench_geo DB COUNTRY_FIELD REGION_FIELD REPS CLASS...
 * Compiles the classes REPS times and prints the fastest and median wall
 * and CPU times (a policy reload pays this once per load).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <egw/geo.h>

static double secs(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: %s DB COUNTRY_FIELD REGION_FIELD REPS CLASS...\n", argv[0]);
		return 2;
	}
	int reps = atoi(argv[4]);
	size_t n = (size_t)argc - 5;
	if (reps < 1)
		reps = 1;
	struct egw_geo_class *k = calloc(n, sizeof(*k));
	double *wall = calloc((size_t)reps, sizeof(*wall));
	double *cpu = calloc((size_t)reps, sizeof(*cpu));
	size_t prefixes = 0;
	for (int r = 0; r < reps; r++) {
		for (size_t i = 0; i < n; i++) {
			const char *why;
			bool neg;
			if (egw_geo_class_parse(argv[5 + i], &k[i], &neg, &why)) {
				fprintf(stderr, "%s: %s\n", argv[5 + i], why);
				return 2;
			}
		}
		struct egw_diag *d = egw_diag_new();
		struct egw_loc loc = { "argv", 1 };
		double w0 = secs(CLOCK_MONOTONIC), c0 = secs(CLOCK_PROCESS_CPUTIME_ID);
		int rc = egw_geo_compile(argv[1], argv[2], argv[3], k, n, &loc, d);
		wall[r] = secs(CLOCK_MONOTONIC) - w0;
		cpu[r] = secs(CLOCK_PROCESS_CPUTIME_ID) - c0;
		if (rc) {
			egw_diag_print(d, stderr);
			return 1;
		}
		prefixes = 0;
		for (size_t i = 0; i < n; i++)
			prefixes += k[i].v4.n + k[i].v6.n;
		egw_geo_release(k, n);
		egw_diag_free(d);
	}
	qsort(wall, (size_t)reps, sizeof(*wall), cmp_double);
	qsort(cpu, (size_t)reps, sizeof(*cpu), cmp_double);
	printf("%s: %zu classes, %zu prefixes; wall min %.3f s median %.3f s; "
	       "cpu min %.3f s median %.3f s (%d runs)\n", argv[1], n, prefixes,
	       wall[0], wall[reps / 2], cpu[0], cpu[reps / 2], reps);
	free(k);
	free(wall);
	free(cpu);
	return 0;
}
