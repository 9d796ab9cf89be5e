//! Whose data a resource is: the Patient compartment
//! ([CompartmentDefinition-patient](https://hl7.org/fhir/R4/compartmentdefinition-patient.html))
//! as loaded, plus the carer guide's rule that a caring relationship is
//! also the carer's own data (`RelatedPerson?carer-patient`).

use std::collections::HashMap;

use fhir_core::package::Registry;
use serde_json::Value;

use crate::store::{IndexEntry, IndexValue};

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
