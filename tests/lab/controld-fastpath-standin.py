#!/usr/bin/python3
"""A stand-in for egw-dataplane's IPC socket (rules/include/egw/ipc.h), for
the controld lab tests: logs every message egw-controld sends (one line
each: type and details) and answers STATS_REQUEST and RELOAD.
Usage: controld-fastpath-standin.py SOCKET LOG [--refuse-reload MESSAGE]"""
import os, socket, struct, sys, json, threading

MAGIC, VERSION = 0x49574745, 1
EVENTS, FLOW_VERDICT, STATS_REQUEST, STATS_REPLY, RELOAD, RELOAD_REPLY = 1, 2, 3, 4, 5, 6

path, logpath = sys.argv[1], sys.argv[2]
refuse = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--refuse-reload" else None
log = open(logpath, "a", buffering=1)

def hdr(t, length, seq):
    return struct.pack("=IHHII", MAGIC, VERSION, t, length, seq)

def cstr(b):
    return b.split(b"\0", 1)[0].decode()

srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv.bind(path)
srv.listen(4)
log.write("listening\n")
def serve(conn):
    log.write("connected\n")
    while True:
        m = conn.recv(70000)
        if not m:
            log.write("closed\n")
            break
        magic, ver, t, length, seq = struct.unpack_from("=IHHII", m)
        if magic != MAGIC or ver != VERSION or length != len(m):
            log.write("BAD header\n")
            continue
        if t == FLOW_VERDICT:
            fam, proto, verdict = m[16], m[17], m[18]
            sport, dport = struct.unpack_from("=HH", m, 20)
            log.write("FLOW_VERDICT proto=%d verdict=%d dport=%d reason=%s rule=%s\n" % (
                proto, verdict, dport, cstr(m[72:120]), cstr(m[120:216])))
        elif t == STATS_REQUEST:
            q = json.loads(m[16:]) if len(m) > 16 else {}
            if q.get("what") == "flows":
                body = json.dumps({"flows": [{"src_ip": "10.1.0.10", "src_port": 1,
                    "dest_ip": "198.51.100.80", "dest_port": 443, "proto": 6,
                    "verdict": "allowed", "unit": q.get("unit", "finance"),
                    "rule": "policy.cfg:23", "reason": "fastpath-standin"}]}).encode()
            else:
                body = json.dumps({"ports": {"inside": {"rx_packets": 42}}}).encode()
            conn.send(hdr(STATS_REPLY, 16 + len(body), seq) + body)
            log.write("STATS_REQUEST\n")
        elif t == RELOAD:
            phase, _, gen = struct.unpack_from("=IIQ", m, 16)
            log.write("RELOAD phase=%d gen=%d path=%s\n" % (phase, gen, cstr(m[32:])))
            status, msg = 0, b""
            if refuse and phase == 1:
                status, msg = -22, refuse.encode()
            reply = hdr(RELOAD_REPLY, 544, seq) + struct.pack("=IiQ", phase, status, gen) + \
                msg.ljust(512, b"\0")
            conn.send(reply)
        else:
            log.write("type %d\n" % t)

while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
