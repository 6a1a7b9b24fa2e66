/* SPDX-License-Identifier: MIT */
/* RFC 5424 copy of the behaviour log: see elog_syslog.h. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "elog_format.h"
#include "elog_syslog.h"

#define TCP_PENDING_MAX (1u << 20)
#define MSG_MAX (ELOG_MAX_LINE + 512)

struct elog_syslog {
	enum elog_syslog_proto proto;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fd;
	int64_t last_connect;
	char host[256];
	char *pend;            /* TCP bytes not yet sent */
	size_t plen;
	char *msg;
	uint64_t sent, dropped;
};

static void disconnect(struct elog_syslog *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->plen = 0;
}

static int do_connect(struct elog_syslog *s)
{
	int type = s->proto == ELOG_SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;

	s->fd = socket(s->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	if (connect(s->fd, (struct sockaddr *)&s->addr, s->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		int e = errno;
		disconnect(s);
		return -e;
	}
	return 0;
}

struct elog_syslog *elog_syslog_open(enum elog_syslog_proto proto, const char *host,
				     uint16_t port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC }, *res = NULL;
	struct elog_syslog *s = calloc(1, sizeof(*s));
	char ps[8];
	int rc;

	if (!s || !(s->msg = malloc(MSG_MAX)) ||
	    (proto == ELOG_SYSLOG_TCP && !(s->pend = malloc(TCP_PENDING_MAX)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->proto = proto;
	s->fd = -1;
	hints.ai_socktype = proto == ELOG_SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;
	snprintf(ps, sizeof(ps), "%u", port);
	rc = getaddrinfo(host, ps, &hints, &res);
	if (rc || !res || res->ai_addrlen > sizeof(s->addr)) {
		snprintf(err, errlen, "syslog %s:%u: %s", host, port,
			 rc ? gai_strerror(rc) : "no address");
		errno = EINVAL;
		goto fail;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	if (gethostname(s->host, sizeof(s->host) - 1) < 0 || !s->host[0])
		snprintf(s->host, sizeof(s->host), "-");
	/* a receiver that is down now may be up later: not an error */
	do_connect(s);
	s->last_connect = INT64_MIN / 2;
	return s;
fail:
	if (s) {
		free(s->msg);
		free(s->pend);
		free(s);
	}
	return NULL;
}

static void flush_tcp(struct elog_syslog *s)
{
	while (s->plen) {
		ssize_t n = send(s->fd, s->pend, s->plen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ENOTCONN)
				return;
			disconnect(s);
			return;
		}
		memmove(s->pend, s->pend + n, s->plen - (size_t)n);
		s->plen -= (size_t)n;
	}
}

void elog_syslog_send(struct elog_syslog *s, const char *line, size_t len,
		      int64_t ts_us, int64_t now_us)
{
	char ts[40];
	int h;
	size_t n;

	if (s->fd < 0) {
		if (now_us - s->last_connect < 1000000) {
			s->dropped++;
			return;
		}
		s->last_connect = now_us;
		if (do_connect(s) < 0) {
			s->dropped++;
			return;
		}
	}
	elog_ts_format(ts_us, ts, sizeof(ts));
	/* PRI 134 = local0.info; VERSION 1; TIMESTAMP HOSTNAME APP PROCID MSGID SD */
	h = snprintf(s->msg, MSG_MAX, "<134>1 %s %s egw - eve - ", ts, s->host);
	if (h < 0 || (size_t)h + len > MSG_MAX) {
		s->dropped++;
		return;
	}
	memcpy(s->msg + h, line, len);
	n = (size_t)h + len;
	if (s->proto == ELOG_SYSLOG_UDP) {
		if (send(s->fd, s->msg, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n) {
			s->sent++;
		} else {
			s->dropped++;
			if (errno != EAGAIN && errno != ECONNREFUSED)
				disconnect(s);
		}
		return;
	}
	flush_tcp(s);
	if (s->fd < 0) {
		s->dropped++;
		return;
	}
	char frame[24];
	int fl = snprintf(frame, sizeof(frame), "%zu ", n);
	if (s->plen + (size_t)fl + n > TCP_PENDING_MAX) {
		s->dropped++;
		return;
	}
	memcpy(s->pend + s->plen, frame, (size_t)fl);
	memcpy(s->pend + s->plen + fl, s->msg, n);
	s->plen += (size_t)fl + n;
	s->sent++;
	flush_tcp(s);
}

void elog_syslog_counts(const struct elog_syslog *s, uint64_t *sent, uint64_t *dropped)
{
	*sent = s ? s->sent : 0;
	*dropped = s ? s->dropped : 0;
}

void elog_syslog_close(struct elog_syslog *s)
{
	if (!s)
		return;
	if (s->fd >= 0 && s->proto == ELOG_SYSLOG_TCP && s->plen) {
		/* a last short try to hand over what is pending */
		int fl = fcntl(s->fd, F_GETFL);
		if (fl >= 0 && fcntl(s->fd, F_SETFL, fl & ~O_NONBLOCK) == 0) {
			struct timeval tv = { .tv_sec = 1 };
			setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			while (s->plen) {
				ssize_t n = send(s->fd, s->pend, s->plen, MSG_NOSIGNAL);
				if (n <= 0)
					break;
				memmove(s->pend, s->pend + n, s->plen - (size_t)n);
				s->plen -= (size_t)n;
			}
		}
	}
	disconnect(s);
	free(s->msg);
	free(s->pend);
	free(s);
}
