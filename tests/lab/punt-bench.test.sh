#!/usr/bin/env bash
# The punt-path benchmark's own check (bench/punt_rate.sh, namespaces
# egwt-punt-*): egw-controld is stopped while 4,000 packets queue, twice per
# mix; let go, it must give every one of them a verdict (full bursts of one
# recvmmsg each) with no queue drop, and every accepted packet must leave
# the gateway. Then one paced run at 2,000/s: nothing dropped. The figures
# themselves are bench/'s business, not checked here.
# Args: BUILD_DIR SOURCE_DIR.
build=${1:?usage: punt-bench.test.sh BUILD_DIR SOURCE_DIR}
src=${2:?}
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root"; exit 1; }
out=$(mktemp /tmp/egwt-punt-bench.XXXXXX)
trap 'rm -f "$out"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

bash "$src/bench/punt_rate.sh" "$build" "$out" --saturated-only --rounds 2 \
	--mixes "cached new" || fail "punt_rate.sh --saturated-only exited $?"
bash "$src/bench/punt_rate.sh" "$build" "$out" --secs 1 --rates 2000 --mixes new \
	--rounds 1 || fail "punt_rate.sh --rates 2000 exited $?"
/usr/bin/python3 - "$out" <<'PY' || fails=$((fails + 1))
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bad = 0
def check(ok, what):
    global bad
    print(("ok: " if ok else "FAIL: ") + what)
    bad += not ok
sat = [r for r in rows if r["suite"] == "punt-saturated"]
check(sorted(r["mix"] for r in sat) == ["cached", "cached", "new"] or
      sorted(r["mix"] for r in sat) == ["cached", "new", "new"],
      "saturated rows for both mixes: %s" % [r["mix"] for r in sat])
for r in sat:
    check(r["verdicts"] == 4000 * r["rounds"] and r["queue_drops"] == 0,
          "%s: %d queued packets, %d verdicts, %d queue drops" %
          (r["mix"], 4000 * r["rounds"], r["verdicts"], r["queue_drops"]))
paced = [r for r in rows if r["suite"] == "punt-queue" and r["rate_asked"] == 2000]
check(len(paced) == 1, "one paced run at 2000/s")
for r in paced:
    check(r["sent"] > 0 and r["queued"] == r["sent"] and r["verdicts"] == r["sent"] and
          r["queue_drops"] == 0, "2000/s: sent %d, queued %d, verdicts %d, drops %d" %
          (r["sent"], r["queued"], r["verdicts"], r["queue_drops"]))
    check(r["out"] == r["accepted"] == r["verdicts"],
          "every accepted packet left the gateway (%d out, %d accepted)" % (r["out"], r["accepted"]))
    check(r["events"] == r["verdicts"], "one behaviour-log event per new flow (%d)" % r["events"])
sys.exit(1 if bad else 0)
PY
ip netns list | grep -q '^egwt-punt-' && fail "namespaces left: $(ip netns list | grep egwt-punt-)"
[ "$fails" = 0 ] && echo "punt-bench: all passed" || echo "punt-bench: $fails failed"
exit $((fails > 0))
