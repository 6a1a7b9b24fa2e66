#!/usr/bin/python3
"""Client side of tests/lab/e2e-feedback.test.sh, run in a lab terminal's
namespace: one long-lived flow, the counters of both daemons read before and
after its later packets (egwctl over the lab's unix sockets, which are not
tied to a network namespace).

  e2e-feedback.py tcp ADDR PORT N EGWCTL CONTROLD_SOCK DP_SOCK
      connect, one round trip (an SSH-like banner: the first data segment
      that egw-controld inspects), wait until the fast path holds the flow's
      control-plane verdict, then N more round trips.
  e2e-feedback.py dns ADDR N EGWCTL CONTROLD_SOCK DP_SOCK [FIRST_NAME]
      one UDP socket: optionally FIRST_NAME (TXT) first, then a query whose
      name has tunnelling signs, wait for the fast path's verdict, then N
      more queries (alternating harmless and tunnel-like names).

Prints one JSON object: the flow's 5-tuple, what was answered in each phase,
the fast path's flow as `egwctl flows` shows it after the first phase, and
three snapshots of `egwctl stats --json` (before, after the first phase,
after the N packets).
"""
import json
import random
import socket
import string
import subprocess
import sys
import time


def stats(egwctl, csock, dsock):
    out = subprocess.run([egwctl, "stats", "--json", "--socket", csock,
                          "--dataplane-socket", dsock],
                         capture_output=True, text=True, timeout=10).stdout
    s = json.loads(out)
    dp = s.get("dataplane", {})
    return {"punts": dp.get("punts"), "fail_open": dp.get("fail_open"),
            "drops": dp.get("drops", {}), "control_plane": dp.get("control_plane"),
            "queue_packets": s.get("queue", {}).get("packets"),
            "verdicts_sent": s.get("fastpath", {}).get("verdicts_sent")}


def dp_flow(egwctl, csock, dsock, src, sport, dst, dport):
    out = subprocess.run([egwctl, "flows", "--json", "--ip", dst, "--socket", csock,
                          "--dataplane-socket", dsock],
                         capture_output=True, text=True, timeout=10).stdout
    f = json.loads(out)
    mine = None
    for x in f.get("dataplane", {}).get("flows", []):
        if (x["src_ip"], x["src_port"], x["dest_ip"], x["dest_port"]) == (src, sport, dst, dport):
            mine = x
    cd = [x for x in f.get("controld", [])
          if (x["src_ip"], x["src_port"], x["dest_ip"], x["dest_port"]) == (src, sport, dst, dport)]
    return mine, (cd[0] if cd else None)


def wait_verdict(egwctl, csock, dsock, tup, want):
    """The fast path's flow once its verdict is want (10 s at most)."""
    end = time.time() + 10
    f = c = None
    while time.time() < end:
        f, c = dp_flow(egwctl, csock, dsock, *tup)
        if f and f["verdict"] == want and f["reason"] == "control-plane":
            break
        time.sleep(0.1)
    return f, c


def dns_query(name, qtype=16):
    qid = random.randrange(65536)
    q = qid.to_bytes(2, "big") + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return qid, q + b"\x00" + qtype.to_bytes(2, "big") + b"\x00\x01"


def tunnel_name():
    alpha = string.ascii_lowercase + "234567"
    lab = "".join(random.choice(alpha) for _ in range(60))
    return "%s.%s.t.example.net" % (lab, lab[::-1])


def main():
    mode = sys.argv[1]
    res = {}
    if mode == "tcp":
        addr, port, n, egwctl, csock, dsock = sys.argv[2:8]
        port, n = int(port), int(n)
        res["before"] = stats(egwctl, csock, dsock)
        s = socket.create_connection((addr, port), timeout=5)
        src, sport = s.getsockname()[:2]
        res["tuple"] = [src, sport, addr, port]
        s.sendall(b"SSH-2.0-egw_e2e\r\n")
        res["first"] = s.recv(200).decode(errors="replace")
        f, c = wait_verdict(egwctl, csock, dsock, res["tuple"], "allow")
        res["dp_flow"], res["cd_flow"] = f, c
        time.sleep(0.3)   # segments still in flight through the punt path
        res["mid"] = stats(egwctl, csock, dsock)
        ok = 0
        for i in range(n):
            msg = ("line %d\n" % i).encode()
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                d = s.recv(200)
                if not d:
                    break
                got += d
            ok += got == msg
        res["echoed"] = ok
        res["after"] = stats(egwctl, csock, dsock)
        res["dp_flow_after"], _ = dp_flow(egwctl, csock, dsock, *res["tuple"])
        s.close()
    else:
        addr, n, egwctl, csock, dsock = sys.argv[2:7]
        first = sys.argv[7] if len(sys.argv) > 7 else None
        n = int(n)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((addr, 53))
        s.settimeout(1.5)
        src, sport = s.getsockname()[:2]
        res["tuple"] = [src, sport, addr, 53]

        def ask(name):
            qid, q = dns_query(name)
            s.send(q)
            try:
                while True:
                    r = s.recv(1500)
                    if r[:2] == qid.to_bytes(2, "big"):
                        text = "".join(ch for ch in r[12:].decode("latin-1") if ch.isprintable())
                        return "rcode%d" % (r[3] & 15) + (":" + text if r[3] & 15 == 0 else "")
            except socket.timeout:
                return "timeout"
        if first:
            res["first"] = ask(first)
        res["before"] = stats(egwctl, csock, dsock)
        res["tunnel"] = ask(tunnel_name())
        f, c = wait_verdict(egwctl, csock, dsock, res["tuple"], "drop")
        res["dp_flow"], res["cd_flow"] = f, c
        res["mid"] = stats(egwctl, csock, dsock)
        s.settimeout(0.2)
        res["later"] = [ask("www.example.com" if i % 2 else tunnel_name()) for i in range(n)]
        time.sleep(0.3)
        res["after"] = stats(egwctl, csock, dsock)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
