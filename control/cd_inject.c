/* SPDX-License-Identifier: MIT */
/* NXDOMAIN and TCP RST injection through raw sockets. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <egw/dns_msg.h>

#include "cd_inject.h"

struct cd_inject {
	int fd4, fd6;
};

struct cd_inject *cd_inject_open(void)
{
	struct cd_inject *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	j->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (j->fd4 < 0 || j->fd6 < 0) {
		int e = errno;
		cd_inject_close(j);
		errno = e;
		return NULL;
	}
	return j;
}

void cd_inject_close(struct cd_inject *j)
{
	if (!j)
		return;
	if (j->fd4 >= 0)
		close(j->fd4);
	if (j->fd6 >= 0)
		close(j->fd6);
	free(j);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IP header for a packet from src to dst; returns header length. */
static size_t ip_header_dir(const struct cd_pkt *k, const uint8_t *src, const uint8_t *dst,
			    uint8_t *out, size_t l4len, uint8_t proto)
{
	if (k->family == AF_INET) {
		memset(out, 0, 20);
		out[0] = 0x45;
		wr16(out + 2, (uint16_t)(20 + l4len));
		out[6] = 0x40; /* DF */
		out[8] = 64;
		out[9] = proto;
		memcpy(out + 12, src, 4);
		memcpy(out + 16, dst, 4);
		wr16(out + 10, fold(sum16(out, 20, 0)));
		return 20;
	}
	memset(out, 0, 40);
	out[0] = 0x60;
	wr16(out + 4, (uint16_t)l4len);
	out[6] = proto;
	out[7] = 64;
	memcpy(out + 8, src, 16);
	memcpy(out + 24, dst, 16);
	return 40;
}

/* IP header from k reversed (server -> client). */
static size_t ip_header(const struct cd_pkt *k, uint8_t *out, size_t l4len, uint8_t proto)
{
	return ip_header_dir(k, k->dst, k->src, out, l4len, proto);
}

static uint16_t l4_csum(const struct cd_pkt *k, const uint8_t *l4, size_t len, uint8_t proto)
{
	uint32_t s = 0;
	size_t alen = k->family == AF_INET ? 4 : 16;

	s = sum16(k->dst, alen, s);
	s = sum16(k->src, alen, s);
	s += proto;
	s += (uint32_t)len;
	s = sum16(l4, len, s);
	uint16_t c = fold(s);
	return c ? c : 0xffff;
}

/*
 * The TCP segment closing k's connection with the NXDOMAIN answer: from the
 * server, seq = what the client acknowledged, ack = past the query,
 * PSH|FIN|ACK, a bare 20-byte header, the answer length-prefixed. Only a
 * segment holding exactly one whole query (its length prefix included) is
 * answered: a query spread over segments, or a segment with more after it,
 * is refused (-1).
 */
static int build_tcp_nxdomain(const struct cd_pkt *k, uint8_t *out, size_t cap)
{
	size_t hl = k->family == AF_INET ? 20 : 40;
	size_t qlen;
	uint8_t *tcp;
	int dlen;

	if (!(k->tcp_flags & 0x10) || (k->tcp_flags & 0x07) || k->payload_len < 2 + 12 ||
	    cap < hl + 20 + 2 + 12)
		return -1;   /* no ACK to take seq from; SYN/FIN/RST; no header */
	qlen = (size_t)k->payload[0] << 8 | k->payload[1];
	if (qlen != k->payload_len - 2)
		return -1;
	tcp = out + hl;
	dlen = egw_dns_build_response(k->payload + 2, qlen, 3, tcp + 22, cap - hl - 22);
	if (dlen < 0)
		return -1;
	memset(tcp, 0, 20);
	wr16(tcp, k->dport);
	wr16(tcp + 2, k->sport);
	wr32(tcp + 4, k->tcp_ack);
	wr32(tcp + 8, k->tcp_seq + (uint32_t)k->payload_len);
	tcp[12] = 5 << 4;
	tcp[13] = 0x19; /* FIN|PSH|ACK */
	wr16(tcp + 14, 65535);
	wr16(tcp + 20, (uint16_t)dlen);
	ip_header(k, out, 22 + (size_t)dlen, IPPROTO_TCP);
	wr16(tcp + 16, l4_csum(k, tcp, 22 + (size_t)dlen, IPPROTO_TCP));
	return (int)(hl + 22 + (size_t)dlen);
}

int cd_inject_build_rst_server(const struct cd_pkt *k, uint8_t *out, size_t cap)
{
	size_t hl = k->family == AF_INET ? 20 : 40;
	uint8_t *tcp;

	if (k->proto != IPPROTO_TCP || !(k->tcp_flags & 0x10) || (k->tcp_flags & 0x02) ||
	    cap < hl + 20)
		return -1;
	tcp = out + hl;
	memset(tcp, 0, 20);
	wr16(tcp, k->sport);
	wr16(tcp + 2, k->dport);
	wr32(tcp + 4, k->tcp_seq);   /* the dropped segment never arrived */
	wr32(tcp + 8, k->tcp_ack);
	tcp[12] = 5 << 4;
	tcp[13] = 0x14; /* RST|ACK */
	ip_header_dir(k, k->src, k->dst, out, 20, IPPROTO_TCP);
	wr16(tcp + 16, l4_csum(k, tcp, 20, IPPROTO_TCP));
	return (int)(hl + 20);
}

int cd_inject_build_nxdomain(const struct cd_pkt *k, uint8_t *out, size_t cap)
{
	size_t hl = k->family == AF_INET ? 20 : 40;
	int dlen;
	uint8_t *udp;

	if (k->proto == IPPROTO_TCP)
		return build_tcp_nxdomain(k, out, cap);
	if (k->proto != IPPROTO_UDP || cap < hl + 8 + 12)
		return -1;
	udp = out + hl;
	dlen = egw_dns_build_response(k->payload, k->payload_len, 3, udp + 8,
				      cap - hl - 8);
	if (dlen < 0)
		return -1;
	wr16(udp, k->dport);
	wr16(udp + 2, k->sport);
	wr16(udp + 4, (uint16_t)(8 + dlen));
	wr16(udp + 6, 0);
	ip_header(k, out, 8 + (size_t)dlen, IPPROTO_UDP);
	wr16(udp + 6, l4_csum(k, udp, 8 + (size_t)dlen, IPPROTO_UDP));
	return (int)(hl + 8 + (size_t)dlen);
}

int cd_inject_build_rst(const struct cd_pkt *k, uint8_t *out, size_t cap)
{
	size_t hl = k->family == AF_INET ? 20 : 40;
	uint8_t *tcp;
	uint32_t seglen = (uint32_t)k->payload_len;

	if (k->proto != IPPROTO_TCP || cap < hl + 20)
		return -1;
	if (k->tcp_flags & 0x02) /* SYN: it takes a sequence number */
		seglen++;
	tcp = out + hl;
	memset(tcp, 0, 20);
	wr16(tcp, k->dport);
	wr16(tcp + 2, k->sport);
	wr32(tcp + 4, (k->tcp_flags & 0x10) ? k->tcp_ack : 0);
	wr32(tcp + 8, k->tcp_seq + seglen);
	tcp[12] = 5 << 4;
	tcp[13] = 0x14; /* RST|ACK */
	ip_header(k, out, 20, IPPROTO_TCP);
	wr16(tcp + 16, l4_csum(k, tcp, 20, IPPROTO_TCP));
	return (int)(hl + 20);
}

/* Send b to dst (k->src: the client, k->dst: the server). */
static int send_to(struct cd_inject *j, const struct cd_pkt *k, const uint8_t *dst,
		   const uint8_t *b, size_t n)
{
	ssize_t r;

	if (k->family == AF_INET) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		memcpy(&sa.sin_addr, dst, 4);
		r = sendto(j->fd4, b, n, 0, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
		memcpy(&sa.sin6_addr, dst, 16);
		r = sendto(j->fd6, b, n, 0, (struct sockaddr *)&sa, sizeof(sa));
	}
	return r < 0 ? -errno : 0;
}

static int send_raw(struct cd_inject *j, const struct cd_pkt *k, const uint8_t *b, size_t n)
{
	return send_to(j, k, k->src, b, n);
}

int cd_inject_nxdomain(struct cd_inject *j, const struct cd_pkt *k)
{
	uint8_t b[1600];
	int n = cd_inject_build_nxdomain(k, b, sizeof(b));

	if (n < 0)
		return -EINVAL;
	if (k->proto == IPPROTO_TCP) {
		/* reset the server first: its side of the connection, which
		 * never saw the query, is not left to time out */
		uint8_t r[80];
		int rn = cd_inject_build_rst_server(k, r, sizeof(r));
		int rc = rn < 0 ? -EINVAL : send_to(j, k, k->dst, r, (size_t)rn);
		int rc2 = send_raw(j, k, b, (size_t)n);
		return rc2 < 0 ? rc2 : rc;
	}
	return send_raw(j, k, b, (size_t)n);
}

int cd_inject_rst(struct cd_inject *j, const struct cd_pkt *k)
{
	uint8_t b[80];
	int n = cd_inject_build_rst(k, b, sizeof(b));

	return n < 0 ? -EINVAL : send_raw(j, k, b, (size_t)n);
}

int cd_inject_rst_server(struct cd_inject *j, const struct cd_pkt *k)
{
	uint8_t b[80];
	int n = cd_inject_build_rst_server(k, b, sizeof(b));

	return n < 0 ? -EINVAL : send_to(j, k, k->dst, b, (size_t)n);
}
