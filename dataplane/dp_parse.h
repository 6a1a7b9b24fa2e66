/* SPDX-License-Identifier: MIT */
/*
 * Packet parsing: Ethernet, 802.1Q / 802.1ad (at most two tags), IPv4 (with
 * options), IPv6 (with extension headers: hop-by-hop, routing, fragment,
 * destination options, AH; at most DP_IPV6_MAX_EXT of them), TCP, UDP,
 * ICMP and ICMPv6. DPDK-free: works on a flat buffer, so the fuzzer and the
 * replay run it as the ports do. Every read is bounds-checked against len.
 *
 * Fragments: the first fragment (offset 0) must carry the whole L4 header
 * (RFC 1858, RFC 7112), else the packet is dropped; non-first fragments have
 * l4_known = false and no ports: the caller matches them on L3 only (or
 * through the verdict recorded for their first fragment).
 *
 * Thread-safe, no allocation.
 */
#ifndef DP_PARSE_H
#define DP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "dp_drop.h"

#define DP_IPV6_MAX_EXT 8
#define DP_MAX_VLAN 2

struct dp_pkt {
	uint8_t dst_mac[6], src_mac[6];
	uint16_t vlan[DP_MAX_VLAN]; /* TCI of each tag, outer first */
	uint8_t n_vlan;
	uint8_t family;          /* AF_INET, AF_INET6, or 0: not IP */
	uint16_t ethertype;      /* the innermost one */
	uint16_t l3_off;         /* offset of the IP header */
	uint16_t l4_off;         /* offset of the L4 header (valid if l4_known) */
	uint32_t l3_len;         /* IP datagram length (header + payload) */
	uint8_t proto;           /* L4 protocol (after IPv6 extension headers) */
	uint8_t ttl;             /* TTL / hop limit */
	bool is_frag;            /* any fragment (not an atomic IPv6 fragment) */
	bool frag_first;         /* offset 0 (the fragment carrying L4) */
	bool l4_known;           /* ports/ICMP fields below are valid */
	uint8_t tcp_flags;
	uint32_t frag_id;        /* IPv4 id or IPv6 fragment identification */
	uint8_t src[16], dst[16];/* network order; IPv4 in [0..3], rest zero */
	uint16_t sport, dport;   /* host order; ICMP echo: sport = identifier */
	uint8_t icmp_type, icmp_code;
	uint16_t payload_off;    /* L4 payload (valid if l4_known) */
	uint32_t payload_len;    /* bytes of L4 payload present in this frame */
};

#define DP_TCP_FIN 0x01
#define DP_TCP_SYN 0x02
#define DP_TCP_RST 0x04
#define DP_TCP_ACK 0x10

/*
 * Parse frame[0..len). Returns DP_DROP_NONE and fills *pkt, or the drop
 * reason of a malformed frame. A non-IP frame (ARP, LLDP, ...) is not
 * malformed: DP_DROP_NONE with pkt->family = 0.
 */
enum dp_drop dp_parse(const uint8_t *frame, uint32_t len, struct dp_pkt *pkt);

/*
 * What dp_parse_core reads of a common frame: the fields of struct dp_pkt
 * that are not constant for it, as words.
 */
struct dp_parse_core {
	uint64_t s0, s1, d0, d1; /* src and dst: bytes 0..7 and 8..15 (IPv4: s0, d0; s1 = d1 = 0) */
	uint32_t l3_len;         /* IP datagram length */
	uint32_t l4;             /* offset of the L4 header */
	uint32_t poff, plen;     /* payload offset and length */
	uint32_t sd;             /* sport << 16 | dport, host order */
	uint16_t et;             /* ethertype */
	uint8_t family, proto, ttl, flags; /* flags: TCP flags, 0 for UDP */
};

/*
 * The checks and reads of dp_parse_common without its stores: true for
 * exactly the frames dp_parse_common takes, with *c set. Inline, for a
 * caller that needs a few fields only (the compiler drops the others).
 */
static inline bool dp_parse_core(const uint8_t *frame, uint32_t len, struct dp_parse_core *c);

/*
 * The common frame alone: untagged Ethernet, IPv4 without options or IPv6
 * without extension headers, TCP or UDP, not a fragment, every length
 * consistent. Such a frame is parsed straight into *pkt (every field
 * written once, no clearing first) exactly as dp_parse would, and true is
 * returned; for any other frame false, *pkt untouched (the caller uses
 * dp_parse). Every read is bounds-checked against len. Inline: the
 * worker's burst loop parses and hashes in one go.
 */
static inline bool dp_parse_common(const uint8_t *frame, uint32_t len, struct dp_pkt *pkt);

/*
 * dp_parse_common, else dp_parse: same return value and same *pkt (every
 * field) as dp_parse for any input (tests/unit/dataplane/test_dp_parse.c,
 * fuzz_parse).
 */
static inline enum dp_drop dp_parse_fast(const uint8_t *frame, uint32_t len,
					 struct dp_pkt *pkt);

/* ICMP / ICMPv6 echo request or reply (the only ICMP that opens flows). */
bool dp_pkt_is_echo(const struct dp_pkt *pkt);

/*
 * IPv6 neighbour / router discovery (RFC 4861): ICMPv6 type 133 router
 * solicitation, 134 router advertisement, 135 neighbour solicitation, 136
 * neighbour advertisement or 137 redirect, code 0, hop limit 255 (proof that
 * it was sent on this link), not fragmented. The fast path passes these both
 * ways like ARP, without a flow. The same types with any other hop limit or
 * code are not ND: they go through flows and policy like any packet.
 */
bool dp_pkt_is_nd(const struct dp_pkt *pkt);

/*
 * Multicast listener discovery (RFC 2710, RFC 3810): ICMPv6 type 130 query,
 * 131 v1 report, 132 done or 143 v2 report, hop limit 1 (link-local, never
 * routed), from a link-local source or :: (RFC 3810 5.2.13), to a multicast
 * address, not fragmented. Passed both ways like ND, without a flow (a
 * report to ff02::16 must not open a flow to a multicast address). The same
 * types otherwise are not MLD and go through flows and policy.
 */
bool dp_pkt_is_mld(const struct dp_pkt *pkt);

static inline uint16_t dp_parse_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * The common frame without the general walk. Every check here is one
 * dp_parse makes as well; a frame failing one, or needing anything else
 * (VLAN tags, IPv4 options, IPv6 extension headers, fragments, other
 * protocols, ICMP), is left to dp_parse, so only one parser reports errors.
 */
static inline __attribute__((always_inline)) bool
dp_parse_core(const uint8_t *f, uint32_t len, struct dp_parse_core *c)
{
	/* Shortest handled: IPv4 + UDP header; dp_parse clamps longer ones. */
	if (len < 14 + 20 + 8 || len > 65535)
		return false;
	const uint8_t *ip = f + 14;
	uint32_t avail = len - 14, l3_len, l4;
	uint16_t et = dp_parse_rd16(f + 12);
	uint8_t family, proto, ttl;
	uint64_t s0, s1, d0, d1;

	if (et == 0x0800) {   /* IPv4 */
		/* Version 4, no options; not a fragment, reserved bit clear
		 * (DF may be set); room for at least a UDP header. */
		l3_len = dp_parse_rd16(ip + 2);
		if (ip[0] != 0x45 || l3_len < 20 + 8 || l3_len > avail ||
		    (dp_parse_rd16(ip + 6) & 0xbfff))
			return false;
		family = AF_INET;
		ttl = ip[8];
		proto = ip[9];
		uint32_t a;
		memcpy(&a, ip + 12, 4);
		s0 = a;
		memcpy(&a, ip + 16, 4);
		d0 = a;
		s1 = d1 = 0;
		l4 = 14 + 20;
	} else if (et == 0x86dd) {   /* IPv6 */
		if (avail < 40 || (ip[0] >> 4) != 6)
			return false;
		uint32_t plen = dp_parse_rd16(ip + 4);
		if (plen < 8 || 40 + plen > avail)
			return false;
		l3_len = 40 + plen;
		family = AF_INET6;
		proto = ip[6];   /* a next header of 6 or 17: no extension */
		ttl = ip[7];
		memcpy(&s0, ip + 8, 8);
		memcpy(&s1, ip + 16, 8);
		memcpy(&d0, ip + 24, 8);
		memcpy(&d1, ip + 32, 8);
		l4 = 14 + 40;
	} else {
		return false;
	}

	/* l4 .. 14 + l3_len is inside the frame (l3_len <= avail). */
	const uint8_t *t = f + l4;
	uint32_t l4_avail = 14 + l3_len - l4, poff, plen;
	uint8_t flags = 0;
	if (proto == 6) {   /* TCP */
		if (l4_avail < 20)
			return false;
		uint32_t doff = (uint32_t)(t[12] >> 4) * 4;
		if (doff < 20 || doff > l4_avail)
			return false;
		flags = t[13];
		poff = l4 + doff;
		plen = l4_avail - doff;
	} else if (proto == 17) {   /* UDP */
		uint32_t ulen = dp_parse_rd16(t + 4);   /* l4_avail >= 8 (checked above) */
		if (ulen < 8 || ulen > l4_avail)
			return false;
		poff = l4 + 8;
		plen = ulen - 8;
	} else {
		return false;
	}
	uint32_t ports;
	memcpy(&ports, t, 4);
	c->s0 = s0;
	c->s1 = s1;
	c->d0 = d0;
	c->d1 = d1;
	c->l3_len = l3_len;
	c->l4 = l4;
	c->poff = poff;
	c->plen = plen;
	c->sd = __builtin_bswap32(ports);   /* sport << 16 | dport */
	c->et = et;
	c->family = family;
	c->proto = proto;
	c->ttl = ttl;
	c->flags = flags;
	return true;
}

static inline bool dp_parse_common(const uint8_t *f, uint32_t len, struct dp_pkt *pkt)
{
	struct dp_parse_core c;

	if (!dp_parse_core(f, len, &c))
		return false;
	/* Stored as whole words in struct dp_pkt's layout (asserted below):
	 * a dozen stores instead of one per field. Every byte of *pkt but
	 * the padding is written. */
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "dp_parse_common: little-endian");
	_Static_assert(offsetof(struct dp_pkt, src_mac) == 6 &&
		       offsetof(struct dp_pkt, vlan) == 12 && DP_MAX_VLAN == 2 &&
		       offsetof(struct dp_pkt, n_vlan) == 16 &&
		       offsetof(struct dp_pkt, family) == 17 &&
		       offsetof(struct dp_pkt, ethertype) == 18 &&
		       offsetof(struct dp_pkt, l3_off) == 20 &&
		       offsetof(struct dp_pkt, l4_off) == 22 &&
		       offsetof(struct dp_pkt, l3_len) == 24 &&
		       offsetof(struct dp_pkt, proto) == 28 &&
		       offsetof(struct dp_pkt, ttl) == 29 &&
		       offsetof(struct dp_pkt, is_frag) == 30 &&
		       offsetof(struct dp_pkt, frag_first) == 31 &&
		       offsetof(struct dp_pkt, l4_known) == 32 &&
		       offsetof(struct dp_pkt, tcp_flags) == 33 &&
		       offsetof(struct dp_pkt, frag_id) == 36 &&
		       offsetof(struct dp_pkt, src) == 40 &&
		       offsetof(struct dp_pkt, dst) == 56 &&
		       offsetof(struct dp_pkt, sport) == 72 &&
		       offsetof(struct dp_pkt, dport) == 74 &&
		       offsetof(struct dp_pkt, icmp_type) == 76 &&
		       offsetof(struct dp_pkt, icmp_code) == 77 &&
		       offsetof(struct dp_pkt, payload_off) == 78 &&
		       offsetof(struct dp_pkt, payload_len) == 80 &&
		       sizeof(bool) == 1, "dp_parse_common: struct dp_pkt layout");
	uint8_t *o = (uint8_t *)pkt;
	uint64_t macs;
	uint32_t macs_end, zero32 = 0;
	memcpy(&macs, f, 8);                   /* dst_mac, src_mac[0..1] */
	memcpy(&macs_end, f + 8, 4);           /* src_mac[2..5] */
	uint64_t w12 = (uint64_t)c.family << 40 | (uint64_t)c.et << 48;   /* no tags */
	uint64_t w20 = 14 | (uint64_t)c.l4 << 16 | (uint64_t)c.l3_len << 32;
	uint64_t w28 = c.proto | (uint64_t)c.ttl << 8 | (uint64_t)1 << 32 |   /* l4_known */
		       (uint64_t)c.flags << 40;   /* not a fragment */
	uint32_t ports = c.sd << 16 | c.sd >> 16;   /* sport, dport: host order */
	uint64_t w72 = ports | (uint64_t)c.poff << 48;   /* icmp_type, icmp_code 0 */
	memcpy(o, &macs, 8);
	memcpy(o + 8, &macs_end, 4);
	memcpy(o + 12, &w12, 8);
	memcpy(o + 20, &w20, 8);
	memcpy(o + 28, &w28, 8);
	memcpy(o + 36, &zero32, 4);            /* frag_id */
	memcpy(o + 40, &c.s0, 8);
	memcpy(o + 48, &c.s1, 8);
	memcpy(o + 56, &c.d0, 8);
	memcpy(o + 64, &c.d1, 8);
	memcpy(o + 72, &w72, 8);
	memcpy(o + 80, &c.plen, 4);
	return true;
}

static inline enum dp_drop dp_parse_fast(const uint8_t *f, uint32_t len, struct dp_pkt *pkt)
{
	return dp_parse_common(f, len, pkt) ? DP_DROP_NONE : dp_parse(f, len, pkt);
}

#endif
