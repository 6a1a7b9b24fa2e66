/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/socket.h>

#include "dp_parse.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ1 0x9100

enum {
	IPP_HOPOPTS = 0, IPP_ICMP = 1, IPP_TCP = 6, IPP_UDP = 17,
	IPP_ROUTING = 43, IPP_FRAGMENT = 44, IPP_ESP = 50, IPP_AH = 51,
	IPP_ICMPV6 = 58, IPP_NONE = 59, IPP_DSTOPTS = 60,
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* IPv4 options: a TLV walk; EOL ends, NOP is one byte, the rest carry a
 * length >= 2 that must stay within the header. */
static bool ipv4_options_ok(const uint8_t *o, unsigned n)
{
	unsigned i = 0;

	while (i < n) {
		if (o[i] == 0)
			return true;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || o[i + 1] > n - i)
			return false;
		i += o[i + 1];
	}
	return true;
}

/* L4 header at f[off..end). end is the end of this frame's IP payload. */
static inline enum dp_drop parse_l4(const uint8_t *f, uint32_t off, uint32_t end,
				    struct dp_pkt *pkt)
{
	uint32_t avail = end - off;

	pkt->l4_off = (uint16_t)off;
	switch (pkt->proto) {
	case IPP_TCP: {
		if (avail < 20)
			return DP_DROP_TCP_TRUNC;
		unsigned doff = (unsigned)(f[off + 12] >> 4) * 4;
		if (doff < 20)
			return DP_DROP_TCP_BAD_OFFSET;
		if (doff > avail)
			return DP_DROP_TCP_TRUNC;
		pkt->sport = rd16(f + off);
		pkt->dport = rd16(f + off + 2);
		pkt->tcp_flags = f[off + 13];
		pkt->payload_off = (uint16_t)(off + doff);
		pkt->payload_len = avail - doff;
		break;
	}
	case IPP_UDP: {
		if (avail < 8)
			return DP_DROP_UDP_TRUNC;
		uint32_t ulen = rd16(f + off + 4);
		if (ulen < 8)
			return DP_DROP_UDP_BAD_LEN;
		/* In a first fragment the UDP length covers the whole datagram. */
		if (!pkt->is_frag && ulen > avail)
			return DP_DROP_UDP_BAD_LEN;
		pkt->sport = rd16(f + off);
		pkt->dport = rd16(f + off + 2);
		pkt->payload_off = (uint16_t)(off + 8);
		pkt->payload_len = (pkt->is_frag ? avail : ulen) - 8;
		break;
	}
	case IPP_ICMP:
	case IPP_ICMPV6:
		if (avail < 8)
			return DP_DROP_ICMP_TRUNC;
		pkt->icmp_type = f[off];
		pkt->icmp_code = f[off + 1];
		if (dp_pkt_is_echo(pkt))
			pkt->sport = rd16(f + off + 4);
		pkt->payload_off = (uint16_t)(off + 8);
		pkt->payload_len = avail - 8;
		break;
	default:
		/* Other protocols have no ports; matched on proto and L3. */
		pkt->payload_off = (uint16_t)off;
		pkt->payload_len = avail;
		break;
	}
	pkt->l4_known = true;
	return DP_DROP_NONE;
}

static enum dp_drop parse_ipv4(const uint8_t *f, uint32_t len, uint32_t off,
			       struct dp_pkt *pkt)
{
	const uint8_t *ip = f + off;
	uint32_t avail = len - off;

	if (avail < 20)
		return DP_DROP_IPV4_TRUNC;
	if ((ip[0] >> 4) != 4)
		return DP_DROP_IPV4_BAD_VERSION;
	unsigned ihl = (unsigned)(ip[0] & 0x0f) * 4;
	if (ihl < 20)
		return DP_DROP_IPV4_BAD_IHL;
	if (ihl > avail)
		return DP_DROP_IPV4_TRUNC;
	uint32_t tot = rd16(ip + 2);
	if (tot < ihl)
		return DP_DROP_IPV4_BAD_LEN;
	if (tot > avail)
		return DP_DROP_IPV4_TRUNC;
	if (ihl > 20 && !ipv4_options_ok(ip + 20, ihl - 20))
		return DP_DROP_IPV4_BAD_OPTIONS;

	pkt->family = AF_INET;
	pkt->l3_len = tot;
	pkt->ttl = ip[8];
	pkt->proto = ip[9];
	/* As whole 8-byte words (address, then zeros): make_key reads them
	 * back as words at once, which a 4-byte store inside a zeroed area
	 * would stall (no store-to-load forwarding across two stores). */
	uint32_t a4;
	uint64_t a8, zero = 0;
	memcpy(&a4, ip + 12, 4);
	a8 = a4;
	memcpy(pkt->src, &a8, 8);
	memcpy(pkt->src + 8, &zero, 8);
	memcpy(&a4, ip + 16, 4);
	a8 = a4;
	memcpy(pkt->dst, &a8, 8);
	memcpy(pkt->dst + 8, &zero, 8);

	uint16_t fo = rd16(ip + 6);
	uint32_t frag_off = (uint32_t)(fo & 0x1fff) * 8;
	bool mf = fo & 0x2000;
	if (fo & 0x8000)
		return DP_DROP_IPV4_BAD_FRAG;   /* reserved bit */
	if (frag_off || mf) {
		pkt->is_frag = true;
		pkt->frag_id = rd16(ip + 4);
		if (frag_off + (tot - ihl) > 65535)
			return DP_DROP_IPV4_BAD_FRAG;
		/* A fragment that is not the last carries a multiple of 8. */
		if (mf && ((tot - ihl) % 8 || tot == ihl))
			return DP_DROP_IPV4_BAD_FRAG;
		if (frag_off) {
			/* RFC 1858: offset 8 would overwrite TCP's flags. */
			if (pkt->proto == IPP_TCP && frag_off == 8)
				return DP_DROP_IPV4_BAD_FRAG;
			return DP_DROP_NONE;
		}
		pkt->frag_first = true;
	}
	return parse_l4(f, off + ihl, off + tot, pkt);
}

static enum dp_drop parse_ipv6(const uint8_t *f, uint32_t len, uint32_t off,
			       struct dp_pkt *pkt)
{
	const uint8_t *ip = f + off;
	uint32_t avail = len - off;

	if (avail < 40)
		return DP_DROP_IPV6_TRUNC;
	if ((ip[0] >> 4) != 6)
		return DP_DROP_IPV6_BAD_VERSION;
	uint32_t plen = rd16(ip + 4);
	if (plen == 0)
		return DP_DROP_IPV6_BAD_LEN;   /* jumbograms: not on this path */
	if (40 + plen > avail)
		return DP_DROP_IPV6_TRUNC;

	pkt->family = AF_INET6;
	pkt->l3_len = 40 + plen;
	pkt->ttl = ip[7];
	memcpy(pkt->src, ip + 8, 16);
	memcpy(pkt->dst, ip + 24, 16);

	uint32_t end = off + 40 + plen;
	uint32_t p = off + 40;
	uint8_t nh = ip[6];
	bool non_first = false;
	for (unsigned n = 0;; n++) {
		switch (nh) {
		case IPP_HOPOPTS:
		case IPP_ROUTING:
		case IPP_DSTOPTS:
		case IPP_AH:
		case IPP_FRAGMENT:
			break;
		default:
			goto l4;
		}
		if (n == DP_IPV6_MAX_EXT)
			return DP_DROP_IPV6_EXT_CHAIN;
		/* Hop-by-hop only right after the fixed header (RFC 8200). */
		if (nh == IPP_HOPOPTS && n != 0)
			return DP_DROP_IPV6_EXT_ORDER;
		if (end - p < 8)
			return DP_DROP_IPV6_EXT_TRUNC;
		uint32_t hlen;
		if (nh == IPP_FRAGMENT) {
			if (pkt->is_frag)
				return DP_DROP_IPV6_BAD_FRAG;   /* two fragment headers */
			uint16_t fo = rd16(f + p + 2);
			uint32_t frag_off = (uint32_t)(fo >> 3) * 8;
			bool mf = fo & 1;
			hlen = 8;
			if (frag_off || mf) {
				pkt->is_frag = true;
				pkt->frag_id = rd32(f + p + 4);
				uint32_t fraglen = end - (p + 8);
				if (frag_off + fraglen > 65535)
					return DP_DROP_IPV6_BAD_FRAG;
				if (mf && (fraglen % 8 || fraglen == 0))
					return DP_DROP_IPV6_BAD_FRAG;
				if (frag_off)
					non_first = true;
				else
					pkt->frag_first = true;
			}
		} else if (nh == IPP_AH) {
			hlen = ((uint32_t)f[p + 1] + 2) * 4;
		} else {
			hlen = ((uint32_t)f[p + 1] + 1) * 8;
		}
		if (hlen > end - p)
			return DP_DROP_IPV6_EXT_TRUNC;
		nh = f[p];
		p += hlen;
		if (non_first) {
			pkt->proto = nh;
			return DP_DROP_NONE;   /* the rest is not ours to read */
		}
	}
l4:
	pkt->proto = nh;
	if (nh == IPP_NONE) {
		pkt->payload_off = (uint16_t)p;
		pkt->payload_len = 0;
		pkt->l4_off = (uint16_t)p;
		pkt->l4_known = true;
		return DP_DROP_NONE;
	}
	return parse_l4(f, p, end, pkt);
}

enum dp_drop dp_parse(const uint8_t *f, uint32_t len, struct dp_pkt *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	if (len < 14)
		return DP_DROP_ETH_TRUNC;
	if (len > 65535)
		len = 65535;   /* offsets fit in 16 bits; no frame is longer */
	memcpy(pkt->dst_mac, f, 6);
	memcpy(pkt->src_mac, f + 6, 6);
	uint32_t off = 12;
	uint16_t et = rd16(f + off);
	while (et == ETH_P_8021Q || et == ETH_P_8021AD || et == ETH_P_QINQ1) {
		if (pkt->n_vlan == DP_MAX_VLAN)
			return DP_DROP_VLAN_DEPTH;
		if (len - off < 6)
			return DP_DROP_VLAN_TRUNC;
		pkt->vlan[pkt->n_vlan++] = rd16(f + off + 2);
		off += 4;
		et = rd16(f + off);
	}
	off += 2;
	pkt->ethertype = et;
	pkt->l3_off = (uint16_t)off;
	if (et == ETH_P_IPV4)
		return parse_ipv4(f, len, off, pkt);
	if (et == ETH_P_IPV6)
		return parse_ipv6(f, len, off, pkt);
	return DP_DROP_NONE;
}

bool dp_pkt_is_echo(const struct dp_pkt *pkt)
{
	if (pkt->proto == IPP_ICMP)
		return pkt->icmp_type == 8 || pkt->icmp_type == 0;
	if (pkt->proto == IPP_ICMPV6)
		return pkt->icmp_type == 128 || pkt->icmp_type == 129;
	return false;
}

static bool icmpv6_whole(const struct dp_pkt *pkt)
{
	return pkt->family == AF_INET6 && pkt->proto == IPP_ICMPV6 && pkt->l4_known &&
	       !pkt->is_frag;
}

bool dp_pkt_is_nd(const struct dp_pkt *pkt)
{
	if (!icmpv6_whole(pkt) || pkt->icmp_type < 133 || pkt->icmp_type > 137)
		return false;
	return pkt->icmp_code == 0 && pkt->ttl == 255;
}

bool dp_pkt_is_mld(const struct dp_pkt *pkt)
{
	static const uint8_t unspec[16];

	if (!icmpv6_whole(pkt) || pkt->ttl != 1 || pkt->dst[0] != 0xff)
		return false;
	switch (pkt->icmp_type) {
	case 130: case 131: case 132: case 143:
		break;
	default:
		return false;
	}
	bool link_local = pkt->src[0] == 0xfe && (pkt->src[1] & 0xc0) == 0x80;
	return link_local || !memcmp(pkt->src, unspec, 16);
}
