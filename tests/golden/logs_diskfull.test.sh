#!/usr/bin/env bash
# Disk full: in a private mount namespace, a 4 MiB tmpfs holds the log; the
# writer (elog_tool diskfull) writes, the disk is filled, it keeps writing
# (counting what it cannot keep), the space is freed, writing resumes.
# Checks: the loss is counted and recorded as a gap that verify reports,
# verify passes, every line written before the disk filled is intact, and
# the events that made it are in order with none duplicated.
# Args: build dir, source dir. Needs root (unshare -m, mount).
set -euo pipefail
build=$1
tool=$build/tests/elog_tool
ctl=$build/control/egwctl
work=$(mktemp -d /tmp/egwt-log-full.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir "$work/mnt"
unshare -m bash -euo pipefail -c '
    mount --make-rprivate /
    mount -t tmpfs -o size=4m egwt-log-full "$1/mnt"
    "$2" diskfull "$1/mnt/log" "$1/mnt/filler" > "$1/out"
    set +e
    "$3" logs verify --dir "$1/mnt/log" > "$1/verify"; echo $? > "$1/verify.rc"
    set -e
    "$3" logs query --dir "$1/mnt/log" --json > "$1/events"
' _ "$work" "$tool" "$ctl" || fail "writer failed: $(cat "$work/out" 2>/dev/null)"

cat "$work/out"
cat "$work/verify"
grep -q '^full .*failed=[1-9]' "$work/out" || fail "the loss was not counted"
grep -q '^full .*write_errors=[1-9]' "$work/out" || fail "no write error counted"
grep -q '^full .*last_errno=28' "$work/out" || fail "ENOSPC not reported"
grep -q '^resumed .*backlog=0' "$work/out" || fail "backlog not written after space returned"
[ "$(cat "$work/verify.rc")" = 0 ] || fail "verify failed after disk full"
grep -q 'notice: .* events were lost by the writer' "$work/verify" || fail "verify did not report the gap"
failed=$(sed -n 's/^resumed .*failed=\([0-9]*\).*/\1/p' "$work/out")
offered=$(sed -n 's/^offered=//p' "$work/out")
python3 - "$work/events" "$failed" "$offered" <<'PY'
import json, sys
ids = [json.loads(l)["flow_id"] for l in open(sys.argv[1])]
failed, offered = int(sys.argv[2]), int(sys.argv[3])
assert ids[:1000] == list(range(1000)), "lines written before the disk filled were lost"
assert ids == sorted(set(ids)), "events reordered or duplicated"
assert len(ids) == offered - failed, (len(ids), offered, failed)
assert ids[-1] == offered - 1, "events after the disk was freed are missing"
print("events kept", len(ids), "lost", failed)
PY
echo "logs_diskfull: ok"
