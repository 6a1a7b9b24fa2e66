/* SPDX-License-Identifier: MIT */
/* Client of egw-dataplane's IPC socket. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cd_dpipc.h"

struct cd_dpipc {
	char path[108];
	int fd;
	struct cd_evsink *sink;
	uint64_t next_try_us;
	uint32_t seq;
	uint8_t *rx;
	struct cd_dpipc_stats st;
	/* a reply we are waiting for */
	bool want_reply;
	uint32_t want_seq;
	struct egw_ipc_reload_reply reply;
	bool have_reply;
};

struct cd_dpipc *cd_dpipc_new(const char *path, struct cd_evsink *sink)
{
	struct cd_dpipc *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rx = malloc(EGW_IPC_MAX_MSG);
	if (!c->rx || strlen(path) >= sizeof(c->path)) {
		int e = c->rx ? ENAMETOOLONG : ENOMEM;
		free(c->rx);
		free(c);
		errno = e;
		return NULL;
	}
	memcpy(c->path, path, strlen(path) + 1);
	c->fd = -1;
	c->sink = sink;
	return c;
}

static void disconnect(struct cd_dpipc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->st.connected = false;
}

void cd_dpipc_free(struct cd_dpipc *c)
{
	if (!c)
		return;
	disconnect(c);
	free(c->rx);
	free(c);
}

int cd_dpipc_fd(const struct cd_dpipc *c)
{
	return c->fd;
}

bool cd_dpipc_connected(const struct cd_dpipc *c)
{
	return c->fd >= 0;
}

void cd_dpipc_tick(struct cd_dpipc *c, uint64_t now_us)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (c->fd >= 0 || now_us < c->next_try_us)
		return;
	c->next_try_us = now_us + 1000000u;
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	c->st.connected = true;
	c->st.connects++;
	fprintf(stderr, "egw-controld: connected to the fast path at %s\n", c->path);
}

static void on_message(struct cd_dpipc *c, size_t n)
{
	const struct egw_ipc_hdr *h = (const void *)c->rx;
	const char *why = NULL;

	if (egw_ipc_check(c->rx, n, &why) < 0) {
		c->st.protocol_errors++;
		fprintf(stderr, "egw-controld: fast path %s: bad message (%s); reconnecting\n",
			c->path, why ? why : "?");
		disconnect(c);
		return;
	}
	switch (h->type) {
	case EGW_IPC_EVENTS: {
		const struct egw_ipc_events *e = (const void *)c->rx;
		c->st.events_lost += e->lost;
		/* the whole message in one batch, in order, without copying
		 * (rx is malloc'ed: e->ev is aligned for struct egw_event) */
		if (c->sink)
			cd_evsink_emit_n(c->sink, e->ev, e->count);
		c->st.events += e->count;
		break;
	}
	case EGW_IPC_RELOAD_REPLY:
		if (c->want_reply && h->seq == c->want_seq) {
			memcpy(&c->reply, c->rx, sizeof(c->reply));
			c->have_reply = true;
		}
		break;
	default:
		break; /* stats replies to others, nothing else is for us */
	}
}

void cd_dpipc_handle(struct cd_dpipc *c)
{
	for (int i = 0; i < 64 && c->fd >= 0; i++) {
		ssize_t r = recv(c->fd, c->rx, EGW_IPC_MAX_MSG, MSG_DONTWAIT | MSG_TRUNC);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			fprintf(stderr, "egw-controld: the fast path closed its socket\n");
			disconnect(c);
			return;
		}
		if ((size_t)r > EGW_IPC_MAX_MSG) {
			c->st.protocol_errors++;
			disconnect(c);
			return;
		}
		on_message(c, (size_t)r);
	}
}

int cd_dpipc_send_verdict(struct cd_dpipc *c, const struct egw_ipc_flow_verdict *v)
{
	struct egw_ipc_flow_verdict m = *v;

	if (c->fd < 0)
		return -ENOTCONN;
	egw_ipc_hdr_init(&m.hdr, EGW_IPC_FLOW_VERDICT, sizeof(m), ++c->seq);
	if (send(c->fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		c->st.send_errors++;
		if (errno != EAGAIN)
			disconnect(c);
		return -errno;
	}
	c->st.verdicts_sent++;
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cd_dpipc_reload(struct cd_dpipc *c, enum egw_ipc_reload_phase phase,
		    uint64_t generation, const char *path, int timeout_ms,
		    char *err, size_t errlen)
{
	struct egw_ipc_reload *m;
	uint64_t deadline;
	int rc = -1;

	if (c->fd < 0)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	egw_ipc_hdr_init(&m->hdr, EGW_IPC_RELOAD, sizeof(*m), ++c->seq);
	m->phase = (uint32_t)phase;
	m->generation = generation;
	if (phase == EGW_IPC_RELOAD_PREPARE)
		snprintf(m->path, sizeof(m->path), "%s", path);
	c->want_reply = true;
	c->want_seq = m->hdr.seq;
	c->have_reply = false;
	if (send(c->fd, m, sizeof(*m), MSG_NOSIGNAL) < 0) {
		snprintf(err, errlen, "fast path: sending reload: %s", strerror(errno));
		goto out;
	}
	deadline = mono_ms() + (uint64_t)timeout_ms;
	while (!c->have_reply && c->fd >= 0) {
		struct pollfd pf = { .fd = c->fd, .events = POLLIN };
		uint64_t now = mono_ms();
		if (now >= deadline)
			break;
		if (poll(&pf, 1, (int)(deadline - now)) > 0)
			cd_dpipc_handle(c);
	}
	if (!c->have_reply) {
		snprintf(err, errlen, "fast path: no reply to the reload within %d ms", timeout_ms);
		goto out;
	}
	if (c->reply.status != 0) {
		snprintf(err, errlen, "%s", c->reply.message[0] ? c->reply.message : strerror(-c->reply.status));
		goto out;
	}
	rc = 0;
out:
	c->want_reply = false;
	free(m);
	return rc;
}

void cd_dpipc_get_stats(const struct cd_dpipc *c, struct cd_dpipc_stats *out)
{
	*out = c->st;
}
