//! `CarerAssessmentResponse` (QuestionnaireResponse on
//! UKCore-QuestionnaireResponse): a carer's answers to one of the guide's
//! assessment forms, given by the carer (self-assessment) or a
//! practitioner.

use serde_json::{json, Value};

use super::json::{invalid, meta, reference, reference_of, require};
use super::questionnaire::item;
use super::rules::{self, Determination};
use super::{code_system, QuestionnaireVariant};
use crate::error::Result;

/// The `CarerAssessmentResponse` profile (QuestionnaireResponse).
///
/// # Examples
/// ```
/// use fhir_core::caf::{CarerAssessmentResponse, QuestionnaireVariant};
/// let qr = CarerAssessmentResponse::builder(QuestionnaireVariant::ParentCarer)
///     .carer("Patient/priya").authored("2025-11-01").build().unwrap();
/// assert_eq!(CarerAssessmentResponse::read(&qr).variant(), Some(QuestionnaireVariant::ParentCarer));
/// ```
pub struct CarerAssessmentResponse;

impl CarerAssessmentResponse {
    /// A builder that places each answer at its question's place in the
    /// questionnaire and refuses answers to questions the form does not ask
    /// (or of the wrong type).
    ///
    /// See [`CarerAssessmentResponseBuilder`] for an example.
    pub fn builder(variant: QuestionnaireVariant) -> CarerAssessmentResponseBuilder {
        CarerAssessmentResponseBuilder {
            questionnaire: variant.questionnaire(),
            url: variant.url(),
            carer: None,
            source: None,
            authored: None,
            answers: Vec::new(),
        }
    }

    /// Typed access to a carer's assessment response, and the rules
    /// applied to it.
    ///
    /// See [`CarerAssessmentResponseReader`] for an example.
    pub fn read(resource: &Value) -> CarerAssessmentResponseReader<'_> {
        CarerAssessmentResponseReader(resource)
    }
}

/// Typed access to a `CarerAssessmentResponse`; made by [`CarerAssessmentResponse::read`].
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::Eligibility;
/// use fhir_core::caf::{CarerAssessmentResponse, QuestionnaireVariant};
/// let qr = CarerAssessmentResponse::builder(QuestionnaireVariant::Adult)
///     .carer("Patient/mary").authored("2025-11-01")
///     .boolean("necessary-care", false).unwrap()
///     .build().unwrap();
/// let read = CarerAssessmentResponse::read(&qr);
/// assert_eq!(read.variant(), Some(QuestionnaireVariant::Adult));
/// assert_eq!(read.carer(), Some("Patient/mary"));
/// assert!(read.is_self_assessment());
/// assert_eq!(read.boolean("necessary-care"), Some(false));
/// assert_eq!(read.eligibility().eligibility, Eligibility::NotEligible);
/// assert_eq!(read.qol_score(), None); // the six items are unanswered
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerAssessmentResponseReader<'a>(&'a Value);

impl<'a> CarerAssessmentResponseReader<'a> {
    /// The carer assessed.
    pub fn carer(&self) -> Option<&'a str> {
        reference_of(&self.0["subject"])
    }
    /// Who answered.
    pub fn source(&self) -> Option<&'a str> {
        reference_of(&self.0["source"])
    }
    /// True when the carer answered for themselves (source is the subject).
    pub fn is_self_assessment(&self) -> bool {
        self.carer().is_some() && self.source() == self.carer()
    }
    /// Which of the guide's forms was answered.
    pub fn variant(&self) -> Option<QuestionnaireVariant> {
        QuestionnaireVariant::from_url(self.0["questionnaire"].as_str()?)
    }
    /// Every answer to the question `link_id`, wherever it is nested.
    pub fn answers(&self, link_id: &str) -> Vec<&'a Value> {
        rules::answers(self.0, link_id)
    }
    /// The first yes/no answer to `link_id`.
    pub fn boolean(&self, link_id: &str) -> Option<bool> {
        rules::boolean(self.0, link_id)
    }
    /// The reg 3 determination from the answers ([`rules::eligibility`]).
    pub fn eligibility(&self) -> Determination {
        rules::eligibility(self.0)
    }
    /// The carer quality-of-life score ([`rules::carer_qol_score`]).
    pub fn qol_score(&self) -> Option<u8> {
        rules::carer_qol_score(self.0)
    }
    /// Whether the carer said that children under 18 in the household help
    /// with caring (`household.children-help`): young carers nobody knows
    /// of, to be offered a young carer's needs assessment.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::{CarerAssessmentResponse, QuestionnaireVariant};
    /// let qr = CarerAssessmentResponse::builder(QuestionnaireVariant::Adult)
    ///     .carer("Patient/ngozi").authored("2026-03-01")
    ///     .boolean("household.children-help", true).unwrap()
    ///     .text("household.children-help-details", "My son, 14, sits with his grandmother.").unwrap()
    ///     .build().unwrap();
    /// assert_eq!(CarerAssessmentResponse::read(&qr).children_help_with_caring(), Some(true));
    /// ```
    pub fn children_help_with_caring(&self) -> Option<bool> {
        rules::boolean(self.0, "household.children-help")
    }
}

/// Builds a `CarerAssessmentResponse`.
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::Achievement;
/// use fhir_core::caf::{CarerAssessmentResponse, QuestionnaireVariant};
/// let qr = CarerAssessmentResponse::builder(QuestionnaireVariant::Adult)
///     .carer("Patient/mary")
///     .authored("2025-11-01T10:30:00Z")
///     .boolean("necessary-care", true).unwrap()
///     .outcome("reg3-recreation", Achievement::NeedsAssistance).unwrap()
///     .coding("qol-safety", "carer-qol-level", "high").unwrap()
///     .text("caring-role.hours", "50").unwrap()
///     .build()
///     .unwrap();
/// assert_eq!(qr["item"][0]["linkId"], "caring-role");
/// assert_eq!(qr["status"], "in-progress"); // required questions are unanswered
/// // A practitioner's assessment names its source:
/// let by_worker = CarerAssessmentResponse::builder(QuestionnaireVariant::YoungCarer)
///     .carer("Patient/liam").source("Practitioner/sw1").authored("2025-11-01")
///     .build().unwrap();
/// assert!(!CarerAssessmentResponse::read(&by_worker).is_self_assessment());
/// // Questions the form does not ask are refused:
/// assert!(CarerAssessmentResponse::builder(QuestionnaireVariant::YoungCarer)
///     .boolean("necessary-care", true).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct CarerAssessmentResponseBuilder {
    questionnaire: Value,
    url: String,
    carer: Option<String>,
    source: Option<String>,
    authored: Option<String>,
    answers: Vec<(String, Value)>,
}

/// The type of the question `link_id` in `items`, searched depth first.
fn question_type<'a>(items: &'a Value, link_id: &str) -> Option<&'a str> {
    item(items, link_id)?["type"].as_str()
}

impl CarerAssessmentResponseBuilder {
    /// The carer (required).
    pub fn carer(mut self, patient: &str) -> Self {
        self.carer = Some(patient.into());
        self
    }
    /// Who answered, when not the carer (a Practitioner, say).
    pub fn source(mut self, who: &str) -> Self {
        self.source = Some(who.into());
        self
    }
    /// When (required).
    pub fn authored(mut self, when: &str) -> Self {
        self.authored = Some(when.into());
        self
    }

    fn answer(mut self, link_id: &str, want: &[&str], value: Value) -> Result<Self> {
        match question_type(&self.questionnaire["item"], link_id) {
            Some(t) if want.contains(&t) => {
                self.answers.push((link_id.into(), value));
                Ok(self)
            }
            Some(t) => Err(invalid(
                "QuestionnaireResponse.item",
                format!("question {link_id:?} is a {t} question"),
            )),
            None => Err(invalid(
                "QuestionnaireResponse.item",
                format!("the questionnaire has no question {link_id:?}"),
            )),
        }
    }

    /// A yes/no answer.
    ///
    /// # Errors
    /// When the questionnaire has no such boolean question.
    pub fn boolean(self, link_id: &str, value: bool) -> Result<Self> {
        self.answer(link_id, &["boolean"], json!({ "valueBoolean": value }))
    }
    /// A coded answer from one of the guide's code systems (by id).
    ///
    /// # Errors
    /// When the questionnaire has no such choice question.
    pub fn coding(self, link_id: &str, system_id: &str, code: &str) -> Result<Self> {
        self.answer(
            link_id,
            &["choice", "open-choice"],
            json!({"valueCoding": {"system": code_system(system_id), "code": code}}),
        )
    }
    /// A reg 3 outcome answer (`reg3-home`, …) with its achievement.
    ///
    /// # Errors
    /// When the questionnaire has no such question (young and parent
    /// carers' forms have no reg 3 section).
    pub fn outcome(self, link_id: &str, achievement: rules::Achievement) -> Result<Self> {
        self.coding(link_id, "outcome-achievement", achievement.code())
    }
    /// A free-text or number answer.
    ///
    /// # Errors
    /// When the questionnaire has no such text, string or integer question.
    pub fn text(self, link_id: &str, value: &str) -> Result<Self> {
        let ty = question_type(&self.questionnaire["item"], link_id).unwrap_or("");
        if ty == "integer" {
            let n: i64 = value.parse().map_err(|_| {
                invalid(
                    "QuestionnaireResponse.item",
                    format!("{value:?} is not a whole number"),
                )
            })?;
            return self.answer(link_id, &["integer"], json!({ "valueInteger": n }));
        }
        self.answer(
            link_id,
            &["string", "text"],
            json!({ "valueString": value }),
        )
    }

    /// The resource, answers nested as the questionnaire's groups are. Its
    /// status is `completed` when every required question of each answered
    /// group has an answer, else `in-progress`.
    ///
    /// # Errors
    /// When the carer or date is missing.
    pub fn build(self) -> Result<Value> {
        let carer = require(self.carer, "QuestionnaireResponse.subject", "the carer")?;
        let authored = require(self.authored, "QuestionnaireResponse.authored", "when")?;
        fn place(items: &Value, answers: &[(String, Value)]) -> Vec<Value> {
            let mut out = Vec::new();
            for q in items.as_array().into_iter().flatten() {
                let link = q["linkId"].as_str().unwrap_or("");
                let given: Vec<Value> = answers
                    .iter()
                    .filter(|(l, _)| l == link)
                    .map(|(_, v)| v.clone())
                    .collect();
                let children = place(&q["item"], answers);
                if given.is_empty() && children.is_empty() {
                    continue;
                }
                let mut item = json!({ "linkId": link });
                if !given.is_empty() {
                    item["answer"] = Value::Array(given);
                }
                if !children.is_empty() {
                    item["item"] = Value::Array(children);
                }
                out.push(item);
            }
            out
        }
        // Completed only when every required question of every answered
        // group has an answer; otherwise the response is still in progress.
        fn unanswered(items: &Value, answers: &[(String, Value)], out: &mut Vec<String>) {
            for q in items.as_array().into_iter().flatten() {
                let link = q["linkId"].as_str().unwrap_or("");
                if q["type"] == "group" {
                    let mut inner = Vec::new();
                    unanswered(&q["item"], answers, &mut inner);
                    let touched = q["item"].as_array().into_iter().flatten().any(|c| {
                        answers
                            .iter()
                            .any(|(l, _)| Some(l.as_str()) == c["linkId"].as_str())
                    });
                    if touched || q["required"] == true {
                        out.extend(inner);
                    }
                } else if q["required"] == true && !answers.iter().any(|(l, _)| l == link) {
                    out.push(link.to_string());
                }
            }
        }
        let mut missing_required = Vec::new();
        unanswered(
            &self.questionnaire["item"],
            &self.answers,
            &mut missing_required,
        );
        let version = self.questionnaire["version"].as_str().unwrap_or("");
        let mut r = json!({
            "resourceType": "QuestionnaireResponse",
            "meta": meta("CarerAssessmentResponse", "QuestionnaireResponse"),
            "questionnaire": format!("{}|{version}", self.url),
            "status": if missing_required.is_empty() { "completed" } else { "in-progress" },
            "subject": reference(&carer),
            "authored": authored,
            "source": reference(self.source.as_deref().unwrap_or(&carer)),
        });
        let items = place(&self.questionnaire["item"], &self.answers);
        if !items.is_empty() {
            r["item"] = Value::Array(items);
        }
        Ok(r)
    }
}
