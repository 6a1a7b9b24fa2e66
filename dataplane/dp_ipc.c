/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dp_ipc.h"

#define MAX_CLIENTS 8
/* A connection that has not spoken becomes the subscriber only after this
 * long: egwctl sends its STATS_REQUEST right after connecting, and must not
 * make the control plane look up (and take events) for a moment. */
#define QUIET_US 200000u

struct client {
	int fd;
	bool spoke;        /* sent a first message */
	bool stats_only;   /* its first message was STATS_REQUEST */
	uint64_t since_us; /* accepted at (CLOCK_MONOTONIC) */
};

struct dp_ipc {
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct dp_ipc_ops ops;
	struct client cl[MAX_CLIENTS];
	int sub;           /* subscriber index, -1 none */
	uint32_t seq;
	uint8_t *rx, *tx;
	struct egw_ipc_events *batch;
	uint32_t lost_pending;
	uint64_t protocol_errors;
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void pick_subscriber(struct dp_ipc *ipc)
{
	int old = ipc->sub;
	uint64_t now = mono_us();
	ipc->sub = -1;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (ipc->cl[i].fd >= 0 && !ipc->cl[i].stats_only &&
		    (ipc->cl[i].spoke || now - ipc->cl[i].since_us >= QUIET_US)) {
			ipc->sub = i;
			break;
		}
	if ((old >= 0) != (ipc->sub >= 0) && ipc->ops.subscriber)
		ipc->ops.subscriber(ipc->ops.arg, ipc->sub >= 0);
}

static void drop_client(struct dp_ipc *ipc, int i)
{
	close(ipc->cl[i].fd);
	ipc->cl[i] = (struct client){ .fd = -1 };
	if (ipc->sub == i)
		pick_subscriber(ipc);
}

struct dp_ipc *dp_ipc_open(const char *path, const struct dp_ipc_ops *ops)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct dp_ipc *ipc = calloc(1, sizeof(*ipc));

	if (!ipc || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "egw-dataplane: socket %s: %s\n", path,
			ipc ? "path too long" : "out of memory");
		free(ipc);
		return NULL;
	}
	ipc->ops = *ops;
	ipc->sub = -1;
	ipc->lfd = -1;
	for (int i = 0; i < MAX_CLIENTS; i++)
		ipc->cl[i].fd = -1;
	snprintf(ipc->path, sizeof(ipc->path), "%s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ipc->rx = malloc(EGW_IPC_MAX_MSG);
	ipc->tx = malloc(EGW_IPC_MAX_MSG);
	ipc->batch = calloc(1, EGW_IPC_MAX_MSG);
	if (!ipc->rx || !ipc->tx || !ipc->batch)
		goto fail_msg;

	/* Its directory (/run/egw), then: a live socket there is an error, a
	 * stale one is replaced. */
	char dir[sizeof(ipc->path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) && errno != EEXIST) {
			fprintf(stderr, "egw-dataplane: cannot create %s: %s\n", dir, strerror(errno));
			goto fail;
		}
	}
	int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		int r = connect(probe, (struct sockaddr *)&sa, sizeof(sa));
		close(probe);
		if (r == 0) {
			fprintf(stderr, "egw-dataplane: socket %s is in use (another egw-dataplane "
				"running?)\n", path);
			goto fail;
		}
	}
	unlink(path);
	ipc->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ipc->lfd < 0 || bind(ipc->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, 0660) || listen(ipc->lfd, 8)) {
		fprintf(stderr, "egw-dataplane: socket %s: %s\n", path, strerror(errno));
		goto fail;
	}
	return ipc;
fail_msg:
	fprintf(stderr, "egw-dataplane: socket %s: out of memory\n", path);
fail:
	dp_ipc_close(ipc);
	return NULL;
}

void dp_ipc_close(struct dp_ipc *ipc)
{
	if (!ipc)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (ipc->cl[i].fd >= 0)
			close(ipc->cl[i].fd);
	if (ipc->lfd >= 0) {
		close(ipc->lfd);
		unlink(ipc->path);
	}
	free(ipc->rx);
	free(ipc->tx);
	free(ipc->batch);
	free(ipc);
}

static int send_msg(struct dp_ipc *ipc, int i, const void *m, size_t n)
{
	ssize_t r = send(ipc->cl[i].fd, m, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r == (ssize_t)n)
		return 0;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -EAGAIN;
	drop_client(ipc, i);
	return -EPIPE;
}

static void handle(struct dp_ipc *ipc, int i, size_t n)
{
	const struct egw_ipc_hdr *h = (const void *)ipc->rx;
	const char *why;

	if (egw_ipc_check(ipc->rx, n, &why)) {
		fprintf(stderr, "egw-dataplane: socket client %d: bad message: %s; closing\n",
			ipc->cl[i].fd, why);
		ipc->protocol_errors++;
		drop_client(ipc, i);
		return;
	}
	if (!ipc->cl[i].spoke) {
		ipc->cl[i].spoke = true;
		if (h->type == EGW_IPC_STATS_REQUEST) {
			ipc->cl[i].stats_only = true;
			if (ipc->sub == i)
				pick_subscriber(ipc);
		}
	}
	switch (h->type) {
	case EGW_IPC_FLOW_VERDICT:
		if (ipc->ops.verdict)
			ipc->ops.verdict(ipc->ops.arg, (const void *)ipc->rx);
		return;
	case EGW_IPC_STATS_REQUEST: {
		json_t *req = NULL;
		if (n > sizeof(*h)) {
			req = json_loadb((const char *)ipc->rx + sizeof(*h), n - sizeof(*h), 0, NULL);
			if (!json_is_object(req)) {
				json_decref(req);
				req = json_pack("{ss}", "error", "request is not a JSON object");
			}
		}
		json_t *body = ipc->ops.stats ? ipc->ops.stats(ipc->ops.arg, req) : json_object();
		json_decref(req);
		size_t cap = EGW_IPC_MAX_MSG - sizeof(*h);
		char *out = (char *)ipc->tx + sizeof(*h);
		size_t len = body ? json_dumpb(body, out, cap, JSON_COMPACT) : 0;
		json_decref(body);
		if (!len || len > cap)
			len = (size_t)snprintf(out, cap, "{\"truncated\":true}");
		struct egw_ipc_hdr *rh = (struct egw_ipc_hdr *)ipc->tx;
		egw_ipc_hdr_init(rh, EGW_IPC_STATS_REPLY, (uint32_t)(sizeof(*rh) + len), h->seq);
		send_msg(ipc, i, rh, sizeof(*rh) + len);
		return;
	}
	case EGW_IPC_RELOAD: {
		const struct egw_ipc_reload *r = (const void *)ipc->rx;
		struct egw_ipc_reload_reply rep;
		memset(&rep, 0, sizeof(rep));
		rep.phase = r->phase;
		rep.generation = r->generation;
		rep.status = ipc->ops.reload ? ipc->ops.reload(ipc->ops.arg, r, rep.message,
							       sizeof(rep.message)) : -ENOTSUP;
		egw_ipc_hdr_init(&rep.hdr, EGW_IPC_RELOAD_REPLY, sizeof(rep), h->seq);
		send_msg(ipc, i, &rep, sizeof(rep));
		return;
	}
	default:
		/* EVENTS, replies: not for the fast path to receive. */
		fprintf(stderr, "egw-dataplane: socket client %d: unexpected %s; closing\n",
			ipc->cl[i].fd, egw_ipc_type_name(h->type));
		ipc->protocol_errors++;
		drop_client(ipc, i);
	}
}

void dp_ipc_poll(struct dp_ipc *ipc, int timeout_ms)
{
	struct pollfd pf[MAX_CLIENTS + 1];
	int idx[MAX_CLIENTS + 1], n = 0;

	pf[n] = (struct pollfd){ .fd = ipc->lfd, .events = POLLIN };
	idx[n++] = -1;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (ipc->cl[i].fd >= 0) {
			pf[n] = (struct pollfd){ .fd = ipc->cl[i].fd, .events = POLLIN };
			idx[n++] = i;
		}
	if (poll(pf, (nfds_t)n, timeout_ms) <= 0)
		goto pick;
	for (int k = 1; k < n; k++) {
		int i = idx[k];
		if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)) || ipc->cl[i].fd != pf[k].fd)
			continue;
		for (int m = 0; m < 16 && ipc->cl[i].fd >= 0; m++) {
			ssize_t r = recv(ipc->cl[i].fd, ipc->rx, EGW_IPC_MAX_MSG,
					 MSG_DONTWAIT | MSG_TRUNC);
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (r <= 0) {
				drop_client(ipc, i);
				break;
			}
			if ((size_t)r > EGW_IPC_MAX_MSG) {
				fprintf(stderr, "egw-dataplane: socket client %d: message of %zd bytes, "
					"more than %u; closing\n", ipc->cl[i].fd, r, EGW_IPC_MAX_MSG);
				ipc->protocol_errors++;
				drop_client(ipc, i);
				break;
			}
			handle(ipc, i, (size_t)r);
		}
	}
	if (pf[0].revents & POLLIN) {
		int fd;
		while ((fd = accept4(ipc->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
			int i = 0;
			while (i < MAX_CLIENTS && ipc->cl[i].fd >= 0)
				i++;
			if (i == MAX_CLIENTS) {
				close(fd);
				continue;
			}
			ipc->cl[i] = (struct client){ .fd = fd, .since_us = mono_us() };
		}
	}
pick:
	if (ipc->sub < 0)
		pick_subscriber(ipc);
}

void dp_ipc_flush(struct dp_ipc *ipc, uint64_t *lost)
{
	struct egw_ipc_events *b = ipc->batch;
	if (!b->count)
		return;
	size_t n = sizeof(*b) + (size_t)b->count * sizeof(struct egw_event);
	int r = -EPIPE;
	if (ipc->sub >= 0) {
		egw_ipc_hdr_init(&b->hdr, EGW_IPC_EVENTS, (uint32_t)n, ++ipc->seq);
		b->lost = ipc->lost_pending;
		r = send_msg(ipc, ipc->sub, b, n);
	}
	if (r) {
		*lost += b->count;
		ipc->lost_pending += b->count;
	} else {
		ipc->lost_pending = 0;
	}
	b->count = 0;
}

void dp_ipc_events(struct dp_ipc *ipc, const struct egw_event *ev, unsigned n, uint64_t *lost)
{
	for (unsigned i = 0; i < n; i++) {
		if (ipc->batch->count == EGW_IPC_EVENTS_MAX)
			dp_ipc_flush(ipc, lost);
		ipc->batch->ev[ipc->batch->count++] = ev[i];
	}
}

bool dp_ipc_has_subscriber(const struct dp_ipc *ipc)
{
	return ipc->sub >= 0;
}

uint64_t dp_ipc_protocol_errors(const struct dp_ipc *ipc)
{
	return ipc->protocol_errors;
}
