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

/// One answer read off the wire.
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// Sends one request over a new TCP connection, as a careful client such
/// as curl does: `Connection: close`, and for a body over 1 MiB
/// `Expect: 100-continue`, sending the body only when the server asks for
/// it (a server that refuses on the headers answers at once). Raw rather
/// than reqwest because several cases are beyond what an HTTP client
/// library will build (a 300 KB request target, say), and their answer is
/// what is tested.
fn send(base: &str, case: &cases::Case, timeout: Duration) -> std::io::Result<Answer> {
    use std::io::{BufRead, BufReader, Write};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let body = case.body.as_deref().unwrap_or(&[]);
    let wait_to_send = body.len() > 1 << 20;
    let mut head = format!(
        "{} /{} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        case.method,
        request_target(&case.path),
        body.len()
    );
    for (k, v) in &case.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if wait_to_send {
        head.push_str("expect: 100-continue\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let read_head = |reader: &mut BufReader<std::net::TcpStream>| -> std::io::Result<(u16, Vec<(String, String)>)> {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no status line: {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        Ok((status, headers))
    };
    let mut first = None;
    if wait_to_send {
        let (status, headers) = read_head(&mut reader)?;
        if status == 100 {
            let _ = stream.write_all(body);
        } else {
            first = Some((status, headers));
        }
    } else if !body.is_empty() {
        // A server may answer before reading all of a body it refuses;
        // the answer is what counts.
        let _ = stream.write_all(body);
    }
    let (status, headers) = match first {
        Some(f) => f,
        None => read_head(&mut reader)?,
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // A HEAD answer has no body, whatever its headers say.
    let body = if case.method == "HEAD" {
        Vec::new()
    } else {
        read_body(
            &mut reader,
            &header("transfer-encoding"),
            &header("content-length"),
        )?
    };
    Ok(Answer {
        status,
        content_type: header("content-type"),
        body,
    })
}

/// An answer's body: chunked, of a Content-Length, or to the end.
fn read_body(
    reader: &mut impl std::io::BufRead,
    transfer_encoding: &str,
    content_length: &str,
) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if transfer_encoding.contains("chunked") {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {size:?}")))?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Ok(n) = content_length.parse::<usize>() {
        body.resize(n, 0);
        reader.read_exact(&mut body)?;
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// `path` as a request target: the bytes a URL may not hold as they are
/// (space, controls, non-ASCII, `"<>\\^`{|}`) percent-encoded, as an HTTP
/// client library writes them; everything else, `%` escapes and `../`
/// included, sent as the case has it.
fn request_target(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b <= b' ' || b >= 0x7f || b"\"<>\\^`{|}".contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
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
        let started = Instant::now();
        let answer = send(&base, case, HANG * 3);
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
        let Answer {
            status,
            content_type: ctype,
            body,
        } = match answer {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{}: no answer ({e})", case.name));
                continue;
            }
        };
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
        // Beyond 64 KiB of request target hyper itself answers a bare 414,
        // before the server's code sees the request.
        let hyper_refused = status == 414 && case.path.len() >= 64 * 1024;
        if status >= 400 && case.method != "HEAD" && !hyper_refused && !is_outcome(&ctype, &body) {
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
