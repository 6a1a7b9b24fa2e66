#!/usr/bin/env bash
# Issue 3 end to end: the lab's scenario suite (tests/lab/scenarios.sh) run
# against the real egw-dataplane with the default policy firmware/egw.cfg.
# firmware/lab/lab.sh brings the lab up in dataplane mode; the gateway
# namespace runs BUILD/dataplane/egw-dataplane on the policy's own ports
# (net_af_packet on egw-in/egw-out, punt tap egw-punt). Then:
#  1. the scenarios with the policy's expectations (sc_suite policy): ping,
#     curl and openssl from registered terminals pass; the unregistered rogue
#     and the spoofed source are blocked; dig to the approved and in-province
#     resolvers answers, to the foreign one (UDP and TCP) is redirected; DoT
#     to 203.0.113.111:853 and DoH fail; the Firefox canary, mail.qq.com
#     and gmail.com (AAAA) get NXDOMAIN from the gateway; TLS with SNI
#     gmail.com and HTTP with Host mail.qq.com are reset; the restricted
#     unit reaches 198.51.100.80 but not 203.0.113.80; bulk TCP crosses;
#     IPv6 ping, HTTP, HTTPS and bulk TCP cross (neighbour discovery passes
#     the fast path like ARP);
#  2. a reload (SIGHUP, three times) under running traffic loses no packet:
#     a 10 ms ping and a 10 ms UDP echo stream count every reply, and a TCP
#     download spanning the reloads arrives whole;
#  3. the fast path's own record agrees: the events name the rogue as
#     unregistered, the spoof, the redirect, DoT, DoH, the NXDOMAIN answers,
#     the SNI/Host resets and the restricted unit's deny with their policy
#     lines; on SIGTERM it exits 0 and writes its counters.
#
# Which binary: the one of the build directory given (ctest runs this from
# the Sanitize build, so egw-dataplane runs under ASan+UBSan). That works:
# DPDK's own memory (--no-huge memsegs) is not instrumented, egw's code is;
# start-up takes ~2 s and bulk TCP still crosses at ~15 MB/s here. A
# sanitizer report makes the run fail: the program's exit status and its log
# are checked (ASAN_OPTIONS from tests/run.sh: detect_leaks=1).
# Args: BUILD_DIR SOURCE_DIR (ctest); runs as root. Keeps one lcore busy
# (the worker) for the ~2 minutes it runs.
set -uo pipefail
build=$(cd "${1:?usage: dataplane-scenarios.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: dataplane-scenarios.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
# shellcheck source=tests/lab/lab-test.sh
source "$src/tests/lab/lab-test.sh"
lt_begin dataplane-scenarios "egwt-e2e-d$$" "$build/dataplane/egw-dataplane"
cfg=$src/firmware/egw.cfg

# The gateway command: egw-dataplane with lab.sh's default EAL options, its
# socket, events and counters in this test's directory; the wrapper records
# its pid (for SIGHUP) and its exit status.
gw=$(lt_dataplane_cmd "$tmp/dp.sock" --events "$tmp/events.json" --stats "$tmp/stats.json")
lt_up dataplane "egw-dataplane forwarding" "$gw"
dp_pid=$(cat "$tmp/dp.pid")
dplog=$state/gw1.log
grep -q "^egw-dataplane: forwarding net_af_packet0,iface=egw-in <-> net_af_packet1,iface=egw-out (punt net_tap0,iface=egw-punt)" "$dplog" ||
	fail "egw-dataplane does not say it forwards the policy's ports: $(tail -n 3 "$dplog")"

# shellcheck source=tests/lab/scenarios.sh
source "$src/tests/lab/scenarios.sh"
sc_init "$prefix" || exit 1

# --- 1. the scenarios ---------------------------------------------------------
ids=(fin1-ping fin2-ping fin1-http fin1-https fin2-https-us fin1-openssl
	fin1-bulk fin1-v6-ping fin1-v6-http fin1-v6-https fin1-v6-bulk fin1-pmtu fin1-v6-pmtu
	rogue-ping rogue-http spoof-udp
	dns-approved dns-inprovince dns-foreign dns-foreign-tcp dns-foreign-a dns-example-a
	dot doh canary mail-dns mail-dns-aaaa canary-tcp mail-dns-tcp dns-example-tcp
	dns-tcp-pipelined mail-dns-pipelined dns-tcp-split
	gmail-sni mail-http-host
	health-cn health-cn-beijing health-dns health-us health-us-https)
for id in "${ids[@]}"; do
	sc_expect policy "$id" >/dev/null || fail "scenario $id is not in the suite any more"
done
echo "--- the scenario suite through egw-dataplane (firmware/egw.cfg)"
sc_suite policy "${ids[@]}" || fail "scenarios through egw-dataplane"

# --- 2. reloads under running traffic ---------------------------------------
echo "--- three reloads (SIGHUP) under running traffic"
sc_reload_traffic "$tmp" "$dp_pid" "$dplog" '^egw-dataplane: reloaded' || fails=$((fails + $?))

# --- 3. the fast path's record ------------------------------------------------
kill -TERM "$dp_pid"
lt_wait_exit "$dplog" egw-dataplane

/usr/bin/python3 - "$tmp/events.json" "$tmp/stats.json" "$cfg" <<'PY' || fail "the fast path's events or counters"
import json, re, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
st = json.load(open(sys.argv[2]))
cfg = open(sys.argv[3]).read().split("\n")
name = sys.argv[3].rsplit("/", 1)[-1]

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
            path = k.split("__")
            x = e
            for p in path:
                x = x.get(p) if isinstance(x, dict) else None
            if x != v:
                return False
        return True
    hits = [e for e in evs if match(e)]
    print("%s  %-58s %d event(s)" % ("PASS" if hits else "FAIL", what, len(hits)))
    if not hits:
        ok = False

unreg = line_of(r'unregistered = "drop"')
want("rogue 10.1.0.99 dropped as unregistered", event_type="drop", src_ip="10.1.0.99",
     egw__action="blocked", egw__reason="unregistered", egw__rule=unreg)
want("spoofed 10.1.0.10 (rogue's MAC) dropped", event_type="drop", src_ip="10.1.0.10",
     egw__src_mac="02:00:0b:ad:00:0a", egw__reason="spoof")
want("DNS to the foreign resolver redirected", event_type="dns", src_ip="10.1.0.10",
     dest_ip="203.0.113.53", egw__action="redirected", egw__reason="dns-resolver",
     egw__rule=line_of(r'violation = "redirect"'), dns__rrname="whoami.lab")
want("DoT to 203.0.113.111:853 dropped", event_type="drop", dest_ip="203.0.113.111",
     dest_port=853, egw__reason="dot", egw__rule=line_of(r"block_dot = true"))
want("DoH to 203.0.113.111:443 dropped", event_type="drop", dest_ip="203.0.113.111",
     dest_port=443, egw__reason="doh", egw__rule=line_of(r"block_doh = true"))
mail = line_of(r'action = "deny";  category = "commercial-mail"', after=r'name = "standard"')
want("mail.qq.com answered NXDOMAIN by the gateway", event_type="dns", src_ip="10.1.0.10",
     dns__rrname="mail.qq.com", dns__rcode="NXDOMAIN", egw__action="blocked",
     egw__reason="category:commercial-mail", egw__rule=mail)
want("the Firefox canary answered NXDOMAIN", event_type="dns", src_ip="10.1.0.10",
     dns__rrname="use-application-dns.net", dns__rcode="NXDOMAIN", egw__action="blocked",
     egw__reason="doh", egw__rule=line_of(r"block_doh = true"))
want("TLS with SNI gmail.com reset", event_type="tls", src_ip="10.1.0.10",
     dest_ip="203.0.113.80", tls__sni="gmail.com", egw__action="blocked",
     egw__reason="category:commercial-mail", egw__rule=mail)
want("HTTP with Host mail.qq.com reset", event_type="http", src_ip="10.1.0.10",
     dest_ip="203.0.113.80", http__hostname="mail.qq.com", egw__action="blocked",
     egw__reason="category:commercial-mail", egw__rule=mail)
want("health -> 203.0.113.80 denied by the restricted profile", event_type="drop",
     src_ip="10.2.0.20", dest_ip="203.0.113.80", egw__unit="health",
     egw__rule=line_of(r'\{ action = "deny"; \}', after=r'name = "restricted"'))
want("health -> 198.51.100.80 allowed (CN)", event_type="flow", src_ip="10.2.0.20",
     dest_ip="198.51.100.80", egw__action="allowed", egw__user="wang.fang",
     egw__rule=line_of(r'action = "allow"; country = \[ "CN" \]'))
want("fin1's HTTPS allowed, logged with its user", event_type="flow", src_ip="10.1.0.10",
     dest_ip="198.51.100.80", dest_port=443, egw__action="allowed", egw__user="zhang.wei",
     egw__switch_port="sw1/0/3")

d = st["drops"]
for k, least in (("unregistered", 2), ("spoof", 1), ("dot", 1), ("doh", 1), ("sni-host", 2)):
    good = d.get(k, 0) >= least
    print("%s  counter drops.%-44s %d" % ("PASS" if good else "FAIL", k, d.get(k, 0)))
    ok = ok and good
want("fin1's IPv6 ping allowed", event_type="flow", src_ip="2001:db8:1::10",
     dest_ip="2001:db8:ff::80", proto="IPv6-ICMP", egw__action="allowed")
# Neighbour discovery crossed like ARP: counted, and no flow to a multicast address.
mc = [e for e in evs if str(e.get("dest_ip", "")).lower().startswith("ff")]
good = not mc
print("%s  no event for a multicast destination%-24s %d" % ("PASS" if good else "FAIL", "", len(mc)))
ok = ok and good
for k, least in (("dns_answers", 3), ("resets", 2), ("ipv6_nd", 2)):
    good = st.get(k, 0) >= least
    print("%s  counter %-50s %d" % ("PASS" if good else "FAIL", k, st.get(k, 0)))
    ok = ok and good
for k in ("tx-full", "flow-alloc"):
    good = d.get(k, 0) == 0
    print("%s  counter drops.%-44s %d" % ("PASS" if good else "FAIL", k, d.get(k, 0)))
    ok = ok and good
good = st.get("events_lost") == 0
print("%s  counter events_lost%-40s %s" % ("PASS" if good else "FAIL", "", st.get("events_lost")))
ok = ok and good
good = st.get("reloads") == 3
print("%s  counter reloads%-44s %s" % ("PASS" if good else "FAIL", "", st.get("reloads")))
ok = ok and good
sys.exit(0 if ok else 1)
PY

pids=$(awk '{print $1}' "$SC_STATE/pids")
bash "$lab" down --prefix "$prefix" || fail "lab down"
for p in $pids; do
	[ -d "/proc/$p" ] && fail "process $p left after down"
done
n=$(ip netns list | awk '{print $1}' | grep -c "^$prefix-" || true)
[ "$n" = 0 ] || fail "$n namespaces left"

echo "dataplane-scenarios: $fails failure(s)"
[ "$fails" = 0 ]
