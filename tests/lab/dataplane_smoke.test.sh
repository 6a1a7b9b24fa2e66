#!/usr/bin/env bash
# egw-dataplane on real ports, in namespaces: terminal ns <-veth-> gateway ns
# (net_af_packet on both gateway ends, a net_tap punt port) <-veth-> server
# ns. A registered terminal's ping crosses; an unregistered address and a
# spoofed MAC do not; ARP passes. The control-plane socket streams events
# and answers stats; SIGHUP reloads (a broken policy is refused and the old
# one stays; a denying one takes effect on live traffic). Then bad starts:
# the socket in use, a missing port and a punt tap name already taken each
# exit non-zero with one clear line.
# Args: build dir, source dir [, workers (default 1)]. Runs as root; touches
# only egwt-dataplane-*.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) workers=${3:-1}
bin=$build/dataplane/egw-dataplane
p=egwt-dataplane-$$
gw=$p-gw term=$p-term srv=$p-srv
tmp=$(mktemp -d /tmp/egwt-dataplane.XXXXXX)
dp_pid= sub_pid= notify_pid=

cleanup() {
    [ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null || true
    [ -n "$notify_pid" ] && kill "$notify_pid" 2>/dev/null || true
    if [ -n "$dp_pid" ] && kill -0 "$dp_pid" 2>/dev/null; then
        kill -INT "$dp_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$dp_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$dp_pid" 2>/dev/null || true
    fi
    for ns in "$gw" "$term" "$srv"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$tmp" "/var/run/dpdk/$p" "/var/run/dpdk/$p-2"   # EAL's runtime directories
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$tmp/dp.err" ] && sed 's/^/  dataplane: /' "$tmp/dp.err" >&2; exit 1; }

for ns in "$gw" "$term" "$srv"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done
ip link add t0 netns "$term" type veth peer name in netns "$gw"
ip link add s0 netns "$srv" type veth peer name out netns "$gw"
ip -n "$term" link set t0 address 02:00:0a:01:00:0a
ip -n "$term" addr add 10.1.0.10/16 dev t0
ip -n "$srv" addr add 198.51.100.80/24 dev s0
for l in "$term t0" "$srv s0" "$gw in" "$gw out"; do
    set -- $l
    ip -n "$1" link set "$2" up
    ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
done
ip netns exec "$gw" ethtool -K in rx off >/dev/null 2>&1 || true
ip netns exec "$gw" ethtool -K out rx off >/dev/null 2>&1 || true
ip -n "$term" route add 198.51.100.0/24 dev t0
ip -n "$srv" route add 10.1.0.0/16 dev s0

# The lab policy with this test's ports and an absolute geo database path.
sed -e 's|"net_af_packet0,iface=egw-in"|"net_af_packet0,iface=in,framecnt=4096"|' \
    -e 's|"net_af_packet1,iface=egw-out"|"net_af_packet1,iface=out,framecnt=4096"|' \
    -e 's|"net_tap0,iface=egw-punt"|"net_tap0,iface=punt0"|' \
    -e "s|\"lab/geo-lab.mmdb\"|\"$src/firmware/lab/geo-lab.mmdb\"|" \
    -e "s|workers = 1;|workers = $workers;|" \
    "$src/firmware/egw.cfg" > "$tmp/egw.cfg"
if [ "$workers" -gt 1 ]; then
    # One queue pair per worker on each af_packet port (kernel fanout).
    sed -i "s|framecnt=4096\"|framecnt=4096,qpairs=$workers\"|g" "$tmp/egw.cfg"
fi
grep -q 'iface=in,framecnt' "$tmp/egw.cfg" || fail "could not rewrite the policy's ports"

# workers + 1 lcores, floating over the CPUs there are.
eal=(--no-huge -m 512 --no-pci --no-shconf --lcores "(0-$workers)@(0-$(( $(nproc) - 1 )))"
     --log-level=error --file-prefix "$p")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
sock=$tmp/dp.sock
# systemd Type=notify: what egw-dataplane says on $NOTIFY_SOCKET, one
# datagram a line, until STOPPING=1
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(120)
with open(sys.argv[2], "w") as out:
    while True:
        m = s.recv(4096).decode()
        out.write(m.replace("\n", " ") + "\n"); out.flush()
        if "STOPPING=1" in m:
            break' "$tmp/notify.sock" "$tmp/notify.out" &
notify_pid=$!
for _ in $(seq 50); do [ -S "$tmp/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$tmp/notify.sock ip netns exec "$gw" "$bin" "${eal[@]}" -- --config "$tmp/egw.cfg" \
    --socket "$sock" --events "$tmp/events.json" --stats "$tmp/stats.json" 2>"$tmp/dp.err" &
dp_pid=$!
up=
for _ in $(seq 150); do
    kill -0 "$dp_pid" 2>/dev/null || fail "egw-dataplane exited at start"
    if grep -q '^egw-dataplane: forwarding' "$tmp/dp.err" &&
       ip -n "$gw" link show punt0 >/dev/null 2>&1; then up=1; break; fi
    sleep 0.2
done
[ -n "$up" ] || fail "egw-dataplane did not start forwarding in 30 s"

# An events subscriber (what egw-controld is) on the socket, for 6 s; the
# ping starts once it is connected (a fixed delay lost the race on a loaded
# machine: the python start-up alone can take longer).
/usr/bin/python3 "$src/tests/lab/ipc_client.py" events "$sock" 6 "$tmp/sub.ready" \
    >"$tmp/sub.out" 2>&1 &
sub_pid=$!
for _ in $(seq 100); do
    [ -e "$tmp/sub.ready" ] && break
    kill -0 "$sub_pid" 2>/dev/null || { cat "$tmp/sub.out" >&2; fail "events subscriber exited"; }
    sleep 0.1
done
[ -e "$tmp/sub.ready" ] || fail "events subscriber did not connect in 10 s"
sleep 0.2   # egw-dataplane's main loop takes the connection on its next turn

# 1. The registered terminal's ping crosses (ARP included).
ip netns exec "$term" ping -c 3 -i 0.2 -W 2 198.51.100.80 >/dev/null ||
    fail "registered terminal 10.1.0.10 cannot ping 198.51.100.80 through the gateway"
wait "$sub_pid" || { cat "$tmp/sub.out" >&2; fail "events subscriber failed"; }
grep -q '"src_ip": "10.1.0.10"' "$tmp/sub.out" ||
    { cat "$tmp/sub.out" >&2; fail "no event for the ping streamed over the socket"; }
/usr/bin/python3 "$src/tests/lab/ipc_client.py" stats "$sock" >"$tmp/stats.now" ||
    fail "STATS_REQUEST over the socket failed"
grep -q '"non_ip"' "$tmp/stats.now" || fail "stats reply has no counters"
/usr/bin/python3 "$src/tests/lab/ipc_client.py" flows "$sock" 198.51.100.80 >"$tmp/flows.now" ||
    fail "flows request over the socket failed"
/usr/bin/python3 - "$tmp/flows.now" <<'PY' || { cat "$tmp/flows.now" >&2; fail "live flow not listed"; }
import json, sys
fl = json.load(open(sys.argv[1]))["flows"]
sys.exit(0 if any(f["src_ip"] == "10.1.0.10" and f["verdict"] == "allow" and f["rule"] == "egw.cfg:81"
                  and f["user"] == "zhang.wei" and f["pkts_toclient"] >= 3 for f in fl) else 1)
PY
# A control-plane verdict for a flow no worker holds: counted, once.
/usr/bin/python3 "$src/tests/lab/ipc_client.py" verdict "$sock" 10.1.0.10 1 198.51.100.80 2 drop ||
    fail "FLOW_VERDICT over the socket failed"
nf=
for _ in $(seq 20); do
    /usr/bin/python3 "$src/tests/lab/ipc_client.py" stats "$sock" >"$tmp/stats.now" ||
        fail "STATS_REQUEST over the socket failed"
    nf=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["control_verdicts_no_flow"])' "$tmp/stats.now")
    [ "$nf" = 1 ] && break
    sleep 0.1
done
[ "$nf" = 1 ] || fail "a verdict for no flow: control_verdicts_no_flow is '$nf', not 1 ($workers worker(s))"
# ... and shown by egwctl stats (egw-controld is not running here: exit 1).
"$build/control/egwctl" stats --socket "$tmp/no-controld.sock" --dataplane-socket "$sock" \
    >"$tmp/egwctl.stats" 2>&1 || true
grep -qx 'dataplane.control_verdicts_no_flow: 1' "$tmp/egwctl.stats" ||
    { cat "$tmp/egwctl.stats" >&2; fail "egwctl stats does not show control_verdicts_no_flow: 1"; }
# DPDK telemetry: /egw/stats and /egw/flows.
/usr/bin/python3 - "/var/run/dpdk/$p/dpdk_telemetry.v2" <<'PY' || fail "telemetry /egw/stats or /egw/flows wrong"
import json, socket, sys
def ask(cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.recv(16384)
    s.send(cmd.encode())
    return json.loads(s.recv(65536))[cmd]
st = ask("/egw/stats")
fl = ask("/egw/flows")
ok = st["control_verdicts_no_flow"] == 1 and st["non_ip"] >= 2 and st["ports_outside_tx_packets"] >= 3 and st["drops_outside_no_flow"] >= 0 and \
     any("10.1.0.10" in line and "egw.cfg:81" in line for line in fl)
if not ok:
    print(st, fl, file=sys.stderr)
sys.exit(0 if ok else 1)
PY

# 2. An unregistered address in the unit does not.
ip -n "$term" addr flush dev t0
ip -n "$term" addr add 10.1.0.99/16 dev t0
ip -n "$term" route add 198.51.100.0/24 dev t0
if ip netns exec "$term" ping -c 2 -i 0.2 -W 1 198.51.100.80 >/dev/null; then
    fail "unregistered 10.1.0.99 got through"
fi

# 3. The registered address with another MAC (spoofing) does not.
ip -n "$term" addr flush dev t0
ip -n "$term" link set t0 address 02:00:00:00:00:99
ip -n "$term" addr add 10.1.0.10/16 dev t0
ip -n "$term" route add 198.51.100.0/24 dev t0
ip -n "$srv" neigh flush dev s0
if ip netns exec "$term" ping -c 2 -i 0.2 -W 1 198.51.100.80 >/dev/null; then
    fail "spoofed 10.1.0.10 (MAC 02:00:00:00:00:99) got through"
fi

# 4. Reload on SIGHUP: a broken policy is refused, the old one stays.
ip -n "$term" addr flush dev t0
ip -n "$term" link set t0 address 02:00:0a:01:00:0a
ip -n "$term" addr add 10.1.0.10/16 dev t0
ip -n "$term" route add 198.51.100.0/24 dev t0
ip -n "$srv" neigh flush dev s0
cp "$tmp/egw.cfg" "$tmp/good.cfg"
echo 'bogus = 1;' >> "$tmp/egw.cfg"
kill -HUP "$dp_pid"
for _ in $(seq 50); do grep -q 'reload refused' "$tmp/dp.err" && break; sleep 0.1; done
grep -q 'reload refused' "$tmp/dp.err" || fail "a broken policy was not refused on SIGHUP"
ip netns exec "$term" ping -c 2 -i 0.2 -W 2 198.51.100.80 >/dev/null ||
    fail "ping fails after a refused reload"
# ... and a policy that denies the standard profile takes effect.
sed 's|{ action = "allow"; }|{ action = "deny"; }|' "$tmp/good.cfg" > "$tmp/egw.cfg"
kill -HUP "$dp_pid"
for _ in $(seq 50); do grep -q '^egw-dataplane: reloaded' "$tmp/dp.err" && break; sleep 0.1; done
grep -q '^egw-dataplane: reloaded' "$tmp/dp.err" || fail "reload of a good policy did not happen"
if ip netns exec "$term" ping -c 2 -i 0.2 -W 1 198.51.100.80 >/dev/null; then
    fail "ping still crosses after reloading a policy that denies it"
fi
cp "$tmp/good.cfg" "$tmp/egw.cfg"

# The socket is in use: a second instance refuses to start.
if ip netns exec "$gw" "$bin" "${eal[@]/$p/$p-2}" -- --config "$tmp/egw.cfg" --socket "$sock" \
    2>"$tmp/bad.err"; then
    fail "a second egw-dataplane started on the same socket"
fi
grep -q "socket $sock is in use" "$tmp/bad.err" || { cat "$tmp/bad.err" >&2; fail "no clear message for the socket in use"; }

kill -INT "$dp_pid"
wait "$dp_pid" || fail "egw-dataplane exited non-zero on SIGINT"
dp_pid=
wait "$notify_pid" || true
notify_pid=
# READY=1 once forwarding, RELOADING=1 then READY=1 around each of the two
# SIGHUPs (one refused), STOPPING=1 at the end
got=$(grep -o 'READY=1\|RELOADING=1\|STOPPING=1' "$tmp/notify.out" | tr '\n' ' ')
[ "$got" = "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 STOPPING=1 " ] ||
    fail "systemd notifications: '$got'"

/usr/bin/python3 - "$tmp/stats.json" "$tmp/events.json" <<'PY' || fail "counters or events wrong"
import json, sys
st = json.load(open(sys.argv[1]))
ev = [json.loads(l) for l in open(sys.argv[2])]
ok = True
def check(c, what):
    global ok
    if not c:
        print("FAIL:", what, file=sys.stderr); ok = False
check(st["drops"]["unregistered"] >= 2, "unregistered pings counted")
check(st["drops"]["spoof"] >= 2, "spoofed pings counted")
check(st["drops"]["profile"] >= 2, "pings after the denying reload counted")
check(st["reloads"] == 1, "one reload done, one refused")
check(st["non_ip"] >= 2, "ARP passed")
check(st["ports"]["outside"]["tx_packets"] >= 3 and st["ports"]["inside"]["tx_packets"] >= 3,
      "echo requests out, replies back")
check(any(e["event_type"] == "flow" and e["src_ip"] == "10.1.0.10" and e["egw"]["action"] == "allowed"
          and e["egw"].get("user") == "zhang.wei" and "reason" not in e["flow"]
          for e in ev), "flow start event for the registered ping, allowed")
# The denying reload ended the allowed ping flow (reason "reload", with the
# verdict it had and its replies).
check(any(e["event_type"] == "flow" and e["src_ip"] == "10.1.0.10" and e["egw"]["action"] == "allowed"
          and e["flow"].get("reason") == "reload" and e["flow"]["pkts_toclient"] >= 3
          for e in ev), "flow end event (reload) for the registered ping, with its replies")
check(any(e["event_type"] == "drop" and e["src_ip"] == "10.1.0.99" and e["egw"]["reason"] == "unregistered"
          for e in ev), "drop event for the unregistered source")
check(any(e["event_type"] == "drop" and e["egw"]["reason"] == "spoof" for e in ev), "drop event for the spoof")
sys.exit(0 if ok else 1)
PY

# Bad starts: one clear line, non-zero exit.
sed -e 's|iface=in,framecnt|iface=nosuchif,framecnt|' "$tmp/egw.cfg" > "$tmp/bad.cfg"
if ip netns exec "$gw" "$bin" "${eal[@]}" -- --config "$tmp/bad.cfg" --socket "$sock" \
    2>"$tmp/bad.err"; then
    fail "started with a missing inside port"
fi
grep -q 'inside port "net_af_packet0,iface=nosuchif.*": interface nosuchif does not exist' \
    "$tmp/bad.err" || { cat "$tmp/bad.err" >&2; fail "no clear message for a missing port"; }
ip -n "$gw" link add punt0 type veth peer name punt0p
if ip netns exec "$gw" "$bin" "${eal[@]}" -- --config "$tmp/egw.cfg" --socket "$sock" \
    2>"$tmp/bad.err"; then
    fail "started with the punt tap name taken"
fi
grep -q 'interface punt0 already exists' "$tmp/bad.err" ||
    { cat "$tmp/bad.err" >&2; fail "no clear message for a taken tap name"; }
echo "dataplane smoke: ok"
