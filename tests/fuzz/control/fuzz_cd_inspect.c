/* SPDX-License-Identifier: MIT */
/*
 * A sequence of queued packets through egw-controld's inspection
 * (cd_inspect_packet: the flow cache, DNS over UDP and over TCP read as a
 * stream, TLS and HTTP names) under tests/unit/control/data/inspect.cfg.
 * Input: records of [len:2 big endian][packet from its IP header:len].
 * Every decision must hold together: a bounded number of well-formed
 * events, an answer or a server reset only for a dropped TCP/UDP packet,
 * a final decision of a new flow with its reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <egw/diag.h>
#include <egw/policy.h>

#include "cd_inspect.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct egw_policy *pol;
static struct cd_decision d;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* the unit tests' policy, beside this file's tree */
	char path[4096];
	const char *me = __FILE__;
	const char *slash = strrchr(me, '/');
	int n = snprintf(path, sizeof(path), "%.*s/../../unit/control/data/inspect.cfg",
			 slash ? (int)(slash - me) : 1, slash ? me : ".");
	if (n < 0 || (size_t)n >= sizeof(path))
		abort();
	struct egw_diag *diag = egw_diag_new();
	pol = egw_policy_load(path, diag);
	if (!pol) {
		egw_diag_print(diag, stderr);
		abort();
	}
	egw_diag_free(diag);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	/* a fresh inspection per input: a crash replays from its input alone */
	struct cd_inspect *in = cd_inspect_new(pol, err, sizeof(err));
	uint64_t now = 1700000000000000ull;
	size_t off = 0;

	if (!in)
		abort();
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		/* an exact-size copy: an over-read is caught */
		uint8_t *pkt = malloc(len ? len : 1);
		if (!pkt)
			abort();
		memcpy(pkt, data + off, len);
		off += len;
		now += 1000;
		cd_inspect_packet(in, pkt, len, now, &d);
		CHECK(d.verdict == CD_ACCEPT || d.verdict == CD_DROP);
		CHECK(d.n_events <= CD_DECISION_EVENTS);
		for (unsigned i = 0; i < d.n_events; i++) {
			const struct egw_event *ev = &d.ev[i];
			CHECK(ev->type < EGW_EV__COUNT && ev->action < EGW_EA__COUNT);
			CHECK(memchr(ev->reason, 0, sizeof(ev->reason)) != NULL);
			CHECK(memchr(ev->rule, 0, sizeof(ev->rule)) != NULL);
			CHECK(ev->family == AF_INET || ev->family == AF_INET6);
			if (ev->type == EGW_EV_DNS)
				CHECK(memchr(ev->u.dns.rrname, 0, sizeof(ev->u.dns.rrname)) != NULL);
		}
		if (d.nxdomain)
			CHECK(d.verdict == CD_DROP && (d.pkt.proto == 6 || d.pkt.proto == 17));
		if (d.reset_server)
			CHECK(d.verdict == CD_DROP && d.pkt.proto == 6 && d.final && d.reset &&
			      !d.nxdomain && d.pkt.dport == 53);
		if (d.final && !d.reply)
			CHECK(d.why != NULL && d.why_loc != NULL);
		free(pkt);
	}
	cd_inspect_free(in);
	return 0;
}
