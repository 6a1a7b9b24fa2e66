/* SPDX-License-Identifier: MIT */
/*
 * egwctl reload: one transaction across the daemons. The coordinator here
 * sends "prepare" to every daemon that runs (egw-controld on its management
 * socket; it in turn prepares the fast path over the IPC socket when one is
 * connected, see egw/ipc.h), then "commit" to all when every prepare
 * succeeded, else "abort" to those prepared: on any failure the old policy
 * stays everywhere.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_client.h"

static int phase(int fd, const char *ph, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s,s:s}", "cmd", "reload", "phase", ph);
	json_t *rep = req ? ctl_client_call(fd, req, 60000) : NULL;
	int ok;

	json_decref(req);
	if (!rep) {
		snprintf(err, errlen, "no reply to %s", ph);
		return -1;
	}
	ok = json_is_true(json_object_get(rep, "ok"));
	if (!ok)
		snprintf(err, errlen, "%s", json_string_value(json_object_get(rep, "error")) ?: "refused");
	json_decref(rep);
	return ok ? 0 : -1;
}

/* --json: { reloaded, phase (where it stopped), error } on stdout. */
static int result(bool json, bool ok, const char *ph, const char *err)
{
	if (json) {
		json_t *o = json_pack("{s:b, s:s, s:s*}", "reloaded", ok, "phase", ph,
				      "error", ok ? NULL : err);
		if (o)
			json_dumpf(o, stdout, JSON_COMPACT);
		printf("\n");
		json_decref(o);
	} else if (ok) {
		printf("reloaded\n");
	} else {
		fprintf(stderr, "%s\negwctl reload: %s, the old policy stays\n", err,
			strcmp(ph, "commit") ? "refused" : "commit failed");
	}
	return ok ? 0 : 1;
}

int ctl_reload_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const char use[] = "usage: egwctl reload [--json] [--socket PATH]\n";
	const char *path = CTL_RUN_DIR "/controld.sock";
	char err[8192], ignored[256];
	bool json = false;
	int c, fd, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'j': json = true; break;
		case 'h':
			printf("%s", use);
			return 0;
		default:
			fprintf(stderr, "%s", use);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "egwctl reload: unexpected argument '%s'\n%s", argv[optind], use);
		return 2;
	}
	fd = ctl_client_connect(path);
	if (fd < 0)
		return 2;
	if (phase(fd, "prepare", err, sizeof(err)) < 0) {
		phase(fd, "abort", ignored, sizeof(ignored));
		rc = result(json, false, "prepare", err);
	} else if (phase(fd, "commit", err, sizeof(err)) < 0) {
		rc = result(json, false, "commit", err);
	} else {
		rc = result(json, true, "commit", NULL);
	}
	close(fd);
	return rc;
}
