//! An AuditEvent for every access, while access control is enforced
//! ([AuditEvent](https://hl7.org/fhir/R4/auditevent.html), following the
//! IHE Basic Audit Log Patterns where they fit: `rest` type with the
//! RESTful interaction as subtype, the client and its organisation as
//! agents, the patients and the resource or query as entities, the
//! outcome, the purpose of use).
//!
//! A write's AuditEvent is written in the write's own store transaction
//! ([`Tx::commit`](super::pipeline::Tx) after [`Tx::audit`](super::pipeline::Tx::audit)):
//! both are kept or neither. Every other access (reads, searches, refused
//! requests, failed writes) is recorded by the [`Auditor`] before the
//! answer is sent: requests queue their events, one writer task stores
//! them in batches (group commit, one short transaction of the store's
//! audit log, `Store::append_audit`) and tells each request when its event
//! is stored. Audit content never includes resource bodies: references,
//! the query string, and codes.

use std::sync::Arc;

use base64::Engine as _;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::access::Clearance;
use super::{Answer, AppState, Caller, Failure, Interaction, Level};
use crate::store::NewVersion;

/// Events written in one database transaction at most.
const BATCH: usize = 512;

/// What an interaction does, for its AuditEvent.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The RESTful interaction (`read`, `search-type`, …) or `operation`.
    pub subtype: String,
    /// C, R, U, D or E.
    pub action: &'static str,
    /// The resources concerned, `Type/id` (with version where known).
    pub resources: Vec<String>,
    /// The query, for searches and histories.
    pub query: Option<String>,
    /// The Patients concerned (ids).
    pub patients: Vec<String>,
}

impl Facts {
    /// What `i` is about, before it is applied.
    pub fn of(i: &Interaction) -> Facts {
        let mut f = Facts {
            subtype: String::new(),
            action: "E",
            resources: Vec::new(),
            query: None,
            patients: Vec::new(),
        };
        let q =
            |params: &[(String, String)]| serde_urlencoded::to_string(params).unwrap_or_default();
        match i {
            Interaction::Capabilities => (f.subtype, f.action) = ("capabilities".into(), "R"),
            Interaction::Read(r) => {
                (f.subtype, f.action) = ("read".into(), "R");
                f.resources.push(format!("{}/{}", r.resource_type, r.id));
            }
            Interaction::VRead(r) => {
                (f.subtype, f.action) = ("vread".into(), "R");
                f.resources.push(format!(
                    "{}/{}/_history/{}",
                    r.resource_type, r.id, r.version
                ));
            }
            Interaction::Search(s) => {
                f.subtype = if s.resource_type.is_some() {
                    "search-type"
                } else {
                    "search-system"
                }
                .into();
                f.query = Some(format!(
                    "{}?{}",
                    s.resource_type.as_deref().unwrap_or(""),
                    q(&s.params)
                ));
            }
            Interaction::History(h) => {
                f.action = "R";
                f.subtype = match (&h.resource_type, &h.id) {
                    (Some(t), Some(id)) => {
                        f.resources.push(format!("{t}/{id}"));
                        "history-instance"
                    }
                    (Some(_), None) => "history-type",
                    _ => "history-system",
                }
                .into();
                f.query = Some(q(&h.params));
            }
            Interaction::Create(c) => {
                (f.subtype, f.action) = ("create".into(), "C");
                f.resources.push(c.resource_type.clone());
            }
            Interaction::Update(u) => {
                (f.subtype, f.action) = ("update".into(), "U");
                f.resources.push(u.resource_type.clone());
            }
            Interaction::Patch(p) => {
                (f.subtype, f.action) = ("patch".into(), "U");
                f.resources.push(p.resource_type.clone());
            }
            Interaction::Delete(d) => {
                (f.subtype, f.action) = ("delete".into(), "D");
                match &d.which {
                    super::update::Which::Id(id) => {
                        f.resources.push(format!("{}/{id}", d.resource_type))
                    }
                    super::update::Which::Matching(c) => {
                        f.query = Some(format!("{}?{}", d.resource_type, c.text))
                    }
                }
            }
            Interaction::Batch(_) => f.subtype = "batch".into(),
            Interaction::Transaction(_) => f.subtype = "transaction".into(),
            Interaction::Operation(o) => {
                f.subtype = "operation".into();
                let mut at = String::new();
                if let Some(t) = &o.resource_type {
                    at.push_str(t);
                    if let Some(id) = &o.id {
                        at.push('/');
                        at.push_str(id);
                    }
                }
                if o.level == Level::Instance {
                    f.resources.push(at.clone());
                }
                f.query = Some(format!("{at}/${}", o.operation.name));
            }
        }
        f
    }

    /// Adds what the answer names: the resource written or read and the
    /// Patients whose data it is.
    pub fn learn(&mut self, answer: &Answer, patients: &[String]) {
        if let Some(l) = &answer.location {
            self.resources = vec![l.clone()];
        }
        for p in patients {
            if !self.patients.contains(p) {
                self.patients.push(p.clone());
            }
        }
    }
}

/// The AuditEvent of one access.
pub fn event(
    facts: &Facts,
    caller: &Caller,
    clearance: Option<&Clearance>,
    outcome: Result<(), &Failure>,
) -> Value {
    let now = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let (code, desc) = match outcome {
        Ok(()) => ("0", None),
        Err(f) if f.status().is_server_error() => (
            "8",
            Some(format!("{} {}", f.status().as_u16(), f.message())),
        ),
        Err(f) => (
            "4",
            Some(format!("{} {}", f.status().as_u16(), f.message())),
        ),
    };
    let mut agents = Vec::new();
    match caller {
        Caller::Client(c) => {
            agents.push(json!({
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type", "code": "datacollector", "display": "data collector"}]},
                "who": {"identifier": {"system": "https://fhir.carer-fhir.uk/Id/client", "value": c.client_id}, "display": c.name},
                "altId": c.client_id,
                "name": c.name,
                "requestor": true,
                "role": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/client-role", "code": c.role.name()}]}]
            }));
            agents.push(json!({
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "PROV", "display": "healthcare provider"}]},
                "who": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": c.organisation}},
                "requestor": false
            }));
        }
        _ => agents.push(json!({
            "who": {"display": "an unauthenticated request"},
            "requestor": true
        })),
    }
    let mut entities: Vec<Value> = facts.patients.iter().map(|p| patient_entity(p)).collect();
    for r in &facts.resources {
        if r.contains('/') {
            entities.push(resource_entity(r));
        }
    }
    if let Some(q) = &facts.query {
        entities.push(json!({
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
            "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "24", "display": "Query"},
            "query": base64::engine::general_purpose::STANDARD.encode(q)
        }));
    }
    let mut e = json!({
        "resourceType": "AuditEvent",
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "RESTful Operation"},
        "action": facts.action,
        "recorded": now,
        "outcome": code,
        "agent": agents,
        "source": {"observer": {"display": "carer-fhir"},
            "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server"}]}
    });
    if !facts.subtype.is_empty() {
        let system = if facts.subtype == "operation" {
            "https://fhir.carer-fhir.uk/CodeSystem/audit-subtype"
        } else {
            "http://hl7.org/fhir/restful-interaction"
        };
        e["subtype"] = json!([{"system": system, "code": facts.subtype}]);
    }
    if let Some(d) = desc {
        e["outcomeDesc"] = json!(d);
    }
    let purpose = clearance
        .and_then(|c| c.purpose.clone())
        .or_else(|| caller.client().and_then(|c| c.purposes.first().cloned()));
    if let Some(p) = purpose {
        e["purposeOfEvent"] = json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": p}]}]);
    }
    if !entities.is_empty() {
        e["entity"] = Value::Array(entities);
    }
    e
}

/// An AuditEvent as the store keeps it: indexed (not validated: the
/// server builds it), with the Patients it is about (its compartment).
pub fn new_version(state: &AppState, event: Value) -> NewVersion {
    let index = state.search.index(&event);
    let compartments = state
        .compartments
        .owners_of("AuditEvent", "", &index, &event)
        .patients;
    NewVersion {
        resource: event,
        index,
        compartments,
        ..NewVersion::default()
    }
}

type Job = (Value, oneshot::Sender<Result<(), Failure>>);

/// An AuditEvent entity for a person whose data was concerned (Patient id).
pub fn patient_entity(patient: &str) -> Value {
    json!({
        "what": {"reference": format!("Patient/{patient}")},
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
        "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"}
    })
}

/// An AuditEvent entity for a resource concerned (`Type/id`, with
/// `/_history/n` where known).
pub fn resource_entity(reference: &str) -> Value {
    json!({
        "what": {"reference": reference},
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
        "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "4", "display": "Domain Resource"}
    })
}

/// Stores AuditEvents for requests, in batches (group commit), and tells
/// each request when its event is stored.
///
/// No writer task sits between a request and the store: each request
/// queues its event and then either finds it stored by another request's
/// batch, or takes the writer's turn and stores every event queued, its
/// own among them. A lone request thus writes its own event without a
/// hand-off to another task; under load one request writes for many. The
/// batch is written by a task of its own, so that a request abandoned
/// mid-way (its client gone) never abandons the others' events.
#[derive(Clone)]
pub struct Auditor {
    inner: Arc<Inner>,
}

struct Inner {
    state: Arc<AppState>,
    queue: std::sync::Mutex<Vec<Job>>,
    turn: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor").finish_non_exhaustive()
    }
}

impl Auditor {
    /// The auditor of `state`.
    pub fn start(state: Arc<AppState>) -> Auditor {
        Auditor {
            inner: Arc::new(Inner {
                state,
                queue: std::sync::Mutex::new(Vec::new()),
                turn: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Stores `event`; returns once it is stored.
    ///
    /// # Errors
    /// When it could not be stored (the request then fails: an access that
    /// cannot be audited is not answered).
    pub async fn record(&self, event: Value) -> Result<(), Failure> {
        let stopped = || Failure::internal("the audit writer has stopped");
        let (done, mut stored) = oneshot::channel();
        self.inner
            .queue
            .lock()
            .map_err(|_| stopped())?
            .push((event, done));
        loop {
            match stored.try_recv() {
                Ok(result) => return result,
                Err(oneshot::error::TryRecvError::Closed) => return Err(stopped()),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let _turn = self.inner.turn.lock().await;
            // Stored by the batch that held the turn meanwhile?
            match stored.try_recv() {
                Ok(result) => return result,
                Err(oneshot::error::TryRecvError::Closed) => return Err(stopped()),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let batch: Vec<Job> = {
                let mut queue = self.inner.queue.lock().map_err(|_| stopped())?;
                let n = queue.len().min(BATCH);
                queue.drain(..n).collect()
            };
            if batch.is_empty() {
                continue;
            }
            let state = self.inner.state.clone();
            let written = tokio::spawn(async move {
                let (events, waiting): (Vec<Value>, Vec<_>) = batch.into_iter().unzip();
                let result = store_batch(&state, events).await;
                for done in waiting {
                    let _ = done.send(result.clone());
                }
            });
            let _ = written.await;
        }
    }
}

async fn store_batch(state: &Arc<AppState>, events: Vec<Value>) -> Result<(), Failure> {
    // Indexed here rather than beside the async workers: an AuditEvent's
    // index is a few small expressions, cheaper than a thread hand-off.
    let versions = events.into_iter().map(|e| new_version(state, e)).collect();
    Ok(state.store.append_audit(versions).await?)
}
