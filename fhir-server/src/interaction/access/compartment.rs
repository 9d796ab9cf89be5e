//! Whose data a resource is: the one ownership table of the access policy.
//!
//! - The Patient compartment
//!   ([CompartmentDefinition-patient](https://hl7.org/fhir/R4/compartmentdefinition-patient.html))
//!   as loaded, plus the carer guide's rule that a caring relationship is
//!   also the carer's own data (`RelatedPerson?carer-patient`).
//! - The guide's rules for the types R4 leaves out or owns too loosely
//!   ([`Compartments::owners_of`]): a Task is the data of the person it is
//!   `for` or whose record is its `focus`; a Bundle of every person it
//!   references or holds; a Binary of its `securityContext`'s owners; a
//!   Provenance of its targets' owners.
//! - Definitional types ([`DEFINITIONAL`]: conformance, terminology and
//!   knowledge resources) are nobody's data: readable by every
//!   organisation whose scopes allow it.
//! - Anything else (a Subscription, an Organization, a Task about no one)
//!   is owned by no person and so visible to its source alone: what no rule
//!   grants is denied (`store::Visibility`).

use std::collections::HashMap;

use fhir_core::package::Registry;
use serde_json::Value;

use crate::store::{IndexEntry, IndexValue};

/// The types whose resources are definitions rather than anyone's data
/// (the conformance, terminology and knowledge modules of R4): readable
/// by every organisation whose scopes allow the type.
pub const DEFINITIONAL: &[&str] = &[
    "ActivityDefinition",
    "CapabilityStatement",
    "ChargeItemDefinition",
    "CodeSystem",
    "CompartmentDefinition",
    "ConceptMap",
    "EffectEvidenceSynthesis",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "GraphDefinition",
    "ImplementationGuide",
    "Library",
    "Measure",
    "MessageDefinition",
    "NamingSystem",
    "ObservationDefinition",
    "OperationDefinition",
    "PlanDefinition",
    "Questionnaire",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "RiskEvidenceSynthesis",
    "SearchParameter",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "TerminologyCapabilities",
    "TestScript",
    "ValueSet",
];

/// Whether resources of `resource_type` are definitions, readable by all.
pub fn is_definitional(resource_type: &str) -> bool {
    DEFINITIONAL.contains(&resource_type)
}

/// Whose data a resource is: the Patients named directly, and the
/// resources whose owners it shares (a Provenance's targets, a Binary's
/// security context, a Task's focus), which the writer resolves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owners {
    /// Patient ids.
    pub patients: Vec<String>,
    /// `(type, id)` of the resources whose owners are this one's too.
    pub through: Vec<(String, String)>,
}

impl Owners {
    fn add_reference(&mut self, reference: &str) {
        match type_and_id(reference) {
            Some((t, id)) if t == "Patient" && !self.patients.contains(&id) => {
                self.patients.push(id);
            }
            Some((t, _)) if t == "Patient" => {}
            Some(key) if !self.through.contains(&key) => self.through.push(key),
            _ => {}
        }
    }
}

/// `(type, id)` of a literal reference ([`fhir_core::reference::target`]).
pub use fhir_core::reference::target as type_and_id;

/// Every `reference` string anywhere in `v`, and every Patient held as a
/// resource (a Bundle's entries, contained resources).
fn every_reference(v: &Value, owners: &mut Owners, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Value::Object(map) => {
            if map.get("resourceType").and_then(Value::as_str) == Some("Patient") {
                if let Some(id) = map.get("id").and_then(Value::as_str) {
                    owners.add_reference(&format!("Patient/{id}"));
                }
            }
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("reference", Value::String(r)) => owners.add_reference(r),
                    _ => every_reference(x, owners, depth + 1),
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|x| every_reference(x, owners, depth + 1)),
        _ => {}
    }
}

/// The compartment's links, by resource type: the reference parameters
/// that make a resource part of a Patient's compartment.
#[derive(Debug, Clone, Default)]
pub struct Compartments {
    params: HashMap<String, Vec<String>>,
}

impl Compartments {
    /// From the Patient CompartmentDefinition in `registry`, and the
    /// guide's `carer-patient` link.
    pub fn from_registry(registry: &Registry) -> Compartments {
        let mut params: HashMap<String, Vec<String>> = HashMap::new();
        for cd in registry.of_type("CompartmentDefinition") {
            if cd["code"] != "Patient" {
                continue;
            }
            for r in cd["resource"].as_array().into_iter().flatten() {
                let Some(t) = r["code"].as_str() else {
                    continue;
                };
                let list: Vec<String> = r["param"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
                if !list.is_empty() {
                    params.entry(t.to_string()).or_default().extend(list);
                }
            }
        }
        // A caring relationship is the carer's data as well as the cared-for
        // person's.
        params
            .entry("RelatedPerson".into())
            .or_default()
            .push("carer-patient".into());
        Compartments { params }
    }

    /// Whose data a resource is (of `resource_type`, id `id`, with these
    /// index entries): the Patient compartment's links, and the guide's
    /// rules for Task, Bundle, Binary and Provenance.
    pub fn owners_of(
        &self,
        resource_type: &str,
        id: &str,
        index: &[IndexEntry],
        resource: &Value,
    ) -> Owners {
        let mut owners = Owners {
            patients: self.patients_of(resource_type, id, index),
            through: Vec::new(),
        };
        let refs = |v: &Value| -> Vec<String> {
            match v {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|r| r["reference"].as_str().map(str::to_string))
                    .collect(),
                _ => v["reference"]
                    .as_str()
                    .map(str::to_string)
                    .into_iter()
                    .collect(),
            }
        };
        let linked: Vec<String> = match resource_type {
            "Task" => [&resource["for"], &resource["focus"]]
                .into_iter()
                .flat_map(refs)
                .collect(),
            "Binary" => refs(&resource["securityContext"]),
            "Provenance" => refs(&resource["target"]),
            "Bundle" => {
                every_reference(resource, &mut owners, 0);
                Vec::new()
            }
            _ => Vec::new(),
        };
        for r in &linked {
            owners.add_reference(r);
        }
        owners
            .through
            .retain(|(t, i)| !(t == resource_type && i == id));
        owners
    }

    /// Whether resources of `resource_type` belong to Patients' compartments.
    pub fn has(&self, resource_type: &str) -> bool {
        resource_type == "Patient" || self.params.contains_key(resource_type)
    }

    /// The ids of the Patients whose compartments a resource (of
    /// `resource_type`, id `id`, with these index entries) is in.
    pub fn patients_of(&self, resource_type: &str, id: &str, index: &[IndexEntry]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if resource_type == "Patient" && !id.is_empty() {
            out.push(id.to_string());
        }
        let Some(links) = self.params.get(resource_type) else {
            return out;
        };
        for e in index {
            if !links.contains(&e.param) {
                continue;
            }
            if let IndexValue::Reference { target_type, id } = &e.value {
                if target_type == "Patient" && !out.contains(id) {
                    out.push(id.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_name_a_type_and_id() {
        assert_eq!(
            type_and_id("Patient/p1"),
            Some(("Patient".into(), "p1".into()))
        );
        assert_eq!(
            type_and_id("https://x.example/fhir/Observation/o1/_history/2"),
            Some(("Observation".into(), "o1".into()))
        );
        assert_eq!(type_and_id("#contained"), None);
        assert_eq!(type_and_id("urn:uuid:1234"), None);
        assert_eq!(type_and_id("p1"), None);
    }

    #[test]
    fn the_guide_owns_what_r4_leaves_out() {
        let c = Compartments::default();
        let task = json!({"resourceType": "Task", "for": {"reference": "Patient/mary"},
            "focus": {"reference": "CarePlan/plan1"}});
        let o = c.owners_of("Task", "t1", &[], &task);
        assert_eq!(o.patients, vec!["mary".to_string()]);
        assert_eq!(o.through, vec![("CarePlan".into(), "plan1".into())]);
        let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Patient", "id": "arthur"}},
            {"resource": {"resourceType": "Observation", "subject": {"reference": "Patient/mary"}}}]});
        let mut o = c.owners_of("Bundle", "b1", &[], &bundle);
        o.patients.sort();
        assert_eq!(o.patients, vec!["arthur".to_string(), "mary".to_string()]);
        let binary = json!({"resourceType": "Binary", "securityContext": {"reference": "DocumentReference/d1"}});
        assert_eq!(
            c.owners_of("Binary", "x", &[], &binary).through,
            vec![("DocumentReference".into(), "d1".into())]
        );
        let sub = json!({"resourceType": "Subscription"});
        assert_eq!(
            c.owners_of("Subscription", "s", &[], &sub),
            Owners::default()
        );
        assert!(is_definitional("StructureDefinition") && !is_definitional("Task"));
    }
}
