//! HTTP and FHIR conventions integrators' clients rely on, over real HTTP
//! through the server's own accept loop: `Allow` on 405, `Accept` by
//! quality and FHIR version, compression, `Vary`, `If-Modified-Since`,
//! `_pretty`, `Preference-Applied`, first and last paging links, `_type`
//! on a search of all types, compartment search, and CORS for the origins
//! allowed (none by default).

use std::io::Read;
use std::sync::Arc;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::{ids, on_both_stores, patient, registry, store, Db};

/// A server on a loopback port, through `listen::serve`, with CORS for
/// `origins`.
async fn start(
    db: Db,
    name: &str,
    origins: &[&str],
) -> Option<(String, Option<tempfile::TempDir>)> {
    let (store, dir) = store(db, name).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut state = fhir_server::interaction::AppState::new(
        Arc::new(store),
        registry(),
        &base,
        fhir_server::interaction::Access::Open,
    );
    state.cors_origins = origins.iter().map(|o| o.to_string()).collect();
    let app = fhir_server::server::router(Arc::new(state));
    tokio::spawn(fhir_server::server::listen::serve(
        listener,
        app,
        fhir_server::server::listen::Limits::default(),
        std::future::pending(),
    ));
    Some((base, dir))
}

async fn send(
    c: &Client,
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut r = c.request(method, url);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    if let Some(b) = body {
        r = r
            .header("content-type", "application/fhir+json")
            .body(b.to_string());
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

async fn get_json(c: &Client, url: &str) -> (StatusCode, Value) {
    let (s, _, b) = send(c, reqwest::Method::GET, url, &[], None).await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

async fn create(c: &Client, base: &str, resource: Value) -> String {
    let t = resource["resourceType"].as_str().unwrap().to_string();
    let (s, _, b) = send(
        c,
        reqwest::Method::POST,
        &format!("{base}/{t}"),
        &[],
        Some(&resource),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let v: Value = serde_json::from_slice(&b).unwrap();
    v["id"].as_str().unwrap().to_string()
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn flag(subject: &str) -> Value {
    json!({"resourceType": "Flag", "status": "active", "code": {"text": "carer"},
        "subject": {"reference": format!("Patient/{subject}")}})
}

on_both_stores!(
    http_semantics_follow_rfc_9110,
    reads_and_searches_follow_fhir_conventions,
    type_and_compartment_narrow_a_search,
    cors_is_for_the_origins_allowed_only,
);

/// RFC 9110: `Allow` with 405, `Accept` by quality, compression by
/// `Accept-Encoding`, `Vary`, conditional read by date.
async fn http_semantics_follow_rfc_9110(db: Db, name: &str) {
    let Some((base, _d)) = start(db, name, &[]).await else {
        return;
    };
    let c = Client::new();
    for (method, path, allow) in [
        (reqwest::Method::PUT, "/metadata", "GET, HEAD"),
        (reqwest::Method::DELETE, "/Patient/_history", "GET, HEAD"),
        (
            reqwest::Method::OPTIONS,
            "/Patient",
            "GET, HEAD, POST, PUT, PATCH, DELETE",
        ),
    ] {
        let (s, h, b) = send(&c, method.clone(), &format!("{base}{path}"), &[], None).await;
        assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(header(&h, "allow"), allow, "{method} {path}");
        let oo: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(oo["resourceType"], "OperationOutcome");
    }
    let url = format!("{base}/metadata");
    let (s, h, _) = send(
        &c,
        reqwest::Method::GET,
        &url,
        &[(
            "accept",
            "application/fhir+xml;q=0.5, application/fhir+json",
        )],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(header(&h, "content-type").starts_with("application/fhir+json"));
    assert!(
        header(&h, "vary").to_ascii_lowercase().contains("accept"),
        "{h:?}"
    );
    let (s, _, b) = send(
        &c,
        reqwest::Method::GET,
        &url,
        &[("accept", "application/fhir+json; fhirVersion=5.0")],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_ACCEPTABLE);
    let oo: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    // Compressed when asked, and the same document once inflated.
    let (_, _, plain) = send(&c, reqwest::Method::GET, &url, &[], None).await;
    let (s, h, gz) = send(
        &c,
        reqwest::Method::GET,
        &url,
        &[("accept-encoding", "gzip")],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(header(&h, "content-encoding"), "gzip");
    assert!(
        gz.len() * 4 < plain.len(),
        "gzip: {} of {} bytes",
        gz.len(),
        plain.len()
    );
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut inflated)
        .unwrap();
    let a: Value = serde_json::from_slice(&inflated).unwrap();
    assert_eq!(a["resourceType"], "CapabilityStatement");
    assert_eq!(
        a["rest"][0]["resource"][0]["conditionalRead"],
        "full-support"
    );
    // What hyper refuses before any handler runs is an OperationOutcome
    // too: a target over 64 KiB, too many headers, a malformed request.
    let addr = base.trim_start_matches("http://").to_string();
    let many: String = (0..200).map(|n| format!("x-h{n}: {n}\r\n")).collect();
    for (request, status) in [
        (
            format!(
                "GET /Patient?name={} HTTP/1.1\r\nhost: x\r\n\r\n",
                "a".repeat(70_000)
            ),
            "414",
        ),
        (
            format!("GET /metadata HTTP/1.1\r\nhost: x\r\n{many}\r\n"),
            "431",
        ),
        ("GET /metadata HTTP/9.9 nonsense\r\n\r\n".to_string(), "400"),
    ] {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            tcp.read_to_end(&mut answer),
        )
        .await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{answer}"
        );
        let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        let oo: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        assert_eq!(oo["resourceType"], "OperationOutcome", "{status}: {answer}");
    }
    // If-Modified-Since: unchanged since a later date is 304; an earlier
    // date or one that is not a date reads as usual.
    let id = create(
        &c,
        &base,
        patient("9000000009", "Since", "Sue", "1970-01-01"),
    )
    .await;
    let read = format!("{base}/Patient/{id}");
    let later = (chrono::Utc::now() + chrono::Duration::minutes(1))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    for (since, want) in [
        (later.as_str(), StatusCode::NOT_MODIFIED),
        ("Sat, 01 Jan 2000 00:00:00 GMT", StatusCode::OK),
        ("yesterday", StatusCode::OK),
    ] {
        let (s, _, _) = send(
            &c,
            reqwest::Method::GET,
            &read,
            &[("if-modified-since", since)],
            None,
        )
        .await;
        assert_eq!(s, want, "If-Modified-Since: {since}");
    }
}

/// FHIR http §3.1.0.1: `_pretty`, `Preference-Applied`, paging links.
async fn reads_and_searches_follow_fhir_conventions(db: Db, name: &str) {
    let Some((base, _d)) = start(db, name, &[]).await else {
        return;
    };
    let c = Client::new();
    let (s, h, b) = send(
        &c,
        reqwest::Method::POST,
        &format!("{base}/Patient"),
        &[("prefer", "return=minimal")],
        Some(&patient("9000000017", "Pref", "Pat", "1980-01-01")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(header(&h, "preference-applied"), "return=minimal");
    assert!(b.is_empty(), "return=minimal: no body");
    for n in 0..2 {
        create(
            &c,
            &base,
            patient("9000000025", &format!("Page{n}"), "P", "1980-01-01"),
        )
        .await;
    }
    let (_, _, b) = send(
        &c,
        reqwest::Method::GET,
        &format!("{base}/Patient?_count=2&_pretty=true"),
        &[],
        None,
    )
    .await;
    let text = String::from_utf8(b).unwrap();
    assert!(text.contains("\n  \""), "_pretty=true: indented");
    let bundle: Value = serde_json::from_str(&text).unwrap();
    let link = |rel: &str| {
        bundle["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == rel)
            .and_then(|l| l["url"].as_str())
            .map(str::to_string)
    };
    assert!(
        link("first").is_some_and(|u| u.contains("_offset=0")),
        "{bundle}"
    );
    assert!(
        link("last").is_some_and(|u| u.contains("_offset=2")),
        "{bundle}"
    );
    let (s, last) = get_json(&c, &link("last").unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        ids(&last).len(),
        1,
        "three Patients, pages of two: one on the last"
    );
    // Criteria in a create's URL make it conditional, as If-None-Exist.
    let body = patient("9000000068", "Cond", "Url", "1980-01-01");
    let url = format!("{base}/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C9000000068");
    let (s, _, first) = send(&c, reqwest::Method::POST, &url, &[], Some(&body)).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, again) = send(&c, reqwest::Method::POST, &url, &[], Some(&body)).await;
    assert_eq!(s, StatusCode::OK, "the match, not a second Patient");
    let id = |b: &[u8]| serde_json::from_slice::<Value>(b).unwrap()["id"].clone();
    assert_eq!(id(&first), id(&again));
    let (s, _, _) = send(
        &c,
        reqwest::Method::POST,
        &url,
        &[("if-none-exist", "family=x")],
        Some(&body),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "criteria in both places");
    // A search by POST honours handling=, and a return= means nothing there.
    let r = c
        .post(format!("{base}/Patient/_search"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("prefer", "handling=strict, return=minimal")
        .body("family=pref")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(r.headers(), "preference-applied"), "handling=strict");
}

/// search §3.1.1.3 `_type`, and compartment search (§3.1.1.2).
async fn type_and_compartment_narrow_a_search(db: Db, name: &str) {
    let Some((base, _d)) = start(db, name, &[]).await else {
        return;
    };
    let c = Client::new();
    let a = create(
        &c,
        &base,
        patient("9000000033", "Comp", "Ann", "1970-01-01"),
    )
    .await;
    let b = create(
        &c,
        &base,
        patient("9000000041", "Other", "Bob", "1971-01-01"),
    )
    .await;
    let fa = create(&c, &base, flag(&a)).await;
    let fb = create(&c, &base, flag(&b)).await;
    let (s, r) = get_json(&c, &format!("{base}/?_type=Flag")).await;
    assert_eq!(s, StatusCode::OK);
    let mut got = ids(&r);
    got.sort();
    let mut want = vec![fa.clone(), fb.clone()];
    want.sort();
    assert_eq!(got, want, "_type=Flag: the Flags only");
    let (_, r) = get_json(&c, &format!("{base}/?_type=Patient,Flag")).await;
    assert_eq!(ids(&r).len(), 4);
    let (_, r) = get_json(&c, &format!("{base}/?_type=Patient&family=comp")).await;
    assert_eq!(
        ids(&r),
        vec![a.clone()],
        "a type's own parameter with one _type"
    );
    let (_, r) = get_json(&c, &format!("{base}/?_type=Patient,Flag&_id={a},{fb}")).await;
    assert_eq!(ids(&r).len(), 2);
    // A parameter the types share, held in each type's index.
    let (_, r) = get_json(&c, &format!("{base}/?_type=Flag,Observation&patient={a}")).await;
    assert_eq!(
        ids(&r),
        vec![fa.clone()],
        "patient= across Flag and Observation"
    );
    let (_, r) = get_json(
        &c,
        &format!("{base}/?_type=Flag,Observation&patient:missing=true"),
    )
    .await;
    assert!(ids(&r).is_empty(), "every Flag has a patient: {r}");
    let (s, oo) = get_json(&c, &format!("{base}/?_type=Unicorn")).await;
    assert_eq!(
        (s, oo["resourceType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("OperationOutcome"))
    );
    // The Patient's compartment: its Flags, not another's.
    let (s, r) = get_json(&c, &format!("{base}/Patient/{a}/Flag")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ids(&r), vec![fa.clone()]);
    let (_, r) = get_json(&c, &format!("{base}/Patient/{a}/*")).await;
    let everything = ids(&r);
    assert!(
        everything.contains(&fa) && !everything.contains(&fb),
        "{everything:?}"
    );
    let (_, r) = get_json(&c, &format!("{base}/Patient/{a}/Flag?_count=1")).await;
    let next = r["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "self")
        .unwrap();
    assert!(
        next["url"]
            .as_str()
            .unwrap()
            .contains(&format!("Patient/{a}/Flag")),
        "{r}"
    );
    let (s, _) = get_json(&c, &format!("{base}/Patient/{a}/Unicorn")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, cap) = get_json(&c, &format!("{base}/metadata")).await;
    assert_eq!(
        cap["rest"][0]["compartment"][0],
        "http://hl7.org/fhir/CompartmentDefinition/patient"
    );
}

/// CORS (Fetch standard): preflights and answers for the origins allowed;
/// none for others, and none at all by default.
async fn cors_is_for_the_origins_allowed_only(db: Db, name: &str) {
    let app_origin = "https://app.example.org";
    let Some((base, _d)) = start(db, name, &[app_origin]).await else {
        return;
    };
    let c = Client::new();
    let url = format!("{base}/Patient");
    let (s, h, _) = send(
        &c,
        reqwest::Method::OPTIONS,
        &url,
        &[
            ("origin", app_origin),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type, if-match",
            ),
        ],
        None,
    )
    .await;
    assert!(s.is_success(), "preflight: {s}");
    assert_eq!(header(&h, "access-control-allow-origin"), app_origin);
    assert!(header(&h, "access-control-allow-methods").contains("POST"));
    assert!(header(&h, "access-control-allow-headers").contains("authorization"));
    let (s, h, _) = send(
        &c,
        reqwest::Method::GET,
        &url,
        &[("origin", app_origin)],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(header(&h, "access-control-allow-origin"), app_origin);
    assert!(header(&h, "access-control-expose-headers")
        .to_ascii_lowercase()
        .contains("etag"));
    let (_, h, _) = send(
        &c,
        reqwest::Method::GET,
        &url,
        &[("origin", "https://elsewhere.example")],
        None,
    )
    .await;
    assert!(
        h.get("access-control-allow-origin").is_none(),
        "another origin: no CORS"
    );
    let (_, cap) = get_json(&c, &format!("{base}/metadata")).await;
    assert_eq!(cap["rest"][0]["security"]["cors"], true);
    // By default no origin is allowed: a preflight is an unknown method.
    let Some((base, _d2)) = start(db, &format!("{name}_none"), &[]).await else {
        return;
    };
    let (s, h, _) = send(
        &c,
        reqwest::Method::OPTIONS,
        &format!("{base}/Patient"),
        &[
            ("origin", app_origin),
            ("access-control-request-method", "GET"),
        ],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert!(h.get("access-control-allow-origin").is_none());
}
