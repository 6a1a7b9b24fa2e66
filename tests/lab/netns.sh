# shellcheck shell=bash
# Network namespaces for the lab tests and the benchmarks, made the way
# firmware/lab/lab.sh makes its own. Source this file, then
#   netns_add NAME...   adds each namespace with IPv6 duplicate address
#                       detection off (net.ipv6.conf.{all,default}.accept_dad
#                       = 0, before any address is added: an address still
#                       tentative right after set-up made the first IPv6
#                       packets fail at times) and its loopback up.
# Returns non-zero at the first namespace it cannot make (the caller's trap
# removes those it made). Needs root.

netns_add() {
	local n
	for n in "$@"; do
		ip netns add "$n" || return 1
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null || return 1
		ip -n "$n" link set lo up || return 1
	done
}
