#!/usr/bin/env bash
# The benchmark's input tools do what bench/RESULTS.md says they do:
# bench_pcapgen's captures read back (scapy) with the asked flow count,
# sizes, DNS and IPv6 shares, valid checksums and the terminal address
# plan, its trafgen output carries the same frames, and gen_policy.py's
# policy passes `egwctl policy check` and registers exactly the terminals
# the captures send from (the fast path's replay sees no unregistered or
# spoofed source).
#   tests/golden/bench-tools.test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
gen="$build/bench/bench_pcapgen"
ctl="$build/control/egwctl"
dp="$build/dataplane/egw-dataplane"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "bench-tools: $*" >&2; exit 1; }

# Bad arguments are refused.
if "$gen" --out "$tmp/x.pcap" --size 100 2>/dev/null; then fail "--size 100 accepted"; fi
if "$gen" --out "$tmp/x.pcap" --dns-share 1.5 2>/dev/null; then fail "--dns-share 1.5 accepted"; fi

"$gen" --out "$tmp/a.pcap" --flows 50 --packets 500 --terminals 20 --seed 7 2>/dev/null
"$gen" --out "$tmp/a.trafgen" --format trafgen --flows 50 --packets 500 --terminals 20 \
    --seed 7 2>/dev/null
"$gen" --out "$tmp/imix.pcap" --flows 100 --packets 1200 --terminals 20 --size imix 2>/dev/null
"$gen" --out "$tmp/new.pcap" --flows 10 --packets 300 --terminals 20 --new-flow-ratio 1 2>/dev/null
"$gen" --out "$tmp/dns.pcap" --flows 30 --packets 60 --terminals 20 --dns-share 1 \
    --v6-share 0 2>/dev/null
"$gen" --out "$tmp/v6.pcap" --flows 30 --packets 60 --terminals 20 --v6-share 1 2>/dev/null

/usr/bin/python3 - "$tmp" <<'EOF'
import sys
from scapy.all import rdpcap, raw, Ether, IP, IPv6, TCP, UDP, DNS

tmp = sys.argv[1]
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


def term_v4(k):
    return "10.%d.%d.%d" % (1 + k // 60000, k % 60000 // 250, k % 250 + 1)


terms = {term_v4(k): k for k in range(20)}


def flow(p):
    l3 = p[IP] if IP in p else p[IPv6]
    l4 = p[TCP] if TCP in p else p[UDP]
    return (l3.src, l3.dst, l4.sport, l4.dport, type(l4).__name__)


def checksums_ok(p):
    """Let scapy compute the checksums afresh and compare with the frame's."""
    q = Ether(raw(p))
    if IP in q:
        del q[IP].chksum
    for l in (TCP, UDP):
        if l in q:
            del q[l].chksum
    return raw(q) == raw(p)


def check_file(name, n):
    pk = rdpcap("%s/%s" % (tmp, name))
    check(len(pk) == n, "%s: %d packets, want %d" % (name, len(pk), n))
    for i, p in enumerate(pk):
        check(checksums_ok(p), "%s: packet %d has a bad checksum" % (name, i))
        l3 = p[IP] if IP in p else p[IPv6] if IPv6 in p else None
        check(l3 is not None, "%s: packet %d is not IP" % (name, i))
        if l3 is None:
            continue
        if IP in p:
            check(l3.src in terms, "%s: packet %d from %s, not a terminal" % (name, i, l3.src))
            b = [int(x) for x in l3.src.split(".")]
            check(p[Ether].src == "02:00:%02x:%02x:%02x:%02x" % tuple(b),
                  "%s: packet %d: MAC %s does not match %s" % (name, i, p[Ether].src, l3.src))
        else:
            check(l3.src.startswith("2001:db8:1::"), "%s: packet %d from %s" % (name, i, l3.src))
    return pk


a = check_file("a.pcap", 500)
# 60 bytes (64 with the FCS), or the headers' minimum when longer (IPv6
# TCP: 74; DNS queries carry their question).
for i, p in enumerate(a):
    want = max(60, 14 + (40 if IPv6 in p else 20) + (20 if TCP in p else 8) +
               (32 if UDP in p and p[UDP].dport == 53 else 0))
    check(len(p) == want, "a.pcap: packet %d is %d bytes, want %d" % (i, len(p), want))
nflows = len({flow(p) for p in a})
check(nflows == 50, "a.pcap: %d distinct flows, want 50" % nflows)

im = check_file("imix.pcap", 1200)
sizes = {}
for p in im:
    sizes[len(p)] = sizes.get(len(p), 0) + 1
# IMIX 60/566/1510; a small frame grows to its headers' minimum (< 100)
check({60, 566, 1510} <= set(sizes) and all(s < 100 or s in (566, 1510) for s in sizes),
      "imix.pcap: sizes %s" % sorted(sizes))
check(sizes.get(60, 0) > sizes.get(566, 0) > sizes.get(1510, 0),
      "imix.pcap: not a 7:4:1 mix: %s" % sizes)

nw = check_file("new.pcap", 300)
n = len({flow(p) for p in nw})
check(n >= 290, "new.pcap: %d distinct flows in 300 one-packet flows" % n)

dn = check_file("dns.pcap", 60)
for i, p in enumerate(dn):
    ok = UDP in p and p[UDP].dport == 53 and DNS in p and p[DNS].qd is not None \
        and p[DNS].qd.qname == b"www.example.cn."
    check(ok, "dns.pcap: packet %d is not a DNS query for www.example.cn" % i)

v6 = check_file("v6.pcap", 60)
check(all(IPv6 in p for p in v6), "v6.pcap: not all IPv6")

# The trafgen config holds the same frames as the capture of the same seed.
tg = []
with open("%s/a.trafgen" % tmp) as f:
    for line in f:
        line = line.strip()
        if line:
            check(line[0] == "{" and line[-1] == "}", "a.trafgen: bad line %r" % line[:40])
            tg.append(bytes(int(x, 16) for x in line[1:-1].split(",")))
check(tg == [raw(p) for p in a], "a.trafgen: frames differ from a.pcap")

for e in errors[:20]:
    print("bench-tools:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF

# gen_policy.py: a valid policy whose terminals are the captures' sources.
geo="$src/../shared/fixtures/mmdb/GeoIP2-City-Test.mmdb"
for spec in "100 20" "10000 300"; do
    set -- $spec
    /usr/bin/python3 "$src/bench/gen_policy.py" --rules "$1" --terminals "$2" --geo-db "$geo" \
        --region CN-22 --inside "net_pcap0,rx_pcap=$tmp/a.pcap" --log-dir "$tmp/log" \
        > "$tmp/p$1.cfg"
    out=$("$ctl" policy check "$tmp/p$1.cfg") || fail "policy check: $out"
    units=$(( ($2 + 59999) / 60000 ))
    want="$units unit$([ $units = 1 ] || echo s), $(($2 * 2)) terminals"
    case $out in
    *"$want"*) ;;
    *) fail "gen_policy --rules $1 --terminals $2: '$out' lacks '$want'" ;;
    esac
done
if [ -x "$dp" ]; then
    # Every packet of the capture comes from a registered terminal with its
    # own MAC: the fast path drops none as unregistered or spoofed.
    "$dp" -- --config "$tmp/p100.cfg" --replay "$tmp/a.pcap" --replay-out "$tmp/ev.json" \
        --stats "$tmp/st.json" 2>"$tmp/dp.err" || { cat "$tmp/dp.err" >&2; fail "replay failed"; }
    /usr/bin/python3 - "$tmp/st.json" <<'EOF' || fail "replay of the capture through the policy"
import json, sys
s = json.load(open(sys.argv[1]))
rx = s["ports"]["inside"]["rx_packets"]
bad = {k: s["drops"][k] for k in ("unregistered", "spoof")}
print("replay: %d packets, %s" % (rx, bad))
sys.exit(0 if rx == 500 and not any(bad.values()) else 1)
EOF
fi
echo "bench-tools: ok"
