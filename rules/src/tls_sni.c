/* SPDX-License-Identifier: MIT */
/*
 * TLS ClientHello server_name: see egw/tls_sni.h.
 *
 * The ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2) may be fragmented over
 * any number of handshake records (RFC 8446 5.1), so the parser reads it
 * through a cursor that steps over record headers as it goes: no copy, no
 * limit on the number of records (tiny-record fragmentation is a known way
 * to slip past middleboxes). Every length is checked against the length
 * that encloses it: record, handshake message, extension block, extension,
 * server_name list, name. The whole ClientHello must be present for an
 * answer (FOUND or ABSENT); a duplicate server_name extension or host_name
 * entry is MALFORMED, since two middleboxes could disagree on which counts.
 */
#include <egw/tls_sni.h>

#include <stdbool.h>
#include <string.h>

#include "name_check.h"

#define REC_HANDSHAKE 0x16 /* egw_tls_sni_may_start */
#define HS_CLIENT_HELLO 1
#define REC_MAX 16384 /* TLSPlaintext.length limit */
#define EXT_SERVER_NAME 0
#define SNI_HOST_NAME 0

struct rd {
	const uint8_t *d;
	size_t len;
	size_t p;       /* physical offset of the next byte */
	size_t rec_end; /* physical end of the current record's payload */
	size_t lp;      /* logical offset in the handshake stream */
};

/* Make at least one byte of handshake payload readable at r->p. */
static int avail(struct rd *r)
{
	if (r->p == r->rec_end) {
		/* next record: a handshake record, its header complete */
		const uint8_t *h = r->d + r->p;
		size_t have = r->len - r->p;
		if ((have >= 1 && h[0] != REC_HANDSHAKE) || (have >= 2 && h[1] != 3))
			return EGW_SNI_MALFORMED; /* hello interrupted */
		if (have < 5)
			return EGW_SNI_INCOMPLETE;
		size_t rl = (size_t)h[3] << 8 | h[4];
		if (rl == 0 || rl > REC_MAX)
			return EGW_SNI_MALFORMED;
		r->p += 5;
		r->rec_end = r->p + rl;
	}
	if (r->p >= r->len)
		return EGW_SNI_INCOMPLETE;
	return 0;
}

/* Read n (<= 3) bytes big-endian into *v. */
static int get(struct rd *r, unsigned n, size_t *v)
{
	*v = 0;
	while (n--) {
		int e = avail(r);
		if (e)
			return e;
		*v = *v << 8 | r->d[r->p++];
		r->lp++;
	}
	return 0;
}

/* Skip n bytes, or copy them to dst when dst is not NULL. */
static int take(struct rd *r, size_t n, uint8_t *dst)
{
	while (n) {
		int e = avail(r);
		if (e)
			return e;
		size_t chunk = r->rec_end - r->p;
		if (chunk > r->len - r->p)
			chunk = r->len - r->p;
		if (chunk > n)
			chunk = n;
		if (dst) {
			memcpy(dst, r->d + r->p, chunk);
			dst += chunk;
		}
		r->p += chunk;
		r->lp += chunk;
		n -= chunk;
	}
	return 0;
}

#define TRY(x) do { int e_ = (x); if (e_) return e_; } while (0)

/* The server_name extension body, ext_len bytes: RFC 6066 section 3. */
static int server_name(struct rd *r, size_t ext_len, char *name, size_t *name_len)
{
	size_t list_len;
	if (ext_len < 2)
		return EGW_SNI_MALFORMED;
	TRY(get(r, 2, &list_len));
	if (list_len != ext_len - 2 || list_len < 3)
		return EGW_SNI_MALFORMED;
	size_t end = r->lp + list_len;
	bool have = false;
	while (r->lp < end) {
		size_t type, n;
		if (end - r->lp < 3)
			return EGW_SNI_MALFORMED;
		TRY(get(r, 1, &type));
		TRY(get(r, 2, &n));
		if (n > end - r->lp)
			return EGW_SNI_MALFORMED;
		if (type != SNI_HOST_NAME) {
			TRY(take(r, n, NULL));
			continue;
		}
		if (have || n == 0 || n > 255)
			return EGW_SNI_MALFORMED;
		TRY(take(r, n, (uint8_t *)name));
		*name_len = n;
		have = true;
	}
	return have ? 0 : EGW_SNI_MALFORMED;
}

static int client_hello(struct rd *r, char *name, size_t *name_len)
{
	size_t v, n;
	TRY(get(r, 1, &v));
	if (v != HS_CLIENT_HELLO)
		return EGW_SNI_NOT_TLS;
	TRY(get(r, 3, &n));
	const size_t end = r->lp + n;
	/* legacy_version, random */
	if (n < 2 + 32 + 1)
		return EGW_SNI_MALFORMED;
	TRY(get(r, 2, &v));
	if (v >> 8 != 3)
		return EGW_SNI_MALFORMED;
	TRY(take(r, 32, NULL));
	/* legacy_session_id <0..32> */
	TRY(get(r, 1, &v));
	if (v > 32 || v > end - r->lp)
		return EGW_SNI_MALFORMED;
	TRY(take(r, v, NULL));
	/* cipher_suites <2..2^16-2> */
	if (end - r->lp < 2)
		return EGW_SNI_MALFORMED;
	TRY(get(r, 2, &v));
	if (v < 2 || v % 2 || v > end - r->lp)
		return EGW_SNI_MALFORMED;
	TRY(take(r, v, NULL));
	/* legacy_compression_methods <1..2^8-1> */
	if (end - r->lp < 1)
		return EGW_SNI_MALFORMED;
	TRY(get(r, 1, &v));
	if (v < 1 || v > end - r->lp)
		return EGW_SNI_MALFORMED;
	TRY(take(r, v, NULL));
	if (r->lp == end)
		return EGW_SNI_ABSENT; /* no extensions at all (TLS 1.0 style) */
	/* extensions <8..2^16-1>: exactly the rest of the message */
	if (end - r->lp < 2)
		return EGW_SNI_MALFORMED;
	TRY(get(r, 2, &v));
	if (v != end - r->lp)
		return EGW_SNI_MALFORMED;
	bool have = false;
	while (r->lp < end) {
		size_t type, len;
		if (end - r->lp < 4)
			return EGW_SNI_MALFORMED;
		TRY(get(r, 2, &type));
		TRY(get(r, 2, &len));
		if (len > end - r->lp)
			return EGW_SNI_MALFORMED;
		if (type != EXT_SERVER_NAME) {
			TRY(take(r, len, NULL));
			continue;
		}
		if (have)
			return EGW_SNI_MALFORMED;
		size_t ext_end = r->lp + len;
		TRY(server_name(r, len, name, name_len));
		if (r->lp != ext_end)
			return EGW_SNI_MALFORMED;
		have = true;
	}
	return have ? EGW_SNI_FOUND : EGW_SNI_ABSENT;
}

/*
 * The ClientHello behind a first record header that may be TLS. Out of
 * line: a stream that is not TLS (most are told by their first byte) is
 * turned away by egw_tls_sni without setting up this frame (name buffer,
 * saved registers).
 */
static __attribute__((noinline)) int sni_parse(const uint8_t *data, size_t len,
					       char *out, size_t cap)
{
	struct rd r = { .d = data, .len = len };
	char name[256];
	size_t n = 0;
	int rc = client_hello(&r, name, &n);
	if (rc != EGW_SNI_FOUND)
		return rc;
	if (egw_name_check(name, n, false, NULL) < 0)
		return EGW_SNI_MALFORMED;
	if (name[n - 1] == '.')
		n--; /* RFC 6066 forbids it; the name is the same without */
	if (n + 1 > cap)
		return EGW_SNI_MALFORMED;
	for (size_t i = 0; i < n; i++)
		out[i] = egw_lower(name[i]);
	out[n] = '\0';
	return EGW_SNI_FOUND;
}

int egw_tls_sni(const uint8_t *data, size_t len, char *out, size_t cap)
{
	if (cap)
		out[0] = '\0';
	/* the first record header decides whether this is TLS at all */
	if (len >= 1 && !egw_tls_sni_may_start(data[0]))
		return EGW_SNI_NOT_TLS;
	if (len >= 2 && data[1] != 3)
		return EGW_SNI_NOT_TLS;
	if (len >= 5) {
		size_t rl = (size_t)data[3] << 8 | data[4];
		if (rl == 0 || rl > REC_MAX)
			return EGW_SNI_NOT_TLS;
	}
	return sni_parse(data, len, out, cap);
}
