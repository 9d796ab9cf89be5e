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
use fhir_core::validation::{Options, Outcome, ReferencePolicy, Severity, Validator};
use serde_json::{json, Value};

static BASE: LazyLock<Registry> = LazyLock::new(|| {
    Registry::base_r4(&cache::cache_dir())
        .expect("base R4 is installed in the package cache (carer-fhir packages install)")
});

static MODEL: LazyLock<Arc<ModelInfo>> =
    LazyLock::new(|| Arc::new(ModelInfo::from_registry(&BASE)));

/// Validates `resource` with `supporting` conformance resources loaded,
/// against its type, its claimed profiles and `profiles`. The test data
/// uses example addresses (RFC 2606), so examples are allowed.
fn validate(resource: &Value, supporting: &[Value], profiles: &[&str]) -> Outcome {
    validate_with(
        resource,
        supporting,
        profiles,
        Options {
            allow_examples: true,
            ..Options::default()
        },
    )
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
fn slicing_by_a_string_value_in_a_type_slice() {
    // profiling.html, discriminator `value`: the path `value` names
    // `value[x]`, which is sliced by type (implicitly), so the fixed string
    // of its `valueString` slice tells the slices apart.
    let p = [profile(
        "TwoStrings",
        "Patient",
        "Patient",
        json!([
            {"id": "Patient.extension", "path": "Patient.extension",
             "slicing": {"discriminator": [{"type": "value", "path": "url"}, {"type": "value", "path": "value"}],
                         "rules": "closed"}},
            {"id": "Patient.extension:a", "path": "Patient.extension", "sliceName": "a", "min": 1, "max": "1"},
            {"id": "Patient.extension:a.url", "path": "Patient.extension.url", "fixedUri": "http://example.org/x"},
            {"id": "Patient.extension:a.value[x]:valueString", "path": "Patient.extension.value[x]",
             "sliceName": "valueString", "fixedString": "A"},
            {"id": "Patient.extension:b", "path": "Patient.extension", "sliceName": "b", "min": 1, "max": "1"},
            {"id": "Patient.extension:b.url", "path": "Patient.extension.url", "fixedUri": "http://example.org/x"},
            {"id": "Patient.extension:b.value[x]:valueString", "path": "Patient.extension.value[x]",
             "sliceName": "valueString", "fixedString": "B"}
        ]),
    )];
    let u = url("TwoStrings");
    let pat = |values: &[&str]| {
        let ext: Vec<Value> = values
            .iter()
            .map(|v| json!({"url": "http://example.org/x", "valueString": v}))
            .collect();
        json!({"resourceType": "Patient", "extension": ext})
    };
    assert_valid(&validate_with(
        &pat(&["A", "B"]),
        &p,
        &[&u],
        Options {
            allow_examples: true,
            ..Options::default()
        },
    ));
    // Two of slice a and none of b.
    let e = errors(&validate_with(
        &pat(&["A", "A"]),
        &p,
        &[&u],
        Options {
            allow_examples: true,
            ..Options::default()
        },
    ));
    assert_eq!(e.len(), 2, "{e:#?}");
}

#[test]
fn constraints_inside_a_profiled_extension_keep_its_sub_extensions() {
    // A profile that constrains a complex extension's sub-extension slices
    // (`extension:proficiency.extension:level`) unfolds them from the
    // extension's own definition, with their fixed URLs.
    let p = [profile(
        "Proficient",
        "Patient",
        "Patient",
        json!([
            {"id": "Patient.communication.extension", "path": "Patient.communication.extension",
             "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"}},
            {"id": "Patient.communication.extension:proficiency", "path": "Patient.communication.extension",
             "sliceName": "proficiency", "max": "1",
             "type": [{"code": "Extension", "profile": ["http://hl7.org/fhir/StructureDefinition/patient-proficiency"]}]},
            {"id": "Patient.communication.extension:proficiency.extension:level",
             "path": "Patient.communication.extension.extension", "sliceName": "level", "min": 1}
        ]),
    )];
    let u = url("Proficient");
    let pat = |sub: Value| {
        json!({"resourceType": "Patient", "communication": [{"language": {"text": "en"}, "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-proficiency", "extension": sub}]}]})
    };
    let level = json!({"url": "level", "valueCoding": {
        "system": "http://terminology.hl7.org/CodeSystem/v3-LanguageAbilityProficiency", "code": "P"}});
    let kind = json!({"url": "type", "valueCoding": {
        "system": "http://terminology.hl7.org/CodeSystem/v3-LanguageAbilityMode", "code": "ESP"}});
    assert_valid(&validate(&pat(json!([level, kind.clone()])), &p, &[&u]));
    assert!(validate(&pat(json!([kind])), &p, &[&u]).has_errors());
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
        std::slice::from_ref(&ext),
        &[],
    ));
    assert!(validate(
        &with(("valueBoolean", json!(true))),
        std::slice::from_ref(&ext),
        &[]
    )
    .has_errors());
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

// ---------------------------------------------------------------------
// Profiles and choices among profiles (elementdefinition-definitions.html
// #ElementDefinition.type.profile and .targetProfile; references.html).

/// A Patient profile that requires one element.
fn patient_requiring(name: &str, element: &str) -> Value {
    profile(
        name,
        "Patient",
        "Patient",
        json!([{"id": format!("Patient.{element}"), "path": format!("Patient.{element}"), "min": 1}]),
    )
}

/// A collection Bundle profile whose entries' resources must conform to
/// one of `profiles`.
fn bundle_of(name: &str, profiles: &[&str]) -> Value {
    profile(
        name,
        "Bundle",
        "Bundle",
        json!([{"id": "Bundle.entry.resource", "path": "Bundle.entry.resource",
                "type": [{"code": "Resource", "profile": profiles}]}]),
    )
}

fn collection(resources: &[Value]) -> Value {
    let entries: Vec<Value> = resources
        .iter()
        .map(|r| {
            json!({"fullUrl": format!("http://example.org/fhir/{}/{}", r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap()),
                   "resource": r})
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "collection", "entry": entries})
}

#[test]
fn a_resource_must_conform_to_its_one_type_profile() {
    let gender = url("WithGender");
    let p = [
        patient_requiring("WithGender", "gender"),
        bundle_of("Patients", &[&gender]),
    ];
    let b = url("Patients");
    let good = collection(&[json!({"resourceType": "Patient", "id": "a", "gender": "female"})]);
    assert_valid(&validate(&good, &p, &[&b]));
    let bad = collection(&[json!({"resourceType": "Patient", "id": "a"})]);
    assert_errors_at(
        &validate(&bad, &p, &[&b]),
        1,
        "Bundle.entry[0].resource.gender",
    );
    let other = collection(&[
        json!({"resourceType": "Group", "id": "g", "type": "person", "actual": true}),
    ]);
    assert_errors_at(&validate(&other, &p, &[&b]), 1, "Bundle.entry[0].resource");
}

#[test]
fn a_resource_must_conform_to_one_of_several_type_profiles() {
    let (gender, birth) = (url("WithGender"), url("WithBirthDate"));
    let p = [
        patient_requiring("WithGender", "gender"),
        patient_requiring("WithBirthDate", "birthDate"),
        bundle_of("EitherPatients", &[&gender, &birth]),
    ];
    let b = url("EitherPatients");
    let one =
        collection(&[json!({"resourceType": "Patient", "id": "a", "birthDate": "1970-01-01"})]);
    assert_valid(&validate(&one, &p, &[&b]));
    let neither = collection(&[json!({"resourceType": "Patient", "id": "a"})]);
    assert_errors_at(
        &validate(&neither, &p, &[&b]),
        1,
        "Bundle.entry[0].resource",
    );
}

#[test]
fn a_datatype_must_conform_to_one_of_several_type_profiles() {
    let address = |name: &str, element: &str| {
        profile(
            name,
            "Address",
            "Address",
            json!([{"id": format!("Address.{element}"), "path": format!("Address.{element}"), "min": 1}]),
        )
    };
    let p = [
        address("AddressWithCity", "city"),
        address("AddressWithPostcode", "postalCode"),
        profile(
            "PatientAddress",
            "Patient",
            "Patient",
            json!([{"id": "Patient.address", "path": "Patient.address",
                    "type": [{"code": "Address", "profile": [url("AddressWithCity"), url("AddressWithPostcode")]}]}]),
        ),
    ];
    let u = url("PatientAddress");
    let city = json!({"resourceType": "Patient", "address": [{"city": "Leeds"}]});
    assert_valid(&validate(&city, &p, &[&u]));
    // One error for no match, and the fault each profile found.
    let neither = json!({"resourceType": "Patient", "address": [{"country": "UK"}]});
    let e = errors(&validate(&neither, &p, &[&u]));
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(
        e[0].starts_with("Patient.address[0]: Unable to find a match"),
        "{e:#?}"
    );
}

/// An Observation profile whose subject must be a Patient conforming to
/// `target`.
fn observation_about(name: &str, target: &str) -> Value {
    profile(
        name,
        "Observation",
        "Observation",
        json!([{"id": "Observation.subject", "path": "Observation.subject",
                "type": [{"code": "Reference", "targetProfile": [target]}]}]),
    )
}

#[test]
fn a_reference_target_in_the_bundle_must_conform_to_a_target_profile() {
    let gender = url("WithGender");
    let p = [
        patient_requiring("WithGender", "gender"),
        observation_about("AboutGendered", &gender),
    ];
    let obs = |subject: &str| {
        let mut o = observation(("valueString", json!("x")));
        o["id"] = json!("o");
        o["meta"] = json!({"profile": [url("AboutGendered")]});
        o["subject"] = json!({"reference": subject});
        o
    };
    let good = collection(&[
        obs("Patient/a"),
        json!({"resourceType": "Patient", "id": "a", "gender": "male"}),
    ]);
    assert_valid(&validate(&good, &p, &[]));
    let bad = collection(&[
        obs("Patient/a"),
        json!({"resourceType": "Patient", "id": "a"}),
    ]);
    assert_errors_at(
        &validate(&bad, &p, &[]),
        1,
        "Bundle.entry[0].resource.subject",
    );
    let group = collection(&[
        obs("Group/a"),
        json!({"resourceType": "Group", "id": "a", "type": "person", "actual": true}),
    ]);
    assert_errors_at(
        &validate(&group, &p, &[]),
        1,
        "Bundle.entry[0].resource.subject",
    );
}

#[test]
fn a_contained_reference_must_resolve_and_conform() {
    let gender = url("WithGender");
    let p = [
        patient_requiring("WithGender", "gender"),
        observation_about("AboutGendered", &gender),
    ];
    let u = url("AboutGendered");
    let obs = |patient: Value, reference: &str| {
        let mut o = observation(("valueString", json!("x")));
        o["contained"] = json!([patient]);
        o["subject"] = json!({"reference": reference});
        o
    };
    let good = obs(
        json!({"resourceType": "Patient", "id": "p", "gender": "other"}),
        "#p",
    );
    assert_valid(&validate(&good, &p, &[&u]));
    let bad = obs(json!({"resourceType": "Patient", "id": "p"}), "#p");
    assert_errors_at(&validate(&bad, &p, &[&u]), 1, "Observation.subject");
    let dangling = obs(
        json!({"resourceType": "Patient", "id": "p", "gender": "other"}),
        "#q",
    );
    assert!(errors(&validate(&dangling, &p, &[&u]))
        .iter()
        .any(|e| e.starts_with("Observation.subject: Unable to resolve")));
}

/// A Patient profile that asks linked patients to conform to itself.
fn linked_to_self() -> Value {
    let me = url("LinkedOther");
    profile(
        "LinkedOther",
        "Patient",
        "Patient",
        json!([
            {"id": "Patient.gender", "path": "Patient.gender", "fixedCode": "other"},
            {"id": "Patient.link.other", "path": "Patient.link.other",
             "type": [{"code": "Reference", "targetProfile": [me]}]}
        ]),
    )
}

#[test]
fn profiles_that_refer_back_to_themselves_end() {
    let p = [linked_to_self()];
    let patient = |id: &str, gender: &str, other: &str| {
        json!({"resourceType": "Patient", "id": id, "gender": gender,
               "meta": {"profile": [url("LinkedOther")]},
               "link": [{"other": {"reference": format!("Patient/{other}")}, "type": "seealso"}]})
    };
    // Two patients that link to each other, both conforming.
    let circle = collection(&[patient("a", "other", "b"), patient("b", "other", "a")]);
    assert_valid(&validate(&circle, &p, &[]));
    // b does not conform: a's link is in error, and b's own gender.
    let broken = collection(&[patient("a", "other", "b"), patient("b", "male", "a")]);
    let e = errors(&validate(&broken, &p, &[]));
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e.iter()
            .any(|m| m.starts_with("Bundle.entry[0].resource.link[0].other:")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|m| m.starts_with("Bundle.entry[1].resource.gender:")),
        "{e:#?}"
    );
}

#[test]
fn references_out_of_the_instance_follow_the_policy() {
    let p = [linked_to_self()];
    let u = url("LinkedOther");
    let pat = json!({"resourceType": "Patient", "gender": "other",
                     "link": [{"other": {"reference": "Patient/elsewhere"}, "type": "seealso"}]});
    // Not followed by default.
    assert_valid(&validate(&pat, &p, &[&u]));
    let mut registry = BASE.clone();
    registry.add(p[0].clone());
    let with = |policy: ReferencePolicy, found: Option<Value>| {
        Validator::with_model(&registry, MODEL.clone())
            .with_options(Options {
                reference_policy: policy,
                ..Options::default()
            })
            .with_resolver(Arc::new(move |_: &str| found.clone()))
            .validate_against(&pat, &[&u])
    };
    assert_errors_at(
        &with(ReferencePolicy::CheckExists, None),
        1,
        "Patient.link[0].other",
    );
    let male = json!({"resourceType": "Patient", "id": "elsewhere", "gender": "male"});
    // Existence only: the target's content is not judged.
    assert_valid(&with(ReferencePolicy::CheckExists, Some(male.clone())));
    assert_errors_at(
        &with(ReferencePolicy::CheckValid, Some(male)),
        1,
        "Patient.link[0].other",
    );
    let other = json!({"resourceType": "Patient", "id": "elsewhere", "gender": "other"});
    assert_valid(&with(ReferencePolicy::CheckValid, Some(other)));
}

// ---------------------------------------------------------------------
// Bundles (bundle.html, search.html, documents.html, messaging.html).

fn bundle(ty: &str, entries: Value) -> Value {
    json!({"resourceType": "Bundle", "type": ty, "entry": entries})
}

fn patient_entry(full_url: &str, id: Option<&str>) -> Value {
    let mut r = json!({"resourceType": "Patient"});
    if let Some(id) = id {
        r["id"] = json!(id);
    }
    json!({"fullUrl": full_url, "resource": r})
}

#[test]
fn search_set_entries_follow_their_mode() {
    let self_link =
        json!([{"relation": "self", "url": "http://example.org/fhir/Patient?name=smith"}]);
    let mut good = bundle(
        "searchset",
        json!([
            {"fullUrl": "http://example.org/fhir/Patient/1", "resource": {"resourceType": "Patient", "id": "1"}, "search": {"mode": "match"}},
            {"fullUrl": "urn:uuid:4d8b7b6e-98a6-4bd4-8f7c-0a2f1d3e5b61", "resource": {"resourceType": "OperationOutcome",
              "issue": [{"severity": "information", "code": "informational"}]}, "search": {"mode": "outcome"}}
        ]),
    );
    good["link"] = self_link.clone();
    assert_valid(&validate(&good, &[], &[]));
    let mut bad = bundle(
        "searchset",
        json!([
            {"fullUrl": "urn:uuid:0b0c7b55-0d9f-4c2c-9a67-2a3b07e8a3f1", "resource": {"resourceType": "Patient"}, "search": {"mode": "match"}},
            {"fullUrl": "http://example.org/fhir/Group/2", "resource": {"resourceType": "Group", "id": "2", "type": "person", "actual": true}, "search": {"mode": "match"}},
            {"fullUrl": "http://example.org/fhir/Patient/3", "resource": {"resourceType": "Patient", "id": "3"}, "search": {"mode": "outcome"}}
        ]),
    );
    bad["link"] = self_link;
    let e = errors(&validate(&bad, &[], &[]));
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e[0].starts_with("Bundle.entry[0].resource: Search results must have ids"));
    assert!(e[1].starts_with("Bundle.entry[1].resource: This is not a matching resource type"));
    assert!(e[2].starts_with("Bundle.entry[2].resource: This is not an OperationOutcome"));
}

#[test]
fn paging_links_belong_to_searches() {
    let mut doc = collection(&[json!({"resourceType": "Patient", "id": "a"})]);
    doc["link"] = json!([{"relation": "next", "url": "http://example.org/fhir/x"}]);
    assert_errors_at(&validate(&doc, &[], &[]), 1, "Bundle.link[0].relation");
    let mut search = bundle("searchset", json!([]));
    search.as_object_mut().unwrap().remove("entry");
    search["link"] = json!([
        {"relation": "self", "url": "http://example.org/fhir/Patient"},
        {"relation": "next", "url": "http://example.org/fhir/Patient?page=2"},
        {"relation": "next", "url": "http://example.org/fhir/Patient?page=3"},
        {"relation": "alternate", "url": "http://example.org/a"},
        {"relation": "alternate", "url": "http://example.org/b"}
    ]);
    assert_errors_at(&validate(&search, &[], &[]), 1, "Bundle.link[2]");
}

#[test]
fn full_urls_identify_their_entries() {
    // Required outside transactions and batches.
    let none = bundle(
        "collection",
        json!([{"resource": {"resourceType": "Patient", "id": "a"}}]),
    );
    assert_errors_at(&validate(&none, &[], &[]), 1, "Bundle.entry[0]");
    let tx = bundle(
        "transaction",
        json!([{"resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}}]),
    );
    assert_valid(&validate(&tx, &[], &[]));
    // A RESTful fullUrl ends with the resource's type and id.
    let wrong = bundle(
        "collection",
        json!([patient_entry(
            "http://example.org/fhir/Patient/b",
            Some("a")
        )]),
    );
    assert_errors_at(&validate(&wrong, &[], &[]), 1, "Bundle.entry[0]");
    let no_id = bundle(
        "collection",
        json!([patient_entry("http://example.org/fhir/Patient/b", None)]),
    );
    assert_errors_at(&validate(&no_id, &[], &[]), 1, "Bundle.entry[0]");
}

#[test]
fn references_in_a_bundle_resolve_to_one_entry() {
    let obs = |subject: &str| {
        json!({"fullUrl": "http://example.org/fhir/Observation/o",
               "resource": {"resourceType": "Observation", "id": "o", "status": "final",
                            "code": {"text": "x"}, "subject": {"reference": subject}}})
    };
    let one = bundle(
        "collection",
        json!([
            obs("Patient/a"),
            patient_entry("http://example.org/fhir/Patient/a", Some("a"))
        ]),
    );
    assert_valid(&validate(&one, &[], &[]));
    // Two entries with the same identity (which bdl-7 forbids too): the
    // reference is ambiguous.
    let two = bundle(
        "collection",
        json!([
            obs("Patient/a"),
            patient_entry("http://example.org/fhir/Patient/a", Some("a")),
            patient_entry("http://example.org/fhir/Patient/a", Some("a"))
        ]),
    );
    let e = errors(&validate(&two, &[], &[]));
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e.iter()
            .any(|m| m.starts_with("Bundle: Constraint failed: bdl-7")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|m| m.starts_with("Bundle.entry[0].resource.subject: Multiple matches")),
        "{e:#?}"
    );
    // A relative reference from an entry without a fullUrl cannot be
    // resolved: the entry and the reference are both in error.
    let tx = bundle(
        "transaction",
        json!([{"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                             "subject": {"reference": "Patient/a"}},
                "request": {"method": "POST", "url": "Observation"}}]),
    );
    let e = errors(&validate(&tx, &[], &[]));
    assert_eq!(e.len(), 2, "{e:#?}");
}

#[test]
fn conditional_references_are_valid_searches() {
    let tx = |reference: &str| {
        bundle(
            "transaction",
            json!([{"fullUrl": "urn:uuid:3f0a6c57-7a36-4f4e-9d0e-9d4c1f8d2a10",
                    "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                                 "subject": {"reference": reference}},
                    "request": {"method": "POST", "url": "Observation"}}]),
        )
    };
    assert_valid(&validate(
        &tx("Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"),
        &[],
        &[],
    ));
    assert!(validate(&tx("Patient?=x"), &[], &[]).has_errors());
}

#[test]
fn documents_resolve_and_reach_every_entry() {
    let composition = |subject: &str| {
        json!({"fullUrl": "urn:uuid:6a1c2f0e-3b5d-4f7a-9c8e-1d2b3a4c5e6f",
               "resource": {"resourceType": "Composition", "status": "final", "type": {"text": "note"},
                            "date": "2024-01-01", "title": "Note",
                            "author": [{"reference": "urn:uuid:9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}],
                            "subject": {"reference": subject}}})
    };
    let author = json!({"fullUrl": "urn:uuid:9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                        "resource": {"resourceType": "Practitioner"}});
    let patient = json!({"fullUrl": "urn:uuid:1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                         "resource": {"resourceType": "Patient"}});
    let doc = |entries: Value| {
        let mut b = bundle("document", entries);
        b["identifier"] = json!({"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"});
        b["timestamp"] = json!("2024-01-01T00:00:00Z");
        b
    };
    let good = doc(json!([
        composition("urn:uuid:1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
        author.clone(),
        patient.clone()
    ]));
    assert_valid(&validate(&good, &[], &[]));
    // The subject is not in the document, and the patient is reached by
    // nothing.
    let bad = doc(json!([
        composition("urn:uuid:00000000-0000-4000-8000-000000000000"),
        author,
        patient
    ]));
    let e = errors(&validate(&bad, &[], &[]));
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e[0].starts_with("Bundle.entry[0].resource.subject"),
        "{e:#?}"
    );
    assert!(e[1].starts_with("Bundle.entry[2]:"), "{e:#?}");
}

#[test]
fn document_entries_reached_by_urls_and_stylesheets() {
    // documents.html: every entry is reached from the Composition; an
    // Attachment's url names a Binary as a reference does, and a
    // relative stylesheet link names a resource in the document.
    let doc = |binary_url: &str, stylesheet: &str| {
        json!({"resourceType": "Bundle", "type": "document",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"},
        "timestamp": "2024-01-01T00:00:00Z",
        "link": [{"relation": "stylesheet", "url": stylesheet}],
        "entry": [
          {"fullUrl": "http://example.org/fhir/Composition/c1",
           "resource": {"resourceType": "Composition", "id": "c1", "status": "final", "type": {"text": "note"},
                        "date": "2024-01-01", "title": "Note",
                        "author": [{"display": "Dr Who"}],
                        "section": [{"title": "Scan", "entry": [{"reference": "DocumentReference/d1"}]}]}},
          {"fullUrl": "http://example.org/fhir/DocumentReference/d1",
           "resource": {"resourceType": "DocumentReference", "id": "d1", "status": "current",
                        "content": [{"attachment": {"contentType": "image/png", "url": binary_url}}]}},
          {"fullUrl": "http://example.org/fhir/Binary/b1",
           "resource": {"resourceType": "Binary", "id": "b1", "contentType": "image/png"}},
          {"fullUrl": "http://example.org/fhir/Binary/css",
           "resource": {"resourceType": "Binary", "id": "css", "contentType": "text/css"}}
        ]})
    };
    assert_valid(&validate(&doc("Binary/b1", "Binary/css"), &[], &[]));
    // The stylesheet names no entry: the link is an error, and the entry
    // nothing else reaches is one too.
    let e = errors(&validate(&doc("Binary/b1", "Binary/nothing"), &[], &[]));
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e.iter().any(|e| e.starts_with("Bundle.link[0].url")),
        "{e:#?}"
    );
    // The attachment points elsewhere: the Binary is reached by nothing.
    let e = errors(&validate(
        &doc("https://example.org/scan.png", "Binary/css"),
        &[],
        &[],
    ));
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(e[0].starts_with("Bundle.entry[2]"), "{e:#?}");
}

#[test]
fn narrative_fragment_links_name_something_in_the_resource() {
    let pat = |href: &str| {
        json!({"resourceType": "Patient", "id": "p1", "text": {"status": "generated",
               "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p id=\"here\">Ann</p><a href=\"{href}\">see</a></div>")}})
    };
    assert_valid(&validate(&pat("#here"), &[], &[]));
    assert_valid(&validate(&pat("#p1"), &[], &[]));
    assert_errors_at(&validate(&pat("#nowhere"), &[], &[]), 1, "Patient.text.div");
}

#[test]
fn narrative_links_must_be_followable() {
    let pat = |href: &str| {
        json!({"resourceType": "Patient", "text": {"status": "generated",
               "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"{href}\">Ann</a></div>")}})
    };
    assert_valid(&validate(&pat("https://example.org/ann"), &[], &[]));
    assert_errors_at(
        &validate(
            &pat("urn:uuid:1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
            &[],
            &[],
        ),
        1,
        "Patient.text.div",
    );
}

// ---------------------------------------------------------------------
// Constraints carried by extensions and definitions (elementdefinition.html;
// the minLength, maxDecimalPlaces, maxSize and regex extensions;
// datatypes.html#Attachment; extensibility.html#context).

fn with_extension(element: Value, name: &str, value: Value) -> Value {
    let mut e = element;
    let key = if value.is_string() {
        "valueString"
    } else {
        "valueInteger"
    };
    e["extension"] =
        json!([{ "url": format!("http://hl7.org/fhir/StructureDefinition/{name}"), key: value }]);
    e
}

#[test]
fn min_length_from_its_extension() {
    let p = [profile(
        "LongFamily",
        "Patient",
        "Patient",
        json!([with_extension(
            json!({"id": "Patient.name.family", "path": "Patient.name.family"}),
            "minLength",
            json!(3)
        )]),
    )];
    let u = url("LongFamily");
    let ok = json!({"resourceType": "Patient", "name": [{"family": "Lee"}]});
    assert_valid(&validate(&ok, &p, &[&u]));
    let short = json!({"resourceType": "Patient", "name": [{"family": "Li"}]});
    assert_errors_at(&validate(&short, &p, &[&u]), 1, "Patient.name[0].family");
}

#[test]
fn max_decimal_places_from_its_extension() {
    let p = [profile(
        "TwoPlaces",
        "Observation",
        "Observation",
        json!([
            {"id": "Observation.valueQuantity", "path": "Observation.valueQuantity"},
            with_extension(
                json!({"id": "Observation.valueQuantity.value", "path": "Observation.valueQuantity.value"}),
                "maxDecimalPlaces",
                json!(2)
            )
        ]),
    )];
    let u = url("TwoPlaces");
    let value = |text: &str| {
        observation((
            "valueQuantity",
            serde_json::from_str::<Value>(&format!("{{\"value\": {text}}}")).unwrap(),
        ))
    };
    assert_valid(&validate(&value("70.25"), &p, &[&u]));
    assert_valid(&validate(&value("70"), &p, &[&u]));
    assert_errors_at(
        &validate(&value("70.255"), &p, &[&u]),
        1,
        "Observation.valueQuantity.value",
    );
}

#[test]
fn attachment_size_and_hash_describe_the_data() {
    // "aGVsbG8=" is "hello": 5 bytes, SHA-1 qvTGHdzF6KLavt4PO0gs2a6pQ00=.
    let doc = |attachment: Value| {
        json!({"resourceType": "DocumentReference", "status": "current",
               "content": [{"attachment": attachment}]})
    };
    let good = doc(
        json!({"contentType": "text/plain", "data": "aGVsbG8=", "size": 5,
                          "hash": "qvTGHdzF6KLavt4PO0gs2a6pQ00="}),
    );
    assert_valid(&validate(&good, &[], &[]));
    let wrong_size = doc(json!({"contentType": "text/plain", "data": "aGVsbG8=", "size": 6}));
    assert_errors_at(
        &validate(&wrong_size, &[], &[]),
        1,
        "DocumentReference.content[0].attachment",
    );
    let wrong_hash = doc(json!({"contentType": "text/plain", "data": "aGVsbG8=",
                                "hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}));
    assert_errors_at(
        &validate(&wrong_hash, &[], &[]),
        1,
        "DocumentReference.content[0].attachment",
    );
}

#[test]
fn limits_carry_into_derived_profiles() {
    let base = profile(
        "FewBirths",
        "Patient",
        "Patient",
        json!([{"id": "Patient.multipleBirth[x]", "path": "Patient.multipleBirth[x]",
                "type": [{"code": "integer"}], "maxValueInteger": 5}]),
    );
    let derived = profile(
        "FewBirthsNamed",
        "Patient",
        &url("FewBirths"),
        json!([{"id": "Patient.name", "path": "Patient.name", "min": 1}]),
    );
    let p = [base, derived];
    let u = url("FewBirthsNamed");
    let ok =
        json!({"resourceType": "Patient", "name": [{"family": "Lee"}], "multipleBirthInteger": 2});
    assert_valid(&validate(&ok, &p, &[&u]));
    let many =
        json!({"resourceType": "Patient", "name": [{"family": "Lee"}], "multipleBirthInteger": 7});
    assert_errors_at(
        &validate(&many, &p, &[&u]),
        1,
        "Patient.multipleBirthInteger",
    );
}

#[test]
fn extension_context_may_name_a_profile() {
    let profiled = patient_requiring("WithGender", "gender");
    let ext = json!({
        "resourceType": "StructureDefinition",
        "url": "http://example.org/fhir/StructureDefinition/pronoun",
        "name": "Pronoun", "status": "draft", "kind": "complex-type", "abstract": false,
        "context": [{"type": "element", "expression": format!("{}#Patient", url("WithGender"))}],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {"element": [
            {"id": "Extension.url", "path": "Extension.url",
             "fixedUri": "http://example.org/fhir/StructureDefinition/pronoun"},
            {"id": "Extension.value[x]", "path": "Extension.value[x]", "type": [{"code": "string"}]}
        ]}
    });
    let p = [profiled, ext];
    let pat = |gender: Option<&str>| {
        let mut r = json!({"resourceType": "Patient", "extension": [
            {"url": "http://example.org/fhir/StructureDefinition/pronoun", "valueString": "they"}
        ]});
        if let Some(g) = gender {
            r["gender"] = json!(g);
        }
        r
    };
    // Only a Patient that conforms to the named profile may carry it.
    assert_valid(&validate(&pat(Some("other")), &p, &[]));
    assert_errors_at(&validate(&pat(None), &p, &[]), 1, "Patient.extension[0]");
}

// ---------------------------------------------------------------------
// Questionnaires (questionnaire.html: enableWhen, enableBehavior,
// answerOption; questionnaireresponse.html; the optionExclusive and
// maxDecimalPlaces extensions).

fn questionnaire(items: Value) -> Value {
    json!({"resourceType": "Questionnaire", "url": "http://example.org/fhir/Questionnaire/q",
           "status": "active", "item": items})
}

fn response(items: Value) -> Value {
    json!({"resourceType": "QuestionnaireResponse", "status": "completed",
           "questionnaire": "http://example.org/fhir/Questionnaire/q", "item": items})
}

fn yes_no_then(enable_when: Value, behaviour: Option<&str>) -> Value {
    let mut dependent = json!({"linkId": "why", "type": "string", "enableWhen": enable_when});
    if let Some(b) = behaviour {
        dependent["enableBehavior"] = json!(b);
    }
    questionnaire(json!([
        {"linkId": "smoker", "type": "boolean"},
        {"linkId": "age", "type": "integer"},
        dependent
    ]))
}

fn answered(smoker: Option<bool>, age: Option<i64>) -> Value {
    let mut items = Vec::new();
    if let Some(s) = smoker {
        items.push(json!({"linkId": "smoker", "answer": [{"valueBoolean": s}]}));
    }
    if let Some(a) = age {
        items.push(json!({"linkId": "age", "answer": [{"valueInteger": a}]}));
    }
    items.push(json!({"linkId": "why", "answer": [{"valueString": "because"}]}));
    response(Value::Array(items))
}

#[test]
fn enable_when_exists() {
    let q = [yes_no_then(
        json!([{"question": "smoker", "operator": "exists", "answerBoolean": true}]),
        None,
    )];
    assert_valid(&validate(&answered(Some(false), None), &q, &[]));
    assert!(validate(&answered(None, None), &q, &[]).has_errors());
}

#[test]
fn enable_when_not_equal_needs_an_answer() {
    let q = [yes_no_then(
        json!([{"question": "smoker", "operator": "!=", "answerBoolean": true}]),
        None,
    )];
    assert_valid(&validate(&answered(Some(false), None), &q, &[]));
    // No answer to compare: the condition does not hold.
    assert!(validate(&answered(None, None), &q, &[]).has_errors());
}

#[test]
fn enable_when_compares_by_the_answer_type() {
    let q = [yes_no_then(
        json!([{"question": "age", "operator": ">=", "answerInteger": 18}]),
        None,
    )];
    assert_valid(&validate(&answered(None, Some(18)), &q, &[]));
    assert!(validate(&answered(None, Some(17)), &q, &[]).has_errors());
    // An answer of another type than the condition's is an error.
    let mismatched = [yes_no_then(
        json!([{"question": "age", "operator": ">=", "answerDecimal": 18.5}]),
        None,
    )];
    assert!(validate(&answered(None, Some(20)), &mismatched, &[]).has_errors());
}

#[test]
fn enable_when_several_conditions_follow_enable_behavior() {
    let conditions = json!([
        {"question": "smoker", "operator": "=", "answerBoolean": true},
        {"question": "age", "operator": ">", "answerInteger": 60}
    ]);
    let any = [yes_no_then(conditions.clone(), Some("any"))];
    assert_valid(&validate(&answered(Some(true), Some(30)), &any, &[]));
    let all = [yes_no_then(conditions, Some("all"))];
    assert!(validate(&answered(Some(true), Some(30)), &all, &[]).has_errors());
    assert_valid(&validate(&answered(Some(true), Some(70)), &all, &[]));
}

#[test]
fn enable_when_looks_in_the_enclosing_group_instance() {
    let q = [questionnaire(json!([{
        "linkId": "child", "type": "group", "repeats": true,
        "item": [
            {"linkId": "school", "type": "boolean"},
            {"linkId": "which", "type": "string",
             "enableWhen": [{"question": "school", "operator": "=", "answerBoolean": true}]}
        ]
    }]))];
    let child = |school: bool, which: bool| {
        let mut items = vec![json!({"linkId": "school", "answer": [{"valueBoolean": school}]})];
        if which {
            items.push(json!({"linkId": "which", "answer": [{"valueString": "St Mary's"}]}));
        }
        json!({"linkId": "child", "item": items})
    };
    let good = response(json!([child(true, true), child(false, false)]));
    assert_valid(&validate(&good, &q, &[]));
    // The second child's school answer is no: its own 'which' is disabled,
    // whatever the first child answered.
    let bad = response(json!([child(true, true), child(false, true)]));
    let e = errors(&validate(&bad, &q, &[]));
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].starts_with("QuestionnaireResponse.item[1].item[1]"),
        "{e:#?}"
    );
}

#[test]
fn exclusive_options_stand_alone() {
    let option = |code: &str, exclusive: bool| {
        let mut o = json!({"valueCoding": {"system": "http://example.org/cs", "code": code}});
        if exclusive {
            o["extension"] = json!([{"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive", "valueBoolean": true}]);
        }
        o
    };
    let q = [questionnaire(json!([{
        "linkId": "help", "type": "choice", "repeats": true,
        "answerOption": [option("washing", false), option("meals", false), option("none", true)]
    }]))];
    let answer = |codes: &[&str]| {
        let answers: Vec<Value> = codes
            .iter()
            .map(|c| json!({"valueCoding": {"system": "http://example.org/cs", "code": c}}))
            .collect();
        response(json!([{"linkId": "help", "answer": answers}]))
    };
    assert_valid(&validate(&answer(&["washing", "meals"]), &q, &[]));
    assert_valid(&validate(&answer(&["none"]), &q, &[]));
    assert_eq!(
        errors(&validate(&answer(&["washing", "none"]), &q, &[])).len(),
        1
    );
}

#[test]
fn decimal_answers_keep_their_places() {
    let q = [questionnaire(json!([{
        "linkId": "hours", "type": "decimal",
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces", "valueInteger": 1}]
    }]))];
    let answer = |text: &str| {
        response(
            serde_json::from_str::<Value>(&format!(
                "[{{\"linkId\": \"hours\", \"answer\": [{{\"valueDecimal\": {text}}}]}}]"
            ))
            .unwrap(),
        )
    };
    assert_valid(&validate(&answer("7.5"), &q, &[]));
    assert_eq!(errors(&validate(&answer("7.25"), &q, &[])).len(), 1);
}

#[test]
fn open_choice_free_text_is_not_held_to_the_value_set() {
    // questionnaire.html, open-choice: "a free-text entry in a string";
    // the answerValueSet governs the codings only.
    let vs = json!({"resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/rel",
                    "status": "active", "compose": {"include": [{"system": "http://example.org/cs",
                    "concept": [{"code": "parent"}]}]}});
    let q = [
        questionnaire(json!([{"linkId": "relationship", "type": "open-choice",
                              "answerValueSet": "http://example.org/fhir/ValueSet/rel"}])),
        vs,
    ];
    let answer = |a: Value| response(json!([{"linkId": "relationship", "answer": [a]}]));
    assert_valid(&validate(
        &answer(json!({"valueString": "neighbour"})),
        &q,
        &[],
    ));
    assert!(validate(
        &answer(json!({"valueCoding": {"system": "http://example.org/cs", "code": "friend"}})),
        &q,
        &[]
    )
    .has_errors());
}

#[test]
fn response_items_follow_the_questionnaire() {
    // questionnaireresponse.html: items in the questionnaire's order, with
    // its text; a question nests items under its answers, not beside them;
    // a disabled item has neither answers nor items.
    let q = [questionnaire(json!([
        {"linkId": "a", "text": "First", "type": "string"},
        {"linkId": "b", "text": "Second", "type": "boolean"},
        {"linkId": "c", "type": "group",
         "enableWhen": [{"question": "b", "operator": "=", "answerBoolean": true}],
         "item": [{"linkId": "c1", "type": "string"}]}
    ]))];
    let a = json!({"linkId": "a", "text": "First", "answer": [{"valueString": "x"}]});
    let b = |yes: bool| json!({"linkId": "b", "answer": [{"valueBoolean": yes}]});
    let c = json!({"linkId": "c", "item": [{"linkId": "c1", "answer": [{"valueString": "y"}]}]});
    assert_valid(&validate(&response(json!([a, b(true), c])), &q, &[]));
    // Out of order.
    assert_errors_at(
        &validate(&response(json!([b(true), a])), &q, &[]),
        1,
        "QuestionnaireResponse",
    );
    // Text that is not the questionnaire's.
    let renamed = json!({"linkId": "a", "text": "Another", "answer": [{"valueString": "x"}]});
    assert_errors_at(
        &validate(&response(json!([renamed])), &q, &[]),
        1,
        "QuestionnaireResponse.item[0]",
    );
    // A disabled group that holds items, with no answer of its own.
    assert_errors_at(
        &validate(&response(json!([a, b(false), c])), &q, &[]),
        1,
        "QuestionnaireResponse.item[2]",
    );
    // Items beside a question's answers.
    // (A question with no answer of its own, so that qrs-1, items beside
    // answers, does not fire too.)
    let beside =
        json!({"linkId": "a", "item": [{"linkId": "c1", "answer": [{"valueString": "y"}]}]});
    assert_errors_at(
        &validate(&response(json!([beside])), &q, &[]),
        1,
        "QuestionnaireResponse.item[0]",
    );
}

#[test]
fn open_choice_takes_text_but_codings_from_its_options() {
    let q = [questionnaire(json!([{
        "linkId": "relationship", "type": "open-choice",
        "answerOption": [{"valueCoding": {"system": "http://example.org/cs", "code": "parent"}}]
    }]))];
    let answer = |value: (&str, Value)| {
        let mut a = json!({});
        a[value.0] = value.1;
        response(json!([{"linkId": "relationship", "answer": [a]}]))
    };
    assert_valid(&validate(
        &answer(("valueString", json!("neighbour"))),
        &q,
        &[],
    ));
    assert_valid(&validate(
        &answer((
            "valueCoding",
            json!({"system": "http://example.org/cs", "code": "parent"}),
        )),
        &q,
        &[],
    ));
    assert_eq!(
        errors(&validate(
            &answer((
                "valueCoding",
                json!({"system": "http://example.org/cs", "code": "friend"})
            )),
            &q,
            &[]
        ))
        .len(),
        1
    );
}

// ---------------------------------------------------------------------
// Base-spec invariants on datatypes (datatypes.html: per-1 on Period and
// the other types' own invariants) hold wherever the type is used, whether
// or not a profile restates them.

fn backwards() -> Value {
    json!({"start": "2024-05-01", "end": "2024-04-01"})
}

#[test]
fn period_invariant_without_a_profile() {
    let enc = json!({"resourceType": "Encounter", "status": "finished",
                     "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                     "period": backwards()});
    assert_errors_at(&validate(&enc, &[], &[]), 1, "Encounter.period");
}

/// An invariant whose expression evaluates to nothing does not hold (as
/// the reference validator reads it: an empty result is not true). A
/// Period whose start and end have different precisions cannot be
/// ordered (FHIRPath §6.2 comparison: empty), so per-1 fails; two
/// comparable ends in order pass.
#[test]
fn an_invariant_that_evaluates_to_nothing_fails() {
    let enc = |period: Value| {
        json!({"resourceType": "Encounter", "status": "finished",
               "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
               "period": period})
    };
    let mixed = enc(json!({"start": "2024-05-01T10:00:00Z", "end": "2024-05-01"}));
    assert_errors_at(&validate(&mixed, &[], &[]), 1, "Encounter.period");
    let ordered = enc(json!({"start": "2024-05-01T10:00:00Z", "end": "2024-05-01T11:00:00Z"}));
    assert!(errors(&validate(&ordered, &[], &[])).is_empty());
    let open = enc(json!({"start": "2024-05-01T10:00:00Z"}));
    assert!(errors(&validate(&open, &[], &[])).is_empty());
}

#[test]
fn period_invariant_under_a_profile_that_constrains_inside_it() {
    let p = [profile(
        "StartedEncounter",
        "Encounter",
        "Encounter",
        json!([{"id": "Encounter.period.start", "path": "Encounter.period.start", "min": 1}]),
    )];
    let u = url("StartedEncounter");
    let enc = json!({"resourceType": "Encounter", "status": "finished",
                     "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                     "period": backwards()});
    assert_errors_at(&validate(&enc, &p, &[&u]), 1, "Encounter.period");
}

#[test]
fn period_invariant_in_a_type_slice_and_an_extension() {
    let p = [profile(
        "PeriodEffective",
        "Observation",
        "Observation",
        json!([{"id": "Observation.effectivePeriod", "path": "Observation.effectivePeriod", "min": 1}]),
    )];
    let u = url("PeriodEffective");
    let obs = observation(("effectivePeriod", backwards()));
    assert_errors_at(&validate(&obs, &p, &[&u]), 1, "Observation.effectivePeriod");
    let when = json!({
        "resourceType": "StructureDefinition",
        "url": "http://example.org/fhir/StructureDefinition/caring-period",
        "name": "CaringPeriod", "status": "draft", "kind": "complex-type", "abstract": false,
        "context": [{"type": "element", "expression": "Patient"}],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {"element": [
            {"id": "Extension.url", "path": "Extension.url",
             "fixedUri": "http://example.org/fhir/StructureDefinition/caring-period"},
            {"id": "Extension.value[x]", "path": "Extension.value[x]", "type": [{"code": "Period"}]}
        ]}
    });
    let pat = json!({"resourceType": "Patient", "extension": [{
        "url": "http://example.org/fhir/StructureDefinition/caring-period",
        "valuePeriod": backwards()}]});
    assert_errors_at(
        &validate(&pat, &[when], &[]),
        1,
        "Patient.extension[0].valuePeriod",
    );
}

#[test]
fn quantity_invariant_in_a_profiled_quantity() {
    // qty-3: a unit code needs its system.
    let p = [profile(
        "Weighed",
        "Observation",
        "Observation",
        json!([{"id": "Observation.valueQuantity", "path": "Observation.valueQuantity",
                "type": [{"code": "Quantity", "profile": ["http://hl7.org/fhir/StructureDefinition/SimpleQuantity"]}]}]),
    )];
    let u = url("Weighed");
    let obs = observation(("valueQuantity", json!({"value": 70, "code": "kg"})));
    assert_errors_at(&validate(&obs, &p, &[&u]), 1, "Observation.valueQuantity");
}

#[test]
fn invariants_see_the_resource_that_holds_them() {
    // ref-1 looks up contained ids in %rootResource: for a resource in a
    // Bundle that is the entry's resource, not the Bundle.
    let obs = |reference: &str| {
        json!({"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"},
               "contained": [{"resourceType": "Patient", "id": "p"}],
               "subject": {"reference": reference}})
    };
    let good = collection(&[obs("#p")]);
    assert_valid(&validate(&good, &[], &[]));
    let bad = collection(&[obs("#q")]);
    let e = errors(&validate(&bad, &[], &[]));
    assert!(e.iter().any(|m| m.contains("ref-1")), "{e:#?}");
}

#[test]
fn contained_resources_are_referenced_from_their_container() {
    let with = |subject: Option<&str>, narrative: &str| {
        let mut o = observation(("valueString", json!("x")));
        o["contained"] = json!([{"resourceType": "Patient", "id": "p"}]);
        o["text"] = json!({"status": "generated",
            "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{narrative}</div>")});
        if let Some(s) = subject {
            o["subject"] = json!({"reference": s});
        }
        o
    };
    assert_valid(&validate(&with(Some("#p"), "seen"), &[], &[]));
    // A narrative link counts as a reference.
    assert_valid(&validate(
        &with(None, "<a href=\"#p\">the patient</a>"),
        &[],
        &[],
    ));
    assert_errors_at(
        &validate(&with(None, "unseen"), &[], &[]),
        1,
        "Observation.contained[0]",
    );
}

#[test]
fn aggregation_says_how_a_target_is_held() {
    let p = [profile(
        "ContainedSubject",
        "Observation",
        "Observation",
        json!([{"id": "Observation.subject", "path": "Observation.subject",
                "type": [{"code": "Reference", "aggregation": ["contained"]}]}]),
    )];
    let u = url("ContainedSubject");
    let mut held = observation(("valueString", json!("x")));
    held["contained"] = json!([{"resourceType": "Patient", "id": "p"}]);
    held["subject"] = json!({"reference": "#p"});
    assert_valid(&validate(&held, &p, &[&u]));
    let mut elsewhere = observation(("valueString", json!("x")));
    elsewhere["subject"] = json!({"reference": "Patient/p"});
    assert_errors_at(&validate(&elsewhere, &p, &[&u]), 1, "Observation.subject");
}

#[test]
fn slicing_by_profile() {
    // Bundle entries sliced by the profile their resource conforms to.
    let (gender, obs) = (url("WithGender"), url("FinalObservation"));
    let p = [
        patient_requiring("WithGender", "gender"),
        profile(
            "FinalObservation",
            "Observation",
            "Observation",
            json!([{"id": "Observation.status", "path": "Observation.status", "fixedCode": "final"}]),
        ),
        profile(
            "PatientAndResult",
            "Bundle",
            "Bundle",
            json!([
                {"id": "Bundle.entry", "path": "Bundle.entry",
                 "slicing": {"discriminator": [{"type": "profile", "path": "resource"}], "rules": "open"}},
                {"id": "Bundle.entry:patient", "path": "Bundle.entry", "sliceName": "patient", "min": 1, "max": "1"},
                {"id": "Bundle.entry:patient.resource", "path": "Bundle.entry.resource",
                 "type": [{"code": "Resource", "profile": [gender]}]},
                {"id": "Bundle.entry:result", "path": "Bundle.entry", "sliceName": "result", "min": 1, "max": "1"},
                {"id": "Bundle.entry:result.resource", "path": "Bundle.entry.resource",
                 "type": [{"code": "Resource", "profile": [obs]}]}
            ]),
        ),
    ];
    let u = url("PatientAndResult");
    let result = {
        let mut o = observation(("valueString", json!("x")));
        o["id"] = json!("o");
        o
    };
    let good = collection(&[
        json!({"resourceType": "Patient", "id": "a", "gender": "female"}),
        result.clone(),
    ]);
    assert_valid(&validate(&good, &p, &[&u]));
    // The patient lacks its gender: it is in no slice, and the patient
    // slice is missing.
    let no_gender = collection(&[
        json!({"resourceType": "Patient", "id": "a"}),
        result.clone(),
    ]);
    assert_errors_at(&validate(&no_gender, &p, &[&u]), 1, "Bundle.entry");
    // An entry with no resource is in no slice either.
    let mut missing = collection(&[result]);
    missing["entry"]
        .as_array_mut()
        .unwrap()
        .push(json!({"fullUrl": "http://example.org/fhir/Patient/a"}));
    let e = errors(&validate(&missing, &p, &[&u]));
    assert!(
        e.iter()
            .any(|m| m.starts_with("Bundle.entry: Slice 'Bundle.entry:patient'")),
        "{e:#?}"
    );
}

// ---------------------------------------------------------------------
// SearchParameter definitions (searchparameter.html: derivedFrom, base,
// type, expression).

fn search_parameter(base: &str, ty: &str, expression: &str) -> Value {
    json!({"resourceType": "SearchParameter", "url": "http://example.org/fhir/SearchParameter/p",
           "name": "p", "status": "draft", "description": "p", "code": "p",
           "base": [base], "type": ty, "expression": expression,
           "derivedFrom": "http://hl7.org/fhir/SearchParameter/individual-birthdate"})
}

#[test]
fn a_derived_search_parameter_keeps_its_definitions_base_and_type() {
    let options = || Options {
        allow_examples: true,
        ..Options::default()
    };
    assert_valid(&validate_with(
        &search_parameter("Patient", "date", "Patient.birthDate"),
        &[],
        &[],
        options(),
    ));
    // Another type than the parameter it derives from.
    let e = errors(&validate_with(
        &search_parameter("Patient", "string", "Patient.birthDate"),
        &[],
        &[],
        options(),
    ));
    assert_eq!(e.len(), 1, "{e:#?}");
    // Another base, where its expression does not apply either.
    let e = errors(&validate_with(
        &search_parameter("Organization", "date", "Patient.birthDate"),
        &[],
        &[],
        options(),
    ));
    assert!(!e.is_empty(), "{e:#?}");
}

#[test]
fn extension_slices_are_sliced_by_url_without_saying_so() {
    // extensibility.html: extensions are always sliced by url. A
    // differential that names extension slices without declaring the
    // slicing (as SUSHI and UK Core publish them) still makes them count.
    let p = [profile(
        "NeedsBirthPlace",
        "Patient",
        "Patient",
        json!([
            {"id": "Patient.extension:birthPlace", "path": "Patient.extension", "sliceName": "birthPlace",
             "min": 1, "type": [{"code": "Extension", "profile": ["http://hl7.org/fhir/StructureDefinition/patient-birthPlace"]}]},
            {"id": "Patient.extension:donor", "path": "Patient.extension", "sliceName": "donor",
             "max": "0", "type": [{"code": "Extension", "profile": ["http://hl7.org/fhir/StructureDefinition/patient-cadavericDonor"]}]}
        ]),
    )];
    let u = url("NeedsBirthPlace");
    let birth_place = json!({"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                             "valueAddress": {"city": "Leeds"}});
    let donor = json!({"url": "http://hl7.org/fhir/StructureDefinition/patient-cadavericDonor",
                       "valueBoolean": true});
    let pat = |ext: Value| json!({"resourceType": "Patient", "extension": ext});
    assert_valid(&validate(&pat(json!([birth_place.clone()])), &p, &[&u]));
    // The required one missing.
    let e = errors(&validate(
        &json!({"resourceType": "Patient", "gender": "female"}),
        &p,
        &[&u],
    ));
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(e[0].contains("birthPlace"), "{e:#?}");
    // The prohibited one present.
    assert!(validate(&pat(json!([birth_place, donor])), &p, &[&u]).has_errors());
}
