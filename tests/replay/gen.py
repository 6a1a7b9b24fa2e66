#!/usr/bin/python3
"""Write the replay test captures (scapy), one pcap per scenario, into DIR.

Addresses follow the lab plan of ../shared/spec/interfaces.md and the
policy firmware/egw.cfg. Usage: gen.py DIR
"""
import random
import struct
import sys

from scapy.all import (DNS, DNSQR, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether,
                       ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6MLReport2,
                       ICMPv6PacketTooBig,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA,
                       ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, Raw, fragment)

GW = "02:ee:00:00:00:01"
ZW = "02:00:0a:01:00:0a"      # zhang.wei 10.1.0.10 / 2001:db8:1::10
LN = "02:00:0a:01:00:0b"      # li.na 10.1.0.11
WF = "02:00:0a:02:00:14"      # wang.fang 10.2.0.20
ROGUE = "02:00:00:00:00:99"
OUT = "02:ee:00:00:00:02"     # the upstream router, outside

T0 = 1767225600 * 1000000     # 2026-01-01T00:00:00Z, microseconds


class Cap:
    def __init__(self):
        self.pkts = []
        self.times = {}
        self.t = T0

    def add(self, p, dt=1000):
        """p at dt microseconds after the previous packet."""
        self.t += dt
        self.times[id(p)] = self.t
        self.pkts.append(p)

    def write(self, path):
        """Classic pcap, Ethernet; frames written byte for byte (scapy
        would re-dissect broken ones)."""
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for p in self.pkts:
                b = p if isinstance(p, (bytes, bytearray)) else bytes(p)
                us = self.times[id(p)]
                f.write(struct.pack("<IIII", us // 1000000, us % 1000000, len(b), len(b)))
                f.write(b)


def inside(mac, l3):
    return Ether(src=mac, dst=GW) / l3


def outside(l3):
    return Ether(src=OUT, dst=GW) / l3


def tcp_session(c, mac, src, dst, dport, sport=40000, data=b"GET / HTTP/1.1\r\n\r\n"):
    """A whole TCP connection: handshake, one request and answer, FIN both ways."""
    ip, rip = IP(src=src, dst=dst), IP(src=dst, dst=src)
    c.add(inside(mac, ip / TCP(sport=sport, dport=dport, flags="S", seq=1)))
    c.add(outside(rip / TCP(sport=dport, dport=sport, flags="SA", seq=100, ack=2)))
    c.add(inside(mac, ip / TCP(sport=sport, dport=dport, flags="A", seq=2, ack=101)))
    c.add(inside(mac, ip / TCP(sport=sport, dport=dport, flags="PA", seq=2, ack=101) / data))
    c.add(outside(rip / TCP(sport=dport, dport=sport, flags="PA", seq=101, ack=2 + len(data))
                  / Raw(b"HTTP/1.1 200 OK\r\n\r\n")))
    c.add(inside(mac, ip / TCP(sport=sport, dport=dport, flags="FA", seq=2 + len(data), ack=120)))
    c.add(outside(rip / TCP(sport=dport, dport=sport, flags="FA", seq=120, ack=3 + len(data))))
    c.add(inside(mac, ip / TCP(sport=sport, dport=dport, flags="A", seq=3 + len(data), ack=121)))


def dns_query(name, qid=0x1234, qtype="A"):
    return DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype))


def identity(d):
    c = Cap()
    tcp_session(c, ZW, "10.1.0.10", "198.51.100.80", 80)                   # registered
    c.add(inside(ROGUE, IP(src="10.1.0.99", dst="198.51.100.80") / TCP(sport=40001, dport=80, flags="S")))
    c.add(inside(ROGUE, IP(src="10.1.0.10", dst="198.51.100.80") / TCP(sport=40002, dport=80, flags="S")))
    c.add(inside(ROGUE, IP(src="10.1.0.10", dst="198.51.100.80") / TCP(sport=40002, dport=80, flags="S")))
    c.add(inside(ROGUE, IP(src="172.16.5.5", dst="198.51.100.80") / TCP(sport=40003, dport=80, flags="S")))
    # Nothing from outside opens a flow.
    c.add(outside(IP(src="203.0.113.80", dst="10.1.0.10") / TCP(sport=80, dport=40009, flags="S")))
    # health (restricted profile): CN yes, US no.
    tcp_session(c, WF, "10.2.0.20", "192.0.2.80", 443, sport=41000)
    c.add(inside(WF, IP(src="10.2.0.20", dst="203.0.113.80") / TCP(sport=41001, dport=443, flags="S")))
    # finance: ssh abroad is punted (no control plane here: fail closed)
    c.add(inside(LN, IP(src="10.1.0.11", dst="203.0.113.80") / TCP(sport=42000, dport=22, flags="S")))
    # IPv6 terminal, ping across.
    c.add(inside(ZW, IPv6(src="2001:db8:1::10", dst="2001:db8:ff::80") / ICMPv6EchoRequest(id=7, seq=1)))
    c.write(f"{d}/identity.pcap")


def dns(d):
    c = Cap()
    for i, res in enumerate(["198.51.100.53", "198.51.100.54", "203.0.113.53", "192.0.2.53"]):
        c.add(inside(ZW, IP(src="10.1.0.10", dst=res) / UDP(sport=50000 + i, dport=53)
                     / dns_query("www.example.org", qid=i)))
    # TCP DNS to the foreign resolver
    c.add(inside(ZW, IP(src="10.1.0.10", dst="203.0.113.53") / TCP(sport=50010, dport=53, flags="S")))
    # DoT: foreign blocked, approved passes; DoH address blocked on 443.
    c.add(inside(ZW, IP(src="10.1.0.10", dst="203.0.113.53") / TCP(sport=50020, dport=853, flags="S")))
    c.add(inside(ZW, IP(src="10.1.0.10", dst="198.51.100.53") / TCP(sport=50021, dport=853, flags="S")))
    c.add(inside(ZW, IP(src="10.1.0.10", dst="203.0.113.111") / TCP(sport=50022, dport=443, flags="S")))
    # Names the gateway answers NXDOMAIN itself: the canary, a denied category
    # (to the approved resolver and to a foreign one).
    c.add(inside(ZW, IP(src="10.1.0.10", dst="198.51.100.53") / UDP(sport=50030, dport=53)
                 / dns_query("use-application-dns.net")))
    c.add(inside(ZW, IP(src="10.1.0.10", dst="198.51.100.53") / UDP(sport=50031, dport=53)
                 / dns_query("mail.qq.com")))
    c.add(inside(ZW, IP(src="10.1.0.10", dst="203.0.113.53") / UDP(sport=50032, dport=53)
                 / dns_query("gmail.com")))
    c.write(f"{d}/dns.pcap")


def dnsrate(d):
    """60 queries from zhang.wei within 60 ms (limit 50 per second per
    terminal), li.na's one query among them, and zhang.wei's next query a
    second later."""
    c = Cap()
    for i in range(60):
        c.add(inside(ZW, IP(src="10.1.0.10", dst="198.51.100.53") / UDP(sport=51000 + i, dport=53)
                     / dns_query("rate.example", qid=i)))
        if i == 55:
            c.add(inside(LN, IP(src="10.1.0.11", dst="198.51.100.53") / UDP(sport=51100, dport=53)
                         / dns_query("other.example")))
    c.add(inside(ZW, IP(src="10.1.0.10", dst="198.51.100.53") / UDP(sport=51200, dport=53)
                 / dns_query("later.example")), dt=1000000)
    c.write(f"{d}/dnsrate.pcap")


def client_hello(name):
    from scapy.layers.tls.all import TLS, TLSClientHello
    from scapy.layers.tls.extensions import ServerName, TLS_Ext_ServerName
    return bytes(TLS(msg=[TLSClientHello(ext=[TLS_Ext_ServerName(
        servernames=[ServerName(servername=name.encode())])])]))


def names(d):
    """TLS SNI and HTTP Host of a denied category reset the connection."""
    c = Cap()
    for sport, sni in ((47000, "mail.163.com"), (47001, "www.example.org")):
        ip, rip = IP(src="10.1.0.10", dst="198.51.100.80"), IP(src="198.51.100.80", dst="10.1.0.10")
        c.add(inside(ZW, ip / TCP(sport=sport, dport=443, flags="S", seq=1)))
        c.add(outside(rip / TCP(sport=443, dport=sport, flags="SA", seq=100, ack=2)))
        c.add(inside(ZW, ip / TCP(sport=sport, dport=443, flags="PA", seq=2, ack=101) / Raw(client_hello(sni))))
        c.add(outside(rip / TCP(sport=443, dport=sport, flags="A", seq=101, ack=300)))
    ip = IP(src="10.1.0.10", dst="198.51.100.80")
    c.add(inside(ZW, ip / TCP(sport=47002, dport=80, flags="S", seq=1)))
    c.add(inside(ZW, ip / TCP(sport=47002, dport=80, flags="PA", seq=2, ack=1)
                 / Raw(b"GET / HTTP/1.1\r\nHost: outlook.com\r\n\r\n")))
    c.write(f"{d}/names.pcap")


def vlan(d):
    c = Cap()
    c.add(Ether(src=ZW, dst=GW) / Dot1Q(vlan=10) / IP(src="10.1.0.10", dst="198.51.100.80")
          / TCP(sport=43000, dport=80, flags="S"))
    c.add(Ether(src=OUT, dst=GW) / Dot1Q(vlan=10) / IP(src="198.51.100.80", dst="10.1.0.10")
          / TCP(sport=80, dport=43000, flags="SA"))
    c.add(Ether(src=ZW, dst=GW) / Dot1AD(vlan=100) / Dot1Q(vlan=10)
          / IP(src="10.1.0.10", dst="203.0.113.53") / UDP(sport=43001, dport=53) / dns_query("qinq.example"))
    c.add(Ether(src=ZW, dst=GW) / Dot1AD(vlan=100) / Dot1Q(vlan=10)
          / IP(src="10.1.0.10", dst="198.51.100.80") / UDP(sport=43002, dport=5000) / Raw(b"x" * 10))
    c.write(f"{d}/vlan.pcap")


def frags(d):
    c = Cap()
    # A DNS query to a foreign resolver in three fragments: all dropped.
    q = IP(src="10.1.0.10", dst="203.0.113.53", id=0x4242) / UDP(sport=44000, dport=53) / \
        dns_query("a" * 60 + ".example.org", qtype="TXT") / Raw(b"\x00" * 40)
    for f in fragment(q, fragsize=48):
        c.add(inside(ZW, f))
    # An allowed datagram in fragments: all forwarded.
    ok = IP(src="10.1.0.10", dst="198.51.100.80", id=0x4343) / UDP(sport=44001, dport=9000) / Raw(b"y" * 120)
    for f in fragment(ok, fragsize=48):
        c.add(inside(ZW, f))
    # The same DNS query, fragments in reverse order: the later ones come
    # first, without their ports, and are dropped all the same.
    q2 = q.copy()
    q2.id = 0x4444
    for f in reversed(fragment(q2, fragsize=48)):
        c.add(inside(ZW, f))
    c.write(f"{d}/frags.pcap")


def ipv6(d):
    c = Cap()
    src, web = "2001:db8:1::10", "2001:db8:ff::80"
    c.add(inside(ZW, IPv6(src=src, dst=web) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
                 / TCP(sport=45000, dport=443, flags="S")))
    c.add(outside(IPv6(src=web, dst=src) / TCP(sport=443, dport=45000, flags="SA")))
    c.add(inside(ZW, IPv6(src=src, dst=web) / IPv6ExtHdrRouting(addresses=[]) / UDP(sport=45001, dport=5000)
                 / Raw(b"z" * 8)))
    # DNS to a foreign IPv6 resolver hidden behind a fragment header.
    q = IPv6(src=src, dst="2001:db8:ff::53") / IPv6ExtHdrFragment(id=77, m=1, offset=0) / \
        UDP(sport=45002, dport=53, len=200) / Raw(b"\x00" * 16)
    c.add(inside(ZW, q))
    c.add(inside(ZW, IPv6(src=src, dst="2001:db8:ff::53") / IPv6ExtHdrFragment(id=77, m=0, offset=3, nh=17)
                 / Raw(b"\x00" * 16)))
    c.write(f"{d}/ipv6.pcap")


def nd(d):
    """IPv6 neighbour / router discovery both ways (passed like ARP, no
    flow), an MLD report, and ICMPv6 that is not ND: an echo reply from
    outside with no flow, and NAs with hop limit 64 (off link: not ND)."""
    c = Cap()
    zw, rtr, rtr_ll = "2001:db8:1::10", "2001:db8:1::1", "fe80::ee:ff:fe00:2"
    # zhang.wei asks for the router's MAC (to its solicited-node group) ...
    c.add(inside(ZW, IPv6(src=zw, dst="ff02::1:ff00:1", hlim=255)
                 / ICMPv6ND_NS(tgt=rtr) / ICMPv6NDOptSrcLLAddr(lladdr=ZW)))
    # ... the router answers unicast, and probes zhang.wei (unicast NUD).
    c.add(outside(IPv6(src=rtr, dst=zw, hlim=255)
                  / ICMPv6ND_NA(tgt=rtr, R=1, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=OUT)))
    c.add(outside(IPv6(src=rtr, dst=zw, hlim=255) / ICMPv6ND_NS(tgt=zw)
                  / ICMPv6NDOptSrcLLAddr(lladdr=OUT)))
    c.add(inside(ZW, IPv6(src=zw, dst=rtr, hlim=255) / ICMPv6ND_NA(tgt=zw, S=1)))
    # The router advertises itself to all nodes.
    c.add(outside(IPv6(src=rtr_ll, dst="ff02::1", hlim=255) / ICMPv6ND_RA()
                  / ICMPv6NDOptSrcLLAddr(lladdr=OUT)))
    # An MLDv2 report from inside (hop limit 1, link-local source).
    c.add(inside(ZW, IPv6(src="fe80::a:1ff:fe00:a", dst="ff02::16", hlim=1)
                 / IPv6ExtHdrHopByHop(options=[]) / ICMPv6MLReport2()))
    # Not ND: an echo reply nobody asked for, a NA with hop limit 64 from
    # outside (both: no flow, dropped) and one from inside (policy decides).
    c.add(outside(IPv6(src="2001:db8:ff::80", dst=zw) / ICMPv6EchoReply(id=9, seq=1)))
    c.add(outside(IPv6(src=rtr, dst=zw, hlim=64) / ICMPv6ND_NA(tgt=rtr, R=1, S=1, O=1)))
    c.add(inside(ZW, IPv6(src=zw, dst="2001:db8:ff::80", hlim=64) / ICMPv6ND_NA(tgt=zw)))
    c.write(f"{d}/nd.pcap")


def icmperr(d):
    """ICMP errors about flows: fragmentation needed (IPv4) and packet too
    big (IPv6) from routers on the way pass to the terminal; a port
    unreachable from the terminal passes out; an error quoting no flow, or
    a flow the policy blocks, does not pass."""
    c = Cap()
    zw, web6 = "2001:db8:1::10", "2001:db8:ff::80"
    c.add(inside(ZW, IP(src="10.1.0.10", dst="198.51.100.80") / TCP(sport=40100, dport=443, flags="S")))
    c.add(outside(IP(src="198.51.100.80", dst="10.1.0.10") / TCP(sport=443, dport=40100, flags="SA")))
    c.add(outside(IP(src="198.51.100.1", dst="10.1.0.10") / ICMP(type=3, code=4, nexthopmtu=1400)
                  / IP(src="10.1.0.10", dst="198.51.100.80", flags="DF")
                  / TCP(sport=40100, dport=443, flags="A")))
    c.add(inside(ZW, IPv6(src=zw, dst=web6) / TCP(sport=45100, dport=443, flags="S")))
    c.add(outside(IPv6(src=web6, dst=zw) / TCP(sport=443, dport=45100, flags="SA")))
    c.add(outside(IPv6(src="2001:db8:ff::1", dst=zw) / ICMPv6PacketTooBig(mtu=1280)
                  / IPv6(src=zw, dst=web6) / TCP(sport=45100, dport=443, flags="A")))
    # UDP out, an answer in, the terminal says port unreachable.
    c.add(inside(ZW, IP(src="10.1.0.10", dst="198.51.100.80") / UDP(sport=40101, dport=5000) / Raw(b"q")))
    c.add(inside(ZW, IP(src="10.1.0.10", dst="198.51.100.80") / ICMP(type=3, code=3)
                 / IP(src="198.51.100.80", dst="10.1.0.10") / UDP(sport=5000, dport=40101) / Raw(b"a")))
    # Time exceeded quoting a connection nobody opened: dropped.
    c.add(outside(IP(src="198.51.100.1", dst="10.1.0.10") / ICMP(type=11, code=0)
                  / IP(src="10.1.0.10", dst="198.51.100.80") / TCP(sport=40999, dport=443, flags="S")))
    # wang.fang (health) to the US is blocked; so is an error about it.
    c.add(inside(WF, IP(src="10.2.0.20", dst="203.0.113.80") / TCP(sport=40102, dport=80, flags="S")))
    c.add(outside(IP(src="203.0.113.1", dst="10.2.0.20") / ICMP(type=3, code=1)
                  / IP(src="10.2.0.20", dst="203.0.113.80") / TCP(sport=40102, dport=80, flags="S")))
    c.write(f"{d}/icmperr.pcap")


def malformed(d):
    """Broken frames (each must be dropped and counted) and random bytes."""
    rnd = random.Random(1)
    c = Cap()
    good = bytes(Ether(src=ZW, dst=GW) / IP(src="10.1.0.10", dst="198.51.100.80")
                 / UDP(sport=46000, dport=53) / dns_query("x.example"))
    broken = []
    broken.append(good[:13])                                       # no ethertype
    broken.append(good[:14 + 10])                                  # IPv4 cut
    b = bytearray(good); b[14] = 0x43; broken.append(bytes(b))     # IHL 3
    b = bytearray(good); b[16:18] = (9000).to_bytes(2, "big"); broken.append(bytes(b))   # total length
    b = bytearray(good); b[16:18] = (10).to_bytes(2, "big"); broken.append(bytes(b))
    b = bytearray(good); b[14] = 0x65; broken.append(bytes(b))     # version 6 in IPv4
    b = bytearray(good); b[14 + 20 + 4:14 + 20 + 6] = (3).to_bytes(2, "big"); broken.append(bytes(b))  # UDP len 3
    tcp = bytes(Ether(src=ZW, dst=GW) / IP(src="10.1.0.10", dst="198.51.100.80") / TCP(dport=80))
    b = bytearray(tcp); b[14 + 20 + 12] = 0x20; broken.append(bytes(b))   # data offset 2
    opt = bytes(Ether(src=ZW, dst=GW) / IP(src="10.1.0.10", dst="198.51.100.80", ihl=6,
                                          options=b"\x07\x09\x04\x00") / UDP(dport=1))
    broken.append(opt)                                               # option length past header
    v6 = bytes(Ether(src=ZW, dst=GW) / IPv6(src="2001:db8:1::10", dst="2001:db8:ff::80")
               / IPv6ExtHdrDestOpt() / UDP(dport=1))
    b = bytearray(v6); b[14 + 40 + 1] = 20; broken.append(bytes(b))  # ext header past payload
    broken.append(v6[:14 + 30])                                      # IPv6 cut
    chain = Ether(src=ZW, dst=GW) / IPv6(src="2001:db8:1::10", dst="2001:db8:ff::80")
    for _ in range(12):
        chain = chain / IPv6ExtHdrDestOpt()
    broken.append(bytes(chain / UDP(dport=1)))                       # chain too long
    broken.append(bytes(Ether(src=ZW, dst=GW) / Dot1Q() / Dot1Q() / Dot1Q() / IP()))  # 3 tags
    for p in broken:
        c.add(p)
    c.write(f"{d}/malformed.pcap")
    with open(f"{d}/malformed.count", "w") as f:
        f.write(f"{len(broken)}\n")
    c = Cap()
    # Random mutations of the good frame: must never crash (counted or not).
    for _ in range(300):
        b = bytearray(good)
        for _ in range(rnd.randint(1, 6)):
            b[rnd.randrange(12, len(b))] = rnd.randrange(256)
        c.add(bytes(b[:rnd.randint(14, len(b))]))
    c.write(f"{d}/mutated.pcap")


if __name__ == "__main__":
    out = sys.argv[1]
    for fn in (identity, dns, dnsrate, names, vlan, frags, ipv6, nd, icmperr, malformed):
        fn(out)
