//! The TestScript runner against a small in-process FHIR server over real
//! HTTP on 127.0.0.1: scripts whose every assertion must pass, scripts
//! whose assertions must fail (each kind), a failing setup, and the
//! command line's exit codes and report files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use conformance_tests::testscript::outcome::ActionKind;
use conformance_tests::testscript::{load_suites, report, Runner, ScriptResult, Verdict};
use fhir_core::package::{cache, Registry};
use fhir_core::validation::Validator;
use serde_json::{json, Value};

const FHIR_JSON: &str = "application/fhir+json";

#[derive(Default)]
struct Db {
    base: String,
    patients: BTreeMap<String, Value>,
    next: u32,
    queries: Vec<String>,
}

type Shared = Arc<Mutex<Db>>;

fn fhir(status: StatusCode, body: &Value, extra: &[(header::HeaderName, String)]) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, FHIR_JSON.parse().unwrap());
    for (k, v) in extra {
        r.headers_mut().insert(k, v.parse().unwrap());
    }
    r
}

fn not_found() -> Response {
    fhir(
        StatusCode::NOT_FOUND,
        &json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}),
        &[],
    )
}

async fn create(State(db): State<Shared>, _h: HeaderMap, body: Bytes) -> Response {
    let mut db = db.lock().unwrap();
    let mut p: Value = serde_json::from_slice(&body).unwrap();
    db.next += 1;
    let id = db.next.to_string();
    p["id"] = json!(id);
    p["meta"] = json!({"versionId": "1"});
    db.patients.insert(id.clone(), p.clone());
    let location = format!("{}/Patient/{id}/_history/1", db.base);
    fhir(
        StatusCode::CREATED,
        &p,
        &[
            (header::LOCATION, location),
            (header::ETAG, "W/\"1\"".into()),
        ],
    )
}

async fn read(State(db): State<Shared>, UrlPath(id): UrlPath<String>) -> Response {
    let db = db.lock().unwrap();
    match db.patients.get(&id) {
        Some(p) => fhir(StatusCode::OK, p, &[(header::ETAG, "W/\"1\"".into())]),
        None => not_found(),
    }
}

async fn vread(State(db): State<Shared>, UrlPath((id, _v)): UrlPath<(String, String)>) -> Response {
    read(State(db), UrlPath(id)).await
}

async fn delete(State(db): State<Shared>, UrlPath(id): UrlPath<String>) -> Response {
    db.lock().unwrap().patients.remove(&id);
    StatusCode::NO_CONTENT.into_response()
}

async fn search(State(db): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let mut db = db.lock().unwrap();
    let q = q.unwrap_or_default();
    db.queries.push(q.clone());
    let name = q.strip_prefix("name=").unwrap_or("");
    let found: Vec<Value> = db
        .patients
        .values()
        .filter(|p| p["name"][0]["family"] == name)
        .map(|p| json!({"resource": p, "search": {"mode": "match"}}))
        .collect();
    let bundle = json!({"resourceType": "Bundle", "type": "searchset", "total": found.len(),
        "link": [{"relation": "self", "url": format!("{}/Patient?{q}", db.base)}], "entry": found});
    fhir(StatusCode::OK, &bundle, &[])
}

async fn metadata() -> Response {
    fhir(
        StatusCode::OK,
        &json!({"resourceType": "CapabilityStatement", "status": "active", "date": "2026-01-01",
            "kind": "instance", "fhirVersion": "4.0.1", "format": ["json"]}),
        &[],
    )
}

async fn broken() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response()
}

/// Starts the test server on a free port of 127.0.0.1.
fn start() -> (String, Shared) {
    let db: Shared = Arc::default();
    let app = Router::new()
        .route("/metadata", get(metadata))
        .route("/Patient", get(search).post(create))
        .route("/Patient/{id}", get(read).delete(delete))
        .route("/Patient/{id}/_history/{v}", get(vread))
        .route("/Broken/{id}", get(broken))
        .with_state(db.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    db.lock().unwrap().base = base.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
    });
    (base, db)
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts")
}

fn base_r4() -> Registry {
    let mut registry = Registry::new();
    registry
        .load(&cache::package_dir(
            &cache::cache_dir(),
            "hl7.fhir.r4.core",
            "4.0.1",
        ))
        .expect("base R4 is installed (carer-fhir packages install)");
    registry
}

fn run(runner: &Runner, file: &str) -> ScriptResult {
    let scripts = load_suites(&[scripts_dir().join(file)]).unwrap();
    assert_eq!(scripts.len(), 1);
    runner.run(&scripts[0], &mut |_| {})
}

fn verdicts(actions: &[conformance_tests::testscript::ActionResult]) -> Vec<Verdict> {
    actions.iter().map(|a| a.verdict).collect()
}

#[test]
fn runner_checks_every_assertion_kind_and_reports_failures() {
    let (base, db) = start();
    let registry = base_r4();
    let runner = Runner::new(&base, vec![("X-Test".into(), "1".into())], Some(&registry)).unwrap();

    // Every assertion in passes.json passes.
    let r = run(&runner, "passes.json");
    for a in r.actions() {
        assert_eq!(a.verdict, Verdict::Pass, "{}: {}", a.title, a.message);
    }
    assert!(r.passed());
    let counts = r.assertion_counts();
    assert_eq!(
        (counts.passed, counts.failed),
        (31, 0),
        "{}",
        report::summary(std::slice::from_ref(&r))
    );
    assert!(
        db.lock().unwrap().patients.is_empty(),
        "teardown and autodelete deleted every patient"
    );
    assert!(r.setup[0].title.contains("create fixture auto"));
    assert!(r.teardown.iter().any(|a| a.title == "delete fixture auto"));

    // fails.json: each test ends as the script says.
    let r = run(&runner, "fails.json");
    assert!(!r.passed());
    let by_id: BTreeMap<&str, &conformance_tests::testscript::outcome::TestResult> =
        r.tests.iter().map(|t| (t.name.as_str(), t)).collect();
    use Verdict::*;
    for (name, want) in [
        ("wrong status", vec![Pass, Fail]),
        ("wrong header", vec![Pass, Fail]),
        ("false expression", vec![Pass, Fail]),
        ("wrong value", vec![Pass, Fail]),
        ("minimum content missing", vec![Pass, Fail]),
        ("compared values differ", vec![Pass, Fail]),
        ("a warning only", vec![Pass, Warning]),
        ("unknown fixture", vec![Error, Skip]),
        ("unknown variable", vec![Error, Skip]),
        ("server error", vec![Pass, Fail, Fail]),
        (
            "operations after a failure are skipped",
            vec![Pass, Fail, Pass, Skip, Skip],
        ),
    ] {
        let t = by_id[name];
        assert_eq!(verdicts(&t.actions), want, "{name}: {:#?}", t.actions);
        assert_eq!(t.passed(), !want.iter().any(|v| v.is_failure()), "{name}");
    }
    let wrong_status = &by_id["wrong status"].actions[1];
    assert!(
        wrong_status.message.contains("got 200") && wrong_status.response.is_some(),
        "a failure says what came and quotes the response: {wrong_status:?}"
    );
    let header = &by_id["wrong header"].actions[1].message;
    assert!(
        header.contains("W/\\\"1\\\"") || header.contains("W/\"1\""),
        "{header}"
    );

    // A failing setup skips the tests; teardown still runs.
    let r = run(&runner, "setup-fails.json");
    assert_eq!(verdicts(&r.setup), [Pass, Fail]);
    assert!(r.tests[0].skipped());
    assert_eq!(verdicts(&r.teardown), [Pass]);
    assert!(db
        .lock()
        .unwrap()
        .queries
        .iter()
        .any(|q| q == "teardown=ran"));

    // The TestReport is a valid R4 TestReport.
    let report = report::test_report(&r);
    let outcome = Validator::new(&registry).validate(&report);
    assert!(!outcome.has_errors(), "{:#?}", outcome.issues);
    assert_eq!(report["result"], "fail");
    assert_eq!(
        report["test"][0]["action"][0]["operation"]["result"],
        "skip"
    );
    let kinds: Vec<ActionKind> = r.setup.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [ActionKind::Operation, ActionKind::Assert]);
}

#[test]
fn command_line_exit_codes_and_reports() {
    let (base, _db) = start();
    let out = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_conformance-tests");
    let pass = Command::new(bin)
        .args(["run", "--server", &base, "--suite"])
        .arg(scripts_dir().join("passes.json"))
        .arg("--report-dir")
        .arg(out.path().join("pass"))
        .args(["--header", "Authorization: Bearer test"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&pass.stdout);
    assert!(
        pass.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&pass.stderr)
    );
    assert!(stdout.contains("1 of 1 scripts passed"), "{stdout}");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("pass/runner-passes-report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["resourceType"], "TestReport");
    assert_eq!(report["result"], "pass");
    assert_eq!(report["score"], 100.0);

    let fail = Command::new(bin)
        .args(["run", "--server", &base, "--suite"])
        .arg(scripts_dir())
        .arg("--report-dir")
        .arg(out.path().join("all"))
        .output()
        .unwrap();
    assert_eq!(fail.status.code(), Some(1));
    let summary = std::fs::read_to_string(out.path().join("all/summary.txt")).unwrap();
    assert!(
        summary.contains("FAIL runner-fails")
            || summary.contains("FAIL Runner self-test: assertions that must fail"),
        "{summary}"
    );
    assert!(summary.contains("1 of 3 scripts passed"), "{summary}");
    // JUnit: one suite per script, failures counted per test.
    let junit = std::fs::read_to_string(out.path().join("all/junit.xml")).unwrap();
    let mut reader = quick_xml::Reader::from_str(&junit);
    let mut suites = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.name().as_ref() == b"testsuite" =>
            {
                let attr = |k: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == k.as_bytes())
                        .map(|a| a.unescape_value().unwrap().into_owned())
                        .unwrap()
                };
                suites.push((attr("name"), attr("tests"), attr("failures")));
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    let failures: BTreeMap<String, (String, String)> =
        suites.into_iter().map(|(n, t, f)| (n, (t, f))).collect();
    assert_eq!(
        failures["Runner self-test: assertions that must fail"],
        ("11".to_string(), "10".to_string())
    );
    assert_eq!(
        failures["Runner self-test: every assertion kind passing"],
        ("6".to_string(), "0".to_string())
    );

    // A bad command line is exit code 2 with a message, not a panic.
    let bad = Command::new(bin)
        .args(["run", "--server", &base, "--suite", "no/such/folder"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("does not exist"));
}
