#!/usr/bin/env bash
# kill -9 of a writer mid-stream, three times: every event the writer had
# reported flushed is in the log, the events kept are exactly 0..N-1 (a
# prefix: nothing lost in the middle), at most one batch beyond the last
# report is unaccounted for, verify passes (a torn last line is only a
# notice), and a restarted writer cuts the torn line and continues the chain.
# Args: build dir, source dir.
set -euo pipefail
build=$1
tool=$build/tests/elog_tool
ctl=$build/control/egwctl
work=$(mktemp -d /tmp/egwt-log-kill.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

check_prefix() { # events of the first stream run only: flow_ids 0..N-1
python3 - "$1" "$2" <<'PY'
import json, sys
ids = []
for l in open(sys.argv[1]):
    e = json.loads(l)
    ids.append(e["flow_id"])
flushed = int(sys.argv[2])
assert ids == list(range(len(ids))), "events lost or reordered in the middle"
assert len(ids) >= flushed, ("flushed events lost", len(ids), flushed)
# the bound: one batch (256 lines) plus one 64-event write not yet flushed
assert len(ids) <= flushed + 256 + 64, (len(ids), flushed)
print("kept", len(ids), "flushed before the kill", flushed)
PY
}

for round in 1 2 3; do
    rm -rf "$work/log"
    "$tool" stream "$work/log" > "$work/out" &
    pid=$!
    for _ in $(seq 300); do
        [ "$(grep -c '^flushed' "$work/out" || true)" -ge $((round * 20)) ] && break
        sleep 0.05
    done
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    flushed=$(grep '^flushed [0-9]*$' "$work/out" | tail -1 | cut -d' ' -f2)
    [ -n "$flushed" ] || fail "the writer never flushed"
    set +e
    "$ctl" logs verify --dir "$work/log" > "$work/verify"; rc=$?
    set -e
    cat "$work/verify"
    [ $rc = 0 ] || fail "verify failed after kill -9"
    if grep -q ': error:' "$work/verify"; then fail "verify reported an error"; fi
    "$ctl" logs query --dir "$work/log" --json > "$work/events"
    check_prefix "$work/events" "$flushed"
done

# a torn last line (a write cut short): reported, then repaired on restart
f=$(ls "$work"/log/eve-*.json | tail -1)
tail -1 "$f" | head -c 100 >> "$f"
"$ctl" logs verify --dir "$work/log" > "$work/verify" || fail "torn line is not an error"
grep -q 'notice: torn last line (100 bytes' "$work/verify" || fail "torn line not reported: $(cat "$work/verify")"
"$tool" append "$work/log" 10 > /dev/null
"$ctl" logs verify --dir "$work/log" > "$work/verify" || fail "verify after repair: $(cat "$work/verify")"
grep -q 'cut a torn line of 100 bytes' "$work/verify" || fail "repair not recorded: $(cat "$work/verify")"
grep -q 'torn last line' "$work/verify" && fail "torn line still there"
echo "logs_kill9: ok"
