//! Comparing FHIR JSON with fhirbolt's rewrite of it, and locating
//! fhirbolt's position-less errors.

use serde_json::Value;

/// The first place where the input and fhirbolt's rewrite disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// FHIRPath-style path of the element.
    pub path: String,
    /// What the input held there.
    pub input: &'static str,
    /// What the rewrite holds there (`"nothing"` when it dropped it).
    pub written: &'static str,
}

impl Difference {
    /// A sentence for the person who wrote the input.
    pub fn describe(&self) -> String {
        match (self.input, self.written) {
            (_, "nothing") => "unknown element: not part of this resource type".to_string(),
            ("an object", "an array")
            | ("a string", "an array")
            | ("a number", "an array")
            | ("a boolean", "an array") => {
                "this element repeats: its value must be an array".to_string()
            }
            ("an array", "an array") => {
                "array does not match its element (check `_x` alignment)".to_string()
            }
            ("an array", _) => format!(
                "this element does not repeat: expected {}, not an array",
                self.written
            ),
            (i, w) if i == w => "value is not valid for this element".to_string(),
            (i, w) => format!("wrong type: expected {w}, found {i}"),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An empty value that fhirbolt's lax mode writes for a required element the
/// input lacked: not a difference the input is to blame for.
fn is_padding(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.values().all(is_padding),
        Value::Array(a) => a.iter().all(is_padding),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// The path of a JSON property (`_name` is element `name`).
fn child_path(path: &str, key: &str) -> String {
    super::child_path(path, key.strip_prefix('_').unwrap_or(key))
}

/// The first difference between the input and the rewrite, depth first in
/// the input's order; `None` when they say the same.
pub fn first_difference(input: &Value, written: &Value, path: &str) -> Option<Difference> {
    let diff = |p: String, w: &'static str| {
        Some(Difference {
            path: p,
            input: kind(input),
            written: w,
        })
    };
    match (input, written) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                if k == "resourceType" && va == b.get(k).unwrap_or(&Value::Null) {
                    continue;
                }
                let p = child_path(path, k);
                match b.get(k) {
                    Some(vb) => {
                        if let Some(d) = first_difference(va, vb, &p) {
                            return Some(d);
                        }
                    }
                    None => {
                        return Some(Difference {
                            path: p,
                            input: kind(va),
                            written: "nothing",
                        })
                    }
                }
            }
            b.iter()
                .find(|(k, v)| !a.contains_key(*k) && !is_padding(v))
                .map(|(k, v)| Difference {
                    path: child_path(path, k),
                    input: "nothing",
                    written: kind(v),
                })
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, va) in a.iter().enumerate() {
                let p = format!("{path}[{i}]");
                match b.get(i) {
                    Some(vb) => {
                        if let Some(d) = first_difference(va, vb, &p) {
                            return Some(d);
                        }
                    }
                    None => {
                        return Some(Difference {
                            path: p,
                            input: kind(va),
                            written: "nothing",
                        })
                    }
                }
            }
            // fhirbolt pads a primitive's `_x` array with nulls to the length
            // of the value array; trailing nulls say nothing.
            b[a.len().min(b.len())..]
                .iter()
                .any(|v| !v.is_null())
                .then(|| Difference {
                    path: path.to_string(),
                    input: "an array",
                    written: "an array",
                })
        }
        (Value::Number(x), Value::Number(y)) => {
            // Same number, different spelling (1e2 vs 100) is not a loss of
            // meaning; FHIR decimals keep their digits, which the string
            // form compares.
            (x.to_string() != y.to_string() && x.as_f64() != y.as_f64()).then(|| Difference {
                path: path.to_string(),
                input: "a number",
                written: "a number",
            })
        }
        (a, b) if a == b => None,
        (_, b) => diff(path.to_string(), kind(b)),
    }
}

/// Finds the element a fhirbolt error message speaks of, for errors that
/// stop even its lax mode (wrong primitive types, unknown resource types).
/// The message names a field or a value but not where it is, so this takes
/// the first match in document order. Returns the path and the message in
/// FHIR terms.
pub fn locate_message(root: &Value, message: &str, root_path: &str) -> (Option<String>, String) {
    let tidy = super::tidy_message(message);
    if let Some(field) = between(message, "unknown field `", "`") {
        return (find(root, root_path, &|k, _| k == Some(field)), tidy);
    }
    if message.starts_with("invalid type: resourceType") {
        let unknown = std::cell::RefCell::new(None);
        let path = find(root, root_path, &|k, v| {
            let bad = k == Some("resourceType")
                && v.as_str().is_some_and(|t| {
                    fhir_model::from_json_value(
                        serde_json::json!({ "resourceType": t }),
                        fhir_model::Mode::Lax,
                    )
                    .is_err()
                });
            if bad {
                *unknown.borrow_mut() = v.as_str().map(str::to_string);
            }
            bad
        });
        let message = match unknown.into_inner() {
            Some(t) => format!("unknown resource type `{t}`"),
            None => "resourceType is missing or not a string".to_string(),
        };
        return (path.or_else(|| Some(root_path.to_string())), message);
    }
    if let Some(expected) = primitive_parse_failure(message) {
        return locate_unparsable_string(root, message, root_path, expected);
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let found = rest.split(", expected").next().unwrap_or("");
        let path = find(root, root_path, &|k, v| k.is_some() && describes(found, v));
        return (path, format!("wrong type: {rest}"));
    }
    (None, tidy)
}

/// fhirbolt reads FHIR JSON strings where a boolean or number belongs by
/// parsing them, and its error then names only the Rust parse error
/// (`ParseBoolError`). The type such a message says was expected.
fn primitive_parse_failure(message: &str) -> Option<&'static str> {
    [
        ("ParseBoolError", "a boolean"),
        ("ParseIntError", "an integer"),
        ("ParseFloatError", "a number"),
    ]
    .into_iter()
    .find(|(token, _)| message.contains(token))
    .map(|(_, expected)| expected)
}

/// Finds the string fhirbolt could not read as `expected`. fhirbolt's
/// message says nothing of where, and the model's types are not known
/// here, so the reader itself is asked, by bisection: it stops at the
/// first unreadable string in document order, so a copy of the resource
/// cut after the `k`th string fails with the same message exactly when
/// `k` reaches the culprit. That takes a logarithmic number of reads, so
/// locating costs little more than reading (trying each string in turn
/// would cost a read per string: quadratic). The string found is then
/// confirmed: replaced by a value of the expected type, the error goes.
fn locate_unparsable_string(
    root: &Value,
    message: &str,
    root_path: &str,
    expected: &str,
) -> (Option<String>, String) {
    let unlocated = || {
        (
            None,
            format!("a string where {expected} belongs could not be read"),
        )
    };
    let same_error = |candidate: Value| {
        fhir_model::from_json_value(candidate, fhir_model::Mode::Strict)
            .err()
            .is_some_and(|e| e.to_string() == message)
    };
    // The smallest k whose cut still fails: the culprit is string k - 1.
    let (mut low, mut high) = (0usize, count_strings(root));
    while low < high {
        let mid = low + (high - low) / 2;
        if same_error(cut_after(root, mid + 1)) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    let n = low;
    let neutral = if expected == "a boolean" {
        Value::Bool(true)
    } else {
        Value::from(0)
    };
    // How serde describes the replacement when it is where it does not fit.
    let neutral_description = if neutral.is_boolean() {
        "boolean `true`"
    } else {
        "integer `0`"
    };
    let mut candidate = root.clone();
    let Some(found) = replace_nth_string(&mut candidate, n, neutral) else {
        return unlocated();
    };
    // The culprit's replacement makes this error go away, and does not
    // cause one of its own (a string element given a boolean, say).
    let fixed = match fhir_model::from_json_value(candidate, fhir_model::Mode::Strict) {
        Ok(_) => true,
        Err(e) => {
            let e = e.to_string();
            e != message && !e.contains(neutral_description)
        }
    };
    if !fixed {
        return unlocated();
    }
    let seen = std::cell::Cell::new(0usize);
    let path = find(root, root_path, &|k, v| {
        if !v.is_string() || k == Some("resourceType") {
            return false;
        }
        seen.set(seen.get() + 1);
        seen.get() == n + 1
    });
    (
        path,
        format!("wrong type: string {found:?}, expected {expected}"),
    )
}

/// A copy of `v` that ends just after its `keep`th string (document
/// order, `resourceType`s not counted and always kept): every property and
/// array item after it is left out, and so is any array left empty.
fn cut_after(v: &Value, keep: usize) -> Value {
    fn walk(v: &Value, left: &mut usize) -> Option<Value> {
        if *left == 0 {
            return None;
        }
        match v {
            Value::String(_) => {
                *left -= 1;
                Some(v.clone())
            }
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    match walk(item, left) {
                        Some(x) => out.push(x),
                        None => break,
                    }
                }
                (!out.is_empty()).then_some(Value::Array(out))
            }
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, x) in map {
                    if k == "resourceType" {
                        out.insert(k.clone(), x.clone());
                        continue;
                    }
                    if *left == 0 {
                        break;
                    }
                    if let Some(x) = walk(x, left) {
                        out.insert(k.clone(), x);
                    }
                }
                Some(Value::Object(out))
            }
            _ => Some(v.clone()),
        }
    }
    let mut left = keep;
    walk(v, &mut left).unwrap_or_else(|| Value::Object(serde_json::Map::new()))
}

/// How many strings `v` holds, `resourceType`s not counted.
fn count_strings(v: &Value) -> usize {
    match v {
        Value::String(_) => 1,
        Value::Array(a) => a.iter().map(count_strings).sum(),
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| *k != "resourceType")
            .map(|(_, c)| count_strings(c))
            .sum(),
        _ => 0,
    }
}

/// Replaces the `n`th string (0-based, document order, `resourceType`s not
/// counted) with `with`; returns the string replaced.
fn replace_nth_string(v: &mut Value, n: usize, with: Value) -> Option<String> {
    fn walk(v: &mut Value, n: usize, seen: &mut usize, with: &Value) -> Option<String> {
        match v {
            Value::String(s) => {
                *seen += 1;
                if *seen == n + 1 {
                    let old = std::mem::take(s);
                    *v = with.clone();
                    return Some(old);
                }
                None
            }
            Value::Array(a) => a.iter_mut().find_map(|c| walk(c, n, seen, with)),
            Value::Object(m) => m
                .iter_mut()
                .filter(|(k, _)| *k != "resourceType")
                .find_map(|(_, c)| walk(c, n, seen, with)),
            _ => None,
        }
    }
    walk(v, n, &mut 0, &with)
}

/// Whether serde's description of an unexpected value (`boolean \`true\``,
/// `string "x"`, `integer \`5\``, `map`, `sequence`) fits `v`.
fn describes(found: &str, v: &Value) -> bool {
    match v {
        Value::Bool(b) => found == format!("boolean `{b}`"),
        Value::String(s) => found == format!("string {s:?}"),
        Value::Number(n) => found.ends_with(&format!("`{n}`")),
        Value::Object(_) => found == "map",
        Value::Array(_) => found == "sequence",
        Value::Null => found == "null",
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// Depth-first search for the first `(key, value)` the predicate accepts;
/// returns its path. Keys of array items are `None`.
fn find(v: &Value, path: &str, pred: &dyn Fn(Option<&str>, &Value) -> bool) -> Option<String> {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let p = if k == "resourceType" {
                    format!("{path}.resourceType")
                } else {
                    child_path(path, k)
                };
                if pred(Some(k), c) {
                    return Some(p);
                }
                let nested_root = c
                    .get("resourceType")
                    .and_then(Value::as_str)
                    .map(|t| format!("{p}.ofType({t})"));
                if let Some(found) = find(c, nested_root.as_deref().unwrap_or(&p), pred) {
                    return Some(found);
                }
            }
            None
        }
        Value::Array(a) => a.iter().enumerate().find_map(|(i, c)| {
            let p = format!("{path}[{i}]");
            if pred(None, c) {
                return Some(p);
            }
            find(c, &p, pred)
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_for_array_is_described_as_repeating() {
        let a = json!({"resourceType":"Patient","name":{"family":"X"}});
        let b = json!({"resourceType":"Patient","name":[{"family":"X"}]});
        let d = first_difference(&a, &b, "Patient").unwrap();
        assert_eq!(d.path, "Patient.name");
        assert!(d.describe().contains("repeats"));
    }

    #[test]
    fn coerced_string_is_a_wrong_type() {
        let a = json!({"active":"true"});
        let b = json!({"active":true});
        let d = first_difference(&a, &b, "Patient").unwrap();
        assert_eq!(
            d.describe(),
            "wrong type: expected a boolean, found a string"
        );
    }

    #[test]
    fn locates_a_string_where_a_boolean_or_integer_belongs() {
        let v = json!({"resourceType":"Patient","id":"p","name":[{"family":"Yes"}],"active":"yes"});
        let (p, m) = locate_message(&v, "ParseBoolError", "Patient");
        assert_eq!(p.as_deref(), Some("Patient.active"));
        assert_eq!(m, "wrong type: string \"yes\", expected a boolean");
        let v = json!({"resourceType":"Patient","multipleBirthInteger":"two"});
        let message = fhir_model::from_json_value(v.clone(), fhir_model::Mode::Strict)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let (p, m) = locate_message(&v, &message, "Patient");
        assert_eq!(
            p.as_deref(),
            Some("Patient.multipleBirthInteger"),
            "{message}"
        );
        assert!(m.contains("\"two\""), "{m}");
    }

    #[test]
    fn locates_wrong_primitive_type() {
        let v = json!({"resourceType":"Patient","name":[{"family":true}]});
        let (p, m) = locate_message(
            &v,
            "invalid type: boolean `true`, expected a string",
            "Patient",
        );
        assert_eq!(p.as_deref(), Some("Patient.name[0].family"));
        assert_eq!(m, "wrong type: boolean `true`, expected a string");
    }
}
