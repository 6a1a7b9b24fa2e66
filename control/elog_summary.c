/* SPDX-License-Identifier: MIT */
/* Per-day summaries of the behaviour log, and archiving of a sealed day. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "elog_format.h"
#include "elog_query.h"
#include "elog_reader.h"

/* Distinct values kept per map; beyond it the map is marked incomplete. */
#define MAP_CAP 100000

static const char *const maps[] = { "event_type", "action", "unit", "user", "ip",
				    "domain", "blocked_domain", "reason" };
/* Added later (summaries written before lack them; see elog_summary_read):
 * "source" counts events by "SRC_IP SRC_MAC" ("SRC_IP" without a MAC);
 * "suspect" describes the sources of unregistered/spoof events. */
static const char *const new_maps[] = { "source", "suspect" };

json_t *elog_summary_new(int64_t day)
{
	char d[16];
	json_t *s;

	elog_day_format(day, d, sizeof(d));
	s = json_pack("{s:i, s:s, s:i, s:i, s:[]}", "version", 1, "day", d,
		      "events", 0, "lines", 0, "incomplete");
	for (size_t i = 0; s && i < sizeof(maps) / sizeof(maps[0]); i++)
		json_object_set_new(s, maps[i], json_object());
	for (size_t i = 0; s && i < sizeof(new_maps) / sizeof(new_maps[0]); i++)
		json_object_set_new(s, new_maps[i], json_object());
	return s;
}

/* Record that map hit MAP_CAP. true when key may be added to m. */
static bool room(json_t *sum, json_t *m, const char *map)
{
	if (json_object_size(m) >= MAP_CAP) {
		json_t *inc = json_object_get(sum, "incomplete");
		bool seen = false;
		size_t i;
		json_t *x;
		json_array_foreach(inc, i, x)
			seen |= !strcmp(json_string_value(x), map);
		if (!seen)
			json_array_append_new(inc, json_string(map));
		return false;
	}
	return true;
}

static void bump(json_t *sum, const char *map, const char *key)
{
	json_t *m = json_object_get(sum, map), *v;

	if (!key || !*key || !m)
		return;
	v = json_object_get(m, key);
	if (v) {
		json_integer_set(v, json_integer_value(v) + 1);
		return;
	}
	if (room(sum, m, map))
		json_object_set_new(m, key, json_integer(1));
}

/* Unregistered and spoofing sources: count, first and last timestamp. */
static void suspect(json_t *sum, json_t *ev, const char *reason, const char *src,
		    const char *mac)
{
	json_t *m = json_object_get(sum, "suspect"), *e;
	const char *ts = elog_event_str(ev, NULL, "timestamp");
	char key[160], t[40];
	int64_t us = 0;
	bool has_ts = ts && elog_ts_parse(ts, &us) == 0;

	if (!m)
		return;
	snprintf(key, sizeof(key), "%s %s %s", reason, src, mac ? mac : "-");
	if (has_ts)
		elog_ts_format(us, t, sizeof(t));
	e = json_object_get(m, key);
	if (!e) {
		if (!room(sum, m, "suspect"))
			return;
		e = json_pack("{s:s, s:s, s:s, s:I}", "reason", reason, "ip", src,
			      "mac", mac ? mac : "", "count", (json_int_t)0);
		if (!e || json_object_set_new(m, key, e) < 0)
			return;
	}
	json_t *n = json_object_get(e, "count");
	json_integer_set(n, json_integer_value(n) + 1);
	if (!has_ts)
		return;
	json_t *f = json_object_get(e, "first"), *l = json_object_get(e, "last");
	int64_t fu, lu;
	if (!f || elog_ts_parse(json_string_value(f), &fu) < 0 || us < fu)
		json_object_set_new(e, "first", json_string(t));
	if (!l || elog_ts_parse(json_string_value(l), &lu) < 0 || us > lu)
		json_object_set_new(e, "last", json_string(t));
}

void elog_summary_add(json_t *sum, json_t *ev)
{
	json_t *n = json_object_get(sum, "events");
	const char *action = elog_event_str(ev, "egw", "action");
	const char *dom = elog_event_domain(ev);
	char low[256];

	json_integer_set(n, json_integer_value(n) + 1);
	bump(sum, "event_type", elog_event_str(ev, NULL, "event_type"));
	bump(sum, "action", action);
	bump(sum, "unit", elog_event_str(ev, "egw", "unit"));
	bump(sum, "user", elog_event_str(ev, "egw", "user"));
	bump(sum, "reason", elog_event_str(ev, "egw", "reason"));
	bump(sum, "ip", elog_event_str(ev, NULL, "src_ip"));
	bump(sum, "ip", elog_event_str(ev, NULL, "dest_ip"));
	const char *src = elog_event_str(ev, NULL, "src_ip");
	const char *mac = elog_event_str(ev, "egw", "src_mac");
	const char *reason = elog_event_str(ev, "egw", "reason");
	if (src && *src && strlen(src) < 64) {
		char key[128];
		if (mac && (!*mac || strlen(mac) >= 32))
			mac = NULL;
		if (mac)
			snprintf(key, sizeof(key), "%s %s", src, mac);
		else
			snprintf(key, sizeof(key), "%s", src);
		bump(sum, "source", key);
		if (reason && (!strcmp(reason, "unregistered") || !strcmp(reason, "spoof")))
			suspect(sum, ev, reason, src, mac);
	}
	if (dom) {
		size_t i;
		for (i = 0; dom[i] && i < sizeof(low) - 1; i++)
			low[i] = (char)(dom[i] >= 'A' && dom[i] <= 'Z' ? dom[i] + 32 : dom[i]);
		if (i && low[i - 1] == '.')
			i--;
		low[i] = 0;
		bump(sum, "domain", low);
		if (action && !strcmp(action, "blocked"))
			bump(sum, "blocked_domain", low);
	}
}

int elog_summary_of_file(const char *path, bool zstd, int64_t day, json_t **out,
			 bool *sealed, elog_skip_fn skip, void *arg, char *err, size_t errlen)
{
	const char *line, *why;
	struct elog_reader *r = elog_reader_open(path, zstd, &why);
	json_t *sum;
	size_t len;
	bool complete;
	uint64_t lines = 0, at = 0;
	char hex[ELOG_HEX_LEN + 1] = "", what[256];
	json_error_t je;
	int rc;

	*sealed = false;
	if (!r) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	sum = elog_summary_new(day);
	if (!sum) {
		elog_reader_close(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while ((rc = elog_reader_next(r, &line, &len, &complete, &why)) == 1 ||
	       rc == ELOG_READER_SKIPPED) {
		struct elog_line ln;
		at++;
		if (rc == ELOG_READER_SKIPPED) {
			*sealed = false;
			if (skip)
				skip(arg, path, at, why);
			continue;
		}
		if (!complete || elog_line_parse(line, len, &ln, &why) < 0) {
			*sealed = false;
			if (complete && skip) {
				snprintf(what, sizeof(what), "not a log line (%s)", why);
				skip(arg, path, at, what);
			}
			continue;
		}
		lines++;
		elog_hex(ln.chain, ELOG_CHAIN_LEN, hex);
		if (ln.record) {
			*sealed = len > 30 && !memcmp(line + 15, "egw_seal\"", 9);
			continue;
		}
		*sealed = false;
		json_t *ev = json_loadb(line, len, 0, &je);
		if (json_is_object(ev)) {
			elog_summary_add(sum, ev);
		} else if (skip) {
			snprintf(what, sizeof(what), "not a JSON event (%s)",
				 ev ? "not an object" : je.text);
			skip(arg, path, at, what);
		}
		json_decref(ev);
	}
	elog_reader_close(r);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		json_decref(sum);
		return -1;
	}
	json_object_set_new(sum, "lines", json_integer((json_int_t)lines));
	json_object_set_new(sum, "chain", json_string(hex));
	json_object_set_new(sum, "sealed", json_boolean(*sealed));
	*out = sum;
	return 0;
}

bool elog_summary_may_match(json_t *sum, const struct elog_filter *f)
{
	json_t *inc = json_object_get(sum, "incomplete"), *x, *v;
	bool dom_inc = false, ip_inc = false;
	const char *k;
	size_t i;

	json_array_foreach(inc, i, x) {
		dom_inc |= !strcmp(json_string_value(x), "domain");
		ip_inc |= !strcmp(json_string_value(x), "ip");
	}
	if (json_integer_value(json_object_get(sum, "events")) == 0)
		return false;
	if (f->unit && !json_object_get(json_object_get(sum, "unit"), f->unit))
		return false;
	if (f->user && !json_object_get(json_object_get(sum, "user"), f->user))
		return false;
	if (f->verdict && !json_object_get(json_object_get(sum, "action"), f->verdict))
		return false;
	if (f->domain && !dom_inc) {
		bool any = false;
		json_object_foreach(json_object_get(sum, "domain"), k, v)
			if ((any = elog_domain_match(k, f->domain)))
				break;
		if (!any)
			return false;
	}
	if (f->has_ip && !ip_inc) {
		struct elog_filter one;
		bool any = false;
		elog_filter_init(&one);
		one.has_ip = true;
		one.ip = f->ip;
		json_object_foreach(json_object_get(sum, "ip"), k, v) {
			json_t *fake = json_pack("{s:s}", "src_ip", k);
			any = fake && elog_filter_match(&one, fake, 0);
			json_decref(fake);
			if (any)
				break;
		}
		if (!any)
			return false;
	}
	return true;
}

json_t *elog_summary_load(const char *dir, int64_t day)
{
	char name[ELOG_NAME_MAX], path[4096];
	const char *why;
	json_t *s = NULL;
	FILE *f;

	elog_name_format(day, ELOG_F_SUMMARY, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = elog_file_open(path, &why))) {
		s = json_loadf(f, 0, NULL);
		fclose(f);
	}
	if (!json_is_object(s) || json_integer_value(json_object_get(s, "version")) != 1 ||
	    !json_is_integer(json_object_get(s, "events")) ||
	    !json_is_array(json_object_get(s, "incomplete")))
		goto bad;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (!json_is_object(json_object_get(s, maps[i])))
			goto bad;
	return s;
bad:
	json_decref(s);
	return NULL;
}

/* A map of counts: an object whose values are non-negative integers. */
static const char *check_counts(json_t *m)
{
	const char *k;
	json_t *v;

	if (!json_is_object(m))
		return "is not an object";
	json_object_foreach(m, k, v)
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return "holds a value that is not a count";
	return NULL;
}

static const char *check_suspect(json_t *m)
{
	const char *k;
	json_t *v;
	int64_t us;

	if (!json_is_object(m))
		return "is not an object";
	json_object_foreach(m, k, v) {
		json_t *f = json_object_get(v, "first"), *l = json_object_get(v, "last");
		if (!json_is_object(v) || !json_is_string(json_object_get(v, "reason")) ||
		    !json_is_string(json_object_get(v, "ip")) ||
		    !json_is_string(json_object_get(v, "mac")) ||
		    !json_is_integer(json_object_get(v, "count")) ||
		    json_integer_value(json_object_get(v, "count")) < 1)
			return "holds an entry without reason, ip, mac and count";
		int64_t lu;
		if (!f != !l)
			return "holds an entry with only one of first and last";
		if (f && (!json_is_string(f) || elog_ts_parse(json_string_value(f), &us) < 0 ||
			  !json_is_string(l) || elog_ts_parse(json_string_value(l), &lu) < 0))
			return "holds an entry whose first or last is not a timestamp";
		if (f && us > lu)
			return "holds an entry whose first is after its last";
	}
	return NULL;
}

int elog_summary_read(const char *dir, int64_t day, json_t **out, char *err, size_t errlen)
{
	char name[ELOG_NAME_MAX], path[4096], want[16], what[128];
	const char *why = NULL, *cant;
	json_error_t je;
	json_t *s, *x;
	size_t i;
	FILE *f;

	*out = NULL;
	elog_name_format(day, ELOG_F_SUMMARY, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = elog_file_open(path, &cant))) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, cant);
		return -1;
	}
	s = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!s) {
		if (je.line > 0)
			snprintf(err, errlen, "%s:%d: not a summary: %s", path, je.line, je.text);
		else
			snprintf(err, errlen, "%s: %s", path, je.text);
		return -1;
	}
	elog_day_format(day, want, sizeof(want));
	if (!json_is_object(s)) {
		why = "not a JSON object";
	} else if (!json_is_integer(json_object_get(s, "version")) ||
		   json_integer_value(json_object_get(s, "version")) != 1) {
		why = "not a version-1 summary";
	} else if (!json_is_string(json_object_get(s, "day")) ||
		   strcmp(json_string_value(json_object_get(s, "day")), want)) {
		snprintf(what, sizeof(what), "\"day\" is not %s", want);
		why = what;
	} else if (!json_is_integer(json_object_get(s, "events")) ||
		   json_integer_value(json_object_get(s, "events")) < 0) {
		why = "\"events\" is not a count";
	} else if (!json_is_array(json_object_get(s, "incomplete"))) {
		why = "\"incomplete\" is not a list";
	} else {
		json_array_foreach(json_object_get(s, "incomplete"), i, x)
			if (!json_is_string(x))
				why = "\"incomplete\" holds a value that is not a name";
		for (i = 0; !why && i < sizeof(maps) / sizeof(maps[0]) + 1; i++) {
			const char *map = i < sizeof(maps) / sizeof(maps[0]) ? maps[i] : "source";
			x = json_object_get(s, map);
			if (!x && i == sizeof(maps) / sizeof(maps[0]))
				break; /* written before "source" existed */
			if ((why = check_counts(x))) {
				snprintf(what, sizeof(what), "\"%s\" %s", map, why);
				why = what;
			}
		}
		x = json_object_get(s, "suspect");
		if (!why && x && (why = check_suspect(x))) {
			snprintf(what, sizeof(what), "\"suspect\" %s", why);
			why = what;
		}
	}
	if (why) {
		snprintf(err, errlen, "%s: %s", path, why);
		json_decref(s);
		return -1;
	}
	*out = s;
	return 1;
}

bool elog_summary_is_current(json_t *sum)
{
	for (size_t i = 0; i < sizeof(new_maps) / sizeof(new_maps[0]); i++)
		if (!json_is_object(json_object_get(sum, new_maps[i])))
			return false;
	return true;
}

static int compress_file(const char *src, const char *dst, int level, char *err,
			 size_t errlen)
{
	FILE *in = fopen(src, "rb"), *out = NULL;
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t ilen = ZSTD_CStreamInSize(), olen = ZSTD_CStreamOutSize();
	char *ib = malloc(ilen), *ob = malloc(olen);
	int rc = -1;

	if (!in || !cctx || !ib || !ob) {
		snprintf(err, errlen, "%s: %s", src, strerror(errno ? errno : ENOMEM));
		goto out;
	}
	int ofd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	out = ofd >= 0 ? fdopen(ofd, "wb") : NULL;
	if (!out) {
		if (ofd >= 0)
			close(ofd);
		snprintf(err, errlen, "%s: %s", dst, strerror(errno));
		goto out;
	}
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	for (;;) {
		size_t n = fread(ib, 1, ilen, in);
		bool last = n < ilen;
		ZSTD_inBuffer zin = { ib, n, 0 };
		size_t left;
		do {
			ZSTD_outBuffer zout = { ob, olen, 0 };
			left = ZSTD_compressStream2(cctx, &zout, &zin,
						    last ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(left)) {
				snprintf(err, errlen, "%s: zstd: %s", dst, ZSTD_getErrorName(left));
				goto out;
			}
			if (fwrite(ob, 1, zout.pos, out) != zout.pos) {
				snprintf(err, errlen, "%s: %s", dst, strerror(errno));
				goto out;
			}
		} while (last ? left != 0 : zin.pos < zin.size);
		if (last)
			break;
	}
	if (ferror(in)) {
		snprintf(err, errlen, "%s: read error", src);
		goto out;
	}
	if (fflush(out) != 0 || fsync(fileno(out)) < 0) {
		snprintf(err, errlen, "%s: %s", dst, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (out && fclose(out) != 0 && rc == 0) {
		snprintf(err, errlen, "%s: %s", dst, strerror(errno));
		rc = -1;
	}
	if (in)
		fclose(in);
	ZSTD_freeCCtx(cctx);
	free(ib);
	free(ob);
	return rc;
}

static int dump_file(json_t *j, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	int rc;

	if (fd < 0)
		return -1;
	rc = json_dumpfd(j, fd, JSON_COMPACT);
	if (rc == 0 && (write(fd, "\n", 1) != 1 || fsync(fd) < 0))
		rc = -1;
	close(fd);
	return rc;
}

int elog_summary_mac(struct elog_mac *mac, json_t *sum, char hex[65])
{
	static const uint8_t zero[ELOG_CHAIN_LEN];
	uint8_t out[ELOG_CHAIN_LEN];
	json_t *copy = json_copy(sum);
	char *text;
	int rc = -1;

	if (!copy)
		return -1;
	json_object_del(copy, "mac");
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	if (text && elog_mac_chain(mac, zero, text, strlen(text), out) == 0) {
		elog_hex(out, ELOG_CHAIN_LEN, hex);
		rc = 0;
	}
	free(text);
	json_decref(copy);
	return rc;
}

int elog_archive_day(const char *dir, int64_t day, bool compress, int level,
		     struct elog_mac *mac, char *err, size_t errlen)
{
	char name[ELOG_NAME_MAX], plain[4096], zst[4096], tmp[4200], spath[4096];
	json_t *sum = NULL;
	bool sealed;
	int rc = -1;

	elog_name_format(day, ELOG_F_PLAIN, name, sizeof(name));
	snprintf(plain, sizeof(plain), "%s/%s", dir, name);
	elog_name_format(day, ELOG_F_ZSTD, name, sizeof(name));
	snprintf(zst, sizeof(zst), "%s/%s", dir, name);
	elog_name_format(day, ELOG_F_SUMMARY, name, sizeof(name));
	snprintf(spath, sizeof(spath), "%s/%s", dir, name);

	if (elog_summary_of_file(plain, false, day, &sum, &sealed, NULL, NULL, err, errlen) < 0)
		return -1;
	if (!sealed) {
		json_decref(sum);
		return 1;
	}
	if (compress) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", zst);
		if (compress_file(plain, tmp, level, err, errlen) < 0) {
			unlink(tmp);
			goto out;
		}
		if (rename(tmp, zst) < 0) {
			snprintf(err, errlen, "%s: %s", zst, strerror(errno));
			unlink(tmp);
			goto out;
		}
	}
	elog_name_format(day, compress ? ELOG_F_ZSTD : ELOG_F_PLAIN, name, sizeof(name));
	json_object_set_new(sum, "file", json_string(name));
	if (mac) {
		char hex[ELOG_HEX_LEN + 1];
		if (elog_summary_mac(mac, sum, hex) < 0) {
			snprintf(err, errlen, "%s: cannot compute the summary MAC", spath);
			goto out;
		}
		json_object_set_new(sum, "mac", json_string(hex));
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", spath);
	if (dump_file(sum, tmp) < 0 || rename(tmp, spath) < 0) {
		snprintf(err, errlen, "%s: cannot write the summary", spath);
		unlink(tmp);
		goto out;
	}
	if (compress && unlink(plain) < 0) {
		snprintf(err, errlen, "%s: %s", plain, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	json_decref(sum);
	return rc;
}
