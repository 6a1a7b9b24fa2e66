#!/usr/bin/env bash
# Instructions per packet of the worker lcore in the real port loop, under
# callgrind (repeatable whatever the load on the machine, unlike rates):
#
#   bench/cg_port.sh egw BUILD POLICY [SECS]      egw-dataplane with POLICY
#   bench/cg_port.sh io|5tswap PCAP [SECS]        dpdk-testpmd on the same vdevs
#
# The DPDK program runs under valgrind --tool=callgrind with --no-huge on
# net_pcap (infinite_rx) -> net_null as bench/run.sh runs it. Once the
# outside port has sent two captures' worth (the flows are set up), the
# counters are zeroed (callgrind_control -z), SECS seconds run (default 20),
# and they are dumped (-d). Packets are counted inside callgrind's data:
# 32 x the calls of the worker thread into librte_net_pcap's receive
# (infinite_rx always fills the 32-packet burst), checked against the calls
# into net_null's per-packet transmit. Prints one line:
# (testpmd needs --stats-period to keep running with stdin closed.)
#   WHAT: I instructions, N packets received (M sent), X per packet
# EGW_CG_KEEP=FILE keeps the worker thread's callgrind data there (for
# callgrind_annotate); EGW_CG_OPTS adds valgrind options (e.g.
# --dump-instr=yes for costs per instruction). Slow (the policy is loaded under valgrind: minutes
# for GeoLite2). Root.
set -euo pipefail

what=${1:?usage: cg_port.sh egw BUILD POLICY [SECS] | io|5tswap PCAP [SECS]}
shift
work=$(mktemp -d /tmp/egwcg-XXXXXX)
prefix=egwcg-$$
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
vg=(valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/cg.%p")
# shellcheck disable=SC2206  # options, split on purpose
vg+=(${EGW_CG_OPTS:-})
if [ "$what" = egw ]; then
    build=$1 policy=$2 secs=${3:-20}
    "${vg[@]}" "$build/dataplane/egw-dataplane" -l 0-1 --no-huge -m 2048 --file-prefix "$prefix" \
        --log-level=error -- --config "$policy" --socket "$work/dp.sock" \
        </dev/null >"$work/run.log" 2>&1 &
else
    pcap=$1 secs=${2:-20}
    "${vg[@]}" dpdk-testpmd -l 0-1 --no-huge -m 2048 --no-pci --file-prefix "$prefix" \
        --log-level=error --vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" \
        --vdev net_null0,no-rx=1 -- --forward-mode="$what" --auto-start --stats-period 1000 \
        --total-num-mbufs=32768 </dev/null >"$work/run.log" 2>&1 &
fi
pid=$!
python3 - "$prefix" "$pid" "$secs" <<'PY'
import json, socket, subprocess, sys, time
prefix, pid, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
end = time.time() + 1800
while True:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path); s.recv(4096); break
    except OSError:
        s.close()
        if time.time() > end:
            sys.exit("cg_port: no telemetry socket")
        time.sleep(0.5)
def sent():
    s.send(b"/ethdev/stats,1")
    d = json.loads(s.recv(65536))["/ethdev/stats"]
    return d["opackets"] if d else 0
while sent() < 16384:
    if time.time() > end:
        sys.exit("cg_port: the outside port sent too little")
    time.sleep(1)
subprocess.run(["callgrind_control", "-z", pid], stdout=subprocess.DEVNULL, check=True)
time.sleep(secs)
subprocess.run(["callgrind_control", "-d", pid], stdout=subprocess.DEVNULL, check=True)
PY
kill -INT "$pid"; wait "$pid" || true; pid=""
python3 - "$what" "$work" <<'PY'
import glob, os, re, sys
best = None
for f in glob.glob(sys.argv[2] + "/cg.*.1-*"):   # the dump after zeroing, per thread
    names, ob, cob, ins, rx, tx = {}, None, None, 0, 0, 0
    for line in open(f):
        m = re.match(r"(ob|cob)=\((\d+)\)(?: (.*))?", line)
        if m:
            if m.group(3):
                names[m.group(2)] = m.group(3).strip()
            if m.group(1) == "ob":
                ob, cob = m.group(2), None
            else:
                cob = m.group(2)
            continue
        if line.startswith("fn="):
            cob = None
            continue
        m = re.match(r"calls=(\d+)", line)
        if m:
            callee, caller = names.get(cob or ob, ""), names.get(ob, "")
            if "net_pcap" in callee and "net_pcap" not in caller:
                rx += 32 * int(m.group(1))
            if "net_null" in callee and "net_null" in caller:
                tx += int(m.group(1))
            cob = None
            continue
        m = re.match(r"summary: (\d+)", line)
        if m:
            ins = int(m.group(1))
    if best is None or ins > best[0]:
        best = (ins, rx, tx, f)
if not best or not best[1]:
    sys.exit("cg_port: no worker thread data")
ins, rx, tx, path = best
keep = os.environ.get("EGW_CG_KEEP")
if keep:
    # callgrind compresses names across the threads' files of one dump: a
    # name is spelled out only in the first file that uses it. Spell out
    # every name in the kept file so that callgrind_annotate can read it alone.
    space = {"ob": "o", "cob": "o", "fl": "f", "fi": "f", "fe": "f", "cfi": "f",
             "cfl": "f", "fn": "n", "cfn": "n"}
    known = {}
    for f in glob.glob(sys.argv[2] + "/cg.*"):
        for line in open(f):
            m = re.match(r"(\w+)=\((\d+)\) (.+)", line)
            if m and m.group(1) in space:
                known[(space[m.group(1)], m.group(2))] = m.group(3).rstrip("\n")
    # callgrind_annotate (3.19) also charges the whole thread to clone when
    # it meets the thread's "calls=0" entry (clone -> start_thread, with no
    # call counted): that entry and its cost line are left out.
    with open(path) as src, open(keep, "w") as out:
        skip = False
        for line in src:
            if skip:
                skip = False
                continue
            if line.startswith("calls=0 "):
                skip = True
                continue
            m = re.match(r"(\w+)=\((\d+)\)\s*$", line)
            if m and m.group(1) in space and (space[m.group(1)], m.group(2)) in known:
                line = "%s=(%s) %s\n" % (m.group(1), m.group(2),
                                          known[(space[m.group(1)], m.group(2))])
            out.write(line)
print("%s: %d instructions, %d packets received (%d sent), %.1f per packet"
      % (sys.argv[1], ins, rx, tx, ins / rx))
PY
