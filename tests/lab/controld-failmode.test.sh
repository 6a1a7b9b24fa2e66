#!/usr/bin/env bash
# fail_mode with egw-controld killed (kill -9, no clean-up possible):
# "closed": punted traffic is dropped while the daemon is gone; "open": it
# passes (the queue rule's bypass). A restarted daemon clears what the
# killed one left, and its clean exit leaves nothing.
# Args: BUILD_DIR SOURCE_DIR.
build=${1:?usage: controld-failmode.test.sh BUILD_DIR SOURCE_DIR}
src=${2:?}
source "$src/tests/lab/controld-common.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
cd_setup egwt-controld-f$$ || exit 1

for mode in closed open; do
	cd_policy "$tmp/policy.cfg" "$mode"
	cd_start "$tmp/policy.cfg" --punt-iif g0 || exit 1
	out=$(dig_c @198.51.100.53 www.example.org +short)
	[ "$out" = 198.51.100.80 ] && ok "$mode: query answered with the daemon up" ||
		fail "$mode: daemon up: $out"
	kill -9 "$cd_pid"
	wait "$cd_pid" 2>/dev/null
	[ -n "$(rules_left)" ] && ok "$mode: punt rules still there after kill -9" ||
		fail "$mode: rules vanished after kill -9"
	out=$(dig_c @198.51.100.53 www.example.org +short 2>&1)
	if [ "$mode" = closed ]; then
		echo "$out" | grep -qE 'timed out|no servers' && ok "closed: punted traffic dropped while down" ||
			fail "closed: traffic passed while down: $out"
	else
		[ "$out" = 198.51.100.80 ] && ok "open: punted traffic passes while down" ||
			fail "open: traffic dropped while down: $out"
	fi
	# a new daemon takes over the leftovers and removes them on exit
	cd_start "$tmp/policy.cfg" --punt-iif g0 || exit 1
	out=$(dig_c @198.51.100.53 mail.qq.com 2>&1)
	echo "$out" | grep -q NXDOMAIN && ok "$mode: restarted daemon inspects" ||
		fail "$mode: restarted daemon: $out"
	cd_stop || fail "$mode: exit status"
	left=$(rules_left)
	[ -z "$left" ] && ok "$mode: nothing left after a clean exit" || fail "$mode: left: $left"
done

# A second daemon while one runs: one clear line, non-zero exit.
cd_policy "$tmp/policy.cfg" closed
cd_start "$tmp/policy.cfg" --punt-iif g0 || exit 1
first=$cd_pid
ip netns exec "$G" "$build/control/egw-controld" --config "$tmp/policy.cfg" \
	--run-dir "$tmp/run" --punt-iif g0 --no-punt-hairpin >"$tmp/second.log" 2>&1
rc=$?
[ "$rc" != 0 ] && grep -q 'socket in use' "$tmp/second.log" && ok "second daemon refused: $(cat "$tmp/second.log")" ||
	fail "second daemon: rc $rc: $(cat "$tmp/second.log")"
ip netns exec "$G" "$build/control/egw-controld" --config "$tmp/policy.cfg" \
	--run-dir "$tmp/run2" --punt-iif g0 --no-punt-hairpin >"$tmp/third.log" 2>&1
rc=$?
[ "$rc" != 0 ] && grep -q 'bound by another process' "$tmp/third.log" && ok "queue in use refused: $(cat "$tmp/third.log")" ||
	fail "queue in use: rc $rc: $(cat "$tmp/third.log")"
out=$(dig_c @198.51.100.53 mail.qq.com 2>&1)
echo "$out" | grep -q NXDOMAIN && ok "the first daemon still works" || fail "first daemon disturbed: $out"
cd_pid=$first
cd_stop
[ -z "$(rules_left)" ] && ok "nothing left" || fail "left: $(rules_left)"

# A full queue: the daemon stopped (SIGSTOP) with a queue of 2 packets.
# closed: the overflow is dropped and counted; open: it passes.
for mode in closed open; do
	cd_policy "$tmp/policy.cfg" "$mode"
	cd_start "$tmp/policy.cfg" --punt-iif g0 --queue-maxlen 2 || exit 1
	ip netns exec "$S" socat -u UDP-RECV:9999,bind=198.51.100.80 OPEN:"$tmp/udp-$mode.out",creat,append &
	rcv=$!
	cd_pids+=($rcv)
	sleep 0.3
	kill -STOP "$cd_pid"
	for i in $(seq 10); do
		echo "pkt$i" | ip netns exec "$C" socat -u - UDP:198.51.100.80:9999
	done
	sleep 0.3
	got=$(grep -c pkt "$tmp/udp-$mode.out" 2>/dev/null)
	kill -CONT "$cd_pid"
	sleep 0.5
	st=$("$build/control/egwctl" stats --json --socket "$tmp/run/controld-ro.sock")
	drops=$(echo "$st" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["queue"]["queue_full_dropped"])')
	if [ "$mode" = closed ]; then
		[ "${got:-0}" = 0 ] && [ "$drops" -ge 8 ] && ok "closed: full queue drops ($drops counted)" ||
			fail "closed: $got passed while stopped, $drops counted"
	else
		[ "${got:-0}" -ge 8 ] && ok "open: full queue lets $got pass" ||
			fail "open: only ${got:-0} passed while stopped"
	fi
	cd_stop
	kill "$rcv" 2>/dev/null
done

# fail_mode changed by a reload: closed -> open takes effect (queue flag
# and the rule's bypass): with the daemon killed, traffic passes.
cd_policy "$tmp/policy.cfg" closed
cd_start "$tmp/policy.cfg" --punt-iif g0 || exit 1
cd_policy "$tmp/policy.cfg" open
out=$("$build/control/egwctl" reload --socket "$tmp/run/controld.sock" 2>&1) || fail "reload to open: $out"
ip netns exec "$G" iptables-nft -t mangle -S EGW_PUNT | grep -q -- '--queue-bypass' &&
	ok "reload to fail open: rule has bypass" || fail "no bypass after reload"
out=$(dig_c @198.51.100.53 mail.qq.com 2>&1)
echo "$out" | grep -q NXDOMAIN && ok "still inspecting after the fail-mode reload" ||
	fail "after fail-mode reload: $out"
kill -9 "$cd_pid"; wait "$cd_pid" 2>/dev/null
out=$(dig_c @198.51.100.53 www.example.org +short 2>&1)
[ "$out" = 198.51.100.80 ] && ok "killed after reload to open: traffic passes" ||
	fail "killed after reload to open: $out"
cd_start "$tmp/policy.cfg" --punt-iif g0 || exit 1
cd_stop

# Fan-out over two queues: both bound, traffic inspected.
cd_policy "$tmp/policy.cfg" closed
cd_start "$tmp/policy.cfg" --punt-iif g0 --queue-num 3 --queues 2 || exit 1
n=$(ip netns exec "$G" awk '$1 == 3 || $1 == 4' /proc/net/netfilter/nfnetlink_queue | wc -l)
[ "$n" = 2 ] && ok "queues 3 and 4 bound" || fail "queues bound: $n"
ip netns exec "$G" iptables-nft -t mangle -S EGW_PUNT | grep -q -- '--queue-balance 3:4' &&
	ok "NFQUEUE rule balances over 3:4" || fail "no queue-balance rule"
nx=0
for i in 1 2 3 4; do dig_c @198.51.100.53 "m$i.gmail.com" | grep -q NXDOMAIN && nx=$((nx + 1)); done
[ "$nx" = 4 ] && ok "every query inspected across the fan-out" || fail "$nx of 4 inspected"
cd_stop

# A bad policy: errors with file:line, non-zero exit, nothing installed.
printf 'version = 2;\n' > "$tmp/bad.cfg"
ip netns exec "$G" "$build/control/egw-controld" --config "$tmp/bad.cfg" \
	--run-dir "$tmp/run" >"$tmp/bad.log" 2>&1
rc=$?
[ "$rc" != 0 ] && grep -q 'bad.cfg:1' "$tmp/bad.log" && ok "bad policy refused at start" ||
	fail "bad policy: rc $rc: $(cat "$tmp/bad.log")"
[ -z "$(rules_left)" ] || fail "bad start left rules"

[ "$fails" = 0 ] || { echo "--- controld log"; cat "$tmp/controld.log"; }
exit "$fails"
