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
#include <stdint.h>

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
 * dp_parse with a fast path for the common frame: untagged Ethernet, IPv4
 * without options or IPv6 without extension headers, TCP or UDP, not a
 * fragment, every length consistent. Such a frame is parsed straight into
 * *pkt (each field written once, no clearing first); any other frame goes to
 * dp_parse. Same return value and same *pkt (every field) as dp_parse for
 * any input (tests/unit/dataplane/test_dp_parse.c, fuzz_parse). Every read
 * is bounds-checked against len.
 */
enum dp_drop dp_parse_fast(const uint8_t *frame, uint32_t len, struct dp_pkt *pkt);

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

#endif
