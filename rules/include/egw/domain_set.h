/* SPDX-License-Identifier: MIT */
/*
 * A set of domain names with suffix semantics: "qq.com" matches "qq.com" and
 * "mail.qq.com", never "notqq.com". Each domain carries a value (a category
 * index); a lookup returns the distinct values of every domain that is the
 * name itself or one of its parent domains. Case-insensitive; one trailing
 * dot ignored.
 *
 * Build once (add..., then freeze), then look up from any number of threads
 * without locks. Lookups are bounds-checked and never allocate.
 */
#ifndef EGW_DOMAIN_SET_H
#define EGW_DOMAIN_SET_H

#include <stddef.h>
#include <stdint.h>

struct egw_domain_set;

struct egw_domain_set *egw_domain_set_new(void); /* NULL, errno ENOMEM */
void egw_domain_set_free(struct egw_domain_set *s);
/* 0; -EINVAL for a name that is not a valid domain (why set); -ENOMEM;
 * -EBUSY after freeze. */
int egw_domain_set_add(struct egw_domain_set *s, const char *domain,
		       uint32_t value, const char **why);
int egw_domain_set_freeze(struct egw_domain_set *s);
/* Writes up to max distinct values (ascending) into out; returns how many
 * matched in all (may exceed max). name need not be NUL-terminated. */
size_t egw_domain_set_match(const struct egw_domain_set *s, const char *name,
			    size_t len, uint32_t *out, size_t max);

/* Validate a domain as written in a policy: labels of [a-z0-9-_] 1..63
 * (letters in either case), total <= 253 (one trailing dot ignored), not
 * starting/ending with '-'; a last label of only digits (an IP address) and
 * "*." wildcards are refused. 0, or -1 with why (plain English naming the bad
 * label; a constant or a thread-local buffer valid until this thread's next
 * call). why may be NULL. Thread-safe. */
int egw_domain_check(const char *domain, const char **why);

#endif
