#!/usr/bin/env bash
# Issue 3 item 7 end to end: a reload that denies a running flow stops it
# within one second, other flows go on, and the flow's end event says
# "reload"; a changed gateway section is refused with one line naming it.
# The lab runs the real egw-dataplane (this build's) and egw-controld on a
# copy of firmware/egw.cfg. Then:
#  1. SIGHUP to egw-dataplane: while fin1 pings 198.51.100.80 (20 per s),
#     health pings it too and fin1 streams UDP to its echo server, a rule
#     denying ICMP to 198.51.100.80 for the finance unit's profile is added
#     and the fast path reloaded: fin1's ping gets no reply later than 1 s
#     after the reload is done ("reloaded" in its log), health's ping and
#     fin1's UDP stream lose nothing;
#  2. the same through `egwctl reload` (both daemons, two-phase), after an
#     `egwctl reload` that lifted the rule again (fin1's ping passes);
#  3. the events: fin1's two long pings ended with reason "reload" and
#     action "allowed" (the verdict they had), none of health's pings nor
#     of the UDP streams did;
#  4. gateway.workers changed: SIGHUP and `egwctl reload` are refused with
#     "gateway.workers (1 -> 2)" and "restart" in the message, the running
#     policy stays (fin1's ping still blocked, health's passes);
#  5. SIGTERM: egw-dataplane exits 0, no sanitizer report.
# Args: BUILD_DIR SOURCE_DIR (ctest); runs as root. Keeps one lcore busy
# (the worker) for the ~1 minute it runs.
set -uo pipefail
build=$(cd "${1:?usage: dataplane-reload.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: dataplane-reload.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
dp=$build/dataplane/egw-dataplane
cd=$build/control/egw-controld
egwctl=$build/control/egwctl
# shellcheck source=tests/lab/lab-test.sh
source "$src/tests/lab/lab-test.sh"
lt_begin dataplane-reload "egwt-dpreload-$$" "$dp" "$cd" "$egwctl"
pass() { echo "PASS: $*"; }
lt_policy
cp "$cfg" "$tmp/allow.cfg"
# The denying policy: ICMP to 198.51.100.80 denied first in "standard".
/usr/bin/python3 - "$tmp/allow.cfg" "$tmp/deny.cfg" <<'PY' || { echo "FAIL: could not write the denying policy"; exit 1; }
import sys
src = open(sys.argv[1]).read()
anchor = '{ name = "standard";\n    rules = (\n'
if src.count(anchor) != 1:
    raise SystemExit("no standard profile")
rule = '      { action = "deny";  proto = "icmp"; dst = [ "198.51.100.80/32" ]; },\n'
open(sys.argv[2], "w").write(src.replace(anchor, anchor + rule))
PY
mkdir -p "$tmp/run" "$tmp/log"

gw1=$(lt_dataplane_cmd "$tmp/dp.sock" --events "$tmp/events.json")
gw2=$(lt_controld_cmd --dataplane-sock "$tmp/dp.sock" --run-dir "$tmp/run")
lt_up dataplane "egw-dataplane and egw-controld" "$gw1" "$gw2"
dp_pid=$(cat "$tmp/dp.pid")
dplog=$state/gw1.log
cdlog=$state/gw2.log
# shellcheck source=tests/lab/scenarios.sh
source "$src/tests/lab/scenarios.sh"
sc_init "$prefix" || exit 1
lt_wait_line "$dplog" '^egw-dataplane: control plane connected' ||
	fail "egw-controld did not connect to the fast path: $(tail -n 3 "$cdlog")"

now() { date +%s.%N; }

# streams TAG: fin1 and health ping 198.51.100.80 and fin1 streams UDP to
# port 9999, 20 packets a second for 12 s each, in the background.
streams() {
	local t=$1
	sc_x fin1 ping -D -c 240 -i 0.05 -W 1 198.51.100.80 >"$tmp/$t-fin1.ping" 2>&1 &
	spids=($!)
	sc_x health ping -D -c 240 -i 0.05 -W 1 198.51.100.80 >"$tmp/$t-health.ping" 2>&1 &
	spids+=($!)
	sc_x fin1 /usr/bin/python3 - "$t-$$" >"$tmp/$t-udp.out" 2>&1 <<'PY' &
import socket, sys, time
tok = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("198.51.100.80", 9999))
s.settimeout(0.5)
got = 0
for i in range(240):
    s.send(("%s-%d" % (tok, i)).encode())
    try:
        while True:
            d = s.recv(2048).decode(errors="replace").split()
            if d and d[-1] == "%s-%d" % (tok, i):
                got += 1
                break
    except socket.timeout:
        pass
    time.sleep(0.05)
print("echoed %d of 240" % got)
PY
	spids+=($!)
}

# check TAG DONE: fin1's ping stopped within 1 s of DONE (after replies
# before it), health's and the UDP stream lost nothing.
check() {
	local t=$1 done=$2
	/usr/bin/python3 - "$tmp/$t-fin1.ping" "$tmp/$t-health.ping" "$done" <<'PY' || fail "$t: the denied flow did not stop in time, or another flow suffered"
import re, sys
def replies(path):
    return [float(m.group(1)) for m in
            (re.match(r"\[(\d+\.\d+)\] \d+ bytes from 198\.51\.100\.80", l) for l in open(path)) if m]
fin1, health, done = replies(sys.argv[1]), replies(sys.argv[2]), float(sys.argv[3])
before = [x for x in fin1 if x <= done]
late = [x for x in fin1 if x > done + 1.0]
last = max(fin1) - done if fin1 else float("nan")
ok = len(before) >= 10 and not late
print("%s  fin1's ping: %d replies before the reload, last %.3f s after it, %d later than 1 s"
      % ("PASS" if ok else "FAIL", len(before), last, len(late)))
good = len(health) == 240 and max(health) > done + 2
print("%s  health's ping to the same server: %d of 240 replies, the last %.1f s after the reload"
      % ("PASS" if good else "FAIL", len(health), max(health) - done if health else -1))
sys.exit(0 if ok and good else 1)
PY
	grep -q '^echoed 240 of 240$' "$tmp/$t-udp.out" && pass "$t: fin1's UDP stream lost nothing" ||
		fail "$t: fin1's UDP stream: $(cat "$tmp/$t-udp.out")"
}

# --- 1. SIGHUP to the fast path ---------------------------------------------
echo "--- 1. a reload by SIGHUP denies fin1's running ping"
streams hup
sleep 2
cp "$tmp/deny.cfg" "$cfg"
n0=$(grep -c '^egw-dataplane: reloaded' "$dplog")
kill -HUP "$dp_pid"
for _ in $(seq 500); do
	[ "$(grep -c '^egw-dataplane: reloaded' "$dplog")" -gt "$n0" ] && break
	sleep 0.01
done
done_hup=$(now)
[ "$(grep -c '^egw-dataplane: reloaded' "$dplog")" -gt "$n0" ] ||
	fail "no reload after SIGHUP: $(tail -n 3 "$dplog")"
wait "${spids[@]}"
check hup "$done_hup"

# --- 2. egwctl reload (both daemons) -------------------------------------------
echo "--- 2. the same by egwctl reload"
cp "$tmp/allow.cfg" "$cfg"
out=$("$egwctl" reload --socket "$tmp/run/controld.sock" 2>&1) ||
	fail "egwctl reload of the allowing policy: $out"
sc_ping fin1 198.51.100.80 ok || fail "fin1's ping after lifting the rule"
streams ctl
sleep 2
cp "$tmp/deny.cfg" "$cfg"
out=$("$egwctl" reload --socket "$tmp/run/controld.sock" 2>&1)
rc=$?
done_ctl=$(now)
[ "$rc" = 0 ] && pass "egwctl reload: $out" || fail "egwctl reload: rc $rc: $out"
wait "${spids[@]}"
check ctl "$done_ctl"

# --- 4. a changed gateway section is refused ------------------------------------
echo "--- 4. gateway.workers changed: refused, the running policy stays"
sed 's/^  workers = 1;/  workers = 2;/' "$tmp/deny.cfg" >"$cfg"
grep -q '^  workers = 2;' "$cfg" || fail "could not change gateway.workers"
kill -HUP "$dp_pid"
for _ in $(seq 200); do
	grep -q '^egw-dataplane: reload refused' "$dplog" && break
	sleep 0.05
done
line=$(grep '^egw-dataplane: reload refused' "$dplog" | tail -n 1)
echo "$line" | grep -q 'egw.cfg:[0-9]*: gateway.workers (1 -> 2) changed: .*restart' &&
	pass "SIGHUP: $line" || fail "SIGHUP with a changed gateway: '$line'"
out=$("$egwctl" reload --socket "$tmp/run/controld.sock" 2>&1)
rc=$?
[ "$rc" != 0 ] && echo "$out" | grep -q 'gateway.workers (1 -> 2) changed: .*restart' &&
	pass "egwctl reload refused: $(echo "$out" | head -n 1)" ||
	fail "egwctl reload with a changed gateway: rc $rc: $out"
sc_ping fin1 198.51.100.80 blocked || fail "the denying policy did not stay"
sc_ping health 198.51.100.80 ok || fail "health after the refused reloads"

# --- 5. exit, and 3. the events --------------------------------------------------
kill -TERM "$dp_pid"
lt_wait_exit "$dplog" egw-dataplane

echo "--- 3. the flows' end events"
/usr/bin/python3 - "$tmp/events.json" <<'PY' || fail "the reload end events"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
def ends(src, proto, action=None):
    return [e for e in evs if e.get("event_type") == "flow" and e.get("src_ip") == src
            and e.get("proto") == proto and e.get("dest_ip") == "198.51.100.80"
            and (e.get("flow") or {}).get("reason") == "reload"
            and (action is None or e["egw"]["action"] == action)]
ok = True
# The two long pings (20 a second for 2 s before each reload); shorter
# pings of fin1 (the lab's start-up check, sc_ping) may end there too.
long_pings = [e for e in ends("10.1.0.10", "ICMP", "allowed") if e["flow"]["pkts_toserver"] >= 30]
for what, got, want in (("fin1's long allowed pings ended by a reload", long_pings, 2),
                        ("health's pings ended by a reload", ends("10.2.0.20", "ICMP"), 0),
                        ("fin1's UDP streams ended by a reload", ends("10.1.0.10", "UDP"), 0)):
    good = len(got) == want
    print("%s  %-45s %d (want %d)" % ("PASS" if good else "FAIL", what, len(got), want))
    ok = ok and good
sys.exit(0 if ok else 1)
PY

if [ "$fails" != 0 ]; then
	echo "--- the last lines of egw-dataplane's and egw-controld's logs"
	tail -n 60 "$dplog" "$cdlog"
fi
bash "$lab" down --prefix "$prefix" || fail "lab down"
echo "dataplane-reload: $fails failure(s)"
[ "$fails" = 0 ]
