/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>

#include "dp_parse.h"
#include "frame_builder.h"
#include "pkt_compare.h"

START_TEST(udp_over_ipv4)
{
	struct fb f;
	struct dp_pkt p;
	fb_udp4(&f, "02:00:0a:01:00:0a", "10.1.0.10", "198.51.100.53", 40000, 53);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_int_eq(p.proto, 17);
	ck_assert_int_eq(p.sport, 40000);
	ck_assert_int_eq(p.dport, 53);
	ck_assert(p.l4_known);
	ck_assert_int_eq(p.payload_len, 12);
	ck_assert_int_eq(p.src[0], 10);
	ck_assert_int_eq(p.dst[3], 53);
	ck_assert_int_eq(p.src_mac[5], 0x0a);
	/* Ethernet padding after the datagram is not an error. */
	ck_assert_int_eq(dp_parse(f.b, f.len + 10, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.payload_len, 12);
}
END_TEST

START_TEST(vlan_and_qinq)
{
	struct fb f;
	struct dp_pkt p;
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 1);
	fb_ipv4(&f, "10.1.0.10", "192.0.2.80", 6, 20, 0, 0, 0);
	fb_tcp(&f, 1234, 80, 0x02);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.n_vlan, 1);
	ck_assert_int_eq(p.dport, 80);
	ck_assert_int_eq(p.tcp_flags, DP_TCP_SYN);
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 2);
	fb_ipv4(&f, "10.1.0.10", "192.0.2.80", 6, 20, 0, 0, 0);
	fb_tcp(&f, 1234, 443, 0x10);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.n_vlan, 2);
	ck_assert_int_eq(p.vlan[0] & 0xfff, 100);
	ck_assert_int_eq(p.vlan[1] & 0xfff, 101);
	ck_assert_int_eq(p.dport, 443);
	/* Three tags: more than we accept. */
	struct fb g;
	fb_eth(&g, "02:00:00:00:00:01", 0x8100, 2);
	g.b[g.len] = 0; g.b[g.len + 1] = 5; g.b[g.len + 2] = 0x08; g.b[g.len + 3] = 0;
	g.len += 30;
	ck_assert_int_eq(dp_parse(g.b, g.len, &p), DP_DROP_VLAN_DEPTH);
	ck_assert_int_eq(dp_parse(f.b, 15, &p), DP_DROP_VLAN_TRUNC);
}
END_TEST

START_TEST(non_ip_passes_unparsed)
{
	struct fb f;
	struct dp_pkt p;
	fb_eth(&f, "02:00:00:00:00:01", 0x0806, 0);
	f.len += 28;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.family, 0);
	ck_assert_int_eq(p.ethertype, 0x0806);
	ck_assert_int_eq(dp_parse(f.b, 13, &p), DP_DROP_ETH_TRUNC);
}
END_TEST

START_TEST(ipv4_options_and_bad_headers)
{
	struct fb f;
	struct dp_pkt p;
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "198.51.100.53", 17, 8, 8, 0, 0);
	fb_udp(&f, 5000, 53, 0);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.dport, 53);
	ck_assert_int_eq(p.l4_off, 14 + 28);

	/* An option whose length runs past the header. */
	f.b[14 + 20] = 0x44;
	f.b[14 + 21] = 40;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV4_BAD_OPTIONS);
	f.b[14 + 21] = 1;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV4_BAD_OPTIONS);

	fb_udp4(&f, "02:00:00:00:00:01", "10.1.0.10", "198.51.100.53", 1, 53);
	f.b[14] = 0x44;   /* IHL 16 bytes */
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV4_BAD_IHL);
	f.b[14] = 0x4f;   /* IHL 60 bytes: more than the frame */
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV4_TRUNC);
	/* ... and, with padding after it, more than the total length */
	ck_assert_int_eq(dp_parse(f.b, f.len + 30, &p), DP_DROP_IPV4_BAD_LEN);
	f.b[14] = 0x45;
	f.b[16] = 0x10;   /* total length 4096+: longer than the frame */
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV4_TRUNC);
	f.b[16] = 0; f.b[17] = 10;  /* shorter than the header */
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV4_BAD_LEN);
	f.b[17] = 40;
	f.b[14] = 0x55;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV4_BAD_VERSION);
	f.b[14] = 0x45;
	ck_assert_int_eq(dp_parse(f.b, 30, &p), DP_DROP_IPV4_TRUNC);
	/* UDP length larger than the datagram */
	fb_udp4(&f, "02:00:00:00:00:01", "10.1.0.10", "198.51.100.53", 1, 53);
	f.b[14 + 20 + 5] = 200;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_UDP_BAD_LEN);
	/* TCP data offset below 5 words */
	fb_tcp4(&f, "02:00:00:00:00:01", "10.1.0.10", "1.2.3.4", 1, 80, 2);
	f.b[14 + 20 + 12] = 0x40;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_TCP_BAD_OFFSET);
	f.b[14 + 20 + 12] = 0xf0;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_TCP_TRUNC);
}
END_TEST

START_TEST(ipv4_fragments)
{
	struct fb f;
	struct dp_pkt p;
	/* First fragment: ports known. */
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "203.0.113.53", 17, 24, 0, 0, 1);
	fb_udp(&f, 4444, 53, 16);
	f.b[14 + 20 + 5] = 100;   /* UDP length covers the whole datagram */
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert(p.is_frag && p.frag_first && p.l4_known);
	ck_assert_int_eq(p.dport, 53);
	ck_assert_int_eq(p.frag_id, 0x1234);
	/* Second fragment: L3 only. */
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "203.0.113.53", 17, 76, 0, 24, 0);
	f.len += 76;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert(p.is_frag && !p.frag_first && !p.l4_known);
	ck_assert_int_eq(p.dport, 0);
	ck_assert_int_eq(p.proto, 17);
	/* TCP fragment at offset 8 (RFC 1858) */
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "203.0.113.53", 6, 16, 0, 8, 0);
	f.len += 16;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV4_BAD_FRAG);
	/* A first fragment too short for the TCP header. */
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "203.0.113.53", 6, 8, 0, 0, 1);
	f.len += 8;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_TCP_TRUNC);
	/* Past 65535 bytes */
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "203.0.113.53", 17, 16, 0, 65528, 0);
	f.len += 16;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV4_BAD_FRAG);
}
END_TEST

static void ext(struct fb *f, uint8_t nh, unsigned len8)
{
	uint8_t *e = f->b + f->len;
	e[0] = nh;
	e[1] = (uint8_t)(len8 - 1);
	f->len += len8 * 8;
}

START_TEST(ipv6_extension_headers)
{
	struct fb f;
	struct dp_pkt p;
	/* HBH -> routing -> dstopts -> UDP */
	fb_eth(&f, "02:00:00:00:00:01", 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::80", 0, 8 + 16 + 8 + 8);
	ext(&f, 43, 1);
	ext(&f, 60, 2);
	ext(&f, 17, 1);
	fb_udp(&f, 1000, 53, 0);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_int_eq(p.proto, 17);
	ck_assert_int_eq(p.dport, 53);
	/* Hop-by-hop not first */
	fb_eth(&f, "02:00:00:00:00:01", 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::80", 60, 8 + 8 + 8);
	ext(&f, 0, 1);
	ext(&f, 17, 1);
	fb_udp(&f, 1000, 53, 0);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV6_EXT_ORDER);
	/* A chain longer than DP_IPV6_MAX_EXT */
	fb_eth(&f, "02:00:00:00:00:01", 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::80", 60, 10 * 8 + 8);
	for (int i = 0; i < 10; i++)
		ext(&f, i == 9 ? 17 : 60, 1);
	fb_udp(&f, 1000, 53, 0);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV6_EXT_CHAIN);
	/* Extension header running past the payload */
	fb_eth(&f, "02:00:00:00:00:01", 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::80", 60, 16);
	ext(&f, 17, 4);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV6_EXT_TRUNC);
	/* Payload length beyond the frame */
	fb_eth(&f, "02:00:00:00:00:01", 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::80", 17, 400);
	fb_udp(&f, 1, 2, 0);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_IPV6_TRUNC);
}
END_TEST

START_TEST(ipv6_fragments)
{
	struct fb f;
	struct dp_pkt p;
	/* First fragment carries UDP */
	fb_eth(&f, "02:00:00:00:00:01", 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::53", 44, 8 + 8 + 8);
	uint8_t *fh = f.b + f.len;
	fh[0] = 17;
	fh[3] = 1;            /* offset 0, M */
	fh[7] = 9;            /* id 9 */
	f.len += 8;
	fb_udp(&f, 1000, 53, 8);
	f.b[f.len - 8 - 8 + 5] = 200;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert(p.is_frag && p.frag_first && p.l4_known);
	ck_assert_int_eq(p.dport, 53);
	ck_assert_int_eq(p.frag_id, 9);
	/* Non-first */
	fb_eth(&f, "02:00:00:00:00:01", 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::53", 44, 8 + 16);
	fh = f.b + f.len;
	fh[0] = 17;
	fh[2] = 0;
	fh[3] = 16 << 3 & 0xff;   /* offset 16 */
	fh[7] = 9;
	f.len += 8 + 16;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert(p.is_frag && !p.frag_first && !p.l4_known);
	ck_assert_int_eq(p.proto, 17);
	/* Atomic fragment: not a fragment at all */
	fb_eth(&f, "02:00:00:00:00:01", 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::53", 44, 8 + 8);
	fh = f.b + f.len;
	fh[0] = 17;
	f.len += 8;
	fb_udp(&f, 1000, 53, 0);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert(!p.is_frag && p.l4_known);
}
END_TEST

START_TEST(icmp_echo_identifier)
{
	struct fb f;
	struct dp_pkt p;
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "198.51.100.80", 1, 8, 0, 0, 0);
	fb_icmp_echo(&f, 8, 777);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert(dp_pkt_is_echo(&p));
	ck_assert_int_eq(p.sport, 777);
	ck_assert_int_eq(dp_parse(f.b, f.len - 2, &p), DP_DROP_IPV4_TRUNC);
	f.b[14 + 3] = 20 + 4;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_ICMP_TRUNC);
}
END_TEST

/* An ICMPv6 message of type `type` with hop limit hl, src -> dst. */
static void icmp6(struct fb *f, struct dp_pkt *p, const char *src, const char *dst,
		  uint8_t type, uint8_t hl)
{
	fb_eth(f, "02:00:00:00:00:01", 0x86dd, 0);
	uint8_t *ip = f->b + f->len;
	fb_ipv6(f, src, dst, 58, 24);
	ip[7] = hl;
	fb_icmp_echo(f, type, 0);
	f->len += 16;
	ck_assert_int_eq(dp_parse(f->b, f->len, p), DP_DROP_NONE);
}

START_TEST(ipv6_neighbour_discovery)
{
	struct fb f;
	struct dp_pkt p;
	for (uint8_t type = 133; type <= 137; type++) {
		icmp6(&f, &p, "2001:db8:1::10", "ff02::1:ff00:1", type, 255);
		ck_assert_msg(dp_pkt_is_nd(&p), "type %u with hop limit 255 is ND", type);
		ck_assert(!dp_pkt_is_mld(&p));
		/* Off link (hop limit below 255): not ND. */
		icmp6(&f, &p, "2001:db8:1::10", "ff02::1:ff00:1", type, 64);
		ck_assert_msg(!dp_pkt_is_nd(&p), "type %u with hop limit 64 is not ND", type);
		icmp6(&f, &p, "2001:db8:1::10", "ff02::1:ff00:1", type, 254);
		ck_assert(!dp_pkt_is_nd(&p));
	}
	/* Code other than 0: not ND. */
	icmp6(&f, &p, "2001:db8:1::1", "2001:db8:1::10", 136, 255);
	f.b[14 + 40 + 1] = 1;
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert(!dp_pkt_is_nd(&p));
	/* Other ICMPv6 with hop limit 255: not ND either. */
	static const uint8_t other[] = { 1, 128, 129, 132, 138, 143 };
	for (unsigned i = 0; i < sizeof(other); i++) {
		icmp6(&f, &p, "2001:db8:1::1", "2001:db8:1::10", other[i], 255);
		ck_assert_msg(!dp_pkt_is_nd(&p), "type %u is not ND", other[i]);
	}
	/* ICMPv4 type 135 and UDP are not ND. */
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 0);
	uint8_t *ip4 = f.b + f.len;
	fb_ipv4(&f, "10.1.0.10", "10.1.0.1", 1, 8, 0, 0, 0);
	ip4[8] = 255;
	fb_icmp_echo(&f, 135, 0);
	ck_assert_int_eq(dp_parse(f.b, f.len, &p), DP_DROP_NONE);
	ck_assert(!dp_pkt_is_nd(&p));
}
END_TEST

START_TEST(ipv6_multicast_listener_discovery)
{
	struct fb f;
	struct dp_pkt p;
	static const uint8_t mld[] = { 130, 131, 132, 143 };
	for (unsigned i = 0; i < sizeof(mld); i++) {
		icmp6(&f, &p, "fe80::1", "ff02::16", mld[i], 1);
		ck_assert_msg(dp_pkt_is_mld(&p), "type %u is MLD", mld[i]);
		ck_assert(!dp_pkt_is_nd(&p));
		icmp6(&f, &p, "::", "ff02::16", mld[i], 1);
		ck_assert(dp_pkt_is_mld(&p));
		/* Routed (hop limit > 1), from a global source, or unicast: not MLD. */
		icmp6(&f, &p, "fe80::1", "ff02::16", mld[i], 2);
		ck_assert(!dp_pkt_is_mld(&p));
		icmp6(&f, &p, "2001:db8:1::10", "ff02::16", mld[i], 1);
		ck_assert(!dp_pkt_is_mld(&p));
		icmp6(&f, &p, "fe80::1", "2001:db8:ff::80", mld[i], 1);
		ck_assert(!dp_pkt_is_mld(&p));
	}
	icmp6(&f, &p, "fe80::1", "ff02::16", 128, 1);
	ck_assert(!dp_pkt_is_mld(&p));
}
END_TEST

/* dp_parse_fast into a struct full of garbage: it must write every field. */
static enum dp_drop parse_fast_garbage(const uint8_t *b, uint32_t len, struct dp_pkt *p)
{
	memset(p, 0xa5, sizeof(*p));
	return dp_parse_fast(b, len, p);
}

/* Both parsers on b[0..len): same result, same fields. */
static void same_as_full(const uint8_t *b, uint32_t len, const char *what)
{
	struct dp_pkt full, fast;
	enum dp_drop r = dp_parse(b, len, &full);
	enum dp_drop rf = parse_fast_garbage(b, len, &fast);
	ck_assert_msg(r == rf, "%s (len %u): dp_parse %s, dp_parse_fast %s", what, len,
		      dp_drop_name(r), dp_drop_name(rf));
	const char *field = pkt_compare(&full, &fast);
	ck_assert_msg(!field, "%s (len %u): field %s differs", what, len, field ? field : "");
	/* The common-frame parser alone: dp_parse's result, or hands off. */
	struct dp_pkt common, garbage;
	memset(&common, 0xa5, sizeof(common));
	memset(&garbage, 0xa5, sizeof(garbage));
	if (dp_parse_common(b, len, &common)) {
		ck_assert_msg(r == DP_DROP_NONE, "%s (len %u): common frame, dp_parse %s", what,
			      len, dp_drop_name(r));
		field = pkt_compare(&full, &common);
		ck_assert_msg(!field, "%s (len %u): common field %s differs", what, len,
			      field ? field : "");
	} else {
		ck_assert_msg(!memcmp(&common, &garbage, sizeof(common)),
			      "%s (len %u): dp_parse_common wrote a frame it left", what, len);
	}
}

START_TEST(fast_parse_common_frames)
{
	struct fb f;
	struct dp_pkt p;
	/* TCP over IPv4 with DF, 6 bytes of payload, Ethernet padding. */
	fb_eth(&f, "02:00:0a:01:00:0a", 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "192.0.2.80", 6, 26, 0, 0, 0);
	f.b[14 + 6] = 0x40;
	fb_tcp(&f, 40000, 443, DP_TCP_ACK);
	f.len += 6;
	memset(&p, 0xa5, sizeof(p));
	ck_assert(dp_parse_common(f.b, f.len + 4, &p));
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_int_eq(p.proto, 6);
	ck_assert_int_eq(p.n_vlan, 0);
	ck_assert_int_eq(p.vlan[0], 0);
	ck_assert_int_eq(p.l3_off, 14);
	ck_assert_int_eq(p.l4_off, 34);
	ck_assert_int_eq(p.l3_len, 46);
	ck_assert_int_eq(p.ttl, 64);
	ck_assert(p.l4_known && !p.is_frag && !p.frag_first);
	ck_assert_int_eq(p.tcp_flags, DP_TCP_ACK);
	ck_assert_int_eq(p.frag_id, 0);
	ck_assert_int_eq(p.sport, 40000);
	ck_assert_int_eq(p.dport, 443);
	ck_assert_int_eq(p.payload_off, 54);
	ck_assert_int_eq(p.payload_len, 6);
	ck_assert_int_eq(p.icmp_type, 0);
	ck_assert_int_eq(p.src[0], 10);
	ck_assert_int_eq(p.src[3], 10);
	ck_assert_int_eq(p.src[4], 0);
	ck_assert_int_eq(p.dst[3], 80);
	ck_assert_int_eq(p.dst[15], 0);
	ck_assert_int_eq(p.src_mac[5], 0x0a);
	ck_assert_int_eq(p.dst_mac[1], 0xee);
	same_as_full(f.b, f.len + 4, "tcp4");
	/* UDP over IPv6: the UDP length, not the frame, bounds the payload. */
	fb_eth(&f, "02:00:0a:01:00:0b", 0x86dd, 0);
	fb_ipv6(&f, "2001:db8:1::10", "2001:db8:ff::53", 17, 8 + 12);
	fb_udp(&f, 5353, 53, 12);
	memset(&p, 0xa5, sizeof(p));
	ck_assert(dp_parse_common(f.b, f.len, &p));
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_int_eq(p.proto, 17);
	ck_assert_int_eq(p.l3_len, 60);
	ck_assert_int_eq(p.l4_off, 54);
	ck_assert_int_eq(p.sport, 5353);
	ck_assert_int_eq(p.dport, 53);
	ck_assert_int_eq(p.tcp_flags, 0);
	ck_assert_int_eq(p.payload_off, 62);
	ck_assert_int_eq(p.payload_len, 12);
	ck_assert_int_eq(p.src[0], 0x20);
	ck_assert_int_eq(p.src[15], 0x10);
	ck_assert_int_eq(p.dst[15], 0x53);
	same_as_full(f.b, f.len, "udp6");
	/* A malformed common frame gets dp_parse's drop reason. */
	f.b[14 + 40 + 5] = 7;   /* UDP length 7 */
	ck_assert_int_eq(parse_fast_garbage(f.b, f.len, &p), DP_DROP_UDP_BAD_LEN);
	fb_tcp4(&f, "02:00:00:00:00:01", "10.1.0.10", "192.0.2.80", 1, 2, DP_TCP_SYN);
	f.b[14 + 20 + 12] = 4 << 4;
	ck_assert_int_eq(parse_fast_garbage(f.b, f.len, &p), DP_DROP_TCP_BAD_OFFSET);
	fb_tcp4(&f, "02:00:00:00:00:01", "10.1.0.10", "192.0.2.80", 1, 2, DP_TCP_SYN);
	f.b[14 + 6] = 0x80;     /* reserved fragment bit */
	ck_assert_int_eq(parse_fast_garbage(f.b, f.len, &p), DP_DROP_IPV4_BAD_FRAG);
	/* Tagged, or with options: not the common frame. */
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 1);
	fb_ipv4(&f, "10.1.0.10", "192.0.2.80", 6, 20, 0, 0, 0);
	fb_tcp(&f, 1234, 80, 0x02);
	ck_assert(!dp_parse_common(f.b, f.len, &p));
	fb_eth(&f, "02:00:00:00:00:01", 0x0800, 0);
	fb_ipv4(&f, "10.1.0.10", "198.51.100.53", 17, 8, 8, 0, 0);
	fb_udp(&f, 5000, 53, 0);
	ck_assert(!dp_parse_common(f.b, f.len, &p));
}
END_TEST

/* Frames of every shape: the common ones and those the fast path leaves to
 * dp_parse (tags, options, fragments, ICMP, extension headers, ARP). */
static unsigned shapes(struct fb *out)
{
	unsigned n = 0;
	fb_tcp4(&out[n++], "02:00:00:00:00:01", "10.1.0.10", "192.0.2.80", 1234, 80, 0x12);
	fb_udp4(&out[n++], "02:00:00:00:00:01", "10.1.0.10", "198.51.100.53", 40000, 53);
	fb_eth(&out[n], "02:00:00:00:00:01", 0x86dd, 0);
	fb_ipv6(&out[n], "2001:db8:1::10", "2001:db8:ff::80", 6, 20 + 8);
	fb_tcp(&out[n], 1234, 443, 0x18);
	out[n++].len += 8;
	fb_eth(&out[n], "02:00:00:00:00:01", 0x86dd, 0);
	fb_ipv6(&out[n], "2001:db8:1::10", "2001:db8:ff::53", 17, 8 + 4);
	fb_udp(&out[n++], 1000, 53, 4);
	fb_eth(&out[n], "02:00:00:00:00:01", 0x0800, 1);
	fb_ipv4(&out[n], "10.1.0.10", "192.0.2.80", 6, 20, 0, 0, 0);
	fb_tcp(&out[n++], 1234, 80, 0x02);
	fb_eth(&out[n], "02:00:00:00:00:01", 0x0800, 0);
	fb_ipv4(&out[n], "10.1.0.10", "198.51.100.53", 17, 8, 8, 0, 0);
	fb_udp(&out[n++], 5000, 53, 0);
	fb_eth(&out[n], "02:00:00:00:00:01", 0x0800, 0);
	fb_ipv4(&out[n], "10.1.0.10", "198.51.100.53", 17, 16, 0, 0, 1);
	fb_udp(&out[n++], 5000, 53, 8);
	fb_eth(&out[n], "02:00:00:00:00:01", 0x0800, 0);
	fb_ipv4(&out[n], "10.1.0.10", "198.51.100.80", 1, 8, 0, 0, 0);
	fb_icmp_echo(&out[n++], 8, 777);
	fb_eth(&out[n], "02:00:00:00:00:01", 0x86dd, 0);
	fb_ipv6(&out[n], "2001:db8:1::10", "2001:db8:ff::80", 0, 8 + 8);
	ext(&out[n], 17, 1);
	fb_udp(&out[n++], 1000, 53, 0);
	fb_eth(&out[n], "02:00:00:00:00:01", 0x0806, 0);
	out[n++].len += 28;
	return n;
}

START_TEST(fast_parse_same_as_full)
{
	struct fb f[16], m;
	unsigned n = shapes(f);
	uint64_t x = 88172645463325252ull;   /* xorshift64: the same run every time */
	unsigned fast_ok = 0;

	for (unsigned s = 0; s < n; s++) {
		/* Every truncation, and some room past the end. */
		for (uint32_t len = 0; len <= f[s].len + 8; len++)
			same_as_full(f[s].b, len, "truncated");
		/* One to three bytes of the headers changed, at random. */
		for (unsigned i = 0; i < 20000; i++) {
			m = f[s];
			unsigned k = 1 + i % 3;
			for (unsigned j = 0; j < k; j++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				m.b[(x >> 8) % (m.len + 2)] = (uint8_t)(x >> 32);
			}
			struct dp_pkt p;
			if (dp_parse_common(m.b, m.len, &p))
				fast_ok++;
			same_as_full(m.b, m.len, "mutated");
			same_as_full(m.b, m.len - (uint32_t)(x >> 40) % 16, "mutated, truncated");
		}
	}
	ck_assert_uint_gt(fast_ok, 1000);
}
END_TEST

START_TEST(drop_names_are_stable)
{
	ck_assert_str_eq(dp_drop_name(DP_DROP_IPV4_BAD_IHL), "ipv4-bad-ihl");
	ck_assert_str_eq(dp_drop_name(DP_DROP_SPOOF), "spoof");
	ck_assert_str_eq(dp_drop_name(DP_DROP__COUNT), "?");
	for (unsigned i = 0; i < DP_DROP__COUNT; i++)
		ck_assert_ptr_nonnull(dp_drop_name(i));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dp_parse");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, udp_over_ipv4);
	tcase_add_test(tc, vlan_and_qinq);
	tcase_add_test(tc, non_ip_passes_unparsed);
	tcase_add_test(tc, ipv4_options_and_bad_headers);
	tcase_add_test(tc, ipv4_fragments);
	tcase_add_test(tc, ipv6_extension_headers);
	tcase_add_test(tc, ipv6_fragments);
	tcase_add_test(tc, icmp_echo_identifier);
	tcase_add_test(tc, ipv6_neighbour_discovery);
	tcase_add_test(tc, ipv6_multicast_listener_discovery);
	tcase_add_test(tc, drop_names_are_stable);
	tcase_add_test(tc, fast_parse_common_frames);
	tcase_add_test(tc, fast_parse_same_as_full);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
