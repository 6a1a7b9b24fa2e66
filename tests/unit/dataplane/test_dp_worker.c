/* SPDX-License-Identifier: MIT */
/* The worker path beyond replay's captures: reload re-decides live flows
 * without losing them (and ends, with reason "reload", those the new
 * policy treats otherwise), control-plane verdicts, eviction and timeouts as a
 * user sees them (a reply after the flow is gone is dropped). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <egw/ipc.h>

#include <rte_mbuf.h>

#include "dp_burst.h"
#include "dp_nat.h"
#include "dp_parse.h"
#include "dp_tables.h"
#include "dp_worker.h"
#include "eal_fixture.h"
#include "event_view.h"
#include "frame_builder.h"
#include "policy_fixture.h"
#include "worker_fixture.h"

#define ZW_MAC "02:00:0a:01:00:0a"
#define LN_MAC "02:00:0a:01:00:0b"
#define S 1000000ull

static enum dp_disp out_syn(struct dp_worker *w, const struct dp_tables *t, uint64_t now)
{
	struct fb f;
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "192.0.2.80", 40000, 443, DP_TCP_SYN);
	return dp_worker_packet(w, t, f.b, &f.len, false, now);
}

static enum dp_disp in_synack(struct dp_worker *w, const struct dp_tables *t, uint64_t now)
{
	struct fb f;
	fb_tcp4(&f, "02:ee:00:00:00:02", "192.0.2.80", "10.1.0.10", 443, 40000,
		DP_TCP_SYN | DP_TCP_ACK);
	return dp_worker_packet(w, t, f.b, &f.len, true, now);
}

/* Flow end events with reason "reload" in w's buffer. */
static unsigned reload_ends(const struct dp_worker *w)
{
	unsigned n = 0, nev = events(w);
	for (uint32_t i = 0; i < nev; i++)
		if (evs[i].type == EGW_EV_FLOW && !strcmp(evs[i].u.flow.reason, "reload"))
			n++;
	return n;
}

START_TEST(reload_keeps_flows_and_applies_the_new_policy)
{
	struct dp_worker w;
	struct dp_tables *a = wfx_start(&w, 64, 64);
	ck_assert_int_eq(out_syn(&w, a, 1 * S), DP_DISP_FORWARD);

	/* The same policy again: the reply still passes, no flow lost or ended. */
	struct dp_tables *b = wfx_tables(fixture_policy());
	dp_worker_rebind(&w, a, b);
	dp_tables_free(a);
	ck_assert_int_eq(in_synack(&w, b, 2 * S), DP_DISP_FORWARD);
	ck_assert_uint_eq(w.st.drops[DP_DROP_NO_FLOW], 0);
	ck_assert_uint_eq(w.ft.n, 1);
	ck_assert_uint_eq(reload_ends(&w), 0);

	/* A policy that denies it: the flow ends now, its end event says
	 * "reload" with the old verdict; its next packets either way are
	 * dropped. */
	struct egw_policy *pol = fixture_policy();
	pol->profiles[0].n_rules = 1;   /* standard: only the category rule */
	struct dp_tables *c = wfx_tables(pol);
	clear_events(&w);
	dp_worker_rebind(&w, b, c);
	dp_tables_free(b);
	ck_assert_uint_eq(w.ft.n, 0);
	ck_assert_uint_eq(reload_ends(&w), 1);
	const struct egw_event *e = &evs[0];
	ck_assert_int_eq(e->action, EGW_EA_ALLOWED);
	ck_assert_uint_eq(e->dest_port, 443);
	ck_assert_uint_eq(e->u.flow.pkts_toserver, 1);
	ck_assert_uint_eq(e->u.flow.pkts_toclient, 1);
	ck_assert_int_eq(in_synack(&w, c, 3 * S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_NO_FLOW], 1);
	ck_assert_int_eq(out_syn(&w, c, 3 * S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_PROFILE], 1);
	/* ... as a new flow of the new policy, with its drop event. */
	ck_assert_uint_eq(events(&w), 2);
	ck_assert_int_eq(evs[1].type, EGW_EV_DROP);

	/* Allowed again: the dropped flow ends too, the next SYN passes. */
	struct dp_tables *d = wfx_tables(fixture_policy());
	clear_events(&w);
	dp_worker_rebind(&w, c, d);
	dp_tables_free(c);
	ck_assert_uint_eq(reload_ends(&w), 1);
	ck_assert_int_eq(evs[0].action, EGW_EA_BLOCKED);
	ck_assert_int_eq(out_syn(&w, d, 4 * S), DP_DISP_FORWARD);
	ck_assert_int_eq(in_synack(&w, d, 4 * S), DP_DISP_FORWARD);
	wfx_stop(&w, d);
}
END_TEST

START_TEST(reload_keeps_redirects_and_control_plane_verdicts)
{
	struct dp_worker w;
	struct fb f;
	struct dp_tables *a = wfx_start(&w, 64, 64);
	w.ctl_up = true;

	/* A redirected query and a punted flow the control plane allowed. */
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.53", 5353, 53);
	ck_assert_int_eq(dp_worker_packet(&w, a, f.b, &f.len, false, S), DP_DISP_FORWARD);
	fb_tcp4(&f, LN_MAC, "10.1.0.11", "203.0.113.80", 42000, 22, DP_TCP_SYN);
	ck_assert_int_eq(dp_worker_packet(&w, a, f.b, &f.len, false, S), DP_DISP_PUNT);
	struct egw_ipc_flow_verdict v;
	memset(&v, 0, sizeof(v));
	egw_ipc_hdr_init(&v.hdr, EGW_IPC_FLOW_VERDICT, sizeof(v), 1);
	v.family = AF_INET;
	v.proto = 6;
	v.verdict = EGW_IPC_V_ALLOW;
	v.src_port = 42000;
	v.dst_port = 22;
	memcpy(v.src_ip, (uint8_t[]){ 10, 1, 0, 11 }, 4);
	memcpy(v.dst_ip, (uint8_t[]){ 203, 0, 113, 80 }, 4);
	ck_assert_int_eq(dp_worker_install(&w, &v), 0);

	/* The same policy again: both go on as they were. */
	struct dp_tables *b = wfx_tables(fixture_policy());
	clear_events(&w);
	dp_worker_rebind(&w, a, b);
	dp_tables_free(a);
	ck_assert_uint_eq(reload_ends(&w), 0);
	ck_assert_uint_eq(w.ft.n, 2);
	fb_udp4(&f, "02:ee:00:00:00:02", "198.51.100.53", "10.1.0.10", 53, 5353);
	ck_assert_int_eq(dp_worker_packet(&w, b, f.b, &f.len, true, 2 * S), DP_DISP_FORWARD);
	struct dp_pkt p;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.src[0], 203);   /* as if from the resolver asked */
	fb_tcp4(&f, LN_MAC, "10.1.0.11", "203.0.113.80", 42000, 22, DP_TCP_ACK);
	ck_assert_int_eq(dp_worker_packet(&w, b, f.b, &f.len, false, 2 * S), DP_DISP_FORWARD);
	ck_assert_uint_eq(w.st.drops[DP_DROP_NO_FLOW], 0);
	wfx_stop(&w, b);
}
END_TEST

START_TEST(control_plane_verdict_for_a_punted_flow)
{
	struct dp_worker w;
	struct fb f;
	struct dp_tables *t = wfx_start(&w, 64, 64);
	w.ctl_up = true;
	fb_tcp4(&f, LN_MAC, "10.1.0.11", "203.0.113.80", 42000, 22, DP_TCP_SYN);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_PUNT);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_PUNT);

	struct egw_ipc_flow_verdict v;
	memset(&v, 0, sizeof(v));
	egw_ipc_hdr_init(&v.hdr, EGW_IPC_FLOW_VERDICT, sizeof(v), 1);
	v.family = AF_INET;
	v.proto = 6;
	v.verdict = EGW_IPC_V_ALLOW;
	v.src_port = 42000;
	v.dst_port = 22;
	memcpy(v.src_ip, (uint8_t[]){ 10, 1, 0, 11 }, 4);
	memcpy(v.dst_ip, (uint8_t[]){ 203, 0, 113, 80 }, 4);
	ck_assert_int_eq(egw_ipc_check(&v, sizeof(v), NULL), 0);
	ck_assert_int_eq(dp_worker_install(&w, &v), 0);
	/* Installed: the flow stays in the fast path. */
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	v.verdict = EGW_IPC_V_DROP;
	ck_assert_int_eq(dp_worker_install(&w, &v), 0);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_CONTROL], 1);
	v.dst_port = 23;
	ck_assert_int_eq(dp_worker_install(&w, &v), -ENOENT);

	/* Without a control plane: fail closed, or open when so configured. */
	w.ctl_up = false;
	fb_tcp4(&f, LN_MAC, "10.1.0.11", "203.0.113.80", 42001, 22, DP_TCP_SYN);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_PUNT_FAIL_CLOSED], 1);
	dp_tables_free(t);
	struct egw_policy *pol = fixture_policy();
	pol->gateway.fail_mode = EGW_FAIL_OPEN;
	t = wfx_tables(pol);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	ck_assert_uint_eq(w.st.fail_open, 1);
	wfx_stop(&w, t);
}
END_TEST

START_TEST(expired_or_evicted_flow_no_longer_admits_replies)
{
	struct dp_worker w;
	struct dp_tables *t = wfx_start(&w, 2, 64);
	ck_assert_int_eq(out_syn(&w, t, 1 * S), DP_DISP_FORWARD);
	/* TCP never established: 30 s. */
	dp_worker_tick(&w, t, 40 * S);
	ck_assert_uint_eq(w.ft.n, 0);
	ck_assert_int_eq(in_synack(&w, t, 41 * S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.drops[DP_DROP_NO_FLOW], 1);
	/* One flow end event with reason timeout. */
	int ends = 0;
	unsigned nev = events(&w);
	for (uint32_t i = 0; i < nev; i++)
		if (evs[i].type == EGW_EV_FLOW && !strcmp(evs[i].u.flow.reason, "timeout"))
			ends++;
	ck_assert_int_eq(ends, 1);

	/* Capacity 2: a third flow evicts the oldest, counted. */
	struct fb f;
	ck_assert_int_eq(out_syn(&w, t, 50 * S), DP_DISP_FORWARD);
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 1, 2);
	dp_worker_packet(&w, t, f.b, &f.len, false, 51 * S);
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 1, 3);
	dp_worker_packet(&w, t, f.b, &f.len, false, 52 * S);
	ck_assert_uint_eq(w.ft.st.evicted, 1);
	ck_assert_int_eq(in_synack(&w, t, 53 * S), DP_DISP_DROP);
	wfx_stop(&w, t);
}
END_TEST


/* The TCP/UDP checksum of a parsed frame, pseudo-header included: 0 when
 * the frame's checksum is right. */
static uint16_t l4_csum(const struct fb *f)
{
	struct dp_pkt p;
	ck_assert_int_eq(dp_parse(f->b, f->len, &p), DP_DROP_NONE);
	uint8_t ph[40];
	unsigned n = p.family == AF_INET ? 4 : 16;
	uint32_t l4len = p.l3_len - (p.l4_off - p.l3_off);
	memcpy(ph, p.src, n);
	memcpy(ph + n, p.dst, n);
	uint32_t sum = 0;
	for (unsigned i = 0; i < 2 * n; i += 2)
		sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	sum += p.proto + l4len;
	return dp_nat_csum(f->b + p.l4_off, l4len, sum);
}

static void set_l4_csum(struct fb *f)
{
	struct dp_pkt p;
	ck_assert_int_eq(dp_parse(f->b, f->len, &p), DP_DROP_NONE);
	unsigned off = p.l4_off + (p.proto == 6 ? 16 : 6);
	f->b[off] = f->b[off + 1] = 0;
	uint16_t c = l4_csum(f);
	f->b[off] = (uint8_t)(c >> 8);
	f->b[off + 1] = (uint8_t)c;
	if (p.family == AF_INET) {
		f->b[p.l3_off + 10] = f->b[p.l3_off + 11] = 0;
		c = dp_nat_csum(f->b + p.l3_off, 20, 0);
		f->b[p.l3_off + 10] = (uint8_t)(c >> 8);
		f->b[p.l3_off + 11] = (uint8_t)c;
	}
}

START_TEST(dns_redirect_rewrites_both_ways_with_valid_checksums)
{
	struct dp_worker w;
	struct fb f;
	struct dp_pkt p;
	struct dp_tables *t = wfx_start(&w, 64, 64);

	/* Query to the foreign resolver: leaves towards the redirect target. */
	fb_udp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.53", 5353, 53);
	set_l4_csum(&f);
	ck_assert_uint_eq(l4_csum(&f), 0);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.dst[0], 198);
	ck_assert_int_eq(p.dst[3], 53);
	ck_assert_uint_eq(l4_csum(&f), 0);
	ck_assert_uint_eq(dp_nat_csum(f.b + p.l3_off, 20, 0), 0);

	/* The answer from the target returns as if from the resolver asked. */
	fb_udp4(&f, "02:ee:00:00:00:02", "198.51.100.53", "10.1.0.10", 53, 5353);
	set_l4_csum(&f);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, true, 2 * S), DP_DISP_FORWARD);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.src[0], 203);
	ck_assert_int_eq(p.src[3], 53);
	ck_assert_uint_eq(l4_csum(&f), 0);
	ck_assert_uint_eq(dp_nat_csum(f.b + p.l3_off, 20, 0), 0);
	ck_assert_uint_eq(w.st.verdicts[DP_ACT_REDIRECT], 1);

	/* TCP too. */
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "203.0.113.53", 5354, 53, DP_TCP_SYN);
	set_l4_csum(&f);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, 3 * S), DP_DISP_FORWARD);
	ck_assert_uint_eq(l4_csum(&f), 0);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.dst[0], 198);

	/* The flow is logged with the resolver the client asked. */
	int found = 0;
	unsigned nev = events(&w);
	for (uint32_t i = 0; i < nev; i++)
		if (evs[i].action == EGW_EA_REDIRECTED && evs[i].dest_ip[0] == 203)
			found++;
	ck_assert_int_ge(found, 2);
	wfx_stop(&w, t);
}
END_TEST

START_TEST(dns_redirect_ipv6)
{
	struct dp_worker w;
	struct fb f;
	struct dp_pkt p;
	ck_assert_int_eq(dp_worker_init(&w, 0, 64, 64), 0);
	struct egw_policy *pol = fixture_policy();
	pol->dns.has_redirect_v6 = true;
	pol->dns.redirect_v6 = fx_pfx("2001:db8:ff::5353");
	struct dp_tables *t = wfx_tables(pol);
	fb_eth(&f, ZW_MAC, 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::53", 17, 8 + 12);
	fb_udp(&f, 7000, 53, 12);
	set_l4_csum(&f);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.dst[14], 0x53);
	ck_assert_int_eq(p.dst[15], 0x53);
	ck_assert_uint_eq(l4_csum(&f), 0);
	wfx_stop(&w, t);
}
END_TEST

/* A UDP DNS query for name (type A) from the finance terminal to dst. */
static void dns_query4(struct fb *f, const char *mac, const char *src, const char *dst,
		       const char *name)
{
	uint8_t q[300];
	size_t n = fb_dns_query(q, 0xabcd, name);
	fb_eth(f, mac, 0x0800, 0);
	uint8_t *u = fb_ipv4(f, src, dst, 17, 8 + (uint32_t)n, 0, 0, 0);
	memcpy(u + 8, q, n);
	fb_udp(f, 33333, 53, (uint32_t)n);
	set_l4_csum(f);
}

START_TEST(blocked_names_are_answered_nxdomain)
{
	struct dp_worker w;
	struct fb f;
	struct dp_pkt p;
	struct dp_tables *t = wfx_start(&w, 64, 64);
	static const struct { const char *name, *dst, *reason; unsigned line; } cases[] = {
		{ "use-application-dns.net", "198.51.100.53", "doh", 61 },
		{ "dns.google", "198.51.100.53", "doh", 61 },
		{ "mail.qq.com", "198.51.100.53", "category:commercial-mail", 79 },
		{ "x.gmail.com", "198.51.100.54", "category:commercial-mail", 79 },
		/* to a foreign resolver: answered as if by it, not redirected */
		{ "gmail.com", "203.0.113.53", "category:commercial-mail", 79 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		clear_events(&w);
		dns_query4(&f, ZW_MAC, "10.1.0.10", cases[i].dst, cases[i].name);
		uint32_t qlen = f.len;
		ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
		ck_assert_uint_le(f.len, qlen);
		ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
		/* Back to the terminal, from the resolver it asked. */
		ck_assert_int_eq(p.dst_mac[5], 0x0a);
		ck_assert_int_eq(p.dst[3], 10);
		ck_assert_int_eq(p.src[0], cases[i].dst[0] == '2' ? 203 : 198);
		ck_assert_int_eq(p.sport, 53);
		ck_assert_int_eq(p.dport, 33333);
		ck_assert_uint_eq(l4_csum(&f), 0);
		ck_assert_uint_eq(dp_nat_csum(f.b + p.l3_off, 20, 0), 0);
		const uint8_t *dns = f.b + p.payload_off;
		ck_assert_int_eq(dns[0], 0xab);
		ck_assert_int_eq(dns[2] & 0x80, 0x80);    /* QR */
		ck_assert_int_eq(dns[3] & 0x0f, 3);       /* NXDOMAIN */
		const struct egw_event *ev = NULL;
		unsigned nev = events(&w);
		for (uint32_t e = 0; e < nev; e++)
			if (evs[e].type == EGW_EV_DNS) {
				ck_assert_ptr_null(ev);   /* one dns event */
				ev = &evs[e];
			}
		ck_assert_ptr_nonnull(ev);
		ck_assert_int_eq(ev->u.dns.rcode, 3);
		ck_assert_int_eq(ev->action, EGW_EA_BLOCKED);
		ck_assert_str_eq(ev->reason, cases[i].reason);
		char rule[32];
		snprintf(rule, sizeof(rule), "example.cfg:%u", cases[i].line);
		ck_assert_str_eq(ev->rule, rule);
		ck_assert_str_eq(ev->u.dns.rrname, cases[i].name);
	}
	ck_assert_uint_eq(w.st.dns_answers, 5);
	/* Other names pass; "notgmail.com" is not below gmail.com. */
	dns_query4(&f, ZW_MAC, "10.1.0.10", "198.51.100.53", "notgmail.com");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	dp_tables_free(t);

	/* block_doh off: the canary is an ordinary name. */
	struct egw_policy *pol = fixture_policy();
	pol->dns.block_doh = false;
	t = wfx_tables(pol);
	dns_query4(&f, ZW_MAC, "10.1.0.10", "198.51.100.53", "use-application-dns.net");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	wfx_stop(&w, t);
}
END_TEST

/* A TCP segment with payload from the finance terminal. */
static void tcp_data4(struct fb *f, const char *dst, uint16_t sport, uint16_t dport,
		      uint32_t seq, uint32_t ack, const char *data)
{
	size_t n = strlen(data);
	fb_eth(f, ZW_MAC, 0x0800, 0);
	fb_ipv4(f, "10.1.0.10", dst, 6, 20 + (uint32_t)n, 0, 0, 0);
	uint8_t *t = f->b + f->len;
	fb_tcp(f, sport, dport, DP_TCP_ACK | 0x08);
	t[4] = (uint8_t)(seq >> 24); t[5] = (uint8_t)(seq >> 16); t[6] = (uint8_t)(seq >> 8); t[7] = (uint8_t)seq;
	t[8] = (uint8_t)(ack >> 24); t[9] = (uint8_t)(ack >> 16); t[10] = (uint8_t)(ack >> 8); t[11] = (uint8_t)ack;
	memcpy(f->b + f->len, data, n);
	f->len += (uint32_t)n;
	set_l4_csum(f);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

START_TEST(denied_http_host_resets_both_ways)
{
	struct dp_worker w;
	struct fb f;
	struct dp_pkt p;
	struct dp_tables *t = wfx_start(&w, 64, 64);

	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 41000, 80, DP_TCP_SYN);
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	clear_events(&w);
	tcp_data4(&f, "198.51.100.80", 41000, 80, 1000, 5000,
		  "GET /inbox HTTP/1.1\r\nHost: mail.qq.com\r\nAccept: */*\r\n\r\n");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
	/* The frame is now the RST to the client, as if from the server. */
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.tcp_flags & DP_TCP_RST, DP_TCP_RST);
	ck_assert_int_eq(p.src[0], 198);
	ck_assert_int_eq(p.sport, 80);
	ck_assert_int_eq(p.dport, 41000);
	ck_assert_uint_eq(rd32(f.b + p.l4_off + 4), 5000);
	ck_assert_uint_eq(p.payload_len, 0);
	ck_assert_uint_eq(l4_csum(&f), 0);
	ck_assert_uint_eq(dp_nat_csum(f.b + p.l3_off, 20, 0), 0);
	/* ... and w->extra the RST to the server, as if from the client. */
	ck_assert_uint_gt(w.extra_len, 0);
	struct fb x;
	memcpy(x.b, w.extra, w.extra_len);
	x.len = w.extra_len;
	ck_assert_int_eq(dp_parse(x.b, x.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.tcp_flags & DP_TCP_RST, DP_TCP_RST);
	ck_assert_int_eq(p.dst[0], 198);
	ck_assert_int_eq(p.dport, 80);
	ck_assert_uint_eq(rd32(x.b + p.l4_off + 4), 1000);
	ck_assert_uint_eq(l4_csum(&x), 0);
	/* One http event, blocked, at the category rule. */
	ck_assert_uint_eq(events(&w), 1);
	ck_assert_int_eq(evs[0].type, EGW_EV_HTTP);
	ck_assert_str_eq(evs[0].u.http.hostname, "mail.qq.com");
	ck_assert_str_eq(evs[0].reason, "category:commercial-mail");
	ck_assert_str_eq(evs[0].rule, "example.cfg:79");
	/* The rest of the connection is dropped. */
	tcp_data4(&f, "198.51.100.80", 41000, 80, 1050, 5000, "more");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_DROP);
	ck_assert_uint_eq(w.st.resets, 1);

	/* An allowed host: forwarded, logged. */
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 41001, 80, DP_TCP_SYN);
	dp_worker_packet(&w, t, f.b, &f.len, false, S);
	clear_events(&w);
	tcp_data4(&f, "198.51.100.80", 41001, 80, 1, 1, "GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	ck_assert_uint_eq(w.extra_len, 0);
	ck_assert_uint_eq(events(&w), 1);
	ck_assert_int_eq(evs[0].action, EGW_EA_ALLOWED);
	ck_assert_str_eq(evs[0].u.http.hostname, "www.example.org");
	wfx_stop(&w, t);
}
END_TEST

/*
 * Only a flow's first client payload is looked at: one that can be neither
 * TLS nor HTTP from its first byte (turned away before any parsing), or one
 * that starts like a method but is not HTTP, leaves the flow inspected, so
 * a request for a denied host later in it is forwarded, without an event.
 */
START_TEST(only_the_first_payload_is_inspected)
{
	struct dp_worker w;
	struct fb f;
	struct dp_tables *t = wfx_start(&w, 64, 64);
	static const char *const first[] = { "\x05\x01\x00binary", " GET / HTTP/1.1\r\n",
					     "GARBAGE\r\n\r\n" };
	for (unsigned i = 0; i < 3; i++) {
		uint16_t sport = (uint16_t)(42000 + i);
		fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", sport, 80, DP_TCP_SYN);
		ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
		clear_events(&w);
		tcp_data4(&f, "198.51.100.80", sport, 80, 1, 1, first[i]);
		ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
		ck_assert_uint_eq(events(&w), 0);
		tcp_data4(&f, "198.51.100.80", sport, 80, 20, 1,
			  "GET /inbox HTTP/1.1\r\nHost: mail.qq.com\r\n\r\n");
		ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
		ck_assert_uint_eq(events(&w), 0);
		ck_assert_uint_eq(w.extra_len, 0);
	}
	ck_assert_uint_eq(w.st.resets, 0);
	/* The same request as a first payload is reset (the category rule). */
	fb_tcp4(&f, ZW_MAC, "10.1.0.10", "198.51.100.80", 42010, 80, DP_TCP_SYN);
	dp_worker_packet(&w, t, f.b, &f.len, false, S);
	tcp_data4(&f, "198.51.100.80", 42010, 80, 1, 1,
		  "GET /inbox HTTP/1.1\r\nHost: mail.qq.com\r\n\r\n");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_REPLY);
	wfx_stop(&w, t);
}
END_TEST

START_TEST(punted_frame_returns_with_its_macs_and_ttl)
{
	struct dp_worker w;
	struct fb f, orig;
	struct dp_tables *t = wfx_start(&w, 64, 64);
	w.ctl_up = true;
	fb_tcp4(&f, LN_MAC, "10.1.0.11", "203.0.113.80", 42000, 22, DP_TCP_SYN);
	set_l4_csum(&f);
	orig = f;
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_PUNT);
	/* The kernel routes it back out of the tap: its own MACs, TTL - 1. */
	memset(f.b, 0xaa, 6);
	memset(f.b + 6, 0xbb, 6);
	f.b[14 + 8]--;
	f.b[14 + 10] = f.b[14 + 11] = 0;
	uint16_t c = dp_nat_csum(f.b + 14, 20, 0);
	f.b[14 + 10] = (uint8_t)(c >> 8);
	f.b[14 + 11] = (uint8_t)c;
	ck_assert_int_eq(dp_worker_unpunt(&w, t, f.b, f.len), DP_PORT_OUTSIDE);
	ck_assert_uint_eq(f.len, orig.len);
	ck_assert_mem_eq(f.b, orig.b, f.len);
	/* A reply of the punted flow from outside goes back inside. */
	fb_tcp4(&f, "02:ee:00:00:00:02", "203.0.113.80", "10.1.0.11", 22, 42000,
		DP_TCP_SYN | DP_TCP_ACK);
	ck_assert_int_eq(dp_worker_unpunt(&w, t, f.b, f.len), DP_PORT_INSIDE);
	ck_assert_int_eq(f.b[5], 0x0b);   /* to li.na's MAC */
	/* Not IP, or broken: dropped. */
	ck_assert_int_eq(dp_worker_unpunt(&w, t, f.b, 10), -1);
	wfx_stop(&w, t);
}
END_TEST

START_TEST(dns_tunnelling_signs_are_punted)
{
	struct dp_worker w;
	struct fb f;
	struct dp_tables *t = wfx_start(&w, 64, 64);
	w.ctl_up = true;
	/* A 60-byte label (max_label 52). */
	dns_query4(&f, ZW_MAC, "10.1.0.10", "198.51.100.53",
		   "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffff.t.example");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_PUNT);
	/* High entropy per character. */
	dns_query4(&f, ZW_MAC, "10.1.0.10", "198.51.100.53",
		   "q8z3k1x7v9m2n4b6.j5h0g8f2d4s6a1p3.l7o9i2u4y6t8r0e1w.t.example");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_PUNT);
	int alerts = 0;
	unsigned nev = events(&w);
	for (uint32_t e = 0; e < nev; e++)
		if (evs[e].type == EGW_EV_DNS && !strcmp(evs[e].reason, "tunnel-suspect") &&
		    evs[e].action == EGW_EA_PUNTED && !strcmp(evs[e].rule, "example.cfg:62"))
			alerts++;
	ck_assert_int_eq(alerts, 2);
	/* An ordinary name is not. */
	dns_query4(&f, ZW_MAC, "10.1.0.10", "198.51.100.53", "www.example.org");
	ck_assert_int_eq(dp_worker_packet(&w, t, f.b, &f.len, false, S), DP_DISP_FORWARD);
	wfx_stop(&w, t);
}
END_TEST

/*
 * dp_burst prepares a whole burst (parse, hash, prefetch) before processing
 * it: the outcome must be that of handing the frames one by one to
 * dp_worker_packet, also when a flow is created by one frame of the burst
 * and found by a later one, and across the stage boundary (more frames
 * than DP_BURST_STAGE). The burst worker's flow table is on rte_malloc
 * memory (dp_worker_init_socket), the other on the heap.
 */
START_TEST(burst_in_stages_equals_packet_by_packet)
{
	enum { N = 75 };
	struct dp_worker a, b;
	struct dp_tables *t = wfx_tables(fixture_policy());
	struct rte_mempool *mp = wfx_pool("t_burst", 4 * N, RTE_MBUF_DEFAULT_DATAROOM);
	struct rte_mbuf *pkts[N], *fwd[2 * N], *punt[N], *reply[N];
	struct fb f[N];
	enum dp_disp one[N];
	uint16_t nf, np, nr;
	unsigned want_fwd = 0;

	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(dp_worker_init_socket(&a, 0, 16, 256, SOCKET_ID_ANY), 0);
	ck_assert(a.ft.huge);
	ck_assert_int_eq(dp_worker_init(&b, 0, 16, 256), 0);
	for (unsigned i = 0; i < N; i++) {
		char dst[32];
		switch (i % 5) {
		case 0: case 1:   /* 12 connections, each seen several times */
			snprintf(dst, sizeof(dst), "192.0.2.%u", 10 + i % 12);
			fb_tcp4(&f[i], ZW_MAC, "10.1.0.10", dst, (uint16_t)(40000 + i % 3), 443,
				DP_TCP_SYN);
			break;
		case 2:           /* DoH address: dropped */
			fb_tcp4(&f[i], ZW_MAC, "10.1.0.10", "203.0.113.111", 40000, 443, DP_TCP_SYN);
			break;
		case 3:           /* unregistered source: dropped */
			fb_tcp4(&f[i], LN_MAC, "10.1.0.99", "192.0.2.80", 40000, 443, DP_TCP_SYN);
			break;
		default:          /* truncated IPv4: a parse drop */
			fb_tcp4(&f[i], ZW_MAC, "10.1.0.10", "192.0.2.80", 40000, 443, DP_TCP_SYN);
			f[i].len = 20;
			break;
		}
		pkts[i] = rte_pktmbuf_alloc(mp);
		ck_assert_ptr_nonnull(pkts[i]);
		memcpy(rte_pktmbuf_append(pkts[i], (uint16_t)f[i].len), f[i].b, f[i].len);
		uint32_t len = f[i].len;
		one[i] = dp_worker_packet(&b, t, f[i].b, &len, false, 1 * S);
		want_fwd += one[i] == DP_DISP_FORWARD;
	}
	dp_burst(&a, t, pkts, N, false, 1 * S, fwd, &nf, punt, &np, reply, &nr);
	ck_assert_uint_gt(want_fwd, 0);
	ck_assert_uint_eq(nf, want_fwd);
	ck_assert_uint_eq(np + nr, 0);
	ck_assert_uint_eq(a.ft.n, b.ft.n);
	ck_assert_uint_eq(a.ft.st.created, b.ft.st.created);
	ck_assert_uint_eq(a.ft.st.evicted, b.ft.st.evicted);
	ck_assert_mem_eq(&a.st.drops, &b.st.drops, sizeof(a.st.drops));
	ck_assert_mem_eq(&a.st.rx_pkts, &b.st.rx_pkts, sizeof(a.st.rx_pkts));
	ck_assert_uint_gt(a.st.drops[DP_DROP_DOH] + a.st.drops[DP_DROP_UNREGISTERED], 0);
	for (uint16_t i = 0; i < nf; i++)
		rte_pktmbuf_free(fwd[i]);
	dp_worker_fini(&a);
	dp_worker_fini(&b);
	rte_mempool_free(mp);
	dp_tables_free(t);
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	eal_fixture_init(argv[0]);
	Suite *s = suite_create("dp_worker");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, reload_keeps_flows_and_applies_the_new_policy);
	tcase_add_test(tc, reload_keeps_redirects_and_control_plane_verdicts);
	tcase_add_test(tc, control_plane_verdict_for_a_punted_flow);
	tcase_add_test(tc, expired_or_evicted_flow_no_longer_admits_replies);
	tcase_add_test(tc, dns_redirect_rewrites_both_ways_with_valid_checksums);
	tcase_add_test(tc, dns_redirect_ipv6);
	tcase_add_test(tc, blocked_names_are_answered_nxdomain);
	tcase_add_test(tc, denied_http_host_resets_both_ways);
	tcase_add_test(tc, only_the_first_payload_is_inspected);
	tcase_add_test(tc, punted_frame_returns_with_its_macs_and_ttl);
	tcase_add_test(tc, dns_tunnelling_signs_are_punted);
	tcase_add_test(tc, burst_in_stages_equals_packet_by_packet);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s);
}
