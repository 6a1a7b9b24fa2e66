#!/usr/bin/env bash
# The README's run command ends in `firmware/lab/lab.sh demo build/release`
# (firmware/quickstart.sh). With a built egw-dataplane, `demo --once` must
# start the real fast path on the policy in dataplane mode (its command line
# shown; egw-controld too when built, and then the fast path's events reach
# the behaviour log), print the table of enforced outcomes with a header,
# one row per scenario of the suite and a summary, and tear everything down:
# no namespace, state directory, DPDK runtime directory or process of its
# prefix left. The rows this test asserts are the ones the fast path
# enforces today (the same list as dataplane-scenarios.test.sh); the demo
# itself shows every row, failing ones included. The policy is
# firmware/egw.cfg with the geo database's path made absolute and the log
# directory moved to this test's directory (not /var/log/egw).
# Args: BUILD_DIR SOURCE_DIR (ctest); runs as root, ~1 minute, one lcore busy.
set -uo pipefail
build=$(cd "${1:?usage: dataplane-demo.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: dataplane-demo.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
lab=$src/firmware/lab/lab.sh
prefix=egwt-e2e-m$$
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=
cleanup() {
	bash "$lab" down --prefix "$prefix" >/dev/null 2>&1 || true
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || { echo "FAIL: dataplane-demo needs root"; exit 1; }
[ -x "$build/dataplane/egw-dataplane" ] || { echo "FAIL: $build/dataplane/egw-dataplane not built"; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

# shellcheck source=tests/lab/scenarios.sh
source "$src/tests/lab/scenarios.sh"

# firmware/egw.cfg with its two paths made absolute: the geo database, and
# the log directory (this test's: egw-controld, when built, writes the
# behaviour log there, not in /var/log/egw).
tmp=$(mktemp -d /tmp/egwt-e2e.XXXXXX)
chmod 0755 "$tmp"
cfg=$tmp/egw.cfg
sed -e "s|\"lab/geo-lab.mmdb\"|\"$src/firmware/lab/geo-lab.mmdb\"|" \
	-e "s|directory = \"/var/log/egw\";|directory = \"$tmp/log\";|" \
	"$src/firmware/egw.cfg" >"$cfg"
out=$(bash "$lab" demo --once --prefix "$prefix" --config "$cfg" "$build" 2>&1)
echo "$out"

grep -q "^egw lab (dataplane mode, prefix $prefix): expected = policy expectations" <<<"$out" ||
	fail "demo did not run in dataplane mode with the policy's expectations"
grep -qF "gateway: '$build/dataplane/egw-dataplane' " <<<"$out" ||
	fail "demo does not show the egw-dataplane it started"
grep -F "gateway: '$build/dataplane/egw-dataplane' " <<<"$out" |
	grep -qF -- "-- --config '$cfg' " ||
	fail "demo's egw-dataplane does not run on the policy given"
if [ -x "$build/control/egw-controld" ]; then
	grep -qF "gateway: '$build/control/egw-controld' --config '$cfg' " <<<"$out" ||
		fail "demo did not start egw-controld on the policy given"
fi
grep -Eq '^result +scenario +what was tried +expected +observed$' <<<"$out" ||
	fail "no table header"
rows=$(sc_rows | grep -c .)
summary=$(grep -E '^scenarios \(policy\): [0-9]+ passed, [0-9]+ failed$' <<<"$out")
if [ -z "$summary" ]; then
	fail "no summary line"
else
	read -r _ _ p _ f _ <<<"$summary"
	[ $((p + f)) = "$rows" ] || fail "the table has $((p + f)) rows, the suite $rows"
fi
# Every row: result, the scenario's id, its check, expected and observed.
while read -r id _ ep _; do
	grep -Eq "^(PASS|FAIL) +$id +[^ ].* +[^ ]+ +[^ ].*\$" <<<"$out" || fail "no row for scenario $id"
	grep -Eq "^(PASS|FAIL) +$id +[^ ].* +$ep +[^ ].*\$" <<<"$out" || fail "row $id does not expect '$ep'"
done < <(sc_rows)
# What the fast path enforces today must show as PASS.
for id in fin1-ping fin2-ping fin1-http fin1-https fin2-https-us fin1-openssl \
	fin1-bulk fin1-v6-ping fin1-v6-http fin1-v6-https fin1-v6-bulk rogue-ping rogue-http spoof-udp \
	dns-approved dns-inprovince dns-foreign dns-foreign-tcp dns-foreign-a dns-example-a \
	dot doh canary mail-dns mail-dns-aaaa gmail-sni mail-http-host \
	health-cn health-cn-beijing health-dns health-us health-us-https; do
	grep -Eq "^PASS +$id " <<<"$out" || fail "scenario $id: $(grep -E "^[A-Z]+ +$id " <<<"$out")"
done

# With egw-controld built, the fast path's events reached the behaviour log.
if [ -x "$build/control/egw-controld" ]; then
	/usr/bin/python3 - "$tmp/log" <<'PY' || fail "the behaviour log of the demo"
import glob, json, sys
evs = []
for f in sorted(glob.glob(sys.argv[1] + "/eve-*.json")):
    evs += [json.loads(l) for l in open(f)]
ok = True
for what, m in (("rogue dropped as unregistered",
                 lambda e: e["event_type"] == "drop" and e.get("src_ip") == "10.1.0.99"
                 and e["egw"].get("reason") == "unregistered"),
                ("mail.qq.com answered NXDOMAIN",
                 lambda e: e["event_type"] == "dns" and e.get("dns", {}).get("rrname") == "mail.qq.com"
                 and e["dns"].get("rcode") == "NXDOMAIN")):
    n = sum(1 for e in evs if m(e))
    print("%s  behaviour log: %-44s %d event(s)" % ("PASS" if n else "FAIL", what, n))
    ok = ok and n > 0
sys.exit(0 if ok else 1)
PY
fi

# Torn down: nothing of the prefix left.
n=$(ip netns list | awk '{print $1}' | grep -c "^$prefix-" || true)
[ "$n" = 0 ] || fail "$n namespaces left"
[ -e "${EGW_LAB_RUN:-/run/egw-lab}/$prefix" ] && fail "state directory of $prefix left"
[ -e "/var/run/dpdk/$prefix" ] && fail "DPDK runtime directory /var/run/dpdk/$prefix left"
for c in /proc/[0-9]*/cmdline; do
	if tr "\\0" " " 2>/dev/null <"$c" | grep -q -- "--file-prefix=$prefix "; then
		fail "a process of the demo is left: $(tr '\0' ' ' <"$c")"
	fi
done

echo "dataplane-demo: $fails failure(s)"
[ "$fails" = 0 ]
