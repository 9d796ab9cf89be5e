//! Limits an element definition puts on a value (R4
//! `elementdefinition.html`: `maxLength`, `minValue[x]`, `maxValue[x]`,
//! and the extensions the specification defines for what the element
//! definition cannot say itself: `minLength`, `maxDecimalPlaces`,
//! `maxSize`, `regex`), and the consistency of an Attachment's stated size
//! and hash with its data (`datatypes.html#Attachment`).

use std::cmp::Ordering;

use base64::Engine as _;
use serde_json::Value;
use sha1::{Digest, Sha1};

use super::issue::Severity;
use super::values;
use super::walker::{short, Walk};

const EXT: &str = "http://hl7.org/fhir/StructureDefinition/";

/// The value of an extension of an element definition, by its name under
/// the core extension namespace.
fn definition_extension<'a>(ed: &'a Value, name: &str) -> Option<&'a Value> {
    ed.get("extension")
        .and_then(Value::as_array)?
        .iter()
        .find(|x| {
            x.get("url")
                .and_then(Value::as_str)
                .and_then(|u| u.strip_prefix(EXT))
                == Some(name)
        })?
        .as_object()?
        .iter()
        .find(|(k, _)| k.starts_with("value"))
        .map(|(_, v)| v)
}

/// Whether [`Walk::limits`] can find anything to check on a value of this
/// element definition: a length or value limit, an extension of the
/// definition (`minLength`, `regex`, `maxDecimalPlaces`, `maxSize`), or an
/// Attachment type (its `size` and `hash` are checked against its data).
/// Read once per element, into its plan.
pub(super) fn may_limit(ed: &Value) -> bool {
    let Some(def) = ed.as_object() else {
        return false;
    };
    def.contains_key("extension")
        || def.contains_key("maxLength")
        || def
            .keys()
            .any(|k| k.starts_with("minValue") || k.starts_with("maxValue"))
        || super::profile::type_codes(ed).contains(&"Attachment")
}

/// An integer carried as a number or as text.
fn as_count(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The bytes base64 text holds, when it is base64.
fn decode(text: &str) -> Option<Vec<u8>> {
    // Text with no whitespace (char::is_whitespace: in ASCII, the five
    // of is_ascii_whitespace and vertical tab) is decoded as it is.
    if text
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_whitespace() && b != 0x0B)
    {
        return base64::engine::general_purpose::STANDARD.decode(text).ok();
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

impl Walk<'_> {
    /// A profile's `minValue[x]`, `maxValue[x]` and `maxLength`.
    pub(super) fn limits(&mut self, v: &Value, ed: &Value, ty: &str, path: &str) {
        let Some(def) = ed.as_object() else { return };
        self.min_length(v, ed, path);
        self.element_regex(v, ed, path);
        match ty.rsplit('.').next().unwrap_or(ty) {
            "decimal" => self.max_decimal_places(v, ed, path),
            "base64Binary" => self.base64_size(v, ed, path),
            "Attachment" => self.attachment(v, ed, path),
            _ => {}
        }
        if let Some(max) = def.get("maxLength").and_then(Value::as_u64) {
            if let Some(text) = v.as_str() {
                let length = text.chars().count() as u64;
                if length > max {
                    self.issue(
                        Severity::Error,
                        "value",
                        path,
                        format!(
                            "value is longer than permitted maximum length of {max} ({length})"
                        ),
                    );
                }
            }
        }
        for (key, limit) in def {
            let (is_min, suffix) =
                match (key.strip_prefix("minValue"), key.strip_prefix("maxValue")) {
                    (Some(s), _) => (true, s),
                    (_, Some(s)) => (false, s),
                    _ => continue,
                };
            let word = if is_min {
                "less than the specified minimum"
            } else {
                "greater than the specified maximum"
            };
            let bad = |o: Ordering| {
                if is_min {
                    o == Ordering::Less
                } else {
                    o == Ordering::Greater
                }
            };
            if suffix == "Quantity" {
                let (Some(a), Some(b)) = (values::ucum(v), values::ucum(limit)) else {
                    continue;
                };
                match a.compare(&b) {
                    Some(o) if bad(o) => self.issue(
                        Severity::Error,
                        "value",
                        path,
                        format!("The value in the instance ({a}) is {word} value ({b})"),
                    ),
                    None => self.issue(
                        Severity::Error,
                        "value",
                        path,
                        format!("The value in the instance ({a}) cannot be compared with the specified limit ({b})"),
                    ),
                    _ => {}
                }
                continue;
            }
            let value_ty = ty.rsplit('.').next().unwrap_or(ty);
            if let Some(o) = values::compare(value_ty, v, limit) {
                if bad(o) {
                    self.issue(
                        Severity::Error,
                        "value",
                        path,
                        format!("The value {} is {word} value of {}", short(v), short(limit)),
                    );
                }
            }
        }
    }

    /// `minLength` (extension `minLength`): a string's length in
    /// characters is at least the limit.
    fn min_length(&mut self, v: &Value, ed: &Value, path: &str) {
        let (Some(min), Some(text)) = (
            definition_extension(ed, "minLength").and_then(as_count),
            v.as_str(),
        ) else {
            return;
        };
        let length = text.chars().count() as u64;
        if length < min {
            self.issue(
                Severity::Error,
                "invalid",
                path,
                format!(
                    "Value '{}' is shorter than permitted minimum length of {min}",
                    short(v)
                ),
            );
        }
    }

    /// `maxDecimalPlaces` (extension `maxDecimalPlaces`): a decimal has at
    /// most that many digits after its point, as written.
    fn max_decimal_places(&mut self, v: &Value, ed: &Value, path: &str) {
        let Some(max) = definition_extension(ed, "maxDecimalPlaces").and_then(as_count) else {
            return;
        };
        let Value::Number(n) = v else { return };
        let text = n.to_string();
        let mantissa = text.split(['e', 'E']).next().unwrap_or(&text);
        let places = mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as u64;
        if places > max {
            self.issue(
                Severity::Error,
                "structure",
                path,
                format!(
                    "Found {places} decimal places which exceeds the stated limit of {max} digits"
                ),
            );
        }
    }

    /// `regex` (extension `regex` on the element): the value as text
    /// matches the whole expression.
    fn element_regex(&mut self, v: &Value, ed: &Value, path: &str) {
        let Some(pattern) = definition_extension(ed, "regex").and_then(Value::as_str) else {
            return;
        };
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return,
        };
        if let Ok(re) = regex::Regex::new(&format!("^(?:{pattern})$")) {
            if !re.is_match(&text) {
                self.issue(
                    Severity::Error,
                    "invalid",
                    path,
                    format!("Element value '{text}' does not meet regex '{pattern}'"),
                );
            }
        }
    }

    /// `maxSize` (extension `maxSize`) on base64 content: the decoded
    /// bytes are within the limit.
    fn base64_size(&mut self, v: &Value, ed: &Value, path: &str) {
        // The limit first: most base64 values have none, and are not
        // decoded.
        let Some(max) = definition_extension(ed, "maxSize").and_then(as_count) else {
            return;
        };
        let Some(bytes) = v.as_str().and_then(decode) else {
            return;
        };
        if bytes.len() as u64 > max {
            self.issue(
                Severity::Error,
                "structure",
                path,
                format!(
                    "Base64 size is {} bytes which exceeds the stated limit of {max} bytes",
                    bytes.len()
                ),
            );
        }
    }

    /// An Attachment with data (`datatypes.html#Attachment`): its `size`
    /// is the number of bytes of the data, its `hash` the SHA-1 of the
    /// data (base64), and the element's `maxSize` bounds the data.
    fn attachment(&mut self, v: &Value, ed: &Value, path: &str) {
        let max_size = definition_extension(ed, "maxSize").and_then(as_count);
        if max_size.is_none() && v.get("size").is_none() && v.get("hash").is_none() {
            // Nothing to compare the data with: it is not decoded.
            return;
        }
        let Some(data) = v.get("data").and_then(Value::as_str).and_then(decode) else {
            return;
        };
        if let Some(max) = max_size {
            if data.len() as u64 > max {
                self.issue(
                    Severity::Error,
                    "structure",
                    path,
                    format!(
                        "Attachment size is {} bytes which exceeds the stated limit of {max} bytes",
                        data.len()
                    ),
                );
            }
        }
        if let Some(size) = v.get("size").and_then(Value::as_u64) {
            if size != data.len() as u64 {
                self.issue(
                    Severity::Error,
                    "structure",
                    path,
                    format!(
                        "Stated Attachment Size {size} does not match actual attachment size {}",
                        data.len()
                    ),
                );
            }
        }
        if let Some(stated) = v.get("hash").and_then(Value::as_str) {
            match decode(stated) {
                None => self.issue(
                    Severity::Error,
                    "invalid",
                    &format!("{path}.hash"),
                    format!("The hash '{stated}' is not valid base64"),
                ),
                Some(hash) => {
                    let actual = Sha1::digest(&data);
                    if hash.as_slice() != actual.as_slice() {
                        let shown = base64::engine::general_purpose::STANDARD.encode(actual);
                        self.issue(
                            Severity::Error,
                            "structure",
                            path,
                            format!("The hash of the data did not match the data (stated: '{stated}', actual: '{shown}')"),
                        );
                    }
                }
            }
        }
    }
}
