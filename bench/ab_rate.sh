#!/usr/bin/env bash
# Two egw-dataplane builds side by side on one policy: A and B alternated
# REPS times each, every run as bench/run.sh measures it (dpdk_rate.py,
# 1 s warm-up, 3 s window, Mpps per worker CPU-second and cycles/packet).
# On a noisy machine alternating is what makes the two comparable.
#
#   bench/ab_rate.sh BUILD_A BUILD_B POLICY [REPS]     (root, hugepages)
#
# POLICY's ports must be vdevs (net_pcap infinite_rx -> net_null), as
# gen_policy.py writes them. Prints one line per run, then the medians.
set -euo pipefail
a=${1:?usage: ab_rate.sh BUILD_A BUILD_B POLICY [REPS]} b=${2:?} cfg=${3:?} reps=${4:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
pid="" prefix=""
cleanup() {
    if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    [ -z "$prefix" ] || rm -rf "/var/run/dpdk/$prefix"
    rm -f /dev/hugepages/egwab-$$-* 2>/dev/null || true   # left if a run was killed
}
trap cleanup EXIT
declare -A got=([A]="" [B]="")
for i in $(seq "$reps"); do
    for which in A B; do
        build=$a; [ "$which" = B ] && build=$b
        prefix="egwab-$$-$which-$i"
        "$build/dataplane/egw-dataplane" -l 0-1 --file-prefix "$prefix" --log-level=error -- \
            --config "$cfg" --socket "/tmp/$prefix.sock" </dev/null >/dev/null 2>&1 &
        pid=$!
        r=$(python3 "$src/bench/dpdk_rate.py" --prefix "$prefix" --pid "$pid" --port 0 \
            --out-port 1 --warmup 1 --secs 3 --timeout 300)
        kill -INT "$pid"; wait "$pid" || true; pid=""
        rm -rf "/var/run/dpdk/$prefix"; prefix=""
        m=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%.2f %.0f" % (d["rx_pps_per_core"]/1e6, d["cycles_per_pkt"]))' "$r")
        echo "$which $i: ${m% *} Mpps per core, ${m#* } cycles/packet"
        got[$which]+="${m% *} "
    done
done
python3 - "${got[A]}" "${got[B]}" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
ma, mb = statistics.median(a), statistics.median(b)
print("median: A %.2f, B %.2f Mpps per core; B/A %.2f" % (ma, mb, mb / ma))
PY
