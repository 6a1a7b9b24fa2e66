/* SPDX-License-Identifier: MIT */
/*
 * DNS over TCP (RFC 7766) as both back ends judge it: the client's side of
 * a TCP/53 connection is a stream of messages, each a two-byte length and
 * the message. A client segment is judged only when it is a run of whole
 * messages that starts where a message of the stream starts; then every
 * message in it is judged. Anything else (a query split over segments, a
 * segment starting inside a message, out of order, or retransmitted with
 * other message boundaries) is refused by the caller: no name reaches the
 * resolver without being judged, and no reassembly is needed.
 *
 * Where messages start is known from the stream itself: struct
 * egw_dns_stream remembers, per connection, the client sequence number just
 * past the last byte let through (set from the SYN's ISN + 1, or from the
 * first payload segment when the handshake was not seen) and where the last
 * EGW_DNS_STREAM_STARTS segments let through started. A segment is at a
 * message boundary when it starts at `next` (new data) or at one of those
 * starts (a retransmission). A retransmission is judged again on its own
 * bytes, and must have a message boundary at every recorded segment start
 * and at `next` that it spans, and end at one of them or past `next`: so
 * the receiver, whichever copy of each segment it keeps, reads the same
 * messages that were judged. (After a lost state, e.g. the flow entry was
 * evicted and the next segment is taken as the stream's start, this
 * guarantee holds from that segment on only.)
 *
 * Pure, no allocation, thread-safe (the caller owns each struct).
 * Sequence numbers are compared modulo 2^32.
 */
#ifndef EGW_DNS_STREAM_H
#define EGW_DNS_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* Segment starts remembered for retransmissions. */
#define EGW_DNS_STREAM_STARTS 5
/* Most messages judged in one segment; more is refused. A 1500-byte
 * segment holds at most 76 of the shortest queries (for the root). */
#define EGW_DNS_STREAM_MAX_MSGS 64

/* Per connection; all zero (memset) is "nothing known yet". */
struct egw_dns_stream {
	uint32_t next;       /* client seq just past the last byte let through */
	/* next - start of the last segments let through, newest first
	 * (ascending); a start more than 65535 bytes back is forgotten */
	uint16_t back[EGW_DNS_STREAM_STARTS];
	uint8_t n;           /* valid entries of back */
	uint8_t known;       /* 0: nothing known; 1: next from the SYN, no data
				yet; 2: data let through */
};
_Static_assert(sizeof(struct egw_dns_stream) == 16, "egw_dns_stream: 16 bytes");

enum egw_dns_stream_err {
	EGW_DNSS_OK = 0,
	EGW_DNSS_PARTIAL = -1,      /* the payload ends inside a message */
	EGW_DNSS_NOT_BOUNDARY = -2, /* seq is not where a message starts */
	EGW_DNSS_MISALIGNED = -3,   /* a retransmission with other boundaries */
	EGW_DNSS_TOO_MANY = -4,     /* more than EGW_DNS_STREAM_MAX_MSGS */
	EGW_DNSS_EMPTY = -5,        /* no payload */
};

/*
 * The client's SYN (ISN isn): its next byte is isn + 1, and the recorded
 * starts are forgotten. 0; or EGW_DNSS_NOT_BOUNDARY (s unchanged) when data
 * was already let through on this stream: a SYN there either opens a new
 * connection on the same ports before the gateway forgot the old one, or
 * tries to move the stream's start under the resolver's feet, and the
 * gateway cannot tell which (the caller refuses it).
 */
int egw_dns_stream_start(struct egw_dns_stream *s, uint32_t isn);

/*
 * May the client segment at seq carrying payload[0..len) be judged? Returns
 * the number of messages in it (1..EGW_DNS_STREAM_MAX_MSGS), or enum
 * egw_dns_stream_err (< 0). Does not change s. When nothing is known yet,
 * any seq is taken as a message boundary.
 */
int egw_dns_stream_check(const struct egw_dns_stream *s, uint32_t seq,
			 const uint8_t *payload, size_t len);

/* The segment that egw_dns_stream_check accepted was let through (all its
 * messages allowed, or punted): remember it. */
void egw_dns_stream_accept(struct egw_dns_stream *s, uint32_t seq, size_t len);

/*
 * The message at *off of payload[0..len): 1 with *msg, *mlen (after the
 * length) and *off past it; 0 at the end (*off == len); -1 when the rest is
 * not one whole message (*off unchanged).
 */
int egw_dns_stream_next(const uint8_t *payload, size_t len, size_t *off,
			const uint8_t **msg, size_t *mlen);

/* "the segment ends inside a message", ...; never NULL. */
const char *egw_dns_stream_strerror(int err);

#endif
