//! The validator's rules, one test or a few per rule, each from the FHIR
//! R4 specification's text (the section is named on each test) with our
//! own instances and profiles, valid and invalid. Profiles are written
//! as differentials, as implementation guides publish them; the
//! validator generates their snapshots.
//!
//! Needs base R4 in the package cache (`carer-fhir packages install`).

use std::sync::{Arc, LazyLock};

use fhir_core::fhirpath::ModelInfo;
use fhir_core::package::{cache, Registry};
use fhir_core::validation::{Options, Outcome, Severity, Validator};
use serde_json::{json, Value};

static BASE: LazyLock<Registry> = LazyLock::new(|| {
    Registry::base_r4(&cache::cache_dir())
        .expect("base R4 is installed in the package cache (carer-fhir packages install)")
});

static MODEL: LazyLock<Arc<ModelInfo>> =
    LazyLock::new(|| Arc::new(ModelInfo::from_registry(&BASE)));

/// Validates `resource` with `supporting` conformance resources loaded,
/// against its type, its claimed profiles and `profiles`.
fn validate(resource: &Value, supporting: &[Value], profiles: &[&str]) -> Outcome {
    validate_with(resource, supporting, profiles, Options::default())
}

fn validate_with(
    resource: &Value,
    supporting: &[Value],
    profiles: &[&str],
    options: Options,
) -> Outcome {
    let mut registry = BASE.clone();
    for s in supporting {
        registry.add(s.clone());
    }
    Validator::with_model(&registry, MODEL.clone())
        .with_options(options)
        .validate_against(resource, profiles)
}

/// The errors of an outcome as `location: message`.
fn errors(outcome: &Outcome) -> Vec<String> {
    outcome
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| format!("{}: {}", i.expression, i.message))
        .collect()
}

#[track_caller]
fn assert_valid(outcome: &Outcome) {
    let e = errors(outcome);
    assert!(e.is_empty(), "expected no errors, got {e:#?}");
}

/// Exactly `n` errors, each at `at`.
#[track_caller]
fn assert_errors_at(outcome: &Outcome, n: usize, at: &str) {
    let e = errors(outcome);
    assert_eq!(e.len(), n, "expected {n} error(s) at {at}, got {e:#?}");
    for issue in outcome
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
    {
        assert_eq!(issue.expression, at, "errors: {e:#?}");
    }
}

/// A profile as a differential over `base` (a type name or a URL).
fn profile(name: &str, ty: &str, base: &str, elements: Value) -> Value {
    let base = if base.contains(':') {
        base.to_string()
    } else {
        format!("http://hl7.org/fhir/StructureDefinition/{base}")
    };
    json!({
        "resourceType": "StructureDefinition",
        "url": format!("http://example.org/fhir/StructureDefinition/{name}"),
        "name": name,
        "status": "draft",
        "kind": if ty.starts_with(|c: char| c.is_ascii_lowercase()) { "primitive-type" } else { "resource" },
        "abstract": false,
        "type": ty,
        "baseDefinition": base,
        "derivation": "constraint",
        "differential": {"element": elements}
    })
}

fn url(name: &str) -> String {
    format!("http://example.org/fhir/StructureDefinition/{name}")
}

fn observation(value: (&str, Value)) -> Value {
    let mut o = json!({
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "weight"}
    });
    o[value.0] = value.1;
    o
}

// ---------------------------------------------------------------------
// Slicing by type (profiling.html#slicing, "type" discriminator;
// elementdefinition.html#choice for type-named paths).

/// A profile that constrains `valueQuantity` by its type-named path: the
/// constraint holds for Quantity values; the other types of `value[x]`
/// stay allowed.
fn quantity_units_profile() -> Value {
    profile(
        "QuantityUnits",
        "Observation",
        "Observation",
        json!([
            {"id": "Observation.valueQuantity", "path": "Observation.valueQuantity"},
            {"id": "Observation.valueQuantity.system", "path": "Observation.valueQuantity.system",
             "min": 1, "fixedUri": "http://unitsofmeasure.org"}
        ]),
    )
}

#[test]
fn type_named_path_constrains_only_its_type() {
    let p = [quantity_units_profile()];
    let u = url("QuantityUnits");
    let good = observation((
        "valueQuantity",
        json!({"value": 70, "system": "http://unitsofmeasure.org", "code": "kg"}),
    ));
    assert_valid(&validate(&good, &p, &[&u]));
    // Another type of value[x] is not constrained by the Quantity slice.
    let text = observation(("valueString", json!("about seventy kilos")));
    assert_valid(&validate(&text, &p, &[&u]));
    let wrong = observation((
        "valueQuantity",
        json!({"value": 70, "system": "http://example.org/units", "code": "kg"}),
    ));
    assert_errors_at(
        &validate(&wrong, &p, &[&u]),
        1,
        "Observation.valueQuantity.system",
    );
}

#[test]
fn required_type_slice_makes_the_choice_that_type() {
    let p = [profile(
        "QuantityRequired",
        "Observation",
        "Observation",
        json!([{"id": "Observation.valueQuantity", "path": "Observation.valueQuantity", "min": 1}]),
    )];
    let u = url("QuantityRequired");
    let good = observation(("valueQuantity", json!({"value": 70})));
    assert_valid(&validate(&good, &p, &[&u]));
    let text = observation(("valueString", json!("seventy")));
    assert!(validate(&text, &p, &[&u]).has_errors());
}

#[test]
fn several_type_slices_on_one_choice_element() {
    let p = [profile(
        "QuantityOrShortText",
        "Observation",
        "Observation",
        json!([
            {"id": "Observation.value[x]", "path": "Observation.value[x]",
             "slicing": {"discriminator": [{"type": "type", "path": "$this"}], "rules": "closed"},
             "type": [{"code": "Quantity"}, {"code": "string"}]},
            {"id": "Observation.value[x]:valueQuantity", "path": "Observation.value[x]",
             "sliceName": "valueQuantity", "type": [{"code": "Quantity"}]},
            {"id": "Observation.value[x]:valueQuantity.unit", "path": "Observation.value[x].unit", "min": 1},
            {"id": "Observation.value[x]:valueString", "path": "Observation.value[x]",
             "sliceName": "valueString", "type": [{"code": "string"}], "maxLength": 10}
        ]),
    )];
    let u = url("QuantityOrShortText");
    let q = observation(("valueQuantity", json!({"value": 70, "unit": "kg"})));
    assert_valid(&validate(&q, &p, &[&u]));
    let s = observation(("valueString", json!("seventy")));
    assert_valid(&validate(&s, &p, &[&u]));
    let long = observation(("valueString", json!("seventy kilograms")));
    assert_errors_at(&validate(&long, &p, &[&u]), 1, "Observation.valueString");
    let no_unit = observation(("valueQuantity", json!({"value": 70})));
    assert_errors_at(
        &validate(&no_unit, &p, &[&u]),
        1,
        "Observation.valueQuantity.unit",
    );
    let boolean = observation(("valueBoolean", json!(true)));
    assert!(validate(&boolean, &p, &[&u]).has_errors());
}

#[test]
fn type_slice_named_without_its_type() {
    // The slice's type is read from its name (`valueQuantity`).
    let p = [profile(
        "QuantityByName",
        "Observation",
        "Observation",
        json!([
            {"id": "Observation.value[x]", "path": "Observation.value[x]",
             "slicing": {"discriminator": [{"type": "type", "path": "$this"}], "rules": "open"}},
            {"id": "Observation.value[x]:valueQuantity", "path": "Observation.value[x]",
             "sliceName": "valueQuantity"},
            {"id": "Observation.value[x]:valueQuantity.code", "path": "Observation.value[x].code", "min": 1}
        ]),
    )];
    let u = url("QuantityByName");
    let text = observation(("valueString", json!("seventy")));
    assert_valid(&validate(&text, &p, &[&u]));
    let no_code = observation(("valueQuantity", json!({"value": 70})));
    assert_errors_at(
        &validate(&no_code, &p, &[&u]),
        1,
        "Observation.valueQuantity.code",
    );
}

#[test]
fn slicing_by_type_on_a_string_element() {
    // A single-typed element may be sliced by type too: every value is of
    // that type, so it is in the slice.
    let p = [profile(
        "GivenByType",
        "Patient",
        "Patient",
        json!([
            {"id": "Patient.name.given", "path": "Patient.name.given",
             "slicing": {"discriminator": [{"type": "type", "path": "$this"}], "rules": "closed"}},
            {"id": "Patient.name.given:text", "path": "Patient.name.given",
             "sliceName": "text", "type": [{"code": "string"}], "min": 1}
        ]),
    )];
    let u = url("GivenByType");
    let good = json!({"resourceType": "Patient", "name": [{"given": ["Ann", "Mary"]}]});
    assert_valid(&validate(&good, &p, &[&u]));
    let none = json!({"resourceType": "Patient", "name": [{"family": "Smith"}]});
    assert_errors_at(&validate(&none, &p, &[&u]), 1, "Patient.name[0].given");
}

#[test]
fn extension_value_type_named_restricts_the_extension() {
    let ext = json!({
        "resourceType": "StructureDefinition",
        "url": "http://example.org/fhir/StructureDefinition/nickname",
        "name": "Nickname", "status": "draft", "kind": "complex-type", "abstract": false,
        "context": [{"type": "element", "expression": "Patient"}],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {"element": [
            {"id": "Extension.url", "path": "Extension.url",
             "fixedUri": "http://example.org/fhir/StructureDefinition/nickname"},
            {"id": "Extension.valueString", "path": "Extension.valueString", "maxLength": 20}
        ]}
    });
    let with = |value: (&str, Value)| {
        let mut x = json!({"url": "http://example.org/fhir/StructureDefinition/nickname"});
        x[value.0] = value.1;
        json!({"resourceType": "Patient", "extension": [x]})
    };
    assert_valid(&validate(
        &with(("valueString", json!("Annie"))),
        &[ext.clone()],
        &[],
    ));
    assert!(validate(&with(("valueBoolean", json!(true))), &[ext.clone()], &[]).has_errors());
    assert_errors_at(
        &validate(&with(("valueString", json!("a".repeat(30)))), &[ext], &[]),
        1,
        "Patient.extension[0].valueString",
    );
}

#[test]
fn a_value_in_two_slices_is_an_error() {
    // Slices must not overlap: a value matching two (not a re-slice of the
    // other) is reported once, at the value.
    let p = [profile(
        "TwoNhs",
        "Patient",
        "Patient",
        json!([
            {"id": "Patient.identifier", "path": "Patient.identifier",
             "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "open"}},
            {"id": "Patient.identifier:a", "path": "Patient.identifier", "sliceName": "a"},
            {"id": "Patient.identifier:a.system", "path": "Patient.identifier.system",
             "fixedUri": "https://fhir.nhs.uk/Id/nhs-number"},
            {"id": "Patient.identifier:b", "path": "Patient.identifier", "sliceName": "b"},
            {"id": "Patient.identifier:b.system", "path": "Patient.identifier.system",
             "fixedUri": "https://fhir.nhs.uk/Id/nhs-number"}
        ]),
    )];
    let u = url("TwoNhs");
    let pat = json!({"resourceType": "Patient", "identifier": [
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}
    ]});
    assert_errors_at(&validate(&pat, &p, &[&u]), 1, "Patient.identifier[0]");
}

#[test]
fn a_value_in_a_slice_and_its_reslice_is_not_an_error() {
    let p = [profile(
        "Reslice",
        "Patient",
        "Patient",
        json!([
            {"id": "Patient.identifier", "path": "Patient.identifier",
             "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "open"}},
            {"id": "Patient.identifier:nhs", "path": "Patient.identifier", "sliceName": "nhs", "max": "1"},
            {"id": "Patient.identifier:nhs.system", "path": "Patient.identifier.system",
             "fixedUri": "https://fhir.nhs.uk/Id/nhs-number"},
            {"id": "Patient.identifier:nhs/official", "path": "Patient.identifier", "sliceName": "nhs/official"},
            {"id": "Patient.identifier:nhs/official.system", "path": "Patient.identifier.system",
             "fixedUri": "https://fhir.nhs.uk/Id/nhs-number"}
        ]),
    )];
    let u = url("Reslice");
    let pat = json!({"resourceType": "Patient", "identifier": [
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}
    ]});
    assert_valid(&validate(&pat, &p, &[&u]));
}
