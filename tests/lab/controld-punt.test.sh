#!/usr/bin/env bash
# egw-controld in a forwarding gateway namespace: traffic from the client
# interface is punted to nfqueue, inspected and verdicted; real clients
# (dig, curl, socat) observe the verdicts; the punt rules go at exit.
# Args: BUILD_DIR SOURCE_DIR.
build=${1:?usage: controld-punt.test.sh BUILD_DIR SOURCE_DIR}
src=${2:?}
source "$src/tests/lab/controld-common.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
cd_setup egwt-controld-p$$ || exit 1
cd_policy "$tmp/policy.cfg" closed

# Before the daemon: plain forwarding works, so every failure below is its.
dig_c @198.51.100.53 mail.qq.com +short | grep -q 198.51.100.80 || { echo "lab broken"; exit 1; }

# systemd Type=notify: READY=1 arrives on $NOTIFY_SOCKET
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(20)
open(sys.argv[2], "wb").write(s.recv(4096))' "$tmp/notify.sock" "$tmp/notify.out" &
cd_pids+=($!)
notify_pid=$!
for i in $(seq 50); do [ -S "$tmp/notify.sock" ] && break; sleep 0.1; done
# a stand-in fast path receives the flow verdicts
/usr/bin/python3 "$src/tests/lab/controld-fastpath-standin.py" "$tmp/dp.sock" "$tmp/dp.log" &
cd_pids+=($!)
for i in $(seq 50); do [ -S "$tmp/dp.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$tmp/notify.sock cd_start "$tmp/policy.cfg" --punt-iif g0 --dataplane-sock "$tmp/dp.sock" || exit 1
wait "$notify_pid" 2>/dev/null
grep -q 'READY=1' "$tmp/notify.out" 2>/dev/null && ok "READY=1 sent to NOTIFY_SOCKET" ||
	fail "no READY=1 notification"
# least privilege: only CAP_NET_ADMIN (bit 12) left, in the bounding set too
caps=$(awk '/^CapEff|^CapPrm|^CapBnd/ {print $2}' "/proc/$cd_pid/status" | sort -u)
[ "$caps" = 0000000000001000 ] && ok "capabilities reduced to CAP_NET_ADMIN" ||
	fail "capabilities: $caps"

out=$(dig_c @198.51.100.53 www.example.org)
echo "$out" | grep -q 'status: NOERROR' && echo "$out" | grep -q '198.51.100.80' &&
	ok "allowed DNS query answered by the resolver" || fail "allowed DNS query: $out"

out=$(dig_c @198.51.100.53 mail.qq.com)
echo "$out" | grep -q 'status: NXDOMAIN' && ok "denied category answered NXDOMAIN" ||
	fail "mail.qq.com not NXDOMAIN: $out"

out=$(dig_c @198.51.100.53 sub.gmail.com AAAA)
echo "$out" | grep -q 'status: NXDOMAIN' && ok "subdomain of a denied domain NXDOMAIN" ||
	fail "sub.gmail.com not NXDOMAIN: $out"

body=$(curl_c http://198.51.100.80/ 2>&1)
[ "$body" = "hello from 198.51.100.80" ] && ok "HTTP to an allowed host passes" ||
	fail "HTTP allowed: $body"

if curl_c -H 'Host: mail.qq.com' http://198.51.100.80/ >/dev/null 2>&1; then
	fail "HTTP with Host mail.qq.com passed"
else
	ok "HTTP with Host mail.qq.com blocked"
fi

# A TCP port the profile denies (first match, no name needed): socat fails.
ip netns exec "$S" socat TCP-LISTEN:8081,bind=198.51.100.80,fork,reuseaddr SYSTEM:'echo hi' &
cd_pids+=($!)
sleep 0.3
if ip netns exec "$C" timeout 3 socat -T2 - TCP:198.51.100.80:8081,connect-timeout=2 </dev/null 2>/dev/null | grep -q hi; then
	fail "tcp/8081 (denied by rule) connected"
else
	ok "tcp/8081 denied by the profile"
fi

# Tunnelling signs to an unapproved server: dropped, destination flagged,
# later queries to it dropped by the flagged set.
long=$(head -c 60 /dev/urandom | base32 -w0 | tr -d '=' | tr 'A-Z' 'a-z' | cut -c1-45)
out=$(dig_c @198.51.100.99 "$long.$long.t.example.net" 2>&1)
echo "$out" | grep -qE 'timed out|no servers could be reached' && ok "tunnel-like query dropped" ||
	fail "tunnel-like query not dropped: $out"
sleep 0.3
ip netns exec "$G" nft list set inet egw_punt flagged_v4 | grep -q '198.51.100.99' &&
	ok "198.51.100.99 flagged" || fail "198.51.100.99 not in flagged_v4"
out=$(dig_c @198.51.100.99 www.example.org 2>&1)
echo "$out" | grep -qE 'timed out|no servers could be reached' && ok "flagged server blocked" ||
	fail "flagged server still answers: $out"

# Events
sleep 0.3
ev=$(cat "$tmp"/log/*.json 2>/dev/null)
echo "$ev" | grep '"event_type":"dns"' | grep -q '"category:commercial-mail"' &&
	ok "dns event with reason category:commercial-mail" || fail "no blocked dns event"
echo "$ev" | grep '"event_type":"dns"' | grep '"rrname":"mail.qq.com"' | grep -q '"rule":"policy.cfg:[0-9]*"' &&
	ok "event cites the policy line" || fail "no rule location in the event"
echo "$ev" | grep '"event_type":"http"' | grep -q '"hostname":"mail.qq.com"' &&
	ok "http event for the blocked Host" || fail "no http event"
echo "$ev" | grep '"event_type":"alert"' | grep -q 'tunnel-suspect' &&
	ok "tunnelling alert" || fail "no tunnel alert"

# verdict feedback to the fast path
grep -q 'FLOW_VERDICT proto=6 verdict=2 dport=80 reason=category:commercial-mail rule=policy.cfg:' "$tmp/dp.log" &&
	ok "blocked HTTP flow sent to the fast path as RESET" || fail "no FLOW_VERDICT: $(cat "$tmp/dp.log")"
grep -q 'FLOW_VERDICT proto=6 verdict=0 dport=80 reason=allowed' "$tmp/dp.log" &&
	ok "allowed HTTP flow sent to the fast path as ALLOW" || fail "no ALLOW verdict"
out=$("$build/control/egwctl" stats --json --socket "$tmp/run/controld-ro.sock" --dataplane-socket "$tmp/dp.sock")
echo "$out" | grep -q '"rx_packets": 42' && echo "$out" | grep -q '"verdicts_sent"' &&
	ok "egwctl stats shows both daemons" || fail "stats of both: $out"

# egwctl flows: the inspected flows with verdict and policy line, filtered
fl=$("$build/control/egwctl" flows --ip 198.51.100.80 --unit finance --json \
	--socket "$tmp/run/controld-ro.sock" --dataplane-socket "$tmp/dp.sock")
echo "$fl" | /usr/bin/python3 -c '
import json, sys
f = json.load(sys.stdin)
c = f["controld"]
assert any(x["verdict"] == "blocked" and x["reason"] == "category:commercial-mail" and
           x["rule"].startswith("policy.cfg:") and x["user"] == "zhang.wei" for x in c), c
assert all(x["dest_ip"] == "198.51.100.80" or x["src_ip"] == "198.51.100.80" for x in c), c
assert f["dataplane"]["flows"][0]["reason"] == "fastpath-standin", f' &&
	ok "egwctl flows lists both daemons' flows with verdict and rule" || fail "egwctl flows: $fl"
n=$("$build/control/egwctl" flows --ip 192.0.2.1 --json --socket "$tmp/run/controld-ro.sock" \
	--dataplane-socket "$tmp/nonexistent.sock" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["controld"]))')
[ "$n" = 0 ] && ok "egwctl flows --ip filters" || fail "--ip filter: $n flows"

# egwctl stats against the read-only socket
st=$("$build/control/egwctl" stats --json --socket "$tmp/run/controld-ro.sock" 2>&1)
echo "$st" | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s["verdicts"]["dropped"]>=3 and s["injected"]["nxdomain"]>=2, s' &&
	ok "egwctl stats counts verdicts and injections" || fail "egwctl stats: $st"

cd_stop || fail "egw-controld exit status $?"
left=$(rules_left)
[ -z "$left" ] && ok "punt rules removed at exit" || fail "left behind: $left"
out=$(dig_c @198.51.100.53 mail.qq.com +short)
[ "$out" = "198.51.100.80" ] && ok "traffic flows unqueued after exit" || fail "after exit: $out"

[ "$fails" = 0 ] || { echo "--- controld log"; cat "$tmp/controld.log"; }
exit "$fails"
