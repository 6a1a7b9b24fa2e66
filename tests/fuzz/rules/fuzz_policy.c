/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the bytes are a policy file. egw_policy_load takes a
 * path, so each input is written to p.cfg in a private temporary directory
 * (a memfd's /proc path does not resolve to a directory for relative paths).
 * Inputs whose @include could escape that directory ("..", absolute paths:
 * /dev/zero would never end) are skipped; self-inclusion is bounded by
 * libconfig's include depth.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <egw/diag.h>
#include <egw/policy.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5 (Debian 12) leaks the buffer of a string literal that a
 * syntax error interrupts (its grammar has no destructor for the token):
 * 64 bytes per rejected file, in libconfig's own strbuf_append, not here.
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\n";
}

static char dir[64];
static char path[96];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static int setup(void)
{
	if (path[0])
		return 0;
	/* tmpfs first: writing every input to disk would halve the speed */
	snprintf(dir, sizeof(dir), "/dev/shm/egw-fuzz-policy-XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/egw-fuzz-policy-XXXXXX");
		if (!mkdtemp(dir))
			return -1;
	}
	snprintf(path, sizeof(path), "%s/p.cfg", dir);
	atexit(cleanup);
	return 0;
}

static bool contains_ci(const uint8_t *d, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++) {
		size_t j = 0;
		while (j < m && tolower(d[i + j]) == needle[j])
			j++;
		if (j == m)
			return true;
	}
	return false;
}

static bool include_may_escape(const uint8_t *d, size_t n)
{
	if (!contains_ci(d, n, "@include"))
		return false;
	return contains_ci(d, n, "..") || contains_ci(d, n, "\"/") ||
	       contains_ci(d, n, "\\");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (setup() < 0 || include_may_escape(data, size))
		return 0;
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return 0;
	}
	fclose(f);

	struct egw_diag *d = egw_diag_new();
	if (!d)
		return 0;
	struct egw_policy *p = egw_policy_load(path, d);
	/* a loaded policy has no errors; a rejected one has at least one */
	if ((p != NULL) == (egw_diag_count(d) != 0))
		__builtin_trap();
	for (size_t i = 0; i < egw_diag_count(d); i++)
		if (!egw_diag_message(d, i))
			__builtin_trap();
	egw_policy_free(p);
	egw_diag_free(d);
	return 0;
}
