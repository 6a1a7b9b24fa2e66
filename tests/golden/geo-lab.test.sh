#!/usr/bin/env bash
# The lab's geo DB (firmware/lab/geo-lab.mmdb) answers as the address plan
# says (../shared/spec/interfaces.md): regenerate it from its source with
# firmware/lab/make-geo-db.pl and check both the fresh and the committed file
# with mmdblookup, address by address.
# Args: build dir, source dir.
set -euo pipefail
src=${2:?usage: geo-lab.test.sh BUILD_DIR SOURCE_DIR}
lab=$src/firmware/lab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

perl "$lab/make-geo-db.pl" "$lab/geo-lab.json" "$tmp/geo-lab.mmdb"

# address  country  region ("-": none; country "-": not in the database)
plan='
198.51.100.0    CN GD
198.51.100.53   CN GD
198.51.100.54   CN GD
198.51.100.80   CN GD
198.51.100.255  CN GD
::ffff:198.51.100.80 CN GD
192.0.2.0       CN 11
192.0.2.80      CN 11
192.0.2.255     CN 11
203.0.113.53    US -
203.0.113.80    US -
203.0.113.111   US -
2001:db8:ff::   US -
2001:db8:ff::80 US -
2001:db8:ff:ffff:ffff:ffff:ffff:ffff US -
198.51.101.0    - -
192.0.3.1       - -
203.0.114.1     - -
10.1.0.10       - -
10.2.0.20       - -
2001:db8:1::10  - -
2001:db8:100::1 - -
'

# field DB ADDR PATH...: the string at PATH, "-" when the path or the
# address is absent; any other mmdblookup failure fails the test.
field() {
    local db=$1 addr=$2 out rc=0
    shift 2
    out=$(mmdblookup -f "$db" -i "$addr" "$@" 2>&1) || rc=$?
    if grep -q '<utf8_string>' <<<"$out"; then
        sed -n 's/^ *"\(.*\)" <utf8_string>$/\1/p' <<<"$out"
    elif grep -qE 'Could not find an entry|lookup path does not match' <<<"$out"; then
        echo -
    else
        echo "mmdblookup $db $addr $* failed (rc $rc): $out" >&2
        return 1
    fi
}

fail=0
checked=0
for db in "$tmp/geo-lab.mmdb" "$lab/geo-lab.mmdb"; do
    while read -r addr want_c want_r; do
        [ -n "$addr" ] || continue
        got_c=$(field "$db" "$addr" country iso_code)
        got_r=$(field "$db" "$addr" subdivisions 0 iso_code)
        if [ "$got_c" != "$want_c" ] || [ "$got_r" != "$want_r" ]; then
            echo "FAIL: $db: $addr is $got_c/$got_r, the plan says $want_c/$want_r" >&2
            fail=1
        fi
        checked=$((checked + 1))
    done <<<"$plan"
done

# The committed file is the build of the committed source: same tree shape.
meta() {
    mmdblookup -f "$1" -i 203.0.113.80 -v 2>/dev/null |
        grep -E 'Node count|Record size|IP version|Type:'
}
meta "$tmp/geo-lab.mmdb" >"$tmp/fresh.meta"
meta "$lab/geo-lab.mmdb" >"$tmp/committed.meta"
if [ "$(wc -l <"$tmp/fresh.meta")" -ne 4 ]; then
    echo "FAIL: no metadata from mmdblookup -v" >&2
    fail=1
elif ! diff -u "$tmp/fresh.meta" "$tmp/committed.meta" >&2; then
    echo "FAIL: committed geo-lab.mmdb differs from a fresh build of geo-lab.json" >&2
    fail=1
fi

[ "$fail" -eq 0 ] || exit 1
echo "geo-lab: $checked lookups agree with the plan"
