/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/socket.h>

#include <egw/dns_msg.h>

#include "dp_dnsreply.h"
#include "dp_nat.h"

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void swap(uint8_t *a, uint8_t *b, unsigned n)
{
	uint8_t t[16];
	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

uint32_t dp_dns_nxdomain(uint8_t *frame, const struct dp_pkt *p)
{
	if (p->proto != 17 || !p->l4_known || p->is_frag)
		return 0;
	if (p->family == AF_INET6 && p->l4_off - p->l3_off != 40)
		return 0;   /* extension headers (a routing header) are not reflected */
	uint8_t *msg = frame + p->payload_off;
	int n = egw_dns_build_response(msg, p->payload_len, 3, msg, p->payload_len);
	if (n <= 0)
		return 0;

	uint8_t *ip = frame + p->l3_off, *udp = frame + p->l4_off;
	uint32_t ulen = 8 + (uint32_t)n;
	unsigned alen = p->family == AF_INET ? 4 : 16;
	swap(frame, frame + 6, 6);
	swap(udp, udp + 2, 2);
	put16(udp + 4, ulen);
	put16(udp + 6, 0);
	uint32_t ip_hdr = p->l4_off - p->l3_off;   /* IPv6: extension headers too */
	if (p->family == AF_INET) {
		swap(ip + 12, ip + 16, 4);
		put16(ip + 2, ip_hdr + ulen);
		ip[8] = 64;
		put16(ip + 10, 0);
		put16(ip + 10, dp_nat_csum(ip, ip_hdr, 0));
	} else {
		swap(ip + 8, ip + 24, 16);
		put16(ip + 4, ip_hdr - 40 + ulen);
		ip[7] = 64;
	}
	const uint8_t *src = p->family == AF_INET ? ip + 12 : ip + 8;
	uint32_t sum = 17 + ulen;
	for (unsigned i = 0; i < 2 * alen; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]);   /* src and dst are adjacent */
	uint16_t c = dp_nat_csum(udp, ulen, sum);
	put16(udp + 6, c ? c : 0xffff);
	return p->l4_off + ulen;
}
