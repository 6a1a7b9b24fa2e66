#!/usr/bin/python3
"""Replay test: generate the captures (gen.py), run each through
`egw-dataplane --replay` with firmware/egw.cfg, and check the events and
counters a user would look at. Usage: check_replay.py BUILD_DIR SOURCE_DIR"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

BUILD, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
BIN = os.path.join(BUILD, "dataplane", "egw-dataplane")
CFG = os.path.join(SRC, "firmware", "egw.cfg")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr)


def replay(tmp, name, cfg=CFG):
    out, st = f"{tmp}/{name}.eve.json", f"{tmp}/{name}.stats.json"
    r = subprocess.run([BIN, "--", "--config", cfg, "--replay", f"{tmp}/{name}.pcap",
                        "--replay-out", out, "--stats", st], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        raise SystemExit(f"egw-dataplane --replay {name}.pcap exited {r.returncode}")
    with open(out) as f:
        events = [json.loads(line) for line in f]
    with open(st) as f:
        stats = json.load(f)
    return events, stats


def find(events, **kw):
    """Events whose fields (dotted keys as a__b) all equal kw."""
    res = []
    for e in events:
        ok = True
        for k, v in kw.items():
            cur = e
            for part in k.split("__"):
                cur = cur.get(part) if isinstance(cur, dict) else None
            if cur != v:
                ok = False
                break
        if ok:
            res.append(e)
    return res


def one(events, what, **kw):
    m = find(events, **kw)
    check(len(m) == 1, f"{what}: expected one event {kw}, got {len(m)}")
    return m[0] if m else {}


with tempfile.TemporaryDirectory(prefix="egwt-dataplane-replay-") as tmp:
    for fn in (gen.identity, gen.dns, gen.dnsrate, gen.names, gen.vlan, gen.frags, gen.ipv6, gen.nd, gen.icmperr, gen.malformed):
        fn(tmp)

    # --- identity, profiles, direction
    ev, st = replay(tmp, "identity")
    e = one(ev, "registered flow start", event_type="flow", src_ip="10.1.0.10", src_port=40000,
            flow__reason=None)
    check(e.get("egw", {}).get("rule") == "egw.cfg:81", "registered: rule egw.cfg:81")
    check(e.get("egw", {}).get("user") == "zhang.wei", "registered: user zhang.wei")
    check(e.get("egw", {}).get("action") == "allowed", "registered: allowed")
    end = one(ev, "registered flow end", event_type="flow", src_ip="10.1.0.10", src_port=40000,
              flow__reason="shutdown")
    check(end.get("flow", {}).get("pkts_toserver") == 5 and end["flow"].get("pkts_toclient") == 3,
          "registered: 5 packets out, 3 back, one bidirectional flow")
    check(end.get("flow", {}).get("state") == "closed", "registered: FIN both ways = closed")
    one(ev, "unregistered source in a unit", event_type="drop", src_ip="10.1.0.99",
        egw__reason="unregistered", egw__rule="egw.cfg:52", egw__action="blocked")
    one(ev, "source outside every unit", event_type="drop", src_ip="172.16.5.5",
        egw__reason="unregistered")
    sp = one(ev, "spoofed source (two packets, one event)", event_type="drop", src_ip="10.1.0.10",
             egw__reason="spoof", egw__rule="egw.cfg:30")
    check(sp.get("egw", {}).get("src_mac") == "02:00:00:00:00:99", "spoof: logs the spoofer's MAC")
    check(not find(ev, src_ip="203.0.113.80") and not find(ev, dest_ip="10.1.0.10", src_ip="203.0.113.80"),
          "nothing from outside opens a flow")
    check(st["drops"]["outside-no-flow"] == 1, "outside-no-flow counted once")
    one(ev, "health to CN", event_type="flow", src_ip="10.2.0.20", dest_ip="192.0.2.80",
        flow__reason=None, egw__rule="egw.cfg:86", egw__action="allowed")
    one(ev, "health to US", event_type="drop", src_ip="10.2.0.20", dest_ip="203.0.113.80",
        egw__rule="egw.cfg:87")
    one(ev, "ssh abroad punted", event_type="flow", src_ip="10.1.0.11", dest_port=22,
        flow__reason=None, egw__action="punted", egw__rule="egw.cfg:80", egw__reason="country")
    check(st["drops"]["punt-fail-closed"] == 1, "no control plane, fail_mode closed: punt dropped")
    one(ev, "IPv6 ping", event_type="flow", src_ip="2001:db8:1::10", proto="IPv6-ICMP",
        flow__reason=None, egw__action="allowed")
    check(st["ports"]["outside"]["tx_packets"] == 11, "11 packets forwarded outwards "
          f"(got {st['ports']['outside']['tx_packets']})")
    check(st["ports"]["inside"]["tx_packets"] == 6, "6 replies forwarded inwards")
    check(st["drops"]["spoof"] == 2 and st["drops"]["unregistered"] == 2, "identity drops counted")

    # --- DNS, DoT, DoH
    ev, st = replay(tmp, "dns")
    for res in ("198.51.100.53", "198.51.100.54"):
        one(ev, f"DNS to approved {res}", event_type="dns", dest_ip=res, egw__action="allowed",
            dns__rrname="www.example.org")
    # violation = "redirect": logged with the resolver asked, sent on to redirect_to.
    for res in ("203.0.113.53", "192.0.2.53"):
        one(ev, f"DNS to foreign {res}", event_type="dns", dest_ip=res, egw__action="redirected",
            egw__reason="dns-resolver", egw__rule="egw.cfg:58", dns__rrname="www.example.org")
    one(ev, "TCP DNS to a foreign resolver", event_type="flow", proto="TCP", dest_port=53,
        flow__reason=None, egw__action="redirected", dest_ip="203.0.113.53")
    one(ev, "DoT to a foreign resolver", event_type="drop", dest_port=853, egw__reason="dot",
        egw__rule="egw.cfg:60")
    one(ev, "DoT to the approved resolver", event_type="flow", dest_port=853,
        dest_ip="198.51.100.53", flow__reason=None, egw__action="allowed")
    one(ev, "DoH address", event_type="drop", dest_ip="203.0.113.111", egw__reason="doh",
        egw__rule="egw.cfg:61")
    check(st["ports"]["outside"]["tx_packets"] == 6,
          "approved DNS and DoT leave, foreign DNS leaves redirected, the rest not "
          f"(got {st['ports']['outside']['tx_packets']})")
    check(st["verdicts"]["redirect"] == 3, "three redirected flows")
    # Answered NXDOMAIN by the gateway, back to the terminal, nothing leaves.
    one(ev, "the Firefox canary", event_type="dns", dns__rrname="use-application-dns.net",
        egw__action="blocked", egw__reason="doh", egw__rule="egw.cfg:61", dns__rcode="NXDOMAIN")
    one(ev, "a denied category's name", event_type="dns", dns__rrname="mail.qq.com",
        egw__action="blocked", egw__reason="category:commercial-mail", egw__rule="egw.cfg:79",
        dns__rcode="NXDOMAIN")
    one(ev, "a denied name asked of a foreign resolver", event_type="dns", dns__rrname="gmail.com",
        dest_ip="203.0.113.53", egw__reason="category:commercial-mail", dns__rcode="NXDOMAIN")
    check(st["dns_answers"] == 3 and st["ports"]["inside"]["tx_packets"] == 3,
          "three NXDOMAIN answers sent back inside")

    # --- DNS queries per second per terminal (max_queries_per_second = 50)
    ev, st = replay(tmp, "dnsrate")
    ok = find(ev, event_type="dns", src_ip="10.1.0.10", dns__rrname="rate.example",
              egw__action="allowed")
    over = find(ev, event_type="dns", src_ip="10.1.0.10", dns__rrname="rate.example",
                egw__action="punted", egw__reason="tunnel-suspect", egw__rule="egw.cfg:62")
    check(len(ok) == 50 and len(over) == 10,
          f"rate: 50 queries in a second allowed, the next 10 punted (got {len(ok)}, {len(over)})")
    check(sorted(e.get("dns", {}).get("id") for e in over) == list(range(50, 60)),
          "rate: the queries over the limit are the last 10")
    one(ev, "rate: another terminal in the same second", event_type="dns", src_ip="10.1.0.11",
        dns__rrname="other.example", egw__action="allowed")
    one(ev, "rate: the next second starts over", event_type="dns", src_ip="10.1.0.10",
        dns__rrname="later.example", egw__action="allowed")
    check(st["drops"]["punt-fail-closed"] == 10, "rate: 10 punts, no control plane: dropped "
          f"(got {st['drops']['punt-fail-closed']})")

    # --- TLS SNI / HTTP Host
    ev, st = replay(tmp, "names")
    one(ev, "SNI of a denied category", event_type="tls", tls__sni="mail.163.com",
        egw__action="blocked", egw__reason="category:commercial-mail", egw__rule="egw.cfg:79")
    one(ev, "an allowed SNI", event_type="tls", tls__sni="www.example.org", egw__action="allowed")
    one(ev, "HTTP Host of a denied category", event_type="http", http__hostname="outlook.com",
        egw__action="blocked")
    check(st["resets"] == 2, f"two connections reset (got {st['resets']})")
    check(st["drops"]["sni-host"] == 3, "the denied flows' later packets dropped too "
          f"(got {st['drops']['sni-host']})")
    # Out: 2 SYN + 1 allowed hello + 1 SYN + 2 RSTs to servers; in: 2 SYN-ACK,
    # 2 RSTs to the client, the allowed flow's ACK (the reset flow's is dropped).
    check(st["ports"]["outside"]["tx_packets"] == 6 and st["ports"]["inside"]["tx_packets"] == 5,
          "resets both ways (out %d, in %d)" % (st["ports"]["outside"]["tx_packets"],
                                                st["ports"]["inside"]["tx_packets"]))

    # --- VLAN / QinQ
    ev, st = replay(tmp, "vlan")
    one(ev, "802.1Q flow", event_type="flow", dest_port=80, flow__reason=None, egw__action="allowed")
    one(ev, "QinQ DNS to a foreign resolver", event_type="dns", dns__rrname="qinq.example",
        egw__action="redirected")
    one(ev, "QinQ UDP", event_type="flow", dest_port=5000, flow__reason=None, egw__action="allowed")
    check(st["ports"]["inside"]["tx_packets"] == 1 and st["ports"]["outside"]["tx_packets"] == 3,
          "tagged frames forwarded")

    # --- IPv4 fragments, violation = "drop": every fragment of the query is caught
    drop_cfg = f"{tmp}/drop.cfg"
    with open(CFG) as f:
        text = f.read()
    text = text.replace('violation = "redirect";', 'violation = "drop";').replace(
        '"lab/geo-lab.mmdb"', '"%s"' % os.path.join(SRC, "firmware", "lab", "geo-lab.mmdb"))
    with open(drop_cfg, "w") as f:
        f.write(text)
    ev, st = replay(tmp, "frags", drop_cfg)
    one(ev, "fragmented DNS query to a foreign resolver", event_type="drop", dest_ip="203.0.113.53",
        egw__reason="dns-resolver", egw__rule="drop.cfg:58")
    check(st["fragments"] == 9, f"9 fragments seen (got {st['fragments']})")
    check(st["drops"]["dns-resolver"] == 6,
          f"all 6 fragments of both DNS queries dropped, in order or not (got {st['drops']['dns-resolver']})")
    check(st["ports"]["outside"]["tx_packets"] == 3, "the allowed datagram's 3 fragments pass")
    # ... and under "redirect": the in-order query is redirected whole; of the
    # reversed one, the later fragments (seen before their first) are dropped.
    ev, st = replay(tmp, "frags")
    one(ev, "fragmented DNS query redirected", event_type="flow", dest_ip="203.0.113.53",
        flow__reason=None, egw__action="redirected")
    check(st["drops"]["dns-resolver"] == 2, f"orphan later fragments dropped (got {st['drops']['dns-resolver']})")
    check(st["ports"]["outside"]["tx_packets"] == 7, "3 redirected + 3 allowed + 1 first fragment leave")

    # --- IPv6 extension headers
    ev, st = replay(tmp, "ipv6")
    one(ev, "TCP behind hop-by-hop + destination options", event_type="flow", dest_port=443,
        flow__reason=None, egw__action="allowed")
    one(ev, "UDP behind a routing header", event_type="flow", dest_port=5000, flow__reason=None)
    one(ev, "IPv6 fragmented DNS to a foreign resolver", event_type="drop",
        dest_ip="2001:db8:ff::53", egw__reason="dns-resolver")
    check(st["drops"]["dns-resolver"] == 2, "both IPv6 fragments dropped")
    check(st["ports"]["inside"]["tx_packets"] == 1 and st["ports"]["outside"]["tx_packets"] == 2,
          "IPv6 forwarding both ways")

    # --- IPv6 neighbour / router discovery passes like ARP, nothing else does
    ev, st = replay(tmp, "nd")
    check(st["ipv6_nd"] == 5, f"NS, NA, NUD NS, NA and RA passed as ND (got {st['ipv6_nd']})")
    check(st["ipv6_mld"] == 1, f"the MLD report passed as MLD (got {st['ipv6_mld']})")
    check(not find(ev, dest_ip="ff02::1:ff00:1") and not find(ev, dest_ip="ff02::16")
          and not find(ev, dest_ip="ff02::1"), "ND and MLD open no flow to a multicast address")
    check(not find(ev, src_ip="2001:db8:1::1") and not find(ev, src_ip="2001:db8:ff::80"),
          "nothing from outside opens a flow")
    check(st["drops"]["outside-no-flow"] == 2,
          "an echo reply and a hop-limit-64 NA from outside have no flow: dropped "
          f"(got {st['drops']['outside-no-flow']})")
    na64 = one(ev, "a hop-limit-64 NA from inside is not ND: it goes through policy",
               event_type="flow", src_ip="2001:db8:1::10", dest_ip="2001:db8:ff::80",
               proto="IPv6-ICMP", flow__reason=None)
    check(na64.get("egw", {}).get("rule") == "egw.cfg:81", "the hop-limit-64 NA: matched by rule 81")
    check(st["flows"]["created"] == 1, f"one flow: the inside NA with hop limit 64 (got {st['flows']['created']})")
    # Out: NS, NA (inside's), MLD, the hop-limit-64 NA; in: NA, NS, RA.
    check(st["ports"]["outside"]["tx_packets"] == 4 and st["ports"]["inside"]["tx_packets"] == 3,
          "ND both ways (out %d, in %d)" % (st["ports"]["outside"]["tx_packets"],
                                          st["ports"]["inside"]["tx_packets"]))

    # --- ICMP errors take the verdict of the flow they quote
    ev, st = replay(tmp, "icmperr")
    check(st["icmp_errors"] == 4, "frag-needed, packet-too-big, port-unreachable (allowed "
          f"flows) and unreachable (a blocked flow) took their flow's verdict (got {st['icmp_errors']})")
    check(st["drops"]["icmp-error-no-flow"] == 1,
          f"time exceeded about no flow dropped (got {st['drops']['icmp-error-no-flow']})")
    check(st["drops"]["profile"] == 2, "the blocked flow and the error about it dropped "
          f"(got {st['drops']['profile']})")
    # Out: 2 SYN, the UDP datagram, the port unreachable; in: 2 SYN-ACK, 2 errors.
    check(st["ports"]["outside"]["tx_packets"] == 4 and st["ports"]["inside"]["tx_packets"] == 4,
          "ICMP errors forwarded (out %d, in %d)" % (st["ports"]["outside"]["tx_packets"],
                                                    st["ports"]["inside"]["tx_packets"]))
    check(not find(ev, src_ip="198.51.100.1") and not find(ev, src_ip="2001:db8:ff::1")
          and not find(ev, event_type="flow", proto="ICMP"), "ICMP errors open no flow")

    # --- malformed frames: each dropped and counted by reason
    ev, st = replay(tmp, "malformed")
    with open(f"{tmp}/malformed.count") as f:
        n = int(f.read())
    parse = ["eth-truncated", "vlan-truncated", "vlan-too-deep", "ipv4-truncated",
             "ipv4-bad-version", "ipv4-bad-ihl", "ipv4-bad-total-length", "ipv4-bad-options",
             "ipv4-bad-fragment", "ipv6-truncated", "ipv6-bad-version", "ipv6-bad-payload-length",
             "ipv6-ext-truncated", "ipv6-ext-chain-too-long", "ipv6-ext-bad-order",
             "ipv6-bad-fragment", "tcp-truncated", "tcp-bad-data-offset", "udp-truncated",
             "udp-bad-length", "icmp-truncated"]
    total = sum(st["drops"][r] for r in parse)
    check(total == n, f"{n} malformed frames, {total} counted as malformed")
    for r in ("eth-truncated", "ipv4-bad-ihl", "ipv4-bad-total-length", "ipv4-bad-version",
              "udp-bad-length", "tcp-bad-data-offset", "ipv4-bad-options", "ipv6-ext-truncated",
              "ipv6-truncated", "ipv6-ext-chain-too-long", "vlan-too-deep"):
        check(st["drops"][r] >= 1, f"malformed: {r} counted")
    check(not ev, "malformed frames make no events")
    ev, st = replay(tmp, "mutated")
    check(st["ports"]["inside"]["rx_packets"] + st["ports"]["outside"]["rx_packets"] == 300,
          "300 mutated frames all read, no crash")

    # --- --replay-out: written in full or not at all, never over its input
    def run(*args):
        return subprocess.run([BIN, "--", "--config", CFG, *args], capture_output=True,
                              text=True)
    prev = f"{tmp}/prev.json"
    with open(prev, "w") as f:
        f.write("earlier results\n")
    r = run("--replay", f"{tmp}/nosuch.pcap", "--replay-out", prev)
    check(r.returncode == 1 and "nosuch.pcap" in r.stderr,
          f"a missing capture is named, exit 1 (got {r.returncode}: {r.stderr.strip()})")
    with open(prev) as f:
        check(f.read() == "earlier results\n", "a failed replay leaves --replay-out as it was")
    check(sorted(os.listdir(tmp)) == sorted(x for x in os.listdir(tmp) if ".json." not in x),
          "a failed replay leaves no temporary file")
    cap = f"{tmp}/identity.pcap"
    size = os.path.getsize(cap)
    r = run("--replay", cap, "--replay-out", cap)
    check(r.returncode == 1 and "is the input" in r.stderr,
          f"--replay-out naming the capture is refused (got {r.returncode}: {r.stderr.strip()})")
    os.link(cap, f"{tmp}/same.pcap")
    r = run("--replay", cap, "--replay-out", f"{tmp}/same.pcap")
    check(r.returncode == 1 and os.path.getsize(cap) == size,
          "--replay-out naming the capture by another name is refused, the capture intact")
    os.chmod(prev, 0o640)
    r = run("--replay", cap, "--replay-out", prev)
    with open(prev) as f:
        lines = f.read().splitlines()
    check(r.returncode == 0 and lines and all(json.loads(x)["event_type"] for x in lines),
          "a replay that succeeds replaces --replay-out with its events")
    check(os.stat(prev).st_mode & 0o777 == 0o640, "the replaced file keeps its mode")
    r = run("--replay", cap, "--replay-out", "/dev/stdout")
    check(r.returncode == 0 and r.stdout.count("\n") == len(lines),
          "--replay-out /dev/stdout is written as it is")

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("replay: all checks passed")
