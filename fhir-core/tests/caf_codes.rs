//! `fhir_core::caf::codes` and the rules' enums list exactly the codes the
//! guide publishes (`profiles/fsh-generated`), in the same order: the guide
//! is where codes are defined, and these lists must not drift from it.

use std::path::Path;

use fhir_core::caf::codes;
use fhir_core::caf::rules::{Achievement, Eligibility, OUTCOMES};
use serde_json::Value;

fn resource(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../profiles/fsh-generated/resources")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The codes of one of the guide's CodeSystems, in order.
fn code_system(id: &str) -> Vec<String> {
    let cs = resource(&format!("CodeSystem-{id}.json"));
    cs["concept"]
        .as_array()
        .unwrap_or_else(|| panic!("CodeSystem {id} has concepts"))
        .iter()
        .map(|c| c["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The (code, display) pairs a ValueSet enumerates, in order.
fn value_set(id: &str) -> Vec<(String, String)> {
    let vs = resource(&format!("ValueSet-{id}.json"));
    vs["compose"]["include"]
        .as_array()
        .unwrap_or_else(|| panic!("ValueSet {id} has includes"))
        .iter()
        .flat_map(|i| i["concept"].as_array().into_iter().flatten())
        .map(|c| {
            (
                c["code"].as_str().unwrap_or_default().to_string(),
                c["display"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn code_lists_equal_the_guides_code_systems() {
    for (id, list) in [
        ("care-activity", codes::CARE_ACTIVITIES),
        ("carer-type", codes::CARER_TYPES),
        ("support-type", codes::SUPPORT_TYPES),
        ("delivery-mechanism", codes::DELIVERY_MECHANISMS),
        ("contingency-trigger", codes::CONTINGENCY_TRIGGERS),
        ("assessment-type", codes::ASSESSMENT_TYPES),
        ("assessment-status", codes::ASSESSMENT_STATUSES),
        ("flag-code", codes::FLAG_CODES),
        ("identification-source", codes::IDENTIFICATION_SOURCES),
        ("activity-limitation", codes::ACTIVITY_LIMITATIONS),
        ("nhs-disability-code", codes::NHS_DISABILITY_CODES),
        ("general-health", codes::GENERAL_HEALTH),
        (
            "representative-authority",
            codes::REPRESENTATIVE_AUTHORITIES,
        ),
        ("carer-qol-item", codes::CARER_QOL_ITEMS),
        ("workplace-adjustment", codes::WORKPLACE_ADJUSTMENTS),
    ] {
        assert_eq!(owned(list), code_system(id), "codes for {id}");
    }
}

#[test]
fn code_lists_equal_the_guides_value_sets() {
    let codes_of =
        |id: &str| -> Vec<String> { value_set(id).into_iter().map(|(c, _)| c).collect() };
    assert_eq!(owned(codes::FAMILY_ROLES), codes_of("family-role"));
    assert_eq!(owned(codes::CAF_PURPOSES), codes_of("caf-purpose"));
    assert_eq!(
        owned(codes::CARE_PASSPORT_SECTIONS),
        codes_of("care-passport-section")
    );
    assert_eq!(
        owned(codes::HOURS_CARING_BANDS),
        codes_of("hours-caring-band")
    );
    let orientation: Vec<(String, String)> = codes::SEXUAL_ORIENTATION_CODES
        .iter()
        .map(|(c, d, _)| (c.to_string(), d.to_string()))
        .collect();
    assert_eq!(
        orientation,
        value_set("sexual-orientation"),
        "codes and terms"
    );
    let status: Vec<(String, String)> = codes::CARER_STATUS_CODES
        .iter()
        .map(|(c, d)| (c.to_string(), d.to_string()))
        .collect();
    assert_eq!(status, value_set("carer-status"), "codes and terms");
}

#[test]
fn rule_enums_equal_the_guides_code_systems() {
    let outcomes: Vec<String> = OUTCOMES.iter().map(|(o, _)| o.code().to_string()).collect();
    assert_eq!(outcomes, code_system("reg3-outcome"));
    // Each outcome's question is the reg3- linkId of its code.
    for (outcome, link) in OUTCOMES {
        assert_eq!(link, format!("reg3-{}", outcome.code()));
    }
    let achievements: Vec<String> = Achievement::ALL
        .iter()
        .map(|a| a.code().to_string())
        .collect();
    assert_eq!(achievements, code_system("outcome-achievement"));
    let determinations: Vec<String> = code_system("eligibility-determination");
    for code in &determinations {
        let e = Eligibility::from_code(code).unwrap_or_else(|| panic!("{code} is known"));
        assert_eq!(e.code(), code);
    }
    assert_eq!(determinations.len(), 3);
}

/// The national codes `codes::SEXUAL_ORIENTATION_CODES` gives are the ones
/// the guide's ConceptMap gives.
#[test]
fn sexual_orientation_national_codes_equal_the_guides_concept_map() {
    let map = resource("ConceptMap-SexualOrientationToNhsDataDictionary.json");
    let mapped: Vec<(String, String)> = map["group"][0]["element"]
        .as_array()
        .expect("elements")
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap_or_default().to_string(),
                e["target"][0]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let ours: Vec<(String, String)> = codes::SEXUAL_ORIENTATION_CODES
        .iter()
        .map(|(c, _, n)| (c.to_string(), n.to_string()))
        .collect();
    assert_eq!(ours, mapped);
}

/// Every support type is mapped to both CLD releases, with a value or said
/// plainly to have none.
#[test]
fn every_support_type_is_mapped_to_both_cld_releases() {
    for release in ["R1", "R2"] {
        let map = resource(&format!("ConceptMap-SupportTypeToCld{release}.json"));
        let elements = map["group"][0]["element"].as_array().expect("elements");
        for code in codes::SUPPORT_TYPES {
            let e = elements
                .iter()
                .find(|e| e["code"] == *code)
                .unwrap_or_else(|| panic!("{code} is not in the {release} map"));
            let t = &e["target"][0];
            let unmatched = t["equivalence"] == "unmatched";
            assert!(
                t["code"].is_string() != unmatched,
                "{release} {code}: a value, or unmatched without one"
            );
            if unmatched {
                assert!(t["comment"].is_string(), "{release} {code}: says why");
            }
        }
    }
}
