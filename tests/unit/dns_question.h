/* SPDX-License-Identifier: MIT */
/*
 * Test helper shared by the control and dataplane unit tests: a DNS query
 * message (RFC 1035 4.1: header with RD and one question, class IN) for a
 * dotted name, as a stub resolver sends it. Header-only, no allocation.
 */
#ifndef EGW_TEST_DNS_QUESTION_H
#define EGW_TEST_DNS_QUESTION_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The query (id, name, qtype) into b (at least 18 + strlen(name) bytes);
 * returns its length. name has no trailing dot and labels of 1..63. */
static inline size_t tq_dns_query(uint8_t *b, uint16_t id, const char *name, uint16_t qtype)
{
	size_t n = 12;

	memset(b, 0, 12);
	b[0] = (uint8_t)(id >> 8);
	b[1] = (uint8_t)id;
	b[2] = 0x01;   /* RD */
	b[5] = 1;      /* one question */
	for (const char *s = name; *s;) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		b[n++] = (uint8_t)l;
		memcpy(b + n, s, l);
		n += l;
		s += l + (dot ? 1 : 0);
	}
	b[n++] = 0;    /* the root */
	b[n++] = (uint8_t)(qtype >> 8);
	b[n++] = (uint8_t)qtype;
	b[n++] = 0;    /* class IN */
	b[n++] = 1;
	return n;
}

#endif
