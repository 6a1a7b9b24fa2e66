/* SPDX-License-Identifier: MIT */
/*
 * The small sections of a policy: gateway (ports and sizing), terminals
 * (identity enforcement) and log (the behaviour log). Defaults as
 * ../shared/spec/policy.md gives them; a default carries line 0.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "policy_int.h"

static const char *const gateway_keys[] = {
	"inside", "outside", "punt", "workers", "flows", "fail_mode", NULL
};
static const char *const fail_modes[] = { "closed", "open", NULL };

static char *device(struct pctx *c, const config_setting_t *s, const char *key)
{
	const char *v;
	int r = read_str(c, s, key, "gateway", &v);
	if (r == 0 && s)
		perr(c, s, "gateway: %s missing (a DPDK device: PCI address or vdev string)",
		     key);
	if (r <= 0)
		return NULL;
	if (!*v) {
		perr(c, config_setting_get_member(s, key), "gateway.%s: must not be empty",
		     key);
		return NULL;
	}
	return pctx_strdup(c, v);
}

void parse_gateway(struct pctx *c, const config_setting_t *s)
{
	struct egw_gateway *g = &c->p->gateway;
	g->workers = 1;
	g->flows = 1048576;
	g->fail_mode = EGW_FAIL_CLOSED;
	g->loc = s ? loc_of(c, s) : loc_default(c);
	g->fail_mode_loc = loc_default(c);
	if (!s)
		return;
	check_keys(c, s, "gateway", gateway_keys);
	g->inside = device(c, s, "inside");
	g->outside = device(c, s, "outside");
	g->punt = device(c, s, "punt");
	long long v;
	if (read_int(c, s, "workers", "gateway", 1, 128, &v) > 0)
		g->workers = (unsigned)v;
	if (read_int(c, s, "flows", "gateway", 1024, 268435456, &v) > 0)
		g->flows = (uint32_t)v;
	int e;
	if (read_enum(c, s, "fail_mode", "gateway", fail_modes, &e) > 0) {
		g->fail_mode = (enum egw_fail_mode)e;
		g->fail_mode_loc = loc_of(c, config_setting_get_member(s, "fail_mode"));
	}
}

static const char *const terminals_keys[] = { "binding", "unregistered", NULL };
static const char *const bindings[] = { "strict", "prefix", "off", NULL };
static const char *const unregs[] = { "drop", "punt", "allow", NULL };

void parse_terminals_cfg(struct pctx *c, const config_setting_t *s)
{
	struct egw_terminals_cfg *t = &c->p->terminals;
	t->binding = EGW_BINDING_STRICT;
	t->unregistered = EGW_UNREG_DROP;
	t->binding_loc = loc_default(c);
	t->unregistered_loc = loc_default(c);
	if (!s)
		return;
	check_keys(c, s, "terminals", terminals_keys);
	int e;
	if (read_enum(c, s, "binding", "terminals", bindings, &e) > 0) {
		t->binding = (enum egw_binding)e;
		t->binding_loc = loc_of(c, config_setting_get_member(s, "binding"));
	}
	if (read_enum(c, s, "unregistered", "terminals", unregs, &e) > 0) {
		t->unregistered = (enum egw_unregistered)e;
		t->unregistered_loc = loc_of(c, config_setting_get_member(s, "unregistered"));
	}
}

static const char *const log_keys[] = {
	"directory", "retention_days", "rotate", "compress", "syslog", NULL
};
static const char *const rotates[] = { "daily", NULL };
static const char *const compresses[] = { "zstd", "none", NULL };

#define LOG_MIN_RETENTION 60

/* "udp://host:port" or "tcp://host:port"; host may be "[v6]". */
static void parse_syslog(struct pctx *c, const config_setting_t *s, const char *url)
{
	struct egw_log_cfg *l = &c->p->log;
	const char *what = "expected \"udp://host:port\" or \"tcp://host:port\"";
	enum egw_syslog_proto proto;
	if (!strncmp(url, "udp://", 6))
		proto = EGW_SYSLOG_UDP;
	else if (!strncmp(url, "tcp://", 6))
		proto = EGW_SYSLOG_TCP;
	else {
		perr(c, s, "log.syslog: \"%s\": %s", url, what);
		return;
	}
	const char *host = url + 6, *host_end, *colon;
	if (*host == '[') {
		host_end = strchr(host, ']');
		if (!host_end || host_end[1] != ':') {
			perr(c, s, "log.syslog: \"%s\": %s (IPv6 as [addr]:port)", url, what);
			return;
		}
		colon = host_end + 1;
		host++;
	} else {
		colon = strrchr(host, ':');
		host_end = colon;
	}
	if (!colon || host_end == host) {
		perr(c, s, "log.syslog: \"%s\": %s (host and port missing)", url, what);
		return;
	}
	for (const char *q = host; q < host_end; q++) {
		unsigned char ch = (unsigned char)*q;
		if (!isalnum(ch) && ch != '.' && ch != '-' && ch != '_' &&
		    !(ch == ':' && url[6] == '[')) {
			perr(c, s, "log.syslog: \"%s\": bad character in host name", url);
			return;
		}
	}
	const char *port = colon + 1;
	size_t np = strlen(port);
	long pv = 0;
	bool ok = np >= 1 && np <= 5;
	for (size_t i = 0; ok && i < np; i++) {
		if (!isdigit((unsigned char)port[i]))
			ok = false;
		else
			pv = pv * 10 + (port[i] - '0');
	}
	if (!ok || pv < 1 || pv > 65535) {
		perr(c, s, "log.syslog: \"%s\": port must be 1..65535", url);
		return;
	}
	l->syslog_host = arena_strndup(c->a, host, (size_t)(host_end - host));
	if (!l->syslog_host) {
		c->oom = true;
		return;
	}
	l->syslog_proto = proto;
	l->syslog_port = (uint16_t)pv;
}

void parse_log(struct pctx *c, const config_setting_t *s)
{
	struct egw_log_cfg *l = &c->p->log;
	l->retention_days = 180;
	l->compress = EGW_COMPRESS_ZSTD;
	l->syslog_proto = EGW_SYSLOG_NONE;
	l->loc = s ? loc_of(c, s) : loc_default(c);
	l->retention_loc = loc_default(c);
	const char *dir = EGW_LOG_DIR_DEFAULT;
	if (s) {
		check_keys(c, s, "log", log_keys);
		const char *v;
		if (read_str(c, s, "directory", "log", &v) > 0) {
			if (!*v)
				perr(c, config_setting_get_member(s, "directory"),
				     "log.directory: must not be empty");
			else
				dir = v;
		}
	}
	l->directory = path_resolve(c, c->dir, dir);
	if (!s)
		return;

	const config_setting_t *r = config_setting_get_member(s, "retention_days");
	if (r) {
		int t = config_setting_type(r);
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
			perr(c, r, "log.retention_days: expected an integer (days), got %s",
			     type_name(t));
		} else {
			long long d = config_setting_get_int64(r);
			if (d < LOG_MIN_RETENTION)
				perr(c, r,
				     "retention_days %lld is below the %d days the e-government "
				     "security measures require for internet-behaviour logs",
				     d, LOG_MIN_RETENTION);
			else if (d > 36500)
				perr(c, r, "log.retention_days: %lld is out of range "
					   "(expected %d..36500)", d, LOG_MIN_RETENTION);
			else {
				l->retention_days = (unsigned)d;
				l->retention_loc = loc_of(c, r);
			}
		}
	}
	int e;
	read_enum(c, s, "rotate", "log", rotates, &e);
	if (read_enum(c, s, "compress", "log", compresses, &e) > 0)
		l->compress = (enum egw_compress)e;
	const char *url;
	if (read_str(c, s, "syslog", "log", &url) > 0)
		parse_syslog(c, config_setting_get_member(s, "syslog"), url);
}
