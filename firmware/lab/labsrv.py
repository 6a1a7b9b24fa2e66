#!/usr/bin/python3
"""The lab's "internet" servers, one process (started by lab.sh in the "net"
namespace).

Every server answers with its own identity so a test can tell which one
replied (a redirect or a wrong route is visible):
  --web ADDR        HTTP on ADDR:80 and HTTPS on ADDR:443, body
                    "egw-lab web ADDR host=HOST sni=SNI"; GET /bytes/N
                    answers N bytes (bulk TCP through the gateway)
  --tls ADDR:PORT:NAME  TLS only (no HTTP parsing needed by the client):
                    after the handshake the server writes "egw-lab NAME ADDR"
                    and, if the client sends an HTTP request, answers it with
                    the same line (the DoH/DoT stand-in)
  --probe ADDR      UDP port 9999: every datagram is logged as
                    "probe SRC PAYLOAD" to --log and echoed back as
                    "egw-lab probe ADDR from SRC PAYLOAD" (spoof checks look at
                    the log: a spoofed source never gets the reply)
Writes --ready FILE once every socket is bound. Runs until SIGTERM.
"""
import argparse
import os
import signal
import socket
import ssl
import sys
import threading

MAX_BULK = 64 << 20     # GET /bytes/N: N bytes of "x", N at most 64 MiB
LOCK = threading.Lock()
LOG = None


def log(line):
    with LOCK:
        LOG.write(line + "\n")
        LOG.flush()


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def listen(addr, port, kind=socket.SOCK_STREAM):
    s = socket.socket(family(addr), kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    if kind == socket.SOCK_STREAM:
        s.listen(64)
    return s


def read_request(conn):
    """Reads an HTTP request head (bounded); returns the Host header or ''."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 16384:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    host = ""
    for line in data.split(b"\r\n")[1:]:
        if line[:5].lower() == b"host:":
            host = line[5:].strip().decode("ascii", "replace")
    return data, host


def http_reply(conn, body):
    body = (body + "\n").encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                 b"Connection: close\r\nContent-Length: " +
                 str(len(body)).encode() + b"\r\n\r\n" + body)


def bulk_reply(conn, n):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                 b"\r\nConnection: close\r\nContent-Length: " +
                 str(n).encode() + b"\r\n\r\n")
    block = b"x" * 65536
    while n > 0:
        conn.sendall(block[:min(n, len(block))])
        n -= min(n, len(block))


def serve_conn(conn, peer, addr, port, ctx, ident):
    sni = [""]
    try:
        conn.settimeout(10)
        if ctx is not None:
            conn = ctx.wrap_socket(conn, server_side=True)
            sni[0] = getattr(conn, "egw_sni", "") or ""
        if ident is not None:  # TLS-only stand-in
            line = "egw-lab %s %s" % (ident, addr)
            conn.settimeout(1)
            try:
                data, _ = read_request(conn)
            except (socket.timeout, ssl.SSLError, OSError):
                data = b""
            if data.startswith((b"GET ", b"POST ")):
                http_reply(conn, line)
            else:
                conn.sendall((line + "\n").encode())
        else:
            data, host = read_request(conn)
            if not data:
                return
            path = data.split(b" ", 2)[1] if data.count(b" ") >= 2 else b"/"
            if path.startswith(b"/bytes/") and path[7:].isdigit() and \
                    int(path[7:]) <= MAX_BULK:
                bulk_reply(conn, int(path[7:]))
            else:
                http_reply(conn, "egw-lab web %s host=%s sni=%s" %
                           (addr, host, sni[0]))
        log("%s %s:%d from %s sni=%s" % ("tls" if ctx else "http", addr,
                                          port, peer[0], sni[0]))
    except (OSError, ssl.SSLError) as e:
        log("error %s:%d from %s: %s" % (addr, port, peer[0], e))
    finally:
        try:
            conn.close()
        except OSError:
            pass


def accept_loop(sock, addr, port, ctx, ident):
    while True:
        conn, peer = sock.accept()
        threading.Thread(target=serve_conn, daemon=True,
                         args=(conn, peer, addr, port, ctx, ident)).start()


def probe_loop(sock, addr):
    while True:
        data, peer = sock.recvfrom(2048)
        text = data.decode("ascii", "replace").strip()
        log("probe %s %s" % (peer[0], text))
        try:
            sock.sendto(("egw-lab probe %s from %s %s\n" %
                         (addr, peer[0], text)).encode(), peer)
        except OSError:
            pass


def main():
    global LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--web", action="append", default=[])
    ap.add_argument("--tls", action="append", default=[])
    ap.add_argument("--probe", action="append", default=[])
    args = ap.parse_args()
    LOG = open(args.log, "a", buffering=1)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)

    def remember_sni(sslsock, name, _ctx):
        sslsock.egw_sni = name or ""
    ctx.sni_callback = remember_sni

    jobs = []
    for addr in args.web:
        jobs.append((listen(addr, 80), addr, 80, None, None))
        jobs.append((listen(addr, 443), addr, 443, ctx, None))
    for spec in args.tls:
        addr, port, ident = spec.rsplit(":", 2)
        jobs.append((listen(addr, int(port)), addr, int(port), ctx, ident))
    probes = [(listen(a, 9999, socket.SOCK_DGRAM), a) for a in args.probe]

    for job in jobs:
        threading.Thread(target=accept_loop, args=job, daemon=True).start()
    for p in probes:
        threading.Thread(target=probe_loop, args=p, daemon=True).start()

    with open(args.ready, "w") as f:
        f.write("%d\n" % os.getpid())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Event().wait()


if __name__ == "__main__":
    main()
