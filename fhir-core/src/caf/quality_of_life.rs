//! `CarerQualityOfLife` (Observation on UKCore-Observation): the carer
//! quality-of-life score of one assessment or review, its six item levels
//! as components, so that a carer's score can be followed across reviews.

use serde_json::{json, Value};

use super::code_system;
use super::codes::CARER_QOL_ITEMS;
use super::json::{coding, first_code, meta, missing, reference, reference_of};
use super::rules::{self, QOL_ITEMS};
use crate::error::Result;

/// The `CarerQualityOfLife` profile.
///
/// # Examples
/// ```
/// use fhir_core::caf::{CarerQualityOfLife, rules::QOL_ITEMS};
/// let system = "https://fhir.carer-fhir.uk/CodeSystem/carer-qol-level";
/// let items: Vec<_> = QOL_ITEMS.iter().map(|id| serde_json::json!(
///     {"linkId": id, "answer": [{"valueCoding": {"system": system, "code": "high"}}]})).collect();
/// let qr = serde_json::json!({"resourceType": "QuestionnaireResponse", "item": items});
/// let o = CarerQualityOfLife::from_response(&qr, "Patient/mary",
///     "QuestionnaireResponse/q1", "2025-11-01").unwrap();
/// assert_eq!(CarerQualityOfLife::read(&o).total(), Some(12));
/// ```
pub struct CarerQualityOfLife;

impl CarerQualityOfLife {
    /// The score of the response `qr` (read by the guide questionnaires'
    /// linkIds, as [`rules::carer_qol_score`] reads it) as a
    /// `CarerQualityOfLife` on `subject` (the carer), derived from
    /// `response` (a reference to `qr`), effective `when`.
    ///
    /// # Errors
    /// When any of the six items is unanswered or answered off the scale:
    /// a partial score is not a score.
    pub fn from_response(qr: &Value, subject: &str, response: &str, when: &str) -> Result<Value> {
        let total = rules::carer_qol_score(qr).ok_or_else(|| {
            missing(
                "QuestionnaireResponse.item",
                "an answer on the scale to each of the six quality-of-life items",
            )
        })?;
        let level_system = code_system("carer-qol-level");
        let item_system = code_system("carer-qol-item");
        let components: Vec<Value> = QOL_ITEMS
            .iter()
            .zip(CARER_QOL_ITEMS)
            .map(|(link, item)| {
                // carer_qol_score succeeded, so each item has a level.
                let level = rules::answers(qr, link)
                    .into_iter()
                    .filter(|a| a["valueCoding"]["system"].as_str() == Some(level_system.as_str()))
                    .find_map(|a| a["valueCoding"]["code"].as_str())
                    .unwrap_or_default();
                json!({"code": coding(&item_system, item),
                       "valueCodeableConcept": coding(&level_system, level)})
            })
            .collect();
        Ok(json!({
            "resourceType": "Observation",
            "meta": meta("CarerQualityOfLife", "Observation"),
            "status": "final",
            "category": [coding("http://terminology.hl7.org/CodeSystem/observation-category", "survey")],
            "code": {"coding": [{"system": code_system("caf-observation"), "code": "carer-qol",
                                 "display": "Carer's quality of life"}]},
            "subject": reference(subject),
            "effectiveDateTime": when,
            "derivedFrom": [reference(response)],
            "valueInteger": total,
            "component": components,
        }))
    }

    /// Typed access.
    ///
    /// See [`CarerQualityOfLifeReader`] for an example.
    pub fn read(resource: &Value) -> CarerQualityOfLifeReader<'_> {
        CarerQualityOfLifeReader(resource)
    }

    /// A carer's scores over time: `(effective, total)` of each
    /// `CarerQualityOfLife` given, oldest first; observations without a
    /// date or total are left out.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::CarerQualityOfLife;
    /// let at = |when: &str, total: u8| serde_json::json!(
    ///     {"resourceType": "Observation", "effectiveDateTime": when, "valueInteger": total});
    /// let scores = [at("2026-11-02", 8), at("2025-11-01", 5)];
    /// let trend = CarerQualityOfLife::trend(&scores);
    /// assert_eq!(trend, [("2025-11-01", 5), ("2026-11-02", 8)]);
    /// ```
    pub fn trend(observations: &[Value]) -> Vec<(&str, u8)> {
        let mut points: Vec<(&str, u8)> = observations
            .iter()
            .filter_map(|o| {
                let r = CarerQualityOfLifeReader(o);
                Some((r.effective()?, r.total()?))
            })
            .collect();
        points.sort();
        points
    }
}

/// Typed access to a `CarerQualityOfLife`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerQualityOfLife;
/// let system = "https://fhir.carer-fhir.uk/CodeSystem/carer-qol-level";
/// let items: Vec<_> = ["high", "some", "low", "high", "low", "some"].iter()
///     .zip(fhir_core::caf::rules::QOL_ITEMS)
///     .map(|(level, id)| serde_json::json!(
///         {"linkId": id, "answer": [{"valueCoding": {"system": system, "code": level}}]}))
///     .collect();
/// let qr = serde_json::json!({"resourceType": "QuestionnaireResponse", "item": items});
/// let o = CarerQualityOfLife::from_response(&qr, "Patient/mary", "QuestionnaireResponse/q1",
///     "2025-11-01").unwrap();
/// let read = CarerQualityOfLife::read(&o);
/// assert_eq!(read.total(), Some(6));
/// assert_eq!(read.level("self-care"), Some("low"));
/// assert_eq!(read.carer(), Some("Patient/mary"));
/// assert_eq!(read.response(), Some("QuestionnaireResponse/q1"));
/// assert_eq!(read.effective(), Some("2025-11-01"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerQualityOfLifeReader<'a>(&'a Value);

impl<'a> CarerQualityOfLifeReader<'a> {
    /// The total, 0 to 12.
    pub fn total(&self) -> Option<u8> {
        self.0["valueInteger"]
            .as_u64()
            .and_then(|t| u8::try_from(t).ok())
    }
    /// The level (`high`, `some`, `low`) of an item (see
    /// [`crate::caf::codes::CARER_QOL_ITEMS`]).
    pub fn level(&self, item: &str) -> Option<&'a str> {
        self.0["component"]
            .as_array()?
            .iter()
            .find(|c| first_code(&c["code"]) == Some(item))
            .and_then(|c| first_code(&c["valueCodeableConcept"]))
    }
    /// The carer.
    pub fn carer(&self) -> Option<&'a str> {
        reference_of(&self.0["subject"])
    }
    /// The response it was derived from.
    pub fn response(&self) -> Option<&'a str> {
        reference_of(&self.0["derivedFrom"][0])
    }
    /// When.
    pub fn effective(&self) -> Option<&'a str> {
        self.0["effectiveDateTime"].as_str()
    }
}
