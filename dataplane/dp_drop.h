/* SPDX-License-Identifier: MIT */
/*
 * Why the fast path drops a packet: one X-macro list, one counter per reason
 * per worker, one stable name per reason (stats, logs, tests).
 * X(ENUM_SUFFIX, "name")
 */
#ifndef DP_DROP_H
#define DP_DROP_H

#define DP_DROP_REASONS(X) \
	/* malformed or truncated frames (dp_parse) */ \
	X(ETH_TRUNC, "eth-truncated") \
	X(VLAN_TRUNC, "vlan-truncated") \
	X(VLAN_DEPTH, "vlan-too-deep") \
	X(IPV4_TRUNC, "ipv4-truncated") \
	X(IPV4_BAD_VERSION, "ipv4-bad-version") \
	X(IPV4_BAD_IHL, "ipv4-bad-ihl") \
	X(IPV4_BAD_LEN, "ipv4-bad-total-length") \
	X(IPV4_BAD_OPTIONS, "ipv4-bad-options") \
	X(IPV4_BAD_FRAG, "ipv4-bad-fragment") \
	X(IPV6_TRUNC, "ipv6-truncated") \
	X(IPV6_BAD_VERSION, "ipv6-bad-version") \
	X(IPV6_BAD_LEN, "ipv6-bad-payload-length") \
	X(IPV6_EXT_TRUNC, "ipv6-ext-truncated") \
	X(IPV6_EXT_CHAIN, "ipv6-ext-chain-too-long") \
	X(IPV6_EXT_ORDER, "ipv6-ext-bad-order") \
	X(IPV6_BAD_FRAG, "ipv6-bad-fragment") \
	X(TCP_TRUNC, "tcp-truncated") \
	X(TCP_BAD_OFFSET, "tcp-bad-data-offset") \
	X(UDP_TRUNC, "udp-truncated") \
	X(UDP_BAD_LEN, "udp-bad-length") \
	X(ICMP_TRUNC, "icmp-truncated") \
	X(MULTI_SEGMENT, "multi-segment") \
	/* policy (dp_policy) */ \
	X(UNREGISTERED, "unregistered") \
	X(SPOOF, "spoof") \
	X(DNS_RESOLVER, "dns-resolver") \
	X(DOT, "dot") \
	X(DOH, "doh") \
	X(DNS_NAME, "dns-name") \
	X(DNS_SPLIT, "dns-split") \
	X(DNS_MALFORMED, "dns-malformed") \
	X(SNI_HOST, "sni-host") \
	X(PROFILE, "profile") \
	/* state (dp_worker) */ \
	X(NO_FLOW, "outside-no-flow") \
	X(ICMP_NO_FLOW, "icmp-error-no-flow") \
	X(PUNT_FAIL_CLOSED, "punt-fail-closed") \
	X(PUNT_TX, "punt-tx-full") \
	X(TX_FULL, "tx-full") \
	X(FLOW_ALLOC, "flow-alloc") \
	X(CONTROL, "control-plane")

enum dp_drop {
	DP_DROP_NONE = 0,
#define DP_DROP_ENUM(e, s) DP_DROP_##e,
	DP_DROP_REASONS(DP_DROP_ENUM)
#undef DP_DROP_ENUM
	DP_DROP__COUNT
};

/* "eth-truncated", ...; "none" for DP_DROP_NONE, "?" out of range. */
const char *dp_drop_name(unsigned reason);

#endif
