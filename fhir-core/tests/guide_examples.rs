//! The carer implementation guide's examples (`profiles/`): every valid
//! example validates with no error against base R4, our profiles and the
//! UK Core profiles it claims; every invalid example in
//! `profiles/examples/invalid/` raises exactly the one error
//! `expected.json` names.
//!
//! Needs base R4 in the package cache (`carer-fhir packages install`, as
//! `scripts/test` does first) and UK Core from the shared corpus.

mod support;

use std::path::{Path, PathBuf};

use fhir_core::package::Registry;
use fhir_core::validation::{Options, Severity, Validator};
use serde_json::Value;

fn guide_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles")
}

fn registry() -> Registry {
    let mut registry = support::r4_and_ukcore(&support::shared_dir());
    registry
        .load(&guide_dir().join("fsh-generated/resources"))
        .expect("the guide loads");
    registry
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every profile the guide publishes, by id.
const PROFILES: &[&str] = &[
    "CarerRelationship",
    "CarerStatus",
    "CarerFlag",
    "CarerAssessmentQuestionnaire",
    "CarerAssessmentResponse",
    "CarerAssessment",
    "CarerEligibility",
    "CarerSupportPlan",
    "ContingencyPlan",
    "CafConsent",
    "CafRecord",
    "CafRecordComposition",
    "Carer",
    "CarerSexualOrientation",
    "CarerDisability",
    "CarerQualityOfLife",
    "WorkingCarersPassport",
    "WorkingCarersPassportComposition",
    "WorkingCarerFlag",
    "CarePassport",
];

/// Resources the guide defines rather than exemplifies.
const DEFINITIONS: &[&str] = &[
    "StructureDefinition",
    "ValueSet",
    "CodeSystem",
    "ConceptMap",
    "SearchParameter",
    "ImplementationGuide",
];

fn errors(validator: &Validator, resource: &Value) -> Vec<(String, String)> {
    validator
        .validate(resource)
        .issues
        .into_iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| (i.expression, i.message))
        .collect()
}

#[test]
fn valid_examples_have_no_errors_against_our_profiles_and_uk_core() {
    let registry = registry();
    let validator = Validator::new(&registry).with_options(examples_allowed());
    let dir = guide_dir().join("fsh-generated/resources");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the guide's output exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "package.json"))
        .collect();
    files.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in &files {
        let resource = read(file);
        let rt = resource["resourceType"].as_str().unwrap_or("");
        if DEFINITIONS.contains(&rt) {
            continue;
        }
        checked += 1;
        let claims: Vec<&str> = resource
            .pointer("/meta/profile")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        // Carer profiles' instances claim UK Core too (DESIGN §3); the
        // Questionnaires are the guide's own forms and claim ours only.
        if claims
            .iter()
            .any(|c| c.starts_with("https://fhir.carer-fhir.uk/"))
            && rt != "Questionnaire"
            && !claims
                .iter()
                .any(|c| c.starts_with("https://fhir.hl7.org.uk/"))
        {
            failures.push(format!("{name}: claims our profile but not UK Core's"));
        }
        for (at, message) in errors(&validator, &resource) {
            failures.push(format!("{name}: {at}: {message}"));
        }
        // Every example carries a narrative (scripts/profiles generates
        // them with fhir_core::narrative), so none draws dom-6.
        for i in validator.validate(&resource).issues {
            if i.message.contains("dom-6") {
                failures.push(format!("{name}: {}: {}", i.expression, i.message));
            }
        }
    }
    println!("{checked} valid examples checked");
    assert!(
        checked >= 25,
        "expected the guide's examples, found {checked}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_profile_has_a_valid_and_an_invalid_example() {
    let dir = guide_dir().join("fsh-generated/resources");
    let mut profiles = Vec::new();
    let mut claimed = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("the guide's output exists") {
        let path = entry.expect("a directory entry").path();
        if path.file_name().is_some_and(|n| n == "package.json") {
            continue;
        }
        let r = read(&path);
        if r["resourceType"] == "StructureDefinition" && r["type"] != "Extension" {
            profiles.push(r["url"].as_str().unwrap_or("").to_string());
        }
        let mut note = |v: &Value| {
            for p in v
                .pointer("/meta/profile")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                claimed.insert(p.as_str().unwrap_or("").to_string());
            }
        };
        note(&r);
        for e in r["entry"].as_array().into_iter().flatten() {
            note(&e["resource"]);
        }
    }
    let invalid_dir = guide_dir().join("examples/invalid");
    let mut invalid = std::collections::BTreeSet::new();
    for case in read(&invalid_dir.join("expected.json"))["cases"]
        .as_array()
        .expect("cases")
    {
        let r = read(&invalid_dir.join(case["file"].as_str().expect("file")));
        for p in r
            .pointer("/meta/profile")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            invalid.insert(p.as_str().unwrap_or("").to_string());
        }
    }
    // The profiles of DESIGN §3 and those guide 0.2 added (issue 19).
    let mut ids: Vec<&str> = profiles
        .iter()
        .filter_map(|u| u.rsplit('/').next())
        .collect();
    ids.sort_unstable();
    let mut want = PROFILES.to_vec();
    want.sort_unstable();
    assert_eq!(ids, want, "the guide's profiles");
    for p in &profiles {
        assert!(claimed.contains(p), "no valid example claims {p}");
        assert!(invalid.contains(p), "no invalid example claims {p}");
    }
}

#[test]
fn invalid_examples_raise_exactly_their_expected_error() {
    let registry = registry();
    let validator = Validator::new(&registry).with_options(examples_allowed());
    let dir = guide_dir().join("examples/invalid");
    let expected = read(&dir.join("expected.json"));
    let cases = expected["cases"].as_array().expect("cases");
    assert!(cases.len() >= 12);
    let mut failures = Vec::new();
    for case in cases {
        let file = case["file"].as_str().expect("file");
        let at = case["expression"].as_str().expect("expression");
        let contains = case["contains"].as_str().expect("contains");
        // One fault, at one place. The validator checks a value once for
        // each definition that constrains it (an extension's own
        // definition, and the slice of each claimed profile that holds it,
        // as the reference validator does) and reports each time, naming
        // that definition: every error must be that fault.
        let mut found = errors(&validator, &read(&dir.join(file)));
        found.dedup();
        let ok = !found.is_empty()
            && found
                .iter()
                .all(|(path, message)| path == at && message.contains(contains));
        if !ok {
            failures.push(format!(
                "{file}: expected one error at {at} mentioning {contains:?}, got {found:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_guides_readme_minimal_instances_are_valid() {
    let registry = registry();
    let validator = Validator::new(&registry).with_options(examples_allowed());
    let readme =
        std::fs::read_to_string(guide_dir().join("README.md")).expect("profiles/README.md");
    let blocks: Vec<&str> = readme
        .split("```json")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert!(
        blocks.len() >= 9,
        "expected a minimal instance per simple profile"
    );
    let mut failures = Vec::new();
    for block in blocks {
        let resource: Value =
            serde_json::from_str(block).unwrap_or_else(|e| panic!("{e}: {block}"));
        let profile = resource["meta"]["profile"][0]
            .as_str()
            .unwrap_or("?")
            .to_string();
        for (at, message) in errors(&validator, &resource) {
            failures.push(format!("{profile}: {at}: {message}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The guide's examples may use example addresses (RFC 2606), as the
/// reference validator's IG runs allow.
fn examples_allowed() -> Options {
    Options {
        allow_examples: true,
        ..Options::default()
    }
}
