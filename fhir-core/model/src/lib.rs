//! The one place that instantiates fhirbolt's generic (de)serialisers.
//!
//! fhirbolt's R4 model is large, and every crate that calls its generic
//! `from_str`/`to_string` pays several minutes of monomorphisation on each
//! rebuild. This crate calls them once, behind plain non-generic functions,
//! so that `fhir-core`, `fhir-server` and `conformance-tests` rebuild in
//! seconds. It changes rarely; keep it that way by adding nothing here that
//! is not a direct call into fhirbolt.
//!
//! Callers should use `fhir_core::format`, which adds error locations and
//! the workarounds for fhirbolt's known defects; this crate is the raw layer.
#![deny(missing_docs)]

use fhirbolt::element::Element;
use fhirbolt::serde::{DeserializationConfig, DeserializationMode, SerializationConfig};
use fhirbolt::FhirReleases;

pub use fhirbolt::model::r4::Resource;

/// How strictly fhirbolt reads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Unknown elements and missing required elements are errors.
    Strict,
    /// Unknown elements are dropped and missing required elements are padded
    /// with empty values. Only used as a fallback whose output the caller
    /// checks for loss.
    Lax,
}

fn de_config(mode: Mode) -> Option<DeserializationConfig> {
    Some(DeserializationConfig {
        mode: match mode {
            Mode::Strict => DeserializationMode::Strict,
            Mode::Lax => DeserializationMode::Lax,
        },
    })
}

fn ser_config() -> Option<SerializationConfig> {
    None
}

/// Reads a resource from FHIR JSON text.
///
/// # Errors
/// serde_json's error, with line and column, when the text is not JSON or
/// does not fit the R4 model.
pub fn from_json_str(text: &str, mode: Mode) -> Result<Resource, serde_json::Error> {
    fhirbolt::json::from_str(text, de_config(mode))
}

/// Reads a resource from an already parsed JSON value.
///
/// # Errors
/// serde_json's error when the value does not fit the R4 model.
pub fn from_json_value(
    value: serde_json::Value,
    mode: Mode,
) -> Result<Resource, serde_json::Error> {
    fhirbolt::json::from_json_value(value, de_config(mode))
}

/// Writes a resource as FHIR JSON text.
///
/// # Errors
/// When the resource holds a value fhirbolt cannot write (for example a
/// required element left empty).
pub fn to_json_string(resource: &Resource, pretty: bool) -> Result<String, serde_json::Error> {
    if pretty {
        fhirbolt::json::to_string_pretty(resource, ser_config())
    } else {
        fhirbolt::json::to_string(resource, ser_config())
    }
}

/// Writes a resource as a JSON value.
///
/// # Errors
/// As [`to_json_string`].
pub fn to_json_value(resource: Resource) -> Result<serde_json::Value, serde_json::Error> {
    fhirbolt::json::to_json_value(resource, ser_config())
}

/// Checks that every element name in a JSON resource is one the R4 model
/// has at that place, by reading it into fhirbolt's generic element model
/// in strict mode. Unlike a typed read this needs no required element, so
/// it tells a caller that a resource lacking one holds no unknown element
/// either: fhirbolt's lax typed read, which such a resource needs, never
/// consumes an unknown element and loops on it.
///
/// # Errors
/// serde_json's error naming the first unknown element (`unknown field
/// `x``), or another reason the value is not an R4 resource.
pub fn check_names_json(value: serde_json::Value) -> Result<(), serde_json::Error> {
    fhirbolt::json::from_json_value::<Element<{ FhirReleases::R4 }>>(value, de_config(Mode::Strict))
        .map(|_| ())
}

/// As [`check_names_json`], for FHIR XML text.
///
/// # Errors
/// fhirbolt's XML error naming the first unknown element.
pub fn check_names_xml(text: &str) -> Result<(), fhirbolt::xml::Error> {
    fhirbolt::xml::from_str::<Element<{ FhirReleases::R4 }>>(text, de_config(Mode::Strict))
        .map(|_| ())
}

/// Reads a resource from FHIR XML text.
///
/// The text must declare (if anything) exactly `encoding="UTF-8"`;
/// `fhir_core::format` normalises other spellings first.
///
/// # Errors
/// fhirbolt's XML error (without position) when the text is not XML or does
/// not fit the R4 model.
pub fn from_xml_str(text: &str, mode: Mode) -> Result<Resource, fhirbolt::xml::Error> {
    fhirbolt::xml::from_str(text, de_config(mode))
}

/// Writes a resource as FHIR XML text.
///
/// # Errors
/// When the resource holds a value fhirbolt cannot write.
pub fn to_xml_string(resource: &Resource) -> Result<String, fhirbolt::xml::Error> {
    fhirbolt::xml::to_string(resource, ser_config())
}
