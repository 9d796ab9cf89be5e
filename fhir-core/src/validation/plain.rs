//! Invariants that hold on almost every element, recognised by their
//! expression and answered without the FHIRPath engine when the answer is
//! plainly "satisfied".
//!
//! R4 puts `ele-1` on every element of every type and `ext-1` on every
//! extension, so a resource of a few hundred elements evaluates them a few
//! hundred times. Each evaluation through the engine builds a context and
//! collections for a question a look at the element's JSON keys answers.
//! The look here only ever says "satisfied"; whenever it cannot be sure
//! (an element with nothing but an `id`, an extension with both or neither
//! of `extension` and `value[x]`, anything unusual) it defers to the
//! engine, so every failure is still found, and reported, by the one
//! FHIRPath engine.

use serde_json::Value;

/// `ele-1`'s expression in R4 (`Element`'s definition).
const ELE_1: &str = "hasValue() or (children().count() > id.count())";
/// `ext-1`'s expression in R4 (`Extension`'s definition).
const EXT_1: &str = "extension.exists() != value.exists()";

/// A plain check of one invariant's expression, if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plain {
    /// `ele-1`: the element has a value or a child besides `id`.
    HasValueOrChildren,
    /// `ext-1`: an extension has either extensions or a value, not both.
    ExtensionOrValue,
}

impl Plain {
    /// The plain check for an invariant with `expression`, if there is one.
    pub(super) fn of(expression: &str) -> Option<Plain> {
        match expression {
            ELE_1 => Some(Plain::HasValueOrChildren),
            EXT_1 => Some(Plain::ExtensionOrValue),
            _ => None,
        }
    }

    /// True when the element (`value`, and a primitive's `_name` object
    /// `extension`) plainly satisfies the invariant; false when only the
    /// engine can tell.
    pub(super) fn satisfied(self, value: Option<&Value>, extension: Option<&Value>) -> bool {
        match self {
            Plain::HasValueOrChildren => match value {
                Some(Value::String(_) | Value::Number(_) | Value::Bool(_)) => true,
                Some(Value::Object(map)) => map
                    .iter()
                    .any(|(k, v)| k != "id" && k != "resourceType" && present(v)),
                Some(_) => false,
                None => extension
                    .and_then(Value::as_object)
                    .is_some_and(|map| map.iter().any(|(k, v)| k != "id" && present(v))),
            },
            Plain::ExtensionOrValue => {
                let Some(map) = value.and_then(Value::as_object) else {
                    return false;
                };
                let extensions = map.get("extension").is_some_and(present);
                let mut values = map.iter().filter(|(k, _)| is_value_key(k));
                let value = values.next();
                if values.next().is_some() {
                    return false;
                }
                match value {
                    // A primitive value (`valueCode`) with no `_valueCode`.
                    Some((k, v)) => {
                        !extensions
                            && matches!(
                                v,
                                Value::String(_)
                                    | Value::Number(_)
                                    | Value::Bool(_)
                                    | Value::Object(_)
                            )
                            && !map.contains_key(&format!("_{k}"))
                    }
                    None => {
                        extensions
                            && !map
                                .keys()
                                .any(|k| k.strip_prefix('_').is_some_and(is_value_key))
                    }
                }
            }
        }
    }
}

/// A JSON property that stands for at least one item.
fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => a.iter().any(|x| !x.is_null()),
        _ => true,
    }
}

/// `value[x]`'s JSON name: `value` and a type name (`valueCodeableConcept`).
fn is_value_key(k: &str) -> bool {
    k.strip_prefix("value")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ele_1_is_plain_only_for_an_element_with_content() {
        let p = Plain::of(ELE_1).unwrap();
        assert!(p.satisfied(Some(&json!("x")), None));
        assert!(p.satisfied(Some(&json!({"family": "Jones"})), None));
        assert!(p.satisfied(None, Some(&json!({"extension": [{}]}))));
        // Left to the engine: nothing but an id, or nothing at all.
        assert!(!p.satisfied(Some(&json!({"id": "a"})), None));
        assert!(!p.satisfied(Some(&json!({"given": []})), None));
        assert!(!p.satisfied(None, Some(&json!({"id": "a"}))));
        assert!(!p.satisfied(None, None));
    }

    #[test]
    fn ext_1_is_plain_only_for_one_of_extension_and_value() {
        let p = Plain::of(EXT_1).unwrap();
        assert!(p.satisfied(Some(&json!({"url": "u", "valueCode": "a"})), None));
        assert!(p.satisfied(
            Some(&json!({"url": "u", "extension": [{"url": "v"}]})),
            None
        ));
        // Left to the engine: both, neither, two values, a value's `_`.
        assert!(!p.satisfied(
            Some(&json!({"url": "u", "valueCode": "a", "extension": [{}]})),
            None
        ));
        assert!(!p.satisfied(Some(&json!({"url": "u"})), None));
        assert!(!p.satisfied(Some(&json!({"valueCode": "a", "valueString": "b"})), None));
        assert!(!p.satisfied(
            Some(&json!({"url": "u", "valueCode": "a", "_valueCode": {"id": "x"}})),
            None
        ));
        assert!(!p.satisfied(
            Some(&json!({"url": "u", "extension": [{}], "_valueCode": {"id": "x"}})),
            None
        ));
    }

    #[test]
    fn other_expressions_have_no_plain_check() {
        assert_eq!(Plain::of("value.exists()"), None);
    }
}
