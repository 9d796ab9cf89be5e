//! Property tests of the CAF rules over generated assessment responses.

use fhir_core::caf::rules::{self, Achievement, Eligibility, OUTCOMES, QOL_ITEMS};
use fhir_core::caf::{code_system, NhsNumber};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Value};

fn achievement() -> impl Strategy<Value = Achievement> {
    prop_oneof![
        Just(Achievement::Able),
        Just(Achievement::NeedsAssistance),
        Just(Achievement::PainDistressAnxiety),
        Just(Achievement::EndangersHealthSafety),
        Just(Achievement::NotApplicable),
    ]
}

/// The answers of a response: the three yes/no conditions and the eight
/// outcomes, each possibly unanswered.
#[derive(Debug, Clone)]
struct Answers {
    necessary: Option<bool>,
    health: Option<bool>,
    impact: Option<bool>,
    outcomes: Vec<Option<Achievement>>,
}

fn answers() -> impl Strategy<Value = Answers> {
    (
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(proptest::option::of(achievement()), 8),
    )
        .prop_map(|(necessary, health, impact, outcomes)| Answers {
            necessary,
            health,
            impact,
            outcomes,
        })
}

fn response(a: &Answers) -> Value {
    let yes_no = |link: &str, v: Option<bool>| {
        v.map(|b| json!({"linkId": link, "answer": [{"valueBoolean": b}]}))
    };
    let mut eligibility: Vec<Value> = [
        yes_no("necessary-care", a.necessary),
        yes_no("health-at-risk", a.health),
        yes_no("significant-impact", a.impact),
    ]
    .into_iter()
    .flatten()
    .collect();
    let outcomes: Vec<Value> = OUTCOMES
        .iter()
        .zip(&a.outcomes)
        .filter_map(|((_, link), ach)| {
            ach.map(|ach| {
                json!({"linkId": link, "answer": [{"valueCoding": {
                "system": code_system("outcome-achievement"), "code": ach.code()}}]})
            })
        })
        .collect();
    eligibility.push(json!({"linkId": "reg3", "item": outcomes}));
    json!({"resourceType": "QuestionnaireResponse", "status": "completed",
           "item": [{"linkId": "eligibility", "item": eligibility}]})
}

/// Reg 3(3)'s three ways of being unable to achieve an outcome.
const UNABLE: [Achievement; 3] = [
    Achievement::NeedsAssistance,
    Achievement::PainDistressAnxiety,
    Achievement::EndangersHealthSafety,
];

/// Reg 3 stated directly over the answers.
fn expected(a: &Answers) -> Eligibility {
    let unable = a
        .outcomes
        .iter()
        .any(|o| o.is_some_and(|x| UNABLE.contains(&x)));
    let b = if a.health == Some(true) || unable {
        Some(true)
    } else if a.health == Some(false) && a.outcomes.iter().all(Option::is_some) {
        Some(false)
    } else {
        None
    };
    let conditions = [a.necessary, b, a.impact];
    if conditions.contains(&Some(false)) {
        Eligibility::NotEligible
    } else if conditions.iter().all(|c| *c == Some(true)) {
        Eligibility::Eligible
    } else {
        Eligibility::Undetermined
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Failing cases are kept beside this file, in proptest-regressions/.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn eligibility_follows_reg_3(a in answers()) {
        let d = rules::eligibility(&response(&a));
        prop_assert_eq!(d.eligibility, expected(&a));
        // Not applicable is an answer: it never leaves condition (b) open.
        if a.health == Some(false) && a.outcomes.iter().all(Option::is_some) {
            prop_assert!(d.condition_b().is_some());
        }
        // One reason per condition, always.
        prop_assert_eq!(d.reasons.len(), 3);
        // Deterministic.
        prop_assert_eq!(rules::eligibility(&response(&a)), d);
    }

    #[test]
    fn one_more_unachievable_outcome_never_makes_a_carer_ineligible(a in answers(), which in 0usize..8, why in achievement()) {
        prop_assume!(UNABLE.contains(&why));
        let before = rules::eligibility(&response(&a)).eligibility;
        let mut worse = a.clone();
        worse.outcomes[which] = Some(why);
        let after = rules::eligibility(&response(&worse)).eligibility;
        prop_assert!(before != Eligibility::Eligible || after == Eligibility::Eligible);
        prop_assert!(before == Eligibility::NotEligible || after != Eligibility::NotEligible);
    }

    #[test]
    fn eligible_needs_all_three_conditions(a in answers()) {
        let d = rules::eligibility(&response(&a));
        if d.eligibility == Eligibility::Eligible {
            prop_assert_eq!(d.necessary_care, Some(true));
            prop_assert_eq!(d.significant_impact, Some(true));
            prop_assert_eq!(d.condition_b(), Some(true));
        }
    }

    #[test]
    fn qol_score_is_the_sum_or_absent(levels in proptest::collection::vec(proptest::option::of(0u8..3), 6)) {
        let items: Vec<Value> = QOL_ITEMS.iter().zip(&levels).filter_map(|(link, l)| {
            let code = ["low", "some", "high"][usize::from((*l)?)];
            Some(json!({"linkId": link, "answer": [{"valueCoding": {
                "system": code_system("carer-qol-level"), "code": code}}]}))
        }).collect();
        let qr = json!({"resourceType": "QuestionnaireResponse", "item": [{"linkId": "qol", "item": items}]});
        let score = rules::carer_qol_score(&qr);
        if levels.iter().all(Option::is_some) {
            let sum: u8 = levels.iter().map(|l| l.unwrap_or(0)).sum();
            prop_assert_eq!(score, Some(sum));
            prop_assert!(sum <= 12);
        } else {
            prop_assert_eq!(score, None);
        }
    }

    #[test]
    fn nhs_numbers_accept_exactly_the_right_check_digit(nine in proptest::array::uniform9(0u8..10), last in 0u8..10) {
        let text: String = nine.iter().chain(std::iter::once(&last)).map(|d| char::from(b'0' + d)).collect();
        let ok = text.parse::<NhsNumber>().is_ok();
        prop_assert_eq!(ok, NhsNumber::check_digit(&nine) == Some(last));
    }
}
