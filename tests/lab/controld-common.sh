#!/usr/bin/env bash
# Shared set-up for the controld-*.test.sh lab tests (sourced).
# Three namespaces: a client (10.1.0.10, a registered terminal of unit
# "finance"), the gateway (forwards; egw-controld runs here) and a server
# (198.51.100.53: dnsmasq answering every name with 198.51.100.80;
# 198.51.100.80: HTTP; 198.51.100.99: a second, unapproved DNS server).
# Usage: cd_setup PREFIX  (defines C G S = namespace names; tmp = work dir)
set -u   # no pipefail: "cmd | grep -q" would fail on SIGPIPE

# shellcheck source=tests/lab/lab-policy.sh
source "$(dirname "${BASH_SOURCE[0]}")/lab-policy.sh"
# shellcheck source=tests/lab/netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

cd_pids=()
cd_cleanup() {
	local p
	for p in "${cd_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${cd_pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	for ns in "$C" "$G" "$S"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}

cd_setup() {
	local pfx=$1
	C=$pfx-c G=$pfx-g S=$pfx-s
	tmp=$(mktemp -d /tmp/egwt-controld.XXXXXX)
	chmod 755 "$tmp"
	trap cd_cleanup EXIT
	for ns in "$C" "$G" "$S"; do
		ip netns del "$ns" 2>/dev/null
	done
	netns_add "$C" "$G" "$S" || return 1
	ip link add c0 netns "$C" type veth peer name g0 netns "$G" || return 1
	ip link add s0 netns "$S" type veth peer name g1 netns "$G" || return 1
	ip -n "$C" link set c0 address 02:00:0a:01:00:0a   # the registered MAC
	ip -n "$C" addr add 10.1.0.10/16 dev c0
	ip -n "$C" link set c0 up
	ip -n "$C" route add default via 10.1.0.1
	ip -n "$G" addr add 10.1.0.1/16 dev g0
	ip -n "$G" addr add 198.51.100.1/24 dev g1
	ip -n "$G" link set g0 up
	ip -n "$G" link set g1 up
	ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$S" addr add 198.51.100.53/24 dev s0
	ip -n "$S" addr add 198.51.100.80/24 dev s0
	ip -n "$S" addr add 198.51.100.99/24 dev s0
	ip -n "$S" link set s0 up
	ip -n "$S" route add default via 198.51.100.1
	for ns in "$C" "$G" "$S"; do
		for i in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$'); do
			ip netns exec "$ns" ethtool -K "$i" tx off tso off gso off gro off >/dev/null 2>&1
		done
	done
	ip netns exec "$S" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
		--listen-address=198.51.100.53 --listen-address=198.51.100.99 \
		--address=/#/198.51.100.80 --pid-file="$tmp/dnsmasq.pid" \
		--user=root --log-facility=- >"$tmp/dnsmasq.log" 2>&1 &
	cd_pids+=($!)
	mkdir -p "$tmp/www"
	echo "hello from 198.51.100.80" > "$tmp/www/index.html"
	ip netns exec "$S" python3 -m http.server 80 --bind 198.51.100.80 \
		--directory "$tmp/www" >"$tmp/http.log" 2>&1 &
	cd_pids+=($!)
	local i
	for i in $(seq 50); do
		ip netns exec "$S" ss -ltn 2>/dev/null | grep -q '198.51.100.80:80' &&
			ip netns exec "$S" ss -lun 2>/dev/null | grep -q '198.51.100.53:53' && return 0
		sleep 0.1
	done
	echo "servers did not start"; cat "$tmp/dnsmasq.log" "$tmp/http.log"
	return 1
}

# cd_policy FILE FAIL_MODE: the lab's small policy (lab-policy.sh), its
# behaviour log in $tmp/log.
cd_policy() {
	lab_policy "$1" "$2" "$tmp/log"
}

# cd_start CONFIG [ARGS...]: run egw-controld in the gateway; sets cd_pid.
cd_start() {
	local cfg=$1; shift
	local before
	before=$(grep -c 'egw-controld: running' "$tmp/controld.log" 2>/dev/null)
	# these tests punt a veth of a plain forwarding gateway: no hairpin
	ip netns exec "$G" "$build/control/egw-controld" --config "$cfg" \
		--run-dir "$tmp/run" --no-punt-hairpin "$@" >>"$tmp/controld.log" 2>&1 &
	cd_pid=$!
	cd_pids+=($cd_pid)
	local i
	for i in $(seq 100); do
		[ "$(grep -c 'egw-controld: running' "$tmp/controld.log")" -gt "${before:-0}" ] && return 0
		kill -0 "$cd_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "egw-controld did not start:"; cat "$tmp/controld.log"
	return 1
}

cd_stop() {
	kill -TERM "$cd_pid" 2>/dev/null
	wait "$cd_pid" 2>/dev/null
	return $?
}

# rules_left: prints what egw-controld may have left in the gateway.
rules_left() {
	ip netns exec "$G" nft list tables 2>/dev/null | grep -E "egw|mangle" || true
	ip netns exec "$G" iptables-nft -t mangle -S 2>/dev/null | grep EGW_PUNT || true
	ip netns exec "$G" ip6tables-nft -t mangle -S 2>/dev/null | grep EGW_PUNT || true
}

dig_c() { ip netns exec "$C" dig +tries=1 +time=2 "$@"; }
curl_c() { ip netns exec "$C" curl -sS --max-time 3 "$@"; }
