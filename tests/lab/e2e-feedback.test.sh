#!/usr/bin/env bash
# Issue 4 end to end with the REAL fast path: egw-dataplane and egw-controld
# side by side in the lab's gateway (lab.sh up --mode dataplane), the example
# policy (firmware/egw.cfg, its log directory moved to this test's).
#  1. allow: fin1 -> 203.0.113.80:22 matches the punt rule (!CN, tcp 22):
#     the handshake and the first data segment are punted, egw-controld
#     inspects and allows ("inspected", egw.cfg:80), the verdict reaches the
#     fast path's flow table (egwctl flows: allow, control-plane), and the
#     next 50 round trips pass without one more punt (the fast path's punt
#     counter and egw-controld's nfqueue packet count stay where they were);
#  2. deny: a DNS query with tunnelling signs to the approved resolver is
#     punted; egw-controld drops it, logs an alert and blocks the socket's
#     flow in the fast path: the next 20 queries of that socket, harmless or
#     not, are dropped by the fast path (drops.control-plane) and never
#     punted; the approved resolver is not flagged (other sockets still get
#     answers);
#  3. after a two-phase reload (egwctl reload) to dns.violation = "punt": a
#     tunnelling burst to the foreign resolver 203.0.113.53: alert, the
#     destination in the nft set flagged_v4, the flow dropped in the fast
#     path; a new query to it from another socket is punted and dropped by
#     the flagged set before it reaches the queue;
#  4. egw-controld killed (-9): the fast path sees its subscriber go and
#     applies fail_mode itself: "closed" drops a new punted flow and counts
#     drops.punt-fail-closed, the flow decided before keeps passing in the
#     fast path; after a fast-path reload (SIGHUP) to fail_mode "open" a new
#     punted flow passes and counts fail_open; meanwhile egwctl stats
#     clients are never taken for the control plane.
# Args: BUILD_DIR SOURCE_DIR; runs as root; namespaces egwt-e2e-f<pid>-*.
set -u   # no pipefail: "cmd | grep -q" would fail on the writer's SIGPIPE
build=$(cd "${1:?usage: e2e-feedback.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: e2e-feedback.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
dp=$build/dataplane/egw-dataplane
cd_bin=$build/control/egw-controld
egwctl=$build/control/egwctl
client=$src/tests/lab/e2e-feedback.py
srv_pid=
keep_pid=
# shellcheck source=tests/lab/lab-test.sh
source "$src/tests/lab/lab-test.sh"
lt_on_exit() {
	local p
	for p in $srv_pid $keep_pid; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
lt_begin e2e-feedback "egwt-e2e-f$$" "$dp" "$cd_bin" "$egwctl"
ok() { echo "ok: $*"; }

# The example policy with its log here and its geo database by absolute path.
lt_policy 's|compress = "zstd"|compress = "none"|'
punt_line=$(grep -n 'action = "punt";  country = \[ "!CN" \]' "$cfg" | cut -d: -f1)
sus_line=$(grep -n 'suspicious:' "$cfg" | cut -d: -f1)

dsock=$state/dataplane.sock
csock=$state/controld-ro.sock
gw1=$(lt_dataplane_cmd "$dsock")
gw2=$(lt_controld_cmd --dataplane-sock "$dsock" --run-dir "$state" \
	--punt-hairpin-mac 02:00:0a:01:00:01)
lt_up dataplane "egw-dataplane and egw-controld" "$gw1" "$gw2"
dp_pid=$(cat "$tmp/dp.pid")
cd_pid=$(cat "$tmp/cd.pid")
dplog=$state/gw1.log
cdlog=$state/gw2.log
x() { local h=$1; shift; ip netns exec "$prefix-$h" "$@"; }
stats() { "$egwctl" stats --json --socket "$csock" --dataplane-socket "$dsock"; }
# jq-like: py EXPR < json (EXPR over s = the parsed object)
py() { /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"; }
# judge FILE [RULE] <<'PY' ... : python checks over a client's result r (and
# its snapshots b, m, a: before, mid, after), each check(what, good, got)
# printing PASS/FAIL; non-zero when any failed.
judge_head='import json, sys
r = json.load(open(sys.argv[1]))
rule = sys.argv[2] if len(sys.argv) > 2 else None
b, m, a = r["before"], r["mid"], r["after"]
ok = True
def check(what, good, got):
    global ok
    print("%s  %-66s %s" % ("PASS" if good else "FAIL", what, got))
    ok = ok and good
'
judge() { /usr/bin/python3 -c "$judge_head$(cat)
sys.exit(0 if ok else 1)" "$@"; }

for _ in $(seq 1 100); do
	[ "$(stats 2>/dev/null | py 's["dataplane"]["control_plane"]' 2>/dev/null)" = True ] && break
	sleep 0.1
done
st=$(stats)
[ "$(echo "$st" | py 's["dataplane"]["control_plane"]')" = True ] &&
	[ "$(echo "$st" | py 's["fastpath"]["connected"]')" = True ] &&
	ok "egw-controld subscribed to the fast path" ||
	{ fail "egw-controld not connected to the fast path: $st"; tail -n 20 "$cdlog"; exit 1; }

# --- 1. allow verdict ----------------------------------------------------------
echo "--- 1. a punted flow allowed by egw-controld stays in the fast path"
# (ip netns exec execs: $! is the server itself, ended by the trap)
ip netns exec "$prefix-net" /usr/bin/python3 -c '
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("203.0.113.80", 22)); s.listen(8)
def echo(c):
    while True:
        d = c.recv(4096)
        if not d:
            break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()' &
srv_pid=$!
for _ in $(seq 1 50); do x net ss -ltn | grep -q '203.0.113.80:22 ' && break; sleep 0.1; done
x fin1 /usr/bin/python3 "$client" tcp 203.0.113.80 22 50 "$egwctl" "$csock" "$dsock" \
	>"$tmp/allow.json" 2>"$tmp/allow.err"
judge "$tmp/allow.json" "egw.cfg:$punt_line" <<'PY' || fail "allow verdict (above)"
check("the first round trip crossed (through nfqueue)", r["first"] == "SSH-2.0-egw_e2e\r\n", repr(r["first"]))
check("the handshake and first data were punted", m["punts"] - b["punts"] >= 3, m["punts"] - b["punts"])
check("egw-controld queued them", m["queue_packets"] - b["queue_packets"] >= 3,
      m["queue_packets"] - b["queue_packets"])
f, c = r["dp_flow"], r["cd_flow"]
check("egwctl flows: the fast path holds allow from the control plane",
      bool(f) and f["verdict"] == "allow" and f["reason"] == "control-plane", f)
check("egwctl flows: the fast path's flow keeps the punt rule's line",
      bool(f) and f["rule"] == rule and f["user"] == "zhang.wei", f and f["rule"])
check("egwctl flows: egw-controld allowed it, inspected, " + rule,
      bool(c) and c["verdict"] == "allowed" and c["reason"] == "inspected" and c["rule"] == rule, c)
check("50 later round trips all echoed", r["echoed"] == 50, r["echoed"])
check("no punt for the later packets", a["punts"] == m["punts"], (m["punts"], a["punts"]))
check("nfqueue saw none of them", a["queue_packets"] == m["queue_packets"],
      (m["queue_packets"], a["queue_packets"]))
fa = r["dp_flow_after"]
check("the fast path counted them on the flow",
      bool(fa) and fa["pkts_toserver"] - f["pkts_toserver"] >= 50, fa and fa["pkts_toserver"])
PY
[ -s "$tmp/allow.err" ] && echo "client: $(cat "$tmp/allow.err")"

# --- 2. deny verdict: tunnelling signs to the approved resolver --------------
echo "--- 2. a DNS flow with tunnelling signs is blocked in the fast path"
x fin1 /usr/bin/python3 "$client" dns 198.51.100.53 20 "$egwctl" "$csock" "$dsock" \
	>"$tmp/deny.json" 2>"$tmp/deny.err"
judge "$tmp/deny.json" "egw.cfg:$sus_line" <<'PY' || fail "deny verdict (above)"
check("the tunnel-like query got no answer", r["tunnel"] == "timeout", r["tunnel"])
check("it was punted and queued", m["punts"] > b["punts"] and m["queue_packets"] > b["queue_packets"],
      (m["punts"] - b["punts"], m["queue_packets"] - b["queue_packets"]))
f, c = r["dp_flow"], r["cd_flow"]
check("egwctl flows: the fast path drops the flow for the control plane",
      bool(f) and f["verdict"] == "drop" and f["reason"] == "control-plane", f)
check("egwctl flows: egw-controld blocked it, tunnel-suspect, " + rule,
      bool(c) and c["verdict"] == "blocked" and c["reason"] == "tunnel-suspect" and c["rule"] == rule, c)
check("20 later queries of the socket unanswered", r["later"] == ["timeout"] * 20, r["later"])
check("none of them punted", a["punts"] == m["punts"], (m["punts"], a["punts"]))
check("none of them queued", a["queue_packets"] == m["queue_packets"],
      (m["queue_packets"], a["queue_packets"]))
d = a["drops"].get("control-plane", 0) - m["drops"].get("control-plane", 0)
check("the fast path dropped them (drops.control-plane)", d == 20, d)
PY
[ -s "$tmp/deny.err" ] && echo "client: $(cat "$tmp/deny.err")"
sleep 0.3
alerts=$(grep -h '"event_type":"alert"' "$tmp"/log/*.json 2>/dev/null | grep -c '"dest_ip":"198.51.100.53"')
[ "$alerts" -ge 1 ] && ok "alert event for the tunnel query ($alerts)" || fail "no alert event in $tmp/log"
x gw nft list set inet egw_punt flagged_v4 | grep -q '198.51.100.53' &&
	fail "the approved resolver was flagged" || ok "the approved resolver is not flagged"
out=$(x fin1 dig +tries=1 +time=2 +short @198.51.100.53 whoami.lab TXT)
[ "$out" = '"approved 198.51.100.53"' ] && ok "other sockets still get answers from it" ||
	fail "approved resolver after the tunnel: $out"

# --- 3. reload to violation = punt; a burst to the foreign resolver -------------
echo "--- 3. two-phase reload, then a tunnelling burst to a foreign resolver"
sed -i 's|violation = "redirect";|violation = "punt";|' "$cfg"
r0=$(stats | py 's["dataplane"]["reloads"]')
out=$("$egwctl" reload --socket "$state/controld.sock" 2>&1) && ok "egwctl reload: $out" ||
	fail "egwctl reload: $out"
r1=$(stats | py 's["dataplane"]["reloads"]')
[ "$r1" = $((r0 + 1)) ] && ok "the fast path took the new policy (reloads $r0 -> $r1)" ||
	fail "the fast path's reloads: $r0 -> $r1"
# (right after it: egw-controld updates the hairpin routes in place, and a
# punted packet must not fall into a gap; the next query is the first)
x fin1 /usr/bin/python3 "$client" dns 203.0.113.53 10 "$egwctl" "$csock" "$dsock" whoami.lab \
	>"$tmp/flag.json" 2>"$tmp/flag.err"
judge "$tmp/flag.json" <<'PY' || fail "burst to the foreign resolver (above)"
check("a harmless query to it is inspected and answered by it",
      "foreign 203.0.113.53" in r.get("first", ""), r.get("first"))
check("the tunnel query got no answer", r["tunnel"] == "timeout", r["tunnel"])
f = r["dp_flow"]
check("egwctl flows: the fast path drops the flow", bool(f) and f["verdict"] == "drop"
      and f["reason"] == "control-plane", f)
check("10 later queries unanswered", r["later"] == ["timeout"] * 10, r["later"])
check("none of them punted or queued", a["punts"] == m["punts"] and
      a["queue_packets"] == m["queue_packets"],
      (m["punts"], a["punts"], m["queue_packets"], a["queue_packets"]))
d = a["drops"].get("control-plane", 0) - m["drops"].get("control-plane", 0)
check("the fast path dropped them", d == 10, d)
PY
[ -s "$tmp/flag.err" ] && echo "client: $(cat "$tmp/flag.err")"
x gw nft list set inet egw_punt flagged_v4 | grep -q '203.0.113.53' &&
	ok "203.0.113.53 in the nft set flagged_v4" ||
	fail "203.0.113.53 not flagged: $(x gw nft list set inet egw_punt flagged_v4)"
q0=$(stats | py 's["queue"]["packets"]')
p0=$(stats | py 's["dataplane"]["punts"]')
out=$(x fin1 dig +tries=1 +time=2 +short @203.0.113.53 whoami.lab TXT 2>&1)
q1=$(stats | py 's["queue"]["packets"]')
p1=$(stats | py 's["dataplane"]["punts"]')
echo "$out" | grep -qE 'timed out|no servers' && [ "$p1" -gt "$p0" ] && [ "$q1" = "$q0" ] &&
	ok "a new query to the flagged server: punted ($((p1 - p0))), dropped by the set before the queue" ||
	fail "flagged server: '$out', punts $p0 -> $p1, queued $q0 -> $q1"
grep -h '"event_type":"alert"' "$tmp"/log/*.json | grep '"dest_ip":"203.0.113.53"' |
	grep -q "\"rule\":\"egw.cfg:$sus_line\"" && ok "alert for 203.0.113.53 cites egw.cfg:$sus_line" ||
	fail "no alert for 203.0.113.53"

# --- 4. egw-controld killed: the fast path's fail_mode -------------------------
echo "--- 4. kill -9 egw-controld: fail_mode in the fast path"
# a flow decided before the kill, still open across it
ip netns exec "$prefix-fin1" /usr/bin/python3 -c '
import socket, sys, time
s = socket.create_connection(("203.0.113.80", 22), timeout=3)
s.sendall(b"SSH-2.0-egw_e2e_keep\r\n"); s.recv(100)
open(sys.argv[1], "w").write("up\n")
end = time.time() + 120
while not __import__("os").path.exists(sys.argv[2]) and time.time() < end:
    time.sleep(0.1)
n = 0
for i in range(20):
    s.sendall(b"x%d\n" % i)
    n += s.recv(100).startswith(b"x")
print("echoed %d" % n)' "$tmp/keep.up" "$tmp/keep.go" >"$tmp/keep.out" 2>&1 &
keep_pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/keep.up" ] && break; sleep 0.1; done
sleep 1   # its verdict reaches the fast path
ups=$(grep -c 'control plane connected' "$dplog")
kill -9 "$cd_pid"
for _ in $(seq 1 100); do
	[ "$("$egwctl" stats --json --socket /nonexistent --dataplane-socket "$dsock" 2>/dev/null |
		py 's["dataplane"]["control_plane"]' 2>/dev/null)" = False ] && break
	sleep 0.1
done
dpst() { "$egwctl" stats --json --socket /nonexistent --dataplane-socket "$dsock" 2>/dev/null; }
s0=$(dpst)
[ "$(echo "$s0" | py 's["dataplane"]["control_plane"]')" = False ] &&
	ok "the fast path saw egw-controld go" || fail "control_plane still up after kill -9"
touch "$tmp/keep.go"
wait "$keep_pid"
keep_pid=
[ "$(cat "$tmp/keep.out")" = "echoed 20" ] && ok "the flow allowed before the kill keeps passing" ||
	fail "allowed flow after the kill: $(cat "$tmp/keep.out")"
attempt() {  # a new punted flow: fin1 -> 203.0.113.80:22
	x fin1 /usr/bin/python3 -c '
import socket
try:
    s = socket.create_connection(("203.0.113.80", 22), timeout=3)
    s.sendall(b"SSH-2.0-egw_e2e_new\r\n")
    print("echo" if s.recv(100) else "closed")
except OSError as e:
    print("blocked")' 2>&1
}
out=$(attempt)
s1=$(dpst)
fc0=$(echo "$s0" | py 's["dataplane"]["drops"].get("punt-fail-closed", 0)')
fc1=$(echo "$s1" | py 's["dataplane"]["drops"].get("punt-fail-closed", 0)')
[ "$out" = blocked ] && [ "$fc1" -gt "$fc0" ] &&
	ok "closed: a new punted flow is dropped (punt-fail-closed $fc0 -> $fc1)" ||
	fail "closed: '$out', punt-fail-closed $fc0 -> $fc1"
sed -i 's|fail_mode = "closed";|fail_mode = "open";|' "$cfg"
n0=$(grep -c '^egw-dataplane: reloaded' "$dplog")
kill -HUP "$dp_pid"
for _ in $(seq 1 100); do
	[ "$(grep -c '^egw-dataplane: reloaded' "$dplog")" -gt "$n0" ] && break
	sleep 0.1
done
[ "$(grep -c '^egw-dataplane: reloaded' "$dplog")" -gt "$n0" ] || fail "SIGHUP: no reload: $(tail -n 3 "$dplog")"
s2=$(dpst)
out=$(attempt)
s3=$(dpst)
fo2=$(echo "$s2" | py 's["dataplane"]["fail_open"]')
fo3=$(echo "$s3" | py 's["dataplane"]["fail_open"]')
pu2=$(echo "$s2" | py 's["dataplane"]["punts"]')
pu3=$(echo "$s3" | py 's["dataplane"]["punts"]')
[ "$out" = echo ] && [ "$fo3" -ge $((fo2 + 3)) ] && [ "$pu3" = "$pu2" ] &&
	ok "open: a new punted flow passes uninspected (fail_open $fo2 -> $fo3, punts stay $pu3)" ||
	fail "open: '$out', fail_open $fo2 -> $fo3, punts $pu2 -> $pu3"

# the egwctl stats calls above (a dozen, none from egw-controld) never made
# the fast path take them for the control plane
[ "$(grep -c 'control plane connected' "$dplog")" = "$ups" ] &&
	ok "egwctl stats clients are not taken for the control plane" ||
	fail "the control plane flapped: $(grep 'control plane' "$dplog" | tail -n 4)"

# --- the end --------------------------------------------------------------------
kill -TERM "$dp_pid"
lt_wait_exit "$dplog" egw-dataplane
grep -q 'Sanitizer' "$cdlog" && fail "sanitizer report: $(grep -A5 Sanitizer "$cdlog" | head -n 20)"
grep -q 'egw-controld exit status 137' "$cdlog" || fail "egw-controld's end: $(tail -n 3 "$cdlog")"
if [ "$fails" != 0 ]; then
	echo "--- egw-controld log"; tail -n 30 "$cdlog"
	echo "--- egw-dataplane log"; tail -n 30 "$dplog"
fi
echo "e2e-feedback: $fails failure(s)"
[ "$fails" = 0 ]
