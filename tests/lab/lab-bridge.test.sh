#!/usr/bin/env bash
# The lab itself, with no egw in it: lab.sh up --mode bridge (the gateway
# namespace just bridges egw-in and egw-out), then
#  1. the topology is what interfaces.md says (names, MACs, offloads);
#  2. every scenario passes with bridge expectations (nothing enforced);
#  3. every check fails when told to expect what did not happen (a check that
#     cannot fail proves nothing);
#  4. the checks see blocking when something in the wire blocks: nft bridge
#     rules in the gateway namespace stand in for a gateway (drops, a
#     stateless DNS redirect) and the checks must observe exactly that (TCP
#     resets: lab-kernel.test.sh, this kernel has no bridge reject);
#  5. down leaves nothing: no namespace, no process, no state.
# Args: BUILD_DIR SOURCE_DIR (ctest); runs as root.
set -uo pipefail
src=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
lab=$src/firmware/lab/lab.sh
prefix=egwt-lab-$$
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
cleanup() { bash "$lab" down --prefix "$prefix" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || { echo "lab-bridge: needs root"; exit 1; }

# shellcheck source=scenarios.sh
source "$src/tests/lab/scenarios.sh"

if ! bash "$lab" up --prefix "$prefix" --mode bridge; then
	echo "FAIL: lab.sh up"
	exit 1
fi
sc_init "$prefix" || exit 1
x() { local h=$1; shift; ip netns exec "$prefix-$h" "$@"; }

# --- 1. topology -------------------------------------------------------------
if bash "$lab" up --prefix "$prefix" --mode bridge >/dev/null 2>&1; then
	fail "a second up with the same prefix was accepted"
else
	ok "a second up with prefix $prefix is refused"
fi
st=$(bash "$lab" status --prefix "$prefix") || fail "status of a running lab failed"
grep -q 'mode bridge' <<<"$st" || fail "status does not show the lab's mode"
for ifc in egw-in egw-out; do
	x gw ip link show "$ifc" >/dev/null 2>&1 || fail "gateway has no $ifc"
	feats=$(x gw ethtool -k "$ifc")
	for f in tx-checksumming tcp-segmentation-offload generic-segmentation-offload \
		generic-receive-offload rx-checksumming; do
		grep -q "^$f: off" <<<"$feats" || fail "$ifc: $f not off"
	done
done
declare -A macs=([fin1]=02:00:0a:01:00:0a [fin2]=02:00:0a:01:00:0b [health]=02:00:0a:02:00:14)
for h in "${!macs[@]}"; do
	grep -q "link/ether ${macs[$h]} " <<<"$(x "$h" ip link show eth0)" || fail "$h has not MAC ${macs[$h]}"
done
grep -q '2001:db8:1::10/48' <<<"$(x fin1 ip -6 addr show dev eth0)" || fail "fin1 has no 2001:db8:1::10"
grep -q 'inet 10.1.0.10/16' <<<"$(bash "$lab" exec --prefix "$prefix" fin1 ip -o -4 addr show dev eth0)" ||
	fail "lab.sh exec does not run in fin1's namespace"
ok "topology checked"

# --- 2. everything reachable -----------------------------------------------
echo "--- scenarios, bridge expectations"
sc_suite bridge || fail "scenarios with bridge expectations"

# --- 3. every check can fail --------------------------------------------------
# For each scenario: the policy's expectation (where it differs) and a plainly
# wrong one must both be reported as failures.
echo "--- negative counterparts (each line must be FAIL)"
while read -r id eb ep check; do
	wrong=("$ep")
	case $eb in
	ok) wrong+=(blocked) ;;
	=*) wrong+=(nxdomain "=192.0.2.1") ;;
	esac
	for w in $(printf '%s\n' "${wrong[@]}" | sort -u); do
		[ "$w" = "$eb" ] && continue
		# shellcheck disable=SC2086
		if $check "$w" </dev/null; then
			fail "$id: check passed while expecting '$w' in bridge mode"
		fi
	done
done < <(sc_rows)

SC_OVERRIDE="fin1-ping=blocked" sc_suite bridge fin1-ping dns-foreign &&
	fail "SC_OVERRIDE did not change an expectation"
SC_OVERRIDE="dns-foreign=ok rogue-ping=ok" sc_suite policy dns-foreign rogue-ping ||
	fail "SC_OVERRIDE of two policy expectations"
sc_suite policy fin1-ping dns-foreign && fail "policy expectations met in bridge mode"

# --- 4. the checks observe blocking ----------------------------------------
echo "--- stand-in enforcement in the gateway namespace (nft bridge rules)"
x gw nft -f - <<'EOF' || fail "could not load the stand-in rules"
table bridge egwlabtest {
	chain forward_chain {
		type filter hook forward priority 0; policy accept;
		ether saddr 02:00:0b:ad:00:0a drop
		ip saddr 10.1.0.99 drop
		ip saddr 10.2.0.20 ip daddr 203.0.113.80 drop
		ip daddr 203.0.113.111 tcp dport 853 drop
		ip saddr 10.1.0.11 ip daddr 203.0.113.53 udp dport 53 ip daddr set 198.51.100.53
		ip daddr 10.1.0.11 ip saddr 198.51.100.53 udp sport 53 ip saddr set 203.0.113.53
	}
}
EOF
sc_ping rogue 198.51.100.80 blocked || fail "dropped rogue ping not seen as blocked"
sc_http rogue 198.51.100.80 blocked || fail "dropped rogue http not seen as blocked"
sc_http rogue 198.51.100.80 ok && fail "dropped rogue http seen as ok"
sc_spoof 198.51.100.80 blocked || fail "dropped spoofed probe not seen as blocked"
sc_probe fin1 "" 198.51.100.80 ok || fail "fin1's probe lost while the spoofer is dropped"
sc_http health 203.0.113.80 blocked || fail "dropped health -> US not seen as blocked"
sc_http health 198.51.100.80 ok || fail "health -> CN lost by the stand-in rules"
sc_tls fin1 203.0.113.111 853 dns.google blocked || fail "dropped DoT not seen as blocked"
sc_tls fin1 203.0.113.111 853 dns.google ok && fail "dropped DoT seen as ok"
sc_tls fin1 203.0.113.111 853 dns.google reset && fail "dropped DoT seen as a reset"
sc_https fin1 203.0.113.111 dns.google ok || fail "DoH stand-in on 443 lost by a rule for 853"
sc_dns fin2 203.0.113.53 redirected || fail "redirected DNS not seen as redirected"
sc_dns fin2 203.0.113.53 ok && fail "redirected DNS seen as answered by the foreign resolver"
sc_dns_name fin2 203.0.113.53 www.example.cn A =198.51.100.80 || fail "redirected A answer"
sc_dns fin1 203.0.113.53 ok || fail "fin1's DNS redirected by a rule for fin2"
sc_dns_name fin1 198.51.100.53 nope.nx.lab A nxdomain || fail "NXDOMAIN not seen as nxdomain"
sc_dns_name fin1 198.51.100.53 nope.nx.lab A answer && fail "NXDOMAIN seen as an answer"
sc_ping fin1 198.51.100.99 blocked || fail "ping to nowhere not seen as blocked"
sc_http fin1 198.51.100.53 blocked || fail "http to a port nobody serves not seen as blocked"
x gw nft delete table bridge egwlabtest || fail "could not remove the stand-in rules"
sc_http rogue 198.51.100.80 ok || fail "rogue not reachable again after the rules went"

# --- 5. down leaves nothing -------------------------------------------------
pids=$(awk '{print $1}' "$SC_STATE/pids")
[ -n "$pids" ] || fail "no recorded processes"
bash "$lab" down --prefix "$prefix" || fail "lab.sh down failed"
left=$(ip netns list | awk '{print $1}' | grep -c "^$prefix-" || true)
[ "$left" = 0 ] || fail "$left namespaces of $prefix left after down"
for p in $pids; do
	[ -d "/proc/$p" ] && fail "process $p ($(cat "/proc/$p/comm" 2>/dev/null)) left after down"
done
[ -e "$SC_STATE" ] && fail "state directory $SC_STATE left after down"
bash "$lab" down --prefix "$prefix" || fail "a second down failed"
bash "$lab" status --prefix "$prefix" >/dev/null 2>&1 && fail "status says a downed lab is up"
ok "down left nothing"

echo "lab-bridge: $fails failure(s)"
[ "$fails" = 0 ]
