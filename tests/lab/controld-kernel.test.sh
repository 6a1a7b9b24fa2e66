#!/usr/bin/env bash
# egw-controld --kernel-mode: the policy compiled to nftables and applied in
# one transaction in the gateway namespace, punted names (DNS, HTTP Host)
# inspected through nfqueue, verdicts sticking to flows, and the table and
# the NFQUEUE rule removed at exit.
# Args: BUILD_DIR SOURCE_DIR.
build=${1:?usage: controld-kernel.test.sh BUILD_DIR SOURCE_DIR}
src=${2:?}
source "$src/tests/lab/controld-common.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
cd_setup egwt-controld-k$$ || exit 1
cd_policy "$tmp/policy.cfg" closed
# DNS to other servers goes to the control plane (for the tunnelling check)
sed -i 's/violation = "drop"/violation = "punt"/' "$tmp/policy.cfg"

cd_start "$tmp/policy.cfg" --kernel-mode --inside-if g0 --outside-if g1 || exit 1
ip netns exec "$G" nft list table inet egw >/dev/null 2>&1 && ok "table inet egw applied" ||
	fail "no table inet egw"
ip netns exec "$G" nft list table inet egw | grep -q 'policy.cfg:' &&
	ok "rules carry policy locations" || fail "no policy locations in the ruleset"

out=$(dig_c @198.51.100.53 www.example.org)
echo "$out" | grep -q 'status: NOERROR' && ok "allowed query answered" || fail "allowed query: $out"
out=$(dig_c @198.51.100.53 mail.qq.com)
echo "$out" | grep -q 'status: NXDOMAIN' && ok "denied category NXDOMAIN in kernel mode" ||
	fail "mail.qq.com: $out"
body=$(curl_c http://198.51.100.80/ 2>&1)
[ "$body" = "hello from 198.51.100.80" ] && ok "HTTP allowed" || fail "HTTP allowed: $body"
if curl_c -H 'Host: mail.qq.com' http://198.51.100.80/ >/dev/null 2>&1; then
	fail "Host mail.qq.com passed"
else
	ok "Host mail.qq.com blocked"
fi
ip netns exec "$S" socat TCP-LISTEN:8081,bind=198.51.100.80,fork,reuseaddr SYSTEM:'echo hi' &
cd_pids+=($!)
sleep 0.3
if ip netns exec "$C" timeout 3 socat -T2 - TCP:198.51.100.80:8081,connect-timeout=2 </dev/null 2>/dev/null | grep -q hi; then
	fail "tcp/8081 connected"
else
	ok "tcp/8081 denied by the kernel ruleset"
fi
sleep 0.3
grep -h '"event_type":"http"' "$tmp"/log/*.json | grep -q '"hostname":"mail.qq.com"' &&
	ok "http event logged" || fail "no http event"

# Tunnelling signs to an unapproved server: flagged in the table's set,
# and the flag survives a reload (which replaces the table).
long=$(head -c 60 /dev/urandom | base32 -w0 | tr -d '=' | tr 'A-Z' 'a-z' | cut -c1-45)
dig_c @198.51.100.99 "$long.$long.t.example.net" >/dev/null 2>&1
sleep 0.3
ip netns exec "$G" nft list set inet egw flagged_v4 | grep -q 198.51.100.99 &&
	ok "tunnel destination flagged in inet egw" || fail "not flagged in inet egw"
out=$(dig_c @198.51.100.99 www.example.org 2>&1)
echo "$out" | grep -qE 'timed out|no servers' && ok "flagged server blocked by the kernel" ||
	fail "flagged server answers: $out"
kill -HUP "$cd_pid"
sleep 1.5
grep -q 'reload by signal SIGHUP: ok' "$tmp/controld.log" && ok "SIGHUP reload in kernel mode" ||
	fail "SIGHUP reload: $(tail -3 "$tmp/controld.log")"
ip netns exec "$G" nft list set inet egw flagged_v4 | grep -q 198.51.100.99 &&
	ok "flagged set restored in the reload's transaction" || fail "flag lost in the reload"
# a policy the kernel would take but the parser refuses: the old ruleset stays
printf 'version = 1;\nbogus = 1;\n' > "$tmp/bad.cfg"
cp "$tmp/policy.cfg" "$tmp/good.cfg"; cp "$tmp/bad.cfg" "$tmp/policy.cfg"
out=$("$build/control/egwctl" reload --socket "$tmp/run/controld.sock" 2>&1)
[ $? = 1 ] && ok "bad reload refused: $(echo "$out" | head -1)" || fail "bad reload: $out"
ip netns exec "$G" nft list table inet egw >/dev/null 2>&1 &&
	dig_c @198.51.100.53 mail.qq.com | grep -q NXDOMAIN && ok "old ruleset still enforced" ||
	fail "old ruleset lost"
cp "$tmp/good.cfg" "$tmp/policy.cfg"
cd_stop || fail "exit status"
ip netns exec "$G" nft list table inet egw >/dev/null 2>&1 && fail "table inet egw left" ||
	ok "table inet egw removed at exit"
[ -z "$(rules_left)" ] && ok "nothing left" || fail "left: $(rules_left)"
[ "$fails" = 0 ] || { echo "--- controld log"; cat "$tmp/controld.log"; }
exit "$fails"
