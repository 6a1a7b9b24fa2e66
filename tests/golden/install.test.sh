#!/usr/bin/env bash
# `cmake --install BUILD --prefix /usr` (staged with DESTDIR) lays out what
# firmware/systemd's units start and name: every unit's ExecStart program and
# Documentation file is installed where the unit says, egwctl is on the
# PATH's bin, the example policy passes `egwctl policy check`, and nothing
# is written to /etc (the policy is the operator's).
# Args: build dir, source dir.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

DESTDIR=$root cmake --install "$build" --prefix /usr >/dev/null
[ -x "$root/usr/bin/egwctl" ] || fail "no /usr/bin/egwctl"
[ -x "$root/usr/sbin/egw-controld" ] || fail "no /usr/sbin/egw-controld"
[ ! -e "$root/etc" ] || fail "install wrote under /etc: $(find "$root/etc" | head -3)"
units=("$root"/usr/lib/systemd/system/egw-*.service)
[ "${#units[@]}" -ge 3 ] || fail "units installed: ${units[*]}"
for u in "${units[@]}"; do
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$u")
	case $exe in
	/bin/*) ;;   # the system's own (sh)
	*) [ -x "$root$exe" ] || fail "$(basename "$u"): ExecStart $exe is not installed" ;;
	esac
	doc=$(sed -n 's/^Documentation=file://p' "$u")
	[ -z "$doc" ] || [ -f "$root$doc" ] || fail "$(basename "$u"): Documentation $doc is not installed"
done
cfg=$root/usr/share/doc/egw/examples/egw.cfg
[ -f "$cfg" ] || fail "no example policy"
# the example names the lab's geo database beside it: check it in its own folder
"$root/usr/bin/egwctl" policy check "$src/firmware/egw.cfg" >/dev/null ||
	fail "the example policy does not pass policy check"
cmp -s "$cfg" "$src/firmware/egw.cfg" || fail "the example policy is not firmware/egw.cfg"

if [ "$failures" -ne 0 ]; then
	echo "install: $failures failure(s)" >&2
	exit 1
fi
echo "install: ok"
