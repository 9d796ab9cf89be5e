//! A StructureDefinition's snapshot, indexed for walking.

use std::collections::HashMap;

use serde_json::Value;

/// One profile (or base type) ready to validate against.
#[derive(Debug)]
pub struct Profile {
    /// Its canonical URL.
    pub url: String,
    /// The type it constrains (`Patient`, `Extension`).
    pub ty: String,
    /// Snapshot elements in order.
    pub elements: Vec<Value>,
    by_id: HashMap<String, usize>,
    children: HashMap<String, Vec<usize>>,
}

impl Profile {
    /// Indexes a snapshot.
    pub fn new(url: &str, ty: &str, elements: Vec<Value>) -> Profile {
        let mut by_id = HashMap::new();
        let mut children: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in elements.iter().enumerate() {
            let id = id_of(e).to_string();
            if let Some((parent, _)) = id.rsplit_once('.') {
                children.entry(parent.to_string()).or_default().push(i);
            }
            by_id.insert(id, i);
        }
        Profile {
            url: url.to_string(),
            ty: ty.to_string(),
            elements,
            by_id,
            children,
        }
    }

    /// The element with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The direct children of an element (slices included, as
    /// `name:slice` ids).
    pub fn children(&self, index: usize) -> &[usize] {
        self.children
            .get(id_of(&self.elements[index]))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The id of an element.
    pub fn id(&self, index: usize) -> &str {
        id_of(&self.elements[index])
    }
}

/// An element's id (its path when it has no id).
pub fn id_of(e: &Value) -> &str {
    e.get("id")
        .and_then(Value::as_str)
        .or_else(|| e.get("path").and_then(Value::as_str))
        .unwrap_or("")
}

/// The last segment of an element id without its slice name, and the
/// slice name (`identifier:nhs` → (`identifier`, Some(`nhs`))).
pub fn name_and_slice(id: &str) -> (&str, Option<&str>) {
    let last = id.rsplit('.').next().unwrap_or(id);
    match last.split_once(':') {
        Some((n, s)) => (n, Some(s)),
        None => (last, None),
    }
}

/// The type codes an element allows.
pub fn type_codes(e: &Value) -> Vec<&str> {
    e.get("type")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t.get("code").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}
