#!/bin/bash
# SPDX-License-Identifier: MIT
# The behaviour-log writer's yajl path (elog_write_events), this tree against
# an earlier commit, side by side in one run (bench/log.md):
#   bench/log_compare.sh [-c] [BASE_REF [EVENTS [PAIRS]]]
# BASE_REF (default: the merge base of HEAD and main) is built once, Release,
# in build/log-base-<sha>; this tree's Release build is build/release. The
# two bench_log programs then run alternately, PAIRS times (default 3),
# EVENTS events each (default 1000000), the order swapped every pair so that
# neither always runs in the other's wake. Prints each run's events/s (wall
# and per CPU second) and the ratio new/base of the per-CPU-second figures.
# -c: also count instructions per event with callgrind (20,000 events each).
# Both runs write into a temporary directory removed at exit.
set -euo pipefail

cg=0
if [ "${1:-}" = -c ]; then cg=1; shift; fi
src=$(cd "$(dirname "$0")/.." && pwd)
base_ref=${1:-$(git -C "$src" merge-base HEAD main)}
events=${2:-1000000}
pairs=${3:-3}
sha=$(git -C "$src" rev-parse --short "$base_ref")
base_build=$src/build/log-base-$sha
new=$src/build/release/bench/bench_log
work=$(mktemp -d /tmp/egw-log-compare-XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ ! -x "$base_build/bench/bench_log" ]; then
    echo "building bench_log of $sha in $base_build" >&2
    mkdir -p "$work/src"
    git -C "$src" archive "$base_ref" | tar -x -C "$work/src"
    cmake -S "$work/src" -B "$base_build" -DCMAKE_BUILD_TYPE=Release -DEGW_WERROR=ON >/dev/null
    cmake --build "$base_build" -j2 --target bench_log >/dev/null
fi
if [ ! -x "$new" ]; then
    cmake -S "$src" -B "$src/build/release" -DCMAKE_BUILD_TYPE=Release -DEGW_WERROR=ON >/dev/null
fi
cmake --build "$src/build/release" -j2 --target bench_log >/dev/null
base=$base_build/bench/bench_log

# one run: prints "<wall> <per CPU s>" of the yajl full path
run() {
    rm -rf "$work/d"
    mkdir -p "$work/d"
    "$1" "$events" "$work/d" yajl > "$work/out" || { cat "$work/out" >&2; return 1; }
    awk '/full path, yajl:/ { for (i = 1; i <= NF; i++) { if ($i == "events/s") w = $(i-1);
         if ($i == "per") c = $(i-2) } } END { print w, c }' "$work/out"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "base $sha, new $(git -C "$src" rev-parse --short HEAD)$(git -C "$src" diff --quiet HEAD -- || echo '+changes'), $events events a run"
printf '%-5s %14s %16s %14s %16s %7s\n' pair "base wall/s" "base per CPU s" "new wall/s" "new per CPU s" ratio
for p in $(seq 1 "$pairs"); do
    if [ $((p % 2)) = 1 ]; then
        b=$(run "$base"); n=$(run "$new")
    else
        n=$(run "$new"); b=$(run "$base")
    fi
    read -r bw bc <<<"$b"
    read -r nw nc <<<"$n"
    printf '%-5s %14s %16s %14s %16s %7s\n' "$p" "$bw" "$bc" "$nw" "$nc" \
        "$(awk -v a="$nc" -v b="$bc" 'BEGIN { printf "%.2fx", a / b }')"
    echo "$bc $nc" >> "$work/pairs"
done
# medians of the per-CPU-second figures, and their ratio
sort -n -k1,1 "$work/pairs" | awk '{ b[NR] = $1 } END { print b[int((NR + 1) / 2)] }' > "$work/mb"
sort -n -k2,2 "$work/pairs" | awk '{ n[NR] = $2 } END { print n[int((NR + 1) / 2)] }' > "$work/mn"
awk -v b="$(cat "$work/mb")" -v n="$(cat "$work/mn")" 'BEGIN {
    printf "median per CPU s: base %d, new %d, ratio %.2fx\n", b, n, n / b }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ $cg = 1 ]; then
    for which in base new; do
        bin=$base; [ $which = new ] && bin=$new
        rm -rf "$work/d"; mkdir -p "$work/d"
        ir=$(valgrind --tool=callgrind --callgrind-out-file="$work/cg.$which" \
            --toggle-collect=run_yajl "$bin" 20000 "$work/d" yajl 2>&1 >/dev/null |
            awk '/Collected/ { print $NF }')
        echo "callgrind $which: $ir instructions in run_yajl, $((ir / 20000)) per event"
    done
fi
