#!/usr/bin/env bash
# egwctl's command line refuses what it cannot do in one line that names
# the command and what is wrong (exit 2), and says so where a message
# could mislead: getopt's complaints name "egwctl COMMAND [SUBCOMMAND]", an
# unknown report is named, --top takes 1..100000 only, a missing log
# directory is not "no log for DAY", and a --socket that is not a socket
# is not "Connection refused (is egw-controld running?)".
# Args: build dir, source dir.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
C=$build/control/egwctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect RC PATTERN ARGS...: exit status RC and a stderr line matching PATTERN
expect() {
	local want=$1 pat=$2 rc
	shift 2
	set +e
	"$C" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "egwctl $*: exit $rc, wanted $want ($(head -1 "$tmp/err"))"
	grep -qE -- "$pat" "$tmp/err" || fail "egwctl $*: no line like '$pat' in: $(head -3 "$tmp/err")"
}

"$build/tests/elog_tool" gen "$tmp/log" 2026-11-24 3 20 none >/dev/null

expect 2 "^egwctl logs query: unrecognized option '--bogus'" logs query --bogus
expect 2 "^egwctl logs verify: unrecognized option '--bogus'" logs verify --bogus
expect 2 "^egwctl stats: unrecognized option '--bogus'" stats --bogus
expect 2 "^egwctl report daily: unrecognized option '--bogus'" report daily --bogus
expect 2 "^egwctl report registry: unrecognized option '--bogus'" report registry --bogus
expect 2 "^egwctl report: unknown report 'bogus'" report bogus
expect 2 "^egwctl report: which report\\?" report
for n in abc 0 -1 100001 5x; do
	expect 2 "^egwctl report daily: --top $n: expected a number 1..100000" \
		report daily --dir "$tmp/log" --date 2026-11-25 --top "$n"
done
expect 2 "^egwctl report terminals: --since is not before --until" \
	report terminals --dir "$tmp/log" --config "$src/firmware/egw.cfg" \
	--since 2026-11-26 --until 2026-11-25
"$C" report daily --dir "$tmp/log" --date 2026-11-25 --top 2 >"$tmp/out" ||
	fail "report daily --top 2: exit $?"
grep -q "^Daily report 2026-11-25: 20 events" "$tmp/out" || fail "report daily --top 2: $(head -1 "$tmp/out")"
"$C" report daily --help >"$tmp/out" || fail "report daily --help: exit $?"
grep -q "^usage: egwctl report daily" "$tmp/out" || fail "report daily --help: no usage on stdout"
expect 2 "^egwctl report: $tmp/nosuch: No such file or directory" report daily --dir "$tmp/nosuch"
expect 2 "^egwctl report: $tmp/log/eve-2026-11-24.json: not a directory" \
	report daily --dir "$tmp/log/eve-2026-11-24.json"
: >"$tmp/plain"
expect 2 "^egwctl: $tmp/plain: not a socket \\(wrong --socket\\?\\)" stats --socket "$tmp/plain"
expect 2 "^egwctl: $tmp/plain: not a socket" flows --socket "$tmp/plain"
expect 2 "^egwctl: $tmp/none.sock: No such file or directory \\(is egw-controld running\\?\\)" \
	stats --socket "$tmp/none.sock"

# a policy without log.directory: the daemons' default, /var/log/egw
printf 'version = 1;\n' >"$tmp/nolog.cfg"
"$C" logs verify --json --config "$tmp/nolog.cfg" >"$tmp/out" 2>/dev/null || true
python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["dir"] == "/var/log/egw"' \
	"$tmp/out" || fail "no log.directory: not /var/log/egw: $(head -c 200 "$tmp/out")"
printf 'version = 1;\nlog: { directory = ""; };\n' >"$tmp/emptylog.cfg"
expect 2 "^$tmp/emptylog.cfg: log.directory is empty" logs query --config "$tmp/emptylog.cfg"

if [ "$failures" -ne 0 ]; then
	echo "egwctl-cli: $failures failure(s)" >&2
	exit 1
fi
echo "egwctl-cli: ok"
