#!/usr/bin/env bash
# Punt-path benchmark, part 2 (issue 5 item 5): the whole punt path with the
# real fast path, in the test lab (firmware/lab/lab.sh, dataplane mode,
# prefix egwt-punt-f<pid>, torn down on exit):
#
#   fin1 --veth--> egw-dataplane (net_af_packet in/out, punt on net_tap
#   egw-punt) --tap--> kernel (egw-controld's queue rule) --nfqueue-->
#   egw-controld --verdict--> kernel hairpin --tap--> egw-dataplane --> rtr
#
# The policy is firmware/egw.cfg plus one punt rule for UDP to !CN ports
# 9999 and 20000-29999 (the example's own punt rule is TCP 22/3389), so
# that a UDP sender and a UDP echo probe exercise the punt path:
#
# 1. Loss: bench_punt_send in fin1 sends to 203.0.113.80 (US) at rising
#    rates, every packet a new flow (64 source ports x 10,000 destination
#    ports), so the fast path punts every packet. For each rate: punts
#    counted by the fast path, frames the kernel took from the tap, queued
#    to nfqueue, given a verdict by egw-controld, queue drops, frames that
#    came back through the tap, and what left the outside port. Loss =
#    punts - returned. The rate at which loss starts is the first with loss
#    above 0.1% of the punts.
# 2. First-packet delay: a UDP echo probe from fin1 to 203.0.113.80:9999
#    (labsrv echoes), each probe a new socket (a new flow): the round trip
#    of its first datagram (punted: tap, nfqueue, egw-controld, verdict,
#    hairpin, fast path) against the second datagram of the same flow (the
#    fast path alone, once egw-controld's verdict is in its flow table).
#    Median and p99 at idle, and while the sender runs at each rate.
#
#   bench/punt_full.sh BUILD_DIR OUT_JSONL [--quick] [--secs S] [--rates LIST]
#                      [--probes N]
#
# Appends JSON lines to OUT_JSONL (suites "punt-full" and "punt-delay").
# Needs root, egw-dataplane and egw-controld built in BUILD_DIR.
set -euo pipefail
build=${1:?usage: punt_full.sh BUILD_DIR OUT_JSONL [--quick] [--secs S] [--rates LIST] [--probes N]}
out=${2:?}
shift 2
secs=3 probes=200
rates="2000 5000 10000 20000 40000"
while [ $# -gt 0 ]; do
    case $1 in
    --quick) secs=2 probes=100; rates="2000 10000 40000" ;;
    --secs) secs=$2; shift ;;
    --rates) rates=$2; shift ;;
    --probes) probes=$2; shift ;;
    *) echo "punt_full.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" -eq 0 ] || { echo "punt_full.sh: must run as root" >&2; exit 1; }
src=$(cd "$(dirname "$0")/.." && pwd)
case $build in /*) ;; *) build=$PWD/$build ;; esac
dp="$build/dataplane/egw-dataplane"
controld="$build/control/egw-controld"
ctl="$build/control/egwctl"
send="$build/bench/bench_punt_send"
for f in "$dp" "$controld" "$ctl" "$send"; do
    [ -x "$f" ] || { echo "punt_full.sh: $f not built" >&2; exit 1; }
done
lab="$src/firmware/lab/lab.sh"
prefix="egwt-punt-f$$"
work=$(mktemp -d /tmp/egwt-punt-full.XXXXXX)
chmod 755 "$work"
cleanup() {
    bash "$lab" down --prefix "$prefix" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log() { echo "[$(date +%H:%M:%S)] punt_full: $*" >&2; }

# The policy: firmware/egw.cfg with absolute paths, its log in $work, and
# the UDP punt rule after the commercial-mail rule of "standard".
python3 - "$src/firmware/egw.cfg" "$src/firmware/lab/geo-lab.mmdb" "$work" > "$work/policy.cfg" <<'PY'
import re, sys
cfg, db, work = sys.argv[1:4]
t = open(cfg).read()
t = t.replace('database = "lab/geo-lab.mmdb"', 'database = "%s"' % db)
t = re.sub(r'directory = "[^"]*"', 'directory = "%s/log"' % work, t)
t = t.replace('compress = "zstd"', 'compress = "none"')
rule = '{ action = "punt";  country = [ "!CN" ]; proto = "tcp"; port = [ 22, 3389 ]; },'
assert rule in t, "firmware/egw.cfg: the punt rule moved"
t = t.replace(rule, rule + '\n      { action = "punt";  country = [ "!CN" ]; proto = "udp"; '
              'port = ( 9999, "20000-29999" ); },', 1)
sys.stdout.write(t)
PY
"$ctl" policy check "$work/policy.cfg" >/dev/null

# The gateway: egw-dataplane (lab.sh's EAL options, no hugepages) and
# egw-controld on its socket; the hairpin gives outbound frames the
# upstream router's MAC (the lab's 10.1.0.1).
eal="-l 0,1 --no-huge -m 512 --no-pci --no-shconf --file-prefix=$prefix"
gw1="exec '$dp' $eal -- --config '$work/policy.cfg' --socket '$work/dp.sock'"
# EGW_PUNT_WRAP (e.g. "chrt -f 10") runs egw-controld under a command.
gw2="exec ${EGW_PUNT_WRAP:-} '$controld' --config '$work/policy.cfg' --dataplane-sock '$work/dp.sock'"
gw2+=" --run-dir '$work/run' --punt-hairpin-mac 02:00:0a:01:00:01"
log "lab up (dataplane mode, prefix $prefix)"
EGW_LAB_WAIT=90 bash "$lab" up --prefix "$prefix" --mode dataplane --config "$work/policy.cfg" \
    --gw-cmd "$gw1" --gw-cmd "$gw2" >"$work/lab.log" 2>&1 ||
    { echo "punt_full.sh: the lab did not come up:" >&2; tail -20 "$work/lab.log" >&2; exit 1; }
nx() { local h=$1; shift; ip netns exec "$prefix-$h" "$@"; }
# controld subscribed to the fast path (punts reach the tap, not fail-closed)
for i in $(seq 100); do
    "$ctl" stats --json --socket "$work/run/controld-ro.sock" 2>/dev/null |
        python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["fastpath"]["connected"] else 1)' &&
        break
    sleep 0.2
done

# snap: every counter of the rows, one JSON object
snap() {
    local st
    st=$("$ctl" stats --json --socket "$work/run/controld-ro.sock" \
        --dataplane-socket "$work/dp.sock")
    python3 - "$st" "$(nx gw cat /proc/net/netfilter/nfnetlink_queue)" \
        "$(nx gw cat /sys/class/net/egw-punt/statistics/rx_packets)" \
        "$(nx gw cat /sys/class/net/egw-punt/statistics/tx_packets)" \
        "$(nx gw cat /sys/class/net/egw-punt/statistics/rx_dropped)" \
        "$(nx gw cat /sys/class/net/egw-punt/statistics/tx_dropped)" <<'PY'
import json, sys
st = json.loads(sys.argv[1])
dp = st.get("dataplane") or {}
q = st["queue"]
seq = qd = ud = 0
for line in sys.argv[2].splitlines():
    v = line.split()
    if len(v) >= 8 and v[0] == "0":
        qd, ud, seq = int(v[5]), int(v[6]), int(v[7])
ports = dp.get("ports", {})
print(json.dumps({
    "punts": dp.get("punts", 0),
    "punt_fail": dp.get("drops", {}).get("punt-fail-closed", 0),
    "dp_punt_tx": ports.get("punt", {}).get("tx_packets", 0),
    "dp_punt_rx": ports.get("punt", {}).get("rx_packets", 0),
    "dp_out_tx": ports.get("outside", {}).get("tx_packets", 0),
    "dp_in_rx": ports.get("inside", {}).get("rx_packets", 0),
    "tap_rx": int(sys.argv[3]), "tap_tx": int(sys.argv[4]), "tap_rx_dropped": int(sys.argv[5]),
    "tap_tx_dropped": int(sys.argv[6]),
    "queued": seq, "qdrop": qd + ud, "overruns": q["socket_overruns"],
    "verdicts": q["packets"], "accepted": q["accepted"],
    "verdicts_to_fastpath": (st.get("fastpath") or {}).get("verdicts_sent", 0)}))
PY
}

# probe N: N UDP echo probes, one new flow each, 10 ms apart; prints JSON
probe() {
    nx fin1 python3 - "$1" <<'PY'
import json, socket, sys, time
n = int(sys.argv[1])
first, second, lost = [], [], 0
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    try:
        for k in (0, 1):
            t0 = time.perf_counter()
            s.sendto(b"egw punt probe %d %d" % (i, k), ("203.0.113.80", 9999))
            s.recv(512)
            (first if k == 0 else second).append((time.perf_counter() - t0) * 1e6)
    except socket.timeout:
        lost += 1
    s.close()
    time.sleep(0.01)
def pct(v, p):
    v = sorted(v)
    return round(v[min(len(v) - 1, int(p * len(v)))]) if v else None
print(json.dumps({"probes": n, "lost": lost,
                  "first_us_median": pct(first, 0.5), "first_us_p99": pct(first, 0.99),
                  "second_us_median": pct(second, 0.5), "second_us_p99": pct(second, 0.99)}))
PY
}

# the echo works through the punt path before anything is measured
for i in $(seq 30); do
    [ "$(probe 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["lost"])')" = 0 ] && break
    sleep 1
done
r=$(probe "$probes")
echo "$r" | python3 -c 'import json,sys; d=json.load(sys.stdin); d.update(suite="punt-delay", load_pps=0, loadavg=float(open("/proc/loadavg").read().split()[0])); print(json.dumps(d))' >> "$out"
log "idle probe: $r"

for rate in $rates; do
    a=$(snap)
    probe $((probes / 4)) > "$work/probe.json" &
    ppid=$!
    s=$(nx fin1 "$send" --dst 203.0.113.80 --dport-base 20000 --flows 10000 --sockets 64 \
        --rate "$rate" --secs "$secs")
    wait "$ppid" || true
    sleep 2   # the last punts come back
    b=$(snap)
    r=$(python3 - "$rate" "$s" "$a" "$b" "$(cat "$work/probe.json")" <<'PY'
import json, sys
rate = int(sys.argv[1])
s, a, b, p = (json.loads(x) for x in sys.argv[2:6])
d = {k: b[k] - a[k] for k in a}
secs = s["secs"]
loss = max(0, d["punts"] - d["dp_punt_rx"])
print(json.dumps({
    "suite": "punt-full", "rate_asked": rate, "secs": secs, "sent": s["sent"],
    "offered_pps": round(s["sent"] / secs), "inside_rx": d["dp_in_rx"],
    "punts": d["punts"], "punt_pps": round(d["punts"] / secs),
    "punt_fail_closed": d["punt_fail"], "to_tap": d["dp_punt_tx"], "tap_rx": d["tap_rx"],
    "tap_rx_dropped": d["tap_rx_dropped"], "tap_tx_dropped": d["tap_tx_dropped"],
    "inside_lost": max(0, s["sent"] - d["dp_in_rx"]),
    "loadavg": float(open("/proc/loadavg").read().split()[0]), "queued": d["queued"], "verdicts": d["verdicts"],
    "accepted": d["accepted"], "queue_drops": d["qdrop"] + d["overruns"],
    "returned": d["dp_punt_rx"], "tap_tx": d["tap_tx"], "outside_tx": d["dp_out_tx"],
    "verdicts_to_fastpath": d["verdicts_to_fastpath"],
    "lost": loss, "loss_share": round(loss / d["punts"], 5) if d["punts"] else None,
    "probe": p}))
PY
)
    echo "$r" >> "$out"
    log "rate $rate: $(echo "$r" | python3 -c 'import json,sys; d=json.load(sys.stdin)
print("offered %(offered_pps)d/s punts %(punts)d tap_rx %(tap_rx)d verdicts %(verdicts)d qdrops %(queue_drops)d returned %(returned)d lost %(lost)d" % d, "probe", d["probe"])')"
done
