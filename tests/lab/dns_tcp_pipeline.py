#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Lab helper: DNS queries over one TCP connection, as RFC 7766 allows.

dns_tcp_pipeline.py RESOLVER NAMES [split] [timeout]
  NAMES: comma-separated; every query (type A) is written in ONE segment
  (pipelined), or with "split" the one query in two segments (its first
  half, 0.3 s, the rest). Prints what the client saw: "ok" when every
  query was answered, "reset" when the connection was reset, "closed"
  when it ended before every answer came, "timeout" otherwise; then the
  answers' rcodes. Exit 0 whatever was seen (the caller compares).
"""
import socket
import struct
import sys
import time


def query(qid, name):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    return struct.pack(">H", len(q)) + q


def main():
    res, names = sys.argv[1], sys.argv[2].split(",")
    split = len(sys.argv) > 3 and sys.argv[3] == "split"
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 3.0
    fam = socket.AF_INET6 if ":" in res else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rcodes = []
    try:
        s.connect((res, 53))
        data = b"".join(query(0x1000 + i, n) for i, n in enumerate(names))
        if split:
            s.sendall(data[: len(data) // 2])
            time.sleep(0.3)
            s.sendall(data[len(data) // 2:])
        else:
            s.sendall(data)
        buf = b""
        while len(rcodes) < len(names):
            chunk = s.recv(4096)
            if not chunk:
                print("closed", *rcodes)
                return
            buf += chunk
            while len(buf) >= 2 and len(buf) >= 2 + (buf[0] << 8 | buf[1]):
                n = buf[0] << 8 | buf[1]
                msg, buf = buf[2:2 + n], buf[2 + n:]
                rcodes.append({0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}.get(msg[3] & 15, str(msg[3] & 15)))
        print("ok", *rcodes)
    except (ConnectionResetError, BrokenPipeError):
        print("reset", *rcodes)
    except socket.timeout:
        print("timeout", *rcodes)
    except OSError as e:
        print("error:" + (e.strerror or "os").replace(" ", "-").lower(), *rcodes)
    finally:
        s.close()


if __name__ == "__main__":
    main()
