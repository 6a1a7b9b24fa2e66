/* SPDX-License-Identifier: MIT */
/*
 * egw-controld: the control plane. Reads punted packets from nfqueue,
 * inspects them, gives verdicts, writes events, applies nftables (kernel
 * mode), answers egwctl on the management sockets. See docs/controld.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <egw/diag.h>
#include <egw/notify.h>
#include <egw/nft.h>
#include <egw/policy.h>

#include "cd_dpipc.h"
#include "cd_evsink.h"
#include "cd_hairpin.h"
#include "cd_inject.h"
#include "cd_inspect.h"
#include "cd_kernel.h"
#include "cd_mgmt.h"
#include "cd_nfq.h"
#include "cd_nft_sets.h"
#include "cd_priv.h"
#include "cd_queue_rule.h"
#include "elog.h"

#define PROG "egw-controld"

struct daemon {
	const char *config;
	bool kernel_mode;
	const char *run_dir;
	bool keep_caps;
	unsigned flag_timeout;
	struct egw_nft_opts nft_opts;

	struct egw_policy *pol;
	struct cd_inspect *insp;
	/* a prepared reload */
	struct egw_policy *next_pol;
	struct cd_inspect *next_insp;
	char *next_ruleset;

	struct cd_nfq_cfg nfq_cfg;
	struct cd_nfq *nfq;
	struct cd_queue_rule_cfg qr;
	bool qr_installed;
	bool kernel_applied;
	struct cd_evsink *ev;
	struct cd_inject *inj;
	struct cd_nft_sets *sets;
	struct cd_mgmt *mgmt;
	struct cd_dpipc *dp;       /* the fast path; NULL in kernel mode */
	bool hairpin_on;
	const char *hairpin_mac;
	struct cd_hairpin *hairpin;
	const char *dp_path;
	uint64_t generation;
	bool dp_prepared;

	uint64_t start_us;
	uint64_t nxdomain_sent, rst_sent, inject_errors, flag_errors;
	uint64_t reloads_ok, reloads_failed;
	uint64_t by_reason_n;
	json_t *by_reason;   /* reason -> count of drops */
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void emit(struct daemon *d, const struct egw_event *ev)
{
	if (d->ev)
		cd_evsink_emit(d->ev, ev);
}

static void audit(void *arg, const struct ucred *who, const char *what, const char *result)
{
	struct daemon *d = arg;
	struct egw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = EGW_EV_AUDIT;
	ev.action = strcmp(result, "ok") ? EGW_EA_BLOCKED : EGW_EA_ALLOWED;
	ev.ts_us = now_us();
	snprintf(ev.reason, sizeof(ev.reason), "operator");
	if (who)
		cd_mgmt_describe_peer(who, ev.u.audit.who, sizeof(ev.u.audit.who));
	else
		snprintf(ev.u.audit.who, sizeof(ev.u.audit.who), "signal SIGHUP");
	snprintf(ev.u.audit.what, sizeof(ev.u.audit.what), "%s %s", what, d->config);
	snprintf(ev.u.audit.result, sizeof(ev.u.audit.result), "%s", result);
	emit(d, &ev);
	if (d->ev)
		cd_evsink_flush(d->ev);
	fprintf(stderr, PROG ": %s by %s: %s\n", what, ev.u.audit.who, result);
}

static void count_reason(struct daemon *d, const char *reason)
{
	json_t *v = json_object_get(d->by_reason, reason);

	json_object_set_new(d->by_reason, reason,
			    json_integer(v ? json_integer_value(v) + 1 : 1));
}

static enum cd_verdict on_packet(void *arg, const struct cd_nfq_pkt *pkt, uint32_t *mark)
{
	struct daemon *d = arg;
	struct cd_decision dec;
	uint64_t now = now_us();

	cd_inspect_packet(d->insp, pkt->data, pkt->len, now, &dec);
	for (unsigned i = 0; i < dec.n_events; i++) {
		emit(d, &dec.ev[i]);
		if (dec.ev[i].action == EGW_EA_BLOCKED && dec.ev[i].type != EGW_EV_ALERT)
			count_reason(d, dec.ev[i].reason);
	}
	if (dec.verdict == CD_DROP && d->inj) {
		int rc = 0;
		if (dec.nxdomain) {
			rc = cd_inject_nxdomain(d->inj, &dec.pkt);
			if (rc == 0)
				d->nxdomain_sent++;
			else
				d->inject_errors++;
		}
		/* kernel mode: the ruleset resets flows decided for good; a
		 * TCP DNS query is not (the connection carries one query per
		 * name), so a refused one that got no answer is reset here */
		if ((!dec.nxdomain || rc < 0) && dec.reset &&
		    (!d->kernel_mode || !dec.final)) {
			rc = cd_inject_rst(d->inj, &dec.pkt);
			if (rc == 0)
				d->rst_sent++;
			else
				d->inject_errors++;
		}
		/* a TCP/53 segment refused or dropped for a name among
		 * several: the resolver's side is reset too (no ruleset does
		 * it), at the sequence number it expects */
		if (dec.reset_server && !dec.nxdomain) {
			rc = cd_inject_rst_server(d->inj, &dec.pkt);
			if (rc == 0)
				d->rst_sent++;
			else if (rc != -EINVAL)
				d->inject_errors++;
		}
	}
	if (dec.flag_dst && d->sets) {
		cd_nft_sets_add(d->sets, dec.pkt.family, dec.pkt.dst);
		cd_nft_sets_remember(d->sets, dec.pkt.family, dec.pkt.dst, now);
	}
	if (d->dp && dec.final && dec.why) {
		/* The flow's decision, for the fast path's flow table: the
		 * first one, and again for any later packet it still punts
		 * (the verdict was lost, the flow evicted or re-decided by a
		 * fast-path reload); then the rest of the flow stays there. */
		struct egw_ipc_flow_verdict v;
		memset(&v, 0, sizeof(v));
		v.family = dec.pkt.family;
		v.proto = dec.pkt.proto;
		v.verdict = dec.verdict == CD_ACCEPT ? EGW_IPC_V_ALLOW :
			    dec.reset ? EGW_IPC_V_RESET : EGW_IPC_V_DROP;
		v.src_port = dec.pkt.sport;
		v.dst_port = dec.pkt.dport;
		memcpy(v.src_ip, dec.pkt.src, 16);
		memcpy(v.dst_ip, dec.pkt.dst, 16);
		snprintf(v.reason, sizeof(v.reason), "%s", dec.why);
		if (dec.why_loc)
			egw_loc_format(dec.why_loc, false, v.rule, sizeof(v.rule));
		if ((v.proto == 6 || v.proto == 17 || v.proto == 1 || v.proto == 58) &&
		    (v.proto == 6 || v.proto == 17 || (!v.src_port && !v.dst_port)))
			cd_dpipc_send_verdict(d->dp, &v);
	}
	if (d->kernel_mode && dec.final) {
		/* the ruleset copies the mark to the flow's ct mark: allowed
		 * flows leave inspection, blocked ones are reset/dropped there */
		if (dec.verdict == CD_ACCEPT) {
			*mark = EGW_NFT_MARK_OK(d->nft_opts.punt_mark);
		} else {
			*mark = EGW_NFT_MARK_BLOCK(d->nft_opts.punt_mark);
			return CD_ACCEPT;
		}
	}
	return dec.verdict;
}

/* ---- policy load / reload ---- */

static int load_policy(const char *path, struct egw_policy **out, char *err, size_t errlen)
{
	struct egw_diag *diag = egw_diag_new();
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	if (!diag) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*out = egw_policy_load(path, diag);
	if (*out) {
		egw_diag_free(diag);
		return 0;
	}
	mem = open_memstream(&buf, &len);
	if (mem) {
		egw_diag_sort(diag);
		egw_diag_print(diag, mem);
		fclose(mem);
	}
	if (buf && len && len < errlen) {
		snprintf(err, errlen, "%s", buf);
	} else if (buf && len && errlen > 160) {
		/* Whole lines that fit, then how many did not (cut in the
		 * middle of a line, the last one would mislead). */
		size_t keep = 0, more = 0;
		for (size_t i = 0; i < len; i++)
			if (buf[i] == '\n') {
				if (i + 1 <= errlen - 160)
					keep = i + 1;
				else
					more++;
			}
		if (len && buf[len - 1] != '\n')
			more++;
		snprintf(err, errlen, "%.*s... and %zu more error line(s): egwctl policy check "
			 "%s lists them all", (int)keep, buf, more, path);
	} else if (buf && len) {
		snprintf(err, errlen, "%s", buf);
	} else
		snprintf(err, errlen, "%s: cannot load the policy: %s", path, strerror(errno));
	/* no trailing newline */
	len = strlen(err);
	while (len && err[len - 1] == '\n')
		err[--len] = '\0';
	free(buf);
	egw_diag_free(diag);
	return -1;
}

static void reload_abort(void *arg)
{
	struct daemon *d = arg;

	if (d->dp_prepared) {
		char e[256];
		if (cd_dpipc_reload(d->dp, EGW_IPC_RELOAD_ABORT, d->generation, "", 10000,
				    e, sizeof(e)) < 0)
			fprintf(stderr, PROG ": fast path abort: %s\n", e);
		d->dp_prepared = false;
	}

	cd_inspect_free(d->next_insp);
	egw_policy_free(d->next_pol);
	free(d->next_ruleset);
	d->next_insp = NULL;
	d->next_pol = NULL;
	d->next_ruleset = NULL;
}

static int reload_prepare(void *arg, char *err, size_t errlen)
{
	struct daemon *d = arg;

	reload_abort(d);
	if (load_policy(d->config, &d->next_pol, err, errlen) < 0)
		return -1;
	d->next_insp = cd_inspect_new(d->next_pol, err, errlen);
	if (!d->next_insp)
		goto fail;
	if (d->kernel_mode) {
		d->next_ruleset = cd_kernel_compile(d->next_pol, &d->nft_opts, err, errlen);
		if (!d->next_ruleset ||
		    cd_kernel_apply(d->next_ruleset, d->nft_opts.table, true, err, errlen) < 0)
			goto fail;
	}
	if (d->dp && cd_dpipc_connected(d->dp)) {
		/* the fast path prepares too: both or neither */
		d->generation++;
		if (cd_dpipc_reload(d->dp, EGW_IPC_RELOAD_PREPARE, d->generation, d->next_pol->path,
				    60000, err, errlen) < 0)
			goto fail;
		d->dp_prepared = true;
	}
	return 0;
fail:
	reload_abort(d);
	return -1;
}

static int reload_commit(void *arg, char *err, size_t errlen)
{
	struct daemon *d = arg;
	bool fail_open;

	if (!d->next_pol) {
		snprintf(err, errlen, "nothing prepared");
		return -1;
	}
	egw_notify("RELOADING=1");
	if (d->kernel_mode && d->sets && cd_nft_sets_remembered(d->sets, now_us())) {
		/* the new table's flagged sets start empty: restore them in the
		 * same transaction (docs/kernel-mode.md) */
		size_t cap = strlen(d->next_ruleset) + CD_NFT_SETS_KEEP * 110 + 1;
		char *rs = malloc(cap);
		if (rs) {
			size_t l = strlen(d->next_ruleset);
			memcpy(rs, d->next_ruleset, l + 1);
			if (cd_nft_sets_restore_text(d->sets, now_us(), rs + l, cap - l) >= 0) {
				free(d->next_ruleset);
				d->next_ruleset = rs;
			} else {
				free(rs);
			}
		}
	}
	if (d->dp_prepared) {
		d->dp_prepared = false;
		if (cd_dpipc_reload(d->dp, EGW_IPC_RELOAD_COMMIT, d->generation, "", 60000,
				    err, errlen) < 0) {
			reload_abort(d);
			egw_notify("READY=1");
			return -1;
		}
	}
	if (d->kernel_mode &&
	    cd_kernel_apply(d->next_ruleset, d->nft_opts.table, false, err, errlen) < 0) {
		reload_abort(d);
		egw_notify("READY=1");
		return -1;
	}
	fail_open = d->next_pol->gateway.fail_mode == EGW_FAIL_OPEN;
	cd_inspect_free(d->insp);
	egw_policy_free(d->pol);
	d->insp = d->next_insp;
	d->pol = d->next_pol;
	if (d->hairpin)
		cd_hairpin_set_l2(d->hairpin, d->hairpin_mac, d->pol);
	free(d->next_ruleset);
	d->next_insp = NULL;
	d->next_pol = NULL;
	d->next_ruleset = NULL;
	if (fail_open != d->nfq_cfg.fail_open) {
		char e2[256];
		d->nfq_cfg.fail_open = fail_open;
		d->qr.bypass = fail_open;
		if (cd_nfq_set_fail_open(d->nfq, fail_open) < 0 ||
		    cd_queue_rule_install(&d->qr, e2, sizeof(e2)) < 0)
			fprintf(stderr, PROG ": applying fail_mode %s: %s\n",
				fail_open ? "open" : "closed", e2);
	}
	egw_notify("READY=1");
	return 0;
}

static void sighup_reload(struct daemon *d)
{
	char err[8192];
	int rc = reload_prepare(d, err, sizeof(err));

	if (rc == 0)
		rc = reload_commit(d, err, sizeof(err));
	if (rc == 0) {
		d->reloads_ok++;
		audit(d, NULL, "reload", "ok");
	} else {
		d->reloads_failed++;
		fprintf(stderr, PROG ": reload refused, the old policy stays:\n%s\n", err);
		char res[64];
		snprintf(res, sizeof(res), "failed: %.54s", err);
		char *nl = strchr(res, '\n');
		if (nl)
			*nl = '\0';
		audit(d, NULL, "reload", res);
	}
}

static int mgmt_prepare(void *arg, char *err, size_t errlen)
{
	return reload_prepare(arg, err, errlen);
}

static int mgmt_commit(void *arg, char *err, size_t errlen)
{
	struct daemon *d = arg;
	int rc = reload_commit(arg, err, errlen);

	if (rc == 0)
		d->reloads_ok++;
	else
		d->reloads_failed++;
	return rc;
}

/* ---- stats, flows ---- */

static json_t *stats(void *arg)
{
	struct daemon *d = arg;
	struct cd_nfq_stats q;
	struct cd_inspect_stats s;
	struct cd_dpipc_stats f = { 0 };
	json_t *o;

	cd_nfq_get_stats(d->nfq, &q);
	cd_inspect_get_stats(d->insp, &s);
	if (d->dp)
		cd_dpipc_get_stats(d->dp, &f);
	o = json_pack(
		"{s:s,s:s,s:s,s:I,"
		"s:{s:b,s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i},"
		"s:{s:I,s:I,s:I,s:O},"
		"s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},"
		"s:{s:I,s:I,s:I},"
		"s:{s:I,s:I},"
		"s:{s:I,s:I},"
		"s:{s:I,s:I}}",
		"daemon", "egw-controld",
		"mode", d->kernel_mode ? "kernel" : "dataplane",
		"policy", d->config,
		"uptime_s", (json_int_t)((now_us() - d->start_us) / 1000000u),
		"queue",
		"native", d->qr.native, "first", d->nfq_cfg.queue_num,
		"count", d->nfq_cfg.queue_count,
		"packets", (json_int_t)q.packets, "accepted", (json_int_t)q.accepted,
		"dropped", (json_int_t)q.dropped, "socket_overruns", (json_int_t)q.enobufs,
		"queue_full_dropped", (json_int_t)q.kernel_queue_dropped,
		"user_dropped", (json_int_t)q.kernel_user_dropped,
		"queue_drops", (json_int_t)(q.kernel_queue_dropped + q.kernel_user_dropped + q.enobufs),
		"truncated", (json_int_t)q.truncated,
		"waiting", (int)q.queue_total,
		"verdicts",
		"accepted", (json_int_t)s.accepted, "dropped", (json_int_t)s.dropped,
		"unparsable", (json_int_t)s.unparsable, "drop_reasons", d->by_reason,
		"inspect",
		"packets", (json_int_t)s.packets, "dns", (json_int_t)s.dns,
		"tls", (json_int_t)s.tls, "http", (json_int_t)s.http,
		"dns_refused", (json_int_t)s.dns_refused,
		"category_blocked", (json_int_t)s.category_blocked,
		"doh_blocked", (json_int_t)s.doh_blocked,
		"tunnel_flagged", (json_int_t)s.tunnel_flagged,
		"default_denied", (json_int_t)s.default_denied,
		"flows", (json_int_t)s.flows_cached, "flow_evictions", (json_int_t)s.flow_evictions,
		"injected",
		"nxdomain", (json_int_t)d->nxdomain_sent, "rst", (json_int_t)d->rst_sent,
		"errors", (json_int_t)d->inject_errors,
		"flagged",
		"added", (json_int_t)(d->sets ? cd_nft_sets_added(d->sets) : 0),
		"errors", (json_int_t)d->flag_errors,
		"events",
		"written", (json_int_t)(d->ev ? cd_evsink_count(d->ev) : 0),
		"errors", (json_int_t)(d->ev ? cd_evsink_errors(d->ev) : 0),
		"reloads", "ok", (json_int_t)d->reloads_ok, "failed", (json_int_t)d->reloads_failed);
	if (o && d->dp)
		json_object_set_new(o, "fastpath", json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:I}",
			"socket", d->dp_path, "connected", f.connected,
			"events", (json_int_t)f.events, "events_lost", (json_int_t)f.events_lost,
			"verdicts_sent", (json_int_t)f.verdicts_sent,
			"send_errors", (json_int_t)f.send_errors,
			"protocol_errors", (json_int_t)f.protocol_errors));
	return o;
}

struct flow_filter {
	json_t *a;
	const char *unit;          /* "" or a unit name */
	bool has_ip;
	struct egw_prefix ip;
};

static void flow_to_json(void *arg, const struct cd_flow_info *f)
{
	struct flow_filter *ff = arg;
	char s[INET6_ADDRSTRLEN], t[INET6_ADDRSTRLEN], loc[128] = "";
	int af = f->family;

	if (ff->unit[0] && strcmp(ff->unit, f->unit))
		return;
	if (ff->has_ip && !egw_prefix_contains(&ff->ip, af, f->src) &&
	    !egw_prefix_contains(&ff->ip, af, f->dst))
		return;
	inet_ntop(af, f->src, s, sizeof(s));
	inet_ntop(af, f->dst, t, sizeof(t));
	if (f->loc)
		egw_loc_format(f->loc, false, loc, sizeof(loc));
	json_array_append_new(ff->a, json_pack("{s:s,s:s,s:s,s:i,s:s,s:i,s:i,s:s,s:s,s:s}",
		"unit", f->unit, "user", f->user,
		"src_ip", s, "src_port", f->sport, "dest_ip", t, "dest_port", f->dport,
		"proto", f->proto,
		"verdict", !f->decided ? "pending" : f->verdict == CD_ACCEPT ? "allowed" : "blocked",
		"reason", f->reason ? f->reason : "", "rule", loc));
}

static json_t *flows(void *arg, const struct cd_mgmt_req *req)
{
	struct daemon *d = arg;
	struct flow_filter ff = { .a = json_array(), .unit = req->unit };
	const char *why;

	if (!ff.a)
		return NULL;
	if (req->ip[0])
		ff.has_ip = egw_prefix_parse(req->ip, &ff.ip, &why) == 0;
	cd_inspect_foreach_flow(d->insp, now_us(), flow_to_json, &ff);
	return json_pack("{s:o}", "flows", ff.a);
}

/* ---- start-up and the loop ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --config FILE (-c) [--kernel-mode (-k)] [options]\n"
		"  --queue-num N      first nfqueue (default 0)\n"
		"  --queues N         fan out over N queues, 1..16 (default 1)\n"
		"  --queue-maxlen N   kernel queue length (default 8192)\n"
		"  --punt-iif IF      dataplane mode: interface punted packets arrive on (default egw-punt)\n"
		"  --inside-if IF, --outside-if IF   kernel mode: the gateway's interfaces\n"
		"  --run-dir DIR      management sockets (default /run/egw)\n"
		"  --flag-timeout S   flagged destinations stay S seconds (default 600)\n"
		"  --dataplane-sock P the fast path's IPC socket (default " EGW_IPC_PATH ")\n"
		"  --no-punt-hairpin  do not route accepted punted packets back out of the punt\n"
		"                     interface (when the fast path's tap is set up otherwise)\n"
		"  --punt-hairpin-mac M  MAC of the units' gateway (upstream router) for packets\n"
		"                     routed back out of the punt tap (bump-in-the-wire fast path)\n"
		"  --keep-caps        do not drop capabilities (debugging)\n");
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "kernel-mode", no_argument, NULL, 'k' },
		{ "queue-num", required_argument, NULL, 'q' },
		{ "queues", required_argument, NULL, 'n' },
		{ "queue-maxlen", required_argument, NULL, 'm' },
		{ "punt-iif", required_argument, NULL, 'i' },
		{ "inside-if", required_argument, NULL, 'I' },
		{ "outside-if", required_argument, NULL, 'O' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "flag-timeout", required_argument, NULL, 't' },
		{ "keep-caps", no_argument, NULL, 'K' },
		{ "dataplane-sock", required_argument, NULL, 'D' },
		{ "no-punt-hairpin", no_argument, NULL, 'H' },
		{ "punt-hairpin-mac", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;
	char *end;
	unsigned long v;

	while ((c = getopt_long(argc, argv, "c:kh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d->config = optarg; break;
		case 'k': d->kernel_mode = true; break;
		case 'i': d->qr.iifname = optarg; break;
		case 'I': d->nft_opts.inside_if = optarg; break;
		case 'O': d->nft_opts.outside_if = optarg; break;
		case 'r': d->run_dir = optarg; break;
		case 'K': d->keep_caps = true; break;
		case 'D': d->dp_path = optarg; break;
		case 'H': d->hairpin_on = false; break;
		case 'M': d->hairpin_mac = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'q': case 'n': case 'm': case 't':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg ||
			    (c == 'q' && v > 65535) || (c == 'n' && (v < 1 || v > CD_NFQ_MAX_QUEUES)) ||
			    (c == 'm' && (v < 1 || v > 1u << 24)) || (c == 't' && (v < 1 || v > 86400 * 7))) {
				fprintf(stderr, PROG ": bad value '%s' for --%s\n", optarg,
					c == 'q' ? "queue-num" : c == 'n' ? "queues" :
					c == 'm' ? "queue-maxlen" : "flag-timeout");
				return -1;
			}
			if (c == 'q')
				d->nfq_cfg.queue_num = (uint16_t)v;
			else if (c == 'n')
				d->nfq_cfg.queue_count = (uint16_t)v;
			else if (c == 'm')
				d->nfq_cfg.maxlen = (uint32_t)v;
			else
				d->flag_timeout = (unsigned)v;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (!d->config || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void shutdown_all(struct daemon *d)
{
	egw_notify("STOPPING=1");
	if (d->sets) {
		char *e = NULL;
		cd_nft_sets_flush(d->sets, &e);
		free(e);
	}
	cd_hairpin_remove(d->hairpin);
	cd_hairpin_free(d->hairpin);
	if (d->qr_installed && cd_queue_rule_remove(&d->qr) < 0)
		fprintf(stderr, PROG ": removing the punt rules failed\n");
	if (d->kernel_applied && cd_kernel_remove(d->nft_opts.table) < 0)
		fprintf(stderr, PROG ": removing table inet %s failed\n", d->nft_opts.table);
	cd_nfq_close(d->nfq);
	cd_mgmt_close(d->mgmt);
	reload_abort(d);
	cd_dpipc_free(d->dp);
	cd_inject_close(d->inj);
	cd_nft_sets_free(d->sets);
	cd_evsink_close(d->ev);
	reload_abort(d);
	cd_inspect_free(d->insp);
	egw_policy_free(d->pol);
	json_decref(d->by_reason);
}

int main(int argc, char **argv)
{
	static struct daemon dd;
	struct daemon *d = &dd;
	char err[8192];
	sigset_t mask;
	int sfd, rc = 1;
	bool running = true;
	uint64_t next_hairpin_us = 0;

	d->run_dir = "/run/egw";
	d->dp_path = EGW_IPC_PATH;
	d->hairpin_on = true;
	d->flag_timeout = 600;
	cd_nfq_cfg_default(&d->nfq_cfg);
	cd_queue_rule_cfg_default(&d->qr);
	egw_nft_opts_default(&d->nft_opts);
	if (parse_args(d, argc, argv) < 0)
		return 2;
	d->start_us = now_us();
	d->by_reason = json_object();

	/* Signals first: a SIGTERM during start-up still cleans up. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		fprintf(stderr, PROG ": signalfd: %s\n", strerror(errno));
		return 1;
	}

	if (load_policy(d->config, &d->pol, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n" PROG ": bad policy, not starting\n", err);
		goto out;
	}
	d->insp = cd_inspect_new(d->pol, err, sizeof(err));
	if (!d->insp) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	d->nfq_cfg.fail_open = d->pol->gateway.fail_mode == EGW_FAIL_OPEN;
	d->mgmt = cd_mgmt_open(d->run_dir, &(struct cd_mgmt_ops){
		.stats = stats, .flows = flows, .reload_prepare = mgmt_prepare,
		.reload_commit = mgmt_commit, .reload_abort = reload_abort,
		.audit = audit, .arg = d }, err, sizeof(err));
	if (!d->mgmt) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	d->nfq = cd_nfq_open(&d->nfq_cfg, err, sizeof(err));
	if (!d->nfq) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	/* the log after the socket and the queue: a second daemon is told
	 * "socket in use" / "queue bound", the clearest reasons */
	d->ev = cd_evsink_open_elog(d->pol->log.directory, d->pol->log.retention_days,
				    d->pol->log.compress == EGW_COMPRESS_ZSTD, err, sizeof(err));
	if (!d->ev) {
		fprintf(stderr, PROG ": behaviour log %s: %s\n", d->pol->log.directory, err);
		goto out;
	}
	if (!d->kernel_mode) {
		d->dp = cd_dpipc_new(d->dp_path, d->ev);
		if (!d->dp) {
			fprintf(stderr, PROG ": fast path socket %s: %s\n", d->dp_path, strerror(errno));
			goto out;
		}
		cd_dpipc_tick(d->dp, now_us());
	}
	d->inj = cd_inject_open();
	if (!d->inj)
		fprintf(stderr, PROG ": raw sockets unavailable (%s): refused DNS queries and connections are dropped, not answered\n",
			strerror(errno));

	int native = cd_queue_detect_native(err, sizeof(err));
	if (native < 0) {
		fprintf(stderr, PROG ": nftables does not work: %s\n", err);
		goto out;
	}
	d->qr.native = native == 1;
	d->qr.kernel_mode = d->kernel_mode;
	d->qr.queue_num = d->nfq_cfg.queue_num;
	d->qr.queue_count = d->nfq_cfg.queue_count;
	d->qr.bypass = d->nfq_cfg.fail_open;
	d->nft_opts.queue_mode = native == 1 ? EGW_NFT_QUEUE_NATIVE : EGW_NFT_QUEUE_MARK;
	d->nft_opts.queue_num = d->nfq_cfg.queue_num;
	d->nft_opts.queue_count = d->nfq_cfg.queue_count;
	d->qr.mark = d->nft_opts.punt_mark;

	if (d->kernel_mode) {
		char *rs = cd_kernel_compile(d->pol, &d->nft_opts, err, sizeof(err));
		if (!rs || cd_kernel_apply(rs, d->nft_opts.table, false, err, sizeof(err)) < 0) {
			free(rs);
			fprintf(stderr, "%s\n" PROG ": the kernel refused the ruleset, not starting\n", err);
			goto out;
		}
		free(rs);
		d->kernel_applied = true;
	}
	/* installed-flag first: a half-installed rule is removed too */
	d->qr_installed = true;
	if (cd_queue_rule_install(&d->qr, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	if (d->hairpin_on && !d->kernel_mode) {
		d->hairpin = cd_hairpin_new(d->qr.iifname);
		if (!d->hairpin) {
			fprintf(stderr, PROG ": punt hairpin: bad interface name %s\n", d->qr.iifname);
			goto out;
		}
		if (cd_hairpin_set_l2(d->hairpin, d->hairpin_mac, d->pol) < 0) {
			fprintf(stderr, PROG ": --punt-hairpin-mac %s: not a MAC address\n",
				d->hairpin_mac);
			goto out;
		}
		cd_hairpin_tick(d->hairpin);
	}
	d->sets = cd_nft_sets_new(d->kernel_mode ? d->nft_opts.table : d->qr.table,
				  d->flag_timeout);
	if (!d->keep_caps && cd_priv_drop(err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	fprintf(stderr, PROG ": running (%s mode, policy %s, nfqueue %u%s%u, %s punt, fail %s)\n",
		d->kernel_mode ? "kernel" : "dataplane", d->config, d->nfq_cfg.queue_num,
		d->nfq_cfg.queue_count > 1 ? "+" : " x", d->nfq_cfg.queue_count,
		d->qr.native ? "nft queue" : "mark + iptables-nft NFQUEUE",
		d->nfq_cfg.fail_open ? "open" : "closed");
	egw_notify("READY=1\nSTATUS=inspecting punted traffic");

	while (running) {
		struct pollfd pf[2 + CD_NFQ_MAX_QUEUES + 2 + CD_MGMT_MAX_CLIENTS];
		int fds[CD_NFQ_MAX_QUEUES + 2 + CD_MGMT_MAX_CLIENTS];
		size_t nq, nm, n = 0;

		pf[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		nq = cd_nfq_fds(d->nfq, fds, CD_NFQ_MAX_QUEUES);
		for (size_t i = 0; i < nq; i++)
			pf[n++] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		nm = cd_mgmt_fds(d->mgmt, fds + nq, 2 + CD_MGMT_MAX_CLIENTS);
		for (size_t i = 0; i < nm; i++)
			pf[n++] = (struct pollfd){ .fd = fds[nq + i], .events = POLLIN };
		size_t dpi = n;
		if (d->dp && cd_dpipc_fd(d->dp) >= 0)
			pf[n++] = (struct pollfd){ .fd = cd_dpipc_fd(d->dp), .events = POLLIN };
		if (poll(pf, n, ELOG_TICK_MS) < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			break;
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					sighup_reload(d);
				else
					running = false;
			}
		}
		for (size_t i = 0; i < nq; i++)
			if (pf[1 + i].revents & (POLLIN | POLLERR)) {
				int r = cd_nfq_process(d->nfq, i, on_packet, d);
				if (r < 0 && r != -EAGAIN)
					fprintf(stderr, PROG ": nfqueue: %s\n", strerror(-r));
			}
		/* controld's own events of this nfqueue batch, in one call */
		cd_evsink_push(d->ev);
		for (size_t i = 0; i < nm; i++)
			if (pf[1 + nq + i].revents & (POLLIN | POLLERR | POLLHUP))
				cd_mgmt_handle(d->mgmt, pf[1 + nq + i].fd);
		if (dpi < n && (pf[dpi].revents & (POLLIN | POLLERR | POLLHUP)))
			cd_dpipc_handle(d->dp);
		if (d->dp)
			cd_dpipc_tick(d->dp, now_us());
		if (d->hairpin && now_us() >= next_hairpin_us) {
			cd_hairpin_tick(d->hairpin);
			next_hairpin_us = now_us() + 1000000u;
		}
		if (cd_nft_sets_pending(d->sets)) {
			char *e = NULL;
			if (cd_nft_sets_flush(d->sets, &e) < 0) {
				d->flag_errors++;
				fprintf(stderr, PROG ": flagging destinations failed: %s", e ? e : "?\n");
			}
			free(e);
		}
		cd_evsink_tick(d->ev);
	}
	fprintf(stderr, PROG ": stopping, removing rules\n");
	rc = 0;
out:
	shutdown_all(d);
	close(sfd);
	return rc;
}
