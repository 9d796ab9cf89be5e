//! What a CafConsent allows: its provisions as rows the store can match
//! ([Consent](https://hl7.org/fhir/R4/consent.html), [`Grant`]).
//!
//! Only an `active` Consent of the guide's `caf-sharing` category counts.
//! Its root provision permits or denies; each nested provision is an
//! exception of its own type, within what it does not restate of its
//! parent (actors, purposes, classes, period). An actor is an organisation
//! by ODS code (`provision.actor.reference.identifier`); a purpose a v3
//! ActReason code; a class a resource type. What a provision leaves out
//! applies to all. Refusals win over permissions where both match
//! (`store::Visibility`).
//!
//! **Fails closed.** What this interpreter cannot honour it refuses at
//! write ([`check`], 422 naming the element) rather than granting on it:
//! `provision.data` (specific resources), `dataPeriod`, `action`,
//! `securityLabel`, `code`, a `class` outside the resource-types system, a
//! `purpose` that is not a v3 ActReason code,
//! a `period` that is not a date, an actor that is neither an
//! organisation nor the person's own side (a practitioner, a care team: no
//! one can tell which organisation's access it would change). A person as
//! actor (Patient, RelatedPerson) grants or refuses no organisation
//! anything; in a refusal, an organisation named
//! by a literal reference (`Organization/x`) is refused by its ODS code,
//! and one whose ODS code cannot be found makes the refusal apply to every
//! organisation.

use std::collections::HashMap;

use serde_json::Value;

use crate::interaction::hooks::{Write, WriteHook};
use crate::interaction::pipeline::Tx;
use crate::interaction::{Failure, FailureKind};
use crate::search::date_range;
use crate::store::Grant;

const CAF_SHARING: (&str, &str) = (
    "https://fhir.carer-fhir.uk/CodeSystem/caf-consent-category",
    "caf-sharing",
);
const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const EARLIEST: &str = "0001-01-01T00:00:00.000Z";
const RESOURCE_TYPES: &str = "http://hl7.org/fhir/resource-types";
const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

/// The elements of a provision this interpreter does not honour: a
/// provision using one would grant more than it says.
const UNINTERPRETED: [&str; 5] = ["data", "dataPeriod", "action", "securityLabel", "code"];

/// Who may record and change consent (ARCHITECTURE.md, "who may record
/// consent"): the organisation that holds the person's record, the
/// source of the Patient a Consent names. A write hook of the pipeline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recorder;

/// Whether the writer holds the record of the person a Consent names.
async fn holds_record(tx: &mut Tx, consent: &Value) -> Result<Option<bool>, Failure> {
    let Some(patient) = person_of(consent) else {
        return Ok(None);
    };
    Ok(Some(match tx.current("Patient", &patient).await? {
        Some(p) => p.content.is_some() && tx.is_source(&p),
        None => false,
    }))
}

#[async_trait::async_trait]
impl WriteHook for Recorder {
    /// Rule W2: a Consent about a person is written only by the
    /// organisation that holds the person's record; the answer is the same
    /// whether the Patient exists, is hidden or is missing.
    async fn before_write(&self, tx: &mut Tx, write: &mut Write<'_>) -> Result<(), Failure> {
        if !tx.bound() || write.resource_type != "Consent" {
            return Ok(());
        }
        if holds_record(tx, write.resource).await? == Some(false) {
            return Err(Failure::new(
                FailureKind::Forbidden,
                "forbidden",
                "a consent is recorded by the organisation that holds the person's record (the source of the Patient it names), or by the person",
            ));
        }
        Ok(())
    }

    /// The holder of the person's record may change or revoke any consent
    /// about them (and move it only to a person whose record it holds).
    async fn permits_non_source(
        &self,
        tx: &mut Tx,
        previous: &Value,
        new: Option<&Value>,
    ) -> Result<bool, Failure> {
        if previous["resourceType"] != "Consent" {
            return Ok(false);
        }
        if holds_record(tx, previous).await? != Some(true) {
            return Ok(false);
        }
        Ok(match new {
            Some(n) => holds_record(tx, n).await? != Some(false),
            None => true,
        })
    }
}

/// Whether a Consent is a CafConsent (category `caf-sharing`).
pub fn is_caf(resource: &Value) -> bool {
    resource["resourceType"] == "Consent"
        && resource["category"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| {
                c["coding"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["system"] == CAF_SHARING.0 && k["code"] == CAF_SHARING.1)
            })
}

/// The Patient id a Consent is about (`Consent.patient`).
pub fn person_of(consent: &Value) -> Option<String> {
    consent["patient"]["reference"]
        .as_str()
        .and_then(patient_id)
}

/// Refuses a CafConsent with a provision this interpreter cannot honour.
///
/// # Errors
/// 422 naming the element (`Consent.provision.provision[0].data`, …).
pub fn check(resource: &Value) -> Result<(), Failure> {
    if !is_caf(resource) {
        return Ok(());
    }
    check_provision(&resource["provision"], "Consent.provision", 0)
}

fn refuse(path: &str, why: &str) -> Failure {
    Failure::new(
        FailureKind::Unprocessable,
        "not-supported",
        format!("{path}: {why}; this server cannot honour it, and a consent it cannot honour in full is not recorded"),
    )
    .at(Some(path))
}

fn check_provision(p: &Value, path: &str, depth: usize) -> Result<(), Failure> {
    if !p.is_object() {
        return Ok(());
    }
    if depth > 16 {
        return Err(refuse(
            path,
            "provisions nested this deep are not interpreted",
        ));
    }
    for e in UNINTERPRETED {
        if !p[e].is_null() {
            return Err(refuse(
                &format!("{path}.{e}"),
                "this element limits a provision",
            ));
        }
    }
    for (n, a) in p["actor"].as_array().into_iter().flatten().enumerate() {
        if !actor_understood(&a["reference"]) {
            return Err(refuse(
                &format!("{path}.actor[{n}]"),
                "an actor other than an organisation (by ODS code or a literal Organization reference) or the person's own side (Patient, RelatedPerson)",
            ));
        }
    }
    for (n, c) in p["purpose"].as_array().into_iter().flatten().enumerate() {
        if c["system"] != ACT_REASON || !c["code"].is_string() {
            return Err(refuse(
                &format!("{path}.purpose[{n}]"),
                "a purpose of use other than a code of v3 ActReason (http://terminology.hl7.org/CodeSystem/v3-ActReason)",
            ));
        }
    }
    for (n, c) in p["class"].as_array().into_iter().flatten().enumerate() {
        if c["system"] != RESOURCE_TYPES || !c["code"].is_string() {
            return Err(refuse(
                &format!("{path}.class[{n}]"),
                "a class other than a resource type (http://hl7.org/fhir/resource-types)",
            ));
        }
    }
    for end in ["start", "end"] {
        if let Some(v) = p["period"].get(end) {
            if v.as_str().and_then(date_range).is_none() {
                return Err(refuse(&format!("{path}.period.{end}"), "not a date"));
            }
        }
    }
    for (n, nested) in p["provision"].as_array().into_iter().flatten().enumerate() {
        check_provision(nested, &format!("{path}.provision[{n}]"), depth + 1)?;
    }
    Ok(())
}

/// Whether this interpreter understands an actor: an organisation by ODS
/// identifier or by a literal Organization reference (granted or refused
/// as that organisation), or a person (the Patient, a RelatedPerson: the
/// person's own side, which grants or refuses no organisation anything).
/// A practitioner, a care team, a device, a group: which organisation's
/// access they would change cannot be told, so they are refused.
fn actor_understood(reference: &Value) -> bool {
    let i = &reference["identifier"];
    if i["system"] == ODS && i["value"].is_string() {
        return true;
    }
    matches!(
        reference["reference"]
            .as_str()
            .and_then(super::compartment::type_and_id)
            .map(|(t, _)| t),
        Some(t) if matches!(t.as_str(), "Organization" | "Patient" | "RelatedPerson")
    )
}

/// The ODS codes of the Organizations a Consent's provisions name by
/// literal reference (see [`organisation_references`]), read in `tx`:
/// what [`grants_of`] needs. A record counts only when it was written by
/// the organisation whose ODS code it declares.
///
/// # Errors
/// A database failure.
pub async fn organisations_named(
    tx: &mut Tx,
    resource: &Value,
) -> Result<HashMap<String, String>, Failure> {
    let mut out = HashMap::new();
    for id in organisation_references(resource) {
        let Some(stored) = tx.current("Organization", &id).await? else {
            continue;
        };
        let code = stored.resource().and_then(|o| {
            o["identifier"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|i| i["system"] == ODS)
                .and_then(|i| i["value"].as_str().map(str::to_string))
        });
        // An Organization record says who it is only when that
        // organisation wrote it: anyone may write a record claiming any
        // ODS code. Otherwise it is unknown (a refusal of it refuses all,
        // a permission grants no one).
        if let Some(code) = code.filter(|c| stored.source.as_deref() == Some(c.as_str())) {
            out.insert(id, code);
        }
    }
    Ok(out)
}

/// The ids of the Organizations a Consent's provisions name by literal
/// reference, whose ODS codes [`grants_of`] needs.
pub fn organisation_references(resource: &Value) -> Vec<String> {
    fn walk(p: &Value, out: &mut Vec<String>, depth: usize) {
        if !p.is_object() || depth > 16 {
            return;
        }
        for a in p["actor"].as_array().into_iter().flatten() {
            if let Some(("Organization", id)) = a["reference"]["reference"]
                .as_str()
                .and_then(|r| r.rsplit_once('/'))
                .map(|(t, id)| (t.rsplit('/').next().unwrap_or(t), id))
            {
                if !out.iter().any(|o| o == id) {
                    out.push(id.to_string());
                }
            }
        }
        for n in p["provision"].as_array().into_iter().flatten() {
            walk(n, out, depth + 1);
        }
    }
    let mut out = Vec::new();
    if is_caf(resource) {
        walk(&resource["provision"], &mut out, 0);
    }
    out
}

/// The Patient id a reference names (`Patient/x`, or an absolute URL
/// ending so).
fn patient_id(reference: &str) -> Option<String> {
    let r = reference.split("/_history/").next().unwrap_or(reference);
    let mut parts = r.rsplit('/');
    let id = parts.next()?;
    (parts.next()? == "Patient" && !id.is_empty()).then(|| id.to_string())
}

#[derive(Clone)]
struct Scope {
    actors: Vec<Option<String>>,
    purposes: Vec<Option<String>>,
    classes: Vec<Option<String>>,
    start: String,
    end: Option<String>,
}

/// The grants of a resource, when it is a CafConsent that is in force;
/// `ods` maps the ids of Organizations its provisions name by literal
/// reference to their ODS codes (see [`organisation_references`]).
pub fn grants_of(resource: &Value, ods: &HashMap<String, String>) -> Vec<Grant> {
    if resource["status"] != "active" || !is_caf(resource) || check(resource).is_err() {
        return Vec::new();
    }
    let Some(patient) = person_of(resource) else {
        return Vec::new();
    };
    let root = Scope {
        actors: vec![None],
        purposes: vec![None],
        classes: vec![None],
        start: EARLIEST.to_string(),
        end: None,
    };
    let mut out = Vec::new();
    walk(&resource["provision"], &root, None, &patient, ods, &mut out);
    out
}

fn codes(list: &Value, system: Option<&str>) -> Vec<Option<String>> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|c| system.is_none_or(|s| c["system"].as_str().is_none_or(|cs| cs == s)))
        .filter_map(|c| c["code"].as_str().map(|s| Some(s.to_string())))
        .collect()
}

fn walk(
    p: &Value,
    parent: &Scope,
    parent_type: Option<bool>,
    patient: &str,
    ods_of: &HashMap<String, String>,
    out: &mut Vec<Grant>,
) {
    if !p.is_object() {
        return;
    }
    let permit = match p["type"].as_str() {
        Some("permit") => true,
        Some("deny") => false,
        // A nested provision without a type is the opposite of its parent
        // (an exception); a root without one grants nothing.
        _ => match parent_type {
            Some(t) => !t,
            None => return,
        },
    };
    let mut scope = parent.clone();
    let mut actors: Vec<Option<String>> = Vec::new();
    for a in p["actor"].as_array().into_iter().flatten() {
        let i = &a["reference"]["identifier"];
        if i["system"] == ODS {
            if let Some(code) = i["value"].as_str() {
                actors.push(Some(code.to_string()));
            }
            continue;
        }
        let org = a["reference"]["reference"]
            .as_str()
            .and_then(super::compartment::type_and_id)
            .filter(|(t, _)| t == "Organization");
        if let Some((_, id)) = org {
            match ods_of.get(&id) {
                Some(code) => actors.push(Some(code.clone())),
                // An organisation this server cannot name: a refusal of it
                // refuses everyone (never less than it says), a
                // permission grants no one.
                None if !permit => actors.push(None),
                None => {}
            }
        }
        // Any other actor (a person) is no organisation: it grants or
        // refuses no organisation anything.
    }
    if p["actor"].as_array().is_some_and(|a| !a.is_empty()) {
        scope.actors = actors;
    }
    let purposes = codes(&p["purpose"], None);
    if !purposes.is_empty() {
        scope.purposes = purposes;
    }
    let classes = codes(&p["class"], Some(RESOURCE_TYPES));
    if !classes.is_empty() {
        scope.classes = classes;
    }
    if let Some(s) = p["period"]["start"].as_str().and_then(date_range) {
        scope.start = s.0;
    }
    if let Some(e) = p["period"]["end"].as_str().and_then(date_range) {
        scope.end = Some(e.1);
    }
    for actor in &scope.actors {
        for purpose in &scope.purposes {
            for class in &scope.classes {
                out.push(Grant {
                    patient: patient.to_string(),
                    permit,
                    actor: actor.clone(),
                    purpose: purpose.clone(),
                    class: class.clone(),
                    start: scope.start.clone(),
                    end: scope.end.clone(),
                });
            }
        }
    }
    for nested in p["provision"].as_array().into_iter().flatten() {
        walk(nested, &scope, Some(permit), patient, ods_of, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn consent(provision: Value) -> Value {
        json!({"resourceType": "Consent", "status": "active", "patient": {"reference": "Patient/p1"},
            "category": [{"coding": [{"system": CAF_SHARING.0, "code": CAF_SHARING.1}]}],
            "provision": provision})
    }

    fn grants_of_(c: &Value) -> Vec<Grant> {
        grants_of(c, &HashMap::new())
    }

    #[test]
    fn what_cannot_be_honoured_is_refused_at_write() {
        for (provision, element) in [
            (
                json!({"type": "permit", "data": [{"meaning": "instance", "reference": {"reference": "Observation/o"}}]}),
                "Consent.provision.data",
            ),
            (
                json!({"type": "permit", "dataPeriod": {"start": "2020-01-01"}}),
                "Consent.provision.dataPeriod",
            ),
            (
                json!({"type": "permit", "action": [{"coding": [{"code": "collect"}]}]}),
                "Consent.provision.action",
            ),
            (
                json!({"type": "permit", "provision": [{"type": "deny", "class": [{"system": "http://example.org", "code": "x"}]}]}),
                "Consent.provision.provision[0].class[0]",
            ),
        ] {
            let e = check(&consent(provision)).unwrap_err();
            assert_eq!(e.kind, FailureKind::Unprocessable);
            assert!(format!("{e:?}").contains(element), "{element}: {e:?}");
        }
        assert!(check(&consent(json!({"type": "permit", "actor": [ods("616")]}))).is_ok());
    }

    #[test]
    fn a_refusal_by_literal_reference_refuses_that_organisation_or_everyone() {
        let c = consent(
            json!({"type": "permit", "actor": [ods("616"), ods("A81001")],
            "provision": [{"type": "deny", "actor": [{"reference": {"reference": "Organization/council"}}]}]}),
        );
        assert_eq!(organisation_references(&c), vec!["council".to_string()]);
        let known = HashMap::from([("council".to_string(), "616".to_string())]);
        let g = grants_of(&c, &known);
        assert!(g
            .iter()
            .any(|r| !r.permit && r.actor.as_deref() == Some("616")));
        let g = grants_of(&c, &HashMap::new());
        assert!(
            g.iter().any(|r| !r.permit && r.actor.is_none()),
            "unknown: refuses all"
        );
    }

    fn ods(code: &str) -> Value {
        json!({"reference": {"identifier": {"system": ODS, "value": code}}})
    }

    #[test]
    fn a_permit_names_organisations_purposes_classes_and_a_period() {
        let g = grants_of_(&consent(
            json!({"type": "permit", "actor": [ods("A81001"), ods("616")],
            "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "CAREMGT"}],
            "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "CarePlan"}],
            "period": {"start": "2025-10-03", "end": "2027-10-03"}}),
        ));
        assert_eq!(g.len(), 2);
        assert!(g
            .iter()
            .all(|r| r.permit && r.patient == "p1" && r.class.as_deref() == Some("CarePlan")));
        assert_eq!(g[0].actor.as_deref(), Some("A81001"));
        assert_eq!(g[0].start, "2025-10-03T00:00:00.000Z");
        assert_eq!(g[0].end.as_deref(), Some("2027-10-03T23:59:59.999Z"));
    }

    #[test]
    fn a_nested_provision_is_an_exception_within_its_parent() {
        let g = grants_of_(&consent(json!({"type": "permit", "actor": [ods("616")],
            "provision": [{"type": "deny", "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "Observation"}]}]})));
        assert_eq!(g.len(), 2);
        assert!(g[0].permit && g[0].class.is_none());
        assert!(
            !g[1].permit
                && g[1].actor.as_deref() == Some("616")
                && g[1].class.as_deref() == Some("Observation")
        );
    }

    #[test]
    fn only_active_caf_consents_grant() {
        let mut c = consent(json!({"type": "permit", "actor": [ods("616")]}));
        c["status"] = json!("inactive");
        assert!(grants_of_(&c).is_empty());
        let mut c = consent(json!({"type": "permit", "actor": [ods("616")]}));
        c["category"] = json!([{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}]);
        assert!(grants_of_(&c).is_empty(), "not a CAF consent");
        let c = consent(
            json!({"type": "permit", "actor": [{"reference": {"reference": "Practitioner/x"}}]}),
        );
        assert!(
            grants_of_(&c).is_empty(),
            "an actor that is not an organisation grants no organisation"
        );
    }
}
