#!/usr/bin/env bash
# egwctl logs query|verify and report daily over four simulated days written
# by the real writer (tests/tools/control/elog_tool.c): every filter, time
# forms, --json, --config, summary-based day skipping, verify naming the
# file and line of a tampered line; and what the operator sees (exit status
# and message) when the directory, a file or a line is wrong: unreadable,
# a FIFO, empty, damaged or overlong lines, ranges wide or empty.
# Args: build dir, source dir.
set -euo pipefail
build=$1
tool=$build/tests/elog_tool
ctl=$build/control/egwctl
work=$(mktemp -d /tmp/egwt-log-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$tool" gen "$work/log" 2026-01-01 4 1000 >/dev/null
# event n (0..3999): unit finance if n even; user zhang.wei/li.na/wang.fang by
# n%3; action allowed/blocked/redirected/punted by n%4; domain
# mail.qq.com/www.example.cn/news.example.org by n%3; src 10.(1+n%2).0.(10+n%3)
count() { "$ctl" logs query --dir "$work/log" --now 2026-01-05 "$@" | tail -1; }
expect() { local want=$1; shift; local got; got=$(count "$@");
    [ "$got" = "$want event(s)" ] || fail "query $*: got '$got', want $want"; }

expect 4000
expect 2000 --unit finance
expect 1333 --user li.na
expect 1000 --verdict blocked
expect 1334 --domain qq.com
expect 1334 --domain QQ.COM.
expect 1333 --domain example.cn
expect 0 --domain ample.cn
expect 667 --ip 10.2.0.11
expect 2000 --ip 10.2.0.0/16
expect 4000 --ip 198.51.100.53
expect 1000 --unit health --verdict blocked
expect 1000 --since 2026-01-02 --until 2026-01-03
expect 1500 --since 2026-01-03T12:00:00Z
expect 1500 --since 2026-01-03T20:00:00+08:00
expect 1000 --since 1d
expect 0 --unit nosuch
"$ctl" logs query --dir "$work/log" --verdict nonsense >/dev/null 2>&1 && fail "bad --verdict accepted"
"$ctl" logs query --dir "$work/log" --since yesterdayish >/dev/null 2>&1 && fail "bad --since accepted"

# --json: one EVE object per line, the matching ones only
n=$("$ctl" logs query --dir "$work/log" --json --user wang.fang --since 2026-01-04 |
    python3 -c 'import sys, json
n = 0
for l in sys.stdin:
    e = json.loads(l)
    assert e["egw"]["user"] == "wang.fang" and e["timestamp"].startswith("2026-01-04"), l
    n += 1
print(n)')
[ "$n" = 333 ] || fail "--json gave $n lines, want 333"

# the directory from the policy, relative to the policy's folder
mkdir -p "$work/etc"
printf 'version = 1;\nlog: { directory = "../log"; retention_days = 60; };\n' > "$work/etc/egw.cfg"
[ "$("$ctl" logs query --config "$work/etc/egw.cfg" --unit finance | tail -1)" = "2000 event(s)" ] ||
    fail "--config did not find the log"

"$ctl" logs verify --dir "$work/log" --now 2026-01-04 | grep -q '^OK: 4 file(s)' || fail "verify of a clean log"
"$ctl" report daily --dir "$work/log" --date 2026-01-02 | grep -q '^Daily report 2026-01-02: 1000 events' ||
    fail "report daily"
"$ctl" report daily --dir "$work/log" --date 2026-01-04 --json | python3 -c '
import sys, json; s = json.load(sys.stdin); assert s["events"] == 1000 and s["unit"]["finance"] == 500' ||
    fail "report daily of the open day"

# closed days with no match are skipped by their summaries: damage day 2
# and only unfiltered queries trip over it
z=$work/log/eve-2026-01-02.json.zst
head -c 3000 "$z" > "$work/z" && cat "$work/z" > "$z"
expect 0 --unit nosuch
"$ctl" logs query --dir "$work/log" >/dev/null 2>"$work/err" && fail "damaged file not reported by query"
grep -q 'eve-2026-01-02.json.zst' "$work/err" || fail "query error does not name the file"

# an event stamped just before midnight but written just after is in the
# next day's file: a query up to midnight still finds it
rm -rf "$work/log" && ELOG_TOOL_LAG_US=1000000 "$tool" gen "$work/log" 2026-01-01 3 1000 >/dev/null
expect 1000 --since 2026-01-02 --until 2026-01-03
[ "$("$ctl" logs query --dir "$work/log" --json --since 2026-01-02 --until 2026-01-03 |
     tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["timestamp"])')" = \
  "2026-01-02T23:59:59.000000+00:00" ] || fail "the event written after midnight was not found"

# verify names the file and line of a changed line in the open day
rm -rf "$work/log" && "$tool" gen "$work/log" 2026-01-01 2 50 none >/dev/null
cp "$work/log/eve-2026-01-02.json" "$work/orig"
sed -i '18s/mail.qq.com/mail.qq.org/' "$work/log/eve-2026-01-02.json"
cmp -s "$work/orig" "$work/log/eve-2026-01-02.json" && fail "sed changed nothing"
set +e
out=$("$ctl" logs verify --dir "$work/log" --now 2026-01-02); rc=$?
set -e
[ $rc = 1 ] || fail "verify exit $rc after tampering"
grep -q '^eve-2026-01-02.json:18: error: content does not match' <<<"$out" || fail "verify said: $out"
# the same findings as a document with --json, the same exit status
set +e
out=$("$ctl" logs verify --json --dir "$work/log" --now 2026-01-02); rc=$?
set -e
[ $rc = 1 ] && python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["status"] == "BROKEN" and d["files"] == 2 and d["errors"] >= 1, d
f = d["findings"][0]
assert (f["file"], f["line"], f["severity"]) == ("eve-2026-01-02.json", 18, "error"), f
assert f["message"].startswith("content does not match"), f
' "$out" || fail "verify --json: exit $rc, $out"
# run CMD...: exit status in $rc, stdout in $out, stderr in $err
run() { set +e; "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e
    out=$(cat "$work/out"); err=$(cat "$work/err"); }
# an error: exit status $1, stderr exactly $2 (first line), nothing on stdout
refused() { local want_rc=$1 want=$2; shift 2; run "$@"
    [ $rc = "$want_rc" ] && [ -z "$out" ] && [ "$(head -1 <<<"$err")" = "$want" ] ||
        fail "$*: exit $rc (want $want_rc), stdout '$out', stderr '$err' (want '$want')"; }

# a wrong --dir is an error whether or not --since is given, before any output
refused 2 "egwctl logs: $work/nosuch: No such file or directory" \
    "$ctl" logs query --dir "$work/nosuch"
refused 2 "egwctl logs: $work/nosuch: No such file or directory" \
    "$ctl" logs query --dir "$work/nosuch" --since 7d
refused 2 "egwctl logs: $work/orig: Not a directory" \
    "$ctl" logs query --dir "$work/orig" --since 2026-01-01 --json
# a range far wider than the log is walked by its files, not by its days
# (walking 8,000 years of days took half a minute)
rm -rf "$work/log" && "$tool" gen "$work/log" 2026-01-01 4 1000 >/dev/null
for a in "--until 9999-12-31" "--since 1970-01-01" "--since 1970-01-01 --until 9999-12-31"; do
    read -ra args <<<"$a"
    run timeout 10 "$ctl" logs query --dir "$work/log" --now 2026-01-05 "${args[@]}"
    [ $rc = 0 ] && [ "$(tail -1 <<<"$out")" = "4000 event(s)" ] ||
        fail "query $a: exit $rc (124: too slow), $(tail -1 <<<"$out") $err"
done
# a day file that cannot be read is an error naming it, not a day without
# events: query still prints the other days, but exits 1
if [ "$(id -u)" = 0 ]; then
    asuser() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
else
    asuser() { "$@"; }
fi
chmod 755 "$work" "$work/log" && chmod a+r "$work"/log/eve-*  # not .key, .head
chmod 000 "$work/log/eve-2026-01-03.json.zst"
run asuser "$ctl" logs query --dir "$work/log" --now 2026-01-05
[ $rc = 1 ] && [ "$err" = "egwctl logs: $work/log/eve-2026-01-03.json.zst: Permission denied" ] &&
    [ "$(tail -1 <<<"$out")" = "3000 event(s)" ] ||
    fail "unreadable closed day: exit $rc, '$err', $(tail -1 <<<"$out")"
chmod 000 "$work/log/eve-2026-01-04.json"
refused 1 "egwctl report: $work/log/eve-2026-01-04.json: Permission denied" \
    asuser "$ctl" report daily --dir "$work/log" --date 2026-01-04
chmod 644 "$work/log/eve-2026-01-03.json.zst" "$work/log/eve-2026-01-04.json"
# a FIFO named like a day file is refused, naming it, instead of waiting
# for a writer for ever
mkfifo "$work/log/eve-2025-12-31.json"
run timeout 10 "$ctl" logs query --dir "$work/log" --now 2026-01-05
[ $rc = 1 ] && [ "$err" = "egwctl logs: $work/log/eve-2025-12-31.json: not a regular file" ] &&
    [ "$(tail -1 <<<"$out")" = "4000 event(s)" ] ||
    fail "query with a FIFO: exit $rc (124: hung), '$err', $(tail -1 <<<"$out")"
run timeout 10 "$ctl" logs verify --dir "$work/log" --now 2026-01-05
[ $rc = 1 ] && grep -qx 'eve-2025-12-31.json: error: cannot open: not a regular file' <<<"$out" ||
    fail "verify with a FIFO: exit $rc (124: hung), $out $err"
rm "$work/log/eve-2025-12-31.json"
# and so do a FIFO in place of the checkpoint (.head) and of the key (.key)
mv "$work/log/.head" "$work/head.saved" && mkfifo "$work/log/.head"
run timeout 10 "$ctl" logs verify --dir "$work/log" --now 2026-01-05
[ $rc = 1 ] && grep -qx '.head: error: the checkpoint is damaged or forged' <<<"$out" ||
    fail "verify with a FIFO as .head: exit $rc (124: hung), $out $err"
rm "$work/log/.head" && mv "$work/head.saved" "$work/log/.head"
mv "$work/log/.key" "$work/key.saved" && mkfifo "$work/log/.key"
run timeout 10 "$ctl" logs verify --dir "$work/log" --now 2026-01-05
[ $rc != 0 ] && [ $rc != 124 ] && grep -q '\.key: key is not a regular file' <<<"$out$err" ||
    fail "verify with a FIFO as .key: exit $rc (124: hung), $out $err"
rm "$work/log/.key" && mv "$work/key.saved" "$work/log/.key"
# damaged lines are told on stderr (file:line, what is wrong) and skipped;
# the other lines are still read and printed, and the exit status is 1
rm -rf "$work/log" && "$tool" gen "$work/log" 2026-01-01 2 100 none >/dev/null
day1=$work/log/eve-2026-01-01.json
sed -i -e '50s/.*/garbage/' -e '60s/"timestamp":/"timestamp"/' "$day1"
long() { # file, line number: make that line longer than 65536 bytes
    sed -i "$2s/\$/$(head -c 70000 /dev/zero | tr '\0' x)/" "$1"; }
long "$day1" 70
run "$ctl" logs query --dir "$work/log" --now 2026-01-03
[ $rc = 1 ] && [ "$(tail -1 <<<"$out")" = "197 event(s)" ] &&
    [ "$err" = "egwctl logs: $day1:50: not a log line (not a JSON object line), skipped
egwctl logs: $day1:60: not a JSON event (':' expected), skipped
egwctl logs: $day1:70: line longer than 65536 bytes, skipped" ] ||
    fail "damaged lines: exit $rc, $(tail -1 <<<"$out"), '$err'"
# verify reports the overlong line and still checks the lines after it
run "$ctl" logs verify --dir "$work/log" --now 2026-01-02
[ $rc = 1 ] && grep -qx 'eve-2026-01-01.json:70: error: line longer than 65536 bytes: inserted or damaged' <<<"$out" &&
    grep -q '^eve-2026-01-01.json:71: error: carries line number 71 where 70 was expected' <<<"$out" &&
    ! grep -q 'without its seal' <<<"$out" || fail "verify of an overlong line: exit $rc, $out"
sed -i '50s/.*/garbage/' "$work/log/eve-2026-01-02.json"   # the open day: read by report daily
run "$ctl" report daily --dir "$work/log" --date 2026-01-02 --json
[ $rc = 1 ] && [ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])' <<<"$out")" = 99 ] &&
    grep -qx "egwctl report: $work/log/eve-2026-01-02.json:50: not a log line (not a JSON object line), skipped" <<<"$err" ||
    fail "report daily with damaged lines: exit $rc, $out, '$err'"
# an empty .zst is not a day without events: it holds no zstd frame
rm -rf "$work/log" && "$tool" gen "$work/log" 2026-01-01 3 100 >/dev/null
: > "$work/log/eve-2026-01-02.json.zst"
run "$ctl" logs query --dir "$work/log" --now 2026-01-04
[ $rc = 1 ] && [ "$err" = "egwctl logs: $work/log/eve-2026-01-02.json.zst: empty file: not zstd data" ] &&
    [ "$(tail -1 <<<"$out")" = "200 event(s)" ] ||
    fail "empty .zst: exit $rc, '$err', $(tail -1 <<<"$out")"
run "$ctl" logs verify --dir "$work/log" --now 2026-01-03
[ $rc = 1 ] && grep -qx 'eve-2026-01-02.json.zst:1: error: empty file: not zstd data' <<<"$out" ||
    fail "verify of an empty .zst: exit $rc, $out"
# verify names a summary it cannot read with the reason, not as damaged
rm -rf "$work/log" && "$tool" gen "$work/log" 2026-01-01 3 100 >/dev/null
cp -a "$work/log" "$work/mine"
[ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$work/mine"   # the key is then nobody's
chmod 000 "$work/mine/eve-2026-01-02.summary.json"
run asuser "$ctl" logs verify --dir "$work/mine" --now 2026-01-03
[ $rc = 1 ] && grep -qx 'eve-2026-01-02.summary.json: error: cannot open: Permission denied' <<<"$out" &&
    ! grep -q 'not a JSON object' <<<"$out" || fail "verify of an unreadable summary: exit $rc, $out $err"
rm -rf "$work/mine"

# a day with both its plain and its compressed file (verify reads the
# plain one; the other's content does not matter): the notice is counted
rm -rf "$work/log" && "$tool" gen "$work/log" 2026-01-01 3 100 none >/dev/null
cp "$work/log/eve-2026-01-02.json" "$work/log/eve-2026-01-02.json.zst"
run "$ctl" logs verify --dir "$work/log" --now 2026-01-03
[ $rc = 0 ] && grep -q '^eve-2026-01-02.json: notice: a compressed copy exists too' <<<"$out" &&
    grep -q '^OK: 3 file(s), .*, 0 error(s), 1 notice(s)$' <<<"$out" ||
    fail "verify of a day with both files: exit $rc, $out"
rm "$work/log/eve-2026-01-02.json.zst"

# verify --since after the newest file: says that nothing was verified
run "$ctl" logs verify --dir "$work/log" --since 2026-02-01 --now 2026-01-03
[ $rc = 0 ] && [ "$out" = "$work/log: notice: no log file from 2026-02-01 on: nothing verified
NOTHING VERIFIED: 0 file(s), 0 line(s) checked, 0 error(s), 1 notice(s)" ] ||
    fail "verify --since after the log: exit $rc, $out"
# --since not before --until is a mistake, not an empty query
refused 2 "egwctl logs: --since 2026-01-03 is not before --until 2026-01-02" \
    "$ctl" logs query --dir "$work/log" --since 2026-01-03 --until 2026-01-02
refused 2 "egwctl logs: --since 2026-01-02 is not before --until 2026-01-02" \
    "$ctl" logs query --dir "$work/log" --since 2026-01-02 --until 2026-01-02
echo "logs_cli: ok"
