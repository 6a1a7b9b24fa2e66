/* SPDX-License-Identifier: MIT */
/*
 * Text of an event's fields, shared by the two EVE encoders (event_json.c:
 * jansson objects; event_yajl.c: yajl's streaming generator) so that both
 * write the same bytes. Internal to egw_rules. All thread-safe, no allocation.
 */
#ifndef EGW_EVENT_INT_H
#define EGW_EVENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <egw/event.h>

#define EGW_EV_STR_MAX (4 * 256 + 1)  /* a string field's text, worst case */
#define EGW_EV_TS_MAX 64

/* Field f[0..cap) up to its first NUL (at most 256 bytes) as valid UTF-8 at
 * buf (EGW_EV_STR_MAX bytes), invalid bytes as the text "\xNN"; no NUL
 * written. Returns the length. */
size_t egw_ev_str_text(const char *f, size_t cap, char *buf);
/* The same text without a copy when it can be: returns f itself when the
 * field is ASCII (its text is its bytes), else buf filled by egw_ev_str_text;
 * the length in *len. */
const char *egw_ev_str_view(const char *f, size_t cap, char *buf, size_t *len);
/* Suricata's timestamp at buf (EGW_EV_TS_MAX bytes); returns the length. */
size_t egw_ev_ts_text(uint64_t us, char *buf);
/* AF_INET, AF_INET6 or 0 (no addresses) for ev->family. */
int egw_ev_family(const struct egw_event *ev);
/* Address text at buf (INET6_ADDRSTRLEN bytes, no NUL needed); 0 on error. */
size_t egw_ev_addr_text(int af, const uint8_t *addr, char *buf);
/* "TCP", ..., or the number in num; NULL when p is 0 (no proto member). */
const char *egw_ev_proto_text(uint8_t p, char num[8]);
/* "A", ..., or "TYPE<n>" / "RCODE<n>" in num. */
const char *egw_ev_rrtype_text(uint16_t t, char num[16]);
const char *egw_ev_rcode_text(int16_t r, char num[16]);

#endif
