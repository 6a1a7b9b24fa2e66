#!/usr/bin/env bash
# egw's built-in test lab: terminals, a switch, the gateway, an upstream router
# and a small "internet", all in network namespaces (no NIC, nothing routed in
# the root namespace, no packet leaves the machine). See firmware/lab/README.md.
#
# Usage: lab.sh COMMAND [options]   (options anywhere before exec's HOST)
#   up                 build the lab (refuses if the prefix is in use)
#   down               stop what lab.sh started, delete the namespaces
#   status             namespaces, mode and processes of a lab
#   exec HOST CMD...   run CMD in HOST's namespace
#   spoof on|off       give the rogue terminal 10.1.0.10 on its second MAC
#   demo [BUILD]       up (dataplane mode with firmware/egw.cfg if BUILD has
#                      egw-dataplane, else bridge), run the scenario checks,
#                      print the table, wait for Ctrl-C (or --once), down
# Options:
#   --prefix P         namespace prefix (default $EGW_LAB_PREFIX, else egwlab;
#                      namespaces are P-HOST, HOST one of sw gw rtr net fin1
#                      fin2 health rogue)
#   --mode M           bridge (default) | dataplane | kernel
#   --build DIR        build directory holding dataplane/egw-dataplane
#                      (default $EGW_BUILD, else build/release)
#   --config FILE      policy for the gateway (default firmware/egw.cfg)
#   --gw-cmd CMD       command line started in the gateway namespace (bash -c),
#                      may be repeated; default in dataplane mode: the built
#                      egw-dataplane on --config (and egw-controld if built)
#   --no-wait          do not wait for fin1 -> 198.51.100.80 to work after
#                      starting the gateway commands
#   --once             demo: print the table and tear down at once
# Environment: EGW_LAB_WAIT (seconds to wait for forwarding, default 60),
#   EGW_LAB_RUN (state directory root, default /run/egw-lab), EGW_LAB_EAL
#   (EAL options of the default egw-dataplane command).
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$LAB_DIR/../.." && pwd)
RUN_ROOT=${EGW_LAB_RUN:-/run/egw-lab}
PY=/usr/bin/python3

PREFIX=egwlab
MODE=bridge
BUILD=${EGW_BUILD:-}
CONFIG=$TOP/firmware/egw.cfg
GW_CMDS=()
WAIT=1
ONCE=0

# Hosts, in creation order. Namespace of HOST: $PREFIX-$HOST.
HOSTS=(sw gw rtr net fin1 fin2 health rogue)
TERMINALS=(fin1 fin2 health rogue)

# The address plan (interfaces.md, example.cfg).
declare -A T_MAC=([fin1]=02:00:0a:01:00:0a [fin2]=02:00:0a:01:00:0b
                  [health]=02:00:0a:02:00:14 [rogue]=02:00:0a:01:00:63)
declare -A T_IP4=([fin1]=10.1.0.10/16 [fin2]=10.1.0.11/16
                  [health]=10.2.0.20/16 [rogue]=10.1.0.99/16)
declare -A T_GW4=([fin1]=10.1.0.1 [fin2]=10.1.0.1 [health]=10.2.0.1
                  [rogue]=10.1.0.1)
SPOOF_MAC=02:00:0b:ad:00:0a          # the rogue's second MAC
SPOOF_IP=10.1.0.10
INSIDE_GW_MAC=02:00:0a:01:00:01      # 10.1.0.1 (router, or gw in kernel mode)
WEB4=(198.51.100.80 192.0.2.80 203.0.113.80)
WEB6=(2001:db8:ff::80)
RESOLVERS=(198.51.100.53 198.51.100.54 203.0.113.53)
DOH=203.0.113.111
SERVER_NETS4=(198.51.100.0/24 192.0.2.0/24 203.0.113.0/24)
SERVER_NETS6=(2001:db8:ff::/48)

die() { echo "lab.sh: $*" >&2; exit 1; }
say() { echo "lab.sh: $*" >&2; }
ns() { echo "$PREFIX-$1"; }
nx() { local h=$1; shift; ip netns exec "$(ns "$h")" "$@"; }
state() { echo "$RUN_ROOT/$PREFIX"; }

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

# --- processes ---------------------------------------------------------------
# Every process lab.sh starts runs in its own session (pgid = pid) and is
# recorded as "pid starttime name" in $(state)/pids; down ends exactly those.
proc_start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }

start_in() {  # start_in HOST NAME CMD... (background, logged, recorded)
	local h=$1 name=$2; shift 2
	local logf
	logf="$(state)/$name.log"
	ip netns exec "$(ns "$h")" setsid "$@" </dev/null >"$logf" 2>&1 &
	local pid=$!
	local st
	st=$(proc_start_time "$pid")
	echo "$pid ${st:-0} $name" >>"$(state)/pids"
	echo "$pid"
}

alive() {  # alive PID STARTTIME
	[ -d "/proc/$1" ] && [ "$(proc_start_time "$1")" = "$2" ]
}

stop_recorded() {
	local f
	f="$(state)/pids"
	[ -f "$f" ] || return 0
	local pid st name
	while read -r pid st name; do
		[ -n "$pid" ] || continue
		if alive "$pid" "$st"; then
			kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		fi
	done <"$f"
	local i
	for i in $(seq 1 30); do
		local left=0
		while read -r pid st name; do
			[ -n "$pid" ] || continue
			if alive "$pid" "$st"; then left=1; fi
		done <"$f"
		[ "$left" = 0 ] && break
		sleep 0.1
	done
	while read -r pid st name; do
		[ -n "$pid" ] || continue
		if alive "$pid" "$st"; then
			say "$name ($pid) ignored SIGTERM; killing"
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		fi
	done <"$f"
	# Reap those that are our own children (down inside up's failure trap).
	while read -r pid st name; do
		[ -n "$pid" ] && wait "$pid" 2>/dev/null || true
	done <"$f"
	rm -f "$f"
}

# --- building blocks ---------------------------------------------------------
veth() {  # veth HOST_A IF_A HOST_B IF_B: a pair made inside the namespaces
	ip -n "$(ns "$1")" link add "$2" type veth peer name "$4" netns "$(ns "$3")"
}

offloads_off() {  # offloads_off HOST IF [rx]
	local feats=(tx off tso off gso off gro off)
	[ "${3:-}" = rx ] && feats+=(rx off)
	nx "$1" ethtool -K "$2" "${feats[@]}" >/dev/null 2>&1 || true
	local off
	off=$(nx "$1" ethtool -k "$2" | awk '/^tx-checksumming:|^generic-segmentation-offload:|^generic-receive-offload:/ {print $2}' | sort -u)
	[ "$off" = off ] || die "offloads still on for $2 in $(ns "$1")"
}

ns_sysctls() {  # every namespace: no DAD, no RAs, no forwarding (new
	# namespaces may inherit the root's; only rtr and the kernel-mode gw route)
	nx "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
		net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 >/dev/null
	nx "$1" ip link set lo up
}

forwarding_on() {
	nx "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
}

make_cert() {
	local d
	d=$(state)
	local san="DNS:www.example.cn,DNS:www.example.com,DNS:gmail.com,DNS:mail.qq.com"
	san+=",DNS:use-application-dns.net,DNS:doh.example.net,DNS:dns.google,DNS:localhost"
	san+=",IP:198.51.100.80,IP:192.0.2.80,IP:203.0.113.80,IP:203.0.113.111,IP:2001:db8:ff::80"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-days 30 -subj "/CN=egw-lab" -addext "subjectAltName=$san" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-keyout "$d/lab.key" -out "$d/lab.crt" >/dev/null 2>&1 ||
		die "openssl could not make the lab certificate"
}

dnsmasq_args() {  # dnsmasq_args ADDR WHOAMI EXAMPLE_CN_A
	# shellcheck disable=SC2054 # commas belong to dnsmasq options
	local a=(--keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts
		--no-poll --bind-interfaces "--listen-address=$1" --port=53
		--user=nobody --group=nogroup --pid-file= --cache-size=0
		--log-facility=- --log-queries
		"--txt-record=whoami.lab,$2"
		"--host-record=www.example.cn,$3"
		--host-record=www.example.com,203.0.113.80,2001:db8:ff::80
		--host-record=www.beijing.example.cn,192.0.2.80
		--host-record=mail.qq.com,203.0.113.80,2001:db8:ff::80
		--host-record=gmail.com,203.0.113.80,2001:db8:ff::80
		--host-record=use-application-dns.net,203.0.113.80,2001:db8:ff::80
		--host-record=doh.example.net,203.0.113.111
		--host-record=dns.google,203.0.113.111
		--host-record=web6.example.com,2001:db8:ff::80
		--address=/nx.lab/)
	printf '%s\n' "${a[@]}"
}

start_servers() {
	local d
	d=$(state)
	make_cert
	local args=(--cert "$d/lab.crt" --key "$d/lab.key" --log "$d/srv.log"
		--ready "$d/srv.ready" --tls "$DOH:443:doh" --tls "$DOH:853:dot")
	local a
	for a in "${WEB4[@]}" "${WEB6[@]}"; do args+=(--web "$a" --probe "$a"); done
	: >"$d/srv.log"
	start_in net servers "$PY" "$LAB_DIR/labsrv.py" "${args[@]}" >/dev/null
	local who=([0]="approved 198.51.100.53" [1]="inprovince 198.51.100.54" [2]="foreign 203.0.113.53")
	local cn=([0]=198.51.100.80 [1]=198.51.100.80 [2]=203.0.113.99)
	local i
	for i in 0 1 2; do
		local r=${RESOLVERS[$i]}
		mapfile -t a < <(dnsmasq_args "$r" "${who[$i]}" "${cn[$i]}")
		start_in net "dns-$r" dnsmasq "${a[@]}" >/dev/null
	done
	# Ready: the servers' sockets are bound and every resolver answers.
	local t
	for t in $(seq 1 100); do
		if [ -s "$d/srv.ready" ]; then
			local ok=1
			for r in "${RESOLVERS[@]}"; do
				[ -n "$(nx net dig +time=1 +tries=1 +short "@$r" whoami.lab TXT 2>/dev/null)" ] || ok=0
			done
			[ "$ok" = 1 ] && return 0
		fi
		sleep 0.1
	done
	die "servers did not come up; see $d/servers.log and $d/dns-*.log"
}

# --- topology ----------------------------------------------------------------
build_topology() {
	local h
	for h in "${HOSTS[@]}"; do
		ip netns add "$(ns "$h")"
		ns_sysctls "$h"
	done

	# Switch: one bridge joining every terminal and the gateway's inside port.
	nx sw ip link add br0 type bridge stp_state 0 forward_delay 0
	local t
	for t in "${TERMINALS[@]}"; do
		veth "$t" eth0 sw "p-$t"
		nx "$t" ip link set eth0 address "${T_MAC[$t]}"
		nx sw ip link set "p-$t" master br0 up
		offloads_off "$t" eth0
		offloads_off sw "p-$t"
		nx "$t" ip link set eth0 up
		nx "$t" ip addr add "${T_IP4[$t]}" dev eth0
		nx "$t" ip route add default via "${T_GW4[$t]}"
	done
	nx fin1 ip addr add 2001:db8:1::10/48 dev eth0 nodad
	nx fin1 ip -6 route add default via 2001:db8:1::1
	# The rogue's second port (down until "spoof on"): another MAC, and it never
	# answers ARP for the stolen address, so fin1 keeps its own traffic.
	veth rogue eth1 sw p-spoof
	nx rogue ip link set eth1 address "$SPOOF_MAC"
	nx rogue sysctl -qw net.ipv6.conf.eth1.disable_ipv6=1 \
		net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 >/dev/null
	nx sw ip link set p-spoof master br0 up
	offloads_off rogue eth1
	offloads_off sw p-spoof

	veth sw p-gw gw egw-in
	nx sw ip link set p-gw master br0 up
	offloads_off sw p-gw
	offloads_off gw egw-in rx
	nx sw ip link set br0 up

	# Gateway <-> router, router <-> internet.
	veth gw egw-out rtr to-gw
	offloads_off gw egw-out rx
	offloads_off rtr to-gw
	veth rtr up0 net eth0
	offloads_off rtr up0
	offloads_off net eth0
	forwarding_on rtr
	nx rtr ip link set up0 up
	nx rtr ip addr add 100.64.1.1/30 dev up0
	nx rtr ip addr add 2001:db8:fff1::1/64 dev up0 nodad
	nx net ip link set eth0 up
	nx net ip addr add 100.64.1.2/30 dev eth0
	nx net ip addr add 2001:db8:fff1::2/64 dev eth0 nodad
	nx net ip route add default via 100.64.1.1
	nx net ip -6 route add default via 2001:db8:fff1::1
	local n a
	for n in "${SERVER_NETS4[@]}"; do nx rtr ip route add "$n" via 100.64.1.2; done
	for n in "${SERVER_NETS6[@]}"; do nx rtr ip -6 route add "$n" via 2001:db8:fff1::2; done
	for a in "${WEB4[@]}" "${RESOLVERS[@]}" "$DOH"; do nx net ip addr add "$a/32" dev lo; done
	for a in "${WEB6[@]}"; do nx net ip addr add "$a/128" dev lo nodad; done

	case $MODE in
	bridge | dataplane)
		# Bump in the wire: the router owns the terminals' default gateways.
		nx rtr ip link set to-gw address "$INSIDE_GW_MAC" up
		nx rtr ip addr add 10.1.0.1/16 dev to-gw
		nx rtr ip addr add 10.2.0.1/16 dev to-gw
		nx rtr ip addr add 2001:db8:1::1/48 dev to-gw nodad
		nx gw ip link set egw-in up
		nx gw ip link set egw-out up
		if [ "$MODE" = bridge ]; then
			nx gw ip link add br0 type bridge stp_state 0 forward_delay 0
			nx gw ip link set egw-in master br0
			nx gw ip link set egw-out master br0
			nx gw ip link set br0 up
		else
			# Raw ports for net_af_packet: no addresses, no IPv6 chatter.
			nx gw sysctl -qw net.ipv6.conf.egw-in.disable_ipv6=1 \
				net.ipv6.conf.egw-out.disable_ipv6=1 >/dev/null
			nx gw ip link set egw-in promisc on
			nx gw ip link set egw-out promisc on
		fi
		;;
	kernel)
		# The gateway routes: it owns the inside gateways, a transit net to rtr.
		forwarding_on gw
		nx gw ip link set egw-in address "$INSIDE_GW_MAC" up
		nx gw ip addr add 10.1.0.1/16 dev egw-in
		nx gw ip addr add 10.2.0.1/16 dev egw-in
		nx gw ip addr add 2001:db8:1::1/48 dev egw-in nodad
		nx gw ip link set egw-out up
		nx gw ip addr add 100.64.0.2/30 dev egw-out
		nx gw ip addr add 2001:db8:fff0::2/64 dev egw-out nodad
		nx gw ip route add default via 100.64.0.1
		nx gw ip -6 route add default via 2001:db8:fff0::1
		nx rtr ip link set to-gw up
		nx rtr ip addr add 100.64.0.1/30 dev to-gw
		nx rtr ip addr add 2001:db8:fff0::1/64 dev to-gw nodad
		nx rtr ip route add 10.1.0.0/16 via 100.64.0.2
		nx rtr ip route add 10.2.0.0/16 via 100.64.0.2
		nx rtr ip -6 route add 2001:db8:1::/48 via 2001:db8:fff0::2
		;;
	esac
}

default_gw_cmds() {
	local b=${BUILD:-build/release}
	case $b in /*) ;; *) b=$TOP/$b ;; esac
	local dp=$b/dataplane/egw-dataplane cd=$b/control/egw-controld
	[ -x "$dp" ] || die "dataplane mode: $dp not built (give --build DIR or --gw-cmd CMD)"
	local eal=${EGW_LAB_EAL:-"-l 0,1 --no-huge -m 512 --no-pci --no-shconf --file-prefix=$PREFIX"}
	# The control-plane socket and controld's management sockets live in the
	# lab's state directory: /run/egw is the appliance's, and two labs (or a
	# lab and another test's daemons) must not meet there.
	local sock
	sock="$(state)/dataplane.sock"
	GW_CMDS+=("exec '$dp' $eal -- --config '$CONFIG' --socket '$sock'")
	if [ -x "$cd" ]; then
		# hairpinned outbound frames go to the units' gateway, the router
		GW_CMDS+=("exec '$cd' --config '$CONFIG' --dataplane-sock '$sock' --run-dir '$(state)' --punt-hairpin-mac $INSIDE_GW_MAC")
	fi
}

start_gw_cmds() {
	local i=0 c
	for c in "${GW_CMDS[@]}"; do
		i=$((i + 1))
		echo "$c" >>"$(state)/gw-cmds"
		start_in gw "gw$i" env "EGW_LAB_PREFIX=$PREFIX" "EGW_LAB_STATE=$(state)" \
			"EGW_LAB_MODE=$MODE" bash -c "$c" >/dev/null
		sleep 0.5
	done
	[ "$WAIT" = 1 ] || return 0
	local limit=${EGW_LAB_WAIT:-60} t=0
	while ! nx fin1 ping -c1 -W1 -q 198.51.100.80 >/dev/null 2>&1; do
		local pid st name
		while read -r pid st name; do
			case $name in gw*)
				alive "$pid" "$st" || { tail -n 20 "$(state)/$name.log" >&2 || true
					die "gateway command $name exited; log: $(state)/$name.log"; } ;;
			esac
		done <"$(state)/pids"
		t=$((t + 1))
		[ "$t" -lt "$limit" ] || die "fin1 -> 198.51.100.80 does not work ${limit}s after starting the gateway"
	done
}

# --- commands ----------------------------------------------------------------
in_use() {
	[ -e "$(state)" ] && return 0
	local h
	for h in "${HOSTS[@]}"; do
		[ -e "/run/netns/$(ns "$h")" ] && return 0
	done
	return 1
}

cmd_up() {
	[ "$(id -u)" = 0 ] || die "must run as root"
	case $MODE in bridge | dataplane | kernel) ;; *) die "unknown mode '$MODE'" ;; esac
	local tool
	for tool in ip ethtool dnsmasq dig openssl setsid "$PY"; do
		command -v "$tool" >/dev/null || die "$tool missing (run firmware/setup.sh)"
	done
	in_use && die "prefix '$PREFIX' in use (lab.sh down --prefix $PREFIX)"
	[ "$MODE" != dataplane ] || [ "${#GW_CMDS[@]}" -gt 0 ] || default_gw_cmds
	mkdir -p "$(state)"
	echo "$MODE" >"$(state)/mode"
	trap 'rc=$?; if [ $rc -ne 0 ]; then say "up failed; cleaning up"; cmd_down >/dev/null 2>&1 || true; fi' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	build_topology
	start_servers
	[ "${#GW_CMDS[@]}" -eq 0 ] || start_gw_cmds
	trap - EXIT INT TERM
	say "up: prefix $PREFIX, mode $MODE, state $(state)"
}

cmd_down() {
	stop_recorded
	local h
	for h in "${HOSTS[@]}"; do
		if [ -e "/run/netns/$(ns "$h")" ]; then
			ip netns del "$(ns "$h")" 2>/dev/null || say "could not delete $(ns "$h")"
		fi
	done
	[ -d "/var/run/dpdk/$PREFIX" ] && rm -rf "/var/run/dpdk/$PREFIX"
	rm -rf "$(state)"
	return 0
}

cmd_status() {
	if ! in_use; then
		echo "lab $PREFIX: down"
		return 1
	fi
	echo "lab $PREFIX: mode $(cat "$(state)/mode" 2>/dev/null || echo '?'), state $(state)"
	local h
	for h in "${HOSTS[@]}"; do
		if [ -e "/run/netns/$(ns "$h")" ]; then
			echo "  netns $(ns "$h")"
		else
			echo "  netns $(ns "$h") MISSING"
		fi
	done
	local pid st name
	[ -f "$(state)/pids" ] || return 0
	while read -r pid st name; do
		if alive "$pid" "$st"; then
			echo "  $name pid $pid running"
		else
			echo "  $name pid $pid EXITED"
		fi
	done <"$(state)/pids"
}

cmd_exec() {
	[ $# -ge 2 ] || die "usage: lab.sh exec HOST CMD..."
	local h=$1; shift
	[ -e "/run/netns/$(ns "$h")" ] || die "no host '$h' in lab '$PREFIX'"
	exec ip netns exec "$(ns "$h")" "$@"
}

cmd_spoof() {
	in_use || die "lab '$PREFIX' is not up"
	case ${1:-} in
	on)
		nx rogue ip link set eth1 up
		nx rogue ip addr replace "$SPOOF_IP/16" dev eth1 noprefixroute
		nx rogue ip route replace default via 10.1.0.1 dev eth1 onlink table 100
		nx rogue ip route replace 10.1.0.0/16 dev eth1 src "$SPOOF_IP" table 100
		nx rogue ip neigh replace 10.1.0.1 lladdr "$INSIDE_GW_MAC" dev eth1 nud permanent
		nx rogue ip neigh replace 10.2.0.1 lladdr "$INSIDE_GW_MAC" dev eth1 nud permanent
		nx rogue ip rule del pref 100 2>/dev/null || true
		nx rogue ip rule add pref 100 from "$SPOOF_IP" lookup 100
		;;
	off)
		nx rogue ip rule del pref 100 2>/dev/null || true
		nx rogue ip route flush table 100 2>/dev/null || true
		nx rogue ip addr flush dev eth1
		nx rogue ip neigh flush dev eth1 nud all 2>/dev/null || true
		nx rogue ip link set eth1 down
		;;
	*) die "usage: lab.sh spoof on|off" ;;
	esac
}

cmd_demo() {
	local b=${BUILD:-build/release}
	case $b in /*) ;; *) b=$TOP/$b ;; esac
	if [ -n "$MODE_SET" ]; then
		MODE=$MODE_SET
	elif [ "${#GW_CMDS[@]}" -gt 0 ] || [ -x "$b/dataplane/egw-dataplane" ]; then
		MODE=dataplane
	else
		MODE=bridge
		say "no $b/dataplane/egw-dataplane: demo in bridge mode (no enforcement)"
	fi
	cmd_up
	DEMO_SLEEP=
	trap '[ -z "$DEMO_SLEEP" ] || kill "$DEMO_SLEEP" 2>/dev/null; cmd_down' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# shellcheck source=../../tests/lab/scenarios.sh
	source "$TOP/tests/lab/scenarios.sh"
	sc_init "$PREFIX"
	local set=policy
	[ "$MODE" = bridge ] && set=bridge
	echo
	echo "egw lab ($MODE mode, prefix $PREFIX): expected = $set expectations"
	if [ -s "$(state)/gw-cmds" ]; then
		local c
		while read -r c; do echo "gateway: ${c#exec }"; done <"$(state)/gw-cmds"
	fi
	echo "(ok: allowed, answered by the server asked; blocked/reset/refused: stopped;"
	echo " redirected: the approved resolver answered; nxdomain: the gateway's answer)"
	echo
	sc_table_header
	local rc=0
	SC_TABLE=1 sc_suite "$set" || rc=$?
	echo
	if [ "$ONCE" = 1 ]; then
		return "$rc"
	fi
	# Ctrl-C is how this demo is meant to end: tear down, exit 0.
	trap 'exit 0' INT
	if grep -q "egw-controld' .*--run-dir" "$(state)/gw-cmds" 2>/dev/null; then
		echo "Counters: $b/control/egwctl stats --socket $(state)/controld.sock"
	fi
	echo "Lab is up: lab.sh exec --prefix $PREFIX HOST CMD... (hosts: ${HOSTS[*]}). Ctrl-C to tear down."
	# A waited-for background sleep: INT/TERM are handled at once.
	while :; do
		sleep 3600 &
		DEMO_SLEEP=$!
		wait "$DEMO_SLEEP" || true
	done
}

# --- main --------------------------------------------------------------------
CMD=
ARGS=()
MODE_SET=
PREFIX=${EGW_LAB_PREFIX:-$PREFIX}
while [ $# -gt 0 ]; do
	case $1 in
	--prefix) PREFIX=${2:?--prefix needs a value}; shift 2 ;;
	--mode) MODE=${2:?--mode needs a value}; MODE_SET=$MODE; shift 2 ;;
	--build) BUILD=${2:?--build needs a value}; shift 2 ;;
	--config) CONFIG=$(realpath "${2:?--config needs a value}"); shift 2 ;;
	--gw-cmd) GW_CMDS+=("${2:?--gw-cmd needs a value}"); shift 2 ;;
	--no-wait) WAIT=0; shift ;;
	--once) ONCE=1; shift ;;
	-h | --help) usage ;;
	--) shift; ARGS+=("$@"); break ;;
	-*) [ "$CMD" = exec ] && [ "${#ARGS[@]}" -ge 1 ] && { ARGS+=("$@"); break; }
		die "unknown option '$1'" ;;
	*)
		if [ -z "$CMD" ]; then
			CMD=$1
		elif [ "$CMD" = exec ] && [ "${#ARGS[@]}" -ge 1 ]; then
			ARGS+=("$@")  # exec HOST CMD...: the command keeps its options
			break
		else
			ARGS+=("$1")
		fi
		shift ;;
	esac
done
[ -n "$CMD" ] || usage
case $PREFIX in
*[!A-Za-z0-9_.-]* | "") die "bad prefix '$PREFIX'" ;;
esac
[ "${#PREFIX}" -le 40 ] || die "prefix '$PREFIX' too long"

case $CMD in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
exec) cmd_exec "${ARGS[@]}" ;;
spoof) cmd_spoof "${ARGS[@]}" ;;
demo)
	[ "${#ARGS[@]}" -eq 0 ] || BUILD=${ARGS[0]}
	cmd_demo ;;
*) usage ;;
esac
