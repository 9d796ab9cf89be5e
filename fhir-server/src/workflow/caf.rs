//! `Patient/{id}/$caf`: the person's CAF record (DESIGN §3, the guide's
//! CafRecord document Bundle and CafRecordComposition), assembled from
//! what the caller may see under consent: the caring relationships (as
//! cared-for person and as carer), carer statuses and flags, assessments,
//! responses and determinations, plans, and consents. What is hidden is
//! left out without trace: a section exists only for what is shown, and
//! no count or title tells of the rest. The document is validated against
//! CafRecord before it is sent; JSON or XML as the caller asks.
//!
//! The caller's token scopes cut it as consent does ([`Reader`](crate::interaction::cleared::Reader)): a
//! resource type the scopes do not let it read is left out, and under a
//! restricted scope (`system/Observation.rs?category=…`) only the resources
//! matching the restriction are in; an entry referring to what is left out
//! goes with it. (The document's Composition is the server's, about the
//! Patient the operation was invoked on.)

use serde_json::Value;

use crate::interaction::operation::{Context, Handler, Invocation, Operation, Reply};
use crate::interaction::{blocking, Answer, Failure, Level, Service};
use crate::store::Condition;

/// The `$caf` row of the operations table.
pub const OPERATION: Operation = Operation {
    name: "caf",
    definition: "https://fhir.carer-fhir.uk/OperationDefinition/caf",
    levels: &[Level::Instance],
    resource_types: &["Patient"],
    affects_state: false,
    also_writes: &[],
    handler: run as Handler,
};

/// The CafRecord profile.
pub const PROFILE: &str = "https://fhir.carer-fhir.uk/StructureDefinition/CafRecord";

/// The most resources of one kind a record holds.
const PER_KIND: i64 = 200;

/// The searches of one person's CAF data: type and reference parameter.
const KINDS: &[(&str, &str)] = &[
    ("RelatedPerson", "patient"),
    ("RelatedPerson", "carer-patient"),
    ("Observation", "subject"),
    ("Flag", "subject"),
    ("Task", "patient"),
    ("QuestionnaireResponse", "subject"),
    ("CarePlan", "subject"),
    ("Consent", "patient"),
];

fn run<'a>(svc: &'a Service, ctx: &'a Context<'a>, inv: Invocation) -> Reply<'a> {
    Box::pin(async move {
        let id = inv.id.clone().unwrap_or_default();
        let reader = &ctx.reader;
        let patient = reader
            .read("Patient", &id)
            .await?
            .and_then(|s| s.resource())
            .ok_or_else(|| Failure::not_found(format!("Patient/{id} is not known")))?;
        let mut seen = std::collections::HashSet::new();
        let mut resources: Vec<Value> = Vec::new();
        for (rtype, param) in KINDS {
            let conditions = vec![Condition::Reference {
                param: param.to_string(),
                target_type: Some("Patient".into()),
                id: id.clone(),
            }];
            for s in reader.search(rtype, conditions, PER_KIND).await? {
                if seen.insert(s.key()) {
                    resources.extend(s.resource());
                }
            }
        }
        // A document holds what its entries refer to: the resources they
        // name are added when the caller may see them, and an entry whose
        // references cannot all be shown is left out (the record shows what
        // can be shown whole).
        let mut shown: std::collections::HashSet<String> = seen.clone();
        shown.insert(format!("Patient/{id}"));
        for _round in 0..2 {
            let mut wanted: Vec<(String, String)> = Vec::new();
            for r in &resources {
                for target in references(r) {
                    if !shown.contains(&target) {
                        if let Some((t, i)) = target.split_once('/') {
                            wanted.push((t.to_string(), i.to_string()));
                        }
                    }
                }
            }
            wanted.sort();
            wanted.dedup();
            if wanted.is_empty() {
                break;
            }
            for s in reader.read_many(&wanted).await? {
                if shown.insert(s.key()) {
                    resources.extend(s.resource());
                }
            }
        }
        loop {
            let before = resources.len();
            let present: std::collections::HashSet<String> = resources
                .iter()
                .map(|r| {
                    format!(
                        "{}/{}",
                        r["resourceType"].as_str().unwrap_or(""),
                        r["id"].as_str().unwrap_or("")
                    )
                })
                .chain(std::iter::once(format!("Patient/{id}")))
                .collect();
            resources.retain(|r| references(r).iter().all(|t| present.contains(t)));
            if resources.len() == before {
                break;
            }
        }
        let author = ctx
            .caller
            .organisation()
            .or(inv.values("author").first().map(String::as_str))
            .unwrap_or("X26")
            .parse::<fhir_core::caf::OdsCode>()
            .map_err(|e| Failure::invalid(format!("author: {}", e.message)))?;
        let mut builder = fhir_core::caf::CafRecord::builder(patient, &svc.state.base)
            .identifier(&uuid::Uuid::new_v4().to_string())
            .author(author)
            .timestamp(&chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string());
        for r in resources {
            builder = builder.resource(r);
        }
        let mut doc = builder
            .build()
            .map_err(|e| Failure::internal(format!("assembling the CAF record: {}", e.message)))?;
        // A record of nobody's data but the person's has no sections (FHIR
        // JSON has no empty arrays).
        if doc["entry"][0]["resource"]["section"]
            .as_array()
            .is_some_and(|s| s.is_empty())
        {
            if let Some(c) = doc["entry"][0]["resource"].as_object_mut() {
                c.remove("section");
            }
        }
        let state = svc.state.clone();
        let checked = doc.clone();
        let outcome =
            blocking(move || Ok(state.validator.validate_against(&checked, &[PROFILE]))).await?;
        if outcome.has_errors() {
            // Our assembly is at fault, not the caller: logged, never sent.
            return Err(Failure::internal(format!(
                "the assembled CAF record does not validate against CafRecord: {}",
                outcome.to_operation_outcome()
            )));
        }
        let mut answer = Answer::ok(doc.take());
        answer.patients = vec![id];
        Ok(answer)
    })
}

/// The literal references (`Type/id`) a resource makes, outside contained
/// resources.
fn references(r: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, child) in o {
                    if k == "contained" {
                        continue;
                    }
                    if k == "reference" {
                        if let Some((t, id)) = child.as_str().and_then(fhir_core::reference::target)
                        {
                            out.push(format!("{t}/{id}"));
                        }
                        continue;
                    }
                    walk(child, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(r, &mut out);
    out
}
