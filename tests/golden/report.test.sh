#!/usr/bin/env bash
# egwctl report registry|terminals over ten simulated days written by the
# real log writer (tests/tools/control/report_tool.c) from
# tests/golden/data/report/events.txt: registered, unregistered and spoofing
# sources, events on both sides of midnight and one stamped before midnight
# but written after it. Asserts the reports exactly (human and --json, files
# *.expected beside the events), the N-days cut-off on both sides, --since
# and --until cutting through a day, older summaries (without "source" and
# "suspect") still read, and damaged summaries named in a clear error.
# Args: build dir, source dir.
set -euo pipefail
build=$1 src=$2
tool=$build/tests/report_tool
ctl=$build/control/egwctl
data=$src/tests/golden/data/report
work=$(mktemp -d /tmp/egwt-report.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$work/etc"
cp "$data/egw.cfg" "$work/etc/egw.cfg"   # log.directory = "../log"
"$tool" write "$work/log" zstd < "$data/events.txt"
ls "$work/log"/eve-2026-01-09.json.zst "$work/log"/eve-2026-01-09.summary.json \
   "$work/log"/eve-2026-01-10.json >/dev/null || fail "the writer did not rotate and archive"
"$ctl" logs verify --dir "$work/log" --now 2026-01-10 | grep -q '^OK: 9 file(s)' ||
    fail "verify of the log with the extended summaries"

r() { "$ctl" report "$@" --config "$work/etc/egw.cfg"; }
same() { # name, command...: output equals data/report/NAME.expected
    local name=$1; shift
    "$@" > "$work/$name.out" || fail "$name: exit $?"
    diff -u "$data/$name.expected" "$work/$name.out" || fail "$name differs"
}

# N = 3 as of 2026-01-10: the window is 01-08..01-10. 198.51.100.10 last on
# 01-08 (in use); 10.2.0.20 last at 01-07T23:59:59.999999 (idle 3 days: out);
# 10.1.0.10's own traffic last on 01-06 (the spoofed events from its address
# with li.na's MAC do not count); 198.51.100.12 never seen.
same registry-3 r registry --date 2026-01-10 --days 3
same registry-3-json r registry --date 2026-01-10 --days 3 --json
# N = 4: the window reaches 01-07, so 10.2.0.20 is in use again
r registry --date 2026-01-10 --days 4 --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
t = {x["ip"]: x for u in d["units"] for x in u["terminals"]}
p = {x["address"]: x for u in d["units"] for x in u["public_addresses"]}
assert not t["10.2.0.20"]["idle"] and t["10.2.0.20"]["idle_days"] == 3, t
assert t["10.1.0.10"]["idle"] and not t["10.1.0.11"]["idle"], t
assert p["198.51.100.11"]["candidate"] and p["198.51.100.12"]["candidate"], p
assert d["candidates"] == 2 and d["idle_terminals"] == 1, d' || fail "registry --days 4"
# as of 01-05 with N = 9: later days are ignored, and an address never seen
# is not a candidate while the log is shorter than N days
same registry-early r registry --date 2026-01-05 --days 9

same terminals r terminals
same terminals-json r terminals --json
# --since in the middle of 01-09: the 12:00 spoof is out, 13:00 in; the
# event stamped 23:59:59.5 and written after midnight (01-10's file) is in
same terminals-since r terminals --since 2026-01-09T12:30:00Z
same terminals-since-json r terminals --since 2026-01-09T12:30:00Z --json
# --since midnight: that same event is out (its timestamp is 01-09)
r terminals --since 2026-01-10 --json | python3 -c '
import json, sys
s = {(x["reason"], x["ip"]): x["count"] for x in json.load(sys.stdin)["sources"]}
assert s == {("spoof", "10.1.0.10"): 1, ("unregistered", "2001:db8:1::99"): 1}, s' ||
    fail "terminals --since 2026-01-10"
r terminals --until 2026-01-09T12:00:00.000001Z --json | python3 -c '
import json, sys
s = {(x["reason"], x["ip"]): x["count"] for x in json.load(sys.stdin)["sources"]}
assert s == {("spoof", "10.1.0.10"): 1, ("unregistered", "10.1.0.99"): 1,
             ("unregistered", "10.9.9.9"): 1}, s' || fail "terminals --until"

# the log directory from the policy (relative to its folder), no --dir
r terminals --json --dir "$work/log" > "$work/a"
r terminals --json > "$work/b"
cmp -s "$work/a" "$work/b" || fail "--config did not give the policy's log directory"

# a summary written before "source"/"suspect" existed: the day's (zstd)
# file is read instead, with the same result
for d in 03 08; do
    python3 - "$work/log/eve-2026-01-$d.summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
del s["source"], s["suspect"]
json.dump(s, open(sys.argv[1], "w"), separators=(",", ":"))
PY
done
same terminals r terminals
same registry-3 r registry --date 2026-01-10 --days 3

# a damaged line in a day file that is read (the open day's): told on
# stderr with its file and line, the report made of the other lines, exit 1
open=$work/log/eve-2026-01-10.json
cp "$open" "$work/keepopen"
sed -i -e '2a garbage' -e "3a $(head -c 70000 /dev/zero | tr '\0' x)" "$open"
for rep in "terminals" "registry-3 --date 2026-01-10 --days 3"; do
    read -ra args <<<"$rep"
    set +e; r "${args[0]%-3}" "${args[@]:1}" >"$work/out" 2>"$work/err"; rc=$?; set -e
    [ $rc = 1 ] && [ "$(cat "$work/err")" = "egwctl report: $open:3: not a log line (not a JSON object line), skipped
egwctl report: $open:5: line longer than 65536 bytes, skipped" ] ||
        fail "${args[0]} with a damaged line: exit $rc, $(cat "$work/err")"
    diff -u "$data/${args[0]}.expected" "$work/out" || fail "${args[0]} with a damaged line differs"
done
cp "$work/keepopen" "$open"

# damaged summaries: exit 1 and one line naming the file and what is wrong
sum5=$work/log/eve-2026-01-05.summary.json
cp "$sum5" "$work/keep"
bad() { # expected message (fixed string), report args...; $sum5 damaged before
    local msg=$1 rc; shift
    set +e; r "$@" >/dev/null 2>"$work/err"; rc=$?; set -e
    cp "$work/keep" "$sum5"
    [ $rc = 1 ] || fail "$* with a damaged summary: exit $rc ($(cat "$work/err"))"
    grep -qF "eve-2026-01-05.summary.json$msg" "$work/err" ||
        fail "$* with a damaged summary said: $(cat "$work/err")"
}
damage() { sed "$1" "$work/keep" > "$sum5"; cmp -s "$work/keep" "$sum5" && fail "sed $1 changed nothing"; :; }
head -c 40 "$work/keep" > "$sum5"; bad ':1: not a summary' terminals
: > "$sum5"; bad ':1: not a summary' registry --date 2026-01-10
echo '[1,2]' > "$sum5"; bad ': not a JSON object' terminals
damage 's/"ip":{/"ip":[1],"x":{/'; bad ': "ip" is not an object' registry --date 2026-01-10
damage 's/"reason":{/"reason":{"x":-1,/'; bad ': "reason" holds a value that is not a count' registry --date 2026-01-10
damage 's/"count":1/"count":"1"/'; bad ': "suspect" holds an entry without reason' terminals
damage 's/"first":"2026-01-05T11/"first":"yesterday","y":"/'
bad ': "suspect" holds an entry whose first or last is not a timestamp' terminals
damage 's/"day":"2026-01-05"/"day":"2026-01-06"/'; bad ': "day" is not 2026-01-05' terminals
damage 's/"version":1/"version":2/'; bad ': not a version-1 summary' terminals
# a damaged log file is named too
z=$work/log/eve-2026-01-06.json.zst
cp "$z" "$work/keepz"; head -c 40 "$work/keepz" > "$z"
rm "$work/log/eve-2026-01-06.summary.json"
set +e; r registry --date 2026-01-10 >/dev/null 2>"$work/err"; rc=$?; set -e
if [ $rc != 1 ] || ! grep -q 'eve-2026-01-06.json.zst: ' "$work/err"; then
    fail "damaged day file: exit $rc, $(cat "$work/err")"
fi

# usage errors
for a in "--days 0" "--days x" "--date 2026-1-1" "--bogus"; do
    read -ra args <<<"$a"
    set +e; r registry "${args[@]}" >/dev/null 2>&1; rc=$?; set -e
    [ $rc = 2 ] || fail "registry $a: exit $rc, want 2"
done
set +e; r terminals --since whenever >/dev/null 2>&1; rc=$?; set -e
[ $rc = 2 ] || fail "terminals --since whenever: exit $rc"
set +e; "$ctl" report registry --config "$work/none.cfg" >/dev/null 2>"$work/err"; rc=$?; set -e
if [ $rc != 1 ] || ! grep -q 'none.cfg' "$work/err"; then
    fail "missing policy: exit $rc, $(cat "$work/err")"
fi
echo "report: ok"
