/* SPDX-License-Identifier: MIT */
/* The behaviour log's line format, chain MAC, key, names and times. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but
 * kept (3.x still exports them): they are the only libcrypto SHA-256 whose
 * state is a plain struct, copied per line without allocating. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "elog_format.h"

/*
 * HMAC-SHA256 (RFC 2104) from libcrypto's SHA-256 (SHA-NI where the CPU has
 * it) with the keyed inner and outer states computed once: per line two
 * struct copies and the hashing itself. EVP contexts would cost a malloc,
 * a free and a cleanse per copy (EVP_MD_CTX_copy_ex, or the same inside
 * EVP_MAC/HMAC re-initialisation): about 5 % of the writer's time
 * (bench/log.md). unit.control.test_elog_mac checks it against EVP_Q_mac.
 */
struct elog_mac {
	SHA256_CTX inner, outer;
};

struct elog_mac *elog_mac_new(const uint8_t *key)
{
	struct elog_mac *m = calloc(1, sizeof(*m));
	uint8_t ipad[64], opad[64];
	int ok;

	if (!m)
		return NULL;
	/* the key (32 bytes) is shorter than the block: padded with zeros */
	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (size_t i = 0; i < ELOG_KEY_LEN; i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
	ok = SHA256_Init(&m->inner) && SHA256_Update(&m->inner, ipad, sizeof(ipad)) &&
	     SHA256_Init(&m->outer) && SHA256_Update(&m->outer, opad, sizeof(opad));
	explicit_bzero(ipad, sizeof(ipad));
	explicit_bzero(opad, sizeof(opad));
	if (!ok) {
		elog_mac_free(m);
		errno = EINVAL;
		return NULL;
	}
	return m;
}

void elog_mac_free(struct elog_mac *m)
{
	if (!m)
		return;
	explicit_bzero(m, sizeof(*m));  /* the keyed states stand for the key */
	free(m);
}

int elog_mac_chain(struct elog_mac *m, const uint8_t prev[ELOG_CHAIN_LEN],
		   const void *data, size_t len, uint8_t out[ELOG_CHAIN_LEN])
{
	SHA256_CTX c = m->inner;
	uint8_t ih[ELOG_CHAIN_LEN];
	int ok = SHA256_Update(&c, prev, ELOG_CHAIN_LEN) && SHA256_Update(&c, data, len) &&
		 SHA256_Final(ih, &c);

	c = m->outer;
	ok = ok && SHA256_Update(&c, ih, sizeof(ih)) && SHA256_Final(out, &c);
	return ok ? 0 : -1;
}

int elog_key_load(const char *path, bool create, uint8_t key[ELOG_KEY_LEN],
		  char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	/* O_NONBLOCK: a FIFO in its place must not stall the open (fstat
	 * below refuses anything but a regular file) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0 && errno == ENOENT && create) {
		if (getrandom(key, ELOG_KEY_LEN, 0) != ELOG_KEY_LEN) {
			snprintf(err, errlen, "%s: getrandom: %s", path, strerror(errno));
			return -1;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			snprintf(err, errlen, "%s: cannot create key: %s", path, strerror(errno));
			return -1;
		}
		if (write(fd, key, ELOG_KEY_LEN) != ELOG_KEY_LEN || fsync(fd) < 0) {
			snprintf(err, errlen, "%s: cannot write key: %s", path, strerror(errno));
			close(fd);
			unlink(path);
			return -1;
		}
		close(fd);
		return 0;
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open key: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: key is not a regular file", path);
		goto fail;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: key is accessible by group or others (mode %03o); "
			 "it must be 0600", path, (unsigned)(st.st_mode & 0777));
		goto fail;
	}
	if (st.st_size != ELOG_KEY_LEN) {
		snprintf(err, errlen, "%s: key must be %d bytes, is %lld", path,
			 ELOG_KEY_LEN, (long long)st.st_size);
		goto fail;
	}
	n = read(fd, key, ELOG_KEY_LEN);
	if (n != ELOG_KEY_LEN) {
		snprintf(err, errlen, "%s: cannot read key", path);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

void elog_hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int elog_unhex(const char *in, size_t n2, uint8_t *out)
{
	if (n2 % 2)
		return -1;
	for (size_t i = 0; i < n2 / 2; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int elog_line_parse(const char *line, size_t len, struct elog_line *out,
		    const char **why)
{
	const size_t plen = sizeof(ELOG_CHAIN_PREFIX) - 1;
	const size_t slen = sizeof(ELOG_SEQ_PREFIX) - 1;
	const char *suf, *p, *digits;
	size_t body_len;
	uint64_t seq = 0;

	if (len < 2 || line[0] != '{') {
		*why = "not a JSON object line";
		return -1;
	}
	if (len < ELOG_CHAIN_SUFFIX_LEN + slen + 2) {
		*why = "line too short to carry egw_seq and egw_chain";
		return -1;
	}
	body_len = len - ELOG_CHAIN_SUFFIX_LEN;
	suf = line + body_len;
	if (memcmp(suf, ELOG_CHAIN_PREFIX, plen) || suf[plen + ELOG_HEX_LEN] != '"' ||
	    suf[plen + ELOG_HEX_LEN + 1] != '}') {
		*why = "no egw_chain member at the end of the line";
		return -1;
	}
	if (elog_unhex(suf + plen, ELOG_HEX_LEN, out->chain) < 0) {
		*why = "egw_chain is not 64 lower-case hex digits";
		return -1;
	}
	/* digits of egw_seq, backwards from the end of the body */
	p = suf;
	while (p > line && p[-1] >= '0' && p[-1] <= '9' && suf - p < 16)
		p--;
	digits = p;
	if (digits == suf || (size_t)(digits - line) < slen + 1 ||
	    memcmp(digits - slen, ELOG_SEQ_PREFIX, slen)) {
		*why = "no egw_seq member before egw_chain";
		return -1;
	}
	if (*digits == '0') {
		*why = "egw_seq has a leading zero";
		return -1;
	}
	for (p = digits; p < suf; p++)
		seq = seq * 10 + (uint64_t)(*p - '0');
	out->body = line;
	out->body_len = body_len;
	out->seq = seq;
	out->record = len > sizeof(ELOG_RECORD_PREFIX) - 1 &&
		!memcmp(line, ELOG_RECORD_PREFIX, sizeof(ELOG_RECORD_PREFIX) - 1);
	return 0;
}

int64_t elog_day_of_us(int64_t us)
{
	int64_t s = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

/* Days since the epoch <-> civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void elog_day_format(int64_t day, char *buf, size_t cap)
{
	int64_t y;
	unsigned m, d;

	civil_from_days(day, &y, &m, &d);
	/* clamped so that the compiler sees the width is bounded */
	snprintf(buf, cap, "%04u-%02u-%02u", (unsigned)(y < 0 ? 0 : y > 9999 ? 9999 : y),
		 m % 13, d % 32);
}

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

int elog_day_parse(const char *s, int64_t *day)
{
	int y, m, d;

	if (strnlen(s, 11) < 10 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &m) || s[7] != '-' || digits(s + 8, 2, &d))
		return -1;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*day = days_from_civil(y, (unsigned)m, (unsigned)d);
	return 0;
}

int elog_name_parse(const char *name, int64_t *day, enum elog_file_kind *kind)
{
	static const struct { const char *suffix; enum elog_file_kind kind; } k[] = {
		{ ".json", ELOG_F_PLAIN },
		{ ".json.zst", ELOG_F_ZSTD },
		{ ".summary.json", ELOG_F_SUMMARY },
	};

	if (strncmp(name, "eve-", 4) || strnlen(name, ELOG_NAME_MAX) < 14)
		return -1;
	if (elog_day_parse(name + 4, day) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (!strcmp(name + 14, k[i].suffix)) {
			*kind = k[i].kind;
			return 0;
		}
	return -1;
}

void elog_name_format(int64_t day, enum elog_file_kind kind, char *buf, size_t cap)
{
	char d[16];

	elog_day_format(day, d, sizeof(d));
	snprintf(buf, cap, "eve-%s%s", d, kind == ELOG_F_PLAIN ? ".json" :
		 kind == ELOG_F_ZSTD ? ".json.zst" : ".summary.json");
}

void elog_ts_format(int64_t us, char *buf, size_t cap)
{
	int64_t day = elog_day_of_us(us), y;
	int64_t rem = us - day * 86400LL * 1000000;
	unsigned m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, cap, "%04u-%02u-%02uT%02u:%02u:%02u.%06u+00:00",
		 (unsigned)(y < 0 ? 0 : y > 9999 ? 9999 : y), m % 13, d % 32,
		 (unsigned)(rem / 3600000000LL) % 24, (unsigned)(rem / 60000000 % 60),
		 (unsigned)(rem / 1000000 % 60), (unsigned)(rem % 1000000));
}

int elog_ts_parse(const char *s, int64_t *us)
{
	int64_t day;
	int hh = 0, mi = 0, ss = 0, frac = 0, oh = 0, om = 0, sign = 0;
	const char *p;

	if (elog_day_parse(s, &day) < 0)
		return -1;
	p = s + 10;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(p, 2, &hh) || p[2] != ':' || digits(p + 3, 2, &mi))
			return -1;
		p += 5;
		if (*p == ':') {
			if (digits(p + 1, 2, &ss))
				return -1;
			p += 3;
			if (*p == '.') {
				int n = 0;
				p++;
				while (*p >= '0' && *p <= '9') {
					if (n < 6) {
						frac = frac * 10 + (*p - '0');
						n++;
					}
					p++;
				}
				if (!n)
					return -1;
				while (n++ < 6)
					frac *= 10;
			}
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p == '+' ? 1 : -1;
			if (digits(p + 1, 2, &oh))
				return -1;
			p += 3;
			if (*p == ':')
				p++;
			if (digits(p, 2, &om))
				return -1;
			p += 2;
		}
	}
	if (*p || hh > 23 || mi > 59 || ss > 60 || oh > 23 || om > 59)
		return -1;
	*us = ((day * 86400 + hh * 3600 + mi * 60 + ss) -
	       sign * (oh * 3600 + om * 60)) * 1000000LL + frac;
	return 0;
}
