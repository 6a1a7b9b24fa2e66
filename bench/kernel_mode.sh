#!/usr/bin/env bash
# Kernel-mode forwarding rate: the same policy compiled to nftables, loaded
# into a routed gateway namespace; trafgen in a generator namespace sends
# the benchmark mix; the rate is what reaches the sink namespace.
#
#   bench/kernel_mode.sh BUILD_DIR POLICY TRAFGEN_CFG SECONDS [norules]
#
# Prints one line: "kernel <label> <pps> <pps per CPU second> <CPU seconds>":
# the rate over wall time, and over the CPU time trafgen's processes spent
# (the kernel forwards in the sender's softirq context, so that time holds
# the forwarding as well as the generating: the figure is a lower bound of
# the kernel's rate per core, comparable to a DPDK worker's busy core). Everything lives in namespaces
# egwb-<pid>-*, removed on exit; no packet leaves them.
set -euo pipefail
build=$1 policy=$2 cfg=$3 secs=$4 mode=${5:-rules}
# shellcheck source=tests/lab/netns.sh
source "$(cd "$(dirname "$0")/.." && pwd)/tests/lab/netns.sh"
p="egwb-$$"
gen="$p-gen" gw="$p-gw" sink="$p-sink"
tg_pid=""
cleanup() {
    # trafgen runs in its own process group (setsid): stop the whole group
    [ -n "$tg_pid" ] && kill -INT -- -"$tg_pid" 2>/dev/null && wait "$tg_pid" 2>/dev/null
    for n in "$gen" "$gw" "$sink"; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT

# no IPv6 DAD (as in the lab): the gateway's addresses are usable at once
netns_add "$gen" "$gw" "$sink"
ip link add g0 netns "$gen" type veth peer name gwin netns "$gw"
ip link add gwout netns "$gw" type veth peer name s0 netns "$sink"
# The generator's frames are addressed to 02:00:00:00:00:01 (bench_pcapgen).
ip -n "$gw" link set gwin address 02:00:00:00:00:01
for spec in "$gen g0" "$gw gwin" "$gw gwout" "$sink s0"; do
    set -- $spec
    ip -n "$1" link set "$2" up
    ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
done
ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$gw" addr add 10.1.0.1/8 dev gwin
ip -n "$gw" addr add 2001:db8::1/32 dev gwin nodad
ip -n "$gw" addr add 172.31.255.1/30 dev gwout
ip -n "$gw" -6 addr add fd00:ffff::1/64 dev gwout nodad
smac=$(ip netns exec "$sink" cat /sys/class/net/s0/address)
ip -n "$gw" neigh add 172.31.255.2 lladdr "$smac" dev gwout nud permanent
ip -n "$gw" -6 neigh add fd00:ffff::2 lladdr "$smac" dev gwout nud permanent
for net in 198.51.100.0/24 192.0.2.0/24 203.0.113.0/24 100.64.0.0/10; do
    ip -n "$gw" route add "$net" via 172.31.255.2
done
ip -n "$gw" -6 route add 2001:db8:ff::/48 via fd00:ffff::2

if [ "$mode" = rules ]; then
    "$build/control/egwctl" policy compile --target nft --queue-mode mark \
        --inside gwin --outside gwout "$policy" > "/tmp/$p.nft"
    ip netns exec "$gw" nft -f "/tmp/$p.nft"
    rm -f "/tmp/$p.nft"
fi

rx() { ip netns exec "$sink" cat /sys/class/net/s0/statistics/rx_packets; }
# CPU ticks (utime + stime) of the processes of process group $1
cpu() {
    local t=0 p s
    for p in $(pgrep -g "$1"); do
        s=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
        set -- $s
        t=$((t + ${12} + ${13}))
    done
    echo "$t"
}
setsid ip netns exec "$gen" trafgen -o g0 -i "$cfg" -P 1 -q -C >/dev/null 2>&1 &
tg_pid=$!
sleep 1
a=$(rx); ca=$(cpu "$tg_pid")
sleep "$secs"
b=$(rx); cb=$(cpu "$tg_pid")
kill -INT -- -"$tg_pid"; wait "$tg_pid" 2>/dev/null || true; tg_pid=""
hz=$(getconf CLK_TCK)
python3 -c 'import sys
mode = sys.argv[1]
n, secs, ticks, hz = (float(x) for x in sys.argv[2:])
cpu = ticks / hz
print("kernel %s %d %d %.2f" % (mode, n / secs, n / cpu if cpu > 0 else 0, cpu))' \
    "$mode" "$((b - a))" "$secs" "$((cb - ca))" "$hz"
