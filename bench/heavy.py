"""Heavy requests beside small ones: the server's peak and settled memory
for each of the heaviest legal requests, and the latency of small reads
made while it runs.

    bench/heavy.py target/release/carer-fhir SCRATCH_DIR [DATABASE_URL]

Starts `carer-fhir serve --insecure-open` on 127.0.0.1, on a new SQLite
file in SCRATCH_DIR (emptied first) or on DATABASE_URL (a new, empty
PostgreSQL database), loads 1,200 Patients of about
4 KB, then, each while one client reads a small Patient over and over:
a batch of 2,000 searches of `_count=1000` (refused past the request's
memory budget), and two transactions of 7,000 Patients (about 30 MB
each). Prints per scenario: its answer, the small reads' p50/p99/max, the
peak RSS (VmHWM) and the RSS 5 s after, beside the idle RSS. Linux only
(reads /proc). Every loop is bounded.
"""
import json, os, subprocess, sys, threading, time, urllib.request, statistics, uuid

BIN, WORK = sys.argv[1], sys.argv[2]
DATABASE = sys.argv[3] if len(sys.argv) > 3 else f"sqlite:{WORK}/db.sqlite"
os.makedirs(WORK, exist_ok=True)
for f in os.listdir(WORK):
    if f.startswith("db.sqlite") or f == "log":
        os.remove(os.path.join(WORK, f))
import socket
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
srv = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{port}", "--insecure-open",
                        "--database", DATABASE], stderr=open(f"{WORK}/log", "w"))
base = f"http://127.0.0.1:{port}"
for _ in range(200):
    try:
        urllib.request.urlopen(base + "/metadata", timeout=2).read(); break
    except Exception:
        time.sleep(0.2)

def rss():
    st = open(f"/proc/{srv.pid}/status").read()
    get = lambda k: int([l for l in st.splitlines() if l.startswith(k)][0].split()[1]) // 1024
    return get("VmRSS:"), get("VmHWM:")

def req(method, path, body=None, timeout=120):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(base + path, data=data, method=method,
                               headers={"content-type": "application/fhir+json"})
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def patient(n, kb):
    return {"resourceType": "Patient", "identifier": [{"system": "https://example.org/h", "value": f"h-{n}-{uuid.uuid4()}"}],
            "name": [{"family": f"Heavy{n}", "text": "x" * (kb * 1024)}]}

def tx(n0, count, kb):
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"resource": patient(n0 + i, kb), "request": {"method": "POST", "url": "Patient"}} for i in range(count)]}

s, _ = req("POST", "", tx(0, 1200, 4)); assert s == 200, s
s, b = req("POST", "/Patient", patient(-1, 1)); small = json.loads(b)["id"]
time.sleep(3)
idle, _ = rss()
print(f"idle RSS after loading 1,200 Patients: {idle} MB")

def during(name, work):
    lat, stop = [], threading.Event()
    def reads():
        while not stop.is_set():
            t = time.perf_counter(); s, _ = req("GET", f"/Patient/{small}")
            lat.append((time.perf_counter() - t) * 1000)
    th = threading.Thread(target=reads); th.start()
    t0 = time.perf_counter(); out = work(); took = time.perf_counter() - t0
    stop.set(); th.join()
    _, peak = rss(); time.sleep(5); after, _ = rss()
    lat.sort()
    p50 = statistics.median(lat); p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"{name}: {out}; took {took:.1f} s; small reads during it: {len(lat)}, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {lat[-1]:.1f} ms; peak RSS (VmHWM) {peak} MB, 5 s after {after} MB (idle {idle} MB)")

def batch():
    b = {"resourceType": "Bundle", "type": "batch", "entry": [{"request": {"method": "GET", "url": "Patient?_count=1000"}} for _ in range(2000)]}
    s, body = req("POST", "", b, timeout=300)
    e = json.loads(body).get("entry", [])
    ok = sum(1 for x in e if x["response"]["status"].startswith("200"))
    return f"batch of 2,000 searches of _count=1000: HTTP {s}, {ok} answered, {len(e) - ok} refused"
during("heavy batch", batch)

def big_tx():
    outs = []
    for k in range(2):
        s, _ = req("POST", "", tx(10_000 * (k + 1), 7000, 4), timeout=300)
        outs.append(s)
    return f"two transactions of 7,000 Patients (~30 MB each): HTTP {outs}"
during("30 MB transactions", big_tx)
srv.terminate(); srv.wait()
