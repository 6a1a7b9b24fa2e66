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

int ctl_reload_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *path = CTL_RUN_DIR "/controld.sock";
	char err[8192];
	int c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'h':
			printf("usage: egwctl reload [--socket PATH]\n");
			return 0;
		default:
			fprintf(stderr, "usage: egwctl reload [--socket PATH]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: egwctl reload [--socket PATH]\n");
		return 2;
	}
	fd = ctl_client_connect(path);
	if (fd < 0)
		return 2;
	if (phase(fd, "prepare", err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\negwctl reload: refused, the old policy stays\n", err);
		phase(fd, "abort", err, sizeof(err));
		close(fd);
		return 1;
	}
	if (phase(fd, "commit", err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\negwctl reload: commit failed, the old policy stays\n", err);
		close(fd);
		return 1;
	}
	close(fd);
	printf("reloaded\n");
	return 0;
}
