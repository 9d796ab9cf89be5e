//! Share back and keep it true, over real HTTP with real tokens, on both
//! stores: subscriptions with a webhook receiver on 127.0.0.1 (every
//! topic, an outage and recovery with `$events`, consent withdrawn
//! mid-stream), the referral as a Task state machine, a cared-for
//! person's death and `$end-caring` with every effect, `$stale-carers`,
//! and `$caf` under full, partial and no consent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use fhir_server::auth::clients::{Client, Role};
use fhir_server::auth::keys;
use fhir_server::auth::scopes::Scopes;
use fhir_server::auth::{client_assertion, record_of, Authority, JWT_BEARER};
use fhir_server::interaction::Access;
use fhir_server::store::sql::SqlStore;
use fhir_server::store::AuthStore;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{on_both_stores, registry, store, Db};

/// A webhook receiver: what it was sent, and whether it is down.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) got: Arc<Mutex<Vec<Value>>>,
    down: Arc<AtomicBool>,
}

pub(crate) async fn receiver() -> Receiver {
    let got = Arc::new(Mutex::new(Vec::new()));
    let down = Arc::new(AtomicBool::new(false));
    let (g, d) = (got.clone(), down.clone());
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let (g, d) = (g.clone(), d.clone());
            async move {
                if d.load(Ordering::SeqCst) {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                    g.lock().unwrap().push(v);
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver { url, got, down }
}

impl Receiver {
    /// The event notifications received so far for a subscription: (event
    /// number, the notification's first focus entry).
    pub(crate) fn events(&self, sub: &str) -> Vec<(i64, Value)> {
        let mut out = Vec::new();
        for b in self.got.lock().unwrap().iter() {
            let status = &b["entry"][0]["resource"];
            let params = status["parameter"].as_array().cloned().unwrap_or_default();
            let is = |n: &str, v: &str| {
                params.iter().any(|p| {
                    p["name"] == n
                        && (p["valueCode"] == v
                            || p["valueReference"]["reference"]
                                .as_str()
                                .is_some_and(|r| r.ends_with(v)))
                })
            };
            if !is("subscription", &format!("Subscription/{sub}"))
                || !is("type", "event-notification")
            {
                continue;
            }
            let numbers: Vec<i64> = params
                .iter()
                .filter(|p| p["name"] == "notification-event")
                .filter_map(|p| p["part"][0]["valueString"].as_str()?.parse().ok())
                .collect();
            for (i, n) in numbers.iter().enumerate() {
                out.push((*n, b["entry"][i + 1].clone()));
            }
        }
        out
    }

    pub(crate) fn handshakes(&self, sub: &str) -> usize {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|b| {
                b.to_string().contains(&format!("Subscription/{sub}\""))
                    && b.to_string().contains("\"handshake\"")
            })
            .count()
    }

    /// Waits (at most 20 s) until `check` holds.
    pub(crate) async fn wait_for(&self, what: &str, check: impl Fn(&Receiver) -> bool) {
        for _ in 0..200 {
            if check(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "timed out waiting for {what}; received: {:?}",
            self.got.lock().unwrap()
        );
    }
}

struct Server {
    base: String,
    store: Arc<SqlStore>,
    http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

struct Org {
    token: String,
}

async fn start(db: Db, name: &str, hook: &Receiver) -> Option<Server> {
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
        backoff: Duration::from_millis(100),
    };
    let state = Arc::new(state);
    fhir_server::subscription::notifier::start(state.clone());
    let app = fhir_server::server::router(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Some(Server {
        base,
        store,
        http: reqwest::Client::new(),
        _dir: dir,
    })
}

impl Server {
    async fn register(&self, id: &str, ods: &str, role: Role) -> Org {
        self.register_scoped(id, ods, role, "system/*.cruds").await
    }

    async fn register_scoped(&self, id: &str, ods: &str, role: Role, scopes: &str) -> Org {
        let key = keys::generate(jsonwebtoken::Algorithm::ES384).unwrap();
        let client = Client {
            id: id.into(),
            name: id.into(),
            organisation: ods.into(),
            role,
            scopes: Scopes::parse(scopes),
            purposes: vec!["CAREMGT".into()],
            jwks: keys::jwks_of(&key.public_jwk),
        };
        self.store.put_client(&record_of(&client)).await.unwrap();
        let url = format!("{}/auth/token", self.base);
        let assertion = client_assertion(id, &url, &key.private_pem, None).unwrap();
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", scopes),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.as_str()),
        ];
        let t: Value = self
            .http
            .post(url)
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Org {
            token: t["access_token"].as_str().unwrap().to_string(),
        }
    }

    async fn call(
        &self,
        org: &Org,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(
                method.parse().unwrap(),
                format!("{}/{}", self.base, path.trim_start_matches('/')),
            )
            .bearer_auth(&org.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/fhir+json")
                .body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn create(&self, org: &Org, r: Value) -> String {
        let t = r["resourceType"].as_str().unwrap().to_string();
        let (s, v) = self.call(org, "POST", &t, Some(r)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    async fn put(&self, org: &Org, mut r: Value, id: &str) -> (StatusCode, Value) {
        r["id"] = json!(id);
        let t = r["resourceType"].as_str().unwrap().to_string();
        self.call(org, "PUT", &format!("{t}/{id}"), Some(r)).await
    }
}

const TOPIC: &str = "https://fhir.carer-fhir.uk/SubscriptionTopic/";
const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";

fn subscription(topic: &str, hook: &str, content: &str) -> Value {
    json!({"resourceType": "Subscription", "status": "requested", "reason": "test",
        "criteria": format!("{TOPIC}{topic}"),
        "channel": {"type": "rest-hook", "endpoint": hook, "payload": "application/fhir+json",
            "header": ["Authorization: Bearer secret-for-the-receiver"],
            "_payload": {"extension": [{"url": fhir_server::subscription::ext::CONTENT, "valueCode": content}]}}})
}

fn ods(code: &str) -> Value {
    json!({"identifier": {"system": ODS, "value": code}})
}

fn consent(patient: &str, orgs: &[&str], status: &str, class: Option<&str>) -> Value {
    let mut provision = json!({"type": "permit",
        "actor": orgs.iter().map(|o| json!({"reference": ods(o), "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]}})).collect::<Vec<_>>(),
        "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "CAREMGT"}]});
    if let Some(c) = class {
        provision["class"] = json!([{"system": "http://hl7.org/fhir/resource-types", "code": c}]);
    }
    json!({"resourceType": "Consent", "status": status,
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/caf-consent-category", "code": "caf-sharing"}]}],
        "patient": {"reference": format!("Patient/{patient}")}, "dateTime": "2025-01-01",
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": provision})
}

fn relationship(carer: &str, cared_for: &str) -> Value {
    json!({"resourceType": "RelatedPerson", "active": true, "patient": {"reference": format!("Patient/{cared_for}")},
        "relationship": [{"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdditionalPersonRelationshipRole", "code": "Carer"}]}],
        "extension": [{"url": "https://fhir.carer-fhir.uk/StructureDefinition/carer-patient", "valueReference": {"reference": format!("Patient/{carer}")}}],
        "period": {"start": "2022-09-01"}})
}

fn referral(carer: &str, status: &str) -> Value {
    json!({"resourceType": "Task", "status": status, "intent": "order",
        "code": {"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/assessment-type", "code": "carers-assessment"}]},
        "for": {"reference": format!("Patient/{carer}")},
        "requester": ods("A81001"), "owner": ods("616")})
}

fn support_plan(carer: &str, title: &str) -> Value {
    json!({"resourceType": "CarePlan", "status": "active", "intent": "plan", "title": title,
        "category": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/plan-category", "code": "carer-support-plan"}]}],
        "subject": {"reference": format!("Patient/{carer}")}})
}

on_both_stores!(
    every_topic_reaches_its_subscriber,
    an_outage_is_caught_up_with_events_and_retries,
    withdrawn_consent_stops_notifications_at_once,
    the_referral_is_a_task_state_machine,
    a_death_ends_caring_everywhere_at_once,
    end_caring_and_the_stale_register_check,
    the_caf_record_shows_only_what_consent_allows,
    operations_answer_only_what_the_scopes_allow,
);

/// A GP practice and a council, and Mary (a carer) with Arthur (whom she
/// cares for), Mary's consent to share with both.
async fn world(s: &Server) -> (Org, Org, String, String) {
    let gp = s.register("gp", "A81001", Role::GpPractice).await;
    let council = s.register("council", "616", Role::LocalAuthority).await;
    let mary = s
        .create(
            &gp,
            json!({"resourceType": "Patient", "name": [{"family": "Jones", "given": ["Mary"]}]}),
        )
        .await;
    let arthur = s
        .create(
            &gp,
            json!({"resourceType": "Patient", "name": [{"family": "Jones", "given": ["Arthur"]}]}),
        )
        .await;
    for p in [&mary, &arthur] {
        s.create(&gp, consent(p, &["A81001", "616"], "active", None))
            .await;
    }
    (gp, council, mary, arthur)
}

async fn every_topic_reaches_its_subscriber(db: Db, name: &str) {
    let hook = receiver().await;
    let Some(s) = start(db, name, &hook).await else {
        return;
    };
    let (gp, council, mary, arthur) = world(&s).await;
    let topics = [
        "carer-identified",
        "assessment-requested",
        "assessment-status-changed",
        "plan-changed",
        "consent-changed",
        "caring-ended",
    ];
    let mut subs = Vec::new();
    for t in topics {
        let id = s
            .create(&gp, subscription(t, &hook.url, "full-resource"))
            .await;
        subs.push(id);
    }
    for sub in &subs {
        let sub = sub.clone();
        hook.wait_for("the handshake", move |h| h.handshakes(&sub) == 1)
            .await;
    }
    let (st, active) = s
        .call(&gp, "GET", &format!("Subscription/{}", subs[0]), None)
        .await;
    assert_eq!(
        (st, active["status"].as_str()),
        (StatusCode::OK, Some("active")),
        "active after the handshake"
    );
    let rel = s.create(&gp, relationship(&mary, &arthur)).await;
    let task = s.create(&gp, referral(&mary, "requested")).await;
    let (_, mut t) = s.call(&council, "GET", &format!("Task/{task}"), None).await;
    t["status"] = json!("accepted");
    let (st, v) = s.put(&council, t, &task).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    s.create(&council, support_plan(&mary, "Mary's support plan"))
        .await;
    s.create(
        &gp,
        consent(&mary, &["A81001", "616", "CO123"], "active", None),
    )
    .await;
    let (st, v) = s.call(&gp, "POST", &format!("RelatedPerson/{rel}/$end-caring"), Some(json!({"resourceType": "Parameters", "parameter": [{"name": "reason", "valueCode": "caring-stopped"}]}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for (topic, sub) in topics.iter().zip(&subs) {
        let sub2 = sub.clone();
        hook.wait_for(topic, move |h| !h.events(&sub2).is_empty())
            .await;
        let events = hook.events(sub);
        assert_eq!(events[0].0, 1, "{topic}: numbered from 1");
        assert!(
            events[0].1["resource"]["resourceType"].is_string(),
            "{topic}: full-resource carries the focus"
        );
    }
    // The headers the subscriber set were sent (never logged), and each
    // notification is a history Bundle led by its status Parameters.
    let first = hook.got.lock().unwrap()[0].clone();
    assert_eq!(first["type"], "history");
    assert_eq!(
        first["entry"][0]["resource"]["meta"]["profile"][0],
        fhir_server::subscription::notification::STATUS_PROFILE
    );
    let (_, cs) = s.call(&gp, "GET", "metadata", None).await;
    let sub_res = cs["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Subscription")
        .unwrap()
        .clone();
    assert_eq!(
        sub_res["extension"].as_array().unwrap().len(),
        topics.len(),
        "topics advertised"
    );
}

async fn an_outage_is_caught_up_with_events_and_retries(db: Db, name: &str) {
    let hook = receiver().await;
    let Some(s) = start(db, name, &hook).await else {
        return;
    };
    let (gp, _council, mary, _) = world(&s).await;
    let sub = s
        .create(&gp, subscription("plan-changed", &hook.url, "id-only"))
        .await;
    let sid = sub.clone();
    hook.wait_for("the handshake", move |h| h.handshakes(&sid) == 1)
        .await;
    hook.down.store(true, Ordering::SeqCst);
    let mut plans = Vec::new();
    for n in 0..3 {
        plans.push(
            s.create(&gp, support_plan(&mary, &format!("plan {n}")))
                .await,
        );
    }
    // After three failures in a row the subscription is in error.
    let mut status = String::new();
    for _ in 0..100 {
        let (_, v) = s
            .call(&gp, "GET", &format!("Subscription/{sub}"), None)
            .await;
        status = v["status"].as_str().unwrap_or("").to_string();
        if status == "error" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "error");
    let (st, b) = s
        .call(&gp, "GET", &format!("Subscription/{sub}/$status"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let params = b["entry"][0]["resource"]["parameter"]
        .as_array()
        .unwrap()
        .clone();
    let since = params
        .iter()
        .find(|p| p["name"] == "events-since-subscription-start")
        .unwrap();
    assert_eq!(since["valueString"], "3");
    // Catching up: the events missed, each naming its focus.
    let (st, b) = s
        .call(
            &gp,
            "GET",
            &format!("Subscription/{sub}/$events?eventsSinceNumber=2"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let foci: Vec<String> = b["entry"].as_array().unwrap()[1..]
        .iter()
        .map(|e| e["fullUrl"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(foci.len(), 2, "{b}");
    assert!(foci[0].ends_with(&plans[1]) && foci[1].ends_with(&plans[2]));
    // The endpoint is back: everything waiting arrives, in order, once.
    hook.down.store(false, Ordering::SeqCst);
    let sid = sub.clone();
    hook.wait_for("the three events", move |h| h.events(&sid).len() == 3)
        .await;
    let numbers: Vec<i64> = hook.events(&sub).iter().map(|e| e.0).collect();
    assert_eq!(numbers, vec![1, 2, 3]);
    // The worker records the recovery in the Subscription just after the
    // delivery the receiver saw: wait for it (bounded).
    let mut status = String::new();
    for _ in 0..50 {
        let (_, v) = s
            .call(&gp, "GET", &format!("Subscription/{sub}"), None)
            .await;
        status = v["status"].as_str().unwrap_or("").to_string();
        if status == "active" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "active");
}

async fn withdrawn_consent_stops_notifications_at_once(db: Db, name: &str) {
    let hook = receiver().await;
    let Some(s) = start(db, name, &hook).await else {
        return;
    };
    let (gp, council, mary, _) = world(&s).await;
    let sub = s
        .create(
            &council,
            subscription("plan-changed", &hook.url, "full-resource"),
        )
        .await;
    let sid = sub.clone();
    hook.wait_for("the handshake", move |h| h.handshakes(&sid) == 1)
        .await;
    let plan = s.create(&gp, support_plan(&mary, "visible")).await;
    let sid = sub.clone();
    hook.wait_for("the first event", move |h| h.events(&sid).len() == 1)
        .await;
    // Mary withdraws her consent (it becomes inactive); the GP changes the plan.
    let (_, found) = s
        .call(&gp, "GET", &format!("Consent?patient=Patient/{mary}"), None)
        .await;
    let cid = found["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, v) = s
        .put(
            &gp,
            consent(&mary, &["A81001", "616"], "inactive", None),
            &cid,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, mut p) = s.call(&gp, "GET", &format!("CarePlan/{plan}"), None).await;
    p["title"] = json!("hidden-now");
    let (st, _) = s.put(&gp, p, &plan).await;
    assert_eq!(st, StatusCode::OK);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        hook.events(&sub).len(),
        1,
        "nothing more reached the council"
    );
    assert!(!hook
        .got
        .lock()
        .unwrap()
        .iter()
        .any(|b| b.to_string().contains("hidden-now")));
    let (_, b) = s
        .call(
            &council,
            "GET",
            &format!("Subscription/{sub}/$events"),
            None,
        )
        .await;
    assert!(!b.to_string().contains("hidden-now"));
}

async fn the_referral_is_a_task_state_machine(db: Db, name: &str) {
    let hook = receiver().await;
    let Some(s) = start(db, name, &hook).await else {
        return;
    };
    let (gp, council, mary, _) = world(&s).await;
    let other_gp = s.register("other", "B82002", Role::GpPractice).await;
    // A referral names its maker as the requester.
    let (st, _) = s
        .call(&council, "POST", "Task", Some(referral(&mary, "requested")))
        .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "the council cannot make the GP's referral"
    );
    // An admin client records referrals others made (a ward's, a school's).
    let admin = s.register("admin", "X26", Role::Admin).await;
    let (st, _) = s
        .call(&admin, "POST", "Task", Some(referral(&mary, "requested")))
        .await;
    assert_eq!(
        st,
        StatusCode::CREATED,
        "an admin records the GP's referral"
    );
    let task = s.create(&gp, referral(&mary, "requested")).await;
    let mv = |org, to, extra| move_task(&s, org, &task, to, extra);
    assert_eq!(
        mv(&gp, "accepted", None).await,
        StatusCode::FORBIDDEN,
        "only the owner accepts"
    );
    assert_eq!(
        mv(&council, "completed", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "requested cannot jump to completed"
    );
    assert_eq!(
        mv(&council, "rejected", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rejection needs a reason"
    );
    assert_eq!(mv(&council, "accepted", None).await, StatusCode::OK);
    // A stranger to the referral (no consent of Mary's names it) cannot
    // see it, so to it the Task does not exist: no move, no update.
    let (st, _) = s
        .call(&other_gp, "GET", &format!("Task/{task}"), None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "a stranger cannot see it");
    let (_, mut copy) = s.call(&council, "GET", &format!("Task/{task}"), None).await;
    copy["status"] = json!("cancelled");
    assert_eq!(
        s.put(&other_gp, copy, &task).await.0,
        StatusCode::METHOD_NOT_ALLOWED,
        "a stranger cannot move it: to it, the id is free and not its to create"
    );
    assert_eq!(mv(&council, "in-progress", None).await, StatusCode::OK);
    assert_eq!(
        mv(&council, "completed", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no outputs"
    );
    let plan = s
        .create(&council, support_plan(&mary, "from the assessment"))
        .await;
    let output = json!([{"type": {"text": "support plan"}, "valueReference": {"reference": format!("CarePlan/{plan}")}}]);
    assert_eq!(
        mv(&council, "completed", Some(("output", output))).await,
        StatusCode::OK
    );
    assert_eq!(
        mv(&council, "in-progress", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "completed is final"
    );
    let (_, t) = s.call(&gp, "GET", &format!("Task/{task}"), None).await;
    assert_eq!(
        t["status"], "completed",
        "the GP sees how the referral ended"
    );
}

/// Moves an assessment Task to `to` as `org` (with an extra element).
async fn move_task(
    s: &Server,
    org: &Org,
    task: &str,
    to: &str,
    extra: Option<(&str, Value)>,
) -> StatusCode {
    let (_, mut t) = s.call(org, "GET", &format!("Task/{task}"), None).await;
    t["status"] = json!(to);
    if let Some((k, v)) = extra {
        t[k] = v;
    }
    s.put(org, t, task).await.0
}

async fn a_death_ends_caring_everywhere_at_once(db: Db, name: &str) {
    let hook = receiver().await;
    let Some(s) = start(db, name, &hook).await else {
        return;
    };
    let (gp, council, mary, arthur) = world(&s).await;
    let sub = s
        .create(&council, subscription("caring-ended", &hook.url, "id-only"))
        .await;
    let rel = s.create(&gp, relationship(&mary, &arthur)).await;
    let flag = |subject: &str, code: &str| {
        json!({"resourceType": "Flag", "status": "active", "code": {"text": code},
        "subject": {"reference": format!("Patient/{subject}")}, "period": {"start": "2022-09-01"},
        "extension": [{"url": "https://fhir.carer-fhir.uk/StructureDefinition/carer-relationship", "valueReference": {"reference": format!("RelatedPerson/{rel}")}}]})
    };
    let f1 = s.create(&gp, flag(&mary, "is a carer")).await;
    let f2 = s.create(&gp, flag(&arthur, "has a carer")).await;
    let plan_b = s
        .create(&council, json!({"resourceType": "CarePlan", "status": "active", "intent": "plan",
            "identifier": [{"system": "https://fhir.carer-fhir.uk/Id/emergency-card", "value": "EC-1"}],
            "subject": {"reference": format!("Patient/{arthur}")},
            "extension": [{"url": "https://fhir.carer-fhir.uk/StructureDefinition/carer-relationship", "valueReference": {"reference": format!("RelatedPerson/{rel}")}}]}))
        .await;
    let assessment = s.create(&gp, referral(&mary, "requested")).await;
    let _ = assessment;
    // Arthur dies: the GP records it.
    let (_, mut a) = s.call(&gp, "GET", &format!("Patient/{arthur}"), None).await;
    a["deceasedDateTime"] = json!("2026-10-20T08:00:00Z");
    let (st, v) = s.put(&gp, a, &arthur).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, r) = s
        .call(&gp, "GET", &format!("RelatedPerson/{rel}"), None)
        .await;
    assert_eq!(
        (r["active"].as_bool(), r["period"]["end"].as_str()),
        (Some(false), Some("2026-10-20")),
        "{r}"
    );
    for f in [&f1, &f2] {
        let (_, fl) = s.call(&gp, "GET", &format!("Flag/{f}"), None).await;
        assert_eq!(
            (fl["status"].as_str(), fl["period"]["end"].as_str()),
            (Some("inactive"), Some("2026-10-20"))
        );
    }
    let (_, p) = s
        .call(&council, "GET", &format!("CarePlan/{plan_b}"), None)
        .await;
    assert_eq!(p["status"], "revoked");
    let (_, st) = s
        .call(
            &gp,
            "GET",
            &format!(
                "Observation?subject=Patient/{mary}&code=http://snomed.info/sct|199361000000101"
            ),
            None,
        )
        .await;
    assert_eq!(st["total"], 1, "no longer a carer: {st}");
    let (_, tasks) = s.call(&council, "GET", &format!("Task?patient=Patient/{mary}&code=https://fhir.carer-fhir.uk/CodeSystem/caring-ended-task|bereavement-support"), None).await;
    assert_eq!(tasks["total"], 1, "bereavement support offered: {tasks}");
    assert_eq!(
        tasks["entry"][0]["resource"]["owner"]["identifier"]["value"], "616",
        "to the council that assessed her"
    );
    let sid = sub.clone();
    hook.wait_for("caring-ended", move |h| h.events(&sid).len() == 1)
        .await;
}

async fn end_caring_and_the_stale_register_check(db: Db, name: &str) {
    let hook = receiver().await;
    let Some(s) = start(db, name, &hook).await else {
        return;
    };
    let (gp, _council, mary, arthur) = world(&s).await;
    let rel = s.create(&gp, relationship(&mary, &arthur)).await;
    let (st, v) = s
        .call(
            &gp,
            "POST",
            &format!("RelatedPerson/{rel}/$end-caring?reason=moved-into-care&date=2026-11-01"),
            Some(json!({"resourceType": "Parameters"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(
        v["parameter"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] == "changed")
            .count()
            >= 3,
        "{v}"
    );
    let (st, _) = s
        .call(
            &gp,
            "POST",
            &format!("RelatedPerson/{rel}/$end-caring?reason=died"),
            Some(json!({"resourceType": "Parameters"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "it has ended already");
    let (st, _) = s
        .call(
            &gp,
            "POST",
            &format!("RelatedPerson/{rel}/$end-caring?reason=bored"),
            Some(json!({"resourceType": "Parameters"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Stale: a relationship recorded for someone already recorded deceased,
    // and one whose carer's latest status says "no longer a carer".
    let late = s
        .create(
            &gp,
            json!({"resourceType": "Patient", "deceasedBoolean": true}),
        )
        .await;
    s.create(&gp, consent(&late, &["A81001"], "active", None))
        .await;
    let stale1 = s.create(&gp, relationship(&mary, &late)).await;
    let other = s
        .create(
            &gp,
            json!({"resourceType": "Patient", "name": [{"family": "Smith"}]}),
        )
        .await;
    let sam = s
        .create(
            &gp,
            json!({"resourceType": "Patient", "name": [{"family": "Sam"}]}),
        )
        .await;
    let stale2 = s.create(&gp, relationship(&sam, &other)).await;
    let status = fhir_core::caf::CarerStatus::builder()
        .carer(&format!("Patient/{sam}"))
        .no_longer_a_carer()
        .effective("2026-11-01")
        .build()
        .unwrap();
    s.create(&gp, status).await;
    let fresh = s.create(&gp, relationship(&mary, &other)).await;
    let (st, v) = s.call(&gp, "GET", "$stale-carers", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let text = v.to_string();
    assert!(
        text.contains(&format!("RelatedPerson/{stale1}")) && text.contains("cared-for-deceased"),
        "{v}"
    );
    assert!(
        text.contains(&format!("RelatedPerson/{stale2}")) && text.contains("no-longer-a-carer"),
        "{v}"
    );
    assert!(
        !text.contains(&format!("RelatedPerson/{fresh}"))
            && !text.contains(&format!("RelatedPerson/{rel}")),
        "{v}"
    );
    assert!(text.contains("A81001"), "by organisation: {v}");
}

async fn the_caf_record_shows_only_what_consent_allows(db: Db, name: &str) {
    let hook = receiver().await;
    let Some(s) = start(db, name, &hook).await else {
        return;
    };
    let gp = s.register("gp", "A81001", Role::GpPractice).await;
    let council = s.register("council", "616", Role::LocalAuthority).await;
    let carers = s
        .register("carers", "CO123", Role::CarersOrganisation)
        .await;
    let mary = s
        .create(
            &gp,
            json!({"resourceType": "Patient", "name": [{"family": "Jones", "given": ["Mary"]}]}),
        )
        .await;
    let arthur = s
        .create(
            &gp,
            json!({"resourceType": "Patient", "name": [{"family": "Jones", "given": ["Arthur"]}]}),
        )
        .await;
    s.create(&gp, consent(&mary, &["A81001", "616"], "active", None))
        .await;
    s.create(&gp, consent(&mary, &["CO123"], "active", Some("Patient")))
        .await;
    s.create(&gp, consent(&arthur, &["616"], "active", None))
        .await;
    let rel = s.create(&gp, relationship(&mary, &arthur)).await;
    let plan = s
        .create(&gp, support_plan(&mary, "secret-plan-title"))
        .await;
    // Full consent: everything, filed in sections, valid as a CafRecord.
    let (st, doc) = s
        .call(&council, "GET", &format!("Patient/{mary}/$caf"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{doc}");
    assert_eq!(doc["type"], "document");
    let text = doc.to_string();
    assert!(text.contains(&plan) && text.contains(&rel), "{doc}");
    // Partial: the carers' organisation may see Mary's Patient record only.
    let (st, doc) = s
        .call(&carers, "GET", &format!("Patient/{mary}/$caf"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{doc}");
    let text = doc.to_string();
    assert!(
        !text.contains(&plan) && !text.contains("secret-plan-title") && !text.contains(&rel),
        "nothing hidden leaks: {doc}"
    );
    assert!(
        doc["entry"][0]["resource"].get("section").is_none(),
        "no section tells of hidden data: {doc}"
    );
    // None: the person is not there.
    let nobody = s
        .register("nobody", "Z99999", Role::CarersOrganisation)
        .await;
    let (st, _) = s
        .call(&nobody, "GET", &format!("Patient/{mary}/$caf"), None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // XML when asked.
    let resp = s
        .http
        .get(format!("{}/Patient/{mary}/$caf", s.base))
        .bearer_auth(&council.token)
        .header("accept", "application/fhir+xml")
        .send()
        .await
        .unwrap();
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/fhir+xml"));
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("<Bundle xmlns=\"http://hl7.org/fhir\">"));
}

/// S1: `$caf`, `$stale-carers` and `$end-caring` answer only what the
/// token's scopes let the caller read, whatever consent shows its
/// organisation.
async fn operations_answer_only_what_the_scopes_allow(db: Db, name: &str) {
    let hook = receiver().await;
    let Some(s) = start(db, name, &hook).await else {
        return;
    };
    let (gp, _council, mary, arthur) = world(&s).await;
    // The same practice through a client that reads Patients and caring
    // relationships only (and may create and update anything: `$end-caring`
    // needs that on what it changes).
    let narrow = s
        .register_scoped(
            "gp-narrow",
            "A81001",
            Role::GpPractice,
            "system/*.cu system/Patient.rs system/RelatedPerson.rus",
        )
        .await;
    let rel = s.create(&gp, relationship(&mary, &arthur)).await;
    let plan = s
        .create(&gp, support_plan(&mary, "secret-plan-title"))
        .await;
    let (st, doc) = s
        .call(&gp, "GET", &format!("Patient/{mary}/$caf"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{doc}");
    assert!(doc.to_string().contains(&plan), "{doc}");
    let (st, doc) = s
        .call(&narrow, "GET", &format!("Patient/{mary}/$caf"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{doc}");
    let text = doc.to_string();
    assert!(text.contains(&rel), "the relationship is in: {doc}");
    assert!(
        !text.contains(&plan) && !text.contains("secret-plan-title"),
        "no CarePlan without its scope: {doc}"
    );
    let types: Vec<&str> = doc["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap_or(""))
        .collect();
    assert!(
        types
            .iter()
            .all(|t| matches!(*t, "Composition" | "Patient" | "RelatedPerson")),
        "{types:?}"
    );
    // The register check: a "no longer a carer" status is an Observation,
    // which this client may not read, so it cannot make a relationship stale.
    let sam = s
        .create(
            &gp,
            json!({"resourceType": "Patient", "name": [{"family": "Sam"}]}),
        )
        .await;
    let other = s
        .create(
            &gp,
            json!({"resourceType": "Patient", "name": [{"family": "Smith"}]}),
        )
        .await;
    let stale = s.create(&gp, relationship(&sam, &other)).await;
    let status = fhir_core::caf::CarerStatus::builder()
        .carer(&format!("Patient/{sam}"))
        .no_longer_a_carer()
        .effective("2026-11-01")
        .build()
        .unwrap();
    s.create(&gp, status).await;
    let (st, v) = s.call(&gp, "GET", "$stale-carers", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(
        v.to_string().contains(&format!("RelatedPerson/{stale}")),
        "{v}"
    );
    let (st, v) = s.call(&narrow, "GET", "$stale-carers", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(!v.to_string().contains(&stale), "{v}");
    // Ending caring changes flags, statuses, plans and tasks; the answer
    // names only what the client may read.
    let (st, v) = s
        .call(
            &narrow,
            "POST",
            &format!("RelatedPerson/{rel}/$end-caring?reason=moved-into-care&date=2026-11-01"),
            Some(json!({"resourceType": "Parameters"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let changed: Vec<String> = v["parameter"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "changed")
        .filter_map(|p| {
            p["valueReference"]["reference"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(changed, vec![format!("RelatedPerson/{rel}")], "{v}");
}
