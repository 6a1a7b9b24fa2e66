/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/socket.h>

#include <egw/dns_msg.h>

#include "dp_dnstcp.h"
#include "dp_nat.h"

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void swap(uint8_t *a, uint8_t *b, unsigned n)
{
	uint8_t t[16];
	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

uint32_t dp_dns_tcp_nxdomain(uint8_t *frame, const struct dp_pkt *p)
{
	if (p->proto != 6 || !p->l4_known || p->is_frag || p->payload_len < 2 + 12)
		return 0;
	uint32_t iphl = p->l4_off - p->l3_off;
	if (p->family == AF_INET6 && iphl != 40)
		return 0;   /* extension headers (a routing header) are not reflected */
	const uint8_t *seg = frame + p->payload_off;
	uint32_t qlen = (uint32_t)seg[0] << 8 | seg[1];
	if (qlen != p->payload_len - 2)
		return 0;   /* not exactly one whole message in this segment */
	uint8_t msg[512];   /* header + question: at most 12 + 255 + 4 */
	int n = egw_dns_build_response(seg + 2, qlen, 3, msg, sizeof(msg));
	if (n <= 0 || (uint32_t)n > qlen)
		return 0;

	uint8_t *ip = frame + p->l3_off, *t = frame + p->l4_off;
	uint32_t seq = get32(t + 4), ack = get32(t + 8);
	uint32_t tlen = 20 + 2 + (uint32_t)n;
	swap(frame, frame + 6, 6);
	/* The answer follows a bare 20-byte header (options dropped). */
	memmove(t + 22, msg, (size_t)n);
	put16(t + 20, (uint32_t)n);
	put16(t, p->dport);
	put16(t + 2, p->sport);
	put32(t + 4, ack);
	put32(t + 8, seq + p->payload_len);
	t[12] = 5 << 4;
	t[13] = DP_TCP_FIN | 0x08 /* PSH */ | DP_TCP_ACK;
	put16(t + 14, 65535);
	put16(t + 16, 0);
	put16(t + 18, 0);
	unsigned alen = p->family == AF_INET ? 4 : 16;
	if (p->family == AF_INET) {
		swap(ip + 12, ip + 16, 4);
		put16(ip + 2, iphl + tlen);
		put16(ip + 6, 0x4000);   /* DF, not a fragment */
		ip[8] = 64;
		put16(ip + 10, 0);
		put16(ip + 10, dp_nat_csum(ip, iphl, 0));
	} else {
		swap(ip + 8, ip + 24, 16);
		put16(ip + 4, tlen);
		ip[7] = 64;
	}
	const uint8_t *src = p->family == AF_INET ? ip + 12 : ip + 8;
	uint32_t sum = 6 + tlen;
	for (unsigned i = 0; i < 2 * alen; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]);   /* src and dst are adjacent */
	put16(t + 16, dp_nat_csum(t, tlen, sum));
	return p->l4_off + tlen;
}
