/* SPDX-License-Identifier: MIT */
/*
 * DNS query decoding and the gateway's own answers: see egw/dns_msg.h.
 * Wire format: RFC 1035 section 4.
 */
#include <egw/dns_msg.h>

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "name_check.h"

#define HDR_LEN 12
#define QR 0x8000u
#define OPCODE_MASK 0x7800u
#define RD 0x0100u
#define RA 0x0080u
#define NAME_WIRE_MAX 255 /* RFC 1035 2.3.4: octets, length bytes included */

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Filled once (tables_fill): label_byte[c] is c lower-cased when c may
 * appear in a label of a name we decode, else 0. Allowed: printable ASCII
 * other than the dot (it would change the presentation form's labels), the
 * backslash and the space. clog2c[c] is c * log2(c) for every count a name
 * can reach (a name has at most 253 characters): the entropy of every query
 * the fast path sees is worked out from these, without a log2 per distinct
 * character.
 */
static uint8_t label_byte[256];
static double clog2c[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_fill(void)
{
	for (unsigned c = 1; c < 256; c++)
		clog2c[c] = c * log2((double)c);
	for (unsigned c = 0x21; c < 0x7f; c++)
		if (c != '.' && c != '\\')
			label_byte[c] = (uint8_t)egw_lower((char)c);
}

/* The entropy from the counts of the nseen distinct bytes seen[] (in the
 * order first seen) of n counted bytes; n > 0, counts <= 255. */
static double entropy_counts(const uint8_t *count, const unsigned char *seen, unsigned nseen,
			     size_t n)
{
	double sum = 0.0;
	for (unsigned k = 0; k < nseen; k++)
		sum += clog2c[count[seen[k]]];
	return clog2c[n] / (double)n - sum / (double)n;
}

/* An error after out bytes of the name: q->qname ends there (as the name
 * read so far), the other fields as set so far. */
static int name_error(struct egw_dns_query *q, size_t out, int err)
{
	q->qname[out] = '\0';
	return err;
}

/*
 * One pass over the question's labels: each byte checked, lower-cased and
 * copied by one table read, and counted for the entropy (the counts and
 * their order are those egw_dns_entropy finds in the decoded name, so the
 * value is the same to the bit). The result's fields are set one by one
 * (no clearing of the whole structure): qname holds the name read so far,
 * NUL-terminated, whatever the outcome.
 */
int egw_dns_decode_query(const uint8_t *msg, size_t len, struct egw_dns_query *q)
{
	uint8_t count[128];   /* label bytes are ASCII (label_byte) */
	unsigned char seen[256];
	unsigned nseen = 0;

	pthread_once(&tables_once, tables_fill);
	q->id = q->flags = q->qdcount = q->qtype = q->qclass = 0;
	q->qname[0] = '\0';
	q->qname_len = 0;
	q->labels = q->max_label = 0;
	q->entropy_bits = 0.0;
	q->question_end = 0;
	if (len < HDR_LEN)
		return EGW_DNS_TRUNCATED;
	q->id = get16(msg);
	q->flags = get16(msg + 2);
	q->qdcount = get16(msg + 4);
	if ((q->flags & QR) || (q->flags & OPCODE_MASK))
		return EGW_DNS_NOT_QUERY;
	if (q->qdcount != 1)
		return EGW_DNS_NO_QUESTION;
	memset(count, 0, sizeof(count));
	size_t off = HDR_LEN, out = 0;
	for (;;) {
		if (off >= len)
			return name_error(q, out, EGW_DNS_TRUNCATED);
		uint8_t l = msg[off];
		if (l & 0xc0)
			return name_error(q, out, EGW_DNS_BAD_NAME); /* pointer (0xc0), 0x40, 0x80 */
		if (off - HDR_LEN + 1 + l > NAME_WIRE_MAX)
			return name_error(q, out, EGW_DNS_BAD_NAME);
		off++;
		if (l == 0)
			break;
		if (l > len - off)
			return name_error(q, out, EGW_DNS_TRUNCATED);
		if (out)
			q->qname[out++] = '.';
		const uint8_t *lab = msg + off;
		char *dst = q->qname + out;
		for (unsigned i = 0; i < l; i++) {
			uint8_t c = label_byte[lab[i]];
			if (!c)
				return name_error(q, out + i, EGW_DNS_BAD_NAME);
			dst[i] = (char)c;
			/* a byte's first time adds it to seen (no branch) */
			seen[nseen] = c;
			nseen += count[c]++ == 0;
		}
		out += l;
		off += l;
		q->labels++;
		if (l > q->max_label)
			q->max_label = l;
	}
	if (len - off < 4)
		return name_error(q, out, EGW_DNS_TRUNCATED);
	q->qtype = get16(msg + off);
	q->qclass = get16(msg + off + 2);
	q->question_end = off + 4;
	q->qname[out] = '\0';
	q->qname_len = out;
	/* the bytes counted: the name's but its dots */
	size_t n = out - (q->labels ? q->labels - 1 : 0);
	q->entropy_bits = n ? entropy_counts(count, seen, nseen, n) : 0.0;
	return EGW_DNS_OK;
}

const char *egw_dns_strerror(int err)
{
	switch (err) {
	case EGW_DNS_OK:
		return "ok";
	case EGW_DNS_TRUNCATED:
		return "message ends inside its header or question";
	case EGW_DNS_NOT_QUERY:
		return "not a standard query (QR set or opcode not QUERY)";
	case EGW_DNS_NO_QUESTION:
		return "question count is not 1";
	case EGW_DNS_BAD_NAME:
		return "bad question name (compression pointer, reserved label "
		       "type, name over 255 bytes, or a byte not allowed in a name)";
	default:
		return "unknown DNS decoding error";
	}
}

double egw_dns_entropy(const char *s, size_t len)
{
	/* H = -sum(c/n * log2(c/n)) = log2(n) - sum(c * log2(c)) / n over the
	 * counts c of each distinct byte, n the bytes counted. */
	uint8_t count[256];
	unsigned char seen[256];
	unsigned nseen = 0;
	size_t n = 0;

	pthread_once(&tables_once, tables_fill);
	if (len > 255) {
		/* Not a name (the decoder never gives one this long): the
		 * same formula, the slow way. */
		size_t big[256] = { 0 };
		for (size_t i = 0; i < len; i++)
			if (s[i] != '.')
				big[(unsigned char)s[i]]++, n++;
		if (n == 0)
			return 0.0;
		double sum = 0.0;
		for (unsigned c = 0; c < 256; c++)
			if (big[c])
				sum += (double)big[c] * log2((double)big[c]);
		return log2((double)n) - sum / (double)n;
	}
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.')
			continue;
		if (count[c]++ == 0)
			seen[nseen++] = c;
		n++;
	}
	if (n == 0)
		return 0.0;
	return entropy_counts(count, seen, nseen, n);
}

int egw_dns_build_response(const uint8_t *msg, size_t len, unsigned rcode,
			   uint8_t *out, size_t cap)
{
	struct egw_dns_query q;
	if (rcode > 15 || egw_dns_decode_query(msg, len, &q) != EGW_DNS_OK)
		return -1;
	if (q.question_end > cap)
		return -1;
	/* the question as sent (its case too: 0x20 randomisation), nothing
	 * after it (no EDNS OPT record: we do not speak EDNS) */
	memmove(out + HDR_LEN, msg + HDR_LEN, q.question_end - HDR_LEN);
	put16(out, q.id);
	put16(out + 2, (uint16_t)(QR | (q.flags & (OPCODE_MASK | RD)) | RA | rcode));
	put16(out + 4, 1);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	return (int)q.question_end;
}

const char *egw_dns_type_name(uint16_t qtype)
{
	switch (qtype) {
	case 1: return "A";
	case 2: return "NS";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 10: return "NULL";
	case 12: return "PTR";
	case 13: return "HINFO";
	case 15: return "MX";
	case 16: return "TXT";
	case 28: return "AAAA";
	case 33: return "SRV";
	case 35: return "NAPTR";
	case 39: return "DNAME";
	case 41: return "OPT";
	case 43: return "DS";
	case 44: return "SSHFP";
	case 46: return "RRSIG";
	case 47: return "NSEC";
	case 48: return "DNSKEY";
	case 50: return "NSEC3";
	case 52: return "TLSA";
	case 64: return "SVCB";
	case 65: return "HTTPS";
	case 99: return "SPF";
	case 251: return "IXFR";
	case 252: return "AXFR";
	case 255: return "ANY";
	case 256: return "URI";
	case 257: return "CAA";
	default: return NULL;
	}
}

const char *egw_dns_rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
		"NOTZONE",
	};
	if (rcode < 0 || rcode >= (int)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[rcode];
}
