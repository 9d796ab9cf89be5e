//! A StructureDefinition's snapshot, indexed for walking, and each of its
//! elements compiled once into an [`ElementPlan`]: what the walker needs of
//! an element definition on every value it checks, read out of its JSON
//! when the profile is first used rather than on every value.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::fhirpath::Expression;

/// What the walker needs of one element definition, read once.
#[derive(Debug)]
pub struct ElementPlan {
    /// The last segment of its id, without a slice name (`value[x]`).
    pub name: String,
    /// Its slice name, when it is a slice.
    pub slice: Option<String>,
    /// `name` without `[x]`.
    pub stem: String,
    /// Whether it is a choice (`[x]`).
    pub choice: bool,
    /// The JSON property of its primitive extensions (`_name`).
    pub underscore: String,
    /// The type codes it allows, in order.
    pub types: Vec<String>,
    /// Each type code as the suffix of a choice's JSON name
    /// (`Quantity` for `valueQuantity`).
    pub suffixes: Vec<String>,
    /// `min`.
    pub min: usize,
    /// `max` as a number (None: `*` or absent).
    pub max: Option<usize>,
    /// Whether `max` allows more than one.
    pub repeating: bool,
    /// Whether it defines slicing.
    pub sliced: bool,
    /// Its `path`.
    pub path: String,
    /// Its direct children (slices included).
    pub children: Vec<usize>,
    /// Its direct children that are not slices.
    pub unsliced_children: Vec<usize>,
    /// When it is sliced, its slices: the elements with its id and a slice
    /// name (re-slices `a/b` included), in profile order.
    pub slices: Vec<usize>,
    /// Whether the walker's value limits can apply to its values
    /// (`limits::may_limit`).
    pub may_limit: bool,
    /// Whether it has a `fixed[x]` or `pattern[x]`.
    pub may_fix: bool,
    /// Whether it has a binding (whose strength the walker then reads).
    pub bound: bool,
    /// For each of `types`, the invariants that type declares on itself
    /// and this element does not restate, prepared on first use (see the
    /// walker's `type_constraints`; None inside: there are none).
    pub type_constraints: Vec<OnceLock<Option<Arc<Profile>>>>,
    /// Its invariants.
    pub constraints: Vec<ConstraintPlan>,
    /// The FHIRPath type its path names (a backbone element's path, or
    /// the type reached along it), found on first use.
    pub path_type: OnceLock<Option<String>>,
}

/// One invariant of an element, its expression compiled on first use.
#[derive(Debug)]
pub struct ConstraintPlan {
    /// `key` (`ele-1`).
    pub key: String,
    /// The expression, as corrected by the errata.
    pub expression: String,
    /// Whether it is only a warning.
    pub warning: bool,
    /// `human`.
    pub human: String,
    /// The compiled expression (None inside: it does not parse).
    pub compiled: OnceLock<Option<Arc<Expression>>>,
    /// A check that can tell, without the engine, that it is satisfied.
    pub(super) plain: Option<super::plain::Plain>,
}

impl ElementPlan {
    fn new(e: &Value) -> ElementPlan {
        let (name, slice) = name_and_slice(id_of(e));
        let (stem, choice) = match name.strip_suffix("[x]") {
            Some(s) => (s.to_string(), true),
            None => (name.to_string(), false),
        };
        let types: Vec<String> = type_codes(e).into_iter().map(str::to_string).collect();
        let suffixes = types
            .iter()
            .map(|t| crate::fhirpath::capitalise_type(t))
            .collect();
        let type_constraints = types.iter().map(|_| OnceLock::new()).collect();
        let max_text = e.get("max").and_then(Value::as_str);
        let constraints = e
            .get("constraint")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| {
                let key = c.get("key").and_then(Value::as_str).unwrap_or("?");
                let expression = c.get("expression").and_then(Value::as_str)?;
                let expression = super::errata::corrected(key, expression).to_string();
                Some(ConstraintPlan {
                    key: key.to_string(),
                    plain: super::plain::Plain::of(&expression),
                    expression,
                    warning: c.get("severity").and_then(Value::as_str) == Some("warning"),
                    human: c
                        .get("human")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    compiled: OnceLock::new(),
                })
            })
            .collect();
        ElementPlan {
            underscore: format!("_{name}"),
            name: name.to_string(),
            slice: slice.map(str::to_string),
            stem,
            choice,
            types,
            suffixes,
            min: e.get("min").and_then(Value::as_u64).unwrap_or(0) as usize,
            max: max_text.and_then(|m| m.parse().ok()),
            repeating: max_text.is_some_and(|m| m != "1" && m != "0"),
            sliced: e.get("slicing").is_some(),
            path: e
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            children: Vec::new(),
            unsliced_children: Vec::new(),
            slices: Vec::new(),
            may_limit: super::limits::may_limit(e),
            bound: e.get("binding").is_some(),
            type_constraints,
            may_fix: e.as_object().is_some_and(|o| {
                o.keys()
                    .any(|k| k.starts_with("fixed") || k.starts_with("pattern"))
            }),
            constraints,
            path_type: OnceLock::new(),
        }
    }
}

/// One profile (or base type) ready to validate against.
#[derive(Debug)]
pub struct Profile {
    /// Its canonical URL.
    pub url: String,
    /// The type it constrains (`Patient`, `Extension`).
    pub ty: String,
    /// Snapshot elements in order.
    pub elements: Vec<Value>,
    /// Each element compiled, in the same order.
    pub plans: Vec<ElementPlan>,
    by_id: HashMap<String, usize>,
}

impl Profile {
    /// Indexes a snapshot.
    pub fn new(url: &str, ty: &str, elements: Vec<Value>) -> Profile {
        let mut by_id = HashMap::new();
        let mut plans: Vec<ElementPlan> = elements.iter().map(ElementPlan::new).collect();
        for (i, e) in elements.iter().enumerate() {
            by_id.insert(id_of(e).to_string(), i);
        }
        for (i, e) in elements.iter().enumerate() {
            let parent = id_of(e).rsplit_once('.').and_then(|(p, _)| by_id.get(p));
            if let Some(&parent) = parent {
                plans[parent].children.push(i);
                if plans[i].slice.is_none() {
                    plans[parent].unsliced_children.push(i);
                }
            }
        }
        for (i, e) in elements.iter().enumerate() {
            if !plans[i].sliced {
                continue;
            }
            let id = id_of(e);
            let Some(&parent) = by_id.get(id.rsplit_once('.').map_or("", |(p, _)| p)) else {
                continue;
            };
            let slices: Vec<usize> = plans[parent]
                .children
                .iter()
                .copied()
                .filter(|&s| {
                    id_of(&elements[s])
                        .strip_prefix(id)
                        .and_then(|rest| rest.strip_prefix(':'))
                        .is_some_and(|rest| !rest.contains(['.', ':']))
                })
                .collect();
            plans[i].slices = slices;
        }
        Profile {
            url: url.to_string(),
            ty: ty.to_string(),
            elements,
            plans,
            by_id,
        }
    }

    /// The element with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The direct children of an element (slices included, as
    /// `name:slice` ids).
    pub fn children(&self, index: usize) -> &[usize] {
        &self.plans[index].children
    }

    /// Whether element `index` needs a value: its own `min`, or that of
    /// one of its slices, is above 0. An absent element that does not is
    /// not walked.
    pub fn requires_value(&self, index: usize) -> bool {
        let plan = &self.plans[index];
        plan.min > 0 || plan.slices.iter().any(|&s| self.plans[s].min > 0)
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
