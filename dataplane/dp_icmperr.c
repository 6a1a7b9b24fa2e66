/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/socket.h>

#include "dp_icmperr.h"

enum { P_HOPOPTS = 0, P_ICMP = 1, P_TCP = 6, P_UDP = 17, P_ROUTING = 43, P_FRAGMENT = 44,
       P_AH = 51, P_ICMPV6 = 58, P_DSTOPTS = 60 };

bool dp_icmperr_is(const struct dp_pkt *p)
{
	if (!p->l4_known || p->is_frag)
		return false;
	if (p->family == AF_INET && p->proto == P_ICMP)
		return p->icmp_type == 3 || p->icmp_type == 11 || p->icmp_type == 12;
	if (p->family == AF_INET6 && p->proto == P_ICMPV6)
		return p->icmp_type >= 1 && p->icmp_type <= 4;
	return false;
}

/* The quoted packet: addresses, protocol, the offset of its L4 header. */
struct quote {
	const uint8_t *src, *dst;
	uint8_t proto;
	uint32_t l4;
};

static int quote_v4(const uint8_t *q, uint32_t n, struct quote *o)
{
	if (n < 20 || q[0] >> 4 != 4)
		return -1;
	uint32_t ihl = (uint32_t)(q[0] & 15) * 4;
	if (ihl < 20 || ihl > n)
		return -1;
	if ((q[6] << 8 | q[7]) & 0x1fff)
		return -1;   /* a later fragment: no ports */
	o->src = q + 12;
	o->dst = q + 16;
	o->proto = q[9];
	o->l4 = ihl;
	return 0;
}

static int quote_v6(const uint8_t *q, uint32_t n, struct quote *o)
{
	if (n < 40 || q[0] >> 4 != 6)
		return -1;
	uint8_t nh = q[6];
	uint32_t off = 40;
	for (int i = 0; i < DP_IPV6_MAX_EXT; i++) {
		uint32_t hlen;
		if (nh != P_HOPOPTS && nh != P_ROUTING && nh != P_FRAGMENT && nh != P_AH &&
		    nh != P_DSTOPTS)
			break;
		if (n - off < 8)
			return -1;
		if (nh == P_FRAGMENT) {
			if ((q[off + 2] << 8 | q[off + 3]) & 0xfff8)
				return -1;   /* a later fragment: no ports */
			hlen = 8;
		} else if (nh == P_AH) {
			hlen = ((uint32_t)q[off + 1] + 2) * 4;
		} else {
			hlen = ((uint32_t)q[off + 1] + 1) * 8;
		}
		if (hlen > n - off)
			return -1;
		nh = q[off];
		off += hlen;
	}
	o->src = q + 8;
	o->dst = q + 24;
	o->proto = nh;
	o->l4 = off;
	return 0;
}

int dp_icmperr_key(const uint8_t *frame, const struct dp_pkt *p, bool from_outside,
		   struct dp_flow_key *k)
{
	const uint8_t *q = frame + p->payload_off;
	uint32_t n = p->payload_len;
	struct quote o;
	unsigned alen = p->family == AF_INET ? 4 : 16;

	if (!dp_icmperr_is(p))
		return -1;
	if ((p->family == AF_INET ? quote_v4(q, n, &o) : quote_v6(q, n, &o)) < 0)
		return -1;
	if (n - o.l4 < 8)
		return -1;
	/* An error goes to the quoted packet's sender. */
	if (memcmp(p->dst, o.src, alen))
		return -1;
	const uint8_t *l4 = q + o.l4;
	uint16_t sport = (uint16_t)(l4[0] << 8 | l4[1]), dport = (uint16_t)(l4[2] << 8 | l4[3]);
	memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->proto = o.proto;
	k->kind = DP_FK_FLOW;
	/* From the outside the quote went inside -> outside; else the reverse. */
	memcpy(k->in_ip, from_outside ? o.src : o.dst, alen);
	memcpy(k->out_ip, from_outside ? o.dst : o.src, alen);
	if (o.proto == P_TCP || o.proto == P_UDP) {
		k->in_port = from_outside ? sport : dport;
		k->out_port = from_outside ? dport : sport;
		return 0;
	}
	bool echo;
	if (p->family == AF_INET)
		echo = o.proto == P_ICMP && (l4[0] == 8 || l4[0] == 0);
	else
		echo = o.proto == P_ICMPV6 && (l4[0] == 128 || l4[0] == 129);
	if (!echo)
		return -1;
	k->in_port = (uint16_t)(l4[4] << 8 | l4[5]);   /* the identifier */
	return 0;
}
