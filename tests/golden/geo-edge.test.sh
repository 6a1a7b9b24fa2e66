#!/usr/bin/env bash
# Geo compiler edge cases on a database built for them
# (tests/golden/data/geo-edge.json, written by firmware/lab/make-geo-db.pl):
# an IPv6 network (::/64) that holds the whole IPv4 tree, networks of two
# regions that merge into one country prefix, a region spelled out with a
# space. The compiled lists must equal geo-edge.expected, and 5,000
# fixed-seed lookups must agree with libmaxminddb.
# Args: build dir, source dir.
set -euo pipefail
build=${1:?usage: geo-edge.test.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: geo-edge.test.sh BUILD_DIR SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

perl "$src/firmware/lab/make-geo-db.pl" "$src/tests/golden/data/geo-edge.json" "$tmp/edge.mmdb"
EGW_GEO_LIST=1 "$build/tests/geo_refcheck" "$tmp/edge.mmdb" country.iso_code \
    subdivisions.0.iso_code 5000 20261127 CN US US-WA "MN-Inner Mongolia" >"$tmp/out"
grep -E '^[A-Z][A-Z -]* [0-9a-f:./]+$' "$tmp/out" >"$tmp/lists"
if ! diff -u "$src/tests/golden/data/geo-edge.expected" "$tmp/lists"; then
    echo "FAIL: compiled lists differ from geo-edge.expected" >&2
    exit 1
fi
grep 'disagreements' "$tmp/out"
echo "geo-edge: lists as expected, lookups agree"
