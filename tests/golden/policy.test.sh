#!/usr/bin/env bash
# Golden tests of `egwctl policy check` (pfctl regress style), run from
# tests/golden/policy/ so that file names in messages are relative:
#   bad/NAME.cfg   must exit 1 with stderr exactly bad/NAME.err, stdout empty
#   good/NAME.cfg  must exit 0 with stdout exactly good/NAME.out, stderr empty
# Absolute paths of ../shared (geo fixtures) print as @SHARED@. Also: usage
# errors exit 2; the shipped policy firmware/egw.cfg and the contract's
# example (../shared/spec/example.cfg, with the lab geo DB) pass.
# EGW_GOLDEN_UPDATE=1 rewrites the expected files (review the diff!).
# Args: build dir, source dir.
set -euo pipefail
build=$(cd "${1:?usage: policy.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: policy.test.sh BUILD_DIR SOURCE_DIR}" && pwd -P)
egwctl=$build/control/egwctl
shared=$(cd "$src/.." && pwd -P)/shared
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

run() { # args...; sets rc, writes $tmp/out, $tmp/err
	set +e
	"$egwctl" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	set -e
	sed -i -e "s|$shared|@SHARED@|g" "$tmp/out" "$tmp/err"
}

compare() { # expected-file actual-file what
	if [ "${EGW_GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$2" "$1"
		return
	fi
	if [ ! -f "$1" ]; then
		fail "$3: expected file $1 missing"
		return
	fi
	diff -u "$1" "$2" >&2 || fail "$3: output differs from $1"
}

cd "$src/tests/golden/policy"
n_bad=0 n_good=0
for cfg in bad/*.cfg; do
	n_bad=$((n_bad + 1))
	run policy check "$cfg"
	[ "$rc" -eq 1 ] || fail "$cfg: exit $rc, expected 1"
	[ ! -s "$tmp/out" ] || fail "$cfg: unexpected stdout: $(cat "$tmp/out")"
	[ -s "$tmp/err" ] || fail "$cfg: no error reported"
	compare "${cfg%.cfg}.err" "$tmp/err" "$cfg"
done
for cfg in good/*.cfg; do
	n_good=$((n_good + 1))
	run policy check "$cfg"
	[ "$rc" -eq 0 ] || fail "$cfg: exit $rc, expected 0: $(cat "$tmp/err")"
	[ ! -s "$tmp/err" ] || fail "$cfg: unexpected stderr: $(cat "$tmp/err")"
	compare "${cfg%.cfg}.out" "$tmp/out" "$cfg"
done
for exp in bad/*.err good/*.out; do
	[ -f "${exp%.*}.cfg" ] || fail "$exp has no policy beside it"
done
[ "$n_bad" -ge 10 ] && [ "$n_good" -ge 3 ] || fail "too few golden cases ($n_bad bad, $n_good good)"

# usage errors: exit 2, a usage line on stderr
for args in "policy" "policy check" "policy check a b" "policy frob x" "policy check -x"; do
	# shellcheck disable=SC2086
	run $args
	[ "$rc" -eq 2 ] || fail "egwctl $args: exit $rc, expected 2"
	grep -q usage "$tmp/err" || fail "egwctl $args: no usage message"
done
run policy check does-not-exist.cfg
[ "$rc" -eq 1 ] && grep -q "^does-not-exist.cfg: cannot open the policy: No such file" "$tmp/err" ||
	fail "missing file: exit $rc, $(cat "$tmp/err")"

# --json: the same verdict, errors and summary as a document
for f in bad/registry.cfg bad/ranges.cfg; do
	run policy check --json "$f"
	[ "$rc" -eq 1 ] || fail "check --json $f: exit $rc"
	"$egwctl" policy check "$f" 2>"$tmp/text" >/dev/null || true
	python3 - "$tmp/out" "$tmp/text" "$f" <<'PY' || fail "check --json $f: $(head -c 300 "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read().splitlines()
assert d["file"] == sys.argv[3] and d["ok"] is False and "summary" not in d, d
got = ["%s:%d: %s" % (e["file"], e["line"], e["message"]) if e["line"] else
       "%s: %s" % (e["file"], e["message"]) for e in d["errors"]]
assert got == text, (got, text)
PY
done
run policy check a.cfg b.cfg
[ "$rc" -eq 2 ] && grep -q "one policy file only ('b.cfg' is a second)" "$tmp/err" ||
	fail "two files: exit $rc: $(head -1 "$tmp/err")"
run policy compile --target nft ../../../firmware/egw.cfg --json
[ "$rc" -eq 2 ] && grep -q "unknown option '--json'" "$tmp/err" ||
	fail "compile --json: exit $rc: $(head -1 "$tmp/err")"

# the shipped default policy passes
cd "$src"
run policy check firmware/egw.cfg
[ "$rc" -eq 0 ] || fail "firmware/egw.cfg: exit $rc: $(cat "$tmp/err")"
grep -q "^firmware/egw.cfg: OK: 2 units, 4 terminals, 2 profiles, 6 rules, 2 categories, 2 geo classes" \
	"$tmp/out" || fail "firmware/egw.cfg summary: $(cat "$tmp/out")"
run policy check firmware/egw.cfg --json
[ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
assert d["ok"] and d["errors"] == [] and (s["units"], s["terminals"], s["profiles"], s["rules"]) == (2, 4, 2, 6), d
assert [g["code"] for g in s["geo_classes"]] == ["CN", "CN-GD"], s
' "$tmp/out" || fail "check --json firmware/egw.cfg: exit $rc: $(head -c 300 "$tmp/out")"

# and so does the contract's example, next to the lab geo DB it names
if [ -f "$shared/spec/example.cfg" ]; then
	mkdir "$tmp/ex"
	cp "$shared/spec/example.cfg" "$tmp/ex/example.cfg"
	ln -s "$src/firmware/lab" "$tmp/ex/lab"
	run policy check "$tmp/ex/example.cfg"
	[ "$rc" -eq 0 ] || fail "spec example.cfg: exit $rc: $(cat "$tmp/err")"
fi

# egw-controld refuses a policy with more errors than its message holds:
# whole lines, then how many more and where to see them all
python3 - "$tmp/many.cfg" <<'PY'
import sys
l = ['version = 1;', 'gateway: { inside = "i"; outside = "o"; punt = "p"; };', 'units = (']
l += ['  { name = "u%d"; prefixes = [ "10.%d.0.0/16" ]; profile = "no_such_profile_%d"; },'
      % (i, i, i) for i in range(250)]
l[-1] = l[-1].rstrip(',')
l += [');', 'profiles = ( { name = "p"; rules = ( { action = "allow"; } ); } );']
open(sys.argv[1], 'w').write('\n'.join(l) + '\n')
PY
set +e
timeout 20 "$build/control/egw-controld" --config "$tmp/many.cfg" 2>"$tmp/err" >/dev/null
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "egw-controld started with 250 policy errors"
grep -v -e "^$tmp/many.cfg:[0-9]*: units\[\"u[0-9]*\"\].profile: profile \"no_such_profile_[0-9]*\" does not exist (profiles: \"p\")\$" \
	-e '^egw-controld: bad policy, not starting$' \
	-e "^\.\.\. and [0-9]* more error line(s): egwctl policy check $tmp/many.cfg lists them all\$" \
	"$tmp/err" > "$tmp/odd" || true
[ ! -s "$tmp/odd" ] || fail "egw-controld's policy errors cut mid-line: $(head -3 "$tmp/odd")"
grep -q '^\.\.\. and [0-9]* more error line(s)' "$tmp/err" ||
	fail "egw-controld does not say how many errors it left out"

if [ "$failures" -ne 0 ]; then
	echo "policy.test.sh: $failures failure(s)" >&2
	exit 1
fi
echo "policy.test.sh: $n_bad bad and $n_good good policies as expected"
