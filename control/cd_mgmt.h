/* SPDX-License-Identifier: MIT */
/*
 * egw-controld's management sockets (SOCK_SEQPACKET, one JSON object per
 * message, at most CD_MGMT_MAX_MSG bytes each way):
 *  - <run_dir>/controld.sock, root:egw 0660: every command;
 *  - <run_dir>/controld-ro.sock, root:egw-audit 0660: read-only commands
 *    (stats, flows, ping); reload is refused.
 * The caller is identified with SO_PEERCRED; every operator action (a
 * reload phase, and a refused request) is reported to ops->audit.
 *
 * Requests: {"cmd":"ping"} {"cmd":"stats"}
 *   {"cmd":"flows"[,"unit":"finance"][,"ip":"10.1.0.0/16"]}
 *   {"cmd":"reload"}                       prepare + commit in one step
 *   {"cmd":"reload","phase":"prepare"|"commit"|"abort"}   two-phase, for
 *     egwctl's coordinator; a prepared reload whose connection closes
 *     before commit is aborted.
 * Replies: {"ok":true, ...} or {"ok":false,"error":"..."}.
 *
 * Thread safety: main thread only (call cd_mgmt_handle from the poll loop).
 */
#ifndef CD_MGMT_H
#define CD_MGMT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <jansson.h>

#define CD_MGMT_MAX_MSG 65536
#define CD_MGMT_MAX_REQ 4096
#define CD_MGMT_MAX_CLIENTS 16

enum cd_mgmt_cmd { CD_CMD_PING = 0, CD_CMD_STATS, CD_CMD_FLOWS, CD_CMD_RELOAD };
enum cd_mgmt_phase { CD_PHASE_ALL = 0, CD_PHASE_PREPARE, CD_PHASE_COMMIT, CD_PHASE_ABORT };

struct cd_mgmt_req {
	enum cd_mgmt_cmd cmd;
	enum cd_mgmt_phase phase;
	/* flows only, optional ("" when absent): a unit name, an address or
	 * CIDR (validated) matching either end of a flow */
	char unit[65];
	char ip[64];
};

/* Validate one request message. 0, or -1 with a reason in err (not JSON,
 * not an object, unknown/missing cmd, unknown key, bad phase, too long,
 * "reload is not allowed on the read-only socket"). Pure. */
int cd_mgmt_parse_request(const char *msg, size_t len, bool read_only,
			  struct cd_mgmt_req *out, char *err, size_t errlen);

struct cd_mgmt_ops {
	json_t *(*stats)(void *arg);                 /* new reference */
	json_t *(*flows)(void *arg, const struct cd_mgmt_req *req);
	/* 0, or -1 with the errors (one per line) in err */
	int (*reload_prepare)(void *arg, char *err, size_t errlen);
	int (*reload_commit)(void *arg, char *err, size_t errlen);
	void (*reload_abort)(void *arg);
	void (*audit)(void *arg, const struct ucred *who, const char *what,
		      const char *result);
	void *arg;
};

struct cd_mgmt;

/* Create both sockets in run_dir (created 0755 if missing). A live socket
 * (another daemon answers) is an error ("socket in use"); a stale one is
 * replaced. NULL with a one-line reason in err. */
struct cd_mgmt *cd_mgmt_open(const char *run_dir, const struct cd_mgmt_ops *ops,
			     char *err, size_t errlen);
/* Closes and unlinks the sockets; aborts a prepared reload. NULL ok. */
void cd_mgmt_close(struct cd_mgmt *m);
/* fds to poll for input (listeners and clients); returns how many. */
size_t cd_mgmt_fds(const struct cd_mgmt *m, int *fds, size_t max);
/* Handle what is ready on fd. */
void cd_mgmt_handle(struct cd_mgmt *m, int fd);

/* "uid 0 (root)" */
void cd_mgmt_describe_peer(const struct ucred *c, char *buf, size_t cap);

#endif
