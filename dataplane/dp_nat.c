/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/socket.h>

#include "dp_nat.h"

uint16_t dp_nat_csum(const uint8_t *d, uint32_t len, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(d[i] << 8 | d[i + 1]);
	if (len & 1)
		sum += (uint32_t)d[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') over each changed 16-bit word. */
static void csum_replace(uint8_t *csum, const uint8_t *old, const uint8_t *new, unsigned n)
{
	uint32_t sum = (uint16_t)~(csum[0] << 8 | csum[1]);
	for (unsigned i = 0; i < n; i += 2) {
		sum += (uint16_t)~(old[i] << 8 | old[i + 1]);
		sum += (uint32_t)(new[i] << 8 | new[i + 1]);
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t r = (uint16_t)~sum;
	csum[0] = (uint8_t)(r >> 8);
	csum[1] = (uint8_t)r;
}

void dp_nat_set_addr(uint8_t *frame, struct dp_pkt *p, bool dst, const uint8_t *addr)
{
	uint8_t *ip = frame + p->l3_off;
	unsigned n = p->family == AF_INET ? 4 : 16;
	uint8_t *field = p->family == AF_INET ? ip + (dst ? 16 : 12) : ip + (dst ? 24 : 8);
	uint8_t old[16];

	memcpy(old, field, n);
	memcpy(field, addr, n);
	memcpy(dst ? p->dst : p->src, addr, n);
	if (p->family == AF_INET)
		csum_replace(ip + 10, old, addr, n);
	if (!p->l4_known)
		return;   /* a later fragment: the L4 checksum is in the first */
	uint8_t *l4 = frame + p->l4_off;
	if (p->proto == 6) {
		csum_replace(l4 + 16, old, addr, n);
	} else if (p->proto == 17) {
		if (p->family == AF_INET && !l4[6] && !l4[7])
			return;   /* no UDP checksum */
		csum_replace(l4 + 6, old, addr, n);
		if (!l4[6] && !l4[7])
			l4[6] = l4[7] = 0xff;
	}
}
