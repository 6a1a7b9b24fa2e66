#!/usr/bin/env bash
# Run one libFuzzer target briefly: its seed corpus plus what it finds.
# Fails on any crash, leak or sanitizer report. Time: EGW_FUZZ_SECONDS (10).
set -euo pipefail
bin=$1 corpus=$2 work=$3
mkdir -p "$work/corpus"
seeds=()
[ -d "$corpus" ] && seeds=("$corpus")
exec "$bin" -max_total_time="${EGW_FUZZ_SECONDS:-10}" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" "${seeds[@]}"
