#!/usr/bin/env python3
"""Samples the memory of a server while a load runs, until SIGTERM/SIGINT.

    rss_sampler.py --out FILE [--interval S] [--metrics URL --metric NAME] PID...

Every interval (default 0.1 s) it adds up VmRSS of the given PIDs and of their child processes
(nginx: the master and its workers) and keeps the largest sum; with --metrics it also reads the
Prometheus text at URL (a dfd-host control plane) every 5th sample and keeps the largest value of
the metric NAME (e.g. dfd_content_active_connections). On exit it writes
{"rss_peak_kib", "vmhwm_kib" (sum of each process's own high-water mark), "samples",
"metric_max"} to FILE. Bounded: it stops by itself after 600 s.
"""
import argparse
import json
import os
import signal
import time
import urllib.request


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def metric(url, name):
    try:
        text = urllib.request.urlopen(url, timeout=1).read().decode()
    except Exception:
        return None
    best = None
    for line in text.splitlines():
        if line.startswith(name) and (len(line) == len(name) or line[len(name)] in " {"):
            v = float(line.rsplit(" ", 1)[1])
            best = v if best is None else max(best, v)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--metrics")
    ap.add_argument("--metric")
    ap.add_argument("pids", nargs="+", type=int)
    a = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    peak, hwm, n, mmax = 0, 0, 0, None
    deadline = time.monotonic() + 600
    while not stop and time.monotonic() < deadline:
        procs = set(a.pids)
        for p in a.pids:
            procs.update(children(p))
        peak = max(peak, sum(status_kib(p, "VmRSS") for p in procs))
        hwm = max(hwm, sum(status_kib(p, "VmHWM") for p in procs))
        if a.metrics and a.metric and n % 5 == 0:
            v = metric(a.metrics, a.metric)
            if v is not None:
                mmax = v if mmax is None else max(mmax, v)
        n += 1
        time.sleep(a.interval)
    with open(a.out, "w") as f:
        json.dump({"rss_peak_kib": peak, "vmhwm_kib": hwm, "samples": n, "metric_max": mmax}, f)


if __name__ == "__main__":
    main()
