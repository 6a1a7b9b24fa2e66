#!/usr/bin/env bash
# Reload: SIGHUP and `egwctl reload` apply a new policy without a restart; a
# bad policy is refused (errors with file:line) and the old one keeps
# running; a member of egw-audit reads stats on the read-only socket but
# cannot reload; every operator action is an audit event.
# Args: BUILD_DIR SOURCE_DIR.
build=${1:?usage: controld-reload.test.sh BUILD_DIR SOURCE_DIR}
src=${2:?}
source "$src/tests/lab/controld-common.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
getent group egw >/dev/null || groupadd --system egw
getent group egw-audit >/dev/null || groupadd --system egw-audit
user=egwt-ctld-aud
cleanup_user() { userdel "$user" 2>/dev/null; }
cd_setup egwt-controld-r$$ || exit 1
trap 'cd_cleanup; cleanup_user' EXIT
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home -G egw-audit "$user" || exit 1

cd_policy "$tmp/policy.cfg" closed
# a stand-in fast path that refuses the next reload it is asked to prepare
/usr/bin/python3 "$src/tests/lab/controld-fastpath-standin.py" "$tmp/dp.sock" "$tmp/dp.log" \
	--refuse-reload "policy.cfg:9: fast path says no" &
sp=$!
cd_pids+=($sp)
for i in $(seq 50); do [ -S "$tmp/dp.sock" ] && break; sleep 0.1; done
cd_start "$tmp/policy.cfg" --punt-iif g0 --dataplane-sock "$tmp/dp.sock" || exit 1
ctl() { "$build/control/egwctl" "$@"; }

dig_c @198.51.100.53 www.example.org | grep -q 'status: NOERROR' &&
	ok "www.example.org allowed before the reload" || fail "www.example.org before"

# Sockets: owner, group, mode
stat -c '%U:%G %a' "$tmp/run/controld.sock" | grep -qx 'root:egw 660' &&
	ok "controld.sock is root:egw 0660" || fail "controld.sock: $(stat -c '%U:%G %a' "$tmp/run/controld.sock")"
stat -c '%U:%G %a' "$tmp/run/controld-ro.sock" | grep -qx 'root:egw-audit 660' &&
	ok "controld-ro.sock is root:egw-audit 0660" || fail "ro sock: $(stat -c '%U:%G %a' "$tmp/run/controld-ro.sock")"
chmod 755 "$tmp" "$tmp/run"

# 0. one transaction across both daemons: the fast path refuses, so
#    controld keeps its old policy too
sed -i 's/"mail.qq.com", "gmail.com"/"mail.qq.com", "gmail.com", "example.org"/' "$tmp/policy.cfg"
out=$(ctl reload --socket "$tmp/run/controld.sock" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q 'fast path says no' && ok "fast path refusal fails the reload: $(echo "$out" | head -1)" ||
	fail "fast path refusal: $out"
grep -q 'RELOAD phase=1 gen=1 path=.*policy.cfg' "$tmp/dp.log" && ok "fast path was asked to prepare" ||
	fail "no PREPARE: $(cat "$tmp/dp.log")"
grep -q 'RELOAD phase=2' "$tmp/dp.log" && fail "COMMIT sent after a refused prepare"
dig_c @198.51.100.53 www.example.org | grep -q 'status: NOERROR' &&
	ok "controld kept the old policy" || fail "controld applied a policy the fast path refused"
# now a fast path that agrees (a new stand-in on the same socket)
kill "$sp"; wait "$sp" 2>/dev/null
/usr/bin/python3 "$src/tests/lab/controld-fastpath-standin.py" "$tmp/dp.sock" "$tmp/dp2.log" &
cd_pids+=($!)
sleep 2.5   # controld reconnects within a second
out=$(ctl reload --socket "$tmp/run/controld.sock" 2>&1)
[ $? = 0 ] && grep -q 'RELOAD phase=1' "$tmp/dp2.log" && grep -q 'RELOAD phase=2' "$tmp/dp2.log" &&
	ok "both daemons prepared and committed" || fail "two-daemon reload: $out $(cat "$tmp/dp2.log")"
dig_c @198.51.100.53 www.example.org | grep -q 'status: NXDOMAIN' &&
	ok "new policy in force after the joint commit" || fail "joint commit not applied"
sed -i 's/, "example.org"//' "$tmp/policy.cfg"
ctl reload --socket "$tmp/run/controld.sock" >/dev/null 2>&1 || fail "reload back"

# 1. SIGHUP with example.org added to the denied category
sed -i 's/"mail.qq.com", "gmail.com"/"mail.qq.com", "gmail.com", "example.org"/' "$tmp/policy.cfg"
kill -HUP "$cd_pid"
sleep 1
dig_c @198.51.100.53 www.example.org | grep -q 'status: NXDOMAIN' &&
	ok "SIGHUP applied the new policy" || fail "SIGHUP did not apply"

# 2. a bad policy via egwctl reload: refused, old policy stays
cp "$tmp/policy.cfg" "$tmp/good.cfg"
sed -i 's/action = "allow"; }/action = "alow"; }/' "$tmp/policy.cfg"
out=$(ctl reload --socket "$tmp/run/controld.sock" 2>&1)
rc=$?
[ "$rc" = 1 ] && echo "$out" | grep -q 'policy.cfg:[0-9]*:' &&
	ok "bad policy refused with file:line ($(echo "$out" | head -1))" || fail "bad reload: rc $rc: $out"
kill -0 "$cd_pid" && ok "daemon survives a bad reload" || fail "daemon died"
out=$(ctl reload --json --socket "$tmp/run/controld.sock" 2>/dev/null)
rc=$?
[ "$rc" = 1 ] && python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["reloaded"] is False and d["phase"] == "prepare" and "policy.cfg:" in d["error"], d
' "$out" && ok "reload --json tells the refusal" || fail "reload --json: rc $rc: $out"
dig_c @198.51.100.53 www.example.org | grep -q 'status: NXDOMAIN' &&
	ok "old policy still enforced" || fail "old policy lost"
kill -HUP "$cd_pid"
sleep 1
kill -0 "$cd_pid" && dig_c @198.51.100.53 www.example.org | grep -q 'status: NXDOMAIN' &&
	ok "bad policy refused on SIGHUP too" || fail "SIGHUP with a bad policy"

# 3. a good one via egwctl reload
cp "$tmp/good.cfg" "$tmp/policy.cfg"
sed -i 's/, "example.org"//' "$tmp/policy.cfg"
out=$(ctl reload --json --socket "$tmp/run/controld.sock" 2>&1)
[ $? = 0 ] && [ "$out" = '{"reloaded":true,"phase":"commit"}' ] && ok "egwctl reload --json: $out" ||
	fail "egwctl reload: $out"
dig_c @198.51.100.53 www.example.org | grep -q 'status: NOERROR' &&
	ok "egwctl reload applied" || fail "egwctl reload did not apply"

# 4. the read-only group
out=$(runuser -u "$user" -- "$build/control/egwctl" stats --socket "$tmp/run/controld-ro.sock" 2>&1)
[ $? = 0 ] && echo "$out" | grep -q 'verdicts.dropped' && ok "egw-audit member reads stats" ||
	fail "egw-audit stats: $out"
out=$(runuser -u "$user" -- "$build/control/egwctl" reload --socket "$tmp/run/controld-ro.sock" 2>&1)
[ $? != 0 ] && echo "$out" | grep -q 'read-only' && ok "egw-audit member cannot reload: $(echo "$out" | head -1)" ||
	fail "egw-audit reload: $out"
out=$(runuser -u "$user" -- "$build/control/egwctl" reload --socket "$tmp/run/controld.sock" 2>&1)
[ $? != 0 ] && ok "egw-audit member cannot open the read-write socket" ||
	fail "rw socket open to egw-audit: $out"

# 5. audit events
sleep 0.5
aud=$(grep -h '"event_type":"audit"' "$tmp"/log/*.json)
echo "$aud" | grep -q 'signal SIGHUP' && ok "SIGHUP reload audited" || fail "no SIGHUP audit"
echo "$aud" | grep '"what":"reload commit' | grep -q '"result":"ok"' &&
	ok "egwctl reload audited with uid" || fail "no reload audit: $aud"
echo "$aud" | grep "$user" | grep -q 'refused' && ok "refused reload audited with the user" ||
	fail "no refused audit: $aud"
echo "$aud" | grep '"result":"failed' | grep -q 'policy.cfg' && ok "failed reload audited" ||
	fail "no failed audit"

cd_stop || fail "exit status"
[ -z "$(rules_left)" ] || fail "left: $(rules_left)"
[ -e "$tmp/run/controld.sock" ] && fail "socket left behind" || ok "sockets removed at exit"
[ "$fails" = 0 ] || { echo "--- controld log"; cat "$tmp/controld.log"; }
exit "$fails"
