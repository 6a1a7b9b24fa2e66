/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/socket.h>

#include "dp_nat.h"
#include "dp_tcpreset.h"

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

uint32_t dp_tcp_reset(const uint8_t *frame, const struct dp_pkt *p, bool to_client,
		      uint8_t *out, size_t cap)
{
	if (p->proto != 6 || !p->l4_known || p->is_frag)
		return 0;
	uint32_t iphl = p->l4_off - p->l3_off;
	if (p->family == AF_INET6 && iphl != 40)
		return 0;
	uint32_t n = p->l4_off + 20;
	if (n > cap)
		return 0;
	memcpy(out, frame, p->l4_off);
	const uint8_t *tcp = frame + p->l4_off;
	uint8_t *ip = out + p->l3_off, *t = out + p->l4_off;
	uint32_t seq = get32(tcp + 4), ack = get32(tcp + 8);
	memset(t, 0, 20);
	unsigned alen = p->family == AF_INET ? 4 : 16;
	uint8_t *src = p->family == AF_INET ? ip + 12 : ip + 8;
	if (to_client) {
		memcpy(out, frame + 6, 6);
		memcpy(out + 6, frame, 6);
		memcpy(src, frame + p->l3_off + (p->family == AF_INET ? 16 : 24), alen);
		memcpy(src + alen, frame + p->l3_off + (p->family == AF_INET ? 12 : 8), alen);
		put16(t, p->dport);
		put16(t + 2, p->sport);
		put32(t + 4, ack);
		put32(t + 8, seq + p->payload_len);
	} else {
		put16(t, p->sport);
		put16(t + 2, p->dport);
		put32(t + 4, seq);   /* the server's rcv_nxt: this payload never reaches it */
		put32(t + 8, ack);
	}
	t[12] = 5 << 4;
	t[13] = DP_TCP_RST | DP_TCP_ACK;
	if (p->family == AF_INET) {
		put16(ip + 2, iphl + 20);
		ip[8] = 64;
		put16(ip + 10, 0);
		put16(ip + 10, dp_nat_csum(ip, iphl, 0));
	} else {
		put16(ip + 4, 20);
		ip[6] = 6;
		ip[7] = 64;
	}
	uint32_t sum = 6 + 20;
	for (unsigned i = 0; i < 2 * alen; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]);
	put16(t + 16, dp_nat_csum(t, 20, sum));
	return n;
}
