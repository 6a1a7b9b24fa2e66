/* SPDX-License-Identifier: MIT */
/*
 * egwctl flows [--unit U] [--ip A] [--json]: live flows with verdict and
 * policy location, from egw-controld (flows it inspected) and, when it
 * runs, the fast path (EGW_IPC_STATS_REQUEST {"what":"flows",...}).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <egw/addr.h>
#include <egw/ipc.h>

#include "ctl.h"
#include "ctl_client.h"

#define USAGE "usage: egwctl flows [--unit U] [--ip A] [--json] [--socket PATH] [--dataplane-socket PATH]\n"

static json_t *dataplane_flows(const char *path, const char *unit, const char *ip)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	json_t *q = json_pack("{s:s}", "what", "flows"), *o = NULL;
	char *body = NULL;
	uint8_t *buf = NULL;
	const char *why = NULL;
	struct pollfd pf;
	size_t blen;
	ssize_t r;
	int fd = -1;

	if (!q || strlen(path) >= sizeof(sa.sun_path))
		goto out;
	if (unit[0])
		json_object_set_new(q, "unit", json_string(unit));
	if (ip[0])
		json_object_set_new(q, "ip", json_string(ip));
	body = json_dumps(q, JSON_COMPACT);
	buf = malloc(EGW_IPC_MAX_MSG);
	if (!body || !buf)
		goto out;
	blen = strlen(body);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;   /* no fast path: controld's flows only */
	egw_ipc_hdr_init((struct egw_ipc_hdr *)(void *)buf, EGW_IPC_STATS_REQUEST,
			 (uint32_t)(sizeof(struct egw_ipc_hdr) + blen), 1);
	memcpy(buf + sizeof(struct egw_ipc_hdr), body, blen);
	if (send(fd, buf, sizeof(struct egw_ipc_hdr) + blen, MSG_NOSIGNAL) < 0)
		goto out;
	pf = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&pf, 1, 3000) <= 0) {
		fprintf(stderr, "egwctl flows: the fast path did not answer\n");
		goto out;
	}
	r = recv(fd, buf, EGW_IPC_MAX_MSG, 0);
	if (r < (ssize_t)sizeof(struct egw_ipc_hdr) || egw_ipc_check(buf, (size_t)r, &why) < 0 ||
	    ((struct egw_ipc_hdr *)(void *)buf)->type != EGW_IPC_STATS_REPLY) {
		fprintf(stderr, "egwctl flows: bad reply from the fast path (%s)\n", why ? why : "type");
		goto out;
	}
	o = json_loadb((const char *)buf + sizeof(struct egw_ipc_hdr),
		       (size_t)r - sizeof(struct egw_ipc_hdr), 0, NULL);
out:
	if (fd >= 0)
		close(fd);
	json_decref(q);
	free(body);
	free(buf);
	return o;
}

static void print_flows(const char *who, json_t *list)
{
	size_t i;
	json_t *f;

	if (!json_is_array(list))
		return;
	json_array_foreach(list, i, f) {
		printf("%-9s %-5s %s:%lld -> %s:%lld  %-8s %-10s %s  %s%s%s\n", who,
		       json_integer_value(json_object_get(f, "proto")) == 6 ? "tcp" :
		       json_integer_value(json_object_get(f, "proto")) == 17 ? "udp" : "other",
		       json_string_value(json_object_get(f, "src_ip")) ?: "?",
		       (long long)json_integer_value(json_object_get(f, "src_port")),
		       json_string_value(json_object_get(f, "dest_ip")) ?: "?",
		       (long long)json_integer_value(json_object_get(f, "dest_port")),
		       json_string_value(json_object_get(f, "verdict")) ?: "?",
		       json_string_value(json_object_get(f, "unit")) ?: "",
		       json_string_value(json_object_get(f, "rule")) ?: "",
		       json_string_value(json_object_get(f, "reason")) ?: "",
		       json_string_value(json_object_get(f, "user")) &&
		       *json_string_value(json_object_get(f, "user")) ? " user " : "",
		       json_string_value(json_object_get(f, "user")) ?: "");
	}
}

int ctl_flows_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unit", required_argument, NULL, 'u' },
		{ "ip", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "dataplane-socket", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *path = CTL_RUN_DIR "/controld-ro.sock", *dp_path = EGW_IPC_PATH;
	const char *unit = "", *ip = "", *why = NULL;
	struct egw_prefix pfx;
	json_t *req, *rep = NULL, *dp, *out;
	int json = 0, c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': unit = optarg; break;
		case 'i': ip = optarg; break;
		case 'j': json = 1; break;
		case 's': path = optarg; break;
		case 'd': dp_path = optarg; break;
		case 'h': printf(USAGE); return 0;
		default: fprintf(stderr, USAGE); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, USAGE);
		return 2;
	}
	if (ip[0] && egw_prefix_parse(ip, &pfx, &why) < 0) {
		fprintf(stderr, "egwctl flows: --ip %s: %s\n", ip, why);
		return 2;
	}
	dp = dataplane_flows(dp_path, unit, ip);
	fd = ctl_client_connect(path);
	if (fd >= 0) {
		req = json_pack("{s:s}", "cmd", "flows");
		if (req && unit[0])
			json_object_set_new(req, "unit", json_string(unit));
		if (req && ip[0])
			json_object_set_new(req, "ip", json_string(ip));
		rep = req ? ctl_client_call(fd, req, 5000) : NULL;
		json_decref(req);
		close(fd);
	}
	if (!rep && !dp)
		return 2;
	if (rep && !json_is_true(json_object_get(rep, "ok"))) {
		fprintf(stderr, "egwctl flows: %s\n",
			json_string_value(json_object_get(rep, "error")) ?: "refused");
		json_decref(rep);
		json_decref(dp);
		return 1;
	}
	out = json_pack("{s:O,s:O}", "controld",
			rep ? json_object_get(rep, "flows") : json_null(),
			"dataplane", dp ? dp : json_null());
	if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_flows("controld", rep ? json_object_get(rep, "flows") : NULL);
		print_flows("dataplane", dp ? json_object_get(dp, "flows") : NULL);
	}
	json_decref(out);
	json_decref(rep);
	json_decref(dp);
	return rep ? 0 : 1;
}
