//! Reading JSON text into a [`Value`] under FHIR JSON's own rules.
//!
//! serde_json reads any JSON; FHIR JSON is stricter (R4 `json.html`): an
//! object never has the same property twice, strings hold no control
//! characters (the `string` type's rule, which also keeps them writable as
//! XML), and `fhir_comments` is gone. serde_json's `Value` silently keeps
//! the last of duplicate keys, so the value is built here by a serde
//! visitor that sees every key as it is read, and checks the limits of
//! [`super::limits`] in the same single pass. Errors raised inside the
//! visitor carry serde_json's line and column, which `json_locate` turns
//! into an element path.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::limits::{self, MAX_ELEMENTS, MAX_EXTENSION_DEPTH, MAX_JSON_DEPTH, MAX_STRING_LENGTH};
use crate::error::{Error, ErrorKind};

/// With serde_json's `arbitrary_precision` feature (which this workspace
/// turns on so that decimals keep their digits), a number reaches a
/// visitor as a one-entry map under this key, holding the number's text.
/// fhirbolt relies on the same token.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// What stopped the read, when it was a FHIR rule or a limit rather than
/// JSON syntax: the kind and message, for the error serde_json positions.
#[derive(Default)]
struct State {
    values: usize,
    problem: Option<(ErrorKind, String)>,
}

/// Reads `text` as one JSON value under FHIR JSON's rules and the limits.
///
/// # Errors
/// [`ErrorKind::Syntax`] for text that is not JSON, [`ErrorKind::Structure`]
/// for a duplicate property, a forbidden character or `fhir_comments`,
/// [`ErrorKind::Limit`] for a limit; each with line, column and path.
pub(super) fn read(text: &str) -> Result<Value, Error> {
    let state = RefCell::new(State::default());
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Seed {
        state: &state,
        depth: 0,
        extensions: 0,
    };
    let result = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    result.map_err(|e| {
        let problem = state.borrow_mut().problem.take();
        match problem {
            Some((kind, message)) => {
                let mut err = super::json_error(kind, &e, text);
                err.message = message;
                err
            }
            None => super::json_error(ErrorKind::Syntax, &e, text),
        }
    })
}

/// Builds one value at a given nesting.
#[derive(Clone, Copy)]
struct Seed<'s> {
    state: &'s RefCell<State>,
    /// How many objects and arrays enclose this value.
    depth: usize,
    /// How many extension properties enclose this value.
    extensions: usize,
}

impl Seed<'_> {
    /// Records why the read stops and returns the error serde positions.
    fn fail<E: de::Error>(&self, kind: ErrorKind, message: String) -> E {
        let mut state = self.state.borrow_mut();
        let text = message.clone();
        state.problem.get_or_insert((kind, message));
        E::custom(text)
    }

    fn count<E: de::Error>(&self) -> Result<(), E> {
        let mut state = self.state.borrow_mut();
        state.values += 1;
        if state.values > MAX_ELEMENTS {
            drop(state);
            return Err(self.fail(ErrorKind::Limit, limits::too_many_elements()));
        }
        Ok(())
    }

    fn string<E: de::Error>(&self, s: &str) -> Result<(), E> {
        if s.len() > MAX_STRING_LENGTH {
            return Err(self.fail(ErrorKind::Limit, limits::too_long(s.len())));
        }
        if let Some((_, c)) = limits::forbidden_char(s) {
            return Err(self.fail(ErrorKind::Structure, limits::forbidden_char_message(c)));
        }
        Ok(())
    }

    fn nested<E: de::Error>(&self) -> Result<Seed<'_>, E> {
        if self.depth + 1 > MAX_JSON_DEPTH {
            return Err(self.fail(
                ErrorKind::Limit,
                limits::too_deep("JSON objects and arrays", MAX_JSON_DEPTH, "MAX_JSON_DEPTH"),
            ));
        }
        Ok(Seed {
            depth: self.depth + 1,
            ..*self
        })
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.count()?;
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.count()?;
        self.string(v)?;
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.count()?;
        self.string(&v)?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.count()?;
        let child = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(child)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(first) = map.next_key_seed(KeySeed(self))? else {
            self.count()?;
            self.nested::<A::Error>()?;
            return Ok(Value::Object(Map::new()));
        };
        if first == NUMBER_TOKEN {
            let digits: String = map.next_value()?;
            self.count()?;
            return Number::from_str(&digits)
                .map(Value::Number)
                .map_err(de::Error::custom);
        }
        self.count()?;
        let child = self.nested()?;
        let mut object = Map::new();
        let mut key = Some(first);
        while let Some(k) = key {
            if object.contains_key(&k) {
                return Err(self.fail(
                    ErrorKind::Structure,
                    format!("the property `{k}` appears twice in one object: FHIR JSON objects never repeat a property"),
                ));
            }
            let extensions = child.extensions + usize::from(limits::is_extension_key(&k));
            if extensions > MAX_EXTENSION_DEPTH {
                return Err(self.fail(
                    ErrorKind::Limit,
                    limits::too_deep("extensions", MAX_EXTENSION_DEPTH, "MAX_EXTENSION_DEPTH"),
                ));
            }
            let value = map.next_value_seed(Seed {
                extensions,
                ..child
            })?;
            object.insert(k, value);
            key = map.next_key_seed(KeySeed(self))?;
        }
        Ok(Value::Object(object))
    }
}

/// Reads a property name, checking it as any string and refusing
/// `fhir_comments`. serde_json's number token passes unchecked.
struct KeySeed<'s>(Seed<'s>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        let key = <String as serde::Deserialize>::deserialize(d)?;
        if key == NUMBER_TOKEN {
            return Ok(key);
        }
        if key == "fhir_comments" {
            return Err(self
                .0
                .fail(ErrorKind::Structure, limits::fhir_comments_message()));
        }
        self.0.string(&key)?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"resourceType":"Observation","valueQuantity":{"value":1.50,"unit":"mg"},"n":[1,-2,3e2,18446744073709551616],"b":[true,false,null],"s":"é\"\\/"}"#,
            r#"[]"#,
            r#"{}"#,
            r#""x""#,
        ] {
            let ours = read(text).unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
            assert_eq!(ours.to_string(), theirs.to_string());
        }
    }

    #[test]
    fn duplicate_keys_are_located() {
        let e = read(
            "{\"resourceType\":\"Patient\",\n \"name\":[{\"family\":\"A\",\"family\":\"B\"}]}",
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Structure);
        assert!(
            e.message.contains("`family` appears twice"),
            "{}",
            e.message
        );
        assert_eq!(e.location.line, Some(2));
        assert_eq!(e.location.path.as_deref(), Some("Patient.name[0].family"));
    }

    #[test]
    fn escaped_duplicates_are_duplicates() {
        let e = read(r#"{"active":true,"\u0061ctive":false}"#).unwrap_err();
        assert!(e.message.contains("appears twice"), "{}", e.message);
    }

    #[test]
    fn control_characters_are_refused() {
        let e = read(r#"{"resourceType":"Patient","name":[{"family":"a\u0000b"}]}"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Structure);
        assert!(e.message.contains("U+0000"), "{}", e.message);
        assert_eq!(e.location.path.as_deref(), Some("Patient.name[0].family"));
        assert!(read(r#"{"a":"tab\tand\r\nline"}"#).is_ok());
    }

    #[test]
    fn depth_is_bounded_before_serde_json_s_own_limit() {
        let text = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH + 1),
            "]".repeat(MAX_JSON_DEPTH + 1)
        );
        let e = read(&text).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Limit);
        assert!(e.message.contains("MAX_JSON_DEPTH"), "{}", e.message);
        let ok = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(read(&ok).is_ok());
    }

    #[test]
    fn trailing_text_is_a_syntax_error() {
        assert_eq!(read("{} {}").unwrap_err().kind, ErrorKind::Syntax);
    }
}
