#!/usr/bin/env bash
# Golden tests of the nftables back end, in the manner of pfctl's regress:
# every tests/golden/nft/NAME.cfg, compiled with
#   egwctl policy compile --target nft $(cat NAME.args) NAME.cfg
# must give NAME.nft byte for byte. A change of the back end that changes a
# ruleset shows up here as a diff to review.
# EGW_REGEN=1 rewrites the expected files (review `git diff` before committing).
# Also: the command's errors (bad target, bad option, bad policy) and exit codes.
# Args: build dir, source dir.
set -euo pipefail
build=$(cd "${1:?usage: nft.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: nft.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
egwctl=$build/control/egwctl
dir=$src/tests/golden/nft
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail=0
n=0
cd "$dir"
for cfg in *.cfg; do
	name=${cfg%.cfg}
	args=()
	if [ -f "$name.args" ]; then
		read -r -a args < "$name.args"
	fi
	n=$((n + 1))
	if ! "$egwctl" policy compile --target nft "${args[@]}" "$cfg" \
		> "$tmp/$name.nft" 2> "$tmp/$name.err"; then
		echo "FAIL $name: egwctl policy compile failed:"
		cat "$tmp/$name.err"
		fail=1
		continue
	fi
	if [ "${EGW_REGEN:-0}" = 1 ]; then
		cp "$tmp/$name.nft" "$name.nft"
		echo "regenerated $name.nft"
	fi
	if [ ! -f "$name.nft" ]; then
		echo "FAIL $name: no expected file $name.nft (EGW_REGEN=1 writes it)"
		fail=1
	elif ! diff -u "$name.nft" "$tmp/$name.nft"; then
		echo "FAIL $name: the ruleset differs from $name.nft (above)"
		fail=1
	else
		echo "ok   $name"
	fi
done
[ "$n" -ge 3 ] || { echo "FAIL: only $n golden policies found in $dir"; exit 1; }

# expect STATUS MESSAGE-PART -- ARGS...: egwctl's exit status and stderr
expect() {
	local want=$1 msg=$2
	shift 3
	local rc=0
	"$egwctl" policy compile "$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
	if [ "$rc" != "$want" ] || ! grep -qF -- "$msg" "$tmp/err"; then
		echo "FAIL: egwctl policy compile $*: exit $rc (want $want), stderr:"
		cat "$tmp/err"
		echo "(wanted it to say: $msg)"
		fail=1
	elif [ -s "$tmp/out" ]; then
		echo "FAIL: egwctl policy compile $*: wrote a ruleset on error"
		fail=1
	else
		echo "ok   error: $*"
	fi
}
expect 2 "--target nft is required" -- lab.cfg
expect 2 "--target nft is required" -- --target pf lab.cfg
expect 2 "--queue-mode is native or mark" -- --target nft --queue-mode fast lab.cfg
expect 2 "bad number for --queue-count" -- --target nft --queue-count 0 lab.cfg
expect 2 "unknown option" -- --target nft --bogus x lab.cfg
expect 2 "bad option" -- --target nft --table 'egw; flush ruleset' lab.cfg
expect 2 "bad option" -- --target nft --inside 'a"b' lab.cfg
printf 'version = 2;\n' > "$tmp/bad.cfg"
expect 1 "bad.cfg:1" -- --target nft "$tmp/bad.cfg"

exit "$fail"
