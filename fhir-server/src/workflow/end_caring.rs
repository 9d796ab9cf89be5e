//! When caring ends (flow 5): `RelatedPerson/{id}/$end-caring` (reason
//! `died`, `moved-into-care`, `caring-stopped`, `other`; `date` optional),
//! or the cared-for person's record getting `deceased[x]`, makes one
//! transaction of every consequence, so that no register keeps a carer
//! "years after the person they cared for had died":
//! 1. the caring relationship's period ends and it becomes inactive;
//! 2. both CarerFlags about it close;
//! 3. the carer's record gets a CarerStatus "no longer a carer";
//! 4. the contingency plan (Plan B) about it ends (`revoked`);
//! 5. a Task offers the carer after-caring (or bereavement) support, owned
//!    by the council that assessed them (else the organisation acting).
//!
//! Each resource is validated as any write is, and the change of the
//! relationship fires the `caring-ended` topic. The answer names what was
//! changed of the types the caller's token scopes let it read (all of the
//! type: `Reader::reads_all`); the rest is changed all the same.

use serde_json::{json, Value};

use super::{ods_of, today};
use crate::interaction::operation::{Handler, Invocation, Operation, Reply};
use crate::interaction::pipeline::{prepare, Tx};
use crate::interaction::{Answer, Failure, FailureKind, Level, Service};
use crate::store::{Condition, Query, Total};

/// The reasons caring ends.
pub const REASONS: &[&str] = &["died", "moved-into-care", "caring-stopped", "other"];

/// The `$end-caring` row of the operations table.
pub const OPERATION: Operation = Operation {
    name: "end-caring",
    definition: "https://fhir.carer-fhir.uk/OperationDefinition/end-caring",
    levels: &[Level::Instance],
    resource_types: &["RelatedPerson"],
    affects_state: true,
    // The consequences: flags and the contingency plan closed, the carer's
    // status recorded, after-caring support offered.
    also_writes: &["Flag", "CarePlan", "Observation", "Task"],
    handler: run as Handler,
};

fn ended(r: &Value) -> bool {
    r["active"] == false || r["period"]["end"].is_string()
}

async fn find(
    tx: &mut Tx,
    rtype: &str,
    conditions: Vec<Condition>,
) -> Result<Vec<crate::store::Stored>, Failure> {
    let q = Query {
        resource_type: Some(rtype.into()),
        conditions,
        count: 100,
        total: Total::None,
        ..Query::default()
    };
    tx.matching(&q).await
}

fn reference_to(param: &str, target: &str, id: &str) -> Condition {
    Condition::Reference {
        param: param.into(),
        target_type: Some(target.into()),
        id: id.into(),
    }
}

/// Ends the caring relationship `id` in `tx`, with every consequence;
/// the references of what was written.
///
/// # Errors
/// 404 when there is no such relationship (or the caller may not see it),
/// 422 when it has ended already, or when a consequence does not validate.
pub async fn end_caring(
    tx: &mut Tx,
    id: &str,
    reason: &str,
    date: &str,
    acting: Option<&str>,
) -> Result<Vec<String>, Failure> {
    let state = tx.state().clone();
    let current = match tx.current("RelatedPerson", id).await? {
        Some(s) if s.content.is_some() => s,
        _ => {
            return Err(Failure::not_found(format!(
                "RelatedPerson/{id} is not known"
            )))
        }
    };
    if tx.hidden("RelatedPerson", id).await? {
        return Err(Failure::not_found(format!(
            "RelatedPerson/{id} is not known"
        )));
    }
    let mut rel = current.resource().unwrap_or(Value::Null);
    if ended(&rel) {
        return Err(Failure::new(
            FailureKind::Unprocessable,
            "business-rule",
            format!("the caring relationship RelatedPerson/{id} has ended already"),
        ));
    }
    let mut written = Vec::new();
    let rel_ref = format!("RelatedPerson/{id}");
    rel["active"] = json!(false);
    if !rel["period"].is_object() {
        rel["period"] = json!({});
    }
    rel["period"]["end"] = json!(date);
    tx.update(
        id,
        prepare(&state, "RelatedPerson", rel.clone())?,
        Some(current.version),
    )
    .await?;
    written.push(rel_ref.clone());

    for f in find(
        tx,
        "Flag",
        vec![reference_to("carer-relationship", "RelatedPerson", id)],
    )
    .await?
    {
        let Some(mut flag) = f.resource() else {
            continue;
        };
        if flag["status"] != "active" {
            continue;
        }
        flag["status"] = json!("inactive");
        if !flag["period"].is_object() {
            flag["period"] = json!({"start": date});
        }
        flag["period"]["end"] = json!(date);
        tx.update_as_consequence(&f.id, prepare(&state, "Flag", flag)?, Some(f.version))
            .await?;
        written.push(f.key());
    }

    let carer = rel["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["url"] == "https://fhir.carer-fhir.uk/StructureDefinition/carer-patient")
        .and_then(|e| e["valueReference"]["reference"].as_str())
        .map(str::to_string);
    if let Some(carer) = &carer {
        let status = fhir_core::caf::CarerStatus::builder()
            .carer(carer)
            .relationship(&rel_ref)
            .no_longer_a_carer()
            .effective(date)
            .build()
            .map_err(|e| Failure::internal(format!("building the carer status: {}", e.message)))?;
        let s = tx
            .create(
                &crate::interaction::create::new_id(),
                prepare(&state, "Observation", status)?,
            )
            .await?;
        written.push(s.key());
    }

    for p in find(
        tx,
        "CarePlan",
        vec![reference_to("carer-relationship", "RelatedPerson", id)],
    )
    .await?
    {
        let Some(mut plan) = p.resource() else {
            continue;
        };
        let contingency = plan["identifier"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["system"] == "https://fhir.carer-fhir.uk/Id/emergency-card")
            || plan["meta"]["profile"]
                .to_string()
                .contains("ContingencyPlan");
        if !contingency || plan["status"] != "active" {
            continue;
        }
        plan["status"] = json!("revoked");
        if !plan["period"].is_object() {
            plan["period"] = json!({});
        }
        plan["period"]["end"] = json!(date);
        tx.update_as_consequence(&p.id, prepare(&state, "CarePlan", plan)?, Some(p.version))
            .await?;
        written.push(p.key());
    }

    if let Some(carer) = &carer {
        // The council that assessed the carer offers the support; failing
        // that, the organisation that recorded the end.
        let carer_id = carer.rsplit('/').next().unwrap_or(carer);
        let assessments = find(
            tx,
            "Task",
            vec![reference_to("patient", "Patient", carer_id)],
        )
        .await?;
        let council = assessments
            .iter()
            .filter_map(|t| t.resource())
            .filter(super::referral::is_assessment)
            .find_map(|t| ods_of(&t["owner"]).map(str::to_string))
            .or_else(|| acting.map(str::to_string));
        let ods = |code: &str| json!({"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": code}});
        let (code, text) = if reason == "died" {
            ("bereavement-support", "Offer the carer bereavement support")
        } else {
            (
                "after-caring-support",
                "Offer the carer support after caring",
            )
        };
        let mut task = json!({
            "resourceType": "Task",
            "status": "requested",
            "intent": "proposal",
            "code": {"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/caring-ended-task", "code": code}], "text": text},
            "description": format!("Caring ended ({reason}) on {date}: {text}."),
            "for": {"reference": carer},
            "focus": {"reference": rel_ref},
            "authoredOn": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        });
        if let Some(c) = &council {
            task["owner"] = ods(c);
        }
        if let Some(a) = acting {
            task["requester"] = ods(a);
        }
        let s = tx
            .create(
                &crate::interaction::create::new_id(),
                prepare(&state, "Task", task)?,
            )
            .await?;
        written.push(s.key());
    }
    Ok(written)
}

/// [`follow_deaths`] as a write hook: before every commit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Deaths;

#[async_trait::async_trait]
impl crate::interaction::hooks::WriteHook for Deaths {
    async fn before_commit(&self, tx: &mut Tx) -> Result<(), Failure> {
        follow_deaths(tx).await
    }
}

/// The deaths among a transaction's changes (a Patient whose record gets
/// `deceased[x]`) end each open caring relationship of that person, in the
/// same transaction.
///
/// # Errors
/// As [`end_caring`].
pub async fn follow_deaths(tx: &mut Tx) -> Result<(), Failure> {
    let deaths: Vec<(String, String)> = tx
        .changes()
        .iter()
        .filter(|c| c.resource_type == "Patient")
        .filter_map(|c| {
            let now: Value = serde_json::from_str(c.content.as_deref()?).ok()?;
            let before: Option<Value> = c
                .previous
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok());
            let dead =
                |p: &Value| p["deceasedBoolean"] == true || p["deceasedDateTime"].is_string();
            (dead(&now) && !before.as_ref().is_some_and(dead)).then(|| {
                let date = now["deceasedDateTime"]
                    .as_str()
                    .map(|d| d.chars().take(10).collect())
                    .unwrap_or_else(today);
                (c.id.clone(), date)
            })
        })
        .collect();
    let acting = tx.source().map(str::to_string);
    for (patient, date) in deaths {
        let open = find(
            tx,
            "RelatedPerson",
            vec![
                reference_to("patient", "Patient", &patient),
                Condition::Token {
                    param: "active".into(),
                    system: None,
                    code: Some("true".into()),
                    not: false,
                },
            ],
        )
        .await?;
        for r in open {
            if r.resource().is_some_and(|v| !ended(&v)) {
                // A death recorded by the person's record holder ends every
                // caring relationship it can see, whoever recorded them.
                tx.set_consequence(true);
                let ended = end_caring(tx, &r.id, "died", &date, acting.as_deref()).await;
                tx.set_consequence(false);
                ended?;
            }
        }
    }
    Ok(())
}

fn run<'a>(
    svc: &'a Service,
    ctx: &'a crate::interaction::operation::Context<'a>,
    inv: Invocation,
) -> Reply<'a> {
    Box::pin(async move {
        let reason = inv.values("reason").first().cloned().ok_or_else(|| {
            Failure::invalid(format!(
                "$end-caring needs a reason: one of {}",
                REASONS.join(", ")
            ))
        })?;
        if !REASONS.contains(&reason.as_str()) {
            return Err(Failure::invalid(format!(
                "reason {reason:?} is not one of {}",
                REASONS.join(", ")
            )));
        }
        let date = inv.values("date").first().cloned().unwrap_or_else(today);
        if fhir_core::fhirpath::Expression::parse(&format!("@{date}")).is_err() || date.len() < 10 {
            return Err(Failure::invalid(format!(
                "date {date:?} is not a FHIR date"
            )));
        }
        let id = inv.id.clone().unwrap_or_default();
        let mut tx = svc.begin(ctx.caller, ctx.clearance).await?;
        let acting = ctx.caller.organisation().map(str::to_string);
        let written = end_caring(&mut tx, &id, &reason, &date, acting.as_deref()).await?;
        let mut params = vec![
            json!({"name": "reason", "valueCode": reason}),
            json!({"name": "date", "valueDate": date}),
        ];
        params.extend(
            written
                .iter()
                .filter(|r| {
                    r.split_once('/')
                        .is_some_and(|(t, _)| ctx.reader.reads_all(t))
                })
                .map(|r| json!({"name": "changed", "valueReference": {"reference": r}})),
        );
        let answer = Answer::ok(json!({"resourceType": "Parameters", "parameter": params}));
        svc.commit_with_audit(tx, ctx, answer).await
    })
}
