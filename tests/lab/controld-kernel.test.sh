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

# A reload that the kernel refuses keeps the old ruleset (forced with a bad
# table name would need a code change: use a policy that fails to load).
cd_stop || fail "exit status"
ip netns exec "$G" nft list table inet egw >/dev/null 2>&1 && fail "table inet egw left" ||
	ok "table inet egw removed at exit"
[ -z "$(rules_left)" ] && ok "nothing left" || fail "left: $(rules_left)"
[ "$fails" = 0 ] || { echo "--- controld log"; cat "$tmp/controld.log"; }
exit "$fails"
