//! What FHIRPath needs to know of the FHIR model: each type's elements and
//! their types, and each type's base, read from base StructureDefinitions.
//!
//! Backbone elements are types named by their path (`Observation.component`);
//! `contentReference` elements take the referenced path's type
//! (`Questionnaire.item.item` is a `Questionnaire.item`).

use std::collections::HashMap;

use serde_json::Value;

use crate::package::Registry;

/// One element of a type.
#[derive(Debug, Clone)]
pub struct ElementInfo {
    /// The element name without `[x]`.
    pub name: String,
    /// Whether this is a choice element (`value[x]`).
    pub choice: bool,
    /// Its possible types (one unless a choice).
    pub types: Vec<String>,
    /// Whether it repeats.
    pub many: bool,
}

/// A type: resource, complex type, primitive or backbone element.
#[derive(Debug, Clone, Default)]
pub struct TypeInfo {
    /// The type this one specialises (`DomainResource` for `Patient`).
    pub base: Option<String>,
    /// Whether this is a primitive type (`string`, `dateTime`).
    pub primitive: bool,
    /// Whether this is a resource type.
    pub resource: bool,
    elements: HashMap<String, ElementInfo>,
}

impl TypeInfo {
    /// The element with this name (without `[x]`).
    pub fn element(&self, name: &str) -> Option<&ElementInfo> {
        self.elements.get(name)
    }

    /// Every element.
    pub fn elements(&self) -> impl Iterator<Item = &ElementInfo> {
        self.elements.values()
    }
}

/// Type knowledge for FHIRPath, keyed by type name.
///
/// # Examples
/// ```no_run
/// use fhir_core::fhirpath::ModelInfo;
/// use fhir_core::package::{cache, Registry};
/// let mut reg = Registry::new();
/// reg.load(&cache::package_dir(&cache::cache_dir(), "hl7.fhir.r4.core", "4.0.1")).unwrap();
/// let model = ModelInfo::from_registry(&reg);
/// assert!(model.is_a("Patient", "DomainResource"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ModelInfo {
    types: HashMap<String, TypeInfo>,
}

impl ModelInfo {
    /// Reads every base StructureDefinition (specialisations and the roots
    /// Element and Resource) in the registry.
    pub fn from_registry(registry: &Registry) -> ModelInfo {
        let mut model = ModelInfo::default();
        for sd in registry.of_type("StructureDefinition") {
            let derivation = sd.get("derivation").and_then(Value::as_str);
            let kind = sd.get("kind").and_then(Value::as_str).unwrap_or("");
            let is_root = sd.get("baseDefinition").is_none();
            if kind == "logical" || !(derivation == Some("specialization") || is_root) {
                continue;
            }
            model.add_structure_definition(sd);
        }
        model
    }

    fn add_structure_definition(&mut self, sd: &Value) {
        let Some(type_name) = sd.get("type").and_then(Value::as_str) else {
            return;
        };
        let kind = sd.get("kind").and_then(Value::as_str).unwrap_or("");
        let base = sd
            .get("baseDefinition")
            .and_then(Value::as_str)
            .and_then(|b| b.rsplit('/').next())
            .map(str::to_string);
        let elements: Vec<&Value> = sd
            .pointer("/snapshot/element")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let paths: Vec<&str> = elements
            .iter()
            .filter_map(|e| e.get("path").and_then(Value::as_str))
            .collect();
        let has_children = |p: &str| {
            paths
                .iter()
                .any(|q| q.len() > p.len() && q.starts_with(p) && q.as_bytes()[p.len()] == b'.')
        };
        self.types
            .entry(type_name.to_string())
            .or_insert_with(|| TypeInfo {
                base,
                primitive: kind == "primitive-type",
                resource: kind == "resource",
                elements: HashMap::new(),
            });
        for e in elements {
            let Some(path) = e.get("path").and_then(Value::as_str) else {
                continue;
            };
            let Some((owner, last)) = path.rsplit_once('.') else {
                continue;
            };
            // Slices repeat their element's path; the first (unsliced)
            // definition is the one that counts.
            if e.get("sliceName").is_some() {
                continue;
            }
            let (name, choice) = match last.strip_suffix("[x]") {
                Some(n) => (n.to_string(), true),
                None => (last.to_string(), false),
            };
            let many = e
                .get("max")
                .and_then(Value::as_str)
                .is_some_and(|m| m != "1" && m != "0");
            let types: Vec<String> =
                if let Some(r) = e.get("contentReference").and_then(Value::as_str) {
                    vec![r.trim_start_matches('#').to_string()]
                } else if has_children(path) {
                    vec![path.to_string()]
                } else {
                    e.get("type")
                        .and_then(Value::as_array)
                        .map(|ts| {
                            ts.iter()
                                .filter_map(|t| t.get("code").and_then(Value::as_str))
                                .map(system_or_fhir)
                                .collect()
                        })
                        .unwrap_or_default()
                };
            if has_children(path) {
                let base = e
                    .pointer("/type/0/code")
                    .and_then(Value::as_str)
                    .unwrap_or("BackboneElement")
                    .to_string();
                self.types
                    .entry(path.to_string())
                    .or_insert_with(|| TypeInfo {
                        base: Some(base),
                        ..TypeInfo::default()
                    });
            }
            let owner_type = if owner.contains('.') {
                owner.to_string()
            } else {
                type_name.to_string()
            };
            self.types
                .entry(owner_type)
                .or_default()
                .elements
                .entry(name.clone())
                .or_insert(ElementInfo {
                    name,
                    choice,
                    types,
                    many,
                });
        }
    }

    /// A type by name (`Patient`, `HumanName`, `Observation.component`).
    pub fn get(&self, name: &str) -> Option<&TypeInfo> {
        self.types.get(name)
    }

    /// Whether `name` is a known type.
    pub fn has_type(&self, name: &str) -> bool {
        self.types.contains_key(name)
    }

    /// Whether `ty` is `ancestor` or specialises it.
    pub fn is_a(&self, ty: &str, ancestor: &str) -> bool {
        let mut current = Some(ty);
        let mut guard = 0;
        while let Some(t) = current {
            if t == ancestor {
                return true;
            }
            guard += 1;
            if guard > 32 {
                return false;
            }
            current = self.types.get(t).and_then(|i| i.base.as_deref());
        }
        false
    }

    /// The interned name of a type, so values can borrow it.
    pub fn type_name(&self, name: &str) -> Option<&str> {
        self.types.get_key_value(name).map(|(k, _)| k.as_str())
    }
}

/// The FHIRPath system type URL in an element's type code
/// (`http://hl7.org/fhirpath/System.String`) becomes `System.String`.
fn system_or_fhir(code: &str) -> String {
    code.strip_prefix("http://hl7.org/fhirpath/")
        .unwrap_or(code)
        .to_string()
}
