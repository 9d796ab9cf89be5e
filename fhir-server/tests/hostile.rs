//! The hostile-input suite: every case in `hostile/cases.rs` (depth,
//! lax-mode loops, size and count, content FHIR forbids, search limits,
//! odd paths and methods, broken transactions, odd headers) sent over real
//! HTTP to a `carer-fhir serve` process, on SQLite and on PostgreSQL
//! (`CARER_FHIR_TEST_POSTGRES`, as `scripts/test` arranges).
//!
//! For every case: no 5xx, an OperationOutcome for every error, an answer
//! within [`HANG`], and the process still alive; after the last case the
//! server's CPU goes back to idle. A second test has two 10,000-entry
//! transactions and six single creates race, and every one succeeds.

mod process;

#[path = "hostile/cases.rs"]
mod cases;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use process::{database, serve, Server};

/// An answer slower than this is a hang.
const HANG: Duration = Duration::from_secs(10);

/// CPU seconds (user + system) the process has used, from `/proc`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line (1-based),
    // so 11 and 12 counted from the state field (0-based).
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn alive(server: &mut Server) -> bool {
    matches!(server.child.try_wait(), Ok(None))
}

/// Whether `bytes` is an OperationOutcome, in JSON or in XML.
fn is_outcome(content_type: &str, bytes: &[u8]) -> bool {
    if content_type.contains("xml") {
        let text = String::from_utf8_lossy(bytes);
        return text.contains("<OperationOutcome");
    }
    serde_json::from_slice::<Value>(bytes)
        .map(|v| {
            v["resourceType"] == "OperationOutcome"
                && v["issue"].as_array().is_some_and(|i| !i.is_empty())
        })
        .unwrap_or(false)
}

/// Resources the cases work against: the Patient they update and patch,
/// and 1,100 Patients each with an Observation, so that a `_revinclude`
/// over 1,000 matches has something to include.
fn seed(c: &reqwest::blocking::Client, base: &str) {
    let put = c
        .put(format!("{base}/Patient/hostile-1"))
        .header("content-type", "application/fhir+json")
        .body(json!({"resourceType": "Patient", "id": "hostile-1", "active": true}).to_string())
        .send()
        .unwrap();
    assert!(put.status().is_success(), "seed PUT: {}", put.status());
    let mut entries = Vec::new();
    for n in 0..1_100 {
        let url = format!("urn:uuid:00000000-0000-4000-8000-{n:012}");
        entries.push(json!({"fullUrl": url, "resource": {"resourceType": "Patient", "name": [{"family": format!("Seed{n}")}]},
            "request": {"method": "POST", "url": "Patient"}}));
        entries.push(json!({"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "seed"},
            "subject": {"reference": url}}, "request": {"method": "POST", "url": "Observation"}}));
    }
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
    let r = c
        .post(base)
        .header("content-type", "application/fhir+json")
        .body(tx.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "seed transaction");
}

/// What the suite counts.
#[derive(Default, Debug)]
struct Tally {
    cases: usize,
    ok: usize,
    client_errors: usize,
    server_errors: usize,
    crashes: usize,
    hangs: usize,
    not_outcomes: usize,
}

fn hostile_input_suite(pg: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = database(pg, "hostile", dir.path()) else {
        return;
    };
    let mut server = serve(&db, dir.path(), &[]);
    let mut base = server.base.clone();
    let c = reqwest::blocking::Client::builder()
        .timeout(HANG * 3)
        .build()
        .unwrap();
    seed(&c, &base);
    let all = cases::all();
    assert!(all.len() >= 200, "the suite has {} cases", all.len());
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for case in &all {
        tally.cases += 1;
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
        let mut req = c.request(method, format!("{base}/{}", case.path));
        for (k, v) in &case.headers {
            req = req.header(k, v);
        }
        if let Some(body) = &case.body {
            req = req.body(body.clone());
        }
        let started = Instant::now();
        let answer = req.send();
        let took = started.elapsed();
        if !alive(&mut server) {
            tally.crashes += 1;
            failures.push(format!("{}: the server died", case.name));
            // Carry on with a new process, so one crash hides nothing else.
            server = serve(&db, dir.path(), &[]);
            base = server.base.clone();
            continue;
        }
        if took > HANG {
            tally.hangs += 1;
            failures.push(format!("{}: {took:?}", case.name));
        }
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{}: no answer ({e})", case.name));
                continue;
            }
        };
        let status = answer.status().as_u16();
        let ctype = answer
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = answer.bytes().unwrap_or_default();
        match status {
            500.. => {
                tally.server_errors += 1;
                failures.push(format!(
                    "{}: {status} {}",
                    case.name,
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                ));
            }
            400.. => tally.client_errors += 1,
            _ => tally.ok += 1,
        }
        if status >= 400 && case.method != "HEAD" && !is_outcome(&ctype, &body) {
            tally.not_outcomes += 1;
            failures.push(format!(
                "{}: {status} {ctype} is not an OperationOutcome",
                case.name
            ));
        }
    }
    // The server is idle again: no thread left spinning.
    let mut busy = 0.0;
    if alive(&mut server) {
        std::thread::sleep(Duration::from_secs(1));
        let pid = server.child.id();
        let before = cpu_seconds(pid);
        std::thread::sleep(Duration::from_secs(3));
        busy = cpu_seconds(pid) - before;
    }
    eprintln!(
        "hostile suite on {}: {tally:?}; CPU over 3 s idle: {busy:.2} s",
        if pg { "PostgreSQL" } else { "SQLite" }
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(busy < 0.3, "the idle server used {busy:.2} s of CPU in 3 s");
    assert!(alive(&mut server));
}

/// Two 10,000-entry transactions and six single creates at once: the
/// writers queue, nobody is told the database is locked.
fn writers_wait_their_turn(pg: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = database(pg, "writers", dir.path()) else {
        return;
    };
    let server = serve(&db, dir.path(), &[]);
    let base = server.base.clone();
    let mut threads = Vec::new();
    for t in 0..2 {
        let base = base.clone();
        threads.push(std::thread::spawn(move || {
            let entries: Vec<Value> = (0..10_000)
                .map(|n| json!({"resource": {"resourceType": "Patient", "name": [{"family": format!("T{t}-{n}")}]},
                    "request": {"method": "POST", "url": "Patient"}}))
                .collect();
            let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
            let r = process::client()
                .post(&base)
                .header("content-type", "application/fhir+json")
                .body(tx.to_string())
                .send()
                .unwrap();
            let status = r.status().as_u16();
            (format!("transaction {t}"), status, r.text().unwrap_or_default())
        }));
    }
    for n in 0..6 {
        let base = base.clone();
        threads.push(std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200 * n));
            let r = process::client()
                .post(format!("{base}/Patient"))
                .header("content-type", "application/fhir+json")
                .body(
                    json!({"resourceType": "Patient", "name": [{"family": format!("Single{n}")}]})
                        .to_string(),
                )
                .send()
                .unwrap();
            let status = r.status().as_u16();
            (format!("create {n}"), status, r.text().unwrap_or_default())
        }));
    }
    for t in threads {
        let (who, status, body) = t.join().unwrap();
        assert!(
            status == 200 || status == 201,
            "{who}: {status} {}",
            &body[..body.len().min(300)]
        );
    }
    let total: Value = process::client()
        .get(format!("{base}/Patient?_summary=count"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(total["total"], 20_006);
}

#[test]
fn hostile_input_on_sqlite() {
    hostile_input_suite(false);
}

#[test]
fn hostile_input_on_postgresql() {
    hostile_input_suite(true);
}

#[test]
fn writers_wait_their_turn_on_sqlite() {
    writers_wait_their_turn(false);
}

#[test]
fn writers_wait_their_turn_on_postgresql() {
    writers_wait_their_turn(true);
}
