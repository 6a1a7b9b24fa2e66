#!/usr/bin/python3
"""Measure a running DPDK process's packet rate from the outside (issue 5).

  dpdk_rate.py --prefix FILE_PREFIX --pid PID --port N [--warmup S] [--secs S]

Reads the port's ethdev counters over DPDK telemetry
(/var/run/dpdk/<prefix>/dpdk_telemetry.v2) at the start and end of a window,
and the CPU time the process's EAL worker threads (rte-worker-*) spent in
it (/proc/PID/task/*/stat). Prints one JSON object: rx and tx packets per
second of the port over wall time, the same per second of worker CPU time
(the rate of one fully-owned core, which a machine shared with other jobs
does not give the wall clock), and cycles per packet at the TSC rate.
"""
import argparse
import json
import os
import socket
import sys
import time


def alive(pid):
    """Is pid a running process (not a zombie)?"""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def gone(pid, what):
    """The measured process ended: say so (its own stderr says why)."""
    raise SystemExit("dpdk_rate: process %d ended %s" % (pid, what))


def tel_connect(prefix, pid, timeout):
    path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
    end = time.time() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.connect(path)
            if not s.recv(4096):  # greeting: version, pid, max_output_len
                raise ConnectionResetError
            return s
        except OSError:
            s.close()
            if not alive(pid):
                gone(pid, "before its telemetry socket %s answered" % path)
            if time.time() > end:
                raise SystemExit("dpdk_rate: no telemetry socket %s after %gs"
                                 % (path, timeout))
            time.sleep(0.2)


class TelemetryLost(Exception):
    pass


def tel(s, cmd):
    """One telemetry command's JSON reply. TelemetryLost when the socket
    fails or closes (the process ended), ValueError for a reply that is not
    JSON."""
    try:
        s.send(cmd.encode())
        r = s.recv(1 << 16)
    except OSError as e:
        raise TelemetryLost(str(e))
    if not r:
        raise TelemetryLost("closed")
    return json.loads(r.decode())


def worker_cpu(pid):
    """Summed utime+stime (seconds) of the EAL worker threads of pid."""
    tot = 0
    hz = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                comm = f.read().strip()
            if not comm.startswith(("rte-worker", "lcore-worker")):
                continue
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                st = f.read().rsplit(")", 1)[1].split()
            tot += int(st[11]) + int(st[12])
        except OSError:
            pass
    return tot / hz


def tsc_hz():
    # The kernel's calibrated TSC (constant_tsc): cpu MHz of the first CPU.
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                return float(line.split(":")[1]) * 1e6
    return 0.0


def port_stats(s, port):
    r = tel(s, "/ethdev/stats,%d" % port)["/ethdev/stats"]
    return r["ipackets"], r["opackets"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--port", type=int, required=True, help="the port that receives")
    ap.add_argument("--out-port", type=int, help="the port that sends (default: --port)")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--secs", type=float, default=3.0)
    ap.add_argument("--timeout", type=float, default=60.0, help="wait this long for start")
    ap.add_argument("--min-rx", type=int, default=1,
                    help="start the warm-up once the port has received this many packets "
                         "(twice the capture: every flow of it has been set up)")
    a = ap.parse_args()
    outp = a.port if a.out_port is None else a.out_port
    s = tel_connect(a.prefix, a.pid, a.timeout)
    try:
        # wait for the port to receive (table build and pcap loading come first)
        end = time.time() + a.timeout
        while True:
            try:
                rx, _ = port_stats(s, a.port)
            except (KeyError, TypeError, ValueError):
                rx = 0  # the port is not there yet
            if rx >= max(1, a.min_rx):
                break
            if not alive(a.pid):
                gone(a.pid, "after its port %d received %d of %d packets"
                     % (a.port, rx, a.min_rx))
            if time.time() > end:
                raise SystemExit("dpdk_rate: port %d received %d of %d packets in %gs"
                                 % (a.port, rx, a.min_rx, a.timeout))
            time.sleep(0.2)
        time.sleep(a.warmup)
        t0 = time.monotonic()
        c0 = worker_cpu(a.pid)
        rx0, _ = port_stats(s, a.port)
        _, tx0 = port_stats(s, outp)
        time.sleep(a.secs)
        rx1, _ = port_stats(s, a.port)
        _, tx1 = port_stats(s, outp)
        c1 = worker_cpu(a.pid)
        t1 = time.monotonic()
    except TelemetryLost as e:
        if not alive(a.pid):
            gone(a.pid, "while measured (telemetry: %s)" % e)
        raise SystemExit("dpdk_rate: the telemetry socket of process %d failed: %s"
                         % (a.pid, e))
    except (KeyError, TypeError, ValueError) as e:
        raise SystemExit("dpdk_rate: unexpected telemetry reply for port %d or %d: %r"
                         % (a.port, outp, e))
    if not alive(a.pid):
        gone(a.pid, "during the window: its figures would not be a steady rate")
    wall = t1 - t0
    cpu = c1 - c0
    rxn, txn = rx1 - rx0, tx1 - tx0
    hz = tsc_hz()
    res = {
        "wall_s": round(wall, 3), "worker_cpu_s": round(cpu, 3),
        "rx_pps": rxn / wall, "tx_pps": txn / wall,
        "rx_pps_per_core": rxn / cpu if cpu > 0 else 0.0,
        "tx_pps_per_core": txn / cpu if cpu > 0 else 0.0,
        "cycles_per_pkt": cpu * hz / rxn if rxn else 0.0,
        "tsc_hz": hz,
    }
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
