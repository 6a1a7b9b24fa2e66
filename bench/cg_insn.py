#!/usr/bin/env python3
"""Instructions per packet of each machine instruction of some functions.

    EGW_CG_OPTS=--dump-instr=yes EGW_CG_KEEP=CG bench/cg_port.sh egw BUILD POLICY
    bench/cg_insn.py CG BUILD/dataplane/egw-dataplane PACKETS FUNCTION...

CG is callgrind's data of the worker thread kept by cg_port.sh (with
--dump-instr=yes, so that costs are per instruction address); PACKETS is
the packet count cg_port.sh printed. Prints the disassembly of each
FUNCTION (objdump -d -l, source lines included) with the instructions it
executed per packet in front of each instruction: where a path's
instructions go, one by one. A development aid, like cg_port.sh.
"""
import argparse
import collections
import re
import subprocess
import sys


def costs(path, binary):
    """Self cost (Ir) per instruction address of the objects named binary."""
    out = collections.Counter()
    names = {}
    ob = None
    addr = line = 0
    after_call = False

    def pos(tok, cur):
        if tok == "*":
            return cur
        if tok.startswith("0x"):
            return int(tok, 16)
        if tok[0] in "+-":
            return cur + int(tok)
        return int(tok)

    with open(path) as f:
        for raw in f:
            m = re.match(r"ob=\((\d+)\)(?: (.*))?", raw)
            if m:
                if m.group(2):
                    names[m.group(1)] = m.group(2).strip()
                ob = names.get(m.group(1))
                continue
            if raw.startswith("calls="):
                after_call = True   # the next cost line is the call's inclusive cost
                continue
            if not raw or raw[0] not in "0123456789+-*":
                continue
            parts = raw.split()
            addr = pos(parts[0], addr)
            if len(parts) >= 2:
                line = pos(parts[1], line)
            if after_call:
                after_call = False
                continue
            if len(parts) >= 3 and ob and ob.endswith(binary.split("/")[-1]):
                out[addr] += int(parts[2])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("callgrind")
    ap.add_argument("binary")
    ap.add_argument("packets", type=float)
    ap.add_argument("functions", nargs="+")
    ap.add_argument("--min", type=float, default=0.0,
                    help="leave out instructions below this many per packet")
    a = ap.parse_args()
    if a.packets <= 0:
        sys.exit("cg_insn: PACKETS must be positive")
    c = costs(a.callgrind, a.binary)
    if not c:
        sys.exit("cg_insn: no costs of %s in %s (was it kept with --dump-instr=yes?)"
                 % (a.binary, a.callgrind))
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-l", a.binary],
                         capture_output=True, text=True, check=True).stdout
    cur, total, src = None, collections.Counter(), None
    for l in dis.splitlines():
        m = re.match(r"^([0-9a-f]+) <(.*)>:", l)
        if m:
            cur = m.group(2)
            if cur in a.functions:
                print("\n== %s" % cur)
            continue
        if cur not in a.functions:
            continue
        m = re.match(r"^\s*([0-9a-f]+):\s*(.*)", l)
        if m:
            per = c.get(int(m.group(1), 16), 0) / a.packets
            total[cur] += per
            if per >= a.min:
                if src:
                    print("          " + src)
                    src = None
                print("%7.2f  %s  %s" % (per, m.group(1), m.group(2)))
        elif l.startswith("/"):
            src = l.rsplit("/", 1)[-1]
    for f in a.functions:
        print("%s: %.1f instructions per packet" % (f, total[f]))


if __name__ == "__main__":
    main()
