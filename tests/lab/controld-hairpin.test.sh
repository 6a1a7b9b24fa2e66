#!/usr/bin/env bash
# Dataplane mode (hairpin on by default): a stand-in fast path (namespace D)
# writes punted frames into the punt interface "egw-punt" of the gateway
# namespace (a veth here instead of the tap); egw-controld queues them,
# accepted ones are routed back out of egw-punt to the fast path, refused
# DNS queries come back as NXDOMAIN, a reload updates the routing in place,
# and the routing goes at exit.
# Args: BUILD_DIR SOURCE_DIR.
build=${1:?usage: controld-hairpin.test.sh BUILD_DIR SOURCE_DIR}
src=${2:?}
set -u
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
G=egwt-controld-h$$-g D=egwt-controld-h$$-d
tmp=$(mktemp -d /tmp/egwt-controld.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$G" 2>/dev/null
	ip netns del "$D" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$G" && ip netns add "$D" || exit 1
ip -n "$G" link set lo up
ip link add egw-punt netns "$G" type veth peer name dp0 netns "$D" || exit 1
ip -n "$D" link set dp0 up
ip netns exec "$G" ethtool -K egw-punt tx off >/dev/null 2>&1
ip netns exec "$D" ethtool -K dp0 tx off >/dev/null 2>&1
# NXDOMAIN answers go to the units through the tap as well
ip -n "$G" link set egw-punt up
punt_mac=$(ip -n "$G" -j link show egw-punt | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')

source "$src/tests/lab/controld-common.sh" 2>/dev/null || true
C=x S=y   # cd_policy only needs $tmp and $src
cd_policy "$tmp/policy.cfg" closed
trap cleanup EXIT

ip netns exec "$G" "$build/control/egw-controld" --config "$tmp/policy.cfg" \
	--run-dir "$tmp/run" --punt-hairpin-mac 02:00:0a:01:00:01 --dataplane-sock "$tmp/none.sock" >"$tmp/controld.log" 2>&1 &
pid=$!
for i in $(seq 100); do grep -q 'routed back' "$tmp/controld.log" && break; sleep 0.1; done
grep -q 'routed back' "$tmp/controld.log" && ok "hairpin configured" || { cat "$tmp/controld.log"; fail "no hairpin"; }
ip -n "$G" route show | grep -q '10.1.0.0/16 dev egw-punt' && ok "route to the unit through the tap" ||
	fail "no unit route: $(ip -n "$G" route show)"
ip -n "$G" rule | grep -q 'iif egw-punt lookup 2001' && ok "policy rule for iif egw-punt" || fail "no ip rule"

# The stand-in fast path: send three frames into egw-punt, capture what
# comes back on dp0.
cat > "$tmp/dp.py" <<'PY'
import sys, time, threading
from scapy.all import Ether, IP, UDP, TCP, DNS, DNSQR, Raw, AsyncSniffer, sendp, conf
conf.verb = 0
punt_mac = sys.argv[1]
# On a loaded machine the sniffer can take long to open its socket: wait for
# it rather than for a fixed time, or the replies go by unseen.
ready = threading.Event()
sn = AsyncSniffer(iface="dp0", filter="ip", store=True, started_callback=ready.set)
sn.start()
if not ready.wait(30):
    print("sniffer did not start")
    sys.exit(1)
time.sleep(0.2)
base = Ether(dst=punt_mac, src="02:00:00:00:e9:01") / IP(src="10.1.0.10", dst="198.51.100.53", ttl=64)
sendp(base / UDP(sport=40001, dport=53) / DNS(id=1, rd=1, qd=DNSQR(qname="www.example.org")), iface="dp0")
sendp(base / UDP(sport=40002, dport=53) / DNS(id=2, rd=1, qd=DNSQR(qname="mail.qq.com")), iface="dp0")
web = Ether(dst=punt_mac, src="02:00:00:00:e9:01") / IP(src="10.1.0.10", dst="198.51.100.80", ttl=64)
sendp(web / TCP(sport=40003, dport=80, flags="PA", seq=1, ack=1) /
      Raw(b"GET / HTTP/1.1\r\nHost: mail.qq.com\r\n\r\n"), iface="dp0")
time.sleep(3)
for p in sn.stop():
    if IP not in p:
        continue
    if UDP in p and p[UDP].sport == 53 and DNS in p:
        print("DNSREPLY id=%d rcode=%d src=%s dst=%s" % (p[DNS].id, p[DNS].rcode, p[IP].src, p[Ether].dst))
    elif UDP in p and p[UDP].dport == 53:
        print("FORWARDED dns sport=%d ttl=%d dst=%s" % (p[UDP].sport, p[IP].ttl, p[Ether].dst))
    elif TCP in p and p[TCP].dport == 80:
        print("FORWARDED tcp sport=%d ttl=%d" % (p[TCP].sport, p[IP].ttl))
    elif TCP in p and p[TCP].sport == 80:
        print("TCPREPLY flags=%s" % p[TCP].flags)
PY
# the fast path keeps the units' gateway MAC: not the tap's
out=$(ip netns exec "$D" /usr/bin/python3 "$tmp/dp.py" 02:00:00:00:00:fe 2>&1)
echo "$out" | grep -q 'FORWARDED dns sport=40001 ttl=63 dst=02:00:0a:01:00:01' &&
	ok "allowed query came back out of the punt interface, to the units' gateway MAC" ||
	fail "allowed query not hairpinned: $out"
# (what we sent is captured too, with ttl 64: forwarded means ttl 63)
echo "$out" | grep -q 'FORWARDED dns sport=40002 ttl=63' && fail "denied query was forwarded"
echo "$out" | grep -q 'DNSREPLY id=2 rcode=3 src=198.51.100.53 dst=02:00:0a:01:00:0a' &&
	ok "denied query answered NXDOMAIN through the tap, to the terminal's MAC" ||
	fail "no NXDOMAIN: $out"
echo "$out" | grep -q 'FORWARDED tcp sport=40003 ttl=63' && fail "blocked HTTP forwarded" ||
	ok "blocked HTTP not forwarded"
echo "$out" | grep -q 'TCPREPLY flags=RA' && ok "blocked HTTP reset towards the client" ||
	fail "no reset: $out"

# A reload that changes the units: the routes and neighbours follow in
# place (the policy rule stays), and what the old policy alone had goes.
cp "$tmp/policy.cfg" "$tmp/policy1.cfg"
/usr/bin/python3 - "$tmp/policy1.cfg" "$tmp/policy.cfg" <<'PY'
import sys
s = open(sys.argv[1]).read()
unit = ('units = (\n  { name = "lab2"; prefixes = [ "10.9.0.0/16" ]; profile = "standard";\n'
        '    terminals = ( { ip = "10.9.0.9"; mac = "02:00:0a:09:00:09"; user = "x"; } ); },')
assert "units = (" in s
open(sys.argv[2], "w").write(s.replace("units = (", unit, 1))
PY
updated() { grep -c 'hairpin routes and neighbours updated' "$tmp/controld.log"; }
kill -HUP "$pid"
for _ in $(seq 100); do [ "$(updated)" -ge 1 ] && break; sleep 0.1; done
ip -n "$G" route show table 2001 | grep -q '10.9.0.0/16 dev egw-punt' &&
	ip -n "$G" neigh show dev egw-punt | grep -q '10.9.0.9 lladdr 02:00:0a:09:00:09 PERMANENT' &&
	ok "reload: the new unit routed and its terminal's MAC set, in place" ||
	fail "reload: $(tail -n 3 "$tmp/controld.log"); $(ip -n "$G" route show table 2001)"
ip -n "$G" rule | grep -q 'iif egw-punt lookup 2001' || fail "reload: the policy rule went"
cp "$tmp/policy1.cfg" "$tmp/policy.cfg"
kill -HUP "$pid"
for _ in $(seq 100); do [ "$(updated)" -ge 2 ] && break; sleep 0.1; done
left=$(ip -n "$G" route show table all | grep '10.9.0.0/16'; ip -n "$G" neigh show | grep '10.9.0.9')
[ -z "$left" ] && ip -n "$G" route show table 2001 | grep -q '10.1.0.0/16 dev egw-punt' &&
	ok "reload back: the removed unit's routes and neighbour deleted, the others kept" ||
	fail "reload back: left '$left'; $(ip -n "$G" route show table 2001)"

kill "$pid"; wait "$pid"; rc=$?; pid=
[ "$rc" = 0 ] || fail "exit status $rc"
ip -n "$G" rule | grep -q 'lookup 2001' && fail "ip rule left" || ok "policy routing removed at exit"
[ -z "$(ip -n "$G" route show table 2001 2>/dev/null)" ] && ok "table 2001 empty" || fail "routes left"
ip -n "$G" route show | grep -q 'egw-punt' && fail "main table route left: $(ip -n "$G" route show)"
ip -n "$G" neigh show nud permanent | grep -q . && fail "neighbours left: $(ip -n "$G" neigh show nud permanent)"
ip netns exec "$G" nft list tables | grep -q egw_punt && fail "punt tables left: $(ip netns exec "$G" nft list tables)"
[ "$fails" = 0 ] || { echo "--- controld log"; cat "$tmp/controld.log"; }
exit "$fails"
