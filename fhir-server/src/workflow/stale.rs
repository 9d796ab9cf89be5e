//! `GET [base]/$stale-carers`: the register check. Every open caring
//! relationship the caller may see whose cared-for person is recorded
//! deceased, or whose carer's latest carer status says "no longer a
//! carer", grouped by the organisation that recorded it (its source).
//! The answer is a Parameters: one `organisation` per organisation, each
//! with a `relationship` part per stale relationship and its `reason`
//! (`cared-for-deceased`, `no-longer-a-carer`).
//!
//! Only what the caller's token scopes let it read takes part
//! ([`super::reach`]): no relationships without `RelatedPerson` read
//! (those matching a restricted scope only); a death is judged only from a
//! `Patient` record, and an ended status only from an `Observation`, the
//! scopes let it read.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{reach, Reach};
use crate::interaction::operation::{Context, Handler, Invocation, Operation, Reply};
use crate::interaction::{Answer, Failure, Level, Service};
use crate::store::{Condition, Query, Stored, Total, Visibility};

/// The `$stale-carers` row of the operations table.
pub const OPERATION: Operation = Operation {
    name: "stale-carers",
    definition: "https://fhir.carer-fhir.uk/OperationDefinition/stale-carers",
    levels: &[Level::System],
    resource_types: &[],
    affects_state: false,
    handler: run as Handler,
};

/// The most relationships one check reads.
const LIMIT: i64 = 1000;

fn reference_id<'a>(r: &'a Value, target: &str) -> Option<&'a str> {
    let s = r["reference"].as_str()?;
    let (t, id) = s.rsplit_once('/')?;
    (t.rsplit('/').next() == Some(target)).then_some(id)
}

fn run<'a>(svc: &'a Service, ctx: &'a Context<'a>, _inv: Invocation) -> Reply<'a> {
    Box::pin(async move {
        let store = &svc.state.store;
        let vis = ctx.clearance.visibility.clone();
        let mut conditions = vec![Condition::Token {
            param: "active".into(),
            system: None,
            code: Some("true".into()),
            not: false,
        }];
        match reach(svc, ctx.caller, "RelatedPerson") {
            Reach::All => {}
            Reach::Matching(c) => conditions.push(c),
            Reach::Nothing => return Ok(Answer::ok(json!({"resourceType": "Parameters"}))),
        }
        let patients = reach(svc, ctx.caller, "Patient");
        let observations = reach(svc, ctx.caller, "Observation");
        let open = store
            .search(&Query {
                resource_type: Some("RelatedPerson".into()),
                conditions,
                count: LIMIT,
                total: Total::None,
                visibility: vis.clone(),
                ..Query::default()
            })
            .await?
            .items;
        let mut by_org: BTreeMap<String, Vec<(String, &'static str)>> = BTreeMap::new();
        for rel in &open {
            let Some(r) = rel.resource() else { continue };
            if r["period"]["end"].is_string() {
                continue;
            }
            let mut reason = None;
            if let Some(p) = reference_id(&r["patient"], "Patient") {
                if let Some(patient) = cared_for(svc, &patients, p, vis.as_ref()).await? {
                    if patient["deceasedBoolean"] == true || patient["deceasedDateTime"].is_string()
                    {
                        reason = Some("cared-for-deceased");
                    }
                }
            }
            if reason.is_none() && !observations.is_nothing() {
                reason = latest_status_ended(svc, rel, &r, &observations, vis.as_ref())
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

/// The cared-for person's Patient record, when the caller may see it and
/// its scopes let it read it (`reach`).
async fn cared_for(
    svc: &Service,
    reach: &Reach,
    id: &str,
    vis: Option<&Visibility>,
) -> Result<Option<Value>, Failure> {
    let store = &svc.state.store;
    Ok(match reach {
        Reach::Nothing => None,
        Reach::All => store
            .read("Patient", id, vis)
            .await
            .ok()
            .and_then(|s| s.resource()),
        Reach::Matching(restricted) => store
            .search(&Query {
                resource_type: Some("Patient".into()),
                conditions: vec![Condition::Id(vec![id.to_string()]), restricted.clone()],
                count: 1,
                total: Total::None,
                visibility: vis.cloned(),
                ..Query::default()
            })
            .await?
            .items
            .first()
            .and_then(Stored::resource),
    })
}

/// Whether the carer's latest carer status about this relationship (or at
/// all) says "no longer a carer", among the Observations the scopes reach
/// (`observations`).
async fn latest_status_ended(
    svc: &Service,
    rel: &Stored,
    r: &Value,
    observations: &Reach,
    vis: Option<&Visibility>,
) -> Result<bool, Failure> {
    let carer = r["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["url"] == "https://fhir.carer-fhir.uk/StructureDefinition/carer-patient")
        .and_then(|e| reference_id(&e["valueReference"], "Patient"));
    let Some(carer) = carer else { return Ok(false) };
    let mut conditions = vec![Condition::Reference {
        param: "subject".into(),
        target_type: Some("Patient".into()),
        id: carer.into(),
    }];
    match observations {
        Reach::All => {}
        Reach::Matching(c) => conditions.push(c.clone()),
        Reach::Nothing => return Ok(false),
    }
    let statuses = svc
        .state
        .store
        .search(&Query {
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
            visibility: vis.cloned(),
            ..Query::default()
        })
        .await?
        .items;
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
