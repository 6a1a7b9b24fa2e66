/* SPDX-License-Identifier: MIT */
/* Field-by-field comparison of two parsed packets (dp_parse against
 * dp_parse_fast). Used by test_dp_parse.c and fuzz_parse.c. */
#ifndef TEST_PKT_COMPARE_H
#define TEST_PKT_COMPARE_H

#include <string.h>

#include "dp_parse.h"

/* NULL when a and b hold the same values in every field, else the name of
 * the first field that differs. A field added to struct dp_pkt changes its
 * size and stops this from building until it is compared here too. */
static inline const char *pkt_compare(const struct dp_pkt *a, const struct dp_pkt *b)
{
	_Static_assert(sizeof(struct dp_pkt) == 84, "pkt_compare: compare the new field");
#define PKT_CMP_ARR(f) do { if (memcmp(a->f, b->f, sizeof(a->f))) return #f; } while (0)
#define PKT_CMP(f) do { if (a->f != b->f) return #f; } while (0)
	PKT_CMP_ARR(dst_mac);
	PKT_CMP_ARR(src_mac);
	PKT_CMP_ARR(vlan);
	PKT_CMP(n_vlan);
	PKT_CMP(family);
	PKT_CMP(ethertype);
	PKT_CMP(l3_off);
	PKT_CMP(l4_off);
	PKT_CMP(l3_len);
	PKT_CMP(proto);
	PKT_CMP(ttl);
	PKT_CMP(is_frag);
	PKT_CMP(frag_first);
	PKT_CMP(l4_known);
	PKT_CMP(tcp_flags);
	PKT_CMP(frag_id);
	PKT_CMP_ARR(src);
	PKT_CMP_ARR(dst);
	PKT_CMP(sport);
	PKT_CMP(dport);
	PKT_CMP(icmp_type);
	PKT_CMP(icmp_code);
	PKT_CMP(payload_off);
	PKT_CMP(payload_len);
#undef PKT_CMP
#undef PKT_CMP_ARR
	return NULL;
}

#endif
