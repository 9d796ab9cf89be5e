//! The typed builders of `fhir_core::caf` yield resources that validate
//! against our profiles and UK Core with no error, and the rules read the
//! guide's own example response as its determination says.
//!
//! Needs base R4 in the package cache and UK Core from the shared corpus.

mod support;

use std::path::Path;

use fhir_core::caf::rules::AgeCheck;
use fhir_core::caf::rules::{self, Achievement, Eligibility, Outcome};
use fhir_core::caf::{
    codes, CafConsent, CafRecord, CarePassport, Carer, CarerAssessment,
    CarerAssessmentQuestionnaire, CarerAssessmentResponse, CarerDisability, CarerEligibility,
    CarerFlag, CarerQualityOfLife, CarerRelationship, CarerSexualOrientation, CarerStatus,
    CarerSupportPlan, ContingencyContact, ContingencyPlan, Identification, OrganisationId,
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
    let school = OrganisationId::School("123456".parse().unwrap());
    let guide_0_2: Vec<(&str, Value)> = vec![
        (
            "relationship identified by a school, band only",
            CarerRelationship::builder()
                .cared_for("Patient/priya")
                .started("2024-01-15")
                .family_role("CHILD")
                .carer_type("young-carer")
                .hours_band("10-19")
                .identified(
                    Identification::new("school-college")
                        .on("2025-09-15")
                        .by(school.clone()),
                )
                .build()
                .unwrap(),
        ),
        (
            "daughter-in-law identified at discharge",
            CarerRelationship::builder()
                .cared_for("Patient/grace")
                .started("2026-02-10")
                .family_role("DAUINLAW")
                .hours_per_week(35.0)
                .identified(
                    Identification::new("hospital-discharge")
                        .on("2026-02-10")
                        .by(OrganisationId::Ods("RX1".parse().unwrap())),
                )
                .build()
                .unwrap(),
        ),
        (
            "status identified by a hospital",
            CarerStatus::builder()
                .carer("Patient/ngozi")
                .snomed("302767002")
                .effective("2026-02-10")
                .identifier("RX1-ngozi-1")
                .identified(
                    Identification::new("hospital-discharge")
                        .by(OrganisationId::Ods("RX1".parse().unwrap())),
                )
                .build()
                .unwrap(),
        ),
        (
            "carer",
            Carer::builder()
                .nhs_number("9991234004".parse().unwrap())
                .name("Jones", "Mary")
                .gender("female")
                .birth_date("1958-03-14")
                .ethnic_category("A")
                .language("en-GB", true)
                .interpreter_required(false)
                .general_practitioner("A81001".parse().unwrap())
                .build()
                .unwrap(),
        ),
        (
            "carer who stated nothing",
            Carer::builder().build().unwrap(),
        ),
        (
            "sexual orientation declined",
            CarerSexualOrientation::builder()
                .carer(mary)
                .declined()
                .effective("2025-11-01")
                .build()
                .unwrap(),
        ),
        (
            "disability",
            CarerDisability::builder()
                .carer(mary)
                .limitation("limited-a-little")
                .disability_type("05")
                .general_health("fair")
                .effective("2025-11-01")
                .build()
                .unwrap(),
        ),
        (
            "quality of life",
            CarerQualityOfLife::from_response(
                &qr,
                mary,
                "QuestionnaireResponse/q1",
                "2025-11-01T10:30:00Z",
            )
            .unwrap(),
        ),
        (
            "review",
            CarerAssessment::builder()
                .carer(mary)
                .relationship(rel)
                .owner("616".parse().unwrap())
                .authored_on("2026-10-15")
                .status("completed")
                .reviews("CarePlan/p1")
                .response("QuestionnaireResponse/q2")
                .quality_of_life("Observation/qol2")
                .build()
                .unwrap(),
        ),
        (
            "joint assessment requested by a school",
            CarerAssessment::builder()
                .carer(mary)
                .relationship(rel)
                .kind("joint-assessment")
                .caring_relationship("RelatedPerson/r2")
                .assessed_with("Patient/arthur-jones")
                .requester(school)
                .owner("616".parse().unwrap())
                .authored_on("2025-10-03")
                .build()
                .unwrap(),
        ),
        (
            "support plan serving goals",
            CarerSupportPlan::builder()
                .carer(mary)
                .goal("Goal/g1")
                .activity_for(
                    "sitting-service",
                    Some("direct-payment"),
                    "Wednesdays",
                    &["Goal/g1"],
                )
                .unwrap()
                .activity("peer-support-group", None, "Carers' choir")
                .unwrap()
                .build()
                .unwrap(),
        ),
        (
            "goal",
            CarerSupportPlan::outcome_goal(
                mary,
                "An afternoon a week for herself",
                Some(Outcome::Recreation),
                "2025-11-15",
            ),
        ),
        (
            "care passport",
            CarePassport::builder()
                .person("Patient/arthur-jones")
                .recorded_by(rel)
                .date("2025-10-10T10:00:00Z")
                .review_date("2026-04-01")
                .section("must-know", "I have dementia & take donepezil at 8pm.")
                .unwrap()
                .section("communication", "Speak slowly.")
                .unwrap()
                .build()
                .unwrap(),
        ),
        (
            "consent by an attorney to tell the carer",
            CafConsent::builder()
                .patient("Patient/arthur-jones")
                .representative("RelatedPerson/sam", "lpa-health-welfare")
                .date_time("2025-10-10T14:00:00Z")
                .person(rel)
                .organisation("A81001".parse().unwrap())
                .purpose("CAREMGT")
                .unwrap()
                .identifier("c-2")
                .build()
                .unwrap(),
        ),
    ];
    let mut failures = Vec::new();
    for (name, r) in &guide_0_2 {
        for e in errors(&validator, r) {
            failures.push(format!("{name}: {e}"));
        }
    }
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
    assert!(CarerAssessmentResponse::read(&qr).is_self_assessment());
    // Mary has no children to care for: not applicable is an answer, not a
    // gap, so condition (b) is settled.
    assert_eq!(
        d.outcomes[0],
        (Outcome::ChildCare, Some(Achievement::NotApplicable))
    );
    // And the guide's own determination example says what the rules say,
    // finding by finding.
    let obs = example("Observation-mary-eligibility.json");
    let read = CarerEligibility::read(&obs);
    assert_eq!(read.determination(), Some(d.eligibility));
    for (outcome, achievement) in &d.outcomes {
        assert_eq!(read.outcome(*outcome), *achievement, "{outcome:?}");
    }
    assert_eq!(read.finding("necessary-care"), d.necessary_care);
    assert_eq!(read.finding("health-at-risk"), d.health_at_risk);
    assert_eq!(read.finding("significant-impact"), d.significant_impact);
    assert_eq!(read.reasons(), d.reasons);
}

fn example(file: &str) -> Value {
    let path = guide().join("fsh-generated/resources").join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The readers read the guide's own examples as their FSH sources say.
#[test]
fn readers_read_the_guides_examples() {
    let rel = example("RelatedPerson-mary-cares-for-arthur.json");
    let r = CarerRelationship::read(&rel);
    assert_eq!(r.cared_for(), Some("Patient/arthur-jones"));
    assert_eq!(r.carer_patient(), Some("Patient/mary-jones"));
    assert!(r.carer_nhs_number().is_some());
    assert!(r.hours_per_week().is_some_and(|h| h > 0.0));
    assert_eq!(r.main_carer(), Some(true));
    assert!(!r.care_activities().is_empty());
    assert!(r.is_current());

    let status = example("Observation-mary-is-a-carer.json");
    let s = CarerStatus::read(&status);
    assert_eq!(s.carer(), Some("Patient/mary-jones"));
    assert!(s.code().is_some() && !s.is_no_longer_a_carer());

    for (file, code) in [
        ("Flag-mary-flag-is-a-carer.json", "is-a-carer"),
        ("Flag-arthur-flag-has-a-carer.json", "has-a-carer"),
    ] {
        let flag = example(file);
        let f = CarerFlag::read(&flag);
        assert_eq!(f.code(), Some(code));
        assert_eq!(
            f.relationship(),
            Some("RelatedPerson/mary-cares-for-arthur")
        );
        assert!(f.is_active());
    }

    for variant in QuestionnaireVariant::ALL {
        let q = CarerAssessmentQuestionnaire::form(variant);
        let read = CarerAssessmentQuestionnaire::read(&q);
        assert_eq!(read.variant(), Some(variant));
        for item in rules::QOL_ITEMS {
            assert_eq!(read.item_type(item), Some("choice"), "{variant:?} {item}");
        }
    }

    let qr = example("QuestionnaireResponse-mary-self-assessment.json");
    let response = CarerAssessmentResponse::read(&qr);
    assert_eq!(response.variant(), Some(QuestionnaireVariant::Adult));
    assert_eq!(response.boolean("necessary-care"), Some(true));

    let task = example("Task-mary-assessment.json");
    let t = CarerAssessment::read(&task);
    assert_eq!(
        t.response(),
        Some("QuestionnaireResponse/mary-self-assessment")
    );
    assert_eq!(t.eligibility(), Some("Observation/mary-eligibility"));
    assert_eq!(t.support_plan(), Some("CarePlan/mary-support-plan"));
    assert!(t.owner().is_some());

    let plan = example("CarePlan-mary-support-plan.json");
    let p = CarerSupportPlan::read(&plan);
    assert_eq!(p.personal_budget(), Some(1850.0));
    assert_eq!(p.review_date(), Some("2026-11-01"));
    assert!(p.activities().iter().all(|a| a
        .support_type
        .is_some_and(|c| codes::SUPPORT_TYPES.contains(&c))));

    let plan_b = example("CarePlan-arthur-plan-b.json");
    let b = ContingencyPlan::read(&plan_b);
    assert!(b.emergency_card().is_some());
    assert!(!b.triggers().is_empty());
    assert!(b.contacts().iter().any(|c| c.agreed_to_act));
    assert_eq!(b.cared_for(), Some("Patient/arthur-jones"));

    let consent = example("Consent-mary-consent.json");
    let c = CafConsent::read(&consent);
    assert!(c.is_active() && c.is_permit());
    let first = c.organisations()[0].clone();
    assert!(c.permits(&first, "2026-01-01"));

    let record = example("Bundle-mary-caf-record.json");
    let rec = CafRecord::read(&record);
    assert_eq!(
        rec.subject().map(|p| &p["id"]),
        Some(&Value::from("mary-jones"))
    );
    for code in rec.section_codes() {
        assert!(!rec.section(code).is_empty(), "section {code} resolves");
    }
}

/// What guide 0.2 added reads from its examples as the FSH says.
#[test]
fn readers_read_the_guide_0_2_examples() {
    let mary = example("Patient-mary-jones.json");
    let m = Carer::read(&mary);
    assert_eq!(m.ethnic_category(), Some("A"));
    assert_eq!(m.preferred_language(), Some("en-GB"));
    assert_eq!(m.interpreter_required(), Some(false));
    assert_eq!(m.age_on("2025-10-03"), Some(67));
    assert!(Carer::read(&example("Patient-liam-patel.json")).ethnic_category_not_stated());

    let rel = example("RelatedPerson-mary-cares-for-arthur.json");
    let r = CarerRelationship::read(&rel);
    assert_eq!(r.hours_band(), Some("50-plus"));
    let how = r.identification().expect("identified");
    assert_eq!(how.source, "gp-practice");
    assert_eq!(
        how.organisation,
        Some(OrganisationId::Ods("A81001".parse().unwrap()))
    );
    let liam = example("RelatedPerson-liam-cares-for-priya.json");
    let how = CarerRelationship::read(&liam)
        .identification()
        .expect("identified");
    assert_eq!(how.source, "school-college");
    assert_eq!(
        how.organisation,
        Some(OrganisationId::School("123456".parse().unwrap()))
    );
    let jean = example("RelatedPerson-mary-cares-for-jean.json");
    assert_eq!(
        CarerRelationship::read(&jean).hours_band(),
        Some("9-or-less")
    );

    let status = example("Observation-mary-is-a-carer.json");
    let s = CarerStatus::read(&status);
    assert_eq!(
        s.identification().map(|i| i.source),
        Some("gp-practice".into())
    );
    assert!(s.identifier().is_some());

    let so = example("Observation-mary-sexual-orientation.json");
    assert!(CarerSexualOrientation::read(&so).is_not_stated());
    let d = example("Observation-mary-disability.json");
    let d = CarerDisability::read(&d);
    assert!(d.is_disabled());
    assert_eq!(d.disability_types(), ["05"]);
    assert_eq!(d.general_health(), Some("fair"));

    // The guide's quality-of-life example is what fhir-core derives from
    // the response it names, item by item.
    let qr = example("QuestionnaireResponse-mary-self-assessment.json");
    let derived = CarerQualityOfLife::from_response(&qr, "Patient/mary-jones", "x", "y").unwrap();
    let first = example("Observation-mary-qol-2025.json");
    let (a, b) = (
        CarerQualityOfLife::read(&derived),
        CarerQualityOfLife::read(&first),
    );
    assert_eq!(a.total(), b.total());
    for item in codes::CARER_QOL_ITEMS {
        assert_eq!(a.level(item), b.level(item), "{item}");
    }
    let review_qr = example("QuestionnaireResponse-mary-review-response.json");
    let second = example("Observation-mary-qol-2026.json");
    assert_eq!(
        CarerQualityOfLife::read(&second).total(),
        rules::carer_qol_score(&review_qr)
    );
    let both = [second.clone(), first.clone()];
    let trend = CarerQualityOfLife::trend(&both);
    assert_eq!(trend.iter().map(|(_, t)| *t).collect::<Vec<_>>(), [5, 8]);

    let review = example("Task-mary-review.json");
    let t = CarerAssessment::read(&review);
    assert_eq!(t.kind(), Some("review"));
    assert_eq!(t.reviews(), Some("CarePlan/mary-support-plan"));
    assert_eq!(t.quality_of_life(), Some("Observation/mary-qol-2026"));
    let joint = example("Task-mary-joint-assessment.json");
    let j = CarerAssessment::read(&joint);
    assert_eq!(j.caring_relationships().len(), 2);
    assert_eq!(j.assessed_with(), ["Patient/arthur-jones"]);

    let plan = example("CarePlan-mary-support-plan.json");
    let p = CarerSupportPlan::read(&plan);
    assert_eq!(p.goals().len(), 2);
    assert_eq!(p.activity_goals(0), ["Goal/mary-goal-time-for-herself"]);

    let consent = example("Consent-arthur-consent-tell-mary.json");
    let c = CafConsent::read(&consent);
    assert!(c.permits_person("RelatedPerson/mary-cares-for-arthur", "2026-01-01"));
    assert_eq!(c.representative_authority(), Some("lpa-health-welfare"));
    assert_eq!(c.performer(), Some("RelatedPerson/sam-jones"));
}

/// The two identification flows: the hospital's carer is a daughter-in-law
/// identified at discharge; the school's young carer flag agrees with his
/// age, as the rule checks.
#[test]
fn the_identification_flows_read_as_their_sources_say() {
    let discharge = example("Bundle-flow-hospital-discharge.json");
    let entries = discharge["entry"].as_array().unwrap();
    let rel = &entries[2]["resource"];
    let r = CarerRelationship::read(rel);
    assert_eq!(r.family_role(), Some("DAUINLAW"));
    assert_eq!(
        r.identification().map(|i| i.source),
        Some("hospital-discharge".into())
    );
    let referral = CarerAssessment::read(&entries[7]["resource"]);
    assert_eq!(referral.business_status(), Some("requested"));
    assert_eq!(
        referral.requester(),
        Some(OrganisationId::Ods("RX1".parse().unwrap()))
    );
    assert_eq!(entries[8]["resource"]["resourceType"], "Communication");

    let school = example("Bundle-flow-young-carer-school.json");
    let entries = school["entry"].as_array().unwrap();
    let liam = &entries[0]["resource"];
    let flag = &entries[4]["resource"];
    assert_eq!(CarerFlag::read(flag).code(), Some("young-carer"));
    assert_eq!(
        rules::young_carer_age(flag, liam),
        AgeCheck::Consistent { age: 14 }
    );
    let task = CarerAssessment::read(&entries[6]["resource"]);
    assert_eq!(task.kind(), Some("young-carers-needs-assessment"));
    assert_eq!(
        task.requester(),
        Some(OrganisationId::School("123456".parse().unwrap()))
    );
    // The same flag on Liam at 18 would be wrong.
    let mut older = flag.clone();
    older["period"]["start"] = "2029-06-20".into();
    assert_eq!(
        rules::young_carer_age(&older, liam),
        AgeCheck::TooOld { age: 18 }
    );
}
