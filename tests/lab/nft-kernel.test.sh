#!/usr/bin/env bash
# Kernel mode for real: firmware/egw.cfg compiled to nftables (mark mode) and
# loaded into a gateway namespace that routes between terminal namespaces
# (bridge egw-in) and an "internet" namespace (egw-out), addresses as in
# ../shared/spec/interfaces.md. No control plane runs: in mark mode a punted
# packet with no NFQUEUE rule installed simply passes, and the control
# plane's verdicts are played by iptables MARK rules at the place where its
# NFQUEUE rule would sit.
# Checks: registered terminals reach the internet under their profile (IPv4
# and IPv6), the restricted profile's default deny, unregistered and spoofing
# sources dropped, nothing from outside opens a flow, DNS to a foreign
# resolver redirected (the answer comes back from the address asked), DoT
# and DoH blocked, and "blocked"/"allowed" verdicts sticking to a flow.
# Args: build dir, source dir. Runs as root; all traffic stays in the
# namespaces egwt-nft-*-PID, removed on every exit.
set -euo pipefail
build=$(cd "${1:?usage: nft-kernel.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: nft-kernel.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
egwctl=$build/control/egwctl
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
id=$$
GW=egwt-nft-gw-$id NET=egwt-nft-net-$id T1=egwt-nft-t1-$id T2=egwt-nft-t2-$id RG=egwt-nft-rg-$id
tmp=$(mktemp -d)
pids=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for n in "$GW" "$NET" "$T1" "$T2" "$RG"; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
x() { local n=$1; shift; ip netns exec "$n" "$@"; }

# No DAD, as in firmware/lab/lab.sh: a link-local address still tentative
# right after set-up made the first IPv6 ping fail at times.
# shellcheck source=tests/lab/netns.sh
source "$src/tests/lab/netns.sh"
netns_add "$GW" "$NET" "$T1" "$T2" "$RG"
x "$GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# inside: bridge egw-in with one port per terminal namespace
x "$GW" ip link add egw-in type bridge
x "$GW" ip link set egw-in up
x "$GW" ip addr add 10.1.0.1/16 dev egw-in
x "$GW" ip addr add 10.2.0.1/16 dev egw-in
x "$GW" ip addr add 2001:db8:1::1/48 dev egw-in nodad
term() { # ns port mac ipv4/len gw [ipv6]
	ip link add "$2" netns "$GW" type veth peer name eth0 netns "$1"
	x "$GW" ip link set "$2" master egw-in up
	x "$1" ip link set eth0 address "$3" up
	x "$1" ip addr add "$4" dev eth0
	x "$1" ip route add default via "$5"
	if [ -n "${6:-}" ]; then
		x "$1" ip addr add "$6" dev eth0 nodad
		x "$1" ip -6 route add default via 2001:db8:1::1
	fi
}
term "$T1" p-t1 02:00:0a:01:00:0a 10.1.0.10/16 10.1.0.1 2001:db8:1::10/48
term "$T2" p-t2 02:00:0a:02:00:14 10.2.0.20/16 10.2.0.1
term "$RG" p-rg 02:00:0a:01:00:99 10.1.0.99/16 10.1.0.1

# outside: the internet namespace with the lab's servers
ip link add egw-out netns "$GW" type veth peer name eth0 netns "$NET"
x "$GW" ip link set egw-out up
x "$GW" ip addr add 100.64.0.1/30 dev egw-out
x "$GW" ip addr add 2001:db8:64::1/64 dev egw-out nodad
x "$NET" ip link set eth0 up
x "$NET" ip addr add 100.64.0.2/30 dev eth0
x "$NET" ip addr add 2001:db8:64::2/64 dev eth0 nodad
for a in 198.51.100.53 198.51.100.80 192.0.2.80 203.0.113.53 203.0.113.80 203.0.113.111; do
	x "$NET" ip addr add "$a/32" dev eth0
done
x "$NET" ip addr add 2001:db8:ff::80/128 dev eth0 nodad
x "$NET" ip route add default via 100.64.0.1
x "$NET" ip -6 route add default via 2001:db8:64::1
for r in 198.51.100.0/24 192.0.2.0/24 203.0.113.0/24; do
	x "$GW" ip route add "$r" via 100.64.0.2
done
x "$GW" ip -6 route add 2001:db8:ff::/48 via 2001:db8:64::2

# Background servers are started with "ip netns exec" itself, not the x
# function: $! of a backgrounded function is a subshell, and killing that
# left the servers running after the test. ip netns exec execs the program,
# so $! is the server.
# servers: the approved resolver (only on 198.51.100.53), a web server, a
# DoT stand-in on the foreign resolver's address
ip netns exec "$NET" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--listen-address=198.51.100.53 --bind-interfaces --port=53 \
	--address=/www.lab.test/198.51.100.80 --pid-file="$tmp/dnsmasq.pid" \
	--user=root 2> "$tmp/dnsmasq.log" &
pids+=($!)
mkdir -p "$tmp/www"
echo "hello from 198.51.100.80" > "$tmp/www/index.html"
ip netns exec "$NET" "$py" -m http.server --bind 198.51.100.80 --directory "$tmp/www" 80 \
	> "$tmp/http.log" 2>&1 &
pids+=($!)
ip netns exec "$NET" socat TCP-LISTEN:853,bind=203.0.113.53,fork,reuseaddr SYSTEM:'echo dot' \
	> /dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	if x "$NET" ss -ltn | grep -q '198.51.100.80:80' && x "$NET" ss -lun | grep -q '198.51.100.53:53' &&
	   x "$NET" ss -ltn | grep -q '203.0.113.53:853'; then break; fi
	sleep 0.1
done

# the policy, compiled and loaded
"$egwctl" policy compile --target nft --queue-mode mark --inside egw-in --outside egw-out \
	"$src/firmware/egw.cfg" > "$tmp/egw.nft"
x "$GW" nft -f "$tmp/egw.nft"

pings() { x "$1" ping -c 3 -i 0.3 -W 1 "$2" > /dev/null 2>&1; }
counter_of() { # chain, comment text: packets counted by that rule
	x "$GW" nft list chain inet egw "$1" | grep -F "$2" |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'
}

# profiles
if pings "$T1" 203.0.113.80; then ok "finance terminal reaches 203.0.113.80 (US, standard: allow)"; else
	bad "finance terminal cannot reach 203.0.113.80"; fi
if pings "$T1" 2001:db8:ff::80; then ok "finance terminal reaches 2001:db8:ff::80 over IPv6"; else
	bad "finance terminal cannot reach 2001:db8:ff::80 over IPv6"; fi
if pings "$T2" 198.51.100.80; then ok "health terminal reaches 198.51.100.80 (CN, restricted: allow)"; else
	bad "health terminal cannot reach 198.51.100.80"; fi
if pings "$T2" 203.0.113.80; then bad "health terminal reached 203.0.113.80 (US, restricted: deny)"; else
	ok "health terminal cannot reach 203.0.113.80 (US, restricted: deny)"; fi
if [ "$(counter_of profile_1 'egw.cfg:87 deny')" -ge 1 ]; then
	ok "the drop is counted on the rule at egw.cfg:87"; else bad "no count on egw.cfg:87"; fi

# identity
if pings "$RG" 203.0.113.80; then bad "unregistered 10.1.0.99 reached the internet"; else
	ok "unregistered 10.1.0.99 is dropped"; fi
if [ "$(counter_of identity 'unregistered source (terminals.unregistered drop)')" -ge 1 ]; then
	ok "counted as unregistered"; else bad "unregistered drop not counted"; fi
x "$RG" ip addr add 10.1.0.11/16 dev eth0
if x "$RG" ping -c 1 -W 1 -I 10.1.0.11 203.0.113.80 > /dev/null 2>&1; then
	bad "10.1.0.11 with another MAC (spoofing) reached the internet"; else
	ok "10.1.0.11 with another MAC (spoofing) is dropped"; fi
if [ "$(counter_of identity 'always dropped')" -ge 1 ]; then
	ok "counted as spoofing"; else bad "spoofing not counted"; fi
if pings "$NET" 10.1.0.10; then bad "the internet opened a flow to 10.1.0.10"; else
	ok "nothing from outside opens a flow"; fi

# DNS
ans=$(x "$T1" dig +short +time=2 +tries=1 @198.51.100.53 www.lab.test 2>&1 || true)
if [ "$ans" = "198.51.100.80" ]; then ok "DNS to the approved resolver"; else
	bad "DNS to the approved resolver: $ans"; fi
ans=$(x "$T1" dig +time=2 +tries=1 @203.0.113.53 www.lab.test 2>&1 || true)
if grep -q "^www.lab.test.*198.51.100.80" <<< "$ans" && grep -q "SERVER: 203.0.113.53#53" <<< "$ans"; then
	ok "DNS to a foreign resolver is redirected; the answer comes from 203.0.113.53"
else
	bad "DNS redirect: $ans"
fi
if x "$T1" timeout 3 socat -T 2 - TCP:203.0.113.53:853,connect-timeout=2 < /dev/null 2>/dev/null | grep -q dot; then
	bad "DoT to 203.0.113.53 got through"; else ok "DoT to a foreign resolver is dropped"; fi
if [ "$(counter_of dns 'DoT to a non-approved resolver')" -ge 1 ]; then
	ok "counted as DoT"; else bad "DoT drop not counted"; fi
if pings "$T1" 203.0.113.111; then bad "the DoH server 203.0.113.111 answered"; else
	ok "the DoH server 203.0.113.111 is blocked"; fi

# web flows go through inspection (names: commercial-mail); no control plane
# and no NFQUEUE rule: the punt mark alone lets them pass
web() { x "$T1" curl -s -m 3 http://198.51.100.80/ 2>/dev/null || true; }
if [ "$(web)" = "hello from 198.51.100.80" ]; then ok "web flow passes (pending, no NFQUEUE rule)"; else
	bad "web flow to 198.51.100.80 failed"; fi
# the control plane says "blocked" for every punted packet
ipt() { x "$GW" iptables -t mangle "$@"; }
ipt -A FORWARD -m mark --mark 0x00e90001 -j MARK --set-mark 0x00e90003
if [ -n "$(web)" ]; then bad "web flow passed although the verdict was 'blocked'"; else
	ok "verdict 'blocked' resets the flow"; fi
if [ "$(counter_of verdicts 'blocked TCP flow: reset')" -ge 1 ]; then
	ok "the reset is counted in chain verdicts"; else bad "no reset counted"; fi
# the blocked mark sticks: the server (443, a web port, so inspected) speaks
# one second after the reset; that later packet is dropped by the flow's mark
ip netns exec "$NET" socat TCP-LISTEN:443,bind=198.51.100.80,fork,reuseaddr SYSTEM:'sleep 1; echo late' \
	> /dev/null 2>&1 &
pids+=($!)
for _ in $(seq 30); do x "$NET" ss -ltn | grep -q '198.51.100.80:443' && break; sleep 0.1; done
before=$(counter_of forward 'flow blocked by the control plane')
got=$(echo hello | x "$T1" timeout 4 socat -T 3 - TCP:198.51.100.80:443,connect-timeout=2 2>/dev/null || true)
sleep 1.5
after=$(counter_of forward 'flow blocked by the control plane')
if [ -z "$got" ] && [ "$after" -gt "$before" ]; then
	ok "later packets of a blocked flow are dropped by its ct mark"; else
	bad "blocked flow: got '$got', ct mark drops $before -> $after"; fi
# a flow blocked on its first packet is never confirmed by conntrack, so
# its mark is lost with it: each new query is punted and blocked again
before=$(counter_of verdicts 'blocked flow"')
x "$T1" "$py" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
q = bytes.fromhex("12340100000100000000000003777777036c616204746573740000010001")
for _ in range(2):
    s.sendto(q, ("198.51.100.53", 53))
    time.sleep(0.3)
'
after=$(counter_of verdicts 'blocked flow"')
if [ $((after - before)) -eq 2 ]; then ok "both DNS queries blocked by the verdict"; else
	bad "DNS queries blocked: $((after - before)) (want 2)"; fi
# "allowed": the first inspected packet ends inspection for the flow
ipt -F FORWARD
ipt -A FORWARD -m mark --mark 0x00e90001 -j MARK --set-mark 0x00e90002
before=$(counter_of forward 'flow under inspection')
if [ "$(web)" = "hello from 198.51.100.80" ]; then ok "verdict 'allowed' lets the flow through"; else
	bad "web flow failed with verdict 'allowed'"; fi
after=$(counter_of forward 'flow under inspection')
if [ $((after - before)) -eq 1 ]; then
	ok "after the verdict 'allowed' the flow is no longer punted (1 packet inspected)"
else
	bad "packets punted after 'allowed': $((after - before)) (want 1)"
fi

# a destination the control plane flags: dropped, also for a running flow
ip netns exec "$T1" ping -i 0.2 -c 40 -W 1 203.0.113.80 > "$tmp/ping.txt" 2>&1 &
pinger=$!
pids+=("$pinger")
sleep 1
x "$GW" nft add element inet egw flagged_v4 '{ 203.0.113.80 timeout 1m }'
wait "$pinger" || true
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$tmp/ping.txt")
if [ -n "$got" ] && [ "$got" -ge 2 ] && [ "$got" -le 25 ]; then
	ok "flagging 203.0.113.80 stops a running ping ($got of 40 answered)"; else
	bad "flagged destination: $got of 40 pings answered"; fi
if pings "$T1" 203.0.113.80; then bad "flagged 203.0.113.80 reached"; else
	ok "flagged 203.0.113.80 unreachable for new flows"; fi

exit "$fail"
