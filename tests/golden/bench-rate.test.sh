#!/usr/bin/env bash
# bench/dpdk_rate.py, the benchmark's rate reader, on a real egw-dataplane
# (net_pcap in, net_null out; no network): it prints a sane measurement of a
# forwarding process, and when the process ends before or while it is
# measured it says so at once, with exit status 1 and no traceback, instead
# of waiting out its --timeout (which bench/run.sh sets to 300 s a
# measurement). Args: build dir, source dir.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
bin=$build/dataplane/egw-dataplane
rate=$src/bench/dpdk_rate.py
p=egwt-rate-$$
tmp=$(mktemp -d /tmp/egwt-rate.XXXXXX)
dp_pid=

stop_dp() {
    if [ -n "$dp_pid" ] && kill -0 "$dp_pid" 2>/dev/null; then
        kill -INT "$dp_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$dp_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$dp_pid" 2>/dev/null || true
    fi
    [ -z "$dp_pid" ] || wait "$dp_pid" 2>/dev/null || true
    dp_pid=
}
cleanup() {
    stop_dp
    rm -rf "$tmp" "/var/run/dpdk/$p-1" "/var/run/dpdk/$p-2"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

. "$src/tests/golden/vdev.sh"
vdev_capture "$tmp/c.pcap" 2000 udp   # 2,000 UDP datagrams from a registered terminal
vdev_policy "$tmp/c.pcap" "$tmp/egw.cfg"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

start_dp() {   # start_dp PREFIX
    "$bin" --no-huge -m 512 --no-pci -l 0-1 --log-level=error --file-prefix "$1" \
        -- --config "$tmp/egw.cfg" --socket "$tmp/$1.sock" 2>"$tmp/$1.err" &
    dp_pid=$!
}

# 1. A forwarding process: one JSON line, its figures consistent.
start_dp "$p-1"
python3 "$rate" --prefix "$p-1" --pid "$dp_pid" --port 0 --out-port 1 --warmup 0.5 \
    --secs 1 --timeout 120 --min-rx 4000 >"$tmp/r.json" 2>"$tmp/r.err" ||
    fail "dpdk_rate failed on a running egw-dataplane: $(cat "$tmp/r.err" "$tmp/$p-1.err")"
python3 - "$tmp/r.json" <<'PY' || fail "measurement: $(cat "$tmp/r.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert 0.9 < r["wall_s"] < 5, r
assert r["worker_cpu_s"] > 0.2, r          # a busy-polling worker took the window
assert r["rx_pps"] > 1000 and r["tx_pps"] > 1000, r
# every packet is allowed and forwarded: out roughly equals in
assert abs(r["tx_pps"] - r["rx_pps"]) < 0.05 * r["rx_pps"], r
assert r["rx_pps_per_core"] >= r["rx_pps"] * 0.5, r
assert r["cycles_per_pkt"] > 0 and r["tsc_hz"] > 1e8, r
print("ok: %.0f pps, %.0f cycles per packet" % (r["rx_pps"], r["cycles_per_pkt"]))
PY
stop_dp

# 2. The process dies while dpdk_rate waits for its packets (a --min-rx it
# never reaches): dpdk_rate ends within seconds, saying so.
start_dp "$p-2"
victim=$dp_pid
python3 "$rate" --prefix "$p-2" --pid "$victim" --port 0 --out-port 1 \
    --timeout 120 --min-rx 1000000000000 >"$tmp/r2.json" 2>"$tmp/r2.err" &
rate_pid=$!
for _ in $(seq 600); do
    grep -q '^egw-dataplane: forwarding' "$tmp/$p-2.err" && break
    kill -0 "$victim" 2>/dev/null || fail "egw-dataplane exited at start: $(cat "$tmp/$p-2.err")"
    sleep 0.1
done
sleep 1   # dpdk_rate is connected and polling by now
kill -0 "$rate_pid" 2>/dev/null || fail "dpdk_rate ended before the process did: $(cat "$tmp/r2.err")"
kill -KILL "$victim"
t0=$(date +%s)
st=0
for _ in $(seq 150); do kill -0 "$rate_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$rate_pid" 2>/dev/null; then
    kill "$rate_pid"; wait "$rate_pid" || true
    fail "dpdk_rate still waiting 15 s after the measured process died"
fi
wait "$rate_pid" || st=$?
[ "$st" = 1 ] || fail "dpdk_rate exited $st, not 1, when the process died: $(cat "$tmp/r2.err")"
grep -q "process $victim ended" "$tmp/r2.err" || fail "no clear line: $(cat "$tmp/r2.err")"
grep -q Traceback "$tmp/r2.err" && fail "a traceback instead of a line: $(cat "$tmp/r2.err")"
wait "$victim" 2>/dev/null || true
dp_pid=
echo "ok: a process that dies while awaited is reported in $(( $(date +%s) - t0 )) s"

# 3. A process that is already gone and never opened a socket: no wait for
# --timeout either.
sleep 0.1 &
dead=$!
wait "$dead"
t0=$(date +%s)
st=0
python3 "$rate" --prefix "$p-none" --pid "$dead" --port 0 --timeout 60 \
    >/dev/null 2>"$tmp/r3.err" || st=$?
[ "$st" = 1 ] || fail "dpdk_rate exited $st for a process that is gone"
[ $(( $(date +%s) - t0 )) -lt 10 ] || fail "dpdk_rate waited for a process that is gone"
grep -q "process $dead ended" "$tmp/r3.err" || fail "no clear line: $(cat "$tmp/r3.err")"
echo "ok: a process already gone is reported at once"
