/* SPDX-License-Identifier: MIT */
/*
 * The verdict on a flow-table miss for a packet from the inside, in the
 * order policy.md's "Semantics every back end must share" fixes:
 *   1. identity: unit by longest prefix on the source, terminal by address;
 *      a registered address with another MAC is spoofing (always dropped);
 *      under strict binding an unregistered address, and under any binding a
 *      source in no unit, gets terminals.unregistered.
 *   2. DNS (UDP/TCP 53) to a resolver neither in dns.resolvers nor located
 *      in dns.resolver_regions gets dns.violation; DoT (853) to such a
 *      resolver is dropped when block_dot; any traffic to the doh category's
 *      addresses is dropped when block_doh.
 *   3. the unit's profile, first match; no match denies at the profile.
 *      Only the rules that can hold for the destination's address class are
 *      tried (dp_tables.h, "Compiled first-match walk").
 * Every verdict carries the policy location of the rule or setting that
 * took it.
 *
 * Non-first fragments (pkt->l4_known false) are matched on L3 only and
 * conservatively: a condition on ports that cannot be checked counts as
 * holding for a deny/punt/DNS/DoT decision and as failing for an allow, so
 * no fragment slips past a port rule. The worker prefers the verdict it
 * recorded for the fragment's first fragment.
 *
 * Thread-safe: reads the tables only.
 */
#ifndef DP_POLICY_H
#define DP_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "dp_parse.h"
#include "dp_tables.h"

enum dp_action {
	DP_ACT_ALLOW = 0,
	DP_ACT_DROP,
	DP_ACT_PUNT,
	DP_ACT_REDIRECT,   /* DNS to dns.redirect_to (a drop until rewriting exists) */
};

/* Why: the egw.reason of the events. */
#define DP_REASONS(X) \
	X(NONE, "") \
	X(UNREGISTERED, "unregistered") \
	X(SPOOF, "spoof") \
	X(DNS_RESOLVER, "dns-resolver") \
	X(DOT, "dot") \
	X(DOH, "doh") \
	X(CATEGORY, "category") \
	X(COUNTRY, "country") \
	X(DST, "dst") \
	X(PORT, "port") \
	X(RULE, "rule") \
	X(PROFILE_DEFAULT, "profile-default") \
	X(CONTROL, "control-plane") \
	X(FAIL_OPEN, "fail-open") \
	X(TUNNEL, "tunnel-suspect") \
	X(DNS_SPLIT, "dns-split")          /* TCP/53: not whole messages at a boundary */ \
	X(DNS_MALFORMED, "dns-malformed")  /* TCP/53: a message that is not a query */

enum dp_reason {
#define DP_REASON_ENUM(e, s) DP_R_##e,
	DP_REASONS(DP_REASON_ENUM)
#undef DP_REASON_ENUM
	DP_R__COUNT
};

struct dp_verdict {
	uint8_t action;     /* enum dp_action */
	uint8_t reason;     /* enum dp_reason */
	uint8_t drop;       /* enum dp_drop when action is DROP/REDIRECT */
	int16_t category;   /* DP_R_CATEGORY: index into pol->categories */
	int32_t unit;       /* -1: source in no unit */
	const struct egw_terminal *term; /* NULL: not a registered terminal */
	const struct egw_loc *loc;       /* the deciding rule or setting */
};

void dp_policy_decide(const struct dp_tables *t, const struct dp_pkt *pkt,
		      struct dp_verdict *v);
/*
 * Test-only reference: the same decision by walking every rule of the
 * profile in full (no compiled candidate lists) and asking the class
 * bitmap the DNS step's questions (not dp_tables.class_flags). Tests
 * compare it with dp_policy_decide; the fast path never calls it.
 */
void dp_policy_decide_ref(const struct dp_tables *t, const struct dp_pkt *pkt,
			  struct dp_verdict *v);

/* "category:commercial-mail", "spoof", ... into buf. Returns buf. */
char *dp_reason_format(const struct dp_verdict *v, const struct egw_policy *pol,
		       char *buf, size_t cap);
/* The verdict's action and reason when rule r decides (for dp_tables_build). */
enum dp_action dp_rule_action(const struct egw_rule *r);
enum dp_reason dp_rule_reason(const struct egw_rule *r);

const char *dp_action_name(enum dp_action a); /* "allow" "drop" "punt" "redirect" */

#endif
