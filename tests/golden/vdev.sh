# Shared by the golden tests that run egw-dataplane on vdevs (net_pcap in,
# net_null out and punt; no network). Source it; needs $src (the source
# directory).

# vdev_capture OUT COUNT tcp|udp: COUNT frames from the lab's registered
# terminal 10.1.0.10 (MAC 02:00:0a:01:00:0a) to 198.51.100.1-100 port 443
# from ports 40000-40049: TCP SYNs, or UDP datagrams of 18 zero bytes.
vdev_capture() {
    python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
out, count, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(count):
        eth = bytes.fromhex("02aaaaaaaaaa" "02000a01000a" "0800")
        src, dst = bytes([10, 1, 0, 10]), bytes([198, 51, 100, 1 + i % 100])
        if proto == "tcp":
            l4 = struct.pack("!HHIIBBHHH", 40000 + i % 50, 443, 1, 0, 0x50, 0x02, 65535, 0, 0)
            num = 6
        else:
            l4 = struct.pack("!HHHH", 40000 + i % 50, 443, 8 + 18, 0) + bytes(18)
            num = 17
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), i & 0xffff, 0, 64, num, 0,
                         src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frame = eth + ip + l4
        f.write(struct.pack("<IIII", i // 1000, (i % 1000) * 1000, len(frame), len(frame)))
        f.write(frame)
PY
}

# vdev_policy PCAP OUT: the lab policy (firmware/egw.cfg) with its ports
# replaced: PCAP replayed without end on the inside, net_null outside and
# punt.
vdev_policy() {
    sed -e "s|\"net_af_packet0,iface=egw-in\"|\"net_pcap0,rx_pcap=$1,infinite_rx=1\"|" \
        -e 's|"net_af_packet1,iface=egw-out"|"net_null0,no-rx=1"|' \
        -e 's|"net_tap0,iface=egw-punt"|"net_null1,no-rx=1"|' \
        -e "s|\"lab/geo-lab.mmdb\"|\"$src/firmware/lab/geo-lab.mmdb\"|" \
        "$src/firmware/egw.cfg" > "$2"
    grep -q 'net_pcap0' "$2" || { echo "FAIL: could not rewrite the policy's ports" >&2; return 1; }
}
