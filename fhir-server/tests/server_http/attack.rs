//! The attack suite: the access rules (issue 28: V1 V2 W1 W2 W3 O1 C1 S1
//! T1 E1 A1 SUB) probed over real HTTP on 127.0.0.1 with real signed tokens
//! and `Access::Enforced`, on both stores.
//!
//! The world: a GP practice (A81001) holds the records of six people, one
//! per consent state (none; permitting the council; permitting all but
//! refusing the council; expired; revoked; for another purpose), and about
//! each it writes an Observation, a support plan (CarePlan), a caring
//! relationship (RelatedPerson, with a cared-for person under the same
//! consent), a referral (Task, GP to council), a collection Bundle holding
//! an Observation, a Binary (securityContext), a Provenance (targeting the
//! Observation), a Subscription and the Consent. The council (616), a
//! carers' organisation (CO123), another council (999) and an admin attack
//! it. Probes are generated from matrices in bounded loops; each is one
//! request (or one pair, for hidden against missing) with its expected
//! answer, counted per class:
//!
//! - 0 consent self-grant (W2): others recording consent for a GP's
//!   patient, a refusal cutting the GP out, consenting after writing about
//!   the person, in a transaction: 403; the holder records and revokes.
//! - 1 default deny (V1): every organisation × consent state × record kind
//!   × read path (read, `_id` search, type search, type history, system
//!   history, system `?_id=`): shown exactly when consent permits.
//! - 2 subscriptions (SUB, V1): another organisation's read, search, update,
//!   patch, delete, history, `$status` and `$events` of the GP's
//!   Subscription are answered as for a missing one.
//! - 3 writes by source only (W1): PUT, PATCH, DELETE, their conditional
//!   forms and transaction entries by the council: 403 when it may see the
//!   record, as missing when not; removing the owner by PUT; `$end-caring`.
//! - 3a resurrection (W3): a deleted hidden id is answered as a missing
//!   one (PUT 405, If-Match 412, reads 404).
//! - 4 hidden = missing (O1): seven methods on a hidden id and a never-used
//!   one: the same status and the same body.
//! - 5 older versions (V2): an Observation moved between a shared and an
//!   unshared person is judged version by version (read, vread, history).
//! - 6 scopes (S1): `$caf`, reads, includes, system search, history and
//!   batch under a token with Patient and Observation scopes only.
//! - 7 tokens follow clients (T1): removed client 401; organisation, role
//!   and scopes changed take effect at the next request.
//! - 8 emergency (E1): a responder reads nothing by id (404) and finds by
//!   card number that plan only, with its contacts.
//! - 9 audit (A1): one AuditEvent per refused request (404 unknown type,
//!   405, 415, 401, 403, hidden 404).
//! - 10 consent fails closed (C1): provisions the interpreter does not
//!   understand are refused with 422 naming the element; a nested refusal
//!   naming the council by literal reference or ODS code refuses it.
//!
//! Failures are collected, not asserted one by one: the run prints a table
//! of probes per class and then fails listing every failed probe.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use fhir_server::auth::clients::{Client, Role};
use fhir_server::auth::keys;
use fhir_server::auth::scopes::Scopes;
use fhir_server::auth::{client_assertion, record_of, Authority, JWT_BEARER};
use fhir_server::interaction::Access;
use fhir_server::store::sql::SqlStore;
use fhir_server::store::{AuthStore, Query, Store, Total};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::sharing::{receiver, Receiver};
use crate::{on_both_stores, registry, store, Db};

const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const CARD: &str = "https://fhir.carer-fhir.uk/Id/emergency-card";
const FHIR_JSON: &str = "application/fhir+json";
const JSON_PATCH: &str = "application/json-patch+json";
/// The tag every attacking write carries, so that a change that got
/// through shows in the source's read.
const ATTACK: &str = "attack-was-here";
/// W2's answer to anyone but the holder of the person's record.
const W2: &str = "a consent is recorded by the organisation that holds the person's record";

const N_CLASSES: usize = 12;
const CLASSES: [&str; N_CLASSES] = [
    "0 consent self-grant",
    "1 default deny",
    "2 subscriptions",
    "3 writes by source only",
    "3a resurrection",
    "4 hidden = missing",
    "5 older versions",
    "6 scopes",
    "7 tokens follow clients",
    "8 emergency",
    "9 audit",
    "10 consent fails closed",
];
const SELF_GRANT: usize = 0;
const DEFAULT_DENY: usize = 1;
const SUBSCRIPTIONS: usize = 2;
const WRITES: usize = 3;
const RESURRECTION: usize = 4;
const ORACLE: usize = 5;
const VERSIONS: usize = 6;
const SCOPES: usize = 7;
const TOKENS: usize = 8;
const EMERGENCY: usize = 9;
const AUDIT: usize = 10;
const FAIL_CLOSED: usize = 11;

/// The consent state of each person.
const STATES: [&str; 6] = [
    "none",
    "permit-council",
    "deny-council",
    "expired",
    "revoked",
    "other-purpose",
];
/// The records about each person (no Consent for "none").
const KINDS: [&str; 10] = [
    "Patient",
    "Observation",
    "CarePlan",
    "RelatedPerson",
    "Task",
    "Bundle",
    "Binary",
    "Provenance",
    "Subscription",
    "Consent",
];
/// The methods of the hidden-against-missing pairs.
const METHODS: [&str; 7] = [
    "PUT",
    "PUT If-Match",
    "PATCH",
    "DELETE",
    "GET",
    "GET _history",
    "GET _history/1",
];
/// The kinds class 3 writes to (a referral Task is moved by its parties
/// through the referral workflow, so it is left out).
const WRITE_KINDS: [&str; 8] = [
    "Patient",
    "Observation",
    "CarePlan",
    "RelatedPerson",
    "Bundle",
    "Binary",
    "Provenance",
    "Consent",
];
const ATTACKS: [&str; 8] = [
    "PUT",
    "PATCH",
    "DELETE",
    "PUT ?_id",
    "PATCH ?_id",
    "DELETE ?_id",
    "transaction PUT",
    "transaction DELETE",
];
/// The element that makes a record someone's, removed by an update.
const OWNER_ELEMENTS: [(&str, &str); 3] = [
    ("Observation", "subject"),
    ("Bundle", "entry"),
    ("Binary", "securityContext"),
];

on_both_stores!(the_attack_suite_finds_no_way_in);

async fn the_attack_suite_finds_no_way_in(db: Db, name: &str) {
    let Some(s) = start(db, name).await else {
        return;
    };
    let w = world(&s).await;
    let mut t = Tally::new();
    // Reads first, while the world is as written; the classes that write
    // (or try to) come last.
    default_deny(&s, &w, &mut t).await;
    subscriptions(&s, &w, &mut t).await;
    deliveries(&s, &w, &mut t).await;
    consent_self_grant(&s, &w, &mut t).await;
    consent_fails_closed(&s, &w, &mut t).await;
    scopes(&s, &w, &mut t).await;
    scope_edges(&s, &w, &mut t).await;
    older_versions(&s, &w, &mut t).await;
    emergency(&s, &w, &mut t).await;
    audit(&s, &w, &mut t).await;
    tokens(&s, &w, &mut t).await;
    writes_by_source(&s, &w, &mut t).await;
    second_look(&s, &w, &mut t).await;
    resurrection(&s, &w, &mut t).await;
    oracle(&s, &w, &mut t).await;
    t.report(name);
}

// ---------------------------------------------------------------- harness

struct Server {
    base: String,
    store: Arc<SqlStore>,
    http: reqwest::Client,
    /// A real webhook receiver on 127.0.0.1, the one endpoint allowed.
    hook: Receiver,
    _dir: Option<tempfile::TempDir>,
}

async fn start(db: Db, name: &str) -> Option<Server> {
    let hook = receiver().await;
    let (store, dir) = store(db, name).await?;
    let store = Arc::new(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let authority = Authority::new(store.clone(), &base, Vec::new())
        .await
        .unwrap();
    let mut state = fhir_server::server::AppState::new(
        store.clone(),
        registry(),
        &base,
        Access::Enforced(Arc::new(authority)),
    );
    state.subscriptions = fhir_server::subscription::Config {
        allow: vec![hook.url.trim_end_matches("hook").to_string()],
        backoff: std::time::Duration::from_millis(100),
    };
    let state = Arc::new(state);
    fhir_server::subscription::notifier::start(state.clone());
    let app = fhir_server::server::router(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Some(Server {
        base,
        store,
        http: reqwest::Client::new(),
        hook,
        _dir: dir,
    })
}

/// A registered client (as registered) and its access token.
struct Org {
    client: Client,
    token: String,
}

/// An answer.
struct Reply {
    status: StatusCode,
    text: String,
    json: Value,
}

impl Reply {
    fn code(&self) -> u16 {
        self.status.as_u16()
    }

    /// Status and the start of the body, for a failure's report.
    fn brief(&self) -> String {
        let text: String = self.text.chars().take(300).collect();
        format!("{} {text}", self.code())
    }
}

/// The entries of a search or history, every page.
struct Listing {
    status: StatusCode,
    entries: Vec<Value>,
    text: String,
}

impl Listing {
    fn of(r: &Reply) -> Listing {
        let entries = entries_of(&r.json);
        Listing {
            status: r.status,
            text: Value::Array(entries.clone()).to_string(),
            entries,
        }
    }
}

impl Server {
    async fn register(&self, id: &str, ods: &str, role: Role, scopes: &str) -> Org {
        let key = keys::generate(jsonwebtoken::Algorithm::ES384).unwrap();
        let client = Client {
            id: id.into(),
            name: id.into(),
            organisation: ods.into(),
            role,
            scopes: Scopes::parse(scopes),
            purposes: vec![role.default_purpose().into()],
            jwks: keys::jwks_of(&key.public_jwk),
        };
        self.reregister(&client).await;
        let url = format!("{}/auth/token", self.base);
        let assertion = client_assertion(id, &url, &key.private_pem, None).unwrap();
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", scopes),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.as_str()),
        ];
        let r = self.http.post(url).form(&form).send().await.unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or_default();
        assert_eq!(status, StatusCode::OK, "token for {id}: {v}");
        Org {
            client,
            token: v["access_token"].as_str().unwrap().to_string(),
        }
    }

    /// Stores a registration (new, or replacing one).
    async fn reregister(&self, client: &Client) {
        client.check().unwrap();
        self.store.put_client(&record_of(client)).await.unwrap();
    }

    async fn send(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<(&str, String)>,
        if_match: Option<&str>,
    ) -> Reply {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        let mut req = self
            .http
            .request(method.parse().unwrap(), url)
            .header("accept", FHIR_JSON);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(m) = if_match {
            req = req.header("if-match", m);
        }
        if let Some((ctype, text)) = body {
            req = req.header("content-type", ctype).body(text);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, text, json }
    }

    async fn get(&self, org: &Org, path: &str) -> Reply {
        self.send(Some(org.token.as_str()), "GET", path, None, None)
            .await
    }

    async fn call(&self, org: &Org, method: &str, path: &str, body: Option<Value>) -> Reply {
        let body = body.map(|b| (FHIR_JSON, b.to_string()));
        self.send(Some(org.token.as_str()), method, path, body, None)
            .await
    }

    /// The attacker's JSON Patch: adds its tag.
    async fn patch(&self, org: &Org, path: &str) -> Reply {
        let ops = json!([{"op": "add", "path": "/meta/tag", "value": [attack_tag()]}]);
        self.send(
            Some(org.token.as_str()),
            "PATCH",
            path,
            Some((JSON_PATCH, ops.to_string())),
            None,
        )
        .await
    }

    /// Creates a resource as part of the world (which must work).
    async fn create(&self, org: &Org, r: Value) -> String {
        let t = r["resourceType"].as_str().unwrap().to_string();
        let got = self.call(org, "POST", &t, Some(r)).await;
        assert_eq!(got.status, StatusCode::CREATED, "{}", got.text);
        got.json["id"].as_str().unwrap().to_string()
    }

    /// Every entry of a search or history, following `next` links (20
    /// pages at most).
    async fn listing(&self, org: &Org, path: &str) -> Listing {
        let mut entries = Vec::new();
        let mut next = Some(path.to_string());
        for _ in 0..20 {
            let Some(p) = next.take() else { break };
            let r = self.get(org, &p).await;
            if r.status != StatusCode::OK {
                return Listing::of(&r);
            }
            entries.extend(entries_of(&r.json));
            next = next_link(&r.json, &self.base);
        }
        Listing {
            status: StatusCode::OK,
            text: Value::Array(entries.clone()).to_string(),
            entries,
        }
    }

    /// How many AuditEvents the store holds (read directly, unaudited).
    async fn audits(&self) -> i64 {
        let q = Query {
            resource_type: Some("AuditEvent".into()),
            count: 1,
            total: Total::Accurate,
            ..Query::default()
        };
        self.store.search(&q).await.unwrap().total.unwrap_or(0)
    }
}

fn entries_of(v: &Value) -> Vec<Value> {
    v["entry"].as_array().cloned().unwrap_or_default()
}

fn next_link(v: &Value, base: &str) -> Option<String> {
    v["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == "next")?["url"]
        .as_str()
        .map(|u| u.strip_prefix(base).unwrap_or(u).to_string())
}

/// Whether a listing holds `kind/id` (as a resource, a full URL or a
/// history entry's request).
fn holds(entries: &[Value], kind: &str, id: &str) -> bool {
    let key = format!("{kind}/{id}");
    let tail = format!("/{key}");
    let versioned = format!("{key}/");
    entries.iter().any(|e| {
        (e["resource"]["resourceType"] == kind && e["resource"]["id"] == id)
            || e["fullUrl"].as_str().is_some_and(|u| u.ends_with(&tail))
            || e["request"]["url"]
                .as_str()
                .is_some_and(|u| u == key || u.starts_with(&versioned))
    })
}

/// The version ids of `kind/id` a listing holds.
fn versions(entries: &[Value], kind: &str, id: &str) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] == kind && e["resource"]["id"] == id)
        .filter_map(|e| e["resource"]["meta"]["versionId"].as_str())
        .map(str::to_string)
        .collect()
}

/// An answer with `id` replaced by a placeholder and the volatile parts
/// of a resource (its own id, meta) left out, for comparing the answers
/// for a hidden id and a never-used one.
fn normalise(text: &str, id: &str) -> Value {
    let text = text.replace(id, "ID");
    match serde_json::from_str::<Value>(&text) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.remove("id");
                o.remove("meta");
            }
            v
        }
        Err(_) => Value::String(text),
    }
}

/// Probes per class and the failures, reported together at the end.
struct Tally {
    counts: [(usize, usize); N_CLASSES],
    failures: Vec<String>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            counts: [(0, 0); N_CLASSES],
            failures: Vec::new(),
        }
    }

    fn check(&mut self, class: usize, what: &str, ok: bool, expected: &str, got: &str) {
        self.counts[class].1 += 1;
        if ok {
            self.counts[class].0 += 1;
        } else {
            self.failures.push(format!(
                "[{}] {what}: expected {expected}; got {got}",
                CLASSES[class]
            ));
        }
    }

    fn status(&mut self, class: usize, what: &str, want: u16, got: &Reply) -> bool {
        let ok = got.code() == want;
        self.check(class, what, ok, &want.to_string(), &got.brief());
        ok
    }

    fn report(&self, name: &str) {
        println!("attack suite, {name}: probes per class");
        println!("{:<28} {:>7} {:>7}", "class", "passed", "total");
        for (label, (passed, total)) in CLASSES.iter().zip(self.counts.iter()) {
            println!("{label:<28} {passed:>7} {total:>7}");
        }
        let passed: usize = self.counts.iter().map(|c| c.0).sum();
        let total: usize = self.counts.iter().map(|c| c.1).sum();
        println!("{:<28} {passed:>7} {total:>7}", "all");
        assert!(total >= 500, "only {total} probes");
        assert!(
            self.failures.is_empty(),
            "{} of {total} probes failed:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// Who is probing, for which class.
#[derive(Clone, Copy)]
struct By<'a> {
    class: usize,
    who: &'a str,
    org: &'a Org,
}

// ------------------------------------------------------------------ world

/// A record as written by the GP: its id, the body it was created with,
/// and a text that must never reach anyone it is hidden from.
struct Record {
    id: String,
    body: Value,
    marker: Option<String>,
}

struct World {
    gp: Org,
    council: Org,
    carers: Org,
    other: Org,
    admin: Org,
    /// Each person's records by kind, by consent state.
    people: BTreeMap<&'static str, BTreeMap<&'static str, Record>>,
}

impl World {
    fn record(&self, state: &str, kind: &str) -> Option<&Record> {
        self.people.get(state)?.get(kind)
    }

    fn id(&self, state: &str, kind: &str) -> &str {
        &self.record(state, kind).expect("in the world").id
    }

    /// The person's Patient id.
    fn patient(&self, state: &str) -> &str {
        self.id(state, "Patient")
    }

    fn orgs(&self) -> [(&'static str, &Org); 5] {
        [
            ("gp", &self.gp),
            ("council", &self.council),
            ("carers", &self.carers),
            ("council999", &self.other),
            ("admin", &self.admin),
        ]
    }

    fn records(&self) -> Vec<(&'static str, &'static str, &Record)> {
        let mut out = Vec::new();
        for state in STATES {
            for kind in KINDS {
                if let Some(r) = self.record(state, kind) {
                    out.push((state, kind, r));
                }
            }
        }
        out
    }
}

/// Whether `who` may read a record of `kind` about the person in `state`
/// (V1): the GP is the source of all; a Subscription is its source's only;
/// the council is permitted by "permit-council", everyone else by
/// "deny-council" (a permit for all that refuses the council).
fn visible(who: &str, state: &str, kind: &str) -> bool {
    match who {
        "gp" => true,
        _ if kind == "Subscription" => false,
        "council" => state == "permit-council",
        _ => state == "deny-council",
    }
}

async fn world(s: &Server) -> World {
    let gp = s
        .register("gp", "A81001", Role::GpPractice, "system/*.cruds")
        .await;
    let council = s
        .register("council", "616", Role::LocalAuthority, "system/*.cruds")
        .await;
    let carers = s
        .register(
            "carers",
            "CO123",
            Role::CarersOrganisation,
            "system/*.cruds",
        )
        .await;
    let other = s
        .register("council999", "999", Role::LocalAuthority, "system/*.cruds")
        .await;
    let admin = s.register("admin", "X26", Role::Admin, "system/*.rs").await;
    let mut people = BTreeMap::new();
    for state in STATES {
        people.insert(state, person(s, &gp, state).await);
    }
    World {
        gp,
        council,
        carers,
        other,
        admin,
        people,
    }
}

/// One person in `state`, and every record about them, written by the GP.
async fn person(s: &Server, gp: &Org, state: &'static str) -> BTreeMap<&'static str, Record> {
    let mark = |kind: &str| format!("mk-{state}-{kind}");
    let mut records = BTreeMap::new();
    let body = patient_body(&mark("Patient"));
    let x = s.create(gp, body.clone()).await;
    records.insert(
        "Patient",
        Record {
            id: x.clone(),
            body,
            marker: Some(mark("Patient")),
        },
    );
    let cared_for = s.create(gp, patient_body("cared-for")).await;
    for p in [&x, &cared_for] {
        if let Some(c) = consent_for(p, state) {
            let id = s.create(gp, c.clone()).await;
            if p == &x {
                let r = Record {
                    id,
                    body: c,
                    marker: None,
                };
                records.insert("Consent", r);
            }
        }
    }
    let data = b64(&mark("Binary"));
    let bodies: [(&'static str, Value, String); 7] = [
        (
            "Observation",
            observation(&x, &mark("Observation")),
            mark("Observation"),
        ),
        (
            "CarePlan",
            support_plan(&x, &mark("CarePlan")),
            mark("CarePlan"),
        ),
        (
            "RelatedPerson",
            relationship(&x, &cared_for, &mark("RelatedPerson")),
            mark("RelatedPerson"),
        ),
        ("Task", referral(&x, &mark("Task")), mark("Task")),
        ("Bundle", collection(&x, &mark("Bundle")), mark("Bundle")),
        ("Binary", binary(&x, &data), data),
        (
            "Subscription",
            subscription(&mark("Subscription")),
            mark("Subscription"),
        ),
    ];
    for (kind, body, marker) in bodies {
        let id = s.create(gp, body.clone()).await;
        let r = Record {
            id,
            body,
            marker: Some(marker),
        };
        records.insert(kind, r);
    }
    let obs = records["Observation"].id.clone();
    let body = provenance(&obs, &mark("Provenance"));
    let id = s.create(gp, body.clone()).await;
    let r = Record {
        id,
        body,
        marker: Some(mark("Provenance")),
    };
    records.insert("Provenance", r);
    records
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn attack_tag() -> Value {
    json!({"system": "https://example.org/attack", "code": ATTACK})
}

/// A record's body as an attacker sends it: with `id` (or none, for a
/// conditional update) and the attacker's tag.
fn tampered(body: &Value, id: Option<&str>) -> Value {
    let mut b = body.clone();
    match id {
        Some(i) => b["id"] = json!(i),
        None => {
            if let Some(o) = b.as_object_mut() {
                o.remove("id");
            }
        }
    }
    b["meta"] = json!({"tag": [attack_tag()]});
    b
}

fn transaction(entry: Value) -> Value {
    json!({"resourceType": "Bundle", "type": "transaction", "entry": [entry]})
}

fn patient_body(family: &str) -> Value {
    json!({"resourceType": "Patient", "name": [{"family": family, "given": ["Test"]}]})
}

fn observation(patient: &str, text: &str) -> Value {
    json!({"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "https://example.org/codes", "code": "carer-status"}], "text": text},
        "subject": {"reference": format!("Patient/{patient}")}})
}

fn support_plan(patient: &str, title: &str) -> Value {
    json!({"resourceType": "CarePlan", "status": "active", "intent": "plan", "title": title,
        "category": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/plan-category", "code": "carer-support-plan"}]}],
        "subject": {"reference": format!("Patient/{patient}")}})
}

fn relationship(carer: &str, cared_for: &str, name: &str) -> Value {
    json!({"resourceType": "RelatedPerson", "active": true, "patient": {"reference": format!("Patient/{cared_for}")},
        "relationship": [{"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdditionalPersonRelationshipRole", "code": "Carer"}]}],
        "name": [{"family": name}],
        "extension": [{"url": "https://fhir.carer-fhir.uk/StructureDefinition/carer-patient", "valueReference": {"reference": format!("Patient/{carer}")}}],
        "period": {"start": "2022-09-01"}})
}

fn referral(patient: &str, description: &str) -> Value {
    json!({"resourceType": "Task", "status": "requested", "intent": "order", "description": description,
        "code": {"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/assessment-type", "code": "carers-assessment"}]},
        "for": {"reference": format!("Patient/{patient}")},
        "requester": {"identifier": {"system": ODS, "value": "A81001"}},
        "owner": {"identifier": {"system": ODS, "value": "616"}}})
}

fn collection(patient: &str, text: &str) -> Value {
    json!({"resourceType": "Bundle", "type": "collection", "entry": [{
        "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "resource": observation(patient, text)}]})
}

fn binary(patient: &str, data: &str) -> Value {
    json!({"resourceType": "Binary", "contentType": "text/plain",
        "securityContext": {"reference": format!("Patient/{patient}")}, "data": data})
}

fn provenance(obs: &str, reason: &str) -> Value {
    json!({"resourceType": "Provenance", "target": [{"reference": format!("Observation/{obs}")}],
        "recorded": "2024-01-01T00:00:00Z", "reason": [{"text": reason}],
        "agent": [{"who": {"identifier": {"system": ODS, "value": "A81001"}}}]})
}

fn subscription(reason: &str) -> Value {
    json!({"resourceType": "Subscription", "status": "requested", "reason": reason,
        "criteria": "https://fhir.carer-fhir.uk/SubscriptionTopic/plan-changed",
        "channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/hook", "payload": "application/fhir+json"}})
}

fn emergency_plan(patient: &str, card: &str, contact: &str) -> Value {
    json!({"resourceType": "CarePlan", "status": "active", "intent": "plan",
        "identifier": [{"system": CARD, "value": card}],
        "subject": {"reference": format!("Patient/{patient}")},
        "extension": [{"url": "https://fhir.carer-fhir.uk/StructureDefinition/emergency-contact",
            "extension": [{"url": "contact", "valueReference": {"reference": format!("RelatedPerson/{contact}")}},
                          {"url": "agreedToAct", "valueBoolean": true}]}]})
}

fn contact(patient: &str, family: &str) -> Value {
    json!({"resourceType": "RelatedPerson", "patient": {"reference": format!("Patient/{patient}")},
        "name": [{"family": family, "given": ["Sam"]}]})
}

fn ircp() -> Value {
    json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]})
}

/// A consent actor: an organisation by ODS code.
fn actor(ods: &str) -> Value {
    json!({"role": ircp(), "reference": {"identifier": {"system": ODS, "value": ods}}})
}

fn purpose(code: &str) -> Value {
    json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": code}])
}

/// A permit for `orgs`, care management, from 2020.
fn permit(orgs: &[&str]) -> Value {
    json!({"type": "permit", "actor": orgs.iter().copied().map(actor).collect::<Vec<_>>(),
        "purpose": purpose("CAREMGT"), "period": {"start": "2020-01-01"}})
}

/// A permit for every organisation, with a nested refusal of `refused`.
fn permit_all_but(refused: Value) -> Value {
    json!({"type": "permit", "period": {"start": "2020-01-01"},
        "provision": [{"type": "deny", "actor": [refused]}]})
}

fn caf_consent(patient: &str, status: &str, provision: Value) -> Value {
    json!({"resourceType": "Consent", "status": status,
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/caf-consent-category", "code": "caf-sharing"}]}],
        "patient": {"reference": format!("Patient/{patient}")}, "dateTime": "2020-01-01",
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": provision})
}

/// The CafConsent of a person in `state` (none for "none").
fn consent_for(patient: &str, state: &str) -> Option<Value> {
    let mut p = permit(&["616"]);
    let mut status = "active";
    match state {
        "none" => return None,
        "permit-council" => {}
        "deny-council" => p = permit_all_but(actor("616")),
        "expired" => p["period"] = json!({"start": "2020-01-01", "end": "2021-01-01"}),
        "revoked" => status = "inactive",
        "other-purpose" => p["purpose"] = purpose("HRESCH"),
        other => panic!("{other}"),
    }
    Some(caf_consent(patient, status, p))
}

// ------------------------------------------------------- shared probes

/// The same GET of a hidden id and of a never-used one (`{id}` in
/// `template`): `want`, and the same answer (O1).
async fn same_as_missing(
    s: &Server,
    t: &mut Tally,
    by: By<'_>,
    template: &str,
    hidden: &str,
    want: u16,
) {
    let missing = uuid::Uuid::new_v4().to_string();
    let a = s.get(by.org, &template.replace("{id}", hidden)).await;
    let b = s.get(by.org, &template.replace("{id}", &missing)).await;
    let same = a.status == b.status && normalise(&a.text, hidden) == normalise(&b.text, &missing);
    t.check(
        by.class,
        &format!(
            "{} GET {template} for hidden {hidden} against a never-used id",
            by.who
        ),
        same && a.code() == want,
        &format!("{want}, the same answer for both"),
        &format!("hidden: {}; never used: {}", a.brief(), b.brief()),
    );
}

/// One of [`METHODS`] on `kind/id`.
async fn attempt(s: &Server, org: &Org, method: &str, kind: &str, id: &str, body: &Value) -> Reply {
    let path = format!("{kind}/{id}");
    match method {
        "PUT" | "PUT If-Match" => {
            let b = tampered(body, Some(id)).to_string();
            let if_match = (method == "PUT If-Match").then_some("W/\"1\"");
            s.send(
                Some(org.token.as_str()),
                "PUT",
                &path,
                Some((FHIR_JSON, b)),
                if_match,
            )
            .await
        }
        "PATCH" => s.patch(org, &path).await,
        "DELETE" => s.call(org, "DELETE", &path, None).await,
        "GET" => s.get(org, &path).await,
        "GET _history" => s.get(org, &format!("{path}/_history")).await,
        _ => s.get(org, &format!("{path}/_history/1")).await,
    }
}

/// O1 (and W3): the answer for a hidden or missing id. Recording a
/// Consent is refused by W2 (403) whatever the Patient; which of W2 and
/// W3 answers first the rules leave open, so either, as long as both ids
/// get the same.
fn oracle_status(method: &str, kind: &str) -> &'static [u16] {
    match (method, kind) {
        ("PUT", "Consent") => &[403, 405],
        ("PUT If-Match", "Consent") => &[403, 412],
        ("PUT", _) => &[405],
        ("PUT If-Match", _) => &[412],
        ("DELETE", _) => &[204],
        _ => &[404],
    }
}

/// A method on a hidden record and on a never-used id of its type.
async fn oracle_pair(s: &Server, t: &mut Tally, by: By<'_>, method: &str, kind: &str, r: &Record) {
    let missing = uuid::Uuid::new_v4().to_string();
    let hidden = attempt(s, by.org, method, kind, &r.id, &r.body).await;
    let never = attempt(s, by.org, method, kind, &missing, &r.body).await;
    let want = oracle_status(method, kind);
    let same = hidden.status == never.status
        && normalise(&hidden.text, &r.id) == normalise(&never.text, &missing);
    t.check(
        by.class,
        &format!(
            "{} {method} {kind}/{} (hidden) against a never-used id",
            by.who, r.id
        ),
        same && want.contains(&hidden.code()),
        &format!("{want:?}, the same answer for both"),
        &format!("hidden: {}; never used: {}", hidden.brief(), never.brief()),
    );
}

/// The source still reads its record, without the attacker's tag.
async fn intact(s: &Server, t: &mut Tally, class: usize, gp: &Org, kind: &str, r: &Record) {
    let got = s.get(gp, &format!("{kind}/{}", r.id)).await;
    t.check(
        class,
        &format!("{kind}/{} unchanged for its source", r.id),
        got.status == StatusCode::OK && !got.text.contains(ATTACK),
        "200 without the attacker's tag",
        &got.brief(),
    );
}

/// A listing holds the record exactly when it is visible, and never its
/// marker when not.
fn listed(
    t: &mut Tally,
    class: usize,
    what: &str,
    l: &Listing,
    kind: &str,
    r: &Record,
    visible: bool,
) {
    let held = holds(&l.entries, kind, &r.id);
    let leaked = !visible
        && r.marker
            .as_ref()
            .is_some_and(|m| l.text.contains(m.as_str()));
    t.check(
        class,
        what,
        l.status == StatusCode::OK && held == visible && !leaked,
        if visible {
            "200, listed"
        } else {
            "200, absent"
        },
        &format!(
            "{} listed: {held}, marker leaked: {leaked}",
            l.status.as_u16()
        ),
    );
}

// ----------------------------------------------------- class 1: default deny

async fn default_deny(s: &Server, w: &World, t: &mut Tally) {
    for (who, org) in w.orgs() {
        let system = s.listing(org, "_history?_count=1000").await;
        for (state, kind, r) in w.records() {
            let what = format!("{who} × {state} × {kind} × system history");
            listed(
                t,
                DEFAULT_DENY,
                &what,
                &system,
                kind,
                r,
                visible(who, state, kind),
            );
        }
        for kind in KINDS {
            let search = s.listing(org, &format!("{kind}?_count=1000")).await;
            let history = s
                .listing(org, &format!("{kind}/_history?_count=1000"))
                .await;
            for state in STATES {
                let Some(r) = w.record(state, kind) else {
                    continue;
                };
                let vis = visible(who, state, kind);
                let cell = |path: &str| format!("{who} × {state} × {kind} × {path}");
                listed(t, DEFAULT_DENY, &cell("type search"), &search, kind, r, vis);
                listed(
                    t,
                    DEFAULT_DENY,
                    &cell("type history"),
                    &history,
                    kind,
                    r,
                    vis,
                );
                let got = s.get(org, &format!("{kind}/{}", r.id)).await;
                read_probe(t, &cell("read"), &got, r, vis);
                for (label, path) in [
                    ("search _id", format!("{kind}?_id={}", r.id)),
                    ("system search _id", format!("?_id={}", r.id)),
                ] {
                    let got = s.get(org, &path).await;
                    let l = Listing::of(&got);
                    let n = i64::from(vis);
                    let counted = got.json["total"] == json!(n);
                    let what = cell(label);
                    listed(t, DEFAULT_DENY, &what, &l, kind, r, vis);
                    t.check(
                        DEFAULT_DENY,
                        &format!("{what}: total"),
                        counted,
                        &n.to_string(),
                        &got.json["total"].to_string(),
                    );
                }
            }
        }
    }
}

/// A read by id: the record when visible; 404 without a trace when not.
fn read_probe(t: &mut Tally, what: &str, got: &Reply, r: &Record, visible: bool) {
    let ok = if visible {
        got.status == StatusCode::OK && got.json["id"] == r.id.as_str()
    } else {
        let leaked = r
            .marker
            .as_ref()
            .is_some_and(|m| got.text.contains(m.as_str()));
        got.status == StatusCode::NOT_FOUND && !leaked
    };
    let want = if visible {
        "200, the record"
    } else {
        "404, no trace"
    };
    t.check(DEFAULT_DENY, what, ok, want, &got.brief());
}

// --------------------------------------------------- class 2: subscriptions

async fn subscriptions(s: &Server, w: &World, t: &mut Tally) {
    for state in ["none", "permit-council"] {
        let Some(r) = w.record(state, "Subscription") else {
            continue;
        };
        for op in ["", "/$status", "/$events"] {
            let path = format!("Subscription/{}{op}", r.id);
            let got = s.get(&w.gp, &path).await;
            t.status(
                SUBSCRIPTIONS,
                &format!("gp GET {path} (its own)"),
                200,
                &got,
            );
        }
        for (who, org) in w.orgs().into_iter().skip(1) {
            let by = By {
                class: SUBSCRIPTIONS,
                who,
                org,
            };
            for op in ["", "/$status", "/$events", "/_history"] {
                let template = format!("Subscription/{{id}}{op}");
                same_as_missing(s, t, by, &template, &r.id, 404).await;
            }
            let found = s.get(org, &format!("Subscription?_id={}", r.id)).await;
            let what = format!("{who} × {state} × Subscription × search _id");
            listed(
                t,
                SUBSCRIPTIONS,
                &what,
                &Listing::of(&found),
                "Subscription",
                r,
                false,
            );
            if who == "admin" {
                // Its token reads only: its writes are refused by scope.
                continue;
            }
            for method in ["PUT", "PATCH", "DELETE"] {
                oracle_pair(s, t, by, method, "Subscription", r).await;
            }
        }
        intact(s, t, SUBSCRIPTIONS, &w.gp, "Subscription", r).await;
    }
    // And the other way round: the council's own is not the GP's.
    let own = s
        .create(&w.council, subscription("the council's own"))
        .await;
    let by = By {
        class: SUBSCRIPTIONS,
        who: "gp",
        org: &w.gp,
    };
    for op in ["", "/$status", "/$events"] {
        let template = format!("Subscription/{{id}}{op}");
        same_as_missing(s, t, by, &template, &own, 404).await;
    }
}

/// A full-resource subscription to plan changes, sent to the receiver.
fn hooked_subscription(hook: &str, reason: &str) -> Value {
    json!({"resourceType": "Subscription", "status": "requested", "reason": reason,
        "criteria": "https://fhir.carer-fhir.uk/SubscriptionTopic/plan-changed",
        "channel": {"type": "rest-hook", "endpoint": hook, "payload": "application/fhir+json",
            "_payload": {"extension": [{"url": fhir_server::subscription::ext::CONTENT, "valueCode": "full-resource"}]}}})
}

/// Notifications delivered to a real receiver carry only what the
/// subscriber may read at delivery: the person's consent (V1), the
/// subscribing client's scopes (SUB); hidden people's ids never appear.
async fn deliveries(s: &Server, w: &World, t: &mut Tally) {
    let narrow = s
        .register(
            "council-subscriber-narrow",
            "616",
            Role::LocalAuthority,
            "system/Patient.rs system/Subscription.cruds",
        )
        .await;
    let subscribers: [(&str, &Org); 3] = [
        ("council", &w.council),
        ("council999", &w.other),
        ("council-narrow", &narrow),
    ];
    let mut subs = Vec::new();
    for (who, org) in subscribers {
        let id = s.create(org, hooked_subscription(&s.hook.url, who)).await;
        let sid = id.clone();
        s.hook
            .wait_for("the handshake", move |h| h.handshakes(&sid) == 1)
            .await;
        subs.push((who, id));
    }
    // The GP writes a plan for every person: hidden ones first, so that
    // by the time the last visible one has arrived, every earlier event
    // has been judged.
    let mut plans: Vec<(&str, String)> = Vec::new();
    let mut order: Vec<&str> = STATES
        .iter()
        .copied()
        .filter(|st| !matches!(*st, "permit-council" | "deny-council"))
        .collect();
    order.extend(["deny-council", "permit-council"]);
    for state in order {
        let id = s
            .create(
                &w.gp,
                support_plan(w.patient(state), &format!("delivered plan {state}")),
            )
            .await;
        plans.push((state, id));
    }
    let council_sub = subs[0].1.clone();
    let (permit_plan, deny_plan) = (
        plans[plans.len() - 1].1.clone(),
        plans[plans.len() - 2].1.clone(),
    );
    let other_sub = subs[1].1.clone();
    s.hook
        .wait_for("the visible plans' events", move |h| {
            h.events(&council_sub)
                .iter()
                .any(|e| e.1.to_string().contains(&permit_plan))
                && h.events(&other_sub)
                    .iter()
                    .any(|e| e.1.to_string().contains(&deny_plan))
        })
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    for (who, sub) in &subs {
        let got = s.hook.events(sub);
        let delivered: Vec<String> = got.iter().map(|e| e.1.to_string()).collect();
        for (state, plan) in &plans {
            let want = *who != "council-narrow" && visible(who, state, "CarePlan");
            let sent = delivered.iter().any(|d| d.contains(plan.as_str()));
            t.check(
                SUBSCRIPTIONS,
                &format!("{who} × {state} × plan-changed delivered"),
                sent == want,
                if want { "delivered" } else { "withheld" },
                if sent { "delivered" } else { "withheld" },
            );
        }
        // Nothing sent to this subscriber names a person hidden from it.
        let everything: String = s
            .hook
            .got
            .lock()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .filter(|b| b.contains(&format!("Subscription/{sub}")))
            .collect();
        for state in STATES {
            if *who != "council-narrow" && visible(who, state, "CarePlan") {
                continue;
            }
            let pid = w.patient(state);
            t.check(
                SUBSCRIPTIONS,
                &format!("{who} × {state} × the person's id in any notification"),
                !everything.contains(pid),
                "absent",
                "present",
            );
        }
    }
}

/// The holes a review of the first version of these rules found, each
/// a probe of its class: a subscription's event count telling of hidden
/// changes; an AuditEvent about two people shown to the holder of one; a
/// referral's party rewriting it while moving it; a purpose without a
/// code; an Organization record claiming another's ODS code.
async fn second_look(s: &Server, w: &World, t: &mut Tally) {
    // An AuditEvent about the GP's patient and council 999's own.
    let theirs = s.create(&w.other, patient_body("Nine-Nine-Nine")).await;
    let both = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:6a1f2c3e-0000-4000-8000-000000000001",
            "resource": {"resourceType": "Basic", "code": {"text": "about two people"},
            "subject": {"reference": format!("Patient/{}", w.patient("none"))}}},
        {"fullUrl": "urn:uuid:6a1f2c3e-0000-4000-8000-000000000002",
            "resource": {"resourceType": "Basic", "code": {"text": "and another"},
            "subject": {"reference": format!("Patient/{theirs}")}}}]});
    let got = s.call(&w.other, "POST", "Bundle", Some(both)).await;
    t.status(AUDIT, "999 stores a Bundle about two people", 201, &got);
    let listed = s
        .get(
            &w.gp,
            &format!(
                "AuditEvent?patient=Patient/{}&_count=1000",
                w.patient("none")
            ),
        )
        .await;
    t.check(
        AUDIT,
        "the GP's audit search shows no event about a person whose record it does not hold",
        listed.code() == 200 && !listed.text.contains(&theirs),
        "200 without the other person's id",
        &listed.brief(),
    );
    // A referral's owner moves it, and may not rewrite it on the way.
    if let Some(r) = w.record("permit-council", "Task") {
        let current = s.get(&w.council, &format!("Task/{}", r.id)).await;
        let mut moved = current.json.clone();
        moved["status"] = json!("received");
        moved["description"] = json!(ATTACK);
        let got = s
            .call(&w.council, "PUT", &format!("Task/{}", r.id), Some(moved))
            .await;
        t.status(
            WRITES,
            "the owner moves the referral and rewrites it",
            403,
            &got,
        );
        let patch = json!([{"op": "replace", "path": "/status", "value": "received"},
            {"op": "add", "path": "/note", "value": [{"text": ATTACK}]}]);
        let got = s
            .send(
                Some(w.council.token.as_str()),
                "PATCH",
                &format!("Task/{}", r.id),
                Some((JSON_PATCH, patch.to_string())),
                None,
            )
            .await;
        t.status(WRITES, "the owner patches a move and a note in", 403, &got);
        intact(s, t, WRITES, &w.gp, "Task", r).await;
    }
    // A purpose without a code would permit every purpose.
    let z = w.patient("none");
    let mut p = permit(&["616"]);
    p["purpose"] = json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "display": "care management"}]);
    let got = s
        .call(&w.gp, "POST", "Consent", Some(caf_consent(z, "active", p)))
        .await;
    t.check(
        FAIL_CLOSED,
        "a purpose without a code",
        got.code() == 422 && got.text.contains("Consent.provision.purpose[0]"),
        "422 naming Consent.provision.purpose[0]",
        &got.brief(),
    );
    // 999 writes an Organization claiming another ODS code; a refusal of
    // that record must still refuse 999.
    let claimed = s
        .create(
            &w.other,
            json!({"resourceType": "Organization", "name": "not really 999",
                "identifier": [{"system": ODS, "value": "ZZZ99"}]}),
        )
        .await;
    let person = s.create(&w.gp, patient_body("Claimed")).await;
    let obs = s
        .create(&w.gp, observation(&person, "claimed-marker"))
        .await;
    let mut p = permit(&["999", "616"]);
    p["provision"] = json!([{"type": "deny",
        "actor": [{"role": ircp(), "reference": {"reference": format!("Organization/{claimed}")}}]}]);
    let got = s
        .call(
            &w.gp,
            "POST",
            "Consent",
            Some(caf_consent(&person, "active", p)),
        )
        .await;
    t.status(
        FAIL_CLOSED,
        "a refusal of an Organization record",
        201,
        &got,
    );
    let got = s.get(&w.other, &format!("Observation/{obs}")).await;
    t.status(
        FAIL_CLOSED,
        "the organisation behind a record claiming another ODS code is refused",
        404,
        &got,
    );
    // A subscription's count tells of nothing hidden from its organisation:
    // it is the number of events `$events` lists (each judged as delivery
    // would), numbered without gaps.
    let subs = s.get(&w.council, "Subscription?_count=100").await;
    for e in entries_of(&subs.json) {
        let id = e["resource"]["id"].as_str().unwrap_or("").to_string();
        if e["resource"]["channel"]["endpoint"] != json!(s.hook.url) {
            continue;
        }
        let status = s
            .get(&w.council, &format!("Subscription/{id}/$status"))
            .await;
        let count: Option<usize> = status.json["entry"][0]["resource"]["parameter"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "events-since-subscription-start")
            .and_then(|p| p["valueString"].as_str())
            .and_then(|v| v.parse().ok());
        let listed = s
            .get(
                &w.council,
                &format!("Subscription/{id}/$events?eventsSinceNumber=1"),
            )
            .await;
        let events = entries_of(&listed.json).len().saturating_sub(1);
        t.check(
            SUBSCRIPTIONS,
            "a subscription's count is the events its organisation may see",
            count == Some(events),
            &format!("{events}"),
            &format!("{count:?}"),
        );
    }
}

// ---------------------------------------------- class 0: consent self-grant

/// W2's refusal.
fn refused_consent(t: &mut Tally, what: &str, got: &Reply) {
    t.check(
        SELF_GRANT,
        what,
        got.status == StatusCode::FORBIDDEN && got.text.contains(W2),
        &format!("403 \"{W2}\""),
        &got.brief(),
    );
}

async fn consent_self_grant(s: &Server, w: &World, t: &mut Tally) {
    let others = [
        ("council", &w.council, "616"),
        ("carers", &w.carers, "CO123"),
        ("council999", &w.other, "999"),
    ];
    for (who, org, ods) in others {
        for state in STATES {
            let body = caf_consent(w.patient(state), "active", permit(&[ods]));
            let got = s.call(org, "POST", "Consent", Some(body)).await;
            let what = format!("{who} records a consent for itself about the {state} person");
            refused_consent(t, &what, &got);
        }
        // Hidden and missing Patients: one answer.
        let hidden = w.patient("none");
        let missing = uuid::Uuid::new_v4().to_string();
        let a = s
            .call(
                org,
                "POST",
                "Consent",
                Some(caf_consent(hidden, "active", permit(&[ods]))),
            )
            .await;
        let b = s
            .call(
                org,
                "POST",
                "Consent",
                Some(caf_consent(&missing, "active", permit(&[ods]))),
            )
            .await;
        let same =
            a.status == b.status && normalise(&a.text, hidden) == normalise(&b.text, &missing);
        t.check(
            SELF_GRANT,
            &format!("{who}'s consent for a hidden person against a missing one"),
            same && a.status == StatusCode::FORBIDDEN,
            "403, the same answer for both",
            &format!("hidden: {}; missing: {}", a.brief(), b.brief()),
        );
        // A refusal that cuts the GP out.
        let deny =
            json!({"type": "deny", "actor": [actor("A81001")], "period": {"start": "2020-01-01"}});
        let body = caf_consent(w.patient("permit-council"), "active", deny);
        let got = s.call(org, "POST", "Consent", Some(body)).await;
        refused_consent(
            t,
            &format!("{who} records a refusal cutting the GP out"),
            &got,
        );
    }
    // Having written about the person does not make one its holder.
    let x = w.patient("none");
    let own = s
        .call(
            &w.council,
            "POST",
            "Observation",
            Some(observation(x, "the council's note")),
        )
        .await;
    t.status(
        SELF_GRANT,
        "council writes its own Observation about the person",
        201,
        &own,
    );
    let body = caf_consent(x, "active", permit(&["616"]));
    let got = s
        .call(&w.council, "POST", "Consent", Some(body.clone()))
        .await;
    refused_consent(
        t,
        "council consents for itself after writing about the person",
        &got,
    );
    let entry = json!({"fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()), "resource": body,
        "request": {"method": "POST", "url": "Consent"}});
    let got = s
        .call(&w.council, "POST", "", Some(transaction(entry)))
        .await;
    t.status(
        SELF_GRANT,
        "council consents for itself in a transaction",
        403,
        &got,
    );
    // The holder records it, sees it, and revokes it.
    let z = s.create(&w.gp, patient_body("mk-self-grant")).await;
    let note = s.create(&w.gp, observation(&z, "mk-self-grant-note")).await;
    let read_note = format!("Observation/{note}");
    let body = consent_for(&z, "permit-council").unwrap_or_default();
    let got = s.call(&w.gp, "POST", "Consent", Some(body.clone())).await;
    t.status(SELF_GRANT, "the GP records the consent", 201, &got);
    let cid = got.json["id"].as_str().unwrap_or("").to_string();
    let seen = s.get(&w.gp, &format!("Consent/{cid}")).await;
    t.status(
        SELF_GRANT,
        "the GP reads the consent it recorded",
        200,
        &seen,
    );
    let shared = s.get(&w.council, &read_note).await;
    t.status(
        SELF_GRANT,
        "the council reads what the consent shares",
        200,
        &shared,
    );
    let mut revoked = body;
    revoked["id"] = json!(cid);
    revoked["status"] = json!("inactive");
    let got = s
        .call(&w.gp, "PUT", &format!("Consent/{cid}"), Some(revoked))
        .await;
    t.status(SELF_GRANT, "the GP revokes the consent", 200, &got);
    let gone = s.get(&w.council, &read_note).await;
    t.status(SELF_GRANT, "the council no longer reads it", 404, &gone);
    let seen = s.get(&w.gp, &format!("Consent/{cid}")).await;
    t.check(
        SELF_GRANT,
        "the GP reads the revoked consent",
        seen.status == StatusCode::OK && seen.json["status"] == "inactive",
        "200, inactive",
        &seen.brief(),
    );
}

// ------------------------------------------- class 10: consent fails closed

async fn consent_fails_closed(s: &Server, w: &World, t: &mut Tally) {
    let z = s.create(&w.gp, patient_body("mk-fail-closed")).await;
    let zobs = s
        .create(&w.gp, observation(&z, "mk-fail-closed-note"))
        .await;
    let who = s
        .create(
            &w.gp,
            json!({"resourceType": "Practitioner", "name": [{"family": "Who"}]}),
        )
        .await;
    let cases = [
        (
            "data",
            json!([{"meaning": "instance", "reference": {"reference": format!("Observation/{zobs}")}}]),
        ),
        ("dataPeriod", json!({"start": "2020-01-01"})),
        (
            "action",
            json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "access"}]}]),
        ),
        (
            "securityLabel",
            json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]),
        ),
        (
            "code",
            json!([{"coding": [{"system": "http://loinc.org", "code": "8310-5"}]}]),
        ),
        (
            "class",
            json!([{"system": "https://example.org/not-resource-types", "code": "Observation"}]),
        ),
        (
            "actor",
            json!([{"role": ircp(), "reference": {"reference": format!("Practitioner/{who}")}}]),
        ),
    ];
    for (element, value) in cases {
        let mut p = permit(&["616"]);
        p[element] = value.clone();
        let got = s
            .call(&w.gp, "POST", "Consent", Some(caf_consent(&z, "active", p)))
            .await;
        let path = format!("Consent.provision.{element}");
        t.check(
            FAIL_CLOSED,
            &format!("a CafConsent using {path}"),
            got.code() == 422 && got.text.contains(&path),
            &format!("422 naming {path}"),
            &got.brief(),
        );
        let mut nested = json!({"type": "deny"});
        nested[element] = value;
        let mut p = permit(&["616"]);
        p["provision"] = json!([nested]);
        let got = s
            .call(&w.gp, "POST", "Consent", Some(caf_consent(&z, "active", p)))
            .await;
        let named = got.text.contains(&format!("provision.{element}"))
            || got.text.contains(&format!("provision[0].{element}"));
        t.check(
            FAIL_CLOSED,
            &format!("a CafConsent using {element} in a nested provision"),
            got.code() == 422 && named,
            &format!("422 naming the nested {element}"),
            &got.brief(),
        );
    }
    let stored = s
        .get(
            &w.gp,
            &format!("Consent?patient=Patient/{z}&_summary=count"),
        )
        .await;
    t.check(
        FAIL_CLOSED,
        "none of the refused consents was stored",
        stored.json["total"] == json!(0),
        "0",
        &stored.brief(),
    );
    // A refusal naming the council by literal reference (to the council's
    // own Organization record), or by ODS code: it refuses the council
    // alone. A reference to a record someone else wrote about the council
    // names no one for sure, and refuses everyone.
    let council_org = s
        .create(
            &w.council,
            json!({"resourceType": "Organization", "name": "Council 616",
            "identifier": [{"system": ODS, "value": "616"}]}),
        )
        .await;
    let hearsay = s
        .create(
            &w.gp,
            json!({"resourceType": "Organization", "name": "Council 616, as the GP has it",
            "identifier": [{"system": ODS, "value": "616"}]}),
        )
        .await;
    let literal =
        json!({"role": ircp(), "reference": {"reference": format!("Organization/{council_org}")}});
    let unsure =
        json!({"role": ircp(), "reference": {"reference": format!("Organization/{hearsay}")}});
    for (how, refused, carers_read) in [
        ("literal reference", literal, 200),
        ("ODS identifier", actor("616"), 200),
        ("a reference to another's record of it", unsure, 404),
    ] {
        let f = s.create(&w.gp, patient_body("mk-refusal")).await;
        let fobs = s.create(&w.gp, observation(&f, "mk-refusal-note")).await;
        let body = caf_consent(&f, "active", permit_all_but(refused));
        let got = s.call(&w.gp, "POST", "Consent", Some(body)).await;
        t.status(
            FAIL_CLOSED,
            &format!("a nested refusal naming the council by {how}"),
            201,
            &got,
        );
        let path = format!("Observation/{fobs}");
        let got = s.get(&w.council, &path).await;
        t.status(
            FAIL_CLOSED,
            &format!("refused by {how}: the council reads"),
            404,
            &got,
        );
        let got = s.get(&w.council, &format!("Observation?_id={fobs}")).await;
        t.check(
            FAIL_CLOSED,
            &format!("refused by {how}: the council searches"),
            got.status == StatusCode::OK && got.json["total"] == json!(0),
            "200, total 0",
            &got.brief(),
        );
        let got = s.get(&w.carers, &path).await;
        t.status(
            FAIL_CLOSED,
            &format!("refused by {how}: the carers' organisation reads"),
            carers_read,
            &got,
        );
    }
}

// ----------------------------------------------------------- class 6: scopes

/// Scopes at the edges: criteria that search a type through a chain, a
/// transaction's conditional reference, an operation's consequences, an
/// operation invoked without a body. The GP is the source of everything
/// here: only its narrow token's scopes stand in the way.
async fn scope_edges(s: &Server, w: &World, t: &mut Tally) {
    let narrow = s
        .register(
            "gp-narrow",
            "A81001",
            Role::GpPractice,
            "system/Observation.cruds system/RelatedPerson.rus",
        )
        .await;
    let state = "permit-council";
    let obs = w.id(state, "Observation");
    let chain = "subject:Patient.name=Test";
    let got = s
        .call(
            &narrow,
            "PUT",
            &format!("Observation?_id={obs}&{chain}"),
            Some(observation(w.patient(state), ATTACK)),
        )
        .await;
    t.status(
        SCOPES,
        "a conditional update whose criteria chain to Patient, without Patient.s",
        403,
        &got,
    );
    let got = s
        .send(
            Some(narrow.token.as_str()),
            "POST",
            "Observation",
            Some((FHIR_JSON, observation(w.patient(state), ATTACK).to_string())),
            None,
        )
        .await;
    t.status(SCOPES, "a plain create within the scopes", 201, &got);
    let entry = json!({"fullUrl": "urn:uuid:0b7c2b4e-0000-4000-8000-000000000009",
        "resource": {"resourceType": "Observation", "status": "final", "code": {"text": ATTACK},
            "subject": {"reference": format!("Patient?_id={}", w.patient(state))}},
        "request": {"method": "POST", "url": "Observation"}});
    let got = s.call(&narrow, "POST", "", Some(transaction(entry))).await;
    t.status(
        SCOPES,
        "a transaction's conditional reference to Patient, without Patient.s",
        403,
        &got,
    );
    if let Some(rel) = w.record(state, "RelatedPerson") {
        let params = json!({"resourceType": "Parameters", "parameter": [{"name": "reason", "valueCode": "caring-stopped"}]});
        let got = s
            .call(
                &narrow,
                "POST",
                &format!("RelatedPerson/{}/$end-caring", rel.id),
                Some(params),
            )
            .await;
        t.status(
            SCOPES,
            "$end-caring without the scopes to write its consequences",
            403,
            &got,
        );
        let reader = s
            .register(
                "gp-reader",
                "A81001",
                Role::GpPractice,
                "system/RelatedPerson.rs",
            )
            .await;
        let got = s
            .send(
                Some(reader.token.as_str()),
                "POST",
                &format!("RelatedPerson/{}/$end-caring", rel.id),
                None,
                None,
            )
            .await;
        t.status(
            SCOPES,
            "$end-caring without a body, with read scopes only",
            403,
            &got,
        );
    }
}

async fn scopes(s: &Server, w: &World, t: &mut Tally) {
    let narrow = s
        .register(
            "council-narrow",
            "616",
            Role::LocalAuthority,
            "system/Patient.rs system/Observation.rs",
        )
        .await;
    let state = "permit-council";
    let x = w.patient(state);
    let obs = w.id(state, "Observation");
    let plan = w.id(state, "CarePlan");
    let doc = s.get(&narrow, &format!("Patient/{x}/$caf")).await;
    let entries = entries_of(&doc.json);
    let header = entries
        .first()
        .is_some_and(|e| e["resource"]["resourceType"] == "Composition");
    let types: Vec<String> = entries
        .iter()
        .skip(1)
        .map(|e| {
            e["resource"]["resourceType"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    t.check(
        SCOPES,
        "$caf under Patient and Observation scopes holds those types only (after its Composition)",
        doc.status == StatusCode::OK
            && header
            && types.iter().all(|k| k == "Patient" || k == "Observation"),
        "200, Patient and Observation entries",
        &format!("{} {types:?}", doc.code()),
    );
    t.check(
        SCOPES,
        "$caf under Patient and Observation scopes holds the Observation",
        doc.text.contains(obs),
        "the Observation",
        &doc.brief(),
    );
    for kind in [
        "CarePlan",
        "RelatedPerson",
        "Task",
        "Consent",
        "Bundle",
        "Binary",
        "Provenance",
    ] {
        let Some(r) = w.record(state, kind) else {
            continue;
        };
        t.check(
            SCOPES,
            &format!("$caf under Patient and Observation scopes leaves out the {kind}"),
            !doc.text.contains(&r.id),
            "absent",
            &doc.brief(),
        );
    }
    let full = s.get(&w.council, &format!("Patient/{x}/$caf")).await;
    t.check(
        SCOPES,
        "$caf under full scopes holds the support plan",
        full.status == StatusCode::OK && full.text.contains(plan),
        "200 with the plan",
        &full.brief(),
    );
    for (path, want) in [
        (format!("CarePlan/{plan}"), 403),
        (format!("CarePlan?_id={plan}"), 403),
        (format!("Patient?_id={x}&_revinclude=CarePlan:subject"), 403),
        (format!("?_id={plan}"), 403),
        ("_history".to_string(), 403),
        (
            format!("Observation?_id={obs}&_include=Observation:subject"),
            200,
        ),
    ] {
        let got = s.get(&narrow, &path).await;
        t.status(SCOPES, &format!("narrow GET {path}"), want, &got);
    }
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": format!("CarePlan/{plan}")}}]});
    let got = s.call(&narrow, "POST", "", Some(batch)).await;
    let entry = got.json["entry"][0]["response"]["status"]
        .as_str()
        .unwrap_or("");
    t.check(
        SCOPES,
        "narrow batch reading a CarePlan",
        got.status == StatusCode::OK
            && entry.starts_with("403")
            && !got.text.contains("mk-permit-council-CarePlan"),
        "200 with a 403 entry",
        &got.brief(),
    );
}

// --------------------------------------------------- class 5: older versions

async fn older_versions(s: &Server, w: &World, t: &mut Tally) {
    let a = w.patient("permit-council");
    let b = w.patient("none");
    let c = &w.council;
    // Shared, then moved to a person not shared.
    let away = s.create(&w.gp, observation(a, "mk-moved-away")).await;
    let mut body = observation(b, "mk-moved-away");
    body["id"] = json!(away);
    let got = s
        .call(&w.gp, "PUT", &format!("Observation/{away}"), Some(body))
        .await;
    t.status(
        VERSIONS,
        "the GP moves an Observation from A (shared) to B",
        200,
        &got,
    );
    let path = format!("Observation/{away}");
    t.status(
        VERSIONS,
        "council reads it, now about B",
        404,
        &s.get(c, &path).await,
    );
    let v2 = s.get(c, &format!("{path}/_history/2")).await;
    t.status(VERSIONS, "council vreads version 2 (about B)", 404, &v2);
    let v1 = s.get(c, &format!("{path}/_history/1")).await;
    t.status(VERSIONS, "council vreads version 1 (about A)", 200, &v1);
    history_shows(s, t, c, &away, &["1"]).await;
    let found = s.get(c, &format!("Observation?_id={away}")).await;
    t.check(
        VERSIONS,
        "council searches for it, now about B",
        found.status == StatusCode::OK && found.json["total"] == json!(0),
        "200, total 0",
        &found.brief(),
    );
    // Not shared, then moved to a person shared.
    let here = s.create(&w.gp, observation(b, "mk-moved-here")).await;
    let mut body = observation(a, "mk-moved-here");
    body["id"] = json!(here);
    let got = s
        .call(&w.gp, "PUT", &format!("Observation/{here}"), Some(body))
        .await;
    t.status(
        VERSIONS,
        "the GP moves an Observation from B to A (shared)",
        200,
        &got,
    );
    let path = format!("Observation/{here}");
    let now = s.get(c, &path).await;
    t.check(
        VERSIONS,
        "council reads it, now about A",
        now.status == StatusCode::OK && now.json["meta"]["versionId"] == "2",
        "200, version 2",
        &now.brief(),
    );
    let v1 = s.get(c, &format!("{path}/_history/1")).await;
    t.status(VERSIONS, "council vreads version 1 (about B)", 404, &v1);
    let v2 = s.get(c, &format!("{path}/_history/2")).await;
    t.status(VERSIONS, "council vreads version 2 (about A)", 200, &v2);
    history_shows(s, t, c, &here, &["2"]).await;
    for (label, listing) in [
        ("type history", "Observation/_history?_count=1000"),
        ("system history", "_history?_count=1000"),
    ] {
        let l = s.listing(c, listing).await;
        let seen = versions(&l.entries, "Observation", &here);
        t.check(
            VERSIONS,
            &format!("council's {label} holds version 2 only"),
            l.status == StatusCode::OK && seen == ["2"],
            "200, [\"2\"]",
            &format!("{} {seen:?}", l.status.as_u16()),
        );
    }
}

/// The council's history of an Observation lists these versions only.
async fn history_shows(s: &Server, t: &mut Tally, c: &Org, id: &str, want: &[&str]) {
    let h = s.get(c, &format!("Observation/{id}/_history")).await;
    let seen = versions(&entries_of(&h.json), "Observation", id);
    t.check(
        VERSIONS,
        &format!("council's history of Observation/{id} lists {want:?} only"),
        h.status == StatusCode::OK && seen == want,
        &format!("200, {want:?}"),
        &format!("{} {seen:?}", h.code()),
    );
}

// ------------------------------------------------------- class 8: emergency

async fn emergency(s: &Server, w: &World, t: &mut Tally) {
    let responder = s
        .register(
            "responder",
            "ER999",
            Role::EmergencyResponder,
            "system/*.rs",
        )
        .await;
    let c = &w.council;
    let e = s.create(c, patient_body("mk-emergency-person")).await;
    let sam = s.create(c, contact(&e, "mk-emergency-contact")).await;
    let plan = s.create(c, emergency_plan(&e, "EC-616-000777", &sam)).await;
    let e2 = s.create(c, patient_body("mk-emergency-other")).await;
    let sam2 = s
        .create(c, contact(&e2, "mk-emergency-other-contact"))
        .await;
    let plan2 = s
        .create(c, emergency_plan(&e2, "EC-616-000888", &sam2))
        .await;
    let by = By {
        class: EMERGENCY,
        who: "responder",
        org: &responder,
    };
    let none_obs = w.id("none", "Observation");
    for (template, id) in [
        ("CarePlan/{id}", plan.as_str()),
        ("RelatedPerson/{id}", sam.as_str()),
        ("Patient/{id}", e.as_str()),
        ("CarePlan/{id}", plan2.as_str()),
        ("Observation/{id}", none_obs),
    ] {
        same_as_missing(s, t, by, template, id, 404).await;
    }
    let lookup = format!("CarePlan?identifier={CARD}|EC-616-000777");
    let found = s.get(&responder, &lookup).await;
    t.check(
        EMERGENCY,
        "search by card number finds that plan only",
        found.status == StatusCode::OK && crate::ids(&found.json) == [plan.clone()],
        &format!("200, [{plan}]"),
        &found.brief(),
    );
    let with = s
        .get(
            &responder,
            &format!("{lookup}&_include=CarePlan:emergency-contact"),
        )
        .await;
    let others = [plan2.as_str(), sam2.as_str(), "mk-emergency-other"];
    t.check(
        EMERGENCY,
        "search by card number brings that plan's contact, nothing of another plan",
        with.status == StatusCode::OK
            && with.text.contains(&sam)
            && !others.iter().any(|o| with.text.contains(o)),
        "200 with the contact",
        &with.brief(),
    );
}

// ----------------------------------------------------------- class 9: audit

/// A request refused before (or by) the access rules.
struct Refused<'a> {
    what: &'static str,
    token: Option<&'a str>,
    method: &'static str,
    path: String,
    body: Option<(&'static str, String)>,
    want: u16,
}

async fn audit(s: &Server, w: &World, t: &mut Tally) {
    let narrow = s
        .register(
            "audit-narrow",
            "616",
            Role::LocalAuthority,
            "system/Patient.rs",
        )
        .await;
    let gp = Some(w.gp.token.as_str());
    let cases = [
        Refused {
            what: "an unknown resource type",
            token: gp,
            method: "GET",
            path: "Nonsense/1".into(),
            body: None,
            want: 404,
        },
        Refused {
            what: "an unknown operation",
            token: gp,
            method: "GET",
            path: format!("Patient/{}/$nonsense", w.patient("none")),
            body: None,
            want: 404,
        },
        Refused {
            what: "a method the endpoint does not take",
            token: gp,
            method: "DELETE",
            path: "_history".into(),
            body: None,
            want: 405,
        },
        Refused {
            what: "a body that is not FHIR",
            token: gp,
            method: "POST",
            path: "Observation".into(),
            body: Some(("text/plain", "not a resource".into())),
            want: 415,
        },
        Refused {
            what: "no token",
            token: None,
            method: "GET",
            path: "Patient".into(),
            body: None,
            want: 401,
        },
        Refused {
            what: "a token that is not one",
            token: Some("not-a-token"),
            method: "GET",
            path: "Patient".into(),
            body: None,
            want: 401,
        },
        Refused {
            what: "a scope the token lacks",
            token: Some(narrow.token.as_str()),
            method: "GET",
            path: "CarePlan".into(),
            body: None,
            want: 403,
        },
        Refused {
            what: "a hidden record",
            token: Some(w.council.token.as_str()),
            method: "GET",
            path: format!("Observation/{}", w.id("none", "Observation")),
            body: None,
            want: 404,
        },
    ];
    for r in cases {
        let before = s.audits().await;
        let got = s.send(r.token, r.method, &r.path, r.body, None).await;
        let after = s.audits().await;
        t.status(AUDIT, r.what, r.want, &got);
        t.check(
            AUDIT,
            &format!("{}: audited", r.what),
            after - before == 1,
            "one more AuditEvent",
            &format!("{} more", after - before),
        );
    }
}

// ---------------------------------------------- class 7: tokens follow clients

async fn tokens(s: &Server, w: &World, t: &mut Tally) {
    let state = "permit-council";
    let obs = format!("Observation/{}", w.id(state, "Observation"));
    let lax = Role::LocalAuthority;
    // Removed.
    let temp = s.register("temp", "616", lax, "system/*.cruds").await;
    t.status(
        TOKENS,
        "a registered client's token",
        200,
        &s.get(&temp, &obs).await,
    );
    let removed = s.store.remove_client("temp").await.unwrap();
    t.check(
        TOKENS,
        "the client is removed",
        removed,
        "true",
        &removed.to_string(),
    );
    t.status(
        TOKENS,
        "a removed client's token",
        401,
        &s.get(&temp, &obs).await,
    );
    // Organisation changed: the token was issued to another registration,
    // and is refused (a new one must be asked for).
    let mover = s.register("mover", "616", lax, "system/*.cruds").await;
    t.status(
        TOKENS,
        "as 616, the shared Observation",
        200,
        &s.get(&mover, &obs).await,
    );
    let theirs = s
        .create(&w.other, observation(w.patient("none"), "written by 999"))
        .await;
    let mut c = mover.client.clone();
    c.organisation = "999".into();
    s.reregister(&c).await;
    let got = s.get(&mover, &obs).await;
    t.status(
        TOKENS,
        "re-registered as 999: the Observation shared with 616",
        401,
        &got,
    );
    let got = s.get(&mover, &format!("Observation/{theirs}")).await;
    t.status(TOKENS, "re-registered as 999: what 999 wrote", 401, &got);
    // Role changed: now an emergency responder.
    let shifter = s.register("shifter", "616", lax, "system/*.rs").await;
    t.status(
        TOKENS,
        "as a council, the shared Observation",
        200,
        &s.get(&shifter, &obs).await,
    );
    let mut c = shifter.client.clone();
    c.role = Role::EmergencyResponder;
    c.purposes = vec![Role::EmergencyResponder.default_purpose().into()];
    s.reregister(&c).await;
    let got = s.get(&shifter, &obs).await;
    t.status(
        TOKENS,
        "re-registered as an emergency responder: a read by id",
        401,
        &got,
    );
    // Scopes reduced.
    let shrink = s.register("shrink", "616", lax, "system/*.cruds").await;
    t.status(
        TOKENS,
        "with every scope, the Observation",
        200,
        &s.get(&shrink, &obs).await,
    );
    let mut c = shrink.client.clone();
    c.scopes = Scopes::parse("system/Patient.rs");
    s.reregister(&c).await;
    let got = s.get(&shrink, &obs).await;
    t.status(TOKENS, "scopes cut to Patient: the Observation", 403, &got);
    let got = s
        .get(&shrink, &format!("Patient/{}", w.patient(state)))
        .await;
    t.status(TOKENS, "scopes cut to Patient: the Patient", 200, &got);
    let got = s
        .call(
            &shrink,
            "POST",
            "Observation",
            Some(observation(w.patient(state), "x")),
        )
        .await;
    t.status(
        TOKENS,
        "scopes cut to Patient: writing an Observation",
        403,
        &got,
    );
}

// ---------------------------------------------- class 3: writes by source only

/// W1 and O1: what the council gets for `attack` on a GP's record it may
/// (403) or may not see (as for a missing record: a conditional update
/// matching nothing creates a new resource, except a Consent, W2).
fn write_answer(attack: &str, kind: &str, visible: bool) -> &'static [u16] {
    if visible {
        return &[403];
    }
    match (attack, kind) {
        ("PUT" | "transaction PUT", "Consent") => &[403, 405],
        ("PUT ?_id", "Consent") => &[403],
        ("PUT" | "transaction PUT", _) => &[405],
        ("PUT ?_id", _) => &[201],
        ("PATCH" | "PATCH ?_id", _) => &[404],
        ("transaction DELETE", _) => &[200],
        _ => &[204],
    }
}

async fn write_attack(s: &Server, org: &Org, attack: &str, kind: &str, r: &Record) -> Reply {
    let path = format!("{kind}/{}", r.id);
    let cond = format!("{kind}?_id={}", r.id);
    match attack {
        "PUT" => {
            s.call(
                org,
                "PUT",
                &path,
                Some(tampered(&r.body, Some(r.id.as_str()))),
            )
            .await
        }
        "PATCH" => s.patch(org, &path).await,
        "DELETE" => s.call(org, "DELETE", &path, None).await,
        "PUT ?_id" => {
            s.call(org, "PUT", &cond, Some(tampered(&r.body, None)))
                .await
        }
        "PATCH ?_id" => s.patch(org, &cond).await,
        "DELETE ?_id" => s.call(org, "DELETE", &cond, None).await,
        "transaction PUT" => {
            let entry = json!({"resource": tampered(&r.body, Some(r.id.as_str())),
                "request": {"method": "PUT", "url": path}});
            s.call(org, "POST", "", Some(transaction(entry))).await
        }
        _ => {
            let entry = json!({"request": {"method": "DELETE", "url": path}});
            s.call(org, "POST", "", Some(transaction(entry))).await
        }
    }
}

async fn writes_by_source(s: &Server, w: &World, t: &mut Tally) {
    let council = &w.council;
    for (visible, state) in [(true, "permit-council"), (false, "revoked")] {
        let shown = if visible { "visible" } else { "hidden" };
        for kind in WRITE_KINDS {
            let Some(r) = w.record(state, kind) else {
                continue;
            };
            for attack in ATTACKS {
                let got = write_attack(s, council, attack, kind, r).await;
                let want = write_answer(attack, kind, visible);
                t.check(
                    WRITES,
                    &format!("council {attack} on the GP's {shown} {kind}"),
                    want.contains(&got.code()),
                    &format!("{want:?}"),
                    &got.brief(),
                );
            }
            intact(s, t, WRITES, &w.gp, kind, r).await;
        }
        for (kind, element) in OWNER_ELEMENTS {
            let Some(r) = w.record(state, kind) else {
                continue;
            };
            let mut body = tampered(&r.body, Some(r.id.as_str()));
            if let Some(o) = body.as_object_mut() {
                o.remove(element);
            }
            let got = s
                .call(council, "PUT", &format!("{kind}/{}", r.id), Some(body))
                .await;
            let what = format!("council removes {kind}.{element} of the GP's {shown} {kind}");
            t.status(WRITES, &what, if visible { 403 } else { 405 }, &got);
            intact(s, t, WRITES, &w.gp, kind, r).await;
        }
        let rel = w.id(state, "RelatedPerson");
        let params = json!({"resourceType": "Parameters",
            "parameter": [{"name": "reason", "valueCode": "caring-stopped"}]});
        let got = s
            .call(
                council,
                "POST",
                &format!("RelatedPerson/{rel}/$end-caring"),
                Some(params),
            )
            .await;
        let what = format!("council ends the GP's {shown} caring relationship");
        t.status(WRITES, &what, if visible { 403 } else { 404 }, &got);
        let after = s.get(&w.gp, &format!("RelatedPerson/{rel}")).await;
        t.check(
            WRITES,
            &format!("the {shown} caring relationship is still active"),
            after.status == StatusCode::OK && after.json["active"] == true,
            "200, active",
            &after.brief(),
        );
    }
}

// ----------------------------------------------------- class 3a: resurrection

async fn resurrection(s: &Server, w: &World, t: &mut Tally) {
    let x = w.patient("none");
    let shared = w.patient("permit-council");
    let by = By {
        class: RESURRECTION,
        who: "council",
        org: &w.council,
    };
    for (kind, body, lure) in [
        (
            "Observation",
            observation(x, "mk-deleted"),
            observation(shared, "mk-lure"),
        ),
        (
            "CarePlan",
            support_plan(x, "mk-deleted"),
            support_plan(shared, "mk-lure"),
        ),
    ] {
        let id = s.create(&w.gp, body.clone()).await;
        let path = format!("{kind}/{id}");
        let got = s.call(&w.gp, "DELETE", &path, None).await;
        t.status(
            RESURRECTION,
            &format!("the GP deletes its {kind}"),
            204,
            &got,
        );
        let r = Record {
            id: id.clone(),
            body,
            marker: None,
        };
        for method in METHODS {
            oracle_pair(s, t, by, method, kind, &r).await;
        }
        // Re-created about a person the council may see: still no.
        let got = s
            .call(
                &w.council,
                "PUT",
                &path,
                Some(tampered(&lure, Some(id.as_str()))),
            )
            .await;
        t.status(
            RESURRECTION,
            &format!("council re-creates the deleted {kind} about a shared person"),
            405,
            &got,
        );
        let got = s.get(&w.gp, &path).await;
        t.status(
            RESURRECTION,
            &format!("the {kind} is still deleted for its source"),
            410,
            &got,
        );
    }
}

// --------------------------------------------------- class 4: hidden = missing

async fn oracle(s: &Server, w: &World, t: &mut Tally) {
    let cases: [(&str, &Org, &[&str]); 3] = [
        ("council", &w.council, &["none", "deny-council", "expired"]),
        ("carers", &w.carers, &["none", "permit-council"]),
        ("council999", &w.other, &["other-purpose"]),
    ];
    for (who, org, states) in cases {
        let by = By {
            class: ORACLE,
            who,
            org,
        };
        for state in states.iter().copied() {
            for kind in KINDS {
                let Some(r) = w.record(state, kind) else {
                    continue;
                };
                for method in METHODS {
                    oracle_pair(s, t, by, method, kind, r).await;
                }
            }
        }
    }
    for (_, kind, r) in w.records() {
        intact(s, t, ORACLE, &w.gp, kind, r).await;
    }
}
