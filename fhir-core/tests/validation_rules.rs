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
