//! The referral for a carer's assessment (flow 2) as a workflow: the
//! [FHIR Task state machine](https://hl7.org/fhir/R4/task.html#statemachine)
//! on CarerAssessment Tasks, with who may make each move.
//!
//! - Created `requested`, the Task is a referral: its `requester` must be
//!   the organisation making it (by ODS code), its `owner` the council.
//! - Each change of status must be a move of the state machine
//!   (`requested` → `received`, `accepted`, `rejected`, `cancelled`;
//!   `accepted` → `in-progress`, `on-hold`, `cancelled`, `failed`; …;
//!   `completed`, `cancelled`, `rejected`, `failed` are final), else 422.
//! - The owner accepts, rejects (with a `statusReason`), starts, holds,
//!   completes (with an `output`: the determination, the support plan) or
//!   fails it; the requester may cancel it; anyone else is refused (403).
//!   An edit that does not change the status is an ordinary write.
//!   When access control is off, only the state machine applies.

use serde_json::Value;

use crate::interaction::hooks::{Write, WriteHook};
use crate::interaction::pipeline::Tx;
use crate::interaction::{Failure, FailureKind};

/// The referral's rules as a write hook: every Task a caller writes is
/// checked ([`check_create`], [`check_update`]), and a party's move of a
/// referral it did not write is permitted ([`party_move`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Referral;

#[async_trait::async_trait]
impl WriteHook for Referral {
    async fn before_write(&self, tx: &mut Tx, write: &mut Write<'_>) -> Result<(), Failure> {
        if write.resource_type != "Task" {
            return Ok(());
        }
        match write.previous {
            Some(before) => check_update(before, write.resource, tx.source()),
            None => check_create(write.resource, tx.referrer()),
        }
    }

    async fn permits_non_source(
        &self,
        tx: &mut Tx,
        previous: &Value,
        new: Option<&Value>,
    ) -> Result<bool, Failure> {
        Ok(match (new, tx.source()) {
            (Some(new), Some(org)) => party_move(previous, new, org),
            _ => false,
        })
    }
}

/// Whether a Task is a carer's assessment.
pub fn is_assessment(task: &Value) -> bool {
    task["resourceType"] == "Task"
        && (task["meta"]["profile"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| {
                p.as_str()
                    .is_some_and(|p| p.ends_with("/StructureDefinition/CarerAssessment"))
            })
            || task["code"]["coding"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["system"] == "https://fhir.carer-fhir.uk/CodeSystem/assessment-type"))
}

/// Whether `task` is a move of the referral `previous` that `org` may
/// make although it is not the Task's source: a change of status by a
/// party to the referral (the owner; the requester to cancel) that leaves
/// the parties, the person and the focus as they were. Everything else
/// in a Task is its source's to change (the write pipeline's rule W1).
pub fn party_move(previous: &Value, task: &Value, org: &str) -> bool {
    if !is_assessment(previous) || previous["status"] == task["status"] {
        return false;
    }
    let owner = super::ods_of(&previous["owner"]);
    let requester = super::ods_of(&previous["requester"]);
    let party = match task["status"].as_str() {
        Some("cancelled") => owner == Some(org) || requester == Some(org),
        _ => owner == Some(org),
    };
    party && rest_unchanged(previous, task)
}

/// What a party's move may change; everything else is the source's.
const MOVE_ELEMENTS: [&str; 6] = [
    "status",
    "statusReason",
    "businessStatus",
    "output",
    "executionPeriod",
    "lastModified",
];

/// Whether `task` equals `previous` but for [`MOVE_ELEMENTS`] and the
/// version the server stamps (`meta.versionId`, `meta.lastUpdated`).
fn rest_unchanged(previous: &Value, task: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            for k in MOVE_ELEMENTS {
                o.remove(k);
            }
            if let Some(meta) = o.get_mut("meta").and_then(Value::as_object_mut) {
                meta.remove("versionId");
                meta.remove("lastUpdated");
                if meta.is_empty() {
                    o.remove("meta");
                }
            }
        }
        v
    };
    strip(previous) == strip(task)
}

/// The moves of the R4 Task state machine.
pub fn allowed(from: &str, to: &str) -> bool {
    from == to
        || to == "entered-in-error"
        || matches!(
            (from, to),
            ("draft", "requested" | "cancelled")
                | (
                    "requested",
                    "received" | "accepted" | "rejected" | "cancelled" | "ready"
                )
                | ("received", "accepted" | "rejected" | "cancelled")
                | (
                    "accepted",
                    "ready" | "in-progress" | "on-hold" | "cancelled" | "failed"
                )
                | ("ready", "in-progress" | "on-hold" | "cancelled" | "failed")
                | (
                    "in-progress",
                    "on-hold" | "completed" | "failed" | "cancelled"
                )
                | ("on-hold", "in-progress" | "ready" | "cancelled" | "failed")
        )
}

fn unprocessable(message: String) -> Failure {
    Failure::new(FailureKind::Unprocessable, "business-rule", message).at(Some("Task.status"))
}

fn forbidden(message: String) -> Failure {
    Failure::new(FailureKind::Forbidden, "forbidden", message)
}

/// Checks a new assessment Task written by `caller_org` (None: access
/// control off, or an admin client recording a referral on another
/// organisation's behalf).
///
/// # Errors
/// 403 when a referral names another organisation as its requester.
pub fn check_create(task: &Value, caller_org: Option<&str>) -> Result<(), Failure> {
    // A referral is made by its requester; an assessment recorded already
    // under way or done (a council's own) by one of its parties. None is
    // recorded in the name of organisations that are not the writer.
    if !is_assessment(task) {
        return Ok(());
    }
    if let Some(org) = caller_org {
        let requester = super::ods_of(&task["requester"]);
        let owner = super::ods_of(&task["owner"]);
        let referral = matches!(task["status"].as_str(), Some("requested" | "draft"));
        let ok = requester == Some(org) || (!referral && owner == Some(org));
        if !ok {
            return Err(forbidden(format!(
                "a referral's requester must be the organisation making it ({org}), by ODS code; an assessment recorded by a council names it as owner"
            )));
        }
    }
    Ok(())
}

/// Checks a change to an assessment Task by `caller_org`.
///
/// # Errors
/// 422 for a move the state machine does not have (or a rejection
/// without a reason, a completion without an output); 403 for a move the
/// caller's organisation may not make.
pub fn check_update(
    previous: &Value,
    task: &Value,
    caller_org: Option<&str>,
) -> Result<(), Failure> {
    if !is_assessment(previous) && !is_assessment(task) {
        return Ok(());
    }
    let from = previous["status"].as_str().unwrap_or("");
    let to = task["status"].as_str().unwrap_or("");
    if !allowed(from, to) {
        return Err(unprocessable(format!(
            "an assessment Task cannot move from {from} to {to} (FHIR Task state machine)"
        )));
    }
    if to == "rejected" && from != to && !task["statusReason"].is_object() {
        return Err(unprocessable(
            "a rejected referral needs a statusReason".into(),
        ));
    }
    if to == "completed" && from != to && task["output"].as_array().is_none_or(|o| o.is_empty()) {
        return Err(unprocessable(
            "a completed assessment needs its outputs (the determination, the support plan)".into(),
        ));
    }
    // An edit that does not move the Task is a write like any other (scopes
    // and consent govern it); moves are for the parties to the referral.
    let Some(org) = caller_org.filter(|_| from != to) else {
        return Ok(());
    };
    let owner = super::ods_of(&previous["owner"]);
    let requester = super::ods_of(&previous["requester"]);
    let may = match to {
        "cancelled" => Some(org) == requester || Some(org) == owner,
        _ => Some(org) == owner,
    };
    if !may {
        return Err(forbidden(format!(
            "{org} is neither the owner nor the requester this move needs ({from} to {to})"
        )));
    }
    let handed_over =
        super::ods_of(&task["owner"]) != owner || super::ods_of(&task["requester"]) != requester;
    if handed_over && Some(org) != requester {
        return Err(forbidden(
            "only the requester may hand a referral to another owner".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task(status: &str) -> Value {
        json!({"resourceType": "Task", "status": status, "intent": "order",
            "meta": {"profile": ["https://fhir.carer-fhir.uk/StructureDefinition/CarerAssessment"]},
            "requester": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A81001"}},
            "owner": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "616"}}})
    }

    #[test]
    fn the_council_moves_the_referral_and_the_gp_may_cancel() {
        assert!(check_update(&task("requested"), &task("accepted"), Some("616")).is_ok());
        let e = check_update(&task("requested"), &task("accepted"), Some("A81001")).unwrap_err();
        assert_eq!(e.kind, FailureKind::Forbidden);
        assert!(check_update(&task("requested"), &task("cancelled"), Some("A81001")).is_ok());
        let e = check_update(&task("requested"), &task("accepted"), Some("B82002")).unwrap_err();
        assert_eq!(e.kind, FailureKind::Forbidden);
    }

    #[test]
    fn a_party_moves_the_status_and_nothing_else() {
        let mut before = task("requested");
        before["meta"]["versionId"] = json!("1");
        let mut moved = task("accepted");
        moved["meta"]["versionId"] = json!("2");
        assert!(party_move(&before, &moved, "616"), "the owner accepts");
        assert!(
            !party_move(&before, &moved, "A81001"),
            "the requester may not accept"
        );
        assert!(
            party_move(&before, &task("cancelled"), "A81001"),
            "but may cancel"
        );
        let mut rewritten = task("accepted");
        rewritten["description"] = json!("rewritten by the owner");
        assert!(
            !party_move(&before, &rewritten, "616"),
            "a move rewrites nothing else"
        );
        assert!(
            !party_move(&before, &task("requested"), "616"),
            "an edit is no move"
        );
    }

    #[test]
    fn a_referral_in_any_status_names_its_maker() {
        let e = check_create(&task("accepted"), Some("B82002")).unwrap_err();
        assert_eq!(e.kind, FailureKind::Forbidden, "no party: refused");
        assert!(check_create(&task("accepted"), Some("A81001")).is_ok());
        assert!(check_create(&task("accepted"), Some("616")).is_ok());
    }

    #[test]
    fn moves_outside_the_state_machine_are_refused() {
        let e = check_update(&task("requested"), &task("completed"), Some("616")).unwrap_err();
        assert_eq!(e.kind, FailureKind::Unprocessable);
        let e = check_update(&task("completed"), &task("in-progress"), None).unwrap_err();
        assert_eq!(e.kind, FailureKind::Unprocessable, "completed is final");
        let e = check_update(&task("requested"), &task("rejected"), Some("616")).unwrap_err();
        assert!(e.message().contains("statusReason"));
        let mut done = task("completed");
        assert!(
            check_update(&task("in-progress"), &done, Some("616")).is_err(),
            "no outputs"
        );
        done["output"] = json!([{"type": {"text": "determination"}, "valueReference": {"reference": "Observation/e"}}]);
        assert!(check_update(&task("in-progress"), &done, Some("616")).is_ok());
    }

    #[test]
    fn a_referral_is_made_by_its_requester() {
        assert!(check_create(&task("requested"), Some("A81001")).is_ok());
        assert!(check_create(&task("requested"), Some("616")).is_err());
        assert!(
            check_create(&task("completed"), Some("616")).is_ok(),
            "a council records its own assessment"
        );
    }
}
