//! The CAF rules: a carer's eligibility under the Care and Support
//! (Eligibility Criteria) Regulations 2015 reg 3, and the carer
//! quality-of-life score, both read from a carer's assessment response
//! (`CarerAssessmentResponse`) by the linkIds of the guide's questionnaires.
//!
//! The rules are deterministic and explain themselves: a [`Determination`]
//! carries every finding it rests on and a reason for each condition.

use serde_json::{json, Value};

use super::{code_system, CANONICAL};

/// Reg 3(2)(b): the eight outcomes, in the regulation's order, with the
/// linkId of the question that asks about each.
pub const OUTCOMES: [(Outcome, &str); 8] = [
    (Outcome::ChildCare, "reg3-child-care"),
    (Outcome::OtherCaring, "reg3-other-caring"),
    (Outcome::Home, "reg3-home"),
    (Outcome::Nutrition, "reg3-nutrition"),
    (Outcome::Relationships, "reg3-relationships"),
    (Outcome::WorkEducation, "reg3-work-education"),
    (Outcome::Community, "reg3-community"),
    (Outcome::Recreation, "reg3-recreation"),
];

/// One of the eight outcomes of reg 3(2)(b).
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::{Outcome, OUTCOMES};
/// assert_eq!(OUTCOMES[0], (Outcome::ChildCare, "reg3-child-care"));
/// assert_eq!(Outcome::Nutrition.code(), "nutrition");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// (i) carrying out any caring responsibilities the carer has for a child.
    ChildCare,
    /// (ii) providing care to other persons for whom the carer provides care.
    OtherCaring,
    /// (iii) maintaining a habitable home environment.
    Home,
    /// (iv) managing and maintaining nutrition.
    Nutrition,
    /// (v) developing and maintaining family or other personal relationships.
    Relationships,
    /// (vi) engaging in work, training, education or volunteering.
    WorkEducation,
    /// (vii) making use of necessary facilities or services in the local community.
    Community,
    /// (viii) engaging in recreational activities.
    Recreation,
}

impl Outcome {
    /// The code in the guide's `reg3-outcome` code system.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(fhir_core::caf::rules::Outcome::WorkEducation.code(), "work-education");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            Outcome::ChildCare => "child-care",
            Outcome::OtherCaring => "other-caring",
            Outcome::Home => "home",
            Outcome::Nutrition => "nutrition",
            Outcome::Relationships => "relationships",
            Outcome::WorkEducation => "work-education",
            Outcome::Community => "community",
            Outcome::Recreation => "recreation",
        }
    }
}

/// Whether a carer can achieve an outcome (reg 3(3)).
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::Achievement;
/// let unable: Vec<_> = Achievement::ALL.into_iter().filter(|a| a.is_unable()).collect();
/// assert_eq!(unable.len(), 3); // reg 3(3)(a), (b) and (c)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Achievement {
    /// Able, without assistance, pain, distress, anxiety or danger.
    Able,
    /// (a) unable without assistance.
    NeedsAssistance,
    /// (b) able without assistance, but with significant pain, distress or anxiety.
    PainDistressAnxiety,
    /// (c) able without assistance, but endangering the health or safety of the carer or others.
    EndangersHealthSafety,
    /// The outcome does not arise for this carer (no child to care for,
    /// nobody else cared for): answered, and not an outcome the carer is
    /// unable to achieve.
    NotApplicable,
}

impl Achievement {
    /// The code in the guide's `outcome-achievement` code system.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(fhir_core::caf::rules::Achievement::NotApplicable.code(), "not-applicable");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            Achievement::Able => "able",
            Achievement::NeedsAssistance => "needs-assistance",
            Achievement::PainDistressAnxiety => "pain-distress-anxiety",
            Achievement::EndangersHealthSafety => "endangers-health-safety",
            Achievement::NotApplicable => "not-applicable",
        }
    }

    /// Every achievement, in the code system's order.
    pub const ALL: [Achievement; 5] = [
        Achievement::Able,
        Achievement::NeedsAssistance,
        Achievement::PainDistressAnxiety,
        Achievement::EndangersHealthSafety,
        Achievement::NotApplicable,
    ];

    /// The achievement with this code.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::rules::Achievement;
    /// assert_eq!(Achievement::from_code("needs-assistance"), Some(Achievement::NeedsAssistance));
    /// assert_eq!(Achievement::from_code("unable"), None);
    /// ```
    pub fn from_code(code: &str) -> Option<Achievement> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// Reg 3(3): any of (a), (b), (c) means "unable to achieve"; able and
    /// not applicable do not.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::rules::Achievement;
    /// assert!(Achievement::PainDistressAnxiety.is_unable());
    /// assert!(!Achievement::NotApplicable.is_unable());
    /// ```
    pub fn is_unable(self) -> bool {
        matches!(
            self,
            Achievement::NeedsAssistance
                | Achievement::PainDistressAnxiety
                | Achievement::EndangersHealthSafety
        )
    }
}

/// What reg 3 decides.
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::{eligibility, Eligibility};
/// let nothing_answered = serde_json::json!({"resourceType": "QuestionnaireResponse"});
/// assert_eq!(eligibility(&nothing_answered).eligibility, Eligibility::Undetermined);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eligibility {
    /// All three conditions of reg 3(1) are met.
    Eligible,
    /// At least one condition is known not to be met.
    NotEligible,
    /// The answers do not settle it: a condition is unanswered and none is
    /// known to fail.
    Undetermined,
}

impl Eligibility {
    /// The code in the guide's `eligibility-determination` code system.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(fhir_core::caf::rules::Eligibility::NotEligible.code(), "not-eligible");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            Eligibility::Eligible => "eligible",
            Eligibility::NotEligible => "not-eligible",
            Eligibility::Undetermined => "undetermined",
        }
    }

    /// The determination with this code.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::rules::Eligibility;
    /// assert_eq!(Eligibility::from_code("eligible"), Some(Eligibility::Eligible));
    /// assert_eq!(Eligibility::from_code("maybe"), None);
    /// ```
    pub fn from_code(code: &str) -> Option<Eligibility> {
        [
            Eligibility::Eligible,
            Eligibility::NotEligible,
            Eligibility::Undetermined,
        ]
        .into_iter()
        .find(|e| e.code() == code)
    }
}

/// A reg 3 determination with the findings it rests on.
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::{eligibility, Eligibility};
/// let qr = serde_json::json!({"resourceType": "QuestionnaireResponse", "item": [
///   {"linkId": "necessary-care", "answer": [{"valueBoolean": true}]},
///   {"linkId": "health-at-risk", "answer": [{"valueBoolean": true}]},
///   {"linkId": "significant-impact", "answer": [{"valueBoolean": false}]}]});
/// let d = eligibility(&qr);
/// assert_eq!(d.eligibility, Eligibility::NotEligible);
/// assert_eq!(d.condition_b(), Some(true));
/// assert_eq!(d.reasons[2], "Condition (c) not met: no significant impact on wellbeing.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Determination {
    /// The result.
    pub eligibility: Eligibility,
    /// Condition (a): the needs arise from providing necessary care.
    pub necessary_care: Option<bool>,
    /// Reg 3(2)(a): the carer's health is deteriorating or at risk.
    pub health_at_risk: Option<bool>,
    /// Reg 3(2)(b): each outcome and what the answers say of it, in the
    /// regulation's order; `None` when unanswered. When an answer lists
    /// several reasons the first "unable" one is kept.
    pub outcomes: Vec<(Outcome, Option<Achievement>)>,
    /// Condition (c): a significant impact on the carer's wellbeing.
    pub significant_impact: Option<bool>,
    /// One sentence per condition, saying why it is met, not met or open.
    pub reasons: Vec<String>,
}

impl Determination {
    /// Condition (b): met when the health is at risk or any outcome cannot
    /// be achieved; not met when health is not at risk and every outcome
    /// is achievable (or not applicable); else open.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::rules::eligibility;
    /// let at_risk = serde_json::json!({"resourceType": "QuestionnaireResponse", "item": [
    ///     {"linkId": "health-at-risk", "answer": [{"valueBoolean": true}]}]});
    /// assert_eq!(eligibility(&at_risk).condition_b(), Some(true));
    /// let not_answered = serde_json::json!({"resourceType": "QuestionnaireResponse"});
    /// assert_eq!(eligibility(&not_answered).condition_b(), None);
    /// ```
    pub fn condition_b(&self) -> Option<bool> {
        let unable = self
            .outcomes
            .iter()
            .any(|(_, a)| a.is_some_and(Achievement::is_unable));
        if self.health_at_risk == Some(true) || unable {
            Some(true)
        } else if self.health_at_risk == Some(false)
            && self.outcomes.iter().all(|(_, a)| a.is_some())
        {
            Some(false)
        } else {
            None
        }
    }

    /// The outcomes the carer cannot achieve, in the regulation's order.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::rules::{eligibility, Outcome};
    /// let system = "https://fhir.carer-fhir.uk/CodeSystem/outcome-achievement";
    /// let qr = serde_json::json!({"resourceType": "QuestionnaireResponse", "item": [
    ///     {"linkId": "reg3-child-care", "answer": [{"valueCoding": {"system": system, "code": "not-applicable"}}]},
    ///     {"linkId": "reg3-recreation", "answer": [{"valueCoding": {"system": system, "code": "needs-assistance"}}]}]});
    /// assert_eq!(eligibility(&qr).outcomes_not_achieved(), [Outcome::Recreation]);
    /// ```
    pub fn outcomes_not_achieved(&self) -> Vec<Outcome> {
        self.outcomes
            .iter()
            .filter(|(_, a)| a.is_some_and(Achievement::is_unable))
            .map(|(o, _)| *o)
            .collect()
    }

    /// The determination as a `CarerEligibility` Observation on `subject`
    /// (a reference such as `Patient/mary-jones`), derived from `response`
    /// (a reference to the QuestionnaireResponse), effective `when`.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::rules::eligibility;
    /// let qr = serde_json::json!({"resourceType": "QuestionnaireResponse", "status": "completed"});
    /// let obs = eligibility(&qr).to_observation("Patient/p", "QuestionnaireResponse/r", "2025-11-01");
    /// assert_eq!(obs["valueCodeableConcept"]["coding"][0]["code"], "undetermined");
    /// ```
    pub fn to_observation(&self, subject: &str, response: &str, when: &str) -> Value {
        let criterion = code_system("eligibility-criterion");
        let mut components = Vec::new();
        for (code, value) in [
            ("necessary-care", self.necessary_care),
            ("health-at-risk", self.health_at_risk),
            ("significant-impact", self.significant_impact),
        ] {
            if let Some(v) = value {
                components.push(json!({
                    "code": {"coding": [{"system": criterion, "code": code}]},
                    "valueBoolean": v
                }));
            }
        }
        for (outcome, achievement) in &self.outcomes {
            if let Some(a) = achievement {
                components.push(json!({
                    "code": {"coding": [{"system": code_system("reg3-outcome"), "code": outcome.code()}]},
                    "valueCodeableConcept": {"coding": [{"system": code_system("outcome-achievement"), "code": a.code()}]}
                }));
            }
        }
        let mut obs = json!({
            "resourceType": "Observation",
            "meta": {"profile": [
                format!("{CANONICAL}/StructureDefinition/CarerEligibility"),
                "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation"
            ]},
            "status": "final",
            "code": {"coding": [{"system": code_system("caf-observation"), "code": "carer-eligibility",
                                 "display": "Carer's eligibility determination"}]},
            "subject": {"reference": subject},
            "effectiveDateTime": when,
            "derivedFrom": [{"reference": response}],
            "valueCodeableConcept": {"coding": [{"system": code_system("eligibility-determination"),
                                                 "code": self.eligibility.code()}]},
            "note": self.reasons.iter().map(|r| json!({"text": r})).collect::<Vec<_>>(),
        });
        if !components.is_empty() {
            obs["component"] = Value::Array(components);
        }
        obs
    }
}

/// Every answer to the question `link_id`, anywhere in the response.
pub(super) fn answers<'a>(qr: &'a Value, link_id: &str) -> Vec<&'a Value> {
    fn walk<'a>(items: &'a Value, link_id: &str, out: &mut Vec<&'a Value>) {
        for item in items.as_array().into_iter().flatten() {
            if item["linkId"].as_str() == Some(link_id) {
                out.extend(item["answer"].as_array().into_iter().flatten());
            }
            walk(&item["item"], link_id, out);
            for a in item["answer"].as_array().into_iter().flatten() {
                walk(&a["item"], link_id, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&qr["item"], link_id, &mut out);
    out
}

/// The first yes/no answer to `link_id`.
pub(super) fn boolean(qr: &Value, link_id: &str) -> Option<bool> {
    answers(qr, link_id)
        .iter()
        .find_map(|a| a["valueBoolean"].as_bool())
}

fn codes<'a>(qr: &'a Value, link_id: &str, system: &str) -> Vec<&'a str> {
    answers(qr, link_id)
        .into_iter()
        .filter(|a| a["valueCoding"]["system"].as_str() == Some(system))
        .filter_map(|a| a["valueCoding"]["code"].as_str())
        .collect()
}

/// The reg 3 determination from a carer's assessment response.
///
/// Reg 3(1): a carer's needs meet the eligibility criteria when (a) they
/// arise from providing necessary care for an adult (`necessary-care`),
/// (b) the carer's health is, or is at risk of, deteriorating
/// (`health-at-risk`) or the carer is unable to achieve any of the eight
/// outcomes (`reg3-*`, where reg 3(3)'s three circumstances count as
/// unable), and (c) as a consequence there is, or is likely to be, a
/// significant impact on the carer's wellbeing (`significant-impact`).
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::{eligibility, Eligibility};
/// let qr = serde_json::json!({"resourceType": "QuestionnaireResponse", "item": [
///   {"linkId": "necessary-care", "answer": [{"valueBoolean": true}]},
///   {"linkId": "health-at-risk", "answer": [{"valueBoolean": true}]},
///   {"linkId": "significant-impact", "answer": [{"valueBoolean": true}]}
/// ]});
/// assert_eq!(eligibility(&qr).eligibility, Eligibility::Eligible);
/// ```
pub fn eligibility(response: &Value) -> Determination {
    let achievement_system = code_system("outcome-achievement");
    let necessary_care = boolean(response, "necessary-care");
    let health_at_risk = boolean(response, "health-at-risk");
    let significant_impact = boolean(response, "significant-impact");
    let outcomes: Vec<(Outcome, Option<Achievement>)> = OUTCOMES
        .iter()
        .map(|(o, link)| {
            let found: Vec<Achievement> = codes(response, link, &achievement_system)
                .into_iter()
                .filter_map(Achievement::from_code)
                .collect();
            let a = found
                .iter()
                .copied()
                .find(|a| a.is_unable())
                .or_else(|| found.first().copied());
            (*o, a)
        })
        .collect();
    let mut d = Determination {
        eligibility: Eligibility::Undetermined,
        necessary_care,
        health_at_risk,
        outcomes,
        significant_impact,
        reasons: Vec::new(),
    };
    let b = d.condition_b();
    d.reasons.push(match necessary_care {
        Some(true) => "Condition (a) met: the needs arise from providing necessary care.".into(),
        Some(false) => "Condition (a) not met: the care provided is not necessary care.".into(),
        None => "Condition (a) open: whether the care is necessary is not answered.".into(),
    });
    let not_achieved: Vec<&str> = d.outcomes_not_achieved().iter().map(|o| o.code()).collect();
    d.reasons.push(match b {
        Some(true) => {
            let mut why = Vec::new();
            if health_at_risk == Some(true) {
                why.push("health deteriorating or at risk".to_string());
            }
            if !not_achieved.is_empty() {
                why.push(format!("unable to achieve: {}", not_achieved.join(", ")));
            }
            format!("Condition (b) met: {}.", why.join("; "))
        }
        Some(false) => {
            "Condition (b) not met: health not at risk and every outcome achievable.".into()
        }
        None => {
            "Condition (b) open: health risk or some outcomes not answered, and none unachievable."
                .into()
        }
    });
    d.reasons.push(match significant_impact {
        Some(true) => "Condition (c) met: significant impact on wellbeing.".into(),
        Some(false) => "Condition (c) not met: no significant impact on wellbeing.".into(),
        None => "Condition (c) open: the impact on wellbeing is not answered.".into(),
    });
    let conditions = [necessary_care, b, significant_impact];
    d.eligibility = if conditions.contains(&Some(false)) {
        Eligibility::NotEligible
    } else if conditions.iter().all(|c| *c == Some(true)) {
        Eligibility::Eligible
    } else {
        Eligibility::Undetermined
    };
    d
}

/// The six carer quality-of-life items, by linkId.
pub const QOL_ITEMS: [&str; 6] = [
    "qol-occupation",
    "qol-control",
    "qol-self-care",
    "qol-safety",
    "qol-social",
    "qol-support",
];

/// The carer quality-of-life score: each of the six items scores 2
/// (`high`), 1 (`some`) or 0 (`low`), for a total of 0 to 12. `None` when
/// any item is unanswered or answered with a code outside the scale.
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::{carer_qol_score, QOL_ITEMS};
/// let system = "https://fhir.carer-fhir.uk/CodeSystem/carer-qol-level";
/// let items: Vec<_> = QOL_ITEMS.iter().map(|id| serde_json::json!(
///     {"linkId": id, "answer": [{"valueCoding": {"system": system, "code": "some"}}]})).collect();
/// let qr = serde_json::json!({"resourceType": "QuestionnaireResponse", "item": items});
/// assert_eq!(carer_qol_score(&qr), Some(6));
/// ```
pub fn carer_qol_score(response: &Value) -> Option<u8> {
    let system = code_system("carer-qol-level");
    QOL_ITEMS.iter().try_fold(0u8, |total, item| {
        let score = match *codes(response, item, &system).first()? {
            "high" => 2,
            "some" => 1,
            "low" => 0,
            _ => return None,
        };
        Some(total + score)
    })
}

/// The Census 2021 band (a code of the guide's `hours-caring-band` value
/// set) of a number of hours caring a week: under 10 is `9-or-less` (the
/// Census counts whole hours), then `10-19`, `20-34`, `35-49` and
/// `50-plus`.
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::hours_band;
/// assert_eq!(hours_band(9.0), "9-or-less");
/// assert_eq!(hours_band(9.5), "9-or-less");
/// assert_eq!(hours_band(10.0), "10-19");
/// assert_eq!(hours_band(50.0), "50-plus");
/// ```
pub fn hours_band(hours: f64) -> &'static str {
    if hours < 10.0 {
        "9-or-less"
    } else if hours < 20.0 {
        "10-19"
    } else if hours < 35.0 {
        "20-34"
    } else if hours < 50.0 {
        "35-49"
    } else {
        "50-plus"
    }
}

/// What [`young_carer_age`] finds.
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::AgeCheck;
/// assert!(AgeCheck::Consistent { age: 14 }.is_consistent());
/// assert!(!AgeCheck::TooOld { age: 19 }.is_consistent());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeCheck {
    /// The flag agrees with the carer's age on the day it was raised.
    Consistent {
        /// The carer's age then.
        age: u32,
    },
    /// A "young carer" flag on someone 18 or over when it was raised.
    TooOld {
        /// The carer's age then.
        age: u32,
    },
    /// An "is a carer" flag on someone under 18, who should carry the
    /// "young carer" flag (and be offered a young carer's needs assessment).
    ShouldBeYoungCarer {
        /// The carer's age then.
        age: u32,
    },
    /// The age cannot be told: no full birth date, or no flag start.
    Unknown,
    /// Not a flag the age bears on (`has-a-carer`).
    NotApplicable,
}

impl AgeCheck {
    /// True unless the flag and the age disagree.
    pub fn is_consistent(self) -> bool {
        !matches!(
            self,
            AgeCheck::TooOld { .. } | AgeCheck::ShouldBeYoungCarer { .. }
        )
    }
}

/// Checks a CarerFlag against the age of the carer whose record it is on
/// (`carer`, their Patient): a "young carer" flag is for someone under 18
/// (Children Act 1989 s17ZA) on the day it was raised (`period.start`), and
/// someone under 18 flagged "is a carer" should be flagged "young carer".
/// A profile invariant cannot do this: the flag does not hold the birth
/// date.
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::{young_carer_age, AgeCheck};
/// use fhir_core::caf::{Carer, CarerFlag};
/// let liam = Carer::builder().birth_date("2011-06-20").build().unwrap();
/// let flag = CarerFlag::builder().code("young-carer").subject("Patient/liam")
///     .relationship("RelatedPerson/r").start("2025-09-15").build().unwrap();
/// assert_eq!(young_carer_age(&flag, &liam), AgeCheck::Consistent { age: 14 });
/// let later = CarerFlag::builder().code("young-carer").subject("Patient/liam")
///     .relationship("RelatedPerson/r").start("2029-07-01").build().unwrap();
/// assert_eq!(young_carer_age(&later, &liam), AgeCheck::TooOld { age: 18 });
/// ```
pub fn young_carer_age(flag: &Value, carer: &Value) -> AgeCheck {
    let code = flag["code"]["coding"][0]["code"].as_str();
    if !matches!(code, Some("young-carer" | "is-a-carer")) {
        return AgeCheck::NotApplicable;
    }
    let age = flag["period"]["start"]
        .as_str()
        .zip(carer["birthDate"].as_str())
        .and_then(|(on, born)| super::carer::age_on(born, on));
    match (code, age) {
        (_, None) => AgeCheck::Unknown,
        (Some("young-carer"), Some(age)) if age >= 18 => AgeCheck::TooOld { age },
        (Some("is-a-carer"), Some(age)) if age < 18 => AgeCheck::ShouldBeYoungCarer { age },
        (_, Some(age)) => AgeCheck::Consistent { age },
    }
}
