#!/usr/bin/python3
"""A minimal client of egw-dataplane's control-plane socket (egw/ipc.h),
for tests. `ipc_client.py events SOCK SECONDS [READY]`: subscribe (send nothing)
and print each received event as JSON (the struct's main fields); READY, a
file created once connected, tells the test it may start its traffic.
`ipc_client.py stats SOCK`: STATS_REQUEST, print the JSON reply.
`ipc_client.py flows SOCK [IP]`: the same with {"what": "flows"}.
`ipc_client.py verdict SOCK SRC SPORT DST DPORT allow|drop`: one TCP
FLOW_VERDICT (IPv4), as egw-controld sends it; no reply."""
import json
import socket
import struct
import sys
import time

MAGIC, VERSION = 0x49574745, 1
EVENTS, FLOW_VERDICT, STATS_REQUEST, STATS_REPLY = 1, 2, 3, 4
# struct egw_ipc_flow_verdict after the header (egw/ipc.h)
VERDICT = struct.Struct("<BBBBHH16s16sI4xQ48s96s")
HDR = struct.Struct("<IHHII")


def hdr(kind, length, seq):
    return HDR.pack(MAGIC, VERSION, kind, length, seq)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    if mode == "verdict":
        src, sport, dst, dport, what = sys.argv[3:8]
        body = VERDICT.pack(socket.AF_INET, 6, {"allow": 0, "drop": 1}[what], 0,
                            int(sport), int(dport), socket.inet_aton(src),
                            socket.inet_aton(dst), 0, 0, b"test", b"test:1")
        s.send(hdr(FLOW_VERDICT, HDR.size + len(body), 7) + body)
        return 0
    if mode in ("stats", "flows"):
        body = b""
        if mode == "flows":
            q = {"what": "flows"}
            if len(sys.argv) > 3:
                q["ip"] = sys.argv[3]
            body = json.dumps(q).encode()
        s.send(hdr(STATS_REQUEST, HDR.size + len(body), 9) + body)
        s.settimeout(5)
        while True:
            m = s.recv(65536)
            magic, ver, kind, length, seq = HDR.unpack_from(m)
            if kind == STATS_REPLY and seq == 9:
                print(json.dumps(json.loads(m[HDR.size:length]), indent=1))
                return 0
    end = time.time() + float(sys.argv[3])
    if len(sys.argv) > 4:
        open(sys.argv[4], "w").close()
    got = 0
    while time.time() < end:
        s.settimeout(max(0.05, end - time.time()))
        try:
            m = s.recv(65536)
        except socket.timeout:
            break
        magic, ver, kind, length, seq = HDR.unpack_from(m)
        assert magic == MAGIC and ver == VERSION and length == len(m), "bad header"
        if kind != EVENTS:
            continue
        count, lost = struct.unpack_from("<II", m, HDR.size)
        size = (length - HDR.size - 8) // count
        for i in range(count):
            ev = m[HDR.size + 8 + i * size: HDR.size + 8 + (i + 1) * size]
            etype, action, family = ev[0], ev[1], ev[2]
            alen = 4 if family == socket.AF_INET else 16
            src = socket.inet_ntop(family, ev[8:8 + alen]) if family else ""
            print(json.dumps({"type": etype, "action": action, "src_ip": src}))
            got += 1
    print(f"events: {got}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
