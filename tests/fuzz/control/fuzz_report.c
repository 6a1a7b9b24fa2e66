/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for egwctl report registry|terminals reading a hostile
 * summary: the input is eve-2026-01-09.summary.json of a log directory, and
 * both reports run over it (terminals with a --since that cuts the day, so
 * the exact-read path runs too). A damaged summary must give an error,
 * never a crash or a leak. The reports' output and error lines go to
 * /dev/null (stderr only while they run: a crash found shows on the
 * fuzzer's stderr once its artifact is run again).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_report.h"

static const char policy[] =
	"version = 1;\n"
	"gateway: { inside = \"a\"; outside = \"b\"; punt = \"c\"; };\n"
	"units = ( { name = \"finance\"; prefixes = [ \"10.1.0.0/16\" ];\n"
	"  public_addresses = [ \"198.51.100.10\", \"198.51.100.0/28\" ]; profile = \"p\";\n"
	"  terminals = ( { ip = \"10.1.0.10\"; mac = \"02:00:0a:01:00:0a\"; },\n"
	"                { ip = \"10.1.0.11\"; mac = \"02:00:0a:01:00:0b\"; } ); } );\n"
	"profiles = ( { name = \"p\"; rules = ( { action = \"allow\"; } ); } );\n";

static char dir[64], cfg[128], sum[160];

static void cleanup(void)
{
	unlink(sum);
	unlink(cfg);
	rmdir(dir);
}

static int setup(void)
{
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/egwt-report-fuzz.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	atexit(cleanup);
	snprintf(cfg, sizeof(cfg), "%s/egw.cfg", dir);
	snprintf(sum, sizeof(sum), "%s/eve-2026-01-09.summary.json", dir);
	if (!(f = fopen(cfg, "w")))
		return -1;
	fputs(policy, f);
	fclose(f);
	if (!freopen("/dev/null", "w", stdout))
		return -1;
	return 0;
}

static void run(const char *const *args, int n)
{
	char *argv[16];

	for (int i = 0; i < n; i++)
		argv[i] = strdup(args[i]);
	argv[n] = NULL;
	if (!strcmp(args[0], "registry"))
		ctl_report_registry(n, argv);
	else
		ctl_report_terminals(n, argv);
	for (int i = 0; i < n; i++)
		free(argv[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	FILE *f;

	if (!ready)
		ready = setup() == 0 ? 1 : -1;
	if (ready < 0 || !(f = fopen(sum, "w")))
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	const char *reg[] = { "registry", "--config", cfg, "--dir", dir, "--date",
			      "2026-01-10", "--days", "3", "--json" };
	const char *ter[] = { "terminals", "--config", cfg, "--dir", dir, "--since",
			      "2026-01-09T12:30:00Z" };
	const char *ter2[] = { "terminals", "--config", cfg, "--dir", dir };
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	if (saved >= 0 && null >= 0)
		dup2(null, 2);
	run(reg, 10);
	run(ter, 7);
	run(ter2, 5);
	fflush(stderr);
	if (saved >= 0 && null >= 0)
		dup2(saved, 2);
	if (saved >= 0)
		close(saved);
	if (null >= 0)
		close(null);
	return 0;
}
