/* SPDX-License-Identifier: MIT */
/*
 * TLS ClientHello server_name extraction from the first bytes of a TCP
 * stream (the TLS record(s) carrying the ClientHello). Bounds-checked on
 * every byte; thread-safe; no allocation.
 */
#ifndef EGW_TLS_SNI_H
#define EGW_TLS_SNI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum egw_tls_sni_result {
	EGW_SNI_FOUND = 1,     /* name written to out (lower case, NUL-terminated) */
	EGW_SNI_ABSENT = 0,    /* a complete ClientHello without server_name */
	EGW_SNI_NOT_TLS = -1,  /* not a TLS handshake record / not a ClientHello */
	EGW_SNI_INCOMPLETE = -2, /* ClientHello continues past len */
	EGW_SNI_MALFORMED = -3,  /* lengths inconsistent, bad name */
};

/*
 * out must hold cap >= 256 bytes. data is the start of the TCP stream,
 * reassembled: a ClientHello often spans two segments (post-quantum key
 * shares make it ~1.8 KB), so on INCOMPLETE call again with more of the
 * stream; bound what you buffer (the hello's own length field allows 16 MB).
 * An answer (FOUND/ABSENT) needs the whole ClientHello. The name is checked
 * like egw_domain_check (an IP literal is MALFORMED), lower-cased, one
 * trailing dot dropped; two server_name extensions or two host_names are
 * MALFORMED.
 */
int egw_tls_sni(const uint8_t *data, size_t len, char *out, size_t cap);

/*
 * Whether a stream whose first byte is b may be TLS: only a handshake
 * record (type 22) can carry a ClientHello; egw_tls_sni gives
 * EGW_SNI_NOT_TLS for any data starting with another byte, so a caller may
 * skip the call on that byte.
 */
static inline bool egw_tls_sni_may_start(uint8_t b)
{
	return b == 0x16;
}

#endif
