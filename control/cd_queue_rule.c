/* SPDX-License-Identifier: MIT */
/* Punt rules: detection, installation, removal. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cd_nft.h"
#include "cd_queue_rule.h"
#include "cd_spawn.h"

#define XT_TABLE "mangle"
#define XT_CHAIN "EGW_PUNT"

static const char *const iptables_paths[] = {
	"/usr/sbin/iptables-nft", "/sbin/iptables-nft", NULL };
static const char *const ip6tables_paths[] = {
	"/usr/sbin/ip6tables-nft", "/sbin/ip6tables-nft", NULL };

void cd_queue_rule_cfg_default(struct cd_queue_rule_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->iifname = "egw-punt";
	c->table = "egw_punt";
	c->queue_count = 1;
	c->mark = 0x00e90001;
}

static void one_line(char *s)
{
	char *nl;

	/* nft errors are "Error: ...\n<cmd>\n   ^^^^\n": keep the first line */
	if ((nl = strchr(s, '\n')))
		*nl = '\0';
}

int cd_queue_detect_native(char *err, size_t errlen)
{
	char buf[512], *e = NULL;
	int rc;

	snprintf(buf, sizeof(buf),
		 "add table inet egw_qprobe_%d\n"
		 "add chain inet egw_qprobe_%d c { type filter hook forward priority 0; }\n"
		 "add rule inet egw_qprobe_%d c queue num 0 bypass\n",
		 (int)getpid(), (int)getpid(), (int)getpid());
	rc = cd_nft_run(buf, true, &e);
	if (rc == 0) {
		free(e);
		return 1;
	}
	/* The probe table itself is valid nft: a failure means the kernel
	 * refused the queue expression (ENOENT), unless nft cannot work at all. */
	snprintf(err, errlen, "%s", e ? e : "nftables failed");
	one_line(err);
	rc = (e && strstr(e, "No such file or directory")) ? 0 : -1;
	free(e);
	if (rc == -1) {
		/* tell "nft broken" apart: can we add a plain table? */
		snprintf(buf, sizeof(buf), "add table inet egw_qprobe_%d\n", (int)getpid());
		if (cd_nft_run(buf, true, NULL) == 0)
			rc = 0;
	}
	return rc;
}

static int put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= cap)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, cap - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

static void queue_spec(const struct cd_queue_rule_cfg *c, char *s, size_t cap)
{
	if (c->queue_count > 1)
		snprintf(s, cap, "queue num %u-%u%s", c->queue_num,
			 c->queue_num + c->queue_count - 1, c->bypass ? " bypass" : "");
	else
		snprintf(s, cap, "queue num %u%s", c->queue_num, c->bypass ? " bypass" : "");
}

int cd_queue_rule_nft_text(const struct cd_queue_rule_cfg *c, char *buf, size_t cap)
{
	size_t off = 0;
	char q[64];
	int r = 0;

	queue_spec(c, q, sizeof(q));
	r |= put(buf, cap, &off, "table inet %s\ndelete table inet %s\n", c->table, c->table);
	r |= put(buf, cap, &off, "table inet %s {\n", c->table);
	r |= put(buf, cap, &off, "\tset flagged_v4 { type ipv4_addr; flags timeout; }\n");
	r |= put(buf, cap, &off, "\tset flagged_v6 { type ipv6_addr; flags timeout; }\n");
	r |= put(buf, cap, &off,
		 "\tchain forward {\n\t\ttype filter hook forward priority -155; policy accept;\n");
	r |= put(buf, cap, &off, "\t\tiifname \"%s\" ip daddr @flagged_v4 counter drop comment \"flagged by egw-controld\"\n", c->iifname);
	r |= put(buf, cap, &off, "\t\tiifname \"%s\" ip6 daddr @flagged_v6 counter drop comment \"flagged by egw-controld\"\n", c->iifname);
	if (c->native)
		r |= put(buf, cap, &off, "\t\tiifname \"%s\" counter %s comment \"punt to egw-controld\"\n",
			 c->iifname, q);
	else
		r |= put(buf, cap, &off, "\t\tiifname \"%s\" counter meta mark set 0x%08x comment \"punt to egw-controld\"\n",
			 c->iifname, c->mark);
	r |= put(buf, cap, &off, "\t}\n}\n");
	return r ? -1 : (int)off;
}

static int xt(const char *bin, const char *a1, const char *a2, const char *a3,
	      bool quiet)
{
	const char *argv[] = { bin, "-w", "5", "-t", XT_TABLE, a1, a2, a3, NULL };
	if (!a3)
		argv[7] = NULL;
	if (!a2)
		argv[6] = NULL;
	return cd_spawn(argv, quiet);
}

static void xt_remove(const char *bin)
{
	/* Delete every jump (a crashed predecessor may have left more). */
	for (int i = 0; i < 16; i++)
		if (cd_spawn((const char *[]){ bin, "-w", "5", "-t", XT_TABLE, "-D",
					 "FORWARD", "-j", XT_CHAIN, NULL }, true) != 0)
			break;
	xt(bin, "-F", XT_CHAIN, NULL, true);
	xt(bin, "-X", XT_CHAIN, NULL, true);
}

static int xt_install(const char *bin, const struct cd_queue_rule_cfg *c,
		      char *err, size_t errlen)
{
	char mark[32], qn[16], bal[32];
	const char *argv[24];
	int n = 0, rc;

	snprintf(mark, sizeof(mark), "0x%x", c->mark);
	snprintf(qn, sizeof(qn), "%u", c->queue_num);
	snprintf(bal, sizeof(bal), "%u:%u", c->queue_num, c->queue_num + c->queue_count - 1);
	rc = xt(bin, "-N", XT_CHAIN, NULL, false);
	if (rc != 0)
		goto fail;
	argv[n++] = bin;
	argv[n++] = "-w";
	argv[n++] = "5";
	argv[n++] = "-t";
	argv[n++] = XT_TABLE;
	argv[n++] = "-A";
	argv[n++] = XT_CHAIN;
	argv[n++] = "-m";
	argv[n++] = "mark";
	argv[n++] = "--mark";
	argv[n++] = mark;
	argv[n++] = "-j";
	argv[n++] = "NFQUEUE";
	if (c->queue_count > 1) {
		argv[n++] = "--queue-balance";
		argv[n++] = bal;
	} else {
		argv[n++] = "--queue-num";
		argv[n++] = qn;
	}
	if (c->bypass)
		argv[n++] = "--queue-bypass";
	argv[n] = NULL;
	rc = cd_spawn(argv, false);
	if (rc != 0)
		goto fail;
	rc = cd_spawn((const char *[]){ bin, "-w", "5", "-t", XT_TABLE, "-I",
				  "FORWARD", "-j", XT_CHAIN, NULL }, false);
	if (rc != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: installing the NFQUEUE rule failed (%s %d)", bin,
		 rc < 0 ? "error" : "exit", rc < 0 ? -rc : rc);
	return -1;
}

/* iptables-nft leaves table <family> security with its empty base chains:
 * remove it when no rule is left in it (an empty table does nothing). */
static void drop_empty_xt_table(const char *family)
{
	char cmd[64], *out = NULL, *line, *save = NULL;
	bool rules = false;

	snprintf(cmd, sizeof(cmd), "list table %s " XT_TABLE "\n", family);
	if (cd_nft_query(cmd, &out, NULL) < 0 || !out) {
		free(out);
		return;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == '\t' || *line == ' ')
			line++;
		if (!*line || *line == '#' || *line == '}' || !strncmp(line, "table ", 6) ||
		    !strncmp(line, "chain ", 6) || !strncmp(line, "type ", 5))
			continue;
		rules = true;
	}
	free(out);
	if (!rules) {
		snprintf(cmd, sizeof(cmd), "delete table %s " XT_TABLE "\n", family);
		cd_nft_run(cmd, false, NULL);
	}
}

int cd_queue_rule_remove(const struct cd_queue_rule_cfg *c)
{
	const char *b4 = cd_spawn_find(iptables_paths);
	const char *b6 = cd_spawn_find(ip6tables_paths);
	char buf[256];
	int rc = 0;

	if (!c->kernel_mode) {
		snprintf(buf, sizeof(buf), "table inet %s\ndelete table inet %s\n",
			 c->table, c->table);
		if (cd_nft_run(buf, false, NULL) < 0)
			rc = -1;
	}
	if (b4) {
		xt_remove(b4);
		drop_empty_xt_table("ip");
	}
	if (b6) {
		xt_remove(b6);
		drop_empty_xt_table("ip6");
	}
	return rc;
}

int cd_queue_rule_install(const struct cd_queue_rule_cfg *c, char *err, size_t errlen)
{
	char *text = NULL, *e = NULL;
	size_t cap = 4096;
	const char *b4, *b6;

	cd_queue_rule_remove(c); /* a killed predecessor's leftovers */
	if (!c->kernel_mode) {
		text = malloc(cap);
		if (!text || cd_queue_rule_nft_text(c, text, cap) < 0) {
			snprintf(err, errlen, "punt rule: out of memory");
			goto fail;
		}
		if (cd_nft_run(text, false, &e) < 0) {
			snprintf(err, errlen, "punt rule: nftables refused it: %s",
				 e ? e : "?");
			one_line(err);
			goto fail;
		}
	}
	if (!c->native) {
		b4 = cd_spawn_find(iptables_paths);
		b6 = cd_spawn_find(ip6tables_paths);
		if (!b4 || !b6) {
			snprintf(err, errlen,
				 "punt rule: this kernel has no nft queue and iptables-nft/ip6tables-nft is not installed");
			goto fail;
		}
		if (xt_install(b4, c, err, errlen) < 0 || xt_install(b6, c, err, errlen) < 0)
			goto fail;
	}
	free(text);
	free(e);
	return 0;
fail:
	free(text);
	free(e);
	cd_queue_rule_remove(c);
	return -1;
}
