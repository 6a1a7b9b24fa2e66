/* SPDX-License-Identifier: MIT */
/* IPv4/IPv6 + TCP/UDP header parsing, bounds-checked. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "cd_pkt.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int parse_l4(const uint8_t *data, size_t end, struct cd_pkt *p)
{
	size_t off = p->l4_off, hl;

	if (p->fragment)
		return CD_PKT_OK;
	switch (p->proto) {
	case IPPROTO_TCP:
		if (end - off < 20)
			return CD_PKT_SHORT;
		hl = (size_t)(data[off + 12] >> 4) * 4;
		if (hl < 20)
			return CD_PKT_BAD_HEADER;
		if (end - off < hl)
			return CD_PKT_SHORT;
		p->sport = rd16(data + off);
		p->dport = rd16(data + off + 2);
		p->tcp_seq = rd32(data + off + 4);
		p->tcp_ack = rd32(data + off + 8);
		p->tcp_flags = data[off + 13];
		break;
	case IPPROTO_UDP:
		if (end - off < 8)
			return CD_PKT_SHORT;
		p->sport = rd16(data + off);
		p->dport = rd16(data + off + 2);
		hl = 8;
		if (rd16(data + off + 4) < 8)
			return CD_PKT_BAD_HEADER;
		/* the UDP length bounds the payload too */
		if (off + rd16(data + off + 4) < end)
			end = off + rd16(data + off + 4);
		break;
	default:
		hl = 0;
		break;
	}
	p->payload = data + off + hl;
	p->payload_len = end - off - hl;
	return CD_PKT_OK;
}

int cd_pkt_parse(const uint8_t *data, size_t len, struct cd_pkt *p)
{
	size_t end, off;

	memset(p, 0, sizeof(*p));
	if (len < 1)
		return CD_PKT_SHORT;
	switch (data[0] >> 4) {
	case 4: {
		size_t ihl;
		if (len < 20)
			return CD_PKT_SHORT;
		ihl = (size_t)(data[0] & 0xf) * 4;
		if (ihl < 20)
			return CD_PKT_BAD_HEADER;
		if (len < ihl)
			return CD_PKT_SHORT;
		p->family = AF_INET;
		p->ip_len = rd16(data + 2);
		if (p->ip_len < ihl)
			return CD_PKT_BAD_HEADER;
		p->proto = data[9];
		memcpy(p->src, data + 12, 4);
		memcpy(p->dst, data + 16, 4);
		p->fragment = (rd16(data + 6) & 0x1fff) != 0;
		p->l4_off = ihl;
		/* captured bytes may be fewer than ip_len (copy range), or more
		 * (link padding): trust the smaller */
		end = len < p->ip_len ? len : p->ip_len;
		return parse_l4(data, end, p);
	}
	case 6: {
		uint8_t nh;
		if (len < 40)
			return CD_PKT_SHORT;
		p->family = AF_INET6;
		p->ip_len = 40 + (size_t)rd16(data + 4);
		memcpy(p->src, data + 8, 16);
		memcpy(p->dst, data + 24, 16);
		nh = data[6];
		off = 40;
		end = len < p->ip_len ? len : p->ip_len;
		/* walk the extension headers we know; at most 8 */
		for (int i = 0; i < 8; i++) {
			if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
			    nh == IPPROTO_DSTOPTS) {
				if (end < off + 8)
					return CD_PKT_SHORT;
				nh = data[off];
				off += ((size_t)data[off + 1] + 1) * 8;
			} else if (nh == IPPROTO_FRAGMENT) {
				if (end < off + 8)
					return CD_PKT_SHORT;
				if (rd16(data + off + 2) & 0xfff8)
					p->fragment = 1;
				nh = data[off];
				off += 8;
			} else {
				break;
			}
			if (off > end)
				return CD_PKT_SHORT;
		}
		p->proto = nh;
		p->l4_off = off;
		return parse_l4(data, end, p);
	}
	default:
		return CD_PKT_BAD_VERSION;
	}
}

const char *cd_pkt_strerror(int err)
{
	switch (err) {
	case CD_PKT_OK: return "ok";
	case CD_PKT_SHORT: return "truncated header";
	case CD_PKT_BAD_VERSION: return "not IPv4 or IPv6";
	case CD_PKT_BAD_HEADER: return "inconsistent header lengths";
	default: return "unknown error";
	}
}
