//! FHIRPath Patch (FHIR R4 §3.1.0.6.1): a Parameters resource of
//! `operation`s (add, insert, delete, replace, move), each locating its
//! target with a FHIRPath expression.
//!
//! Targets are found with the one FHIRPath engine; each result is then
//! found again in the resource's JSON by identity, giving the place to
//! change. Written here because no Rust crate implements FHIRPath Patch.
//!
//! # Example
//! ```
//! use fhir_core::fhirpath::ModelInfo;
//! use fhir_core::patch::apply;
//! let model = ModelInfo::default();
//! let mut patient = serde_json::json!({"resourceType": "Patient", "birthDate": "1920-01-01"});
//! let patch = serde_json::json!({"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
//!     {"name": "type", "valueCode": "replace"},
//!     {"name": "path", "valueString": "Patient.birthDate"},
//!     {"name": "value", "valueDate": "1930-01-01"}]}]});
//! apply(&mut patient, &patch, &model).unwrap();
//! assert_eq!(patient["birthDate"], "1930-01-01");
//! ```

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Location, Result};
use crate::fhirpath::{Context, Expression, Item, ModelInfo};

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn fail(at: &str, message: String) -> Error {
    Error {
        location: Location::at_path(at),
        ..Error::new(ErrorKind::Invalid, message)
    }
}

/// Where `target` lives inside `root`, found by identity.
fn locate(root: &Value, target: *const Value, path: &mut Vec<Seg>) -> bool {
    if std::ptr::eq(root, target) {
        return true;
    }
    match root {
        Value::Object(o) => {
            for (k, v) in o {
                path.push(Seg::Key(k.clone()));
                if locate(v, target, path) {
                    return true;
                }
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                if locate(v, target, path) {
                    return true;
                }
                path.pop();
            }
        }
        _ => {}
    }
    false
}

fn get_mut<'a>(root: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = root;
    for s in path {
        cur = match s {
            Seg::Key(k) => cur.get_mut(k.as_str())?,
            Seg::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// Removes the element at `path`, then any object or list that removal
/// left empty (FHIR has no empty elements).
fn remove(root: &mut Value, path: &[Seg]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let Some(container) = get_mut(root, parent) else {
        return;
    };
    match (last, container) {
        (Seg::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
        }
        (Seg::Key(k), Value::Object(o)) => {
            o.remove(k);
            o.remove(&format!("_{k}"));
        }
        _ => return,
    }
    let emptied = get_mut(root, parent).is_some_and(|c| match c {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    });
    if emptied && !parent.is_empty() {
        remove(root, parent);
    }
}

/// The value of a part: its `value[x]`, or an object built from its parts.
fn part_value(part: &Value) -> Option<Value> {
    if let Some(o) = part.as_object() {
        if let Some((_, v)) = o
            .iter()
            .find(|(k, _)| k.starts_with("value") && k.len() > 5)
        {
            return Some(v.clone());
        }
        if let Some(parts) = o.get("part").and_then(Value::as_array) {
            let mut out = Map::new();
            for p in parts {
                let (Some(name), Some(v)) = (p["name"].as_str(), part_value(p)) else {
                    continue;
                };
                match out.get_mut(name) {
                    Some(Value::Array(a)) => a.push(v),
                    Some(existing) => {
                        let first = existing.take();
                        *existing = Value::Array(vec![first, v]);
                    }
                    None => {
                        out.insert(name.to_string(), v);
                    }
                }
            }
            return Some(Value::Object(out));
        }
    }
    None
}

/// Applies a FHIRPath Patch `Parameters` to `resource`.
///
/// # Errors
/// [`ErrorKind::Invalid`] located at the operation, when an operation is
/// malformed, its path does not parse, or its target is not where the
/// operation needs one (then `resource` may be partly changed: apply to a
/// copy when that matters).
pub fn apply(resource: &mut Value, patch: &Value, model: &ModelInfo) -> Result<()> {
    if patch["resourceType"] != "Parameters" {
        return Err(fail(
            "Parameters",
            "a FHIRPath Patch is a Parameters resource".into(),
        ));
    }
    for (n, op) in patch["parameter"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("Parameters.parameter[{n}]");
        if op["name"] != "operation" {
            continue;
        }
        let part = |name: &str| {
            op["part"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == name)
        };
        let text = |name: &str| {
            part(name).and_then(|p| {
                p.as_object()?
                    .iter()
                    .find(|(k, _)| k.starts_with("value"))
                    .map(|(_, v)| v.clone())
            })
        };
        let kind = text("type")
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| fail(&at, "the operation has no type".into()))?;
        let path = text("path")
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| fail(&at, "the operation has no path".into()))?;
        let expr =
            Expression::parse(&path).map_err(|e| fail(&at, format!("path {path:?}: {e}")))?;
        // The places the path selects, and the FHIR type of the first (for
        // `add`, which needs to know whether the new element repeats).
        let (targets, target_type): (Vec<Vec<Seg>>, Option<String>) = {
            let ctx = Context {
                model: Some(model),
                ..Context::default()
            };
            let items = expr
                .evaluate(resource, &ctx)
                .map_err(|e| fail(&at, format!("path {path:?}: {e}")))?;
            let first_type = match items.first() {
                Some(Item::Node(n)) => Some(n.ty.to_string()),
                _ => None,
            };
            let places = items
                .iter()
                .filter_map(|i| match i {
                    Item::Node(node) => node.value,
                    _ => None,
                })
                .filter_map(|v| {
                    let mut p = Vec::new();
                    locate(resource, v as *const Value, &mut p).then_some(p)
                })
                .collect();
            (places, first_type)
        };
        let index = |name: &str| -> Result<usize> {
            text(name)
                .and_then(|v| v.as_u64())
                .map(|i| i as usize)
                .ok_or_else(|| fail(&at, format!("{kind} needs a {name}")))
        };
        let one = |targets: &[Vec<Seg>]| -> Result<Vec<Seg>> {
            match targets {
                [t] => Ok(t.clone()),
                [] => Err(fail(&at, format!("{kind}: {path} matches nothing"))),
                _ => Err(fail(
                    &at,
                    format!("{kind}: {path} matches {} elements, not one", targets.len()),
                )),
            }
        };
        // The array a list path's items live in.
        let list = |targets: &[Vec<Seg>]| -> Result<Vec<Seg>> {
            let first = targets
                .first()
                .ok_or_else(|| fail(&at, format!("{kind}: {path} matches no list")))?;
            let mut parent = first.clone();
            if !matches!(parent.pop(), Some(Seg::Index(_))) {
                return Err(fail(&at, format!("{kind}: {path} is not a list")));
            }
            Ok(parent)
        };
        match kind.as_str() {
            "replace" => {
                let target = one(&targets)?;
                let value = part("value")
                    .and_then(part_value)
                    .ok_or_else(|| fail(&at, "replace needs a value".into()))?;
                if let Some(slot) = get_mut(resource, &target) {
                    *slot = value;
                }
            }
            "delete" => {
                if targets.is_empty() {
                    continue;
                }
                let target = one(&targets)?;
                if target.is_empty() {
                    return Err(fail(&at, "delete cannot remove the resource itself".into()));
                }
                remove(resource, &target);
            }
            "add" => {
                let target = one(&targets)?;
                let name = text("name")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .ok_or_else(|| fail(&at, "add needs a name".into()))?;
                let value = part("value")
                    .and_then(part_value)
                    .ok_or_else(|| fail(&at, "add needs a value".into()))?;
                // Whether the element repeats, from the type of the target.
                let many = target_type
                    .as_deref()
                    .and_then(|t| model.get(t))
                    .and_then(|t| t.element(&name))
                    .is_some_and(|e| e.many);
                let obj = get_mut(resource, &target)
                    .and_then(Value::as_object_mut)
                    .ok_or_else(|| {
                        fail(
                            &at,
                            format!("add: {path} is not an element that can hold {name}"),
                        )
                    })?;
                match obj.get_mut(&name) {
                    Some(Value::Array(a)) => a.push(value),
                    Some(_) => {
                        return Err(fail(&at, format!("add: {path}.{name} already has a value")))
                    }
                    None => {
                        obj.insert(
                            name,
                            if many {
                                Value::Array(vec![value])
                            } else {
                                value
                            },
                        );
                    }
                }
            }
            "insert" => {
                let parent = list(&targets)?;
                let i = index("index")?;
                let value = part("value")
                    .and_then(part_value)
                    .ok_or_else(|| fail(&at, "insert needs a value".into()))?;
                let a = get_mut(resource, &parent)
                    .and_then(Value::as_array_mut)
                    .ok_or_else(|| fail(&at, format!("insert: {path} is not a list")))?;
                if i > a.len() {
                    return Err(fail(
                        &at,
                        format!(
                            "insert: index {i} is past the end of the list ({})",
                            a.len()
                        ),
                    ));
                }
                a.insert(i, value);
            }
            "move" => {
                let parent = list(&targets)?;
                let (from, to) = (index("source")?, index("destination")?);
                let a = get_mut(resource, &parent)
                    .and_then(Value::as_array_mut)
                    .ok_or_else(|| fail(&at, format!("move: {path} is not a list")))?;
                if from >= a.len() || to >= a.len() {
                    return Err(fail(
                        &at,
                        format!("move: {from} or {to} is outside the list ({})", a.len()),
                    ));
                }
                let v = a.remove(from);
                a.insert(to, v);
            }
            other => {
                return Err(fail(
                    &at,
                    format!("{other:?} is not a FHIRPath Patch operation"),
                ))
            }
        }
    }
    Ok(())
}
