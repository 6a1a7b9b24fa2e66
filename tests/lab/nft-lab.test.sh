#!/usr/bin/env bash
# The kernel-mode ruleset alone against the lab's scenario suite: the lab
# (firmware/lab/lab.sh) comes up in kernel mode, its gateway namespace loads
# `egwctl policy compile --target nft --queue-mode mark` of firmware/egw.cfg
# and nothing else: no egw-controld, no NFQUEUE rule, so what the ruleset
# punts simply passes. Every scenario must then give the policy's
# expectation, except those that need the control plane to read a name
# (NXDOMAIN answers, SNI and Host resets): for these the expectation is what
# the resolver or server itself answers (the bridge column), which also
# proves the ruleset let them through to the control plane's turn.
# egw-controld's own test runs the full suite with it in place.
# Args: BUILD_DIR SOURCE_DIR; runs as root.
set -uo pipefail
build=$(cd "${1:?usage: nft-lab.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: nft-lab.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
lab=$src/firmware/lab/lab.sh
prefix=egwt-nft-l$$
tmp=$(mktemp -d)
cleanup() {
	bash "$lab" down --prefix "$prefix" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$build/control/egwctl" policy compile --target nft --queue-mode mark \
	--inside egw-in --outside egw-out "$src/firmware/egw.cfg" > "$tmp/egw.nft" || exit 1
chmod 0755 "$tmp"
chmod 0644 "$tmp/egw.nft"

if ! bash "$lab" up --prefix "$prefix" --mode kernel --build "$build" \
	--gw-cmd "nft -f '$tmp/egw.nft' && exec sleep 3600"; then
	echo "FAIL: the lab did not come up with the ruleset loaded"
	exit 1
fi

# shellcheck source=tests/lab/scenarios.sh
source "$src/tests/lab/scenarios.sh"
sc_init "$prefix"
names=""
for id in canary mail-dns mail-dns-aaaa canary-tcp mail-dns-tcp mail-dns-pipelined dns-tcp-split \
	gmail-sni mail-http-host; do
	names="$names $id=$(sc_expect bridge "$id")"
done
SC_OVERRIDE="$names" sc_suite policy
