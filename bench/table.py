#!/usr/bin/env python3
"""bench/run's bookkeeping: turns each measurement's output into result
lines (one JSON object per figure: figure, ours, unit, baseline,
baseline_name, higher = better|worse) and prints them as one table.

    table.py validation VALIDATION_TXT        lines of `cargo bench --bench validation`
    table.py transaction INGEST_JSON IMPORT_RATE
    table.py latency LATENCY_JSONL [SCALE_LABEL]
    table.py notify NOTIFY_JSON
    table.py peer_validation VALIDATION_TXT PEERS_TXT
    table.py table RESULTS_JSONL

Standard library only, so that the harness needs nothing installed.
"""

import json
import re
import sys


def emit(**row):
    print(json.dumps(row))


# A validation line of `cargo bench --bench validation`:
# "base R4 (Synthea)  7160 resources  validate  12345/s  parse baseline  67890/s  ratio 0.182"
VALIDATE_LINE = re.compile(r"^(.*?)\s+(\d+) resources\s+validate\s+(\d+)/s\s+parse baseline\s+(\d+)/s")


def validation(path):
    # VALIDATE_LINE, and
    # "JSON parse + serialise  7160 resources  model  12345/s  serde_json::Value  67890/s  ratio 0.182"
    kinds = [
        (VALIDATE_LINE,
         "validation, 1 thread: {name} ({count})", "strict JSON parse of the same"),
        (re.compile(r"^(.*?)\s+(\d+) resources\s+model\s+(\d+)/s\s+serde_json::Value\s+(\d+)/s"),
         "{name} through the model ({count})", "serde_json::Value on the same bytes"),
    ]
    for line in open(path, encoding="utf-8"):
        for pattern, figure, baseline_name in kinds:
            m = pattern.match(line.strip())
            if m:
                name, count, ours, base = m.groups()
                emit(figure=figure.format(name=name, count=count), ours=int(ours), unit="resources/s",
                     baseline=int(base), baseline_name=baseline_name, higher="better")


def transaction(path, import_rate):
    try:
        r = json.loads(open(path, encoding="utf-8").read().strip().splitlines()[-1])
    except (IndexError, ValueError, OSError):
        emit(figure="transaction Bundles of 500 over HTTP", ours="failed", unit="resources/s",
             baseline=round(float(import_rate)), baseline_name="import", higher="better")
        return
    rate = r.get("resources_per_s") or 0
    emit(figure=f"transaction Bundles of 500 over HTTP ({r.get('stored', '?')} stored)", ours=round(rate),
         unit="resources/s", baseline=round(float(import_rate)), baseline_name="import (above)",
         higher="better")


def peer_ingest(ours_path, hfs_path, import_rate):
    def rate(path):
        try:
            r = json.loads(open(path, encoding="utf-8").read().strip().splitlines()[-1])
            return round(r.get("resources_per_s") or 0), r.get("stored", "?")
        except (IndexError, ValueError, OSError):
            return None, "?"
    hfs, stored = rate(hfs_path)
    if hfs is None:
        emit(figure="ingest beside Helios HFS", ours="-", unit="resources/s", baseline="failed",
             baseline_name="HFS, transaction Bundles of 500", higher="better")
        return
    tx, _ = rate(ours_path)
    emit(figure="import into SQLite, beside HFS", ours=round(float(import_rate)), unit="resources/s",
         baseline=hfs, baseline_name=f"HFS, transaction Bundles of 500 ({stored} stored)", higher="better")
    emit(figure="transaction Bundles of 500 over HTTP, beside HFS", ours=tx if tx is not None else "failed",
         unit="resources/s", baseline=hfs, baseline_name="HFS, the same Bundles", higher="better")


def peer_validation(validation_path, peers_path):
    # Ours: the base R4 line of `cargo bench --bench validation`; the peers:
    # their own last lines (../shared/bench/peers/run-all.sh).
    ours = "failed"
    for line in open(validation_path, encoding="utf-8"):
        m = VALIDATE_LINE.match(line.strip())
        if m and m.group(1).startswith("base R4"):
            ours = int(m.group(3))
    try:
        text = open(peers_path, encoding="utf-8").read()
    except OSError:
        text = ""
    # "medplum validateResource (base R4, 1 thread) 7772 resources/s  JSON.parse baseline ..."
    medplum = re.findall(r"medplum validateResource \(base R4, 1 thread\) (\d+) resources/s", text)
    peers = [("@medplum/core", "@medplum/core validateResource, 1 thread", medplum[0] if medplum else "failed")]
    # fhir.resources runs twice (R4B and R4 models), each rate after its version line:
    # "fhir.resources 6.4.0 (FHIR 4.0.1 models), ..." … "fhir.resources parse+validate from JSON text 5123 resources/s"
    runs = re.findall(r"fhir\.resources (\S+) \(FHIR (\S+) models\)(?:.|\n)*?"
                      r"fhir\.resources parse\+validate from JSON text (\d+) resources/s", text)
    peers += [("fhir.resources", f"fhir.resources {v} ({fhir}) parse + validate", rate) for v, fhir, rate in runs]
    if not runs:
        peers.append(("fhir.resources", "fhir.resources parse + validate", "failed"))
    for short, name, rate in peers:
        emit(figure=f"validation, base R4 (Synthea), beside {short}", ours=ours, unit="resources/s",
             baseline=int(rate) if rate != "failed" else rate, baseline_name=name, higher="better")


def latency(path, scale=""):
    summary = json.loads(open(path, encoding="utf-8").read().strip().splitlines()[-1])
    targets = summary["targets"]
    read = targets["read"]["p95"]["median"]
    where = f" at {scale}" if scale else ""
    for label, t in targets.items():
        if label.startswith("hfs-") and label[4:] in targets:
            ours = targets[label[4:]]
            emit(figure=f"{label[4:]} p95, beside HFS{where}", ours=ours["p95"]["median"], unit="ms",
                 baseline=t["p95"]["median"], baseline_name="HFS, the same request", higher="worse",
                 note=f"ours {ours['answer']}; HFS {t['answer']}")
            continue
        if label in ("read", "static"):
            continue
        emit(figure=f"search p95, {label}{where}", ours=t["p95"]["median"], unit="ms",
             baseline=read, baseline_name="read by id p95", higher="worse",
             note=f"{t['answer']}")
    if "static" in targets:
        emit(figure=f"read by id p50{where}", ours=targets["read"]["p50"]["median"], unit="ms",
             baseline=targets["static"]["p50"]["median"], baseline_name="static axum, same bytes",
             higher="worse")
    else:
        emit(figure=f"read by id p50{where}", ours=targets["read"]["p50"]["median"], unit="ms",
             baseline="-", baseline_name="(static baseline: --peers)", higher="worse")


def notify(path):
    try:
        r = json.loads(open(path, encoding="utf-8").read().strip().splitlines()[-1])
    except (IndexError, ValueError, OSError):
        emit(figure="notification latency", ours="failed", unit="ms", baseline="-",
             baseline_name="write round trip", higher="worse")
        return
    for p in ("p50", "p99"):
        emit(figure=f"notification latency {p}, write sent to webhook received ({r['received']}/{r['n']})",
             ours=round(r[f"notify_{p}"], 2) if r[f"notify_{p}"] is not None else "none", unit="ms",
             baseline=round(r[f"write_{p}"], 2), baseline_name=f"the write's own round trip {p}",
             higher="worse")


def table(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    print("| figure | carer-fhir | baseline | ratio |")
    print("|---|---|---|---|")
    for r in rows:
        ours, base = r.get("ours"), r.get("baseline")
        # ours / baseline: above 1 is better when higher is better (rates),
        # worse when it is not (times, memory).
        try:
            ratio = f"{float(ours) / float(base):.2f}x"
        except (TypeError, ValueError, ZeroDivisionError):
            ratio = "-"
        unit = r.get("unit", "")
        shown = f"{base} {unit} " if base not in ("-", None) else ""
        print(f"| {r['figure']} | {ours} {unit} | {shown}({r.get('baseline_name', '')}) | {ratio} |")


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"validation": validation, "transaction": transaction, "peer_ingest": peer_ingest, "latency": latency,
     "notify": notify, "peer_validation": peer_validation, "table": table}[mode](*args)
