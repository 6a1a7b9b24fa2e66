#!/usr/bin/env bash
# The RFC 5424 copy of the behaviour log, over UDP and TCP (octet counting)
# to a listener on loopback: every line arrives, with a valid RFC 5424
# header and the log line (chain included) as its message.
# Args: build dir, source dir.
set -euo pipefail
build=$1
tool=$build/tests/elog_tool
work=$(mktemp -d /tmp/egwt-log-syslog.XXXXXX)
lpid=
trap '[ -n "$lpid" ] && kill "$lpid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for proto in udp tcp; do
    rm -f "$work/port" "$work/got"
    /usr/bin/python3 - "$proto" "$work/port" "$work/got" <<'PY' &
import socket, sys, re, json
proto, portfile, out = sys.argv[1:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("127.0.0.1", 0))
open(portfile + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(portfile + ".tmp", portfile)
s.settimeout(20)
msgs = []
if proto == "udp":
    try:
        while len(msgs) < 201:
            msgs.append(s.recv(70000))
    except socket.timeout:
        pass
else:
    s.listen(1)
    c, _ = s.accept()
    c.settimeout(20)
    buf = b""
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            buf += d
    except socket.timeout:
        pass
    while buf:  # octet counting: "LEN SP MSG"
        n, rest = buf.split(b" ", 1)
        msgs.append(rest[:int(n)])
        buf = rest[int(n):]
hdr = re.compile(rb"^<134>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 \S+ egw - eve - ")
with open(out, "w") as f:
    for m in msgs:
        h = hdr.match(m)
        assert h, m[:80]
        e = json.loads(m[h.end():])
        assert len(e["egw_chain"]) == 64
        f.write(e["event_type"] + " " + str(e.get("flow_id", "-")) + "\n")
PY
    lpid=$!
    for _ in $(seq 100); do [ -f "$work/port" ] && break; sleep 0.05; done
    [ -f "$work/port" ] || fail "listener did not start"
    out=$("$tool" syslog "$work/log-$proto" "$proto" "$(cat "$work/port")" 200)
    echo "$proto: $out"
    wait "$lpid" || fail "$proto listener: bad messages"
    lpid=
    # the header line of the file, then events 0..199
    [ "$(head -1 "$work/got")" = "egw_file -" ] || fail "$proto: first message is not the file header"
    [ "$(grep -c '^tls\|^dns' "$work/got")" = 200 ] || fail "$proto: $(wc -l < "$work/got") messages, want 201"
    grep -q "sent=201 dropped=0" <<<"$out" || fail "$proto counts: $out"
done
echo "logs_syslog: ok"
