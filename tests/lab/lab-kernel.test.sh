#!/usr/bin/env bash
# The lab's kernel mode and its gateway hooks, with stand-ins for egw:
#  1. kernel mode: the gateway namespace routes (10.1.0.1, 10.2.0.1,
#     2001:db8:1::1 on egw-in); a --gw-cmd hook runs inside it, sees the lab's
#     environment, and is ended by down;
#  2. every scenario passes with bridge expectations (plain routing);
#  3. an nftables ruleset in the gateway (what egw-controld --kernel-mode will
#     load) stands in for enforcement: TCP resets of the first data segment
#     (as the gateway resets a ClientHello), a reset SYN (refused), DNS DNAT
#     redirect, drops;
#     the checks must observe exactly that;
#  4. dataplane mode: up starts the given command in the gateway namespace and
#     waits until fin1 reaches 198.51.100.80 through it (a stand-in that
#     bridges the raw ports after a delay);
#  5. a gateway command that dies makes up fail and leave nothing behind;
#  6. demo --once without a built dataplane runs the bridge-mode table.
# Args: BUILD_DIR SOURCE_DIR (ctest); runs as root.
set -uo pipefail
src=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
lab=$src/firmware/lab/lab.sh
prefix=egwt-lab-k$$
fails=0
fake=

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
cleanup() {
	local p
	for p in "$prefix" "$prefix-d" "$prefix-f" "$prefix-m"; do
		bash "$lab" down --prefix "$p" >/dev/null 2>&1 || true
	done
	[ -z "$fake" ] || rm -rf "$fake"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || { echo "lab-kernel: needs root"; exit 1; }

# shellcheck source=scenarios.sh
source "$src/tests/lab/scenarios.sh"

# nothing_left PREFIX PIDS...: no namespace, no state, none of the processes.
nothing_left() {
	local p=$1; shift
	local n
	n=$(ip netns list | awk '{print $1}' | grep -c "^$p-" || true)
	[ "$n" = 0 ] || fail "$n namespaces of $p left"
	[ -e "/run/egw-lab/$p" ] && fail "state of $p left"
	local pid
	for pid in "$@"; do
		[ -d "/proc/$pid" ] && fail "process $pid of $p left"
	done
	return 0
}

# --- 1. kernel mode and the hook -------------------------------------------
# shellcheck disable=SC2016 # expanded by the hook, in the gateway namespace
hook='ip -o addr show dev egw-in > "$EGW_LAB_STATE/hook.out"; echo "$EGW_LAB_MODE $EGW_LAB_PREFIX" >> "$EGW_LAB_STATE/hook.out"; exec sleep 600'
if ! bash "$lab" up --prefix "$prefix" --mode kernel --gw-cmd "$hook"; then
	echo "FAIL: lab.sh up --mode kernel"
	exit 1
fi
sc_init "$prefix" || exit 1
x() { local h=$1; shift; ip netns exec "$prefix-$h" "$@"; }

out=$(cat "$SC_STATE/hook.out" 2>/dev/null)
for want in 'inet 10.1.0.1/16' 'inet 10.2.0.1/16' 'inet6 2001:db8:1::1/48' "kernel $prefix"; do
	grep -q "$want" <<<"$out" || fail "hook did not see '$want' in the gateway namespace"
done
hook_pid=$(awk '$3 == "gw1" {print $1}' "$SC_STATE/pids")
if [ -n "$hook_pid" ] && [ -d "/proc/$hook_pid" ]; then
	[ "$(stat -L -c %i "/proc/$hook_pid/ns/net")" = "$(stat -L -c %i "/run/netns/$prefix-gw")" ] ||
		fail "the hook does not run in the gateway namespace"
else
	fail "the hook process is not running"
fi
grep -q 'via 10.1.0.1' <<<"$(x fin1 ip route show default)" || fail "fin1's default route is not 10.1.0.1"
ok "kernel mode topology and hook"

# --- 2. routed, nothing enforced --------------------------------------------
echo "--- scenarios, bridge expectations (kernel mode, plain routing)"
sc_suite bridge || fail "scenarios with bridge expectations in kernel mode"

# --- 3. a stand-in ruleset --------------------------------------------------
echo "--- stand-in nftables ruleset in the gateway"
x gw nft -f - <<'EOF' || fail "could not load the stand-in ruleset"
table inet egwlabtest {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip saddr 10.1.0.0/16 ip daddr 203.0.113.53 udp dport 53 dnat ip to 198.51.100.53
		ip saddr 10.1.0.0/16 ip daddr 203.0.113.53 tcp dport 53 dnat ip to 198.51.100.53
	}
	chain forward_chain {
		type filter hook forward priority filter; policy accept;
		iifname "egw-in" ip saddr 10.1.0.99 drop
		iifname "egw-in" ip daddr 203.0.113.111 tcp dport 853 reject with tcp reset
		iifname "egw-in" ip saddr 10.1.0.10 ip daddr 203.0.113.80 tcp dport 443 tcp flags & psh == psh reject with tcp reset
		iifname "egw-in" ip6 daddr 2001:db8:ff::80 tcp dport 443 tcp flags & psh == psh reject with tcp reset
		iifname "egw-in" ip saddr 10.2.0.20 ip daddr 203.0.113.80 drop
	}
}
EOF
sc_dns fin1 203.0.113.53 redirected || fail "DNAT redirect (udp) not seen as redirected"
sc_dns fin1 203.0.113.53 tcp redirected || fail "DNAT redirect (tcp) not seen as redirected"
sc_dns fin1 203.0.113.53 ok && fail "redirected DNS seen as answered by the foreign resolver"
sc_dns_name fin1 203.0.113.53 www.example.cn A =198.51.100.80 || fail "redirected A answer"
sc_dns health 203.0.113.53 ok || fail "health's DNS redirected by a rule for 10.1/16"
sc_tls fin1 203.0.113.111 853 dns.google refused || fail "DoT SYN reset not seen as refused"
sc_tls fin1 203.0.113.111 853 dns.google blocked || fail "refused is not a kind of blocked"
sc_tls fin1 203.0.113.111 853 dns.google reset && fail "a refused SYN seen as a reset connection"
sc_https fin1 203.0.113.80 gmail.com blocked || fail "a reset is not a kind of blocked"
sc_https fin1 203.0.113.80 gmail.com reset || fail "TLS reset not seen as reset"
sc_https fin1 203.0.113.80 gmail.com ok && fail "reset TLS seen as ok"
sc_https fin2 203.0.113.80 gmail.com ok || fail "fin2's TLS reset by a rule for fin1"
sc_https fin1 2001:db8:ff::80 web6.example.com reset || fail "IPv6 TLS reset not seen as reset"
sc_http fin1 2001:db8:ff::80 web6.example.com ok || fail "IPv6 HTTP lost by a rule for 443"
sc_http rogue 198.51.100.80 blocked || fail "dropped rogue not seen as blocked"
sc_http rogue 198.51.100.80 reset && fail "a drop seen as a reset"
sc_http health 203.0.113.80 blocked || fail "dropped health -> US not seen as blocked"
sc_http health 198.51.100.80 ok || fail "health -> CN lost by the stand-in ruleset"
x gw nft delete table inet egwlabtest || fail "could not remove the stand-in ruleset"

pids=$(awk '{print $1}' "$SC_STATE/pids")
bash "$lab" down --prefix "$prefix" || fail "down (kernel mode)"
# shellcheck disable=SC2086 # one argument per PID
nothing_left "$prefix" $pids
ok "kernel mode down"

# --- 4. dataplane mode: the hook and the wait -------------------------------
fwd='sleep 2; ip link add br9 type bridge; ip link set egw-in master br9; ip link set egw-out master br9; ip link set br9 up; exec sleep 600'
if bash "$lab" up --prefix "$prefix-d" --mode dataplane --gw-cmd "$fwd"; then
	sc_init "$prefix-d" || fail "no state for $prefix-d"
	sc_suite bridge fin1-ping fin1-https fin1-v6-http dns-foreign health-us || fail "scenarios through the stand-in dataplane"
	grep -q 'inet ' <<<"$(ip netns exec "$prefix-d-gw" ip -o addr show dev egw-in)" &&
		fail "dataplane mode: egw-in has an address"
	pids=$(awk '{print $1}' "$SC_STATE/pids")
	bash "$lab" down --prefix "$prefix-d" || fail "down (dataplane mode)"
	# shellcheck disable=SC2086
	nothing_left "$prefix-d" $pids
	ok "dataplane mode waits for forwarding"
else
	fail "up --mode dataplane with a forwarding stand-in"
fi

# --- 5. a failing gateway command ------------------------------------------
err=$(bash "$lab" up --prefix "$prefix-f" --mode dataplane --gw-cmd 'echo broken-port >&2; exit 3' 2>&1)
rc=$?
[ "$rc" != 0 ] || fail "up succeeded although the gateway command died"
grep -q 'gateway command gw1 exited' <<<"$err" || fail "up did not say the gateway command died: $err"
grep -q 'broken-port' <<<"$err" || fail "up did not show the gateway command's log"
nothing_left "$prefix-f"
ok "a failed up cleans up"

# --- 6. demo --once ---------------------------------------------------------
demo=$(bash "$lab" demo --once --prefix "$prefix-m" /nonexistent-build 2>&1)
rc=$?
[ "$rc" = 0 ] || fail "demo --once failed: $(tail -n 5 <<<"$demo")"
rows=$(sc_rows | grep -c .)
grep -q "scenarios (bridge): $rows passed, 0 failed" <<<"$demo" || fail "demo did not print the passing bridge table"
nothing_left "$prefix-m"
ok "demo --once"

# --- 7. demo with a "built" dataplane: the default command line ------------
# A stand-in egw-dataplane (bridges the raw ports, records its arguments):
# demo must pick dataplane mode, start it with EAL options and
# "-- --config firmware/egw.cfg", and judge with the policy's expectations,
# which a bridge cannot meet (the rogue gets through).
fake=$(mktemp -d)
mkdir -p "$fake/dataplane"
cat >"$fake/dataplane/egw-dataplane" <<'STANDIN'
#!/usr/bin/env bash
echo "$*" >"$(dirname "$0")/../args"
ip link add br9 type bridge && ip link set egw-in master br9 &&
	ip link set egw-out master br9 && ip link set br9 up || exit 1
exec sleep 600
STANDIN
chmod +x "$fake/dataplane/egw-dataplane"
demo=$(SC_TIMEOUT=1 bash "$lab" demo --once --prefix "$prefix-m" "$fake" 2>&1)
rc=$?
[ "$rc" != 0 ] || fail "demo passed the policy table with a dataplane that enforces nothing"
grep -q '(dataplane mode' <<<"$demo" || fail "demo did not pick dataplane mode: $(head -n 3 <<<"$demo")"
grep -Eq '^FAIL +rogue-ping +rogue ping 198.51.100.80 +blocked +ok$' <<<"$demo" ||
	fail "demo table does not show the unenforced rogue"
grep -Eq '^PASS +fin1-ping +fin1 ping 198.51.100.80 +ok +ok$' <<<"$demo" ||
	fail "demo table does not show fin1 passing"
args=$(cat "$fake/args" 2>/dev/null)
grep -q -- "--no-huge .*--file-prefix=$prefix-m -- --config $(realpath "$src/firmware/egw.cfg") --socket /run/egw-lab/$prefix-m/dataplane.sock\$" <<<"$args" ||
	fail "default egw-dataplane command line: '$args'"
nothing_left "$prefix-m"
rm -rf "$fake"
ok "demo in dataplane mode with the default command"

# --- 8. demo stays up until a signal, then tears down -----------------------
dout=$(mktemp)
bash "$lab" demo --prefix "$prefix-m" /nonexistent-build >"$dout" 2>&1 &
dpid=$!
for _ in $(seq 1 120); do
	grep -q 'Ctrl-C to tear down' "$dout" && break
	kill -0 "$dpid" 2>/dev/null || break
	sleep 1
done
if grep -q 'Ctrl-C to tear down' "$dout"; then
	sleep 1
	[ -e "/run/netns/$prefix-m-fin1" ] || fail "demo did not leave the lab up"
	kill -TERM "$dpid"
	for _ in $(seq 1 30); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.5; done
	kill -0 "$dpid" 2>/dev/null && { fail "demo ignored SIGTERM"; kill -KILL "$dpid"; }
	wait "$dpid" 2>/dev/null
	nothing_left "$prefix-m"
	ok "demo waits, and tears down on SIGTERM"
else
	fail "demo did not come up: $(tail -n 5 "$dout")"
	kill -TERM "$dpid" 2>/dev/null
fi
rm -f "$dout"

echo "lab-kernel: $fails failure(s)"
[ "$fails" = 0 ]
