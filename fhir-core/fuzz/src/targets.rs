//! One function per fuzz target. Each takes arbitrary bytes and must
//! return without panicking, overflowing the stack or looping, whatever
//! they are; where a step succeeds, what it produced must be usable by the
//! next (a resource that reads must write; what is written as XML must be
//! XML 1.0, which no control character is).
//!
//! Included by path from the fuzz crate and from fhir-core's stable test,
//! so it uses only what both have: `fhir_core` and `serde_json`.

use std::sync::{Arc, OnceLock};

use fhir_core::fhirpath::{Context, Expression, ModelInfo};
use fhir_core::format::{self, limits, Format};
use fhir_core::package::{cache, Registry};
use fhir_core::validation::Validator;
use serde_json::Value;

/// Base R4 from the package cache, loaded once per process.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Registry::base_r4(&cache::cache_dir())
            .expect("base R4 is installed in the package cache (carer-fhir packages install)")
    })
}

fn model() -> &'static Arc<ModelInfo> {
    static MODEL: OnceLock<Arc<ModelInfo>> = OnceLock::new();
    MODEL.get_or_init(|| Arc::new(ModelInfo::from_registry(registry())))
}

/// One validator for the process, so that the profiles it prepares are
/// prepared once rather than for every input.
fn validator() -> &'static Validator<'static> {
    static VALIDATOR: OnceLock<Validator<'static>> = OnceLock::new();
    VALIDATOR.get_or_init(|| Validator::with_model(registry(), model().clone()))
}

/// Loads base R4, its type knowledge and the validator: fuzzing calls this
/// once before the first input, so that loading (seconds) is not taken for
/// a slow input.
pub fn init() {
    validator();
}

/// Written XML carries no character XML 1.0 excludes.
fn assert_xml_chars(xml: &str) {
    if let Some((at, c)) = limits::forbidden_char(xml) {
        panic!("wrote U+{:04X} at byte {at} of XML: {xml:?}", c as u32);
    }
}

/// Writes a resource read from either format both ways, and reads what
/// was written.
fn write_both_ways(value: &Value) {
    if let Ok(json) = format::write(value, Format::Json, false) {
        let _ = format::parse(&json, Format::Json);
    }
    if let Ok(xml) = format::write(value, Format::Xml, true) {
        assert_xml_chars(&xml);
        let _ = format::parse(&xml, Format::Xml);
    }
}

/// FHIR JSON reading (the guarded reader, fhirbolt's typed model, the
/// loss check), then writing what was read.
pub fn json_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(value) = format::parse(text, Format::Json) {
        write_both_ways(&value);
    }
    if let Ok(typed) = format::parse_typed(text, Format::Json) {
        if let Ok(xml) = format::write_typed(&typed, Format::Xml, false) {
            assert_xml_chars(&xml);
        }
    }
    let _ = format::read_json(text);
}

/// FHIR XML reading (the limits scan, roxmltree, the narrative and root
/// workarounds, fhirbolt strict and lax), then writing what was read.
pub fn xml_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(value) = format::parse(text, Format::Xml) {
        write_both_ways(&value);
    }
    let _ = format::convert(text, Format::Xml, Format::Json, false);
}

/// Validation against base R4 of any JSON value: as a plain JSON parser
/// reads it (what a server that reads bodies itself passes on) and as the
/// FHIR reader reads it.
pub fn validate(data: &[u8]) {
    let validator = validator();
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        let outcome = validator.validate(&value);
        let _ = outcome.to_operation_outcome();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(value) = format::read_json(text) {
            validator.validate(&value);
        }
    }
}

/// FHIRPath parsing.
pub fn fhirpath_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(e) = Expression::parse(text) {
        // What parses can be parsed again from its own source.
        assert!(Expression::parse(e.source()).is_ok());
    }
}

/// FHIRPath evaluation: the first line is the expression, the rest the
/// JSON resource it is evaluated on (with base R4's type knowledge).
pub fn fhirpath_eval(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (expression, resource) = text.split_once('\n').unwrap_or((text, "{}"));
    let Ok(expression) = Expression::parse(expression) else {
        return;
    };
    let Ok(resource) = serde_json::from_str::<Value>(resource) else {
        return;
    };
    let context = Context {
        model: Some(model().as_ref()),
        registry: Some(registry()),
        ..Context::default()
    };
    let _ = expression.evaluate(&resource, &context);
    let strict = Context {
        strict: true,
        ..context
    };
    let _ = expression.evaluate(&resource, &strict);
}
