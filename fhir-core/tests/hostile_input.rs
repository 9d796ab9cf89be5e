//! Regression tests for issue 15 (robustness): small hostile inputs that
//! crashed the process, held a thread, cost super-linear time or were
//! accepted although FHIR forbids them. Each test names the fault; each
//! input is built here, nothing is read from the shared corpus except base
//! R4 for the validator (from the package cache, as every validation test).

use fhir_core::format::{self, limits, Format};
use fhir_core::package::{cache, Registry};
use fhir_core::validation::{Severity, Validator};
use fhir_core::ErrorKind;
use serde_json::{json, Value};

fn registry() -> &'static Registry {
    static R: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        Registry::base_r4(&cache::cache_dir())
            .expect("base R4 is installed (carer-fhir packages install)")
    })
}

/// Runs `f` on a thread with a small stack (smaller than any thread pool
/// gives), so that a reader that recursed by input depth would overflow.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

fn xml_nested(open: &str, close: &str, n: usize, leaf: &str) -> String {
    format!(
        "<Patient xmlns=\"http://hl7.org/fhir\">{}{leaf}{}</Patient>",
        open.repeat(n),
        close.repeat(n)
    )
}

fn narrative(div: &str) -> Value {
    json!({"resourceType": "Basic", "code": {"text": "x"},
        "text": {"status": "generated", "div": div}})
}

fn errors(outcome: &fhir_core::validation::Outcome) -> Vec<String> {
    outcome
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| format!("{}: {}", i.expression, i.message))
        .collect()
}

// Fault 1: one small request killed the process (stack overflow).

#[test]
fn xml_extensions_nested_700_deep_are_a_located_limit_error() {
    let xml = xml_nested(
        "<extension url=\"http://x.org/e\">",
        "</extension>",
        700,
        "<valueString value=\"v\"/>",
    );
    assert!(xml.len() < 32 * 1024);
    let e = on_small_stack(move || format::parse(&xml, Format::Xml).unwrap_err());
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
    assert!(e.message.contains("MAX_EXTENSION_DEPTH"), "{e}");
    assert_eq!(e.location.line, Some(1));
    assert!(e
        .location
        .path
        .as_deref()
        .unwrap()
        .starts_with("Patient.extension.extension"));
}

#[test]
fn unknown_xml_elements_nested_5000_deep_are_a_limit_error() {
    let xml = xml_nested("<foo>", "</foo>", 5000, "");
    let e = on_small_stack(move || format::parse(&xml, Format::Xml).unwrap_err());
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
    assert!(e.message.contains("MAX_XML_DEPTH"), "{e}");
}

#[test]
fn xhtml_nested_5000_deep_in_an_xml_narrative_is_a_limit_error() {
    let xml = format!(
        "<Basic xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\">{}x{}</div></text><code><text value=\"x\"/></code></Basic>",
        "<b>".repeat(5000),
        "</b>".repeat(5000)
    );
    let e = on_small_stack(move || format::parse(&xml, Format::Xml).unwrap_err());
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
}

#[test]
fn xhtml_nested_5000_deep_in_a_json_narrative_is_a_validation_error() {
    let div = format!(
        "<div xmlns=\"http://www.w3.org/1999/xhtml\">{}x{}</div>",
        "<b>".repeat(5000),
        "</b>".repeat(5000)
    );
    let text = narrative(&div).to_string();
    let outcome = on_small_stack(move || {
        let value = format::parse(&text, Format::Json).unwrap();
        Validator::new(registry()).validate(&value)
    });
    let errors = errors(&outcome);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("Basic.text.div") && e.contains("MAX_XHTML_DEPTH")),
        "{errors:?}"
    );
}

#[test]
fn a_fragment_link_beside_a_deep_narrative_in_a_bundle_is_answered() {
    // A narrative link `#x` is looked up in every narrative of the Bundle:
    // the other entry's 5,000-deep div must be read within the depth
    // limit, not by recursion on the stack.
    let deep = format!(
        "<div xmlns=\"http://www.w3.org/1999/xhtml\">{}x{}</div>",
        "<b>".repeat(5000),
        "</b>".repeat(5000)
    );
    let linking = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"#x\">see</a></div>";
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:6a1c2f0e-3b5d-4f7a-9c8e-1d2b3a4c5e6f", "resource": narrative(linking)},
        {"fullUrl": "urn:uuid:9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "resource": narrative(&deep)}
    ]})
    .to_string();
    let outcome = on_small_stack(move || {
        let value = format::parse(&bundle, Format::Json).unwrap();
        Validator::new(registry()).validate(&value)
    });
    let errors = errors(&outcome);
    assert!(
        errors.iter().any(|e| e.contains("MAX_XHTML_DEPTH")),
        "{errors:?}"
    );
}

#[test]
fn json_nested_past_the_limit_is_a_located_limit_error() {
    let text = format!(
        "{{\"resourceType\":\"Patient\",{}\"valueString\":\"v\"{}}}",
        "\"extension\":[{\"url\":\"http://x.org/e\",".repeat(700),
        "}]".repeat(700)
    );
    let e = on_small_stack(move || format::parse(&text, Format::Json).unwrap_err());
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
    assert!(
        e.location.line.is_some() && e.location.path.is_some(),
        "{e:?}"
    );
}

#[test]
fn a_deep_value_built_in_code_is_refused_by_the_validator() {
    // Built by hand: `json!` would copy the nested value by recursion.
    let mut v = json!({"url": "http://x.org/e", "valueString": "v"});
    for _ in 0..5000 {
        let mut outer = json!({"url": "http://x.org/e"});
        outer["extension"] = Value::Array(vec![v]);
        v = outer;
    }
    let mut resource = json!({"resourceType": "Patient"});
    resource["extension"] = Value::Array(vec![v]);
    let (outcome, resource) = on_small_stack(move || {
        let outcome = Validator::new(registry()).validate(&resource);
        (outcome, resource)
    });
    let errors = errors(&outcome);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("format::limits::MAX_"), "{errors:?}");
    // serde_json drops values by recursion; this one is deeper than any
    // reader of this crate would build.
    std::mem::forget(resource);
}

#[test]
fn input_at_the_limits_reads_and_validates_on_a_small_stack() {
    // As deep as MAX_EXTENSION_DEPTH allows, and a Questionnaire whose
    // items nest as deep as MAX_JSON_DEPTH allows: readable anywhere.
    let xml = xml_nested(
        "<extension url=\"http://x.org/e\">",
        "</extension>",
        limits::MAX_EXTENSION_DEPTH,
        "<valueString value=\"v\"/>",
    );
    // The root object, `item` and each group's object take the levels.
    let items = (limits::MAX_JSON_DEPTH - 3) / 2;
    let mut item = json!({"linkId": "leaf", "type": "string"});
    for i in 0..items {
        let mut group = json!({"linkId": format!("g{i}"), "type": "group"});
        group["item"] = Value::Array(vec![item]);
        item = group;
    }
    let q = json!({"resourceType": "Questionnaire", "status": "draft", "item": [item]}).to_string();
    on_small_stack(move || {
        let v = format::parse(&xml, Format::Xml).unwrap();
        assert!(format::write(&v, Format::Xml, true).is_ok());
        let v = format::parse(&q, Format::Json).unwrap();
        assert!(format::convert(&q, Format::Json, Format::Xml, false).is_ok());
        Validator::new(registry()).validate(&v);
    });
}

// Fault 2: fhirbolt's lax mode looped (see also tests/no_spinning.rs).

#[test]
fn missing_element_then_repeated_unknown_xml_element_is_located_at_once() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir"><link><type value="seealso"/></link><link><other><reference value="Patient/1"/><bogus value="1"/><bogus value="2"/></other><type value="seealso"/></link></Patient>"#;
    let started = std::time::Instant::now();
    let e = format::parse(xml, Format::Xml).unwrap_err();
    // The lax reader's deadline is 5 s; the answer must not wait for it.
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    assert_eq!(e.kind, ErrorKind::Structure);
    assert!(e.message.contains("unknown element `bogus`"), "{e}");
    assert_eq!(
        e.location.path.as_deref(),
        Some("Patient.link[1].other.bogus[0]")
    );
}

#[test]
fn missing_element_then_unknown_json_array_is_located_at_once() {
    let q = r#"{"resourceType":"Questionnaire","status":"draft","item":[{"type":"string"}],"bogus":["x",true]}"#;
    let e = format::parse(q, Format::Json).unwrap_err();
    assert!(e.message.contains("unknown element `bogus`"), "{e}");
    assert_eq!(e.location.path.as_deref(), Some("Questionnaire.bogus"));
}

#[test]
fn missing_element_alone_still_reads() {
    let xml =
        r#"<Patient xmlns="http://hl7.org/fhir"><link><type value="seealso"/></link></Patient>"#;
    let v = format::parse(xml, Format::Xml).unwrap();
    assert_eq!(v["link"][0]["type"], "seealso");
}

// Fault 3: super-linear cost (see tests/linear_cost.rs for the ratio).

#[test]
fn a_hundred_thousand_root_attributes_are_refused_without_quadratic_work() {
    let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"1\"")).collect();
    let xml =
        format!("<Patient xmlns=\"http://hl7.org/fhir\"{attrs}><active value=\"true\"/></Patient>");
    let e = format::parse(&xml, Format::Xml).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
    assert!(e.message.contains("MAX_ATTRIBUTES"), "{e}");
}

#[test]
fn too_many_values_are_refused() {
    let text = format!(
        "{{\"resourceType\":\"Basic\",\"code\":{{\"coding\":[{}]}}}}",
        vec!["{}"; limits::MAX_ELEMENTS].join(",")
    );
    let e = format::parse(&text, Format::Json).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
    assert!(e.message.contains("MAX_ELEMENTS"), "{e}");
}

#[test]
fn overlong_strings_are_refused_when_read() {
    let long = "x".repeat(limits::MAX_STRING_LENGTH + 1);
    let e = format::parse(
        &json!({"resourceType": "Patient", "id": long}).to_string(),
        Format::Json,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit);
    assert_eq!(e.location.path.as_deref(), Some("Patient.id"));
    let xml = format!("<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"{long}\"/></Patient>");
    assert_eq!(
        format::parse(&xml, Format::Xml).unwrap_err().kind,
        ErrorKind::Limit
    );
}

// Fault 6: content accepted that FHIR forbids.

#[test]
fn narrative_event_handler_after_a_tab_is_refused() {
    let div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><img src=\"a.png\"\tonerror=\"alert(1)\"/></div>";
    let outcome = Validator::new(registry()).validate(&narrative(div));
    let errors = errors(&outcome);
    assert!(errors.iter().any(|e| e.contains("'onerror'")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("txt-1")), "{errors:?}");
}

#[test]
fn narrative_entity_encoded_javascript_url_is_refused() {
    let div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"&#106;avascript:alert(1)\">x</a></div>";
    let outcome = Validator::new(registry()).validate(&narrative(div));
    let errors = errors(&outcome);
    assert!(
        errors.iter().any(|e| e.contains("'javascript:'")),
        "{errors:?}"
    );
}

#[test]
fn narrative_outside_the_allowed_elements_is_refused() {
    for inner in [
        "<u>x</u>",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>x</text></svg>",
        "<p onClick=\"x()\">x</p>",
    ] {
        let div = format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{inner}</div>");
        let outcome = Validator::new(registry()).validate(&narrative(&div));
        assert!(outcome.has_errors(), "{inner}");
    }
    let fine = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Carer <b>Ann</b>, <a href=\"https://example.org\">site</a></p></div>";
    let outcome = Validator::new(registry()).validate(&narrative(fine));
    assert!(!outcome.has_errors(), "{:?}", errors(&outcome));
}

#[test]
fn nul_in_a_json_string_is_refused_when_read() {
    let text = r#"{"resourceType":"Patient","name":[{"family":"a\u0000b"}]}"#;
    let e = format::parse(text, Format::Json).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Structure);
    assert!(e.message.contains("U+0000"), "{e}");
    assert_eq!(e.location.path.as_deref(), Some("Patient.name[0].family"));
    assert_eq!(
        format::read_json(text).unwrap_err().kind,
        ErrorKind::Structure
    );
}

#[test]
fn nul_in_a_value_is_an_error_when_validated_and_never_written_as_xml() {
    let v = json!({"resourceType": "Patient", "name": [{"family": "a\u{0}b"}]});
    let outcome = Validator::new(registry()).validate(&v);
    let errors = errors(&outcome);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("Patient.name[0].family") && e.contains("U+0000")),
        "{errors:?}"
    );
    let e = format::write(&v, Format::Xml, false).unwrap_err();
    assert_eq!(e.location.path.as_deref(), Some("Patient.name[0].family"));
    // Nor through the typed model.
    let typed = format::typed_from_value(&v).unwrap();
    assert!(format::write_typed(&typed, Format::Xml, false).is_err());
}

#[test]
fn control_characters_in_xml_are_refused() {
    for xml in [
        "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"a&#0;b\"/></name></Patient>",
        "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"a&#x1F;b\"/></name></Patient>",
        "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"a\u{1}b\"/></name></Patient>",
    ] {
        assert!(format::parse(xml, Format::Xml).is_err(), "{xml}");
    }
}

#[test]
fn duplicate_json_keys_are_refused() {
    let e = format::parse(
        r#"{"resourceType":"Patient","active":true,"active":false}"#,
        Format::Json,
    )
    .unwrap_err();
    assert!(e.message.contains("`active` appears twice"), "{e}");
    assert_eq!(e.location.path.as_deref(), Some("Patient.active"));
    let e = format::parse(
        r#"{"resourceType":"Patient","resourceType":"Patient"}"#,
        Format::Json,
    )
    .unwrap_err();
    assert!(e.message.contains("appears twice"), "{e}");
}

#[test]
fn fhir_comments_are_refused_when_read_and_validated() {
    for text in [
        r#"{"resourceType":"Patient","fhir_comments":["x"]}"#,
        r#"{"resourceType":"Patient","_active":{"fhir_comments":["x"]},"active":true}"#,
    ] {
        let e = format::parse(text, Format::Json).unwrap_err();
        assert!(e.message.contains("fhir_comments"), "{e}");
        let value: Value = serde_json::from_str(text).unwrap();
        let outcome = Validator::new(registry()).validate(&value);
        assert!(
            errors(&outcome).iter().any(|e| e.contains("fhir_comments")),
            "{text}"
        );
    }
}
