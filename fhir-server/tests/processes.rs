//! `carer-fhir serve` as real processes: `kill -9` in the middle of audited
//! reads (each answered read's AuditEvent survives), in the middle of writes
//! and of a large transaction (every acknowledged write survives with its
//! version; an interrupted transaction leaves nothing), `kill -9` between a
//! commit and its notification (delivered after restart), and two servers
//! on one PostgreSQL database (20 racing conditional creates make one
//! resource; each subscription event is delivered once). SQLite and
//! PostgreSQL (`CARER_FHIR_TEST_POSTGRES`, as `scripts/test` arranges).

mod process;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use process::{client, database, register_admin, serve, serve_with, token};

fn post(
    c: &reqwest::blocking::Client,
    url: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> Option<(u16, Value)> {
    let mut r = c.post(url).header("content-type", "application/fhir+json");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let resp = r.body(body.to_string()).send().ok()?;
    let s = resp.status().as_u16();
    Some((s, resp.json().unwrap_or(Value::Null)))
}

fn patient(marker: &str, n: usize) -> Value {
    json!({"resourceType": "Patient", "identifier": [{"system": "https://example.org/kill", "value": format!("{marker}-{n}")}],
        "name": [{"family": format!("Kill{n}")}]})
}

fn count(c: &reqwest::blocking::Client, base: &str, query: &str) -> i64 {
    let v: Value = c
        .get(format!("{base}/{query}"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["total"].as_i64().unwrap_or(-1)
}

fn kill9_keeps_every_acknowledged_write(pg: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = database(pg, "kill_writes", dir.path()) else {
        return;
    };
    let server = serve(&db, dir.path(), &[]);
    let base = server.base.clone();
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (base, acked, stop) = (base.clone(), acked.clone(), stop.clone());
        writers.push(std::thread::spawn(move || {
            let c = client();
            for n in 0..2000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                match post(
                    &c,
                    &format!("{base}/Patient"),
                    &patient(&format!("w{w}"), n),
                    &[],
                ) {
                    Some((201, v)) => acked.lock().unwrap().push((
                        v["id"].as_str().unwrap().to_string(),
                        v["meta"]["versionId"].as_str().unwrap().to_string(),
                    )),
                    _ => break,
                }
            }
        }));
    }
    // A large transaction, in flight when the process dies.
    let big: Vec<Value> = (0..3000)
        .map(|n| json!({"resource": patient("tx", n), "request": {"method": "POST", "url": "Patient"}}))
        .collect();
    let tx_base = base.clone();
    let tx = std::thread::spawn(move || {
        post(
            &client(),
            &tx_base,
            &json!({"resourceType": "Bundle", "type": "transaction", "entry": big}),
            &[],
        )
    });
    std::thread::sleep(Duration::from_millis(1500));
    server.kill9();
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        let _ = w.join();
    }
    let tx_answer = tx.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        !acked.is_empty(),
        "some writes were acknowledged before the kill"
    );
    let server = serve(&db, dir.path(), &[]);
    let c = client();
    for (id, version) in &acked {
        let v: Value = c
            .get(format!("{}/Patient/{id}", server.base))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(
            v["meta"]["versionId"].as_str(),
            Some(version.as_str()),
            "acknowledged Patient/{id} is there"
        );
    }
    let in_tx = count(
        &c,
        &server.base,
        "Patient?identifier=https://example.org/kill|tx-0&_summary=count",
    ) + count(
        &c,
        &server.base,
        "Patient?identifier=https://example.org/kill|tx-2999&_summary=count",
    );
    match tx_answer {
        Some((200, _)) => assert_eq!(in_tx, 2, "a transaction acknowledged is whole"),
        _ => assert_eq!(in_tx, 0, "an interrupted transaction leaves nothing"),
    }
    eprintln!(
        "kill -9: {} acknowledged writes all present; transaction {}",
        acked.len(),
        if in_tx == 2 {
            "committed"
        } else {
            "left nothing"
        }
    );
}

/// A webhook receiver on 127.0.0.1 (in a thread of its own): what it got,
/// and whether it answers 503.
struct Hook {
    url: String,
    got: Arc<Mutex<Vec<Value>>>,
    down: Arc<AtomicBool>,
}

fn hook() -> Hook {
    let got = Arc::new(Mutex::new(Vec::new()));
    let down = Arc::new(AtomicBool::new(false));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (g, d) = (got.clone(), down.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = axum::Router::new().route(
                "/hook",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let (g, d) = (g.clone(), d.clone());
                    async move {
                        if d.load(Ordering::SeqCst) {
                            return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                        }
                        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                            g.lock().unwrap().push(v);
                        }
                        axum::http::StatusCode::OK
                    }
                }),
            );
            axum::serve(listener, app).await.unwrap();
        });
    });
    Hook { url, got, down }
}

impl Hook {
    /// Event numbers received (every notification, in arrival order).
    fn numbers(&self) -> Vec<i64> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| {
                b["entry"][0]["resource"]["parameter"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| p["name"] == "notification-event")
                    .filter_map(|p| {
                        p["part"][0]["valueString"]
                            .as_str()
                            .and_then(|s| s.parse().ok())
                    })
                    .collect::<Vec<i64>>()
            })
            .collect()
    }

    fn handshakes(&self) -> usize {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b.to_string().contains("\"handshake\""))
            .count()
    }

    fn wait(&self, what: &str, check: impl Fn(&Hook) -> bool) {
        // Long enough for a dead process's lease (timeout + 15 s) and the
        // backoff it left.
        for _ in 0..900 {
            if check(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out waiting for {what}");
    }
}

fn plan_subscription(hook: &str) -> Value {
    json!({"resourceType": "Subscription", "status": "requested", "reason": "test",
        "criteria": "https://fhir.carer-fhir.uk/SubscriptionTopic/plan-changed",
        "channel": {"type": "rest-hook", "endpoint": hook, "payload": "application/fhir+json"}})
}

fn plan(n: usize) -> Value {
    json!({"resourceType": "CarePlan", "status": "active", "intent": "plan", "title": format!("plan {n}"),
        "category": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/plan-category", "code": "carer-support-plan"}]}],
        "subject": {"reference": "Patient/someone"}})
}

fn kill9_between_commit_and_delivery_still_delivers(pg: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = database(pg, "kill_outbox", dir.path()) else {
        return;
    };
    let h = hook();
    let allow = h.url.trim_end_matches("hook").to_string();
    let server = serve(&db, dir.path(), &["--subscription-endpoint-allow", &allow]);
    let c = client();
    let (s, _) = post(
        &c,
        &format!("{}/Subscription", server.base),
        &plan_subscription(&h.url),
        &[],
    )
    .unwrap();
    assert_eq!(s, 201);
    h.wait("the handshake", |h| h.handshakes() == 1);
    h.down.store(true, Ordering::SeqCst);
    for n in 0..3 {
        let (s, _) = post(&c, &format!("{}/CarePlan", server.base), &plan(n), &[]).unwrap();
        assert_eq!(s, 201, "committed");
    }
    server.kill9();
    h.down.store(false, Ordering::SeqCst);
    assert!(
        h.numbers().is_empty(),
        "nothing was delivered before the kill"
    );
    let server = serve(&db, dir.path(), &["--subscription-endpoint-allow", &allow]);
    h.wait("the three events after the restart", |h| {
        let mut n = h.numbers();
        n.sort();
        n.dedup();
        n == vec![1, 2, 3]
    });
    drop(server);
}

fn two_servers_on_one_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = database(true, "two_servers", dir.path()) else {
        return;
    };
    let h = hook();
    let allow = h.url.trim_end_matches("hook").to_string();
    let a = serve(&db, dir.path(), &["--subscription-endpoint-allow", &allow]);
    let b = serve(&db, dir.path(), &["--subscription-endpoint-allow", &allow]);
    // 20 conditional creates of one identifier, racing across both servers:
    // the database (a lock on the criteria) lets exactly one create.
    let bases = [a.base.clone(), b.base.clone()];
    let racers: Vec<_> = (0..20)
        .map(|n| {
            let base = bases[n % 2].clone();
            std::thread::spawn(move || {
                post(
                    &client(),
                    &format!("{base}/Patient"),
                    &patient("race", 0),
                    &[(
                        "If-None-Exist",
                        "identifier=https://example.org/kill|race-0",
                    )],
                )
                .map(|(s, _)| s)
            })
        })
        .collect();
    let statuses: Vec<Option<u16>> = racers.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        statuses.iter().all(|s| matches!(s, Some(200 | 201))),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == Some(201)).count(),
        1,
        "one created, the others found it: {statuses:?}"
    );
    let c = client();
    assert_eq!(
        count(
            &c,
            &a.base,
            "Patient?identifier=https://example.org/kill|race-0&_summary=count"
        ),
        1
    );
    // Each event delivered once, whichever server's worker takes it.
    let (s, _) = post(
        &c,
        &format!("{}/Subscription", a.base),
        &plan_subscription(&h.url),
        &[],
    )
    .unwrap();
    assert_eq!(s, 201);
    h.wait("the handshake", |h| h.handshakes() >= 1);
    for n in 0..20 {
        let (s, _) = post(&c, &format!("{}/CarePlan", bases[n % 2]), &plan(n), &[]).unwrap();
        assert_eq!(s, 201);
    }
    h.wait("twenty events", |h| h.numbers().len() >= 20);
    std::thread::sleep(Duration::from_secs(2));
    let mut numbers = h.numbers();
    let received = numbers.len();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers, (1..=20).collect::<Vec<i64>>());
    assert_eq!(received, 20, "each event delivered once");
    assert_eq!(h.handshakes(), 1, "one handshake");
    eprintln!("two servers: 20 racing conditional creates made 1 resource; 20 events raised, 20 delivered");
}

/// With access control on, every answered request's AuditEvent is stored
/// before its answer leaves: after `kill -9` in the middle of audited
/// reads, the restarted server holds an AuditEvent for each read answered
/// (and none for reads never sent).
fn kill9_keeps_the_audit_of_every_answered_request(pg: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = database(pg, "kill_audit", dir.path()) else {
        return;
    };
    register_admin(dir.path(), &db, "auditor", "system/*.rs");
    let server = serve_with(&db, dir.path(), false, &[]);
    let base = server.base.clone();
    let bearer = format!(
        "Bearer {}",
        token(dir.path(), "auditor", "system/*.rs", &base)
    );
    let answered = Arc::new(Mutex::new(0_i64));
    let sent = Arc::new(Mutex::new(0_i64));
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for r in 0..4 {
        let (base, bearer) = (base.clone(), bearer.clone());
        let (answered, sent, stop) = (answered.clone(), sent.clone(), stop.clone());
        readers.push(std::thread::spawn(move || {
            let c = client();
            for n in 0..100_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                *sent.lock().unwrap() += 1;
                let url = format!("{base}/Patient/kill-audit-{r}-{n}");
                match c.get(url).header("authorization", &bearer).send() {
                    // Audited, then answered: 404, the Patient not existing.
                    Ok(resp) if resp.status().as_u16() == 404 => *answered.lock().unwrap() += 1,
                    Ok(resp) => panic!("unexpected {}", resp.status()),
                    Err(_) => break,
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(1500));
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    let (answered, sent) = (*answered.lock().unwrap(), *sent.lock().unwrap());
    assert!(
        answered > 20,
        "the readers got answers before the kill: {answered}"
    );

    let server = serve_with(&db, dir.path(), false, &[]);
    let bearer = format!(
        "Bearer {}",
        token(dir.path(), "auditor", "system/*.rs", &server.base)
    );
    let v: Value = client()
        .get(format!(
            "{}/AuditEvent?subtype=read&_summary=count",
            server.base
        ))
        .header("authorization", &bearer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let stored = v["total"].as_i64().unwrap();
    assert!(
        stored >= answered && stored <= sent,
        "AuditEvents of reads: {stored}; reads answered {answered}, sent {sent}"
    );
}

#[test]
fn kill9_keeps_the_audit_of_every_answered_request_on_sqlite() {
    kill9_keeps_the_audit_of_every_answered_request(false);
}

#[test]
fn kill9_keeps_the_audit_of_every_answered_request_on_postgresql() {
    kill9_keeps_the_audit_of_every_answered_request(true);
}

#[test]
fn kill9_keeps_every_acknowledged_write_on_sqlite() {
    kill9_keeps_every_acknowledged_write(false);
}

#[test]
fn kill9_keeps_every_acknowledged_write_on_postgresql() {
    kill9_keeps_every_acknowledged_write(true);
}

#[test]
fn kill9_between_commit_and_delivery_still_delivers_on_sqlite() {
    kill9_between_commit_and_delivery_still_delivers(false);
}

#[test]
fn kill9_between_commit_and_delivery_still_delivers_on_postgresql() {
    kill9_between_commit_and_delivery_still_delivers(true);
}

#[test]
fn two_servers_share_one_postgresql() {
    two_servers_on_one_postgresql();
}
