//! `CarerEligibility` (Observation on UKCore-Observation): the reg 3
//! determination, with a component per finding and a reason per condition.

use serde_json::Value;

use super::code_system;
use super::json::{first_code, reference_of};
use super::rules::{Achievement, Determination, Eligibility, Outcome};

/// The `CarerEligibility` profile (Observation): built from a
/// [`Determination`] rather than by hand, so it always says what the rules
/// found.
///
/// # Examples
/// ```
/// use fhir_core::caf::{rules, CarerEligibility};
/// let qr = serde_json::json!({"resourceType": "QuestionnaireResponse"});
/// let obs = CarerEligibility::from_determination(&rules::eligibility(&qr),
///     "Patient/mary", "QuestionnaireResponse/q1", "2025-11-01");
/// assert_eq!(CarerEligibility::read(&obs).determination(), Some(rules::Eligibility::Undetermined));
/// ```
pub struct CarerEligibility;

impl CarerEligibility {
    /// The Observation for `determination` about `carer`, derived from
    /// `response`, effective `when`: the builder of this profile.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::{rules, CarerEligibility};
    /// let qr = serde_json::json!({"resourceType": "QuestionnaireResponse", "item": [
    ///     {"linkId": "necessary-care", "answer": [{"valueBoolean": false}]}]});
    /// let obs = CarerEligibility::from_determination(&rules::eligibility(&qr),
    ///     "Patient/p", "QuestionnaireResponse/q", "2025-11-01");
    /// assert_eq!(obs["valueCodeableConcept"]["coding"][0]["code"], "not-eligible");
    /// ```
    pub fn from_determination(
        determination: &Determination,
        carer: &str,
        response: &str,
        when: &str,
    ) -> Value {
        determination.to_observation(carer, response, when)
    }

    /// Typed access to a CarerEligibility.
    ///
    /// See [`CarerEligibilityReader`] for an example.
    pub fn read(resource: &Value) -> CarerEligibilityReader<'_> {
        CarerEligibilityReader(resource)
    }
}

/// Typed access to a `CarerEligibility`; made by [`CarerEligibility::read`].
///
/// # Examples
/// ```
/// use fhir_core::caf::rules::{self, Achievement, Eligibility, Outcome};
/// use fhir_core::caf::CarerEligibility;
/// let system = "https://fhir.carer-fhir.uk/CodeSystem/outcome-achievement";
/// let qr = serde_json::json!({"resourceType": "QuestionnaireResponse", "item": [
///     {"linkId": "necessary-care", "answer": [{"valueBoolean": true}]},
///     {"linkId": "reg3-home", "answer": [{"valueCoding": {"system": system, "code": "needs-assistance"}}]},
///     {"linkId": "significant-impact", "answer": [{"valueBoolean": true}]}]});
/// let obs = CarerEligibility::from_determination(&rules::eligibility(&qr),
///     "Patient/p", "QuestionnaireResponse/q", "2025-11-01");
/// let read = CarerEligibility::read(&obs);
/// assert_eq!(read.determination(), Some(Eligibility::Eligible));
/// assert_eq!(read.outcome(Outcome::Home), Some(Achievement::NeedsAssistance));
/// assert_eq!(read.outcome(Outcome::Nutrition), None);
/// assert_eq!(read.finding("necessary-care"), Some(true));
/// assert_eq!(read.reasons().len(), 3);
/// assert_eq!(read.response(), Some("QuestionnaireResponse/q"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerEligibilityReader<'a>(&'a Value);

impl<'a> CarerEligibilityReader<'a> {
    /// The determination.
    pub fn determination(&self) -> Option<Eligibility> {
        Eligibility::from_code(first_code(&self.0["valueCodeableConcept"])?)
    }
    /// The carer.
    pub fn carer(&self) -> Option<&'a str> {
        reference_of(&self.0["subject"])
    }
    /// The response the determination was derived from.
    pub fn response(&self) -> Option<&'a str> {
        reference_of(&self.0["derivedFrom"][0])
    }
    /// The yes/no finding for an eligibility criterion (`necessary-care`,
    /// `health-at-risk`, `significant-impact`).
    pub fn finding(&self, criterion: &str) -> Option<bool> {
        let system = code_system("eligibility-criterion");
        self.component(&system, criterion)?["valueBoolean"].as_bool()
    }
    /// What the assessment found of one reg 3 outcome.
    pub fn outcome(&self, outcome: Outcome) -> Option<Achievement> {
        let system = code_system("reg3-outcome");
        let found = self.component(&system, outcome.code())?;
        Achievement::from_code(first_code(&found["valueCodeableConcept"])?)
    }
    /// The reasons given, one per note.
    pub fn reasons(&self) -> Vec<&'a str> {
        self.0["note"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["text"].as_str())
            .collect()
    }

    /// The component coded `system|code`.
    fn component(&self, system: &str, code: &str) -> Option<&'a Value> {
        self.0["component"].as_array()?.iter().find(|c| {
            c["code"]["coding"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["system"] == system && k["code"] == code)
        })
    }
}
