/* SPDX-License-Identifier: MIT */
/*
 * The lean path (a hit of a common frame handled without struct dp_pkt)
 * does exactly what the general path does. Two workers on the same policy
 * take the same random stream of frames, both ways, at the same times: one
 * as the ports do (dp_worker_prepare, dp_worker_packet_prepared: the lean
 * path wherever it applies), the other with dp_worker_pre_fill between the
 * two (never lean). After every frame their dispositions, frames (rewritten
 * or answered) and second frames agree; every so often, and at the end,
 * their counters, flow tables and events do too. The stream mixes what
 * makes a hit leave the lean path: TCP flags, first payloads to inspect,
 * DNS queries (also to a resolver the policy redirects), denied and punted
 * flows, a second terminal and a spoofed MAC, IPv6, replies, expiry and
 * eviction (a 48-entry table).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <egw/event.h>

#include "dp_event.h"
#include "dp_parse.h"
#include "dp_tables.h"
#include "dp_worker.h"
#include "eal_fixture.h"
#include "frame_builder.h"
#include "policy_fixture.h"
#include "worker_fixture.h"

#define S 1000000ull
#define FRAMES 60000

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 11) % n);
}

struct end {
	const char *mac, *ip;
	int v6;
};

/* Inside: two terminals (one on both families) and a spoofed MAC. */
static const struct end inside[] = {
	{ "02:00:0a:01:00:0a", "10.1.0.10", 0 },
	{ "02:00:0a:01:00:0b", "10.1.0.11", 0 },
	{ "02:00:0a:01:00:0a", "2001:db8:1::10", 1 },
	{ "02:00:0a:01:00:99", "10.1.0.10", 0 },
};
/* Outside: CN (allowed), US (punted for 22/3389), the province's resolver,
 * a foreign resolver (redirected), a DoH address (denied). */
static const char *const out4[] = { "192.0.2.80", "203.0.113.5", "198.51.100.53", "8.8.8.8",
				    "203.0.113.111" };
static const char *const out6[] = { "2001:db8:ff::5", "2001:db8:ff::53" };
static const uint16_t dports[] = { 443, 80, 22, 53, 53, 853 };
static const char *const names[] = { "example.cn", "mail.qq.com", "dns.google",
				     "x7q2kz9vwp4m8rj3n6yt5bh1.example.com" };
static const uint8_t tflags[] = { DP_TCP_ACK, DP_TCP_ACK, DP_TCP_ACK, DP_TCP_SYN,
				  DP_TCP_SYN | DP_TCP_ACK, DP_TCP_FIN | DP_TCP_ACK, DP_TCP_RST,
				  DP_TCP_ACK | 0x08 };

/* A connection: its ends, ports and protocol. */
struct conn {
	const struct end *in;
	const char *out;
	uint16_t sport, dport;
	bool tcp;
};

/* The last connections used: most frames belong to one of them (hits). */
static struct conn recent[64];
static unsigned n_recent;

/* One random frame into f; *from_outside set. */
static void random_frame(struct fb *f, bool *from_outside)
{
	struct conn c;
	if (n_recent && rnd(4)) {
		c = recent[rnd(n_recent)];
	} else {
		c.in = &inside[rnd(4)];
		c.out = c.in->v6 ? out6[rnd(2)] : out4[rnd(5)];
		c.sport = (uint16_t)(40000 + rnd(8));
		c.dport = dports[rnd(6)];
		c.tcp = rnd(2);
		if (n_recent < 64)
			recent[n_recent++] = c;
		else
			recent[rnd(64)] = c;
	}
	const struct end *in = c.in;
	const char *out = c.out;
	uint16_t sport = c.sport, dport = c.dport;
	bool tcp = c.tcp, reply = rnd(10) < 3;
	uint8_t payload[96];
	size_t plen = 0;

	if (dport == 53 && rnd(4)) {
		size_t q = fb_dns_query(payload + 2, (uint16_t)rnd(65536), names[rnd(4)]);
		if (tcp) {   /* the stream's two-byte length first */
			payload[0] = (uint8_t)(q >> 8);
			payload[1] = (uint8_t)q;
			plen = q + 2;
		} else {
			memmove(payload, payload + 2, q);
			plen = q;
		}
	} else if (rnd(3)) {
		plen = 1 + rnd(40);
		for (size_t i = 0; i < plen; i++)
			payload[i] = (uint8_t)rnd(256);
	}
	const char *mac = reply ? "02:ee:00:00:00:02" : in->mac;
	const char *src = reply ? out : in->ip, *dst = reply ? in->ip : out;
	uint16_t sp = reply ? dport : sport, dp = reply ? sport : dport;
	uint32_t l4 = (tcp ? 20 : 8) + (uint32_t)plen;

	fb_eth(f, mac, in->v6 ? 0x86dd : 0x0800, 0);
	if (in->v6)
		fb_ipv6(f, src, dst, tcp ? 6 : 17, l4);
	else
		fb_ipv4(f, src, dst, tcp ? 6 : 17, l4, 0, 0, 0);
	if (tcp)
		fb_tcp(f, sp, dp, tflags[rnd(8)]);
	else
		fb_udp(f, sp, dp, 0);
	memcpy(f->b + f->len, payload, plen);
	f->len += (uint32_t)plen;
	if (!tcp)   /* fb_udp counted no payload */
		fb_put16(f->b + f->len - plen - 4, (uint16_t)(8 + plen));
	*from_outside = reply;
}

static struct egw_event_enc *enc;

static void same_state(const struct dp_worker *a, const struct dp_worker *b, unsigned at)
{
	ck_assert_msg(!memcmp(&a->st, &b->st, sizeof(a->st)), "counters differ after frame %u", at);
	ck_assert_uint_eq(a->ft.n, b->ft.n);
	ck_assert_uint_eq(a->ft.hi, b->ft.hi);
	ck_assert_msg(!memcmp(a->ft.flows, b->ft.flows, sizeof(*a->ft.flows) * a->ft.cap),
		      "flow tables differ after frame %u", at);
	ck_assert_msg(!memcmp(a->ft.bkt, b->ft.bkt, sizeof(*a->ft.bkt) * (a->ft.bmask + 1)),
		      "flow indexes differ after frame %u", at);
	uint32_t na = a->ev.pub - a->ev.tail, nb = b->ev.pub - b->ev.tail;
	ck_assert_msg(na == nb, "%u events against %u after frame %u", na, nb, at);
	for (uint32_t i = 0; i < na; i++) {
		struct egw_event ea, eb;
		dp_event_format(&a->ev.v[(a->ev.tail + i) & a->ev.mask], &ea);
		dp_event_format(&b->ev.v[(b->ev.tail + i) & b->ev.mask], &eb);
		const char *t;
		size_t n;
		ck_assert_int_eq(egw_event_encode(enc, &ea, &t, &n), 0);
		char ja[8192];
		ck_assert_uint_lt(n, sizeof(ja));
		memcpy(ja, t, n);
		ja[n] = '\0';
		ck_assert_int_eq(egw_event_encode(enc, &eb, &t, &n), 0);
		ck_assert_msg(n == strlen(ja) && !memcmp(ja, t, n), "event %u after frame %u:\n%s\n%.*s",
			      i, at, ja, (int)n, t);
	}
}

static void drain(struct dp_worker *w)
{
	while (dp_event_peek(&w->ev))
		dp_event_pop(&w->ev);
}

START_TEST(lean_and_general_paths_agree)
{
	struct dp_worker a, b;
	struct dp_tables *ta = wfx_start(&a, 48, 1u << 14);
	struct dp_tables *tb = wfx_start(&b, 48, 1u << 14);
	uint64_t now = 1000 * S;
	unsigned lean = 0;

	enc = egw_event_enc_new();
	ck_assert_ptr_nonnull(enc);

	for (unsigned i = 0; i < FRAMES; i++) {
		struct fb fa, fbb;
		bool out;
		random_frame(&fa, &out);
		fbb = fa;
		now += rnd(300) ? rnd(300000) : 40 * S;
		struct dp_pre pa, pb;
		dp_worker_prepare(&a, fa.b, fa.len, out, &pa);
		dp_worker_prepare(&b, fbb.b, fbb.len, out, &pb);
		dp_worker_pre_fill(fbb.b, fbb.len, &pb);
		ck_assert(!pb.lean);
		bool was_lean = pa.lean;
		enum dp_disp da = dp_worker_packet_prepared(&a, ta, fa.b, &fa.len, out, now, &pa);
		enum dp_disp db = dp_worker_packet_prepared(&b, tb, fbb.b, &fbb.len, out, now, &pb);
		lean += was_lean && pa.lean;   /* stayed lean: handled by the lean path */
		ck_assert_msg(da == db, "frame %u: disposition %d against %d", i, da, db);
		ck_assert_uint_eq(fa.len, fbb.len);
		ck_assert_msg(!memcmp(fa.b, fbb.b, fa.len), "frame %u: output frames differ", i);
		ck_assert_uint_eq(a.extra_len, b.extra_len);
		ck_assert(!memcmp(a.extra, b.extra, a.extra_len));
		if (rnd(50) == 0) {
			dp_worker_tick(&a, ta, now);
			dp_worker_tick(&b, tb, now);
		}
		if (i % 500 == 499) {
			same_state(&a, &b, i);
			drain(&a);
			drain(&b);
		}
	}
	same_state(&a, &b, FRAMES);
	/* The stream exercised both paths. */
	ck_assert_msg(lean > FRAMES / 10, "only %u of %u frames took the lean path", lean,
		      FRAMES);
	ck_assert_msg(lean < FRAMES * 9 / 10, "%u of %u frames took the lean path", lean, FRAMES);
	printf("lean path: %u of %u frames\n", lean, FRAMES);
	egw_event_enc_free(enc);
	wfx_stop(&a, ta);
	wfx_stop(&b, tb);
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	eal_fixture_init(argv[0]);
	Suite *s = suite_create("dp_lean");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, lean_and_general_paths_agree);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s) ? EXIT_FAILURE : EXIT_SUCCESS;
}
