//! `GET [base]/$stale-carers`: the register check. Every open caring
//! relationship the caller may see whose cared-for person is recorded
//! deceased, or whose carer's latest carer status says "no longer a
//! carer", grouped by the organisation that recorded it (its source).
//! The answer is a Parameters: one `organisation` per organisation, each
//! with a `relationship` part per stale relationship and its `reason`
//! (`cared-for-deceased`, `no-longer-a-carer`).
//!
//! Only what the caller's token scopes let it read takes part
//! ([`Reader`]): no relationships without `RelatedPerson` read
//! (those matching a restricted scope only); a death is judged only from a
//! `Patient` record, and an ended status only from an `Observation`, the
//! scopes let it read.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::interaction::cleared::Reader;
use crate::interaction::operation::{Context, Handler, Invocation, Operation, Reply};
use crate::interaction::{Answer, Failure, Level, Service};
use crate::store::{Condition, Query, Stored, Total};

/// The `$stale-carers` row of the operations table.
pub const OPERATION: Operation = Operation {
    name: "stale-carers",
    definition: "https://fhir.carer-fhir.uk/OperationDefinition/stale-carers",
    levels: &[Level::System],
    resource_types: &[],
    affects_state: false,
    also_writes: &[],
    handler: run as Handler,
};

/// The most relationships one check reads.
const LIMIT: i64 = 1000;

fn reference_id<'a>(r: &'a Value, target: &str) -> Option<&'a str> {
    let s = r["reference"].as_str()?;
    let (t, id) = s.rsplit_once('/')?;
    (t.rsplit('/').next() == Some(target)).then_some(id)
}

fn run<'a>(_svc: &'a Service, ctx: &'a Context<'a>, _inv: Invocation) -> Reply<'a> {
    Box::pin(async move {
        let reader = &ctx.reader;
        let conditions = vec![Condition::Token {
            param: "active".into(),
            system: None,
            code: Some("true".into()),
            not: false,
        }];
        let open = reader.search("RelatedPerson", conditions, LIMIT).await?;
        let mut by_org: BTreeMap<String, Vec<(String, &'static str)>> = BTreeMap::new();
        for rel in &open {
            let Some(r) = rel.resource() else { continue };
            if r["period"]["end"].is_string() {
                continue;
            }
            let mut reason = None;
            if let Some(p) = reference_id(&r["patient"], "Patient") {
                if let Some(patient) = reader.read("Patient", p).await?.and_then(|s| s.resource()) {
                    if patient["deceasedBoolean"] == true || patient["deceasedDateTime"].is_string()
                    {
                        reason = Some("cared-for-deceased");
                    }
                }
            }
            if reason.is_none() {
                reason = latest_status_ended(reader, rel, &r)
                    .await?
                    .then_some("no-longer-a-carer");
            }
            if let Some(why) = reason {
                by_org
                    .entry(rel.source.clone().unwrap_or_else(|| "unknown".into()))
                    .or_default()
                    .push((rel.key(), why));
            }
        }
        let params: Vec<Value> = by_org
            .into_iter()
            .map(|(org, rels)| {
                let mut part = vec![json!({"name": "ods", "valueIdentifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": org}})];
                for (r, why) in rels {
                    part.push(json!({"name": "relationship", "part": [
                        {"name": "reference", "valueReference": {"reference": r}},
                        {"name": "reason", "valueCode": why}]}));
                }
                json!({"name": "organisation", "part": part})
            })
            .collect();
        let mut out = json!({"resourceType": "Parameters"});
        if !params.is_empty() {
            out["parameter"] = Value::Array(params);
        }
        Ok(Answer::ok(out))
    })
}

/// Whether the carer's latest carer status about this relationship (or at
/// all) says "no longer a carer", among the Observations the scopes reach
/// (`observations`).
async fn latest_status_ended(reader: &Reader, rel: &Stored, r: &Value) -> Result<bool, Failure> {
    let carer = r["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["url"] == "https://fhir.carer-fhir.uk/StructureDefinition/carer-patient")
        .and_then(|e| reference_id(&e["valueReference"], "Patient"));
    let Some(carer) = carer else { return Ok(false) };
    let conditions = vec![Condition::Reference {
        param: "subject".into(),
        target_type: Some("Patient".into()),
        id: carer.into(),
    }];
    let statuses = reader
        .query(Query {
            resource_type: Some("Observation".into()),
            conditions,
            sort: vec![(
                crate::store::SortKey::Param {
                    param: "date".into(),
                    table: crate::store::Table::Date,
                },
                true,
            )],
            count: 50,
            total: Total::None,
            ..Query::default()
        })
        .await?;
    let rel_ref = rel.key();
    let latest = statuses
        .iter()
        .filter_map(Stored::resource)
        .filter(|o| o["meta"]["profile"].to_string().contains("CarerStatus"))
        .find(|o| {
            o["focus"].as_array().is_none_or(|f| {
                f.is_empty()
                    || f.iter().any(|x| {
                        x["reference"]
                            .as_str()
                            .is_some_and(|s| s.ends_with(&rel_ref))
                    })
            })
        });
    Ok(latest.is_some_and(|o| fhir_core::caf::CarerStatus::read(&o).is_no_longer_a_carer()))
}
