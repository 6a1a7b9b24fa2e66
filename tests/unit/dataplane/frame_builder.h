/* SPDX-License-Identifier: MIT */
/* Builds test frames: Ethernet [+ VLAN tags] + IPv4/IPv6 + TCP/UDP/ICMP. */
#ifndef TEST_FRAME_BUILDER_H
#define TEST_FRAME_BUILDER_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "../dns_question.h"

struct fb {
	uint8_t b[2048];
	uint32_t len;
	uint32_t l3;       /* offset of the IP header */
};

static inline void fb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet header with n_vlan tags (outer 0x88a8 when two). */
static inline void fb_eth(struct fb *f, const char *src_mac, uint16_t ethertype, int n_vlan)
{
	memset(f, 0, sizeof(*f));
	static const uint8_t gw[6] = { 0x02, 0xee, 0, 0, 0, 1 };
	memcpy(f->b, gw, 6);
	unsigned m[6];
	sscanf(src_mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
	for (int i = 0; i < 6; i++)
		f->b[6 + i] = (uint8_t)m[i];
	uint32_t o = 12;
	for (int i = 0; i < n_vlan; i++) {
		fb_put16(f->b + o, n_vlan == 2 && i == 0 ? 0x88a8 : 0x8100);
		fb_put16(f->b + o + 2, (uint16_t)(100 + i));
		o += 4;
	}
	fb_put16(f->b + o, ethertype);
	f->len = o + 2;
	f->l3 = f->len;
}

/* IPv4 header (20 bytes + optlen of NOPs) with payload of l4len bytes
 * following; frag: offset in bytes, mf flag. */
static inline uint8_t *fb_ipv4(struct fb *f, const char *src, const char *dst, uint8_t proto,
			uint32_t l4len, unsigned optlen, uint32_t frag_off, int mf)
{
	uint8_t *ip = f->b + f->len;
	unsigned ihl = 20 + optlen;
	ip[0] = (uint8_t)(0x40 | (ihl / 4));
	fb_put16(ip + 2, (uint16_t)(ihl + l4len));
	fb_put16(ip + 4, 0x1234);
	fb_put16(ip + 6, (uint16_t)((frag_off / 8) | (mf ? 0x2000 : 0)));
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	memset(ip + 20, 1, optlen);
	f->len += ihl;
	return f->b + f->len;
}

static inline uint8_t *fb_ipv6(struct fb *f, const char *src, const char *dst, uint8_t nh,
			uint32_t payload_len)
{
	uint8_t *ip = f->b + f->len;
	ip[0] = 0x60;
	fb_put16(ip + 4, (uint16_t)payload_len);
	ip[6] = nh;
	ip[7] = 64;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
	f->len += 40;
	return f->b + f->len;
}

static inline void fb_udp(struct fb *f, uint16_t sport, uint16_t dport, uint32_t paylen)
{
	uint8_t *u = f->b + f->len;
	fb_put16(u, sport);
	fb_put16(u + 2, dport);
	fb_put16(u + 4, (uint16_t)(8 + paylen));
	f->len += 8 + paylen;
}

static inline void fb_tcp(struct fb *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	uint8_t *t = f->b + f->len;
	fb_put16(t, sport);
	fb_put16(t + 2, dport);
	t[12] = 5 << 4;
	t[13] = flags;
	f->len += 20;
}

static inline void fb_icmp_echo(struct fb *f, uint8_t type, uint16_t id)
{
	uint8_t *t = f->b + f->len;
	t[0] = type;
	fb_put16(t + 4, id);
	f->len += 8;
}

/*
 * A DNS query message for name (one question, type A, class IN, RD) with
 * the given id into q (at least 18 + strlen(name) bytes); returns its length.
 */
static inline size_t fb_dns_query(uint8_t *q, uint16_t id, const char *name)
{
	return tq_dns_query(q, id, name, 1);
}

/* Common shapes. */
static inline void fb_udp4(struct fb *f, const char *mac, const char *src, const char *dst,
		    uint16_t sport, uint16_t dport)
{
	fb_eth(f, mac, 0x0800, 0);
	fb_ipv4(f, src, dst, 17, 8 + 12, 0, 0, 0);
	fb_udp(f, sport, dport, 12);
}

static inline void fb_tcp4(struct fb *f, const char *mac, const char *src, const char *dst,
		    uint16_t sport, uint16_t dport, uint8_t flags)
{
	fb_eth(f, mac, 0x0800, 0);
	fb_ipv4(f, src, dst, 6, 20, 0, 0, 0);
	fb_tcp(f, sport, dport, flags);
}

#endif
