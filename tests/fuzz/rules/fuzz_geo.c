/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the geo compiler: the input is a MaxMind DB file (compiled for a few
 * classes through a memfd), or, when it starts with '#', a geo class string.
 * Any outcome but a crash, hang, leak or sanitizer report is fine; a
 * successful compile must give sorted, disjoint lists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <egw/geo.h>

/*
 * Debian 12's libmaxminddb 1.7.1 leaks its data pool when MMDB_open rejects
 * a file whose metadata description is corrupt (fixed upstream by
 * maxmind/libmaxminddb#356). Not ours and bounded per rejected file: ignore
 * leaks allocated inside libmaxminddb; ours are still reported.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libmaxminddb.so\n";
}

static void check_list(const struct egw_prefix_list *l)
{
	for (size_t i = 1; i < l->n; i++)
		if (egw_prefix_cmp(&l->v[i - 1], &l->v[i]) >= 0 ||
		    egw_prefix_overlaps(&l->v[i - 1], &l->v[i]))
			__builtin_trap();
}

static void fuzz_class(const uint8_t *data, size_t size)
{
	char s[256];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, data, n);
	s[n] = '\0';
	struct egw_geo_class k;
	bool neg;
	const char *why = NULL;
	if (egw_geo_class_parse(s, &k, &neg, &why) == 0) {
		if (strlen(k.country) != 2 || strlen(k.region) > EGW_GEO_REGION_MAX)
			__builtin_trap();
	} else if (!why) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == '#') {
		fuzz_class(data + 1, size - 1);
		return 0;
	}
	int fd = memfd_create("fuzz_geo", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	static const char *const specs[] = { "CN", "CN-GD", "US", "CN-11" };
	struct egw_geo_class k[4];
	for (size_t i = 0; i < 4; i++) {
		egw_geo_class_parse(specs[i], &k[i], NULL, NULL);
		k[i].loc = (struct egw_loc){ "fuzz.cfg", 10u + (unsigned)i };
	}
	struct egw_diag *d = egw_diag_new();
	struct egw_loc dbloc = { "fuzz.cfg", 1 };
	if (d && egw_geo_compile(path, NULL, NULL, k, 4, &dbloc, d) == 0) {
		for (size_t i = 0; i < 4; i++) {
			check_list(&k[i].v4);
			check_list(&k[i].v6);
		}
	}
	egw_geo_release(k, 4);
	egw_diag_free(d);
	close(fd);
	return 0;
}
