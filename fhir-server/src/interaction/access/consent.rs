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

use serde_json::Value;

use crate::search::date_range;
use crate::store::Grant;

const CAF_SHARING: (&str, &str) = (
    "https://fhir.carer-fhir.uk/CodeSystem/caf-consent-category",
    "caf-sharing",
);
const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const EARLIEST: &str = "0001-01-01T00:00:00.000Z";

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

/// The grants of a resource, when it is a CafConsent that is in force.
pub fn grants_of(resource: &Value) -> Vec<Grant> {
    if resource["resourceType"] != "Consent" || resource["status"] != "active" {
        return Vec::new();
    }
    let caf = resource["category"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| {
            c["coding"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["system"] == CAF_SHARING.0 && k["code"] == CAF_SHARING.1)
        });
    if !caf {
        return Vec::new();
    }
    let Some(patient) = resource["patient"]["reference"]
        .as_str()
        .and_then(patient_id)
    else {
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
    walk(&resource["provision"], &root, None, &patient, &mut out);
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

fn walk(p: &Value, parent: &Scope, parent_type: Option<bool>, patient: &str, out: &mut Vec<Grant>) {
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
    let actors: Vec<Option<String>> = p["actor"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let i = &a["reference"]["identifier"];
            (i["system"] == ODS).then(|| i["value"].as_str().map(str::to_string))?
        })
        .map(Some)
        .collect();
    if p["actor"].as_array().is_some_and(|a| !a.is_empty()) {
        // Actors that are not organisations by ODS code grant nothing to
        // an organisation.
        scope.actors = actors;
    }
    let purposes = codes(&p["purpose"], None);
    if !purposes.is_empty() {
        scope.purposes = purposes;
    }
    let classes = codes(&p["class"], Some("http://hl7.org/fhir/resource-types"));
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
        walk(nested, &scope, Some(permit), patient, out);
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

    fn ods(code: &str) -> Value {
        json!({"reference": {"identifier": {"system": ODS, "value": code}}})
    }

    #[test]
    fn a_permit_names_organisations_purposes_classes_and_a_period() {
        let g = grants_of(&consent(
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
        let g = grants_of(&consent(json!({"type": "permit", "actor": [ods("616")],
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
        assert!(grants_of(&c).is_empty());
        let mut c = consent(json!({"type": "permit", "actor": [ods("616")]}));
        c["category"] = json!([{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}]);
        assert!(grants_of(&c).is_empty(), "not a CAF consent");
        let c = consent(
            json!({"type": "permit", "actor": [{"reference": {"reference": "Practitioner/x"}}]}),
        );
        assert!(
            grants_of(&c).is_empty(),
            "an actor that is not an organisation grants no organisation"
        );
    }
}
