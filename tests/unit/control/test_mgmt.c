/* SPDX-License-Identifier: MIT */
/* Management socket request validation and a live socket (control/cd_mgmt.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cd_mgmt.h"
#include "ct_helpers.h"

static int parse(const char *s, bool ro, struct cd_mgmt_req *r, char *err)
{
	return cd_mgmt_parse_request(s, strlen(s), ro, r, err, 256);
}

START_TEST(valid_requests)
{
	struct cd_mgmt_req r;
	char err[256];

	ck_assert_int_eq(parse("{\"cmd\":\"stats\"}", true, &r, err), 0);
	ck_assert_int_eq(r.cmd, CD_CMD_STATS);
	ck_assert_int_eq(parse("{\"cmd\":\"flows\"}", true, &r, err), 0);
	ck_assert_int_eq(r.cmd, CD_CMD_FLOWS);
	ck_assert_int_eq(parse("{\"cmd\":\"reload\"}", false, &r, err), 0);
	ck_assert_int_eq(r.cmd, CD_CMD_RELOAD);
	ck_assert_int_eq(r.phase, CD_PHASE_ALL);
	ck_assert_int_eq(parse("{\"phase\":\"commit\",\"cmd\":\"reload\"}", false, &r, err), 0);
	ck_assert_int_eq(r.phase, CD_PHASE_COMMIT);
	ck_assert_int_eq(parse("{\"cmd\":\"flows\",\"unit\":\"finance\",\"ip\":\"10.1.0.0/16\"}",
			       true, &r, err), 0);
	ck_assert_str_eq(r.unit, "finance");
	ck_assert_str_eq(r.ip, "10.1.0.0/16");
}
END_TEST

START_TEST(invalid_requests_say_why)
{
	static const struct { const char *req; const char *why; } cases[] = {
		{ "", "request of 0 bytes" },
		{ "stats", "not JSON" },
		{ "[\"stats\"]", "not a JSON object" },
		{ "{}", "no \"cmd\"" },
		{ "{\"cmd\":1}", "\"cmd\" must be a string" },
		{ "{\"cmd\":\"shutdown\"}", "unknown cmd \"shutdown\"" },
		{ "{\"cmd\":\"stats\",\"x\":1}", "unknown key \"x\"" },
		{ "{\"cmd\":\"stats\",\"phase\":\"commit\"}", "only for reload" },
		{ "{\"cmd\":\"reload\",\"phase\":\"now\"}", "unknown phase \"now\"" },
		{ "{\"cmd\":\"stats\",\"cmd\":\"reload\"}", "not JSON" },
		{ "{\"cmd\":\"stats\",\"ip\":\"10.1.0.10\"}", "only for flows" },
		{ "{\"cmd\":\"flows\",\"ip\":\"10.1.0.1/16\"}", "did you mean 10.1.0.0/16" },
		{ "{\"cmd\":\"flows\",\"unit\":\"\"}", "\"unit\" must be" },
	};
	struct cd_mgmt_req r;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(parse(cases[i].req, false, &r, err), -1);
		ck_assert_msg(strstr(err, cases[i].why), "'%s': got '%s', want '%s'",
			      cases[i].req, err, cases[i].why);
	}
	char *big = malloc(CD_MGMT_MAX_REQ + 2);
	memset(big, ' ', CD_MGMT_MAX_REQ + 1);
	big[CD_MGMT_MAX_REQ + 1] = '\0';
	ck_assert_int_eq(parse(big, false, &r, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "bytes"));
	free(big);
}
END_TEST

START_TEST(read_only_refuses_reload)
{
	struct cd_mgmt_req r;
	char err[256];

	ck_assert_int_eq(parse("{\"cmd\":\"reload\"}", true, &r, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "read-only"));
	ck_assert_int_eq(parse("{\"cmd\":\"reload\",\"phase\":\"prepare\"}", true, &r, err), -1);
	ck_assert_int_eq(parse("{\"cmd\":\"stats\"}", true, &r, err), 0);
}
END_TEST

/* A live pair of sockets: the server side's replies and audit calls. */
static int audits, prepared, committed, aborted;
static char last_audit[256];

static json_t *st(void *a) { (void)a; return json_pack("{s:i}", "packets", 7); }
static json_t *fl(void *a, const struct cd_mgmt_req *r) { (void)a; (void)r; return json_pack("{s:[]}", "flows"); }
static int prep(void *a, char *e, size_t n) { (void)a; (void)e; (void)n; prepared++; return 0; }
static int com(void *a, char *e, size_t n) { (void)a; (void)e; (void)n; committed++; return 0; }
static void ab(void *a) { (void)a; aborted++; }
static void aud(void *a, const struct ucred *who, const char *what, const char *res)
{
	(void)a;
	audits++;
	snprintf(last_audit, sizeof(last_audit), "uid %u %s %s", (unsigned)who->uid, what, res);
}

static int client(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void pump(struct cd_mgmt *m)
{
	int fds[32];
	size_t n = cd_mgmt_fds(m, fds, 32);

	for (size_t i = 0; i < n; i++)
		cd_mgmt_handle(m, fds[i]);
}

static char *call(struct cd_mgmt *m, int fd, const char *req)
{
	static char buf[4096];
	ssize_t r;

	ck_assert_int_eq(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	pump(m);
	r = recv(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(r, 0);
	buf[r] = '\0';
	return buf;
}

START_TEST(live_sockets)
{
	char dir[] = "/tmp/egwt-controld-mgmt.XXXXXX", err[256], p[128];
	struct cd_mgmt_ops ops = { st, fl, prep, com, ab, aud, NULL };
	struct cd_mgmt *m, *m2;
	int rw, ro;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	m = cd_mgmt_open(dir, &ops, err, sizeof(err));
	ck_assert_msg(m != NULL, "%s", err);
	/* a second server on the same directory: socket in use */
	m2 = cd_mgmt_open(dir, &ops, err, sizeof(err));
	ck_assert_ptr_null(m2);
	ck_assert_ptr_nonnull(strstr(err, "socket in use"));

	snprintf(p, sizeof(p), "%s/controld.sock", dir);
	rw = client(p);
	snprintf(p, sizeof(p), "%s/controld-ro.sock", dir);
	ro = client(p);
	pump(m);   /* accept both */
	pump(m);

	ck_assert_ptr_nonnull(strstr(call(m, ro, "{\"cmd\":\"stats\"}"), "\"packets\":7"));
	ck_assert_ptr_nonnull(strstr(call(m, ro, "{\"cmd\":\"reload\"}"), "read-only"));
	ck_assert_int_eq(prepared, 0);
	ck_assert_ptr_nonnull(strstr(last_audit, "refused"));
	ck_assert_ptr_nonnull(strstr(call(m, rw, "{\"cmd\":\"bogus\"}"), "unknown cmd"));
	ck_assert_ptr_nonnull(strstr(call(m, rw, "{\"cmd\":\"reload\",\"phase\":\"commit\"}"),
				     "nothing prepared"));
	ck_assert_ptr_nonnull(strstr(call(m, rw, "{\"cmd\":\"reload\",\"phase\":\"prepare\"}"),
				     "\"ok\":true"));
	ck_assert_int_eq(prepared, 1);
	/* the connection closes before commit: the prepared reload is aborted */
	close(rw);
	pump(m);
	ck_assert_int_eq(aborted, 1);
	ck_assert_int_eq(committed, 0);
	rw = client(dir[0] ? (snprintf(p, sizeof(p), "%s/controld.sock", dir), p) : p);
	pump(m);
	ck_assert_ptr_nonnull(strstr(call(m, rw, "{\"cmd\":\"reload\"}"), "\"ok\":true"));
	ck_assert_int_eq(committed, 1);
	ck_assert_ptr_nonnull(strstr(last_audit, "reload ok"));
	close(rw);
	close(ro);
	cd_mgmt_close(m);
	ck_assert_int_ne(access(p, F_OK), 0);   /* sockets unlinked */
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mgmt");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, valid_requests);
	tcase_add_test(tc, invalid_requests_say_why);
	tcase_add_test(tc, read_only_refuses_reload);
	tcase_add_test(tc, live_sockets);
	suite_add_tcase(s, tc);
	return ct_run(s);
}
