/* SPDX-License-Identifier: MIT */
/*
 * egw_dns_stream against a model of the resolver's TCP receiver: segments
 * (new data, retransmissions of recorded starts with other bytes and
 * lengths, arbitrary sequence numbers) are checked; those accepted are
 * "judged" (each of their messages recorded at its stream offset) and some
 * of them reach the receiver, each keeping or overwriting bytes it already
 * has (both happen in real stacks). Whatever the receiver then reads as
 * length-prefixed messages from the stream's start must be messages that
 * were judged, byte for byte, at the same offset: no name gets past
 * unjudged. Also: check never reads past the payload, accept keeps its
 * bookkeeping ordered, and the message walk agrees with check's count.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <egw/dns_stream.h>

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

#define WIN 4096          /* receiver's modelled stream bytes */
#define MAX_JUDGED 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct judged {
	size_t off, len;      /* stream offset of the length prefix, total bytes */
	size_t at;            /* in arena */
};

static uint8_t arena[1 << 20];
static struct judged judged[MAX_JUDGED];

static bool was_judged(size_t n_judged, size_t off, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < n_judged; i++)
		if (judged[i].off == off && judged[i].len == len &&
		    !memcmp(arena + judged[i].at, b, len))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	uint32_t isn = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
		       (uint32_t)data[2] << 8 | data[3];
	bool syn = !(data[4] & 0x80);
	size_t pos = 5;
	struct egw_dns_stream s;
	memset(&s, 0, sizeof(s));
	if (syn)
		CHECK(egw_dns_stream_start(&s, isn) == 0);
	uint32_t base = isn + 1;

	static uint8_t srv[WIN];
	static bool have[WIN];
	memset(have, 0, sizeof(have));
	size_t n_judged = 0, used = 0;

	while (pos + 3 <= size) {
		uint8_t ctl = data[pos];
		size_t len = (size_t)data[pos + 1] | (size_t)(ctl & 0x03) << 8;
		uint8_t pick = data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		uint32_t seq;
		switch (ctl >> 4 & 3) {
		case 0:
			seq = s.known ? s.next : base;
			break;
		case 1:
			seq = s.known && s.n ? s.next - s.back[pick % s.n] : base;
			break;
		case 2:
			seq = (s.known ? s.next : base) + (uint32_t)(int8_t)pick;
			break;
		default:
			/* a SYN once data went through: refused, nothing moves */
			if (s.known == 2) {
				struct egw_dns_stream before = s;
				CHECK(egw_dns_stream_start(&s, isn + pick) == EGW_DNSS_NOT_BOUNDARY);
				CHECK(!memcmp(&before, &s, sizeof(s)));
			}
			pos += len;
			continue;
		}
		/* exact-size copy: a read past it is caught */
		uint8_t *seg = malloc(len ? len : 1);
		if (!seg)
			return 0;
		memcpy(seg, data + pos, len);
		pos += len;
		int rc = egw_dns_stream_check(&s, seq, seg, len);
		CHECK(rc <= EGW_DNS_STREAM_MAX_MSGS && rc >= EGW_DNSS_EMPTY && rc != 0);
		CHECK(egw_dns_stream_strerror(rc) != NULL);
		if (rc < 0) {
			free(seg);
			continue;
		}
		/* the walk agrees with check */
		size_t off = 0, mlen;
		const uint8_t *msg;
		int n = 0, r;
		while ((r = egw_dns_stream_next(seg, len, &off, &msg, &mlen)) == 1) {
			size_t at = (size_t)(msg - seg) - 2;
			size_t soff = (size_t)(uint32_t)(seq - base) + at;
			if (n_judged < MAX_JUDGED && used + mlen + 2 <= sizeof(arena)) {
				judged[n_judged].off = soff;
				judged[n_judged].len = mlen + 2;
				judged[n_judged].at = used;
				memcpy(arena + used, seg + at, mlen + 2);
				used += mlen + 2;
				n_judged++;
			}
			n++;
		}
		CHECK(r == 0 && off == len && n == rc);
		egw_dns_stream_accept(&s, seq, len);
		CHECK(s.known && s.n <= EGW_DNS_STREAM_STARTS);
		for (unsigned j = 1; j < s.n; j++)
			CHECK(s.back[j] > s.back[j - 1]);
		if (ctl & 0x04) {
			/* reaches the receiver: first copy kept or overwritten */
			bool overwrite = ctl & 0x08;
			for (size_t i = 0; i < len; i++) {
				size_t p = (size_t)(uint32_t)(seq - base) + i;
				if (p >= WIN)
					continue;   /* before the stream, or past the model */
				if (!have[p] || overwrite)
					srv[p] = seg[i];
				have[p] = true;
			}
		}
		free(seg);
	}
	if (!syn || n_judged == MAX_JUDGED)
		return 0;   /* a stream picked up mid-way is judged from there on only */
	size_t avail = 0;
	while (avail < WIN && have[avail])
		avail++;
	size_t off = 0, mlen;
	const uint8_t *msg;
	while (egw_dns_stream_next(srv, avail, &off, &msg, &mlen) == 1) {
		size_t at = (size_t)(msg - srv) - 2;
		CHECK(was_judged(n_judged, at, srv + at, mlen + 2));
	}
	return 0;
}
