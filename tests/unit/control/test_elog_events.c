/* SPDX-License-Identifier: MIT */
/*
 * elog_write_events: the fast path's struct events logged without JSON
 * objects. The day's file must be byte for byte the one elog_write(
 * egw_event_to_json(ev)) makes (same key, same clock), verify clean, and
 * report tampering as before.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "elog.h"
#include "elog_format.h"
#include "elog_verify.h"
#include "ct_helpers.h"

#define N_EVENTS 600  /* more than ELOG_BATCH_LINES: batches flushed mid-call */


/* Varied events: every type, both families, awkward strings. */
static void make_events(struct egw_event *evs, size_t n)
{
	static const char *const hosts[] = { "www.example.cn", "mail.qq.com",
		"a/b\"c\\d\x01\x1f\xff\xc3\xa9", "" };
	memset(evs, 0, n * sizeof(*evs));
	for (size_t i = 0; i < n; i++) {
		struct egw_event *ev = &evs[i];
		ev->type = (uint8_t)(i % EGW_EV__COUNT);
		ev->action = (uint8_t)(i % EGW_EA__COUNT);
		ev->family = i % 3 ? AF_INET : AF_INET6;
		ev->proto = i % 2 ? 6 : 17;
		ev->src_port = (uint16_t)(40000 + i);
		ev->dest_port = 443;
		ev->ts_us = (uint64_t)ct_sim_now + i;
		ev->flow_id = i * 7919;
		if (ev->family == AF_INET) {
			inet_pton(AF_INET, "10.1.0.10", ev->src_ip);
			inet_pton(AF_INET, "198.51.100.80", ev->dest_ip);
		} else {
			inet_pton(AF_INET6, "2001:db8::10", ev->src_ip);
			inet_pton(AF_INET6, "2001:db8::80", ev->dest_ip);
		}
		snprintf(ev->unit, sizeof(ev->unit), "%s", i % 2 ? "finance" : "health");
		snprintf(ev->user, sizeof(ev->user), "user%zu", i);
		snprintf(ev->rule, sizeof(ev->rule), "/etc/egw/egw.cfg:%zu", i);
		const char *h = hosts[i % 4];
		switch (ev->type) {
		case EGW_EV_FLOW:
			ev->u.flow.pkts_toserver = i;
			ev->u.flow.bytes_toclient = UINT64_MAX - i;
			ev->u.flow.start_us = ev->ts_us - 5000000;
			ev->u.flow.end_us = ev->ts_us;
			snprintf(ev->u.flow.state, sizeof(ev->u.flow.state), "closed");
			break;
		case EGW_EV_DNS:
			snprintf(ev->u.dns.rrname, sizeof(ev->u.dns.rrname), "%s", h);
			ev->u.dns.rrtype = 1;
			ev->u.dns.rcode = (int16_t)(i % 5) - 1;
			break;
		case EGW_EV_TLS:
			snprintf(ev->u.tls.sni, sizeof(ev->u.tls.sni), "%s", h);
			break;
		case EGW_EV_HTTP:
			snprintf(ev->u.http.hostname, sizeof(ev->u.http.hostname), "%s", h);
			break;
		case EGW_EV_ALERT:
			snprintf(ev->u.alert.signature, sizeof(ev->u.alert.signature), "%s", h);
			break;
		case EGW_EV_AUDIT:
			snprintf(ev->u.audit.what, sizeof(ev->u.audit.what), "reload %s", h);
			break;
		default:
			break;
		}
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	char *buf = malloc(1 << 22);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, (1 << 22) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* Log evs into dir with key, through the struct path or the JSON path. */
static void log_to(const char *dir, const char *key, const struct egw_event *evs,
		   size_t n, bool structs)
{
	struct elog_cfg cfg = { .dir = dir, .clock = ct_sim_clock, .key_path = key };
	char err[256];
	struct elog *l = elog_open(&cfg, err, sizeof(err));
	ck_assert_msg(l != NULL, "elog_open: %s", err);
	if (structs) {
		/* in uneven batches, as they come from the fast path */
		size_t done = 0, step = 1;
		while (done < n) {
			size_t k = n - done < step ? n - done : step;
			ck_assert_uint_eq(elog_write_events(l, evs + done, k), k);
			done += k;
			step = step * 3 + 1;
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			json_t *o = egw_event_to_json(&evs[i]);
			ck_assert_ptr_nonnull(o);
			ck_assert_uint_eq(elog_write(l, &o, 1), 1);
			json_decref(o);
		}
	}
	struct elog_stats st;
	elog_get_stats(l, &st);
	ck_assert_uint_eq(st.rejected, 0);
	ck_assert_uint_eq(st.failed, 0);
	ck_assert_int_eq(elog_close(l), 0);
}

static unsigned nerrors;
static void collect(void *arg, enum elog_severity sev, const char *file, uint64_t line,
		    const char *msg)
{
	(void)arg;
	if (sev == ELOG_ERROR) {
		nerrors++;
		fprintf(stderr, "%s:%llu: %s\n", file, (unsigned long long)line, msg);
	}
}

START_TEST(struct_events_same_file_as_json_and_verify)
{
	int64_t day;
	ck_assert_int_eq(elog_day_parse("2026-11-27", &day), 0);
	ct_sim_now = day * 86400LL * 1000000 + 4 * 3600LL * 1000000;
	char *a = ct_mkdtemp("egwt-logperf2"), *b = ct_mkdtemp("egwt-logperf2"), *k = ct_mkdtemp("egwt-logperf2");
	char key[512], name[64], pa[600], pb[600];
	struct egw_event *evs = calloc(N_EVENTS, sizeof(*evs));
	ck_assert_ptr_nonnull(evs);
	make_events(evs, N_EVENTS);
	snprintf(key, sizeof(key), "%s/key", k);

	log_to(a, key, evs, N_EVENTS, true);
	log_to(b, key, evs, N_EVENTS, false);

	elog_name_format(day, ELOG_F_PLAIN, name, sizeof(name));
	snprintf(pa, sizeof(pa), "%s/%s", a, name);
	snprintf(pb, sizeof(pb), "%s/%s", b, name);
	size_t na, nb;
	char *fa = slurp(pa, &na), *fb = slurp(pb, &nb);
	ck_assert_uint_gt(na, 1000);
	ck_assert_uint_eq(na, nb);
	ck_assert_msg(memcmp(fa, fb, na) == 0, "struct and JSON paths wrote different files");
	ck_assert_ptr_nonnull(strstr(fa, "\"sni\":\"a/b\\\"c\\\\d\\u0001\\u001F\\\\xff\xc3\xa9\""));

	struct elog_verify_opts o = { .dir = a, .key_path = key, .since_day = INT64_MIN,
				      .today = day, .report = collect };
	struct elog_verify_result res;
	nerrors = 0;
	ck_assert_int_eq(elog_verify(&o, &res), 0);
	ck_assert_uint_eq(res.errors, 0);
	ck_assert_uint_eq(nerrors, 0);
	ck_assert_uint_eq(res.lines, N_EVENTS + 1); /* and the header */

	/* a changed byte in an event line is found */
	char *p = strstr(fa, "www.example.cn");
	ck_assert_ptr_nonnull(p);
	p[0] = 'W';
	FILE *f = fopen(pa, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(fa, 1, na, f), na);
	fclose(f);
	nerrors = 0;
	ck_assert_int_eq(elog_verify(&o, &res), 1);
	ck_assert_uint_gt(res.errors, 0);

	free(fa);
	free(fb);
	free(evs);
	ct_rm_rf(a);
	ct_rm_rf(b);
	ct_rm_rf(k);
	free(a);
	free(b);
	free(k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elog_events");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, struct_events_same_file_as_json_and_verify);
	suite_add_tcase(s, tc);
	return ct_run(s);
}
