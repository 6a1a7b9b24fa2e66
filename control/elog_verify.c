/* SPDX-License-Identifier: MIT */
/* Verification of the behaviour log's hash chain: see elog_verify.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "elog_query.h"
#include "elog_reader.h"
#include "elog_verify.h"

#define WINDOW 64

static void say(struct elog_vfile *v, enum elog_severity sev, uint64_t line,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void say(struct elog_vfile *v, enum elog_severity sev, uint64_t line,
		const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sev == ELOG_ERROR)
		v->errors++;
	else
		v->notices++;
	v->report(v->arg, sev, v->name, line, msg);
}

static const char *rec_type(json_t *r)
{
	const char *t = json_string_value(json_object_get(r, "event_type"));
	return t ? t : "";
}

static void check_record(struct elog_vfile *v, uint64_t at, const char *line,
			 size_t len, uint64_t seq, const uint8_t *chain_prev_out)
{
	json_t *r = json_loadb(line, len, 0, NULL);
	const char *t = rec_type(r);
	json_t *b = json_object_get(r, t);
	(void)chain_prev_out;

	if (!r) {
		say(v, ELOG_ERROR, at, "egw record is not valid JSON");
		return;
	}
	if (!strcmp(t, "egw_file")) {
		const char *day = json_string_value(json_object_get(b, "day"));
		const char *pd = json_string_value(json_object_get(b, "prev_day"));
		const char *pc = json_string_value(json_object_get(b, "prev_chain"));
		json_int_t ret = json_integer_value(json_object_get(b, "retention_days"));
		int64_t d;
		if (seq != 1 || at != 1) {
			say(v, ELOG_ERROR, at, "file header in the middle of a file");
		} else if (!day || elog_day_parse(day, &d) < 0 ||
			   (v->day != INT64_MIN && d != v->day)) {
			say(v, ELOG_ERROR, at, "file header names day %s, not this file's",
			    day ? day : "(none)");
		} else {
			v->has_header = true;
			v->prev_day = -1;
			if (pd && elog_day_parse(pd, &v->prev_day) < 0)
				say(v, ELOG_ERROR, at, "bad prev_day in the file header");
			v->retention_days = ret > 0 && ret < 100000 ? (unsigned)ret : 0;
		}
		(void)pc;
	} else if (!strcmp(t, "egw_seal")) {
		json_int_t n = json_integer_value(json_object_get(b, "lines"));
		if ((uint64_t)n + 1 != seq)
			say(v, ELOG_ERROR, at, "seal counts %lld lines but is line %llu",
			    (long long)n, (unsigned long long)seq);
		v->sealed = true;
	} else if (!strcmp(t, "egw_gap")) {
		say(v, ELOG_NOTICE, at, "%lld events were lost by the writer between %s and %s (%s)",
		    (long long)json_integer_value(json_object_get(b, "lost")),
		    json_string_value(json_object_get(b, "from")) ?: "?",
		    json_string_value(json_object_get(b, "to")) ?: "?",
		    json_string_value(json_object_get(b, "error")) ?: "?");
	} else if (!strcmp(t, "egw_repair")) {
		say(v, ELOG_NOTICE, at, "the writer cut a torn line of %lld bytes after line %lld "
		    "(crash while writing) and continued the chain",
		    (long long)json_integer_value(json_object_get(b, "discarded_bytes")),
		    (long long)json_integer_value(json_object_get(b, "after_line")));
	} else {
		say(v, ELOG_ERROR, at, "unknown egw record '%s'", t);
	}
	json_decref(r);
}

/* Find the prev_chain of a header line without trusting anything else. */
static int header_prev_chain(const char *line, size_t len, uint8_t out[ELOG_CHAIN_LEN])
{
	static const char key[] = "\"prev_chain\":\"";
	const char *p = memmem(line, len, key, sizeof(key) - 1);

	if (!p || (size_t)(line + len - p) < sizeof(key) - 1 + ELOG_HEX_LEN)
		return -1;
	return elog_unhex(p + sizeof(key) - 1, ELOG_HEX_LEN, out);
}

void elog_verify_file(struct elog_vfile *v, FILE *f, bool zstd)
{
	struct elog_reader *r = elog_reader_from_file(f, zstd);
	struct win { uint64_t seq; bool verified; uint8_t chain[ELOG_CHAIN_LEN]; }
		win[WINDOW], *slot;
	uint64_t at = 0, expect = 1, alt = 0, next_alt = 0, jumped = 0;
	const char *line, *why;
	size_t len;
	bool complete;
	int rc;

	memset(win, 0, sizeof(win));
	v->prev_day = -1;
	if (!r) {
		say(v, ELOG_ERROR, 0, "cannot read: %s", strerror(errno));
		v->read_error = true;
		return;
	}
	while ((rc = elog_reader_next(r, &line, &len, &complete, &why)) == 1 ||
	       rc == ELOG_READER_SKIPPED) {
		struct elog_line ln;
		uint8_t prev[ELOG_CHAIN_LEN], mac[ELOG_CHAIN_LEN];
		bool have_prev = false, chain_ok, replaces_forgery;

		at++;
		if (rc == ELOG_READER_SKIPPED) {
			/* no line of ours is that long; the lines after it are
			 * still checked (the next one then misses its link) */
			v->lines = at;
			say(v, ELOG_ERROR, at, "%s: inserted or damaged", why);
			continue;
		}
		if (!complete) {
			v->torn = len;
			break;
		}
		v->lines = at;
		if (elog_line_parse(line, len, &ln, &why) < 0) {
			say(v, ELOG_ERROR, at, "not a log line (%s): inserted or damaged", why);
			continue;
		}
		if (v->sealed)
			say(v, ELOG_ERROR, at, "line after the day's seal");
		if (ln.seq == 1) {
			have_prev = header_prev_chain(line, len, prev) == 0;
			if (have_prev)
				memcpy(v->prev_chain, prev, ELOG_CHAIN_LEN);
		} else if (win[(ln.seq - 1) % WINDOW].seq == ln.seq - 1) {
			memcpy(prev, win[(ln.seq - 1) % WINDOW].chain, ELOG_CHAIN_LEN);
			have_prev = true;
		}
		if (have_prev && elog_mac_chain(v->mac, prev, ln.body, ln.body_len, mac) < 0) {
			say(v, ELOG_ERROR, at, "libcrypto failure");
			have_prev = false;
		}
		chain_ok = have_prev && !memcmp(mac, ln.chain, ELOG_CHAIN_LEN);
		slot = &win[ln.seq % WINDOW];
		/* a genuine line after a forged one that took its number */
		replaces_forgery = chain_ok && slot->seq == ln.seq && !slot->verified;
		if (ln.seq == expect) {
			expect++;
		} else if (alt && ln.seq == alt && jumped == ln.seq + 1) {
			/* the line before belongs after this one: swapped */
			say(v, ELOG_ERROR, at, "out of order: carries line number %llu, "
			    "the line before it %llu (lines swapped)",
			    (unsigned long long)ln.seq, (unsigned long long)jumped);
			expect = jumped + 1;
		} else if (alt && ln.seq == alt) {
			expect = ln.seq + 1;  /* the line before was inserted */
		} else if (ln.seq < expect) {
			if (!replaces_forgery)
				say(v, ELOG_ERROR, at, "out of order: carries line number %llu "
				    "(reordered, duplicated or replayed)",
				    (unsigned long long)ln.seq);
		} else {
			say(v, ELOG_ERROR, at, "carries line number %llu where %llu was expected: "
			    "%llu line(s) deleted before this line, or this line was inserted",
			    (unsigned long long)ln.seq, (unsigned long long)expect,
			    (unsigned long long)(ln.seq - expect));
			next_alt = expect;
			jumped = ln.seq;
			expect = ln.seq + 1;
		}
		alt = next_alt;
		next_alt = 0;
		if (have_prev && !chain_ok)
			say(v, ELOG_ERROR, at, "content does not match its chain "
			    "(line changed, forged, or the line before it replaced)");
		slot->seq = ln.seq;
		slot->verified = chain_ok;
		memcpy(slot->chain, ln.chain, ELOG_CHAIN_LEN);
		v->last_seq = ln.seq;
		memcpy(v->last_chain, ln.chain, ELOG_CHAIN_LEN);
		if (v->head_seq && ln.seq == v->head_seq && at == ln.seq) {
			v->head_found = true;
			memcpy(v->head_chain, ln.chain, ELOG_CHAIN_LEN);
		}
		if (ln.record)
			check_record(v, at, line, len, ln.seq, NULL);
		else if (at == 1)
			say(v, ELOG_ERROR, at, "first line is not the file header");
	}
	if (rc < 0) {
		say(v, ELOG_ERROR, v->lines + 1, "%s", why);
		v->read_error = true;
	}
	if (at == 0 && !v->read_error)
		say(v, ELOG_ERROR, 0, "empty file (the header line is missing)");
	elog_reader_close(r);
}

static void print_report(void *arg, enum elog_severity sev, const char *file,
			 uint64_t line, const char *msg)
{
	(void)arg;
	if (line)
		printf("%s:%llu: %s: %s\n", file, (unsigned long long)line,
		       sev == ELOG_ERROR ? "error" : "notice", msg);
	else
		printf("%s: %s: %s\n", file, sev == ELOG_ERROR ? "error" : "notice", msg);
}

struct head {
	bool present, valid;
	int64_t day;
	uint64_t lines;
	uint8_t chain[ELOG_CHAIN_LEN];
};

static void load_head(const char *dir, struct elog_mac *mac, struct head *h)
{
	char path[4096], msg[256];
	json_t *j;
	const char *file, *chain, *m;
	uint8_t zero[ELOG_CHAIN_LEN] = { 0 }, want[ELOG_CHAIN_LEN], got[ELOG_CHAIN_LEN];
	enum elog_file_kind kind;
	int n;

	memset(h, 0, sizeof(*h));
	snprintf(path, sizeof(path), "%s/.head", dir);
	/* opened like the day files: a FIFO there is "present, not valid"
	 * instead of a wait for ever */
	const char *why;
	FILE *f = elog_file_open(path, &why);
	h->present = f != NULL || errno != ENOENT;
	j = f ? json_loadf(f, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	if (f)
		fclose(f);
	if (!j)
		return;
	h->present = true;
	file = json_string_value(json_object_get(j, "file"));
	chain = json_string_value(json_object_get(j, "chain"));
	m = json_string_value(json_object_get(j, "mac"));
	h->lines = (uint64_t)json_integer_value(json_object_get(j, "lines"));
	if (!file || !chain || !m || strlen(chain) != ELOG_HEX_LEN ||
	    strlen(m) != ELOG_HEX_LEN || elog_name_parse(file, &h->day, &kind) < 0 ||
	    elog_unhex(chain, ELOG_HEX_LEN, h->chain) < 0 ||
	    elog_unhex(m, ELOG_HEX_LEN, got) < 0)
		goto out;
	n = snprintf(msg, sizeof(msg), "head %s %llu %s", file,
		     (unsigned long long)h->lines, chain);
	if (n < 0 || elog_mac_chain(mac, zero, msg, (size_t)n, want) < 0)
		goto out;
	h->valid = !memcmp(want, got, ELOG_CHAIN_LEN);
out:
	json_decref(j);
}

/* A closed day's summary must be the writer's (MAC) and describe the file
 * as it is (lines, last chain): queries skip days on its word. */
static void check_summary(const struct elog_verify_opts *o, elog_report_fn report,
			  struct elog_mac *mac, int64_t day, const struct elog_vfile *v,
			  struct elog_verify_result *res)
{
	char name[ELOG_NAME_MAX], path[4200], hex[ELOG_HEX_LEN + 1], want[ELOG_HEX_LEN + 1];
	char cant[256];
	const char *why = NULL;
	json_t *s;
	FILE *f;

	elog_name_format(day, ELOG_F_SUMMARY, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", o->dir, name);
	f = elog_file_open(path, &why);
	if (!f) {
		if (errno == ENOENT)
			return;
		/* unreadable is not damaged: say why */
		snprintf(cant, sizeof(cant), "cannot open: %s", why);
		report(o->arg, ELOG_ERROR, name, 0, cant);
		res->errors++;
		return;
	}
	s = json_loadf(f, 0, NULL);
	fclose(f);
	elog_hex(v->last_chain, ELOG_CHAIN_LEN, hex);
	if (!json_is_object(s))
		why = "not a JSON object";
	else if (!json_is_string(json_object_get(s, "mac")) ||
		 elog_summary_mac(mac, s, want) < 0 ||
		 strcmp(want, json_string_value(json_object_get(s, "mac"))))
		why = "changed or forged (MAC mismatch): queries may skip this day wrongly";
	else if (!v->read_error &&
		 ((uint64_t)json_integer_value(json_object_get(s, "lines")) != v->lines ||
		  strcmp(json_string_value(json_object_get(s, "chain")) ?: "", hex)))
		why = "does not describe the day's file (lines or last chain differ)";
	if (why) {
		report(o->arg, ELOG_ERROR, name, 0, why);
		res->errors++;
	}
	json_decref(s);
}

int elog_verify(const struct elog_verify_opts *o, struct elog_verify_result *res)
{
	uint8_t key[ELOG_KEY_LEN], prev_chain[ELOG_CHAIN_LEN];
	char kpath[4096], err[512], name[ELOG_NAME_MAX], path[4096], dname[16];
	elog_report_fn report = o->report ? o->report : print_report;
	struct elog_mac *mac;
	struct elog_day_files *days;
	struct head head;
	size_t n;
	int64_t prev_day = INT64_MIN; /* day of the previous file verified */
	bool prev_sealed = false, any = false;
	const char *why;

	memset(res, 0, sizeof(*res));
	if (o->key_path)
		snprintf(kpath, sizeof(kpath), "%s", o->key_path);
	else
		snprintf(kpath, sizeof(kpath), "%s/.key", o->dir);
	if (elog_key_load(kpath, false, key, err, sizeof(err)) < 0) {
		report(o->arg, ELOG_ERROR, o->dir, 0, err);
		return -1;
	}
	mac = elog_mac_new(key);
	explicit_bzero(key, sizeof(key));
	days = elog_list_days(o->dir, &n);
	if (!mac || !days) {
		snprintf(err, sizeof(err), "cannot read the directory: %s", strerror(errno));
		report(o->arg, ELOG_ERROR, o->dir, 0, err);
		elog_mac_free(mac);
		free(days);
		return -1;
	}
	load_head(o->dir, mac, &head);
	if (n && !head.present) {
		report(o->arg, ELOG_ERROR, ".head", 0, "the checkpoint is missing "
		       "(deleted?): the newest file cannot be checked for truncation");
		res->errors++;
	} else if (n && !head.valid) {
		report(o->arg, ELOG_ERROR, ".head", 0, "the checkpoint is damaged or forged");
		res->errors++;
	}
	for (size_t i = 0; i < n; i++) {
		struct elog_day_files *d = &days[i];
		bool last = i + 1 == n;
		bool zstd = !d->plain;
		struct elog_vfile v = {
			.mac = mac, .day = d->day, .report = report, .arg = o->arg,
		};
		FILE *f;

		if (d->day < o->since_day) {
			prev_day = INT64_MIN;
			continue;
		}
		any = true;
		elog_name_format(d->day, zstd ? ELOG_F_ZSTD : ELOG_F_PLAIN, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s", o->dir, name);
		v.name = name;
		if (head.valid && head.day == d->day)
			v.head_seq = head.lines;
		if (d->plain && d->zstd) {
			report(o->arg, ELOG_NOTICE, name, 0, "a compressed copy exists too "
			       "(archiving was interrupted); verifying the plain file");
			res->notices++;
		}
		f = elog_file_open(path, &why);
		if (!f) {
			snprintf(err, sizeof(err), "cannot open: %s", why);
			report(o->arg, ELOG_ERROR, name, 0, err);
			res->errors++;
			continue;
		}
		elog_verify_file(&v, f, zstd);
		res->files++;
		res->lines += v.lines;
		res->errors += v.errors;
		res->notices += v.notices;

		/* the link to the previous file */
		unsigned ret = v.retention_days ? v.retention_days : 60;
		if (v.has_header && prev_day == INT64_MIN) {
			/* no earlier file verified: expired, or deleted? (an earlier
			 * file left out by --since is not checked) */
			if (i == 0 && v.prev_day >= 0 && o->today - v.prev_day <= (int64_t)ret) {
				elog_day_format(v.prev_day, dname, sizeof(dname));
				snprintf(err, sizeof(err), "the previous file (eve-%s) is missing, "
					 "though within the %u-day retention", dname, ret);
				report(o->arg, ELOG_ERROR, name, 1, err);
				res->errors++;
			}
		} else if (v.has_header && v.prev_day != prev_day) {
			if (v.prev_day > prev_day) {
				if (o->today - v.prev_day <= (int64_t)ret) {
					elog_day_format(v.prev_day, dname, sizeof(dname));
					snprintf(err, sizeof(err), "the previous file (eve-%s) is "
						 "missing, though within the %u-day retention",
						 dname, ret);
					report(o->arg, ELOG_ERROR, name, 1, err);
					res->errors++;
				}
			} else {
				elog_day_format(prev_day, dname, sizeof(dname));
				snprintf(err, sizeof(err), "does not follow eve-%s "
					 "(a file was inserted or replaced)", dname);
				report(o->arg, ELOG_ERROR, name, 1, err);
				res->errors++;
			}
		} else if (v.has_header && prev_sealed &&
			   memcmp(v.prev_chain, prev_chain, ELOG_CHAIN_LEN)) {
			elog_day_format(prev_day, dname, sizeof(dname));
			snprintf(err, sizeof(err), "does not continue the chain of eve-%s "
				 "(one of the two files was replaced)", dname);
			report(o->arg, ELOG_ERROR, name, 1, err);
			res->errors++;
		}
		if (!v.read_error && !v.sealed && !last) {
			snprintf(err, sizeof(err), "the file ends without its seal after "
				 "line %llu: truncated", (unsigned long long)v.lines);
			report(o->arg, ELOG_ERROR, name, v.lines + 1, err);
			res->errors++;
		}
		if (v.torn) {
			snprintf(err, sizeof(err), "torn last line (%llu bytes without a "
				 "newline: the writer crashed or the disk filled while writing)%s",
				 (unsigned long long)v.torn,
				 last ? "" : " in a file that is not the newest");
			report(o->arg, last ? ELOG_NOTICE : ELOG_ERROR, name, v.lines + 1, err);
			if (last)
				res->notices++;
			else
				res->errors++;
		}
		if (last && head.valid) {
			if (head.day > d->day) {
				/* reported below */
			} else if (head.day < d->day) {
				report(o->arg, ELOG_ERROR, name, 0, "this file is newer than the "
				       "checkpoint (not written by the writer?)");
				res->errors++;
			} else if (!v.head_found && !v.read_error) {
				snprintf(err, sizeof(err), "truncated: the checkpoint records "
					 "%llu lines, the file has %llu complete lines",
					 (unsigned long long)head.lines,
					 (unsigned long long)v.lines);
				report(o->arg, ELOG_ERROR, name, v.lines + 1, err);
				res->errors++;
			} else if (v.head_found && memcmp(v.head_chain, head.chain, ELOG_CHAIN_LEN)) {
				snprintf(err, sizeof(err), "line %llu is not the line the "
					 "checkpoint recorded (file replaced?)",
					 (unsigned long long)head.lines);
				report(o->arg, ELOG_ERROR, name, head.lines, err);
				res->errors++;
			}
		}
		check_summary(o, report, mac, d->day, &v, res);
		prev_day = d->day;
		prev_sealed = v.sealed && !v.read_error;
		memcpy(prev_chain, v.last_chain, ELOG_CHAIN_LEN);
	}
	if (!any) {
		/* say so: "OK: 0 file(s)" reads as a log checked and found good */
		if (o->since_day != INT64_MIN) {
			elog_day_format(o->since_day, dname, sizeof(dname));
			snprintf(err, sizeof(err), "no log file from %s on: nothing verified",
				 dname);
		} else {
			snprintf(err, sizeof(err), "no log file: nothing verified");
		}
		report(o->arg, ELOG_NOTICE, o->dir, 0, err);
		res->notices++;
	}
	if (head.valid && (n == 0 || head.day > days[n - 1].day)) {
		elog_name_format(head.day, ELOG_F_PLAIN, name, sizeof(name));
		report(o->arg, ELOG_ERROR, name, 0, "missing: the checkpoint names it");
		res->errors++;
	}
	elog_mac_free(mac);
	free(days);
	return res->errors ? 1 : 0;
}
