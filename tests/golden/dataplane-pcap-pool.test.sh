#!/usr/bin/env bash
# Port mode replaying a capture larger than the queues' share of the packet
# pool (net_pcap infinite_rx copies the whole file into the pool at start):
# 12,000 packets start and are forwarded (the pool is sized from the
# capture), --mbufs too small for it fails with a clear line, and a bad
# --mbufs value is refused. No network: net_pcap in, net_null out and punt.
# Args: build dir, source dir.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
bin=$build/dataplane/egw-dataplane
p=egwt-dpperf-$$
p2=$p-early   # the run stopped while it starts
tmp=$(mktemp -d /tmp/egwt-dpperf.XXXXXX)
dp_pid=

cleanup() {
    if [ -n "$dp_pid" ] && kill -0 "$dp_pid" 2>/dev/null; then
        kill -INT "$dp_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$dp_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$dp_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp" "/var/run/dpdk/$p" "/var/run/dpdk/$p2"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/dp.err" ] && sed 's/^/  dataplane: /' "$tmp/dp.err" >&2; exit 1; }

. "$src/tests/golden/vdev.sh"
vdev_capture "$tmp/big.pcap" 12000 tcp   # 12,000 TCP SYNs from a registered terminal
vdev_policy "$tmp/big.pcap" "$tmp/egw.cfg"

eal=(--no-huge -m 512 --no-pci --no-shconf -l 0-1 --log-level=error --file-prefix "$p")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

# A bad value is refused before anything starts.
if "$bin" "${eal[@]}" -- --config "$tmp/egw.cfg" --mbufs 12x 2>"$tmp/bad.err"; then
    fail "--mbufs 12x accepted"
fi
grep -q -- "--mbufs '12x'" "$tmp/bad.err" || fail "no clear line for --mbufs 12x: $(cat "$tmp/bad.err")"

# Too small for the capture: fails to start, saying so (net_pcap's own
# error, after the pool line), and does not hang.
timeout 60 "$bin" "${eal[@]}" -- --config "$tmp/egw.cfg" --socket "$tmp/dp0.sock" \
    --mbufs 8192 2>"$tmp/small.err" && fail "a 12,000-packet capture started in 8,192 buffers"
grep -q "cannot configure" "$tmp/small.err" || fail "no clear line for too few buffers: $(cat "$tmp/small.err")"

# Sized from the capture: starts and forwards.
"$bin" "${eal[@]}" -- --config "$tmp/egw.cfg" --socket "$tmp/dp.sock" \
    --stats "$tmp/stats.json" 2>"$tmp/dp.err" &
dp_pid=$!
up=
for _ in $(seq 300); do
    kill -0 "$dp_pid" 2>/dev/null || fail "egw-dataplane exited at start"
    if grep -q '^egw-dataplane: forwarding' "$tmp/dp.err"; then up=1; break; fi
    sleep 0.1
done
[ -n "$up" ] || fail "egw-dataplane did not start"
grep -Eq '^egw-dataplane: (2[0-9]|1[2-9])[0-9]{3} packet buffers' "$tmp/dp.err" ||
    fail "pool not sized from the capture: $(grep 'packet buffers' "$tmp/dp.err")"
sleep 2
kill -INT "$dp_pid"
wait "$dp_pid" || fail "egw-dataplane exited non-zero"
dp_pid=
python3 - "$tmp/stats.json" <<'PY' || fail "stats"
import json, sys
s = json.load(open(sys.argv[1]))
rx = s["ports"]["inside"]["rx_packets"]
tx = s["ports"]["outside"]["tx_packets"]
assert rx >= 12000, "inside rx %d < 12000" % rx
assert tx == rx, "outside tx %d != inside rx %d" % (tx, rx)
print("ok: rx %d tx %d" % (rx, tx))
PY

# A stop asked for while the ports start is kept, not lost. Started in the
# background by this script, egw-dataplane begins with SIGINT ignored
# (POSIX, a shell without job control); SIGINT once EAL has begun (its
# runtime directory exists), long before the capture's preload is done,
# must still end it, cleanly and soon. Before the fix it was dropped and
# `kill -INT; wait` hung for good.
"$bin" "${eal[@]/$p/$p2}" -- --config "$tmp/egw.cfg" --socket "$tmp/dp2.sock" \
    2>"$tmp/dp2.err" &
dp_pid=$!
for _ in $(seq 300); do
    [ -d "/var/run/dpdk/$p2" ] && break
    kill -0 "$dp_pid" 2>/dev/null || fail "egw-dataplane exited at start: $(cat "$tmp/dp2.err")"
    sleep 0.01
done
[ -d "/var/run/dpdk/$p2" ] || fail "EAL runtime directory /var/run/dpdk/$p2 never appeared"
grep -q '^egw-dataplane: forwarding' "$tmp/dp2.err" &&
    echo "note: started before the signal could be sent early; checking the stop anyway"
kill -INT "$dp_pid"
for _ in $(seq 600); do kill -0 "$dp_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$dp_pid" 2>/dev/null && fail "SIGINT sent while starting was lost: still running 60 s later: $(cat "$tmp/dp2.err")"
wait "$dp_pid" || fail "egw-dataplane exited non-zero after an early SIGINT: $(cat "$tmp/dp2.err")"
dp_pid=
echo "ok: a SIGINT during start-up ends egw-dataplane"
