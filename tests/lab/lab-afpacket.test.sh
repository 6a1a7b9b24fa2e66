#!/usr/bin/env bash
# The lab's dataplane mode carries real traffic through DPDK's net_af_packet:
# dpdk-testpmd (io forwarding between egw-in and egw-out, as the fast path
# will sit) is started by lab.sh --gw-cmd in the gateway namespace, and every
# scenario must pass with bridge expectations, including bulk TCP over IPv4
# and IPv6; and with veth offloads turned back on the same TCP check must
# fail (the reason lab.sh turns them off). down must remove the DPDK runtime
# directory of the prefix too.
# Args: BUILD_DIR SOURCE_DIR (ctest); runs as root. Polls one lcore for the
# ~15 s it runs.
set -uo pipefail
src=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
lab=$src/firmware/lab/lab.sh
prefix=egwt-lab-a$$
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cleanup() { bash "$lab" down --prefix "$prefix" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || { echo "lab-afpacket: needs root"; exit 1; }
command -v dpdk-testpmd >/dev/null || { echo "FAIL: dpdk-testpmd missing (firmware/setup.sh installs dpdk)"; exit 1; }

# shellcheck source=scenarios.sh
source "$src/tests/lab/scenarios.sh"

pmd="exec dpdk-testpmd -l 0,1 --no-huge -m 256 --no-pci --file-prefix=$prefix"
pmd+=" --vdev=net_af_packet0,iface=egw-in,framecnt=4096"
pmd+=" --vdev=net_af_packet1,iface=egw-out,framecnt=4096"
pmd+=" -- --forward-mode=io --auto-start --stats-period 3600 --nb-cores=1 --total-num-mbufs=8192"
if ! bash "$lab" up --prefix "$prefix" --mode dataplane --gw-cmd "$pmd"; then
	echo "FAIL: lab.sh up with testpmd as the dataplane"
	exit 1
fi
sc_init "$prefix" || exit 1
grep -q 'Start automatic packet forwarding\|io packet forwarding' "$SC_STATE/gw1.log" ||
	fail "testpmd is not forwarding: $(tail -n 5 "$SC_STATE/gw1.log")"
grep -q PROMISC <<<"$(ip netns exec "$prefix-gw" ip -o link show egw-in)" || fail "egw-in is not promiscuous"

echo "--- scenarios through net_af_packet (testpmd io forwarding)"
sc_suite bridge || fail "scenarios through net_af_packet"

# The offload settings are what makes it work: turned back on along fin1's
# path, TCP through net_af_packet stalls (checksums left to hardware that
# is not there), so the same check must now fail.
echo "--- offloads on along fin1's path: TCP must stall"
for spec in "fin1 eth0" "sw p-fin1" "sw p-gw" "gw egw-in" "gw egw-out" "rtr to-gw"; do
	read -r h ifc <<<"$spec"
	ip netns exec "$prefix-$h" ethtool -K "$ifc" tx on tso on gso on gro on >/dev/null 2>&1
done
SC_TIMEOUT=2 sc_http fin1 198.51.100.80 ok && fail "TCP through net_af_packet worked with offloads on: the lab's setting proves nothing"

pids=$(awk '{print $1}' "$SC_STATE/pids")
bash "$lab" down --prefix "$prefix" || fail "down"
for p in $pids; do
	[ -d "/proc/$p" ] && fail "process $p left after down"
done
[ -e "/var/run/dpdk/$prefix" ] && fail "DPDK runtime directory /var/run/dpdk/$prefix left"
n=$(ip netns list | awk '{print $1}' | grep -c "^$prefix-" || true)
[ "$n" = 0 ] || fail "$n namespaces left"

echo "lab-afpacket: $fails failure(s)"
[ "$fails" = 0 ]
