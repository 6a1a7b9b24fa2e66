/* SPDX-License-Identifier: MIT */
/*
 * The behaviour log's on-disk format, shared by the writer (elog.c), the
 * verifier (elog_verify.c), queries and the summaries. docs/behaviour-log.md
 * describes it for people; this header is the code's contract.
 *
 * Every line is one compact JSON object whose two LAST members are
 *     ,"egw_seq":<line number in its file, from 1>,"egw_chain":"<64 hex>"}
 * and chain_n = HMAC-SHA256(key, chain_{n-1} || body_n), where body_n is the
 * line's bytes up to (not including) ,"egw_chain":" . The chain suffix has a
 * fixed length (ELOG_CHAIN_SUFFIX_LEN), so verification strips it and never
 * re-serialises. Line 1 of a file is an egw_file record naming the previous
 * file and carrying its last chain (prev_chain), which links the days.
 *
 * Thread safety: the functions keep no global state; an elog_mac belongs to
 * one thread at a time. Errors: -1 with errno, or a message in *why.
 */
#ifndef EGW_ELOG_FORMAT_H
#define EGW_ELOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELOG_KEY_LEN 32
#define ELOG_CHAIN_LEN 32
#define ELOG_HEX_LEN 64
/* Longest line the writer writes and the readers accept (bytes, no \n). */
#define ELOG_MAX_LINE 65536
/* ,"egw_chain":"<64 hex>"} */
#define ELOG_CHAIN_PREFIX ",\"egw_chain\":\""
#define ELOG_CHAIN_SUFFIX_LEN (sizeof(ELOG_CHAIN_PREFIX) - 1 + ELOG_HEX_LEN + 2)
#define ELOG_SEQ_PREFIX ",\"egw_seq\":"
/* Internal records start with this (event_type is their first member). */
#define ELOG_RECORD_PREFIX "{\"event_type\":\"egw_"
/* File names: eve-YYYY-MM-DD.json[.zst], eve-YYYY-MM-DD.summary.json */
#define ELOG_NAME_MAX 64

struct elog_mac;

/* key: ELOG_KEY_LEN bytes. NULL with errno on failure. */
struct elog_mac *elog_mac_new(const uint8_t *key);
void elog_mac_free(struct elog_mac *m);
/* out = HMAC-SHA256(key, prev || data). 0, or -1 on a libcrypto failure. */
int elog_mac_chain(struct elog_mac *m, const uint8_t prev[ELOG_CHAIN_LEN],
		   const void *data, size_t len, uint8_t out[ELOG_CHAIN_LEN]);

/*
 * Load the key at path (exactly ELOG_KEY_LEN bytes, a regular file not
 * readable or writable by group or others). With create, a missing key is
 * made from getrandom() with mode 0600. 0, or -1 with a message in err.
 */
int elog_key_load(const char *path, bool create, uint8_t key[ELOG_KEY_LEN],
		  char *err, size_t errlen);

void elog_hex(const uint8_t *in, size_t n, char *out); /* writes 2n chars + NUL */
int elog_unhex(const char *in, size_t n2, uint8_t *out); /* n2 hex chars; 0 or -1 */

/* A parsed line (pointers into the caller's buffer). */
struct elog_line {
	const char *body;     /* the hashed bytes: line minus chain suffix */
	size_t body_len;
	uint64_t seq;
	uint8_t chain[ELOG_CHAIN_LEN];
	bool record;          /* an egw_* record (event_type egw_...) */
};

/* Parse one line (len bytes, no newline). 0, or -1 with *why set. */
int elog_line_parse(const char *line, size_t len, struct elog_line *out,
		    const char **why);

/* Days: days since 1970-01-01 (UTC). */
int64_t elog_day_of_us(int64_t us);
/* "YYYY-MM-DD" of a day into buf (>= 11 bytes). */
void elog_day_format(int64_t day, char *buf, size_t cap);
/* Parse "YYYY-MM-DD" (exactly 10 chars); 0 or -1. */
int elog_day_parse(const char *s, int64_t *day);

enum elog_file_kind { ELOG_F_PLAIN, ELOG_F_ZSTD, ELOG_F_SUMMARY };
/* Recognise a log directory entry; 0 and its day/kind, or -1 (not ours). */
int elog_name_parse(const char *name, int64_t *day, enum elog_file_kind *kind);
void elog_name_format(int64_t day, enum elog_file_kind kind, char *buf, size_t cap);

/* ISO 8601 timestamp with microseconds and +00:00, into buf (>= 33 bytes). */
void elog_ts_format(int64_t us, char *buf, size_t cap);
/* Parse an ISO 8601 timestamp ("2026-11-27T10:00:00.123456+08:00", "Z",
 * seconds/fraction/offset optional, date alone = midnight UTC). 0 or -1. */
int elog_ts_parse(const char *s, int64_t *us);

#endif
