//! The limits every reader in this crate keeps to, whatever the input.
//!
//! A small request must never cost a large amount of work or memory, and
//! must never exhaust the stack: fhirbolt, roxmltree and serde read nested
//! content by recursion, so nesting is bounded before any of them sees the
//! input, and so are the counts and sizes whose product is the cost of
//! reading and validating. Each limit is far above what real FHIR content
//! needs (the figures beside each say what the R4 specification's examples,
//! UK Core's and the HL7 validator test cases reach), and each is reported
//! as an [`ErrorKind::Limit`] error that names the limit and says where in
//! the input it was reached.
//!
//! The checks here run in one linear pass over the text (or over a
//! [`Value`] built elsewhere, [`check_value`]) and never recurse.
//! FHIRPath expressions have a limit of their own,
//! [`crate::fhirpath::MAX_EXPRESSION_DEPTH`].
//!
//! # Examples
//! ```
//! use fhir_core::format::{limits, parse, Format};
//! use fhir_core::ErrorKind;
//! let deep = format!(
//!     "{{\"resourceType\":\"Basic\",\"code\":{}{{}}{}}}",
//!     "{\"coding\":[".repeat(60),
//!     "]}".repeat(60)
//! );
//! let e = parse(&deep, Format::Json).unwrap_err();
//! assert_eq!(e.kind, ErrorKind::Limit);
//! assert!(e.message.contains("MAX_JSON_DEPTH"), "{}", e.message);
//! assert!(limits::MAX_JSON_DEPTH < 128);
//! ```

use serde_json::Value;

use crate::error::{Error, ErrorKind, Location, Result};

/// The deepest nesting of JSON objects and arrays in one resource, the
/// root object being level 1. The R4 examples reach 27. Kept below
/// serde_json's own recursion limit (128) so that this limit, with its
/// location, is what a caller sees.
pub const MAX_JSON_DEPTH: usize = 100;

/// The deepest nesting of XML elements in one document, the root element
/// being level 1, narrative XHTML included. FHIR XML nests less than its
/// JSON form (no arrays): the R4 examples and UK Core reach 11 (narratives
/// included, 14).
pub const MAX_XML_DEPTH: usize = 64;

/// The deepest nesting of elements inside one narrative `div` (the `div`
/// being level 1), in either format. The R4 examples reach 7.
pub const MAX_XHTML_DEPTH: usize = 32;

/// The deepest nesting of extensions inside extensions (`extension` or
/// `modifierExtension`, the outermost being level 1). Complex extensions
/// nest two or three levels; the R4 examples reach 4. Extensions cost the
/// most stack per level in fhirbolt's reader, which is why they have a
/// limit of their own.
pub const MAX_EXTENSION_DEPTH: usize = 16;

/// The most values in one document: JSON objects, arrays and primitives,
/// or XML elements and attributes. The largest resource in the R4
/// specification's package (its JSON schema) has about 45,000; a full
/// 32 MB request body of ordinary FHIR JSON holds about a million. Reading
/// and validation cost is linear in this count, so it bounds both.
pub const MAX_ELEMENTS: usize = 1_000_000;

/// The most attributes on one XML element. A FHIR element has at most
/// `value`, `id`, `url` and namespace declarations; the XHTML elements a
/// narrative may use allow about twenty.
pub const MAX_ATTRIBUTES: usize = 64;

/// The longest string, in bytes (UTF-8): a JSON string or property name,
/// an XML attribute value or text, or a whole narrative `div`. FHIR R4
/// says strings "SHALL NOT exceed 1MB in size"; the validator applies that
/// size to every primitive, so nothing longer can be valid.
pub const MAX_STRING_LENGTH: usize = 1024 * 1024;

/// Below this much free stack, [`with_stack`] moves to a fresh segment.
/// fhirbolt's generated readers take tens of kilobytes of stack per level
/// of nesting in unoptimised builds (and a few in optimised ones), so the
/// deepest input the limits allow needs a few megabytes: more than the
/// 2 MiB a spawned or async worker thread has by default.
const STACK_RED_ZONE: usize = 8 << 20;

/// The size of the segment [`with_stack`] moves to. It is reserved, not
/// committed: only the pages used cost memory.
const STACK_SEGMENT: usize = 32 << 20;

/// The stack a thread that parses or validates at volume should have:
/// enough that 8 MiB is always left, so no call ever moves to
/// a fresh segment (each move maps and unmaps a 32 MiB segment and faults
/// its pages in again: on a default 2 MiB worker thread that was a fifth
/// of a validation's cost). Reserved, not committed, like any stack.
///
/// # Examples
/// ```
/// use fhir_core::format::{self, limits::THREAD_STACK, Format};
/// let worker = std::thread::Builder::new()
///     .stack_size(THREAD_STACK)
///     .spawn(|| format::parse(r#"{"resourceType":"Patient"}"#, Format::Json).is_ok())
///     .unwrap();
/// assert!(worker.join().unwrap());
/// ```
pub const THREAD_STACK: usize = 16 << 20;

/// Runs `f` with at least [`STACK_RED_ZONE`] of stack, whatever thread it
/// is called on, so that input within the limits never overflows.
pub(crate) fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, f)
}

/// Runs `f` with at least `need` bytes of stack: on this thread's when it
/// has that much left (the usual case, which costs nothing), else on a
/// fresh segment.
pub(crate) fn with_stack_of<R>(need: usize, f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(need, need.saturating_mul(2).max(1 << 20), f)
}

/// A located error for a limit that was reached.
pub(crate) fn error(message: impl Into<String>, location: Location) -> Error {
    Error {
        kind: ErrorKind::Limit,
        message: message.into(),
        location,
    }
}

/// The message for a nesting limit.
pub(crate) fn too_deep(what: &str, limit: usize, name: &str) -> String {
    format!("{what} nested more than {limit} levels deep (the limit is format::limits::{name})")
}

/// The message for the count limit.
pub(crate) fn too_many_elements() -> String {
    format!(
        "more than {MAX_ELEMENTS} values in one resource (the limit is format::limits::MAX_ELEMENTS)"
    )
}

/// The message for the attribute limit.
pub(crate) fn too_many_attributes() -> String {
    format!(
        "more than {MAX_ATTRIBUTES} attributes on one element (the limit is format::limits::MAX_ATTRIBUTES)"
    )
}

/// The message for the string limit.
pub(crate) fn too_long(len: usize) -> String {
    format!(
        "a string of {len} bytes is longer than {MAX_STRING_LENGTH} (FHIR's 1 MB; the limit is format::limits::MAX_STRING_LENGTH)"
    )
}

/// The first character of `s` that FHIR strings may not hold, with its
/// byte offset: the control characters below U+0020 other than tab, line
/// feed and carriage return (R4 datatypes, `string`), which are exactly the
/// ones XML 1.0 cannot carry either, and the non-characters U+FFFE and
/// U+FFFF, which XML 1.0 also excludes. Rust strings hold no surrogates, so
/// nothing else of XML 1.0's `Char` production can fail.
pub fn forbidden_char(s: &str) -> Option<(usize, char)> {
    // A byte scan finds the control characters (ASCII bytes never occur
    // inside a multi-byte UTF-8 sequence); the non-characters are three
    // bytes starting 0xEF 0xBF.
    let bytes = s.as_bytes();
    // Most strings hold none of those bytes: 16 at a time, without an
    // early exit inside a block, the compiler checks them with vector
    // instructions.
    let clean = |block: &[u8]| {
        !block
            .iter()
            .fold(false, |bad, &b| bad | (b < 0x20) | (b == 0xEF))
    };
    if bytes.chunks(16).all(clean) {
        return None;
    }
    let i = bytes
        .iter()
        .position(|&b| (b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r') || b == 0xEF)?;
    if bytes[i] != 0xEF {
        return Some((i, bytes[i] as char));
    }
    // Rare: a character in U+E000..U+FFFF; check it and look further.
    s[i..]
        .char_indices()
        .find(|(_, c)| {
            matches!(*c, '\u{FFFE}' | '\u{FFFF}') || (*c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
        })
        .map(|(j, c)| (i + j, c))
}

/// The message for a forbidden character.
pub(crate) fn forbidden_char_message(c: char) -> String {
    format!(
        "the character U+{:04X} is not allowed: FHIR strings exclude control characters other than tab, line feed and carriage return, as XML 1.0 does",
        c as u32
    )
}

/// Checks a JSON value built by any means (not only by this crate's
/// readers) against the limits: nesting ([`MAX_JSON_DEPTH`],
/// [`MAX_EXTENSION_DEPTH`]) and size ([`MAX_ELEMENTS`],
/// [`MAX_STRING_LENGTH`]). The walk is iterative, so a value of any depth
/// is refused rather than overflowing the stack.
///
/// [`crate::validation::Validator::validate`] calls this first: a value
/// beyond the limits is not walked.
///
/// # Errors
/// [`ErrorKind::Limit`], located by element path.
///
/// # Examples
/// ```
/// use fhir_core::format::limits::check_value;
/// let ok = serde_json::json!({"resourceType": "Patient", "name": [{"family": "Carer"}]});
/// assert!(check_value(&ok).is_ok());
/// let long = serde_json::json!({"resourceType": "Patient", "id": "x".repeat(2 << 20)});
/// let e = check_value(&long).unwrap_err();
/// assert_eq!(e.location.path.as_deref(), Some("Patient.id"));
/// ```
pub fn check_value(value: &Value) -> Result<()> {
    walk(value, false)
}

/// [`check_value`] and the rules of FHIR JSON that a JSON parser does not
/// know: no character a FHIR string may not hold ([`forbidden_char`]), no
/// `fhir_comments` (not part of FHIR since STU3), no empty array. What
/// [`super::read_json`] refuses, for a value built elsewhere.
///
/// # Errors
/// [`ErrorKind::Limit`] for a limit, [`ErrorKind::Structure`] for a rule,
/// located by element path.
pub(crate) fn check_fhir_json(value: &Value) -> Result<()> {
    walk(value, true)
}

/// The walk behind [`check_value`] and [`check_fhir_json`].
fn walk(value: &Value, rules: bool) -> Result<()> {
    let root = value
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("$");
    // The stack holds (value, depth, extension depth, path-so-far index).
    // Paths are built only for the error, from the parent links kept here.
    struct Entry<'a> {
        value: &'a Value,
        depth: usize,
        extensions: usize,
        parent: Option<usize>,
        step: Step<'a>,
    }
    #[derive(Clone, Copy)]
    enum Step<'a> {
        Root,
        Key(&'a str),
        Index(usize),
    }
    let mut visited: Vec<(Option<usize>, Step)> = Vec::new();
    let path_of = |visited: &[(Option<usize>, Step)], mut at: Option<usize>| {
        let mut steps = Vec::new();
        while let Some(i) = at {
            steps.push(visited[i].1);
            at = visited[i].0;
        }
        let mut out = root.to_string();
        for step in steps.iter().rev() {
            match step {
                Step::Root => {}
                Step::Key(k) => {
                    out.push('.');
                    out.push_str(k.strip_prefix('_').unwrap_or(k));
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    };
    let mut stack = vec![Entry {
        value,
        depth: 1,
        extensions: 0,
        parent: None,
        step: Step::Root,
    }];
    let mut count = 0usize;
    while let Some(e) = stack.pop() {
        visited.push((e.parent, e.step));
        let here = visited.len() - 1;
        let fail = |kind: ErrorKind, message: String| Error {
            kind,
            message,
            location: Location::at_path(path_of(&visited, Some(here))),
        };
        count += 1;
        if count > MAX_ELEMENTS {
            return Err(fail(ErrorKind::Limit, too_many_elements()));
        }
        let is_container = e.value.is_object() || e.value.is_array();
        if is_container && e.depth > MAX_JSON_DEPTH {
            return Err(fail(
                ErrorKind::Limit,
                too_deep("JSON objects and arrays", MAX_JSON_DEPTH, "MAX_JSON_DEPTH"),
            ));
        }
        match e.value {
            Value::String(s) => {
                if s.len() > MAX_STRING_LENGTH {
                    return Err(fail(ErrorKind::Limit, too_long(s.len())));
                }
                if let Some((_, c)) = rules.then(|| forbidden_char(s)).flatten() {
                    return Err(fail(ErrorKind::Structure, forbidden_char_message(c)));
                }
            }
            Value::Array(items) => {
                if items.is_empty() && rules {
                    return Err(fail(
                        ErrorKind::Structure,
                        "an array must not be empty in FHIR JSON: leave the property out".into(),
                    ));
                }
                // Pushed in reverse so that the walk (and so the error
                // found first) follows document order.
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push(Entry {
                        value: item,
                        depth: e.depth + 1,
                        extensions: e.extensions,
                        parent: Some(here),
                        step: Step::Index(i),
                    });
                }
            }
            Value::Object(map) => {
                for (k, v) in map.iter().rev() {
                    let key_fail = |kind: ErrorKind, message: String| {
                        let mut e = fail(kind, message);
                        e.location.path = Some(format!(
                            "{}.{}",
                            path_of(&visited, Some(here)),
                            k.strip_prefix('_').unwrap_or(k)
                        ));
                        e
                    };
                    if k == "fhir_comments" && rules {
                        return Err(key_fail(ErrorKind::Structure, fhir_comments_message()));
                    }
                    if k.len() > MAX_STRING_LENGTH {
                        return Err(key_fail(ErrorKind::Limit, too_long(k.len())));
                    }
                    if let Some((_, c)) = rules.then(|| forbidden_char(k)).flatten() {
                        return Err(key_fail(ErrorKind::Structure, forbidden_char_message(c)));
                    }
                    let extensions = e.extensions + usize::from(is_extension_key(k));
                    if extensions > MAX_EXTENSION_DEPTH {
                        return Err(key_fail(
                            ErrorKind::Limit,
                            too_deep("extensions", MAX_EXTENSION_DEPTH, "MAX_EXTENSION_DEPTH"),
                        ));
                    }
                    stack.push(Entry {
                        value: v,
                        depth: e.depth + 1,
                        extensions,
                        parent: Some(here),
                        step: Step::Key(k),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether a JSON property or XML element of this name holds extensions.
pub(crate) fn is_extension_key(name: &str) -> bool {
    matches!(name, "extension" | "modifierExtension")
}

/// The message for `fhir_comments`.
pub(crate) fn fhir_comments_message() -> String {
    "unknown element `fhir_comments`: FHIR JSON has had no comments since STU3".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forbidden_characters_are_found_with_their_offset() {
        assert_eq!(forbidden_char("plain\ttext\r\n"), None);
        assert_eq!(forbidden_char("é ü 日本"), None);
        assert_eq!(forbidden_char("a\u{0}b"), Some((1, '\u{0}')));
        assert_eq!(forbidden_char("ab\u{1b}"), Some((2, '\u{1b}')));
        assert_eq!(forbidden_char("日\u{FFFF}"), Some((3, '\u{FFFF}')));
        assert_eq!(forbidden_char("\u{E000}\u{FFFD}"), None);
    }

    #[test]
    fn deep_values_are_refused_without_recursion() {
        // Built by hand: `json!` would copy the nested value by recursion.
        let mut v = json!("leaf");
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        let mut root = json!({"resourceType": "Basic"});
        root["x"] = v;
        let e = check_value(&root).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Limit);
        assert!(e.message.contains("MAX_JSON_DEPTH"));
        // serde_json drops nested values by recursion; leak this one.
        std::mem::forget(root);
    }

    #[test]
    fn extension_nesting_is_counted() {
        let mut v = json!({"url": "http://example.org/e", "valueString": "v"});
        for _ in 0..MAX_EXTENSION_DEPTH {
            let mut outer = json!({"url": "http://example.org/e"});
            outer["extension"] = Value::Array(vec![v]);
            v = outer;
        }
        let e = check_value(&json!({"resourceType": "Basic", "extension": [v]})).unwrap_err();
        assert!(e.message.contains("MAX_EXTENSION_DEPTH"), "{e}");
    }

    #[test]
    fn rules_of_fhir_json_are_located() {
        let nul = json!({"resourceType": "Patient", "name": [{"family": "a\u{0}b"}]});
        assert!(check_value(&nul).is_ok());
        let e = check_fhir_json(&nul).unwrap_err();
        assert_eq!(e.location.path.as_deref(), Some("Patient.name[0].family"));
        let e = check_fhir_json(
            &json!({"resourceType": "Patient", "_active": {"fhir_comments": ["x"]}}),
        )
        .unwrap_err();
        assert_eq!(
            e.location.path.as_deref(),
            Some("Patient.active.fhir_comments")
        );
        let e = check_fhir_json(&json!({"resourceType": "Patient", "name": [{"given": []}]}))
            .unwrap_err();
        assert_eq!(e.location.path.as_deref(), Some("Patient.name[0].given"));
    }
}
