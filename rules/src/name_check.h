/* SPDX-License-Identifier: MIT */
/*
 * Internal: the domain-name rules of egw_domain_check on a counted string,
 * shared by the policy check and the wire decoders (SNI, HTTP Host).
 */
#ifndef EGW_NAME_CHECK_H
#define EGW_NAME_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Check s[0..len) (no NUL needed; one trailing dot allowed). Returns 0, or -1
 * and, when why is not NULL, a reason naming the bad label (thread-local
 * buffer, valid until the next call in this thread). When numeric_tld is
 * false a name whose last label is all digits (an IPv4 address) is refused.
 */
int egw_name_check(const char *s, size_t len, bool numeric_tld, const char **why);

static inline char egw_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

#endif
