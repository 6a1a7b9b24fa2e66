/* SPDX-License-Identifier: MIT */
/* Management sockets: request validation, peer credentials, audit. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <egw/addr.h>

#include "cd_mgmt.h"

struct client {
	int fd;
	bool ro;
	bool prepared;       /* holds a prepared reload */
	struct ucred cred;
};

struct cd_mgmt {
	struct cd_mgmt_ops ops;
	int lfd[2];          /* [0] read-write, [1] read-only */
	char path[2][108];
	struct client c[CD_MGMT_MAX_CLIENTS];
	size_t n;
};

int cd_mgmt_parse_request(const char *msg, size_t len, bool read_only,
			  struct cd_mgmt_req *out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o, *v;
	const char *key, *cmd, *phase = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > CD_MGMT_MAX_REQ) {
		snprintf(err, errlen, "request of %zu bytes (1..%d allowed)", len,
			 CD_MGMT_MAX_REQ);
		return -1;
	}
	o = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		snprintf(err, errlen, "request is not JSON: %s at byte %d", je.text, je.position);
		return -1;
	}
	if (!json_is_object(o)) {
		snprintf(err, errlen, "request is not a JSON object");
		goto out;
	}
	json_object_foreach(o, key, v) {
		if (!strcmp(key, "cmd") || !strcmp(key, "phase") || !strcmp(key, "unit") ||
		    !strcmp(key, "ip")) {
			if (!json_is_string(v)) {
				snprintf(err, errlen, "\"%s\" must be a string", key);
				goto out;
			}
			continue;
		}
		snprintf(err, errlen, "unknown key \"%.64s\"", key);
		goto out;
	}
	v = json_object_get(o, "cmd");
	if (!v) {
		snprintf(err, errlen, "request has no \"cmd\"");
		goto out;
	}
	cmd = json_string_value(v);
	if (json_object_get(o, "phase"))
		phase = json_string_value(json_object_get(o, "phase"));
	if (!strcmp(cmd, "ping"))
		out->cmd = CD_CMD_PING;
	else if (!strcmp(cmd, "stats"))
		out->cmd = CD_CMD_STATS;
	else if (!strcmp(cmd, "flows"))
		out->cmd = CD_CMD_FLOWS;
	else if (!strcmp(cmd, "reload"))
		out->cmd = CD_CMD_RELOAD;
	else {
		snprintf(err, errlen, "unknown cmd \"%.64s\"", cmd);
		goto out;
	}
	if (phase) {
		if (out->cmd != CD_CMD_RELOAD) {
			snprintf(err, errlen, "\"phase\" is only for reload");
			goto out;
		}
		if (!strcmp(phase, "prepare"))
			out->phase = CD_PHASE_PREPARE;
		else if (!strcmp(phase, "commit"))
			out->phase = CD_PHASE_COMMIT;
		else if (!strcmp(phase, "abort"))
			out->phase = CD_PHASE_ABORT;
		else {
			snprintf(err, errlen, "unknown phase \"%.64s\" (prepare, commit, abort)", phase);
			goto out;
		}
	}
	v = json_object_get(o, "unit");
	if (v || json_object_get(o, "ip")) {
		if (out->cmd != CD_CMD_FLOWS) {
			snprintf(err, errlen, "\"unit\" and \"ip\" are only for flows");
			goto out;
		}
		if (v) {
			const char *u = json_string_value(v);
			if (!*u || strlen(u) >= sizeof(out->unit)) {
				snprintf(err, errlen, "\"unit\" must be 1..%zu characters",
					 sizeof(out->unit) - 1);
				goto out;
			}
			memcpy(out->unit, u, strlen(u) + 1);
		}
		v = json_object_get(o, "ip");
		if (v) {
			const char *a = json_string_value(v), *why = NULL;
			struct egw_prefix pfx;
			if (strlen(a) >= sizeof(out->ip) || egw_prefix_parse(a, &pfx, &why) < 0) {
				snprintf(err, errlen, "\"ip\": %.64s: %s", a, why ? why : "too long");
				goto out;
			}
			memcpy(out->ip, a, strlen(a) + 1);
		}
	}
	if (read_only && out->cmd == CD_CMD_RELOAD) {
		snprintf(err, errlen, "reload is not allowed on the read-only socket");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

void cd_mgmt_describe_peer(const struct ucred *c, char *buf, size_t cap)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(c->uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, cap, "uid %u (%s) pid %d", (unsigned)c->uid, pw.pw_name, (int)c->pid);
	else
		snprintf(buf, cap, "uid %u pid %d", (unsigned)c->uid, (int)c->pid);
}

/* Listen on path; group owns it with mode 0660. */
static int listen_at(const char *path, const char *group, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct group gr, *g = NULL;
	char tmp[1024];
	int fd, probe;
	gid_t gid = 0;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* In use? A daemon that answers owns it; a dead one left it stale. */
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			snprintf(err, errlen, "%s: socket in use (another egw-controld is running)", path);
			return -1;
		}
		close(probe);
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 8) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (getgrnam_r(group, &gr, tmp, sizeof(tmp), &g) == 0 && g)
		gid = g->gr_gid;
	else
		fprintf(stderr, "egw-controld: group %s does not exist; %s is root-only\n",
			group, path);
	if (chown(path, 0, gid) < 0 || chmod(path, g ? 0660 : 0600) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

struct cd_mgmt *cd_mgmt_open(const char *run_dir, const struct cd_mgmt_ops *ops,
			     char *err, size_t errlen)
{
	struct cd_mgmt *m = calloc(1, sizeof(*m));

	if (!m) {
		snprintf(err, errlen, "management socket: out of memory");
		return NULL;
	}
	m->ops = *ops;
	m->lfd[0] = m->lfd[1] = -1;
	if (mkdir(run_dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", run_dir, strerror(errno));
		goto fail;
	}
	{
		static const char *const name[2] = { "controld.sock", "controld-ro.sock" };
		static const char *const group[2] = { "egw", "egw-audit" };
		char path[sizeof(m->path[0]) + 64];

		for (int i = 0; i < 2; i++) {
			if (snprintf(path, sizeof(path), "%s/%s", run_dir, name[i]) >=
			    (int)sizeof(m->path[i])) {
				snprintf(err, errlen, "%s: run directory path too long", run_dir);
				goto fail;
			}
			m->lfd[i] = listen_at(path, group[i], err, errlen);
			if (m->lfd[i] < 0)
				goto fail;
			/* ours from here on: unlinked at close */
			memcpy(m->path[i], path, strlen(path) + 1);
		}
	}
	return m;
fail:
	cd_mgmt_close(m);
	return NULL;
}

static void drop_client(struct cd_mgmt *m, size_t i)
{
	if (m->c[i].prepared) {
		m->ops.reload_abort(m->ops.arg);
		m->ops.audit(m->ops.arg, &m->c[i].cred, "reload abort (connection closed)", "ok");
	}
	close(m->c[i].fd);
	m->c[i] = m->c[--m->n];
}

void cd_mgmt_close(struct cd_mgmt *m)
{
	if (!m)
		return;
	while (m->n)
		drop_client(m, m->n - 1);
	for (int i = 0; i < 2; i++) {
		if (m->lfd[i] >= 0)
			close(m->lfd[i]);
		if (m->path[i][0])
			unlink(m->path[i]);
	}
	free(m);
}

size_t cd_mgmt_fds(const struct cd_mgmt *m, int *fds, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < 2 && n < max; i++)
		fds[n++] = m->lfd[i];
	for (size_t i = 0; i < m->n && n < max; i++)
		fds[n++] = m->c[i].fd;
	return n;
}

static void reply(int fd, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	if (s) {
		size_t len = strlen(s);
		if (len > CD_MGMT_MAX_MSG) {
			free(s);
			s = strdup("{\"ok\":false,\"error\":\"reply too large\"}");
			len = s ? strlen(s) : 0;
		}
		if (s)
			(void)send(fd, s, len, MSG_NOSIGNAL);
	}
	free(s);
	json_decref(o);
}

static void reply_err(int fd, const char *msg)
{
	reply(fd, json_pack("{s:b,s:s}", "ok", 0, "error", msg));
}

static void do_reload(struct cd_mgmt *m, struct client *c, enum cd_mgmt_phase ph)
{
	static const char *const what[] = { "reload", "reload prepare", "reload commit",
					     "reload abort" };
	char err[4096] = "";
	char result[64];
	int rc = 0;

	switch (ph) {
	case CD_PHASE_ALL:
	case CD_PHASE_PREPARE:
		if (c->prepared) {
			m->ops.reload_abort(m->ops.arg);
			c->prepared = false;
		}
		rc = m->ops.reload_prepare(m->ops.arg, err, sizeof(err));
		if (rc == 0 && ph == CD_PHASE_ALL)
			rc = m->ops.reload_commit(m->ops.arg, err, sizeof(err));
		else if (rc == 0)
			c->prepared = true;
		break;
	case CD_PHASE_COMMIT:
		if (!c->prepared) {
			rc = -1;
			snprintf(err, sizeof(err), "nothing prepared on this connection");
			break;
		}
		c->prepared = false;
		rc = m->ops.reload_commit(m->ops.arg, err, sizeof(err));
		break;
	case CD_PHASE_ABORT:
		if (c->prepared)
			m->ops.reload_abort(m->ops.arg);
		c->prepared = false;
		break;
	}
	if (rc == 0)
		snprintf(result, sizeof(result), "ok");
	else
		snprintf(result, sizeof(result), "failed: %.54s", err);
	/* first line only in the audit result; the reply has them all */
	char *nl = strchr(result, '\n');
	if (nl)
		*nl = '\0';
	m->ops.audit(m->ops.arg, &c->cred, what[ph], result);
	if (rc == 0)
		reply(c->fd, json_pack("{s:b}", "ok", 1));
	else
		reply_err(c->fd, err);
}

static void serve(struct cd_mgmt *m, size_t i)
{
	struct client *c = &m->c[i];
	char buf[CD_MGMT_MAX_REQ + 1], err[256];
	struct cd_mgmt_req req;
	ssize_t r;

	r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		drop_client(m, i);
		return;
	}
	if (cd_mgmt_parse_request(buf, (size_t)r > sizeof(buf) ? CD_MGMT_MAX_REQ + 1 : (size_t)r,
				  c->ro, &req, err, sizeof(err)) < 0) {
		if (c->ro && strstr(err, "read-only"))
			m->ops.audit(m->ops.arg, &c->cred, "reload", "refused: read-only socket");
		reply_err(c->fd, err);
		return;
	}
	switch (req.cmd) {
	case CD_CMD_PING:
		reply(c->fd, json_pack("{s:b,s:s}", "ok", 1, "daemon", "egw-controld"));
		break;
	case CD_CMD_STATS:
	case CD_CMD_FLOWS: {
		json_t *o = req.cmd == CD_CMD_STATS ? m->ops.stats(m->ops.arg)
						    : m->ops.flows(m->ops.arg, &req);
		if (!o) {
			reply_err(c->fd, "out of memory");
			break;
		}
		json_object_set_new(o, "ok", json_true());
		reply(c->fd, o);
		break;
	}
	case CD_CMD_RELOAD:
		do_reload(m, c, req.phase);
		break;
	}
}

void cd_mgmt_handle(struct cd_mgmt *m, int fd)
{
	for (int l = 0; l < 2; l++) {
		if (fd != m->lfd[l])
			continue;
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		socklen_t len = sizeof(struct ucred);
		if (cfd < 0)
			return;
		if (m->n == CD_MGMT_MAX_CLIENTS) {
			reply_err(cfd, "too many clients");
			close(cfd);
			return;
		}
		struct client *c = &m->c[m->n];
		memset(c, 0, sizeof(*c));
		c->fd = cfd;
		c->ro = l == 1;
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
			close(cfd);
			return;
		}
		m->n++;
		return;
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->c[i].fd == fd) {
			serve(m, i);
			return;
		}
}
