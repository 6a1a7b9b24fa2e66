/* SPDX-License-Identifier: MIT */
/*
 * DNS query decoding for matching and tunnelling detection, and the
 * gateway's own NXDOMAIN answers. Every byte read is bounds-checked;
 * compression pointers in the question are refused (a query has no reason
 * to use them). Thread-safe, no allocation.
 */
#ifndef EGW_DNS_MSG_H
#define EGW_DNS_MSG_H

#include <stddef.h>
#include <stdint.h>

#define EGW_DNS_NAME_MAX 255   /* presentation form, without trailing dot */

struct egw_dns_query {
	uint16_t id;
	uint16_t flags;          /* header flags word, host order */
	uint16_t qdcount;
	uint16_t qtype, qclass;
	char qname[EGW_DNS_NAME_MAX + 1]; /* lower case, dotted, no trailing dot;
					     "" for the root */
	size_t qname_len;
	unsigned labels;
	unsigned max_label;      /* longest label, bytes */
	double entropy_bits;     /* Shannon entropy per character of qname
				    (dots excluded) */
	size_t question_end;     /* offset just past the question */
};

enum egw_dns_err {
	EGW_DNS_OK = 0,
	EGW_DNS_TRUNCATED = -1,  /* shorter than the header or the question */
	EGW_DNS_NOT_QUERY = -2,  /* QR set, or opcode not QUERY */
	EGW_DNS_NO_QUESTION = -3,/* qdcount != 1 */
	EGW_DNS_BAD_NAME = -4,   /* compression pointer, label > 63, name > 255,
				    bad label type, a byte in a label that is
				    not printable ASCII, or '.', '\\', ' ' */
};

/* Decode a query message (UDP payload, or a TCP message after its 2-byte
 * length). Returns enum egw_dns_err. */
int egw_dns_decode_query(const uint8_t *msg, size_t len, struct egw_dns_query *q);
const char *egw_dns_strerror(int err);

/* Shannon entropy, bits per character, of s[0..len) ignoring '.'. */
double egw_dns_entropy(const char *s, size_t len);

/* Write into out a response to the query msg[0..len) with rcode (3 =
 * NXDOMAIN; 0..15): header with the query's id, QR and RA set, RD and the
 * opcode copied, the question echoed byte for byte (its case kept), no
 * records (an EDNS OPT record in the query is not echoed). Returns its
 * length, or -1 when cap is too small, rcode > 15 or msg is not a decodable
 * query; nothing is written past cap. out may be msg itself (in place). */
int egw_dns_build_response(const uint8_t *msg, size_t len, unsigned rcode,
			   uint8_t *out, size_t cap);

/* "A", "AAAA", "TXT", ... or NULL; for logs. */
const char *egw_dns_type_name(uint16_t qtype);
/* "NOERROR", "SERVFAIL", "NXDOMAIN", ... (0..10) or NULL; for logs. */
const char *egw_dns_rcode_name(int rcode);

#endif
