/* SPDX-License-Identifier: MIT */
/* egwctl stats: counters of egw-controld (read-only socket). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <egw/ipc.h>

#include "ctl.h"
#include "ctl_client.h"

/* The fast path's counters over its IPC socket (egw/ipc.h STATS_REQUEST);
 * NULL when it does not run or does not answer (a note on stderr). */
static json_t *dataplane_stats(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct egw_ipc_hdr req;
	struct pollfd pf;
	uint8_t *buf = NULL;
	const char *why = NULL;
	json_t *o = NULL;
	ssize_t r;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return NULL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != ENOENT && errno != ECONNREFUSED)
			fprintf(stderr, "egwctl stats: fast path %s: %s\n", path, strerror(errno));
		goto out;
	}
	egw_ipc_hdr_init(&req, EGW_IPC_STATS_REQUEST, sizeof(req), 1);
	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) < 0)
		goto out;
	pf = (struct pollfd){ .fd = fd, .events = POLLIN };
	buf = malloc(EGW_IPC_MAX_MSG);
	if (!buf || poll(&pf, 1, 3000) <= 0) {
		fprintf(stderr, "egwctl stats: the fast path did not answer\n");
		goto out;
	}
	r = recv(fd, buf, EGW_IPC_MAX_MSG, 0);
	if (r < (ssize_t)sizeof(struct egw_ipc_hdr) || egw_ipc_check(buf, (size_t)r, &why) < 0 ||
	    ((struct egw_ipc_hdr *)(void *)buf)->type != EGW_IPC_STATS_REPLY) {
		fprintf(stderr, "egwctl stats: bad reply from the fast path (%s)\n", why ? why : "type");
		goto out;
	}
	o = json_loadb((const char *)buf + sizeof(struct egw_ipc_hdr),
		       (size_t)r - sizeof(struct egw_ipc_hdr), 0, NULL);
	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
out:
	free(buf);
	close(fd);
	return o;
}

static void print_obj(const char *prefix, json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		if (!strcmp(k, "ok"))
			continue;
		if (json_is_object(v)) {
			char p[256];
			snprintf(p, sizeof(p), "%s%s.", prefix, k);
			if (json_object_size(v) == 0)
				printf("%s%s: none\n", prefix, k);
			print_obj(p, v);
		} else if (json_is_integer(v)) {
			printf("%s%s: %lld\n", prefix, k, (long long)json_integer_value(v));
		} else if (json_is_string(v)) {
			printf("%s%s: %s\n", prefix, k, json_string_value(v));
		} else if (json_is_boolean(v)) {
			printf("%s%s: %s\n", prefix, k, json_is_true(v) ? "yes" : "no");
		}
	}
}

int ctl_stats_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "dataplane-socket", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *path = CTL_RUN_DIR "/controld-ro.sock";
	const char *dp_path = EGW_IPC_PATH;
	int json = 0, c, fd, rc, partial = 0;
	json_t *req, *rep = NULL, *dp;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 's': path = optarg; break;
		case 'd': dp_path = optarg; break;
		case 'h':
			printf("usage: egwctl stats [--json] [--socket PATH] [--dataplane-socket PATH]\n");
			return 0;
		default:
			fprintf(stderr, "usage: egwctl stats [--json] [--socket PATH] "
				"[--dataplane-socket PATH]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "egwctl stats: unexpected argument '%s'\nusage: egwctl stats "
			"[--json] [--socket PATH] [--dataplane-socket PATH]\n", argv[optind]);
		return 2;
	}
	dp = dataplane_stats(dp_path);
	fd = ctl_client_connect(path);
	if (fd >= 0) {
		req = json_pack("{s:s}", "cmd", "stats");
		rep = req ? ctl_client_call(fd, req, 5000) : NULL;
		json_decref(req);
		close(fd);
	}
	if (!rep && !dp)
		return 2;
	if (!rep) {
		/* the fast path alone: still worth showing */
		rep = json_pack("{s:b}", "ok", 1);
		partial = 1;
	}
	if (dp)
		json_object_set_new(rep, "dataplane", dp);
	if (!json_is_true(json_object_get(rep, "ok"))) {
		fprintf(stderr, "egwctl stats: %s\n",
			json_string_value(json_object_get(rep, "error")) ?: "refused");
		json_decref(rep);
		return 1;
	}
	json_object_del(rep, "ok");
	if (json) {
		json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		print_obj("", rep);
	}
	rc = partial;   /* 1: egw-controld did not answer */
	json_decref(rep);
	return rc;
}
