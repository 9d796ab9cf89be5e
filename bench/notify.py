#!/usr/bin/env python3
"""Notification latency on loopback, standard library only.

    notify.py --base http://127.0.0.1:PORT --hook-port PORT [--n 200]

Against a `carer-fhir serve --insecure-open --subscription-endpoint-allow
http://127.0.0.1:HOOK/` on a fresh store: a webhook receiver on
127.0.0.1:HOOK, one topic Subscription (support plan changed, id-only),
then N support plans written one after the other. For each: the time from
sending the write to the notification's arrival at the receiver, beside
the write's own round trip (the baseline, measured in the same loop).
Prints one JSON line: n, received, p50/p99 of both (ms). Every wait is
bounded (10 s per notification).
"""

import argparse
import http.client
import http.server
import json
import math
import queue
import threading
import time

TOPIC = "https://fhir.carer-fhir.uk/SubscriptionTopic/plan-changed"
CONTENT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content"


def pct(xs, p):
    xs = sorted(xs)
    return xs[max(0, min(len(xs) - 1, math.ceil(p / 100 * len(xs)) - 1))] if xs else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--hook-port", type=int, required=True)
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    arrivals = queue.Queue()

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            at = time.perf_counter()
            self.send_response(200)
            self.end_headers()
            try:
                bundle = json.loads(body)
            except ValueError:
                return
            status = (bundle.get("entry") or [{}])[0].get("resource", {})
            kinds = [p.get("valueCode") for p in status.get("parameter", []) if p.get("name") == "type"]
            if "event-notification" in kinds:
                arrivals.put(at)

        def log_message(self, *args):
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", a.hook_port), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    host, port = a.base.replace("http://", "").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def post(path, resource):
        conn.request("POST", path, json.dumps(resource), {"content-type": "application/fhir+json"})
        r = conn.getresponse()
        body = r.read()
        if r.status >= 300:
            raise SystemExit(f"POST {path}: {r.status} {body[:300]!r}")
        return json.loads(body) if body else {}

    carer = post("/Patient", {"resourceType": "Patient", "name": [{"family": "Latency"}]})["id"]
    post("/Subscription", {
        "resourceType": "Subscription", "status": "requested", "reason": "latency", "criteria": TOPIC,
        "channel": {"type": "rest-hook", "endpoint": f"http://127.0.0.1:{a.hook_port}/hook",
                    "payload": "application/fhir+json",
                    "_payload": {"extension": [{"url": CONTENT, "valueCode": "id-only"}]}}})
    time.sleep(2)  # the handshake
    while not arrivals.empty():
        arrivals.get()
    notify, write = [], []
    for i in range(a.n):
        plan = {"resourceType": "CarePlan", "status": "active", "intent": "plan", "title": f"plan {i}",
                "category": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/plan-category",
                                          "code": "carer-support-plan"}]}],
                "subject": {"reference": f"Patient/{carer}"}}
        sent = time.perf_counter()
        post("/CarePlan", plan)
        write.append((time.perf_counter() - sent) * 1000)
        try:
            notify.append((arrivals.get(timeout=10) - sent) * 1000)
        except queue.Empty:
            pass
    hook.shutdown()
    print(json.dumps({"n": a.n, "received": len(notify),
                      "notify_p50": pct(notify, 50), "notify_p99": pct(notify, 99),
                      "write_p50": pct(write, 50), "write_p99": pct(write, 99)}))


if __name__ == "__main__":
    main()
