//! `CarerStatus` (Observation on UKCore-Observation): on the carer's own
//! record, that they are a carer (and of whom), or are no longer one.

use serde_json::{json, Value};

use super::codes::CARER_STATUS_CODES;
use super::json::{first_code, invalid, meta, reference, reference_of, require};
use super::{Identification, CANONICAL};
use crate::error::Result;

/// SNOMED CT "Is no longer a carer".
const NO_LONGER_A_CARER: &str = "199361000000101";

/// The `CarerStatus` profile (Observation on the carer's own record).
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerStatus;
/// let s = CarerStatus::builder().carer("Patient/mary").snomed("224484003")
///     .effective("2025-10-03").build().unwrap();
/// assert_eq!(CarerStatus::read(&s).code(), Some("224484003"));
/// ```
pub struct CarerStatus;

impl CarerStatus {
    /// A builder. The carer, the code and the date are required.
    ///
    /// See [`CarerStatusBuilder`] for an example.
    pub fn builder() -> CarerStatusBuilder {
        CarerStatusBuilder::default()
    }

    /// Typed access to a CarerStatus.
    ///
    /// See [`CarerStatusReader`] for an example.
    pub fn read(resource: &Value) -> CarerStatusReader<'_> {
        CarerStatusReader(resource)
    }
}

/// Typed access to a `CarerStatus`; made by [`CarerStatus::read`].
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerStatus;
/// let s = CarerStatus::builder().carer("Patient/mary").relationship("RelatedPerson/r1")
///     .snomed("824401000000105").effective("2025-10-03").build().unwrap();
/// let read = CarerStatus::read(&s);
/// assert_eq!(read.code(), Some("824401000000105"));
/// assert_eq!(read.carer(), Some("Patient/mary"));
/// assert_eq!(read.relationship(), Some("RelatedPerson/r1"));
/// assert_eq!(read.effective(), Some("2025-10-03"));
/// assert!(!read.is_no_longer_a_carer());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerStatusReader<'a>(&'a Value);

impl<'a> CarerStatusReader<'a> {
    /// The SNOMED CT code (see [`CARER_STATUS_CODES`]).
    pub fn code(&self) -> Option<&'a str> {
        first_code(&self.0["code"])
    }
    /// True when the code is "Is no longer a carer" (199361000000101).
    pub fn is_no_longer_a_carer(&self) -> bool {
        self.code() == Some(NO_LONGER_A_CARER)
    }
    /// The carer whose record this is.
    pub fn carer(&self) -> Option<&'a str> {
        reference_of(&self.0["subject"])
    }
    /// The CarerRelationship the status is about.
    pub fn relationship(&self) -> Option<&'a str> {
        reference_of(&self.0["focus"][0])
    }
    /// When it was recorded as true.
    pub fn effective(&self) -> Option<&'a str> {
        self.0["effectiveDateTime"].as_str()
    }
    /// Where, when and by whom the carer was identified.
    pub fn identification(&self) -> Option<Identification> {
        Identification::read(self.0)
    }
    /// The business identifier (system `https://fhir.carer-fhir.uk/Id/carer-status`).
    pub fn identifier(&self) -> Option<&'a str> {
        self.0["identifier"]
            .as_array()?
            .iter()
            .find(|i| i["system"] == STATUS_ID_SYSTEM.as_str())?["value"]
            .as_str()
    }
}

/// The system of CarerStatus business identifiers.
static STATUS_ID_SYSTEM: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{CANONICAL}/Id/carer-status"));

/// Builds a `CarerStatus`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerStatus;
/// let s = CarerStatus::builder()
///     .carer("Patient/mary")
///     .relationship("RelatedPerson/mary-cares-for-arthur")
///     .snomed("224484003")
///     .effective("2025-10-03")
///     .build()
///     .unwrap();
/// assert_eq!(s["code"]["coding"][0]["display"], "Patient themselves providing care");
/// // When caring ends:
/// let ended = CarerStatus::builder()
///     .carer("Patient/mary").no_longer_a_carer().effective("2026-10-27").build().unwrap();
/// assert!(CarerStatus::read(&ended).is_no_longer_a_carer());
/// // Codes outside the carer-status value set are refused:
/// assert!(CarerStatus::builder().carer("Patient/mary").snomed("22298006")
///     .effective("2025-10-03").build().is_err());
/// ```
#[derive(Debug, Default, Clone)]
pub struct CarerStatusBuilder {
    carer: Option<String>,
    relationship: Option<String>,
    code: Option<String>,
    effective: Option<String>,
    identification: Option<Identification>,
    identifier: Option<String>,
}

impl CarerStatusBuilder {
    /// The carer (required).
    pub fn carer(mut self, patient: &str) -> Self {
        self.carer = Some(patient.into());
        self
    }
    /// The CarerRelationship this status is about.
    pub fn relationship(mut self, r: &str) -> Self {
        self.relationship = Some(r.into());
        self
    }
    /// The status, a SNOMED CT code of the carer-status value set (required).
    pub fn snomed(mut self, code: &str) -> Self {
        self.code = Some(code.into());
        self
    }
    /// Shorthand for "Is no longer a carer" (199361000000101).
    pub fn no_longer_a_carer(self) -> Self {
        self.snomed(NO_LONGER_A_CARER)
    }
    /// When (required), a FHIR dateTime.
    pub fn effective(mut self, when: &str) -> Self {
        self.effective = Some(when.into());
        self
    }
    /// Where, when and by whom the carer was identified.
    pub fn identified(mut self, how: Identification) -> Self {
        self.identification = Some(how);
        self
    }
    /// A business identifier, so that recording the status again (a
    /// conditional create on it) finds the first.
    pub fn identifier(mut self, id: &str) -> Self {
        self.identifier = Some(id.into());
        self
    }

    /// The resource.
    ///
    /// # Errors
    /// When the carer, code or date is missing, the code is not a carer
    /// status, or the identification names a setting's organisation wrongly.
    pub fn build(self) -> Result<Value> {
        let carer = require(self.carer, "Observation.subject", "the carer")?;
        let code = require(self.code, "Observation.code", "the carer status code")?;
        let effective = require(self.effective, "Observation.effective", "when")?;
        let display = CARER_STATUS_CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, d)| *d)
            .ok_or_else(|| {
                invalid(
                    "Observation.code",
                    format!("SNOMED CT {code} is not in the carer-status value set"),
                )
            })?;
        let mut r = json!({
            "resourceType": "Observation",
            "meta": meta("CarerStatus", "Observation"),
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "social-history"}]}],
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]},
            "subject": reference(&carer),
            "effectiveDateTime": effective,
        });
        if let Some(rel) = &self.relationship {
            r["focus"] = json!([reference(rel)]);
        }
        if let Some(how) = &self.identification {
            r["extension"] =
                json!([how.to_extension("Observation.extension('carer-identification')")?]);
        }
        if let Some(id) = &self.identifier {
            r["identifier"] = json!([{"system": STATUS_ID_SYSTEM.as_str(), "value": id}]);
        }
        Ok(r)
    }
}
