//! The one consent interpreter: what a CafConsent allows, as
//! [`SharingRule`]s ([Consent](https://hl7.org/fhir/R4/consent.html)).
//!
//! Only an `active` Consent of the guide's `caf-sharing` category counts.
//! Its root provision permits or denies; each nested provision is an
//! exception of its own type, within what it does not restate of its
//! parent (actors, purposes, classes, period). An actor is an organisation
//! by ODS code (`provision.actor.reference.identifier`), or by a literal
//! `Organization/x` reference whose ODS code the caller supplies; a
//! purpose a v3 ActReason code; a class a resource type. What a provision
//! leaves out applies to all. Refusals win over permissions where both
//! match (the server decides that).
//!
//! **Fails closed.** What this interpreter cannot honour, [`check`]
//! refuses (naming the element) rather than granting on it:
//! `provision.data` (specific resources), `dataPeriod`, `action`,
//! `securityLabel`, `code`, a `class` outside the resource-types system, a
//! `purpose` that is not a v3 ActReason code, a `period` that is not a
//! date, an actor that is neither an organisation nor the person's own
//! side (a practitioner, a care team: which organisation's access it would
//! change cannot be told). A person as actor (Patient, RelatedPerson)
//! grants or refuses no organisation anything; in a refusal, an
//! organisation named by a literal reference whose ODS code is not known
//! makes the refusal apply to every organisation. A Consent that [`check`]
//! refuses has no rules at all.
//!
//! ```
//! use std::collections::HashMap;
//! use serde_json::json;
//! use fhir_core::caf::sharing;
//! let c = json!({"resourceType": "Consent", "status": "active",
//!     "category": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/caf-consent-category", "code": "caf-sharing"}]}],
//!     "patient": {"reference": "Patient/p1"},
//!     "provision": {"type": "permit", "actor": [{"reference": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "616"}}}]}});
//! let rules = sharing::rules(&c, &HashMap::new());
//! assert_eq!(rules.len(), 1);
//! assert!(rules[0].permit && rules[0].actor.as_deref() == Some("616"));
//! ```

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Location};

const CAF_SHARING: (&str, &str) = (
    "https://fhir.carer-fhir.uk/CodeSystem/caf-consent-category",
    "caf-sharing",
);
/// The ODS organisation code system.
pub const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const EARLIEST: &str = "0001-01-01T00:00:00.000Z";
const RESOURCE_TYPES: &str = "http://hl7.org/fhir/resource-types";
const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

/// The elements of a provision this interpreter does not honour: a
/// provision using one would grant more than it says.
const UNINTERPRETED: [&str; 5] = ["data", "dataPeriod", "action", "securityLabel", "code"];

/// One rule a consent makes about a person's data: who (an organisation,
/// or anyone), for what purpose of use (or any), which resource type (or
/// any), and when; a refusal when not `permit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingRule {
    /// The Patient id whose data it concerns.
    pub patient: String,
    /// Permit (true) or deny.
    pub permit: bool,
    /// The organisation's ODS code (None: every organisation).
    pub actor: Option<String>,
    /// The purpose of use (v3 ActReason; None: every purpose).
    pub purpose: Option<String>,
    /// The resource type (None: every type).
    pub class: Option<String>,
    /// From this instant (UTC, `fhir_core::instant` form).
    pub start: String,
    /// Until this instant (None: open).
    pub end: Option<String>,
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
/// ```
/// use serde_json::json;
/// let c = json!({"resourceType": "Consent", "status": "active",
///     "category": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/caf-consent-category", "code": "caf-sharing"}]}],
///     "patient": {"reference": "Patient/p1"},
///     "provision": {"type": "permit", "dataPeriod": {"start": "2020-01-01"}}});
/// let e = fhir_core::caf::sharing::check(&c).unwrap_err();
/// assert_eq!(e.location.path.as_deref(), Some("Consent.provision.dataPeriod"));
/// ```
///
/// # Errors
/// 422 naming the element (`Consent.provision.provision[0].data`, …).
pub fn check(resource: &Value) -> Result<(), Error> {
    if !is_caf(resource) {
        return Ok(());
    }
    check_provision(&resource["provision"], "Consent.provision", 0)
}

fn refuse(path: &str, why: &str) -> Error {
    let mut e = Error::new(
        ErrorKind::Invalid,
        format!("{path}: {why}; it cannot be honoured, and a consent that cannot be honoured in full grants nothing"),
    );
    e.location = Location::at_path(path);
    e
}

fn check_provision(p: &Value, path: &str, depth: usize) -> Result<(), Error> {
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
            if v.as_str().and_then(crate::instant::range).is_none() {
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
            .and_then(crate::reference::target)
            .map(|(t, _)| t),
        Some(t) if matches!(t.as_str(), "Organization" | "Patient" | "RelatedPerson")
    )
}

/// The ids of the Organizations a Consent's provisions name by literal
/// reference, whose ODS codes [`rules`] needs.
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
    crate::reference::target(reference)
        .filter(|(t, _)| t == "Patient")
        .map(|(_, id)| id)
}

#[derive(Clone)]
struct Scope {
    actors: Vec<Option<String>>,
    purposes: Vec<Option<String>>,
    classes: Vec<Option<String>>,
    start: String,
    end: Option<String>,
}

/// The sharing rules of a resource, when it is a CafConsent that is in force;
/// `ods` maps the ids of Organizations its provisions name by literal
/// reference to their ODS codes (see [`organisation_references`]).
pub fn rules(resource: &Value, ods: &HashMap<String, String>) -> Vec<SharingRule> {
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
    out: &mut Vec<SharingRule>,
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
            .and_then(crate::reference::target)
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
    if let Some(s) = p["period"]["start"]
        .as_str()
        .and_then(crate::instant::range)
    {
        scope.start = s.0;
    }
    if let Some(e) = p["period"]["end"].as_str().and_then(crate::instant::range) {
        scope.end = Some(e.1);
    }
    for actor in &scope.actors {
        for purpose in &scope.purposes {
            for class in &scope.classes {
                out.push(SharingRule {
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

    fn grants_of_(c: &Value) -> Vec<SharingRule> {
        rules(c, &HashMap::new())
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
            assert_eq!(e.kind, ErrorKind::Invalid);
            assert_eq!(e.location.path.as_deref(), Some(element), "{e:?}");
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
        let g = rules(&c, &known);
        assert!(g
            .iter()
            .any(|r| !r.permit && r.actor.as_deref() == Some("616")));
        let g = rules(&c, &HashMap::new());
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
