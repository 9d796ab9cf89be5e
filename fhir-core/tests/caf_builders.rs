//! The typed builders of `fhir_core::caf` yield resources that validate
//! against our profiles and UK Core with no error, and the rules read the
//! guide's own example response as its determination says.
//!
//! Needs base R4 in the package cache and UK Core from the shared corpus.

mod support;

use std::path::Path;

use fhir_core::caf::rules::{self, Achievement, Eligibility};
use fhir_core::caf::{
    CafConsent, CafRecord, CarerAssessment, CarerAssessmentResponse, CarerEligibility, CarerFlag,
    CarerRelationship, CarerStatus, CarerSupportPlan, ContingencyContact, ContingencyPlan,
    QuestionnaireVariant, CANONICAL,
};
use fhir_core::validation::{Severity, Validator};
use serde_json::Value;

fn guide() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles")
}

fn errors(validator: &Validator, r: &Value) -> Vec<String> {
    validator
        .validate(r)
        .issues
        .into_iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| format!("{}: {}", i.expression, i.message))
        .collect()
}

#[test]
fn canonical_agrees_with_the_guide() {
    let config = std::fs::read_to_string(guide().join("sushi-config.yaml")).unwrap();
    assert!(
        config
            .lines()
            .any(|l| l == format!("canonical: {CANONICAL}")),
        "sushi-config.yaml's canonical differs from caf::CANONICAL"
    );
}

#[test]
fn built_resources_validate_against_our_profiles_and_uk_core() {
    let mut registry = support::r4_and_ukcore(&support::shared_dir());
    registry
        .load(&guide().join("fsh-generated/resources"))
        .unwrap();
    let validator = Validator::new(&registry);
    let mary = "Patient/mary-jones";
    let rel = "RelatedPerson/r1";
    let qr = CarerAssessmentResponse::builder(QuestionnaireVariant::Adult)
        .carer(mary)
        .authored("2025-11-01T10:30:00Z")
        .boolean("necessary-care", true)
        .unwrap()
        .boolean("health-at-risk", false)
        .unwrap()
        .boolean("significant-impact", true)
        .unwrap()
        .outcome("reg3-recreation", Achievement::NeedsAssistance)
        .unwrap()
        .text("caring-role.hours", "50")
        .unwrap()
        .coding("qol-occupation", "carer-qol-level", "some")
        .unwrap()
        .coding("qol-control", "carer-qol-level", "some")
        .unwrap()
        .coding("qol-self-care", "carer-qol-level", "low")
        .unwrap()
        .coding("qol-safety", "carer-qol-level", "high")
        .unwrap()
        .coding("qol-social", "carer-qol-level", "low")
        .unwrap()
        .coding("qol-support", "carer-qol-level", "some")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(qr["status"], "completed");
    assert_eq!(rules::carer_qol_score(&qr), Some(5));
    let partial = CarerAssessmentResponse::builder(QuestionnaireVariant::Adult)
        .carer(mary)
        .authored("2025-11-01")
        .coding("qol-safety", "carer-qol-level", "high")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        partial["status"], "in-progress",
        "five required quality-of-life answers are missing"
    );
    assert_eq!(rules::carer_qol_score(&partial), None);
    let determination = rules::eligibility(&qr);
    assert_eq!(determination.eligibility, Eligibility::Eligible);
    let built: Vec<(&str, Value)> = vec![
        (
            "relationship",
            CarerRelationship::builder()
                .cared_for("Patient/arthur-jones")
                .carer_patient(mary)
                .carer_nhs_number("9991234004".parse().unwrap())
                .relationship_id("r1")
                .family_role("SPS")
                .started("2022-09-01")
                .hours_per_week(50.0)
                .main_carer(true)
                .lives_with(true)
                .care_activity("personal-care")
                .carer_type("older-carer")
                .name("Jones", "Mary")
                .build()
                .unwrap(),
        ),
        (
            "ended relationship",
            CarerRelationship::builder()
                .cared_for("Patient/arthur-jones")
                .started("2022-09-01")
                .ended("2026-10-20")
                .build()
                .unwrap(),
        ),
        (
            "status",
            CarerStatus::builder()
                .carer(mary)
                .relationship(rel)
                .snomed("824401000000105")
                .effective("2025-10-03")
                .build()
                .unwrap(),
        ),
        (
            "no longer a carer",
            CarerStatus::builder()
                .carer(mary)
                .no_longer_a_carer()
                .effective("2026-10-27")
                .build()
                .unwrap(),
        ),
        (
            "flag",
            CarerFlag::builder()
                .code("is-a-carer")
                .subject(mary)
                .relationship(rel)
                .start("2025-10-03")
                .identifier("f1")
                .build()
                .unwrap(),
        ),
        (
            "closed flag",
            CarerFlag::builder()
                .code("has-a-carer")
                .subject("Patient/arthur-jones")
                .relationship(rel)
                .start("2025-10-03")
                .end("2026-10-20")
                .build()
                .unwrap(),
        ),
        ("response", qr.clone()),
        ("partial response", partial.clone()),
        (
            "young carer's response",
            CarerAssessmentResponse::builder(QuestionnaireVariant::YoungCarer)
                .carer("Patient/liam")
                .source("Practitioner/p1")
                .authored("2025-11-01")
                .boolean("appropriateness.appropriate", false)
                .unwrap()
                .build()
                .unwrap(),
        ),
        (
            "assessment",
            CarerAssessment::builder()
                .carer(mary)
                .relationship(rel)
                .status("completed")
                .owner("616".parse().unwrap())
                .authored_on("2025-10-03")
                .identifier("LA616-1")
                .response("QuestionnaireResponse/q1")
                .eligibility("Observation/e1")
                .support_plan("CarePlan/p1")
                .build()
                .unwrap(),
        ),
        (
            "eligibility",
            CarerEligibility::from_determination(
                &determination,
                mary,
                "QuestionnaireResponse/q1",
                "2025-11-01T10:30:00Z",
            ),
        ),
        (
            "support plan",
            CarerSupportPlan::builder()
                .carer(mary)
                .relationship(rel)
                .eligibility("Observation/e1")
                .start("2025-11-15")
                .review_date("2026-11-01")
                .personal_budget(1850.0)
                .activity("sitting-service", Some("direct-payment"), "Wednesdays")
                .unwrap()
                .activity("information-advice", None, "Carers' groups")
                .unwrap()
                .build()
                .unwrap(),
        ),
        (
            "plan B",
            ContingencyPlan::builder()
                .cared_for("Patient/arthur-jones")
                .author(mary)
                .emergency_card("EC-1")
                .description("Call Sam.")
                .trigger("carer-ill")
                .unwrap()
                .trigger("carer-unreachable")
                .unwrap()
                .contact(ContingencyContact {
                    reference: "RelatedPerson/sam".into(),
                    agreed_to_act: true,
                    phone: Some("07700 900123".into()),
                })
                .hours_alone(2.0)
                .agreed_with_person(true)
                .review_date("2026-11-01")
                .relationship(rel)
                .standby_support("emergency-respite", "Up to 72 hours")
                .unwrap()
                .build()
                .unwrap(),
        ),
        (
            "consent",
            CafConsent::builder()
                .patient(mary)
                .date_time("2025-10-03T09:00:00Z")
                .period("2025-10-03", Some("2027-10-03"))
                .organisation("A81001".parse().unwrap())
                .organisation("616".parse().unwrap())
                .purpose("CAREMGT")
                .unwrap()
                .class("CarePlan")
                .build()
                .unwrap(),
        ),
    ];
    let mut failures = Vec::new();
    let record = CafRecord::builder(
        serde_json::json!({"resourceType": "Patient", "id": "mary-jones",
            "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]}}),
        "https://fhir.example.org/fhir",
    )
    .identifier("doc-1")
    .author("616".parse().unwrap())
    .timestamp("2025-11-20T09:00:00Z");
    for (name, r) in &built {
        for e in errors(&validator, r) {
            failures.push(format!("{name}: {e}"));
        }
    }
    // The record's references must resolve inside it: give the resources
    // that others point at ids and keep only those whose targets are there.
    let with_id = |r: &Value, id: &str| {
        let mut r = r.clone();
        r["id"] = serde_json::json!(id);
        r
    };
    let rel_resource = with_id(&built[1].1, "r1");
    let consent = with_id(&built[13].1, "c1");
    let record = record.resource(rel_resource).resource(consent);
    let arthur = serde_json::json!({"resourceType": "Patient", "id": "arthur-jones"});
    let doc = record.resource(arthur).build().unwrap();
    for e in errors(&validator, &doc) {
        failures.push(format!("record: {e}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rules_read_the_guides_example_response() {
    let qr: Value = serde_json::from_str(
        &std::fs::read_to_string(
            guide().join("fsh-generated/resources/QuestionnaireResponse-mary-self-assessment.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let d = rules::eligibility(&qr);
    assert_eq!(d.eligibility, Eligibility::Eligible);
    assert_eq!(d.condition_b(), Some(true));
    let not: Vec<&str> = d.outcomes_not_achieved().iter().map(|o| o.code()).collect();
    assert_eq!(not, ["relationships", "recreation"]);
    // some, some, low, high, low, some = 1 + 1 + 0 + 2 + 0 + 1
    assert_eq!(rules::carer_qol_score(&qr), Some(5));
    assert!(CarerAssessmentResponse::is_self_assessment(&qr));
    // And the guide's own determination example says what the rules say.
    let obs: Value = serde_json::from_str(
        &std::fs::read_to_string(
            guide().join("fsh-generated/resources/Observation-mary-eligibility.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        obs["valueCodeableConcept"]["coding"][0]["code"],
        d.eligibility.code()
    );
}
