#!/usr/bin/env bash
# Punt-path benchmark, part 1 (issue 4 "Benchmarks", issue 5 item 5):
# egw-controld's nfqueue path alone. Three namespaces it creates and removes
# (tests/lab/netns.sh), egw-controld on the controld lab tests' policy
# (tests/lab/lab-policy.sh, fail-closed):
#
#   egwt-punt-<pid>-c  10.1.0.10 (a registered terminal of unit "finance")
#        | veth c0 -- g0
#   egwt-punt-<pid>-g  forwards; egw-controld --punt-iif g0 queues every
#                      packet that comes in on g0 (its own queue rule:
#                      nft queue, or the mark + iptables-nft NFQUEUE
#                      fallback, whichever the kernel has); accepted packets
#                      go out of d0 (counted) to egwt-punt-<pid>-s, whose
#                      s0 discards them (addressed to another MAC).
#
# bench_punt_send (one CPU) offers UDP at rising rates; for each rate the
# counters before and after say: packets offered (sent by the sender),
# given a verdict (egw-controld's queue.packets), queue drops (the kernel's
# queue_dropped + user_dropped from /proc/net/netfilter/nfnetlink_queue, and
# controld's socket_overruns), packets that came out (d0) and egw-controld's
# CPU time (utime + stime). Two mixes:
#   cached  256 flows in rotation: after the first round every packet is a
#           flow egw-controld has decided (its flow cache): the queue path
#   new     60,000 flows in rotation, more than the 16,384-entry flow cache:
#           every packet is a flow decision and a behaviour-log event
# Rising rates stop at the first with queue drops; then one unpaced run
# (the sender as fast as it goes). The sender shares a loaded 2-CPU machine
# and rarely outpaces egw-controld, so a second measurement saturates
# egw-controld on purpose (backlog below): its verdicts per CPU-second with
# every burst full.
#
#   bench/punt_rate.sh BUILD_DIR OUT_JSONL [--quick] [--secs S]
#                      [--rates "R1 R2 ..."] [--mixes "cached new"]
#                      [--rounds N] [--saturated-only]
#
# Appends one JSON line per run to OUT_JSONL (suites "punt-queue" and
# "punt-saturated"). Needs
# root; no packet leaves the three namespaces.
set -euo pipefail
case ${1:-} in -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;; esac
build=${1:?usage: punt_rate.sh BUILD_DIR OUT_JSONL [--quick] [--secs S] [--rates LIST] [--mixes LIST]}
out=${2:?}
shift 2
secs=3 rounds=10 BACKLOG=4000 sat_only=0
rates="20000 50000 100000 200000 400000"
mixes="cached new"
while [ $# -gt 0 ]; do
    case $1 in
    --quick) secs=2 rounds=3; rates="50000 100000 200000 400000" ;;
    --secs) secs=$2; shift ;;
    --rates) rates=$2; shift ;;
    --mixes) mixes=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --saturated-only) sat_only=1 ;;
    *) echo "punt_rate.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" -eq 0 ] || { echo "punt_rate.sh: must run as root" >&2; exit 1; }
controld=${EGW_PUNT_CONTROLD:-$build/control/egw-controld}   # another binary: A/B runs
ctl="$build/control/egwctl"
send="$build/bench/bench_punt_send"
for f in "$controld" "$ctl" "$send"; do
    [ -x "$f" ] || { echo "punt_rate.sh: $f not built" >&2; exit 1; }
done
src=$(cd "$(dirname "$0")/.." && pwd)
# The lab's namespaces and policy: the same as the controld-* lab tests'.
# shellcheck source=tests/lab/netns.sh
source "$src/tests/lab/netns.sh"
# shellcheck source=tests/lab/lab-policy.sh
source "$src/tests/lab/lab-policy.sh"

C="egwt-punt-$$-c" G="egwt-punt-$$-g" S="egwt-punt-$$-s"
work=$(mktemp -d /tmp/egwt-punt.XXXXXX)
cd_pid=""
cleanup() {
    if [ -n "$cd_pid" ]; then
        kill -TERM "$cd_pid" 2>/dev/null || true
        wait "$cd_pid" 2>/dev/null || true
    fi
    ip netns del "$C" 2>/dev/null || true
    ip netns del "$G" 2>/dev/null || true
    ip netns del "$S" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
log() { echo "[$(date +%H:%M:%S)] punt_rate: $*" >&2; }

netns_add "$C" "$G" "$S"
ip link add c0 netns "$C" type veth peer name g0 netns "$G"
ip -n "$C" link set c0 address 02:00:0a:01:00:0a
ip -n "$C" addr add 10.1.0.10/16 dev c0
ip -n "$G" addr add 10.1.0.1/16 dev g0
ip link add d0 netns "$G" type veth peer name s0 netns "$S"
ip -n "$G" addr add 198.51.100.1/24 dev d0
for spec in "$C c0" "$G g0" "$G d0" "$S s0"; do
    set -- $spec
    # no IPv6 chatter (ND, MLD): d0 counts exactly the forwarded packets
    ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
    ip -n "$1" link set "$2" up
    ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
done
ip -n "$C" route add default via 10.1.0.1
gmac=$(ip netns exec "$G" cat /sys/class/net/g0/address)
ip -n "$C" neigh replace 10.1.0.1 lladdr "$gmac" dev c0 nud permanent
ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1
# 198.51.100.80 behind d0 has a MAC nobody has: the sink drops the frames
ip -n "$G" neigh replace 198.51.100.80 lladdr 02:00:00:00:00:50 dev d0 nud permanent

# the controld lab's policy (tests/lab/lab-policy.sh), fail-closed
lab_policy "$work/policy.cfg" closed "$work/log"

# egw-controld on CPU 1, the sender on CPU 0 (the kernel queues the packets
# in the sender's softirq: that cost is on the sender's CPU); no pinning on
# a one-CPU machine.
# EGW_PUNT_WRAP (e.g. "valgrind --tool=callgrind ...") runs it under a tool.
pin0="" pin1=""
if [ "$(nproc)" -ge 2 ]; then pin0="taskset -c 0" pin1="taskset -c 1"; fi
ip netns exec "$G" $pin1 ${EGW_PUNT_WRAP:-} "$controld" --config "$work/policy.cfg" \
    --run-dir "$work/run" --no-punt-hairpin --punt-iif g0 \
    --dataplane-sock "$work/no-fastpath.sock" >"$work/controld.log" 2>&1 &
cd_pid=$!
for i in $(seq 300); do
    grep -q 'egw-controld: running' "$work/controld.log" && break
    kill -0 "$cd_pid" 2>/dev/null || break
    sleep 0.1
done
grep -q 'egw-controld: running' "$work/controld.log" ||
    { echo "punt_rate.sh: egw-controld did not start:" >&2; cat "$work/controld.log" >&2; exit 1; }
[ -n "${EGW_PUNT_PIDFILE:-}" ] && echo "$cd_pid" > "$EGW_PUNT_PIDFILE"   # for a profiler
punt_kind=$(sed -n 's/.*running (.*, \(.*\) punt,.*/\1/p' "$work/controld.log" | head -1)
log "egw-controld running: $punt_kind"

# snapshot: one JSON object of every counter the rows need
snap() {
    local st
    st=$("$ctl" stats --json --socket "$work/run/controld-ro.sock")
    python3 - "$st" "$cd_pid" \
        "$(ip netns exec "$G" cat /proc/net/netfilter/nfnetlink_queue)" \
        "$(ip netns exec "$G" cat /sys/class/net/d0/statistics/tx_packets)" <<'PY'
import json, os, sys
st = json.loads(sys.argv[1])
q = st["queue"]
with open("/proc/%s/stat" % sys.argv[2]) as f:
    fields = f.read().rsplit(")", 1)[1].split()
hz = os.sysconf("SC_CLK_TCK")
ucpu, scpu = int(fields[11]) / hz, int(fields[12]) / hz
cpu = ucpu + scpu
qdrop = udrop = seq = 0
for line in sys.argv[3].splitlines():
    v = line.split()
    if len(v) >= 8 and v[0] == "0":
        qdrop, udrop, seq = int(v[5]), int(v[6]), int(v[7])
print(json.dumps({"packets": q["packets"], "accepted": q["accepted"], "overruns": q["socket_overruns"],
                  "waiting": q["waiting"], "qdrop": qdrop, "udrop": udrop, "queued": seq,
                  "out": int(sys.argv[4]), "cpu": cpu, "ucpu": ucpu, "scpu": scpu,
                  "events": st["events"]["written"], "event_errors": st["events"]["errors"]}))
PY
}

# drain: wait until nothing waits in the queue (at most 5 s)
drain() {
    local i w
    for i in $(seq 50); do
        w=$("$ctl" stats --json --socket "$work/run/controld-ro.sock" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["queue"]["waiting"])')
        [ "$w" = 0 ] && return 0
        sleep 0.1
    done
}

# run MIX FLOWS RATE: one measured run; prints the result line
run() {
    local mix=$1 flows=$2 rate=$3 a b s
    drain
    a=$(snap)
    s=$(ip netns exec "$C" $pin0 "$send" --dst 198.51.100.80 --rate "$rate" \
        --secs "$secs" --flows "$flows")
    sleep 0.3   # what is still queued gets its verdict
    drain
    b=$(snap)
    python3 - "$mix" "$flows" "$rate" "$s" "$a" "$b" "$punt_kind" <<'PY'
import json, sys
mix, flows, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s, a, b = (json.loads(x) for x in sys.argv[4:7])
d = {k: b[k] - a[k] for k in a if k != "waiting"}
secs = s["secs"]
drops = d["qdrop"] + d["udrop"] + d["overruns"]
cpu = d["cpu"]
print(json.dumps({
    "suite": "punt-queue", "mix": mix, "flows": flows, "rate_asked": rate,
    "punt": sys.argv[7], "secs": round(secs, 3),
    "sent": s["sent"], "send_refused": s["errors"], "offered_pps": round(s["sent"] / secs),
    "queued": d["queued"], "verdicts": d["packets"], "accepted": d["accepted"],
    "verdict_pps": round(d["packets"] / secs),
    "queue_full_dropped": d["qdrop"], "user_dropped": d["udrop"], "socket_overruns": d["overruns"],
    "queue_drops": drops, "out": d["out"], "events": d["events"],
    "event_errors": d["event_errors"], "controld_cpu_s": round(cpu, 2),
    "controld_user_s": round(d["ucpu"], 2), "controld_sys_s": round(d["scpu"], 2),
    "verdicts_per_cpu_s": round(d["packets"] / cpu) if cpu > 0 else None}))
PY
}

# qstat: "queue_total queued dropped" of queue 0 from the kernel
qstat() {
    ip netns exec "$G" cat /proc/net/netfilter/nfnetlink_queue |
        awk '$1 == 0 { print $3, $8, $6 + $7 }'
}
# cpu_ns: egw-controld's CPU time so far (ns, /proc/PID/schedstat)
cpu_ns() { cut -d' ' -f1 "/proc/$cd_pid/schedstat"; }

# backlog MIX FLOWS: egw-controld at saturation, the sender aside. Each
# round stops egw-controld (SIGSTOP), queues BACKLOG packets, lets it go
# (SIGCONT) and takes the CPU time it needs to give them all a verdict:
# every burst is full, so this is the verdict rate per CPU-second of a
# saturated egw-controld, whatever the sender manages on a shared machine.
backlog() {
    local mix=$1 flows=$2 k a b q0 q1 c0 c1 t0 t1 n tot=0 ns=0 wall=0 lost=0
    drain
    for k in $(seq "$rounds"); do
        read -r _ q0 d0 < <(qstat)
        kill -STOP "$cd_pid"
        ip netns exec "$C" $pin0 "$send" --dst 198.51.100.80 --rate 0 --secs 10 \
            --count "$BACKLOG" --flows "$flows" >/dev/null
        for i in $(seq 100); do   # the last packets reach the queue
            read -r n q1 d1 < <(qstat)
            [ $((q1 - q0)) -ge "$BACKLOG" ] && break
            sleep 0.02
        done
        c0=$(cpu_ns); t0=$(date +%s%N)
        kill -CONT "$cd_pid"
        for i in $(seq 1000); do
            read -r n q1 d1 < <(qstat)
            [ "$n" = 0 ] && break
            sleep 0.002
        done
        c1=$(cpu_ns); t1=$(date +%s%N)
        tot=$((tot + q1 - q0)); ns=$((ns + c1 - c0)); wall=$((wall + t1 - t0))
        lost=$((lost + d1 - d0))
    done
    python3 - "$mix" "$flows" "$tot" "$ns" "$wall" "$lost" "$rounds" "$punt_kind" <<'PY'
import json, sys
mix, flows, tot, ns, wall, lost, rounds = sys.argv[1], *map(int, sys.argv[2:8])
print(json.dumps({"suite": "punt-saturated", "mix": mix, "flows": flows, "punt": sys.argv[8],
                  "rounds": rounds, "verdicts": tot, "queue_drops": lost,
                  "controld_cpu_s": round(ns / 1e9, 4),
                  "verdicts_per_cpu_s": round(tot / (ns / 1e9)) if ns else None,
                  "ns_per_verdict": round(ns / tot) if tot else None,
                  "drain_wall_s": round(wall / 1e9, 4)}))
PY
}

for mix in $mixes; do
    case $mix in
    cached) flows=256 ;;
    new) flows=60000 ;;
    *) echo "punt_rate.sh: unknown mix $mix" >&2; exit 2 ;;
    esac
    # warm-up: the flows get decided once (cached), the log file opened
    ip netns exec "$C" "$send" --dst 198.51.100.80 --rate 20000 --secs 1 --flows "$flows" >/dev/null
    r=$(backlog "$mix" "$flows")
    echo "$r" >> "$out"
    log "$mix saturated: $r"
    [ "$sat_only" = 1 ] && continue
    for rate in $rates 0; do
        r=$(run "$mix" "$flows" "$rate")
        echo "$r" >> "$out"
        log "$mix rate $rate: $(echo "$r" | python3 -c 'import json,sys; d=json.load(sys.stdin)
print("offered %(offered_pps)d/s verdicts %(verdict_pps)d/s drops %(queue_drops)d cpu %(controld_cpu_s)ss (user %(controld_user_s)s sys %(controld_sys_s)s) -> %(verdicts_per_cpu_s)s/cpu-s" % d)')"
        if [ "$rate" != 0 ] && [ "$(echo "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["queue_drops"])')" != 0 ]; then
            # drops: go straight to the unpaced run
            r=$(run "$mix" "$flows" 0)
            echo "$r" >> "$out"
            log "$mix unpaced: $r"
            break
        fi
    done
done
cd_stop_rc=0
kill -TERM "$cd_pid"; wait "$cd_pid" || cd_stop_rc=$?
cd_pid=""
[ "$cd_stop_rc" = 0 ] || { echo "punt_rate.sh: egw-controld exited $cd_stop_rc" >&2; tail -5 "$work/controld.log" >&2; }
