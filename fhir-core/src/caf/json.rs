//! The FHIR JSON pieces every builder and reader of the carer profiles
//! shares: meta claiming our profile and its UK Core parent, references,
//! codings, guide extensions, and located errors.

use serde_json::{json, Map, Value};

use super::structure_definition;
use crate::error::{Error, ErrorKind, Location, Result};

/// The base of UK Core's profile URLs.
const UKCORE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-";

/// `meta` claiming our `profile` and the UK Core profile `UKCore-{ukcore}`.
pub(super) fn meta(profile: &str, ukcore: &str) -> Value {
    json!({"profile": [structure_definition(profile), format!("{UKCORE}{ukcore}")]})
}

/// A Reference by literal reference (`Patient/x`).
pub(super) fn reference(r: &str) -> Value {
    json!({ "reference": r })
}

/// A CodeableConcept with one coding.
pub(super) fn coding(system: &str, code: &str) -> Value {
    json!({"coding": [{"system": system, "code": code}]})
}

/// One of the guide's extensions, by id, with its value under `key`.
pub(super) fn ext(id: &str, key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert("url".into(), json!(structure_definition(id)));
    m.insert(key.into(), value);
    Value::Object(m)
}

/// An invalid-content error located at `path`.
pub(super) fn invalid(path: &str, message: String) -> Error {
    Error {
        location: Location::at_path(path),
        ..Error::new(ErrorKind::Invalid, message)
    }
}

/// Checks `code` is one of `allowed` (the codes of `what`).
pub(super) fn check_code(path: &str, what: &str, code: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&code) {
        Ok(())
    } else {
        Err(invalid(
            path,
            format!(
                "{code:?} is not a {what} code (one of: {})",
                allowed.join(", ")
            ),
        ))
    }
}

/// The value, or a "required" error located at `path`.
pub(super) fn require<T>(value: Option<T>, path: &str, what: &str) -> Result<T> {
    value.ok_or_else(|| missing(path, what))
}

/// The extensions with this guide extension id.
pub(super) fn extensions<'a>(resource: &'a Value, id: &str) -> impl Iterator<Item = &'a Value> {
    let url = structure_definition(id);
    resource["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |e| e["url"].as_str() == Some(url.as_str()))
}

/// The first coding's code of a CodeableConcept.
pub(super) fn first_code(cc: &Value) -> Option<&str> {
    cc["coding"][0]["code"].as_str()
}

/// A required-element error located at `path`.
pub(super) fn missing(path: &str, what: &str) -> Error {
    Error {
        location: Location::at_path(path),
        ..Error::new(ErrorKind::Invalid, format!("{what} is required"))
    }
}

/// A Period's start and end.
pub(super) fn period_of(period: &Value) -> (Option<&str>, Option<&str>) {
    (period["start"].as_str(), period["end"].as_str())
}

/// The `reference` of a Reference.
pub(super) fn reference_of(r: &Value) -> Option<&str> {
    r["reference"].as_str()
}

/// The value of the first extension with this guide extension id, under `key`.
pub(super) fn extension_value<'a>(resource: &'a Value, id: &str, key: &str) -> Option<&'a Value> {
    extensions(resource, id)
        .map(|e| &e[key])
        .find(|v| !v.is_null())
}
