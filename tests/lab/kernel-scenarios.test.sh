#!/usr/bin/env bash
# One scenario suite, two back ends: the lab's whole scenario suite
# (tests/lab/scenarios.sh, every row, the policy's expectations, blocked
# names over TCP DNS answered NXDOMAIN as by the fast path) against
# egw-controld --kernel-mode, the same suite
# dataplane-scenarios.test.sh runs against egw-dataplane. lab.sh brings the
# lab up in kernel mode (the gateway namespace routes) and starts
# egw-controld --kernel-mode on firmware/egw.cfg in it: the policy compiled
# to nftables and applied, names (DNS, SNI, Host) inspected over nfqueue.
# Then three reloads (SIGHUP) under a 10 ms ping, a 10 ms UDP echo stream
# and a TCP download must lose nothing; the behaviour log shows the
# NXDOMAIN answers and resets with the same policy lines the fast path
# gives; on SIGTERM the daemon exits 0 and removes its table.
# The policy is firmware/egw.cfg with two paths made absolute for the test:
# the geo database, and the log directory (this test's, not /var/log/egw).
# What nft-lab.test.sh checks (the compiled ruleset alone, no daemon) and
# controld-kernel.test.sh (the daemon's own mechanics, on its own topology)
# is not repeated here.
# Args: BUILD_DIR SOURCE_DIR (ctest); runs as root, ~1 minute.
set -uo pipefail
build=$(cd "${1:?usage: kernel-scenarios.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: kernel-scenarios.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
cd=$build/control/egw-controld
# shellcheck source=tests/lab/lab-test.sh
source "$src/tests/lab/lab-test.sh"
lt_begin kernel-scenarios "egwt-e2e-k$$" "$cd"
lt_policy
mkdir -p "$tmp/run"

gw=$(lt_controld_cmd --kernel-mode --inside-if egw-in --outside-if egw-out --run-dir "$tmp/run")
lt_up kernel "egw-controld --kernel-mode" "$gw"
cd_pid=$(cat "$tmp/cd.pid")
cdlog=$state/gw1.log
grep -q '^egw-controld: running (kernel mode' "$cdlog" ||
	fail "egw-controld does not say it runs in kernel mode: $(tail -n 3 "$cdlog")"

# shellcheck source=tests/lab/scenarios.sh
source "$src/tests/lab/scenarios.sh"
sc_init "$prefix" || exit 1

echo "--- the whole scenario suite through egw-controld --kernel-mode"
sc_suite policy ||
	fail "scenarios in kernel mode"
# The blocked TCP DNS queries reset the resolver side (dnsmasq serves each
# TCP connection in a child that would wait minutes for a query): nothing
# of them is left established there.
left=$(sc_x net ss -Htn state established '( sport = :53 )' 2>/dev/null | grep -c . || true)
[ "$left" = 0 ] ||
	fail "$left TCP DNS connection(s) left established at the resolvers: $(sc_x net ss -Htn state established '( sport = :53 )')"

echo "--- three reloads (SIGHUP) under running traffic"
sc_reload_traffic "$tmp" "$cd_pid" "$cdlog" '^egw-controld: reload by signal SIGHUP: ok' ||
	fails=$((fails + $?))
ip netns exec "$prefix-gw" nft list table inet egw >/dev/null 2>&1 || fail "no table inet egw while running"

kill -TERM "$cd_pid"
lt_wait_exit "$cdlog" egw-controld
ip netns exec "$prefix-gw" nft list table inet egw >/dev/null 2>&1 && fail "table inet egw left after exit"

# The behaviour log: the names the daemon answered and reset, with the
# policy lines (the same lines the fast path's events carry).
/usr/bin/python3 - "$tmp/log" "$cfg" <<'PY' || fail "the behaviour log"
import glob, json, re, sys
evs = []
for f in sorted(glob.glob(sys.argv[1] + "/eve-*.json")):
    evs += [json.loads(l) for l in open(f)]
cfg = open(sys.argv[2]).read().split("\n")
name = sys.argv[2].rsplit("/", 1)[-1]

def line_of(pattern, after=None):
    start = 0
    if after:
        start = next(i for i, l in enumerate(cfg) if re.search(after, l))
    for i in range(start, len(cfg)):
        if re.search(pattern, cfg[i]):
            return "%s:%d" % (name, i + 1)
    raise SystemExit("no line %r in the policy" % pattern)

ok = True
def want(what, **kw):
    global ok
    def match(e):
        for k, v in kw.items():
            x = e
            for p in k.split("__"):
                x = x.get(p) if isinstance(x, dict) else None
            if x != v:
                return False
        return True
    hits = [e for e in evs if match(e)]
    print("%s  %-58s %d event(s)" % ("PASS" if hits else "FAIL", what, len(hits)))
    if not hits:
        ok = False

mail = line_of(r'action = "deny";  category = "commercial-mail"', after=r'name = "standard"')
want("mail.qq.com answered NXDOMAIN", event_type="dns", src_ip="10.1.0.10",
     dns__rrname="mail.qq.com", dns__rcode="NXDOMAIN", egw__action="blocked",
     egw__reason="category:commercial-mail", egw__rule=mail)
want("the Firefox canary answered NXDOMAIN", event_type="dns", src_ip="10.1.0.10",
     dns__rrname="use-application-dns.net", dns__rcode="NXDOMAIN", egw__action="blocked",
     egw__reason="doh", egw__rule=line_of(r"block_doh = true"))
want("mail.qq.com over TCP answered NXDOMAIN", event_type="dns", src_ip="10.1.0.10",
     proto="TCP", dest_port=53, dns__rrname="mail.qq.com", dns__rcode="NXDOMAIN",
     egw__action="blocked", egw__reason="category:commercial-mail", egw__rule=mail)
want("the canary over TCP answered NXDOMAIN", event_type="dns", src_ip="10.1.0.10",
     proto="TCP", dns__rrname="use-application-dns.net", dns__rcode="NXDOMAIN",
     egw__action="blocked", egw__reason="doh")
want("TLS with SNI gmail.com reset", event_type="tls", src_ip="10.1.0.10",
     dest_ip="203.0.113.80", tls__sni="gmail.com", egw__action="blocked",
     egw__reason="category:commercial-mail", egw__rule=mail)
want("HTTP with Host mail.qq.com reset", event_type="http", src_ip="10.1.0.10",
     dest_ip="203.0.113.80", http__hostname="mail.qq.com", egw__action="blocked",
     egw__reason="category:commercial-mail", egw__rule=mail)
sys.exit(0 if ok else 1)
PY

pids=$(awk '{print $1}' "$SC_STATE/pids")
bash "$lab" down --prefix "$prefix" || fail "lab down"
for p in $pids; do
	[ -d "/proc/$p" ] && fail "process $p left after down"
done
n=$(ip netns list | awk '{print $1}' | grep -c "^$prefix-" || true)
[ "$n" = 0 ] || fail "$n namespaces left"

echo "kernel-scenarios: $fails failure(s)"
[ "$fails" = 0 ]
