/* SPDX-License-Identifier: MIT */
/* DNS over TCP: where the client's messages start, and whole-message runs. */
#include <stdbool.h>
#include <string.h>

#include <egw/dns_stream.h>

int egw_dns_stream_start(struct egw_dns_stream *s, uint32_t isn)
{
	if (s->known == 2)
		return EGW_DNSS_NOT_BOUNDARY;
	memset(s, 0, sizeof(*s));
	s->known = 1;
	s->next = isn + 1;   /* the SYN takes one sequence number */
	return 0;
}

int egw_dns_stream_next(const uint8_t *payload, size_t len, size_t *off,
			const uint8_t **msg, size_t *mlen)
{
	size_t o = *off;

	if (o >= len)
		return 0;
	if (len - o < 2)
		return -1;
	size_t m = (size_t)payload[o] << 8 | payload[o + 1];
	if (m > len - o - 2)
		return -1;
	*msg = payload + o + 2;
	*mlen = m;
	*off = o + 2 + m;
	return 1;
}

int egw_dns_stream_check(const struct egw_dns_stream *s, uint32_t seq,
			 const uint8_t *payload, size_t len)
{
	/* Offsets (from seq, ascending, inside the payload) of the recorded
	 * boundaries a retransmission spans: each must start a message. */
	size_t need[EGW_DNS_STREAM_STARTS + 1];
	unsigned n_need = 0;

	if (!len)
		return EGW_DNSS_EMPTY;
	if (s->known && seq != s->next) {
		int i = -1;
		for (unsigned j = 0; j < s->n && j < EGW_DNS_STREAM_STARTS; j++) {
			if (seq == s->next - s->back[j]) {
				i = (int)j;
				break;
			}
		}
		if (i < 0)
			return EGW_DNSS_NOT_BOUNDARY;
		/* The boundaries after seq, up to and including next: the
		 * newer starts (j < i), then next itself. */
		size_t span = s->back[i];
		bool ends_at_boundary = false;
		for (int j = i - 1; j >= -1 && !ends_at_boundary; j--) {
			size_t o = j >= 0 ? span - s->back[j] : span;
			if (o < len)
				need[n_need++] = o;
			else if (o == len)
				ends_at_boundary = true;
			else
				return EGW_DNSS_MISALIGNED;   /* ends inside what it repeats */
		}
	}
	size_t off = 0;
	unsigned count = 0, k = 0;
	const uint8_t *msg;
	size_t mlen;
	int rc;
	while ((rc = egw_dns_stream_next(payload, len, &off, &msg, &mlen)) == 1) {
		if (++count > EGW_DNS_STREAM_MAX_MSGS)
			return EGW_DNSS_TOO_MANY;
		if (k < n_need && need[k] < off)
			return EGW_DNSS_MISALIGNED;   /* a message straddles one */
		if (k < n_need && need[k] == off)
			k++;
	}
	if (rc < 0)
		return EGW_DNSS_PARTIAL;
	return (int)count;
}

/* Every recorded start moves grow bytes further back; then newest (the
 * distance of the newest start) goes first. Starts more than 65535 bytes
 * back, and the oldest beyond EGW_DNS_STREAM_STARTS, are forgotten. */
static void push(struct egw_dns_stream *s, size_t grow, size_t newest)
{
	unsigned n = s->n < EGW_DNS_STREAM_STARTS ? s->n : EGW_DNS_STREAM_STARTS;

	for (unsigned j = 0; j < n; j++) {
		size_t v = s->back[j] + grow;
		if (v > UINT16_MAX) {
			n = j;
			break;
		}
		s->back[j] = (uint16_t)v;
	}
	if (newest > UINT16_MAX) {
		s->n = 0;
		return;
	}
	if (n == EGW_DNS_STREAM_STARTS)
		n--;
	memmove(&s->back[1], &s->back[0], n * sizeof(s->back[0]));
	s->back[0] = (uint16_t)newest;
	s->n = (uint8_t)(n + 1);
}

void egw_dns_stream_accept(struct egw_dns_stream *s, uint32_t seq, size_t len)
{
	if (!len)
		return;
	if (!s->known) {
		s->known = 2;
		s->n = 0;
		s->next = seq + (uint32_t)len;
		push(s, 0, len);
		return;
	}
	s->known = 2;
	if (seq == s->next) {
		s->next += (uint32_t)len;
		push(s, len, len);
		return;
	}
	/* A retransmission: what it carries past next is new, and next (a
	 * message boundary in it) becomes the start of that part. */
	size_t span = s->next - seq;
	if (len > span) {
		size_t grow = len - span;
		s->next += (uint32_t)grow;
		push(s, grow, grow);
	}
}

const char *egw_dns_stream_strerror(int err)
{
	switch (err) {
	case EGW_DNSS_PARTIAL:
		return "the segment ends inside a DNS message (a message split over segments)";
	case EGW_DNSS_NOT_BOUNDARY:
		return "the segment does not start where a DNS message of the stream starts";
	case EGW_DNSS_MISALIGNED:
		return "a retransmission whose DNS messages do not end where the segments it repeats did";
	case EGW_DNSS_TOO_MANY:
		return "more DNS messages in one segment than are judged";
	case EGW_DNSS_EMPTY:
		return "no payload";
	default:
		return err >= 0 ? "whole DNS messages" : "unknown error";
	}
}
