//! `CarerSexualOrientation` and `CarerDisability` (Observations on
//! UKCore-Observation): the equality data the NHS standards record as coded
//! observations, each with a code for a carer who declines to say.

use serde_json::{json, Value};

use super::code_system;
use super::codes::{
    ACTIVITY_LIMITATIONS, GENERAL_HEALTH, NHS_DISABILITY_CODES, SEXUAL_ORIENTATION_CODES,
};
use super::json::{
    check_code, coding, first_code, invalid, meta, reference, reference_of, require,
};
use crate::error::Result;

/// The social-history category both observations carry.
fn social_history() -> Value {
    json!([coding(
        "http://terminology.hl7.org/CodeSystem/observation-category",
        "social-history"
    )])
}

/// The `CarerSexualOrientation` profile, coded as the NHS Sexual
/// Orientation Monitoring standard codes it.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerSexualOrientation;
/// let o = CarerSexualOrientation::builder().carer("Patient/mary").declined()
///     .effective("2025-11-01").build().unwrap();
/// let read = CarerSexualOrientation::read(&o);
/// assert_eq!(read.national_code(), Some("Z"));
/// assert!(read.is_not_stated());
/// ```
pub struct CarerSexualOrientation;

impl CarerSexualOrientation {
    /// A builder: the carer and the code are required.
    ///
    /// See [`CarerSexualOrientationBuilder`] for an example.
    pub fn builder() -> CarerSexualOrientationBuilder {
        CarerSexualOrientationBuilder::default()
    }

    /// Typed access.
    ///
    /// See [`CarerSexualOrientationReader`] for an example.
    pub fn read(resource: &Value) -> CarerSexualOrientationReader<'_> {
        CarerSexualOrientationReader(resource)
    }
}

/// Builds a `CarerSexualOrientation`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerSexualOrientation;
/// let o = CarerSexualOrientation::builder()
///     .carer("Patient/ngozi")
///     .snomed("20430005")
///     .effective("2026-03-01")
///     .build()
///     .unwrap();
/// assert_eq!(o["valueCodeableConcept"]["coding"][0]["display"], "Heterosexual");
/// // Only the standard's codes:
/// assert!(CarerSexualOrientation::builder().carer("Patient/ngozi").snomed("38628009")
///     .build().is_err());
/// ```
#[derive(Debug, Default, Clone)]
pub struct CarerSexualOrientationBuilder {
    carer: Option<String>,
    code: Option<String>,
    effective: Option<String>,
}

impl CarerSexualOrientationBuilder {
    /// The carer (required).
    pub fn carer(mut self, patient: &str) -> Self {
        self.carer = Some(patient.into());
        self
    }
    /// The SNOMED CT code (see [`SEXUAL_ORIENTATION_CODES`]; required).
    pub fn snomed(mut self, code: &str) -> Self {
        self.code = Some(code.into());
        self
    }
    /// Asked and declined to say (699042003, national code Z).
    pub fn declined(self) -> Self {
        self.snomed("699042003")
    }
    /// When asked.
    pub fn effective(mut self, when: &str) -> Self {
        self.effective = Some(when.into());
        self
    }

    /// The resource.
    ///
    /// # Errors
    /// When the carer or code is missing, or the code is not one of the
    /// standard's.
    pub fn build(self) -> Result<Value> {
        let carer = require(self.carer, "Observation.subject", "the carer")?;
        let code = require(
            self.code,
            "Observation.value",
            "the sexual orientation code",
        )?;
        let term = SEXUAL_ORIENTATION_CODES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, t, _)| *t)
            .ok_or_else(|| {
                invalid(
                    "Observation.value",
                    format!("SNOMED CT {code} is not in the sexual-orientation value set"),
                )
            })?;
        let mut o = json!({
            "resourceType": "Observation",
            "meta": meta("CarerSexualOrientation", "Observation"),
            "status": "final",
            "category": social_history(),
            "code": {"coding": [{"system": "http://loinc.org", "code": "76690-7", "display": "Sexual orientation"}]},
            "subject": reference(&carer),
            "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": term}]},
        });
        if let Some(w) = &self.effective {
            o["effectiveDateTime"] = json!(w);
        }
        Ok(o)
    }
}

/// Typed access to a `CarerSexualOrientation`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerSexualOrientation;
/// let o = CarerSexualOrientation::builder().carer("Patient/mary").snomed("42035005")
///     .build().unwrap();
/// let read = CarerSexualOrientation::read(&o);
/// assert_eq!(read.carer(), Some("Patient/mary"));
/// assert_eq!(read.snomed(), Some("42035005"));
/// assert_eq!(read.national_code(), Some("3"));
/// assert!(!read.is_not_stated());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerSexualOrientationReader<'a>(&'a Value);

impl<'a> CarerSexualOrientationReader<'a> {
    /// The carer.
    pub fn carer(&self) -> Option<&'a str> {
        reference_of(&self.0["subject"])
    }
    /// The SNOMED CT code.
    pub fn snomed(&self) -> Option<&'a str> {
        first_code(&self.0["valueCodeableConcept"])
    }
    /// The NHS Data Dictionary national code (1, 2, 3, 4, U, Z, 9) the
    /// SNOMED CT code stands for.
    pub fn national_code(&self) -> Option<&'static str> {
        let code = self.snomed()?;
        SEXUAL_ORIENTATION_CODES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, _, n)| *n)
    }
    /// True when the carer was asked and declined to say (Z).
    pub fn is_not_stated(&self) -> bool {
        self.national_code() == Some("Z")
    }
}

/// The `CarerDisability` profile: whether a long-term condition limits the
/// carer's day-to-day activities, the kinds of disability, general health.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerDisability;
/// let o = CarerDisability::builder().carer("Patient/mary").limitation("limited-a-little")
///     .build().unwrap();
/// assert!(CarerDisability::read(&o).is_disabled());
/// ```
pub struct CarerDisability;

impl CarerDisability {
    /// A builder: the carer and the activity limitation are required.
    ///
    /// See [`CarerDisabilityBuilder`] for an example.
    pub fn builder() -> CarerDisabilityBuilder {
        CarerDisabilityBuilder::default()
    }

    /// Typed access.
    ///
    /// See [`CarerDisabilityReader`] for an example.
    pub fn read(resource: &Value) -> CarerDisabilityReader<'_> {
        CarerDisabilityReader(resource)
    }
}

/// Builds a `CarerDisability`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerDisability;
/// let o = CarerDisability::builder()
///     .carer("Patient/mary")
///     .limitation("limited-a-little")
///     .disability_type("05")
///     .general_health("fair")
///     .effective("2025-11-01")
///     .build()
///     .unwrap();
/// assert_eq!(o["component"].as_array().unwrap().len(), 2);
/// // A carer who declines to answer:
/// let declined = CarerDisability::builder().carer("Patient/mary").limitation("not-stated")
///     .build().unwrap();
/// assert!(CarerDisability::read(&declined).is_not_stated());
/// assert!(CarerDisability::builder().carer("Patient/mary").limitation("some").build().is_err());
/// ```
#[derive(Debug, Default, Clone)]
pub struct CarerDisabilityBuilder {
    carer: Option<String>,
    limitation: Option<String>,
    types: Vec<String>,
    health: Option<String>,
    effective: Option<String>,
}

impl CarerDisabilityBuilder {
    /// The carer (required).
    pub fn carer(mut self, patient: &str) -> Self {
        self.carer = Some(patient.into());
        self
    }
    /// Whether a long-term condition limits day-to-day activities (see
    /// [`ACTIVITY_LIMITATIONS`]; required).
    pub fn limitation(mut self, code: &str) -> Self {
        self.limitation = Some(code.into());
        self
    }
    /// A kind of disability (NHS Data Dictionary DISABILITY CODE, see
    /// [`NHS_DISABILITY_CODES`]); repeatable.
    pub fn disability_type(mut self, code: &str) -> Self {
        self.types.push(code.into());
        self
    }
    /// The carer's own rating of their health (see [`GENERAL_HEALTH`]).
    pub fn general_health(mut self, code: &str) -> Self {
        self.health = Some(code.into());
        self
    }
    /// When asked.
    pub fn effective(mut self, when: &str) -> Self {
        self.effective = Some(when.into());
        self
    }

    /// The resource.
    ///
    /// # Errors
    /// When the carer or limitation is missing, or a code is unknown.
    pub fn build(self) -> Result<Value> {
        let carer = require(self.carer, "Observation.subject", "the carer")?;
        let limitation = require(
            self.limitation,
            "Observation.value",
            "the activity limitation",
        )?;
        check_code(
            "Observation.value",
            "activity limitation",
            &limitation,
            ACTIVITY_LIMITATIONS,
        )?;
        let obs = code_system("caf-observation");
        let mut components = Vec::new();
        for (i, t) in self.types.iter().enumerate() {
            check_code(
                &format!("Observation.component[{i}].value"),
                "DISABILITY CODE",
                t,
                NHS_DISABILITY_CODES,
            )?;
            components.push(json!({"code": coding(&obs, "disability-type"),
                "valueCodeableConcept": coding(&code_system("nhs-disability-code"), t)}));
        }
        if let Some(h) = &self.health {
            check_code(
                "Observation.component.value",
                "general health",
                h,
                GENERAL_HEALTH,
            )?;
            components.push(json!({"code": coding(&obs, "general-health"),
                "valueCodeableConcept": coding(&code_system("general-health"), h)}));
        }
        let mut o = json!({
            "resourceType": "Observation",
            "meta": meta("CarerDisability", "Observation"),
            "status": "final",
            "category": social_history(),
            "code": coding(&obs, "disability"),
            "subject": reference(&carer),
            "valueCodeableConcept": coding(&code_system("activity-limitation"), &limitation),
        });
        if let Some(w) = &self.effective {
            o["effectiveDateTime"] = json!(w);
        }
        if !components.is_empty() {
            o["component"] = Value::Array(components);
        }
        Ok(o)
    }
}

/// Typed access to a `CarerDisability`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerDisability;
/// let o = CarerDisability::builder().carer("Patient/mary").limitation("limited-a-lot")
///     .disability_type("02").disability_type("09").general_health("bad").build().unwrap();
/// let read = CarerDisability::read(&o);
/// assert_eq!(read.carer(), Some("Patient/mary"));
/// assert_eq!(read.limitation(), Some("limited-a-lot"));
/// assert_eq!(read.disability_types(), ["02", "09"]);
/// assert_eq!(read.general_health(), Some("bad"));
/// assert!(read.is_disabled());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerDisabilityReader<'a>(&'a Value);

impl<'a> CarerDisabilityReader<'a> {
    /// The carer.
    pub fn carer(&self) -> Option<&'a str> {
        reference_of(&self.0["subject"])
    }
    /// The activity limitation code.
    pub fn limitation(&self) -> Option<&'a str> {
        first_code(&self.0["valueCodeableConcept"])
    }
    /// Disabled in the sense of the Equality Act 2010: day-to-day
    /// activities limited a lot or a little by a long-term condition.
    pub fn is_disabled(&self) -> bool {
        matches!(
            self.limitation(),
            Some("limited-a-lot" | "limited-a-little")
        )
    }
    /// True when the carer was asked and declined to say.
    pub fn is_not_stated(&self) -> bool {
        self.limitation() == Some("not-stated")
    }
    /// The kinds of disability (DISABILITY CODE), in order.
    pub fn disability_types(&self) -> Vec<&'a str> {
        self.components("disability-type")
    }
    /// The general health rating.
    pub fn general_health(&self) -> Option<&'a str> {
        self.components("general-health").first().copied()
    }

    fn components(&self, code: &str) -> Vec<&'a str> {
        self.0["component"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| first_code(&c["code"]) == Some(code))
            .filter_map(|c| first_code(&c["valueCodeableConcept"]))
            .collect()
    }
}
