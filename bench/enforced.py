#!/usr/bin/env python3
"""Reads with access control on, beside the same reads of the same server open.

    bench/enforced.py --open URL --enforced URL --token TOKEN [--n N] [--seconds S]
                      [--connections C] NAME=PATH...

Two servers on copies of one database: one `--insecure-open`, one enforcing
(every request's bearer token checked, consent applied, an AuditEvent
written). For each target it measures, interleaved so that the machine's
drift falls on both alike:
- p50 latency over N sequential requests on one keep-alive connection;
- throughput with C connections for S seconds (bounded): by wrk when it
  is installed (`bench/run --peers` installs it), else by C Python threads
  each on its own keep-alive connection (which a fast server outruns: the
  figure is then the client's as much as the server's).
A reply other than 200 stops the run (a benchmark of refusals measures
nothing). Prints one JSON record per figure for bench/table.py.
"""

import argparse
import http.client
import json
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse


def connect(base):
    u = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def get(conn, base, path, token):
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    prefix = urllib.parse.urlsplit(base).path.rstrip("/")
    conn.request("GET", prefix + path, headers=headers)
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"{base}{path}: {r.status}")


def p50(base, path, token, n):
    conn = connect(base)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        get(conn, base, path, token)
        times.append((time.perf_counter() - t) * 1000)
    conn.close()
    return statistics.median(times)


def wrk_throughput(wrk, base, path, token, connections, seconds):
    """Requests per second by wrk (two threads): a client that does not
    become the bottleneck of a fast server, as Python threads do."""
    cmd = [wrk, "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s",
           "-H", "Accept: application/fhir+json", base.rstrip("/") + path]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    if "Non-2xx" in out:
        sys.exit(f"{base}{path}: wrk saw answers other than 2xx:\n{out}")
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    sys.exit(f"wrk gave no rate:\n{out}")


def throughput(base, path, token, connections, seconds):
    wrk = shutil.which("wrk")
    if wrk:
        return wrk_throughput(wrk, base, path, token, connections, seconds)
    done = [0] * connections
    stop = time.perf_counter() + seconds

    def worker(i):
        conn = connect(base)
        while time.perf_counter() < stop:
            get(conn, base, path, token)
            done[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--open", required=True)
    ap.add_argument("--enforced", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("targets", nargs="+")
    a = ap.parse_args()
    for target in a.targets:
        name, path = target.split("=", 1)
        lat = {"open": [], "enforced": []}
        rate = {"open": [], "enforced": []}
        for _ in range(a.reps):
            for side, base, token in (("open", a.open, None), ("enforced", a.enforced, a.token)):
                lat[side].append(p50(base, path, token, a.n))
                rate[side].append(throughput(base, path, token, a.connections, a.seconds))
        print(json.dumps({
            "figure": f"{name} with access control, {a.connections} connections ({'wrk' if shutil.which('wrk') else 'client threads'})",
            "ours": round(statistics.median(rate["enforced"])), "unit": "req/s",
            "baseline": round(statistics.median(rate["open"])),
            "baseline_name": "the same server --insecure-open (goal: 0.5x or more)", "higher": "better"}))
        print(json.dumps({
            "figure": f"{name} with access control, p50, 1 connection",
            "ours": round(statistics.median(lat["enforced"]), 3), "unit": "ms",
            "baseline": round(statistics.median(lat["open"]), 3),
            "baseline_name": "the same server --insecure-open (goal: 2x or less)", "higher": "worse"}))


if __name__ == "__main__":
    main()
