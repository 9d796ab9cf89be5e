//! Where and by whom a carer was identified (the `carer-identification`
//! extension of CarerRelationship and CarerStatus): the setting, when, and
//! which organisation.

use serde_json::{json, Value};

use super::codes::IDENTIFICATION_SOURCES;
use super::json::{check_code, coding, ext, extensions, first_code, invalid};
use super::{code_system, OrganisationId};
use crate::error::Result;

/// Where a carer was identified, when, and by which organisation.
///
/// NHS settings (a GP practice, a hospital) are named by ODS code, schools
/// and colleges by DfE URN or ODS code (the profile's `carer-idsrc-1`);
/// other settings by any identifier.
///
/// # Examples
/// ```
/// use fhir_core::caf::{CarerStatus, Identification, OrganisationId};
/// let at_discharge = Identification::new("hospital-discharge")
///     .on("2026-02-10")
///     .by(OrganisationId::Ods("RX1".parse().unwrap()));
/// let s = CarerStatus::builder().carer("Patient/ngozi").snomed("302767002")
///     .effective("2026-02-10").identified(at_discharge.clone()).build().unwrap();
/// assert_eq!(CarerStatus::read(&s).identification(), Some(at_discharge));
/// // A hospital is named by its ODS code, not by a school's URN:
/// let wrong = Identification::new("hospital")
///     .by(OrganisationId::School("123456".parse().unwrap()));
/// assert!(CarerStatus::builder().carer("Patient/ngozi").snomed("302767002")
///     .effective("2026-02-10").identified(wrong).build().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identification {
    /// The setting, a code of [`IDENTIFICATION_SOURCES`] (`gp-practice`,
    /// `hospital-discharge`, `school-college`, …).
    pub source: String,
    /// When, a FHIR dateTime.
    pub date: Option<String>,
    /// Which organisation.
    pub organisation: Option<OrganisationId>,
}

impl Identification {
    /// Identified in the setting `source` (see [`IDENTIFICATION_SOURCES`]).
    pub fn new(source: &str) -> Self {
        Identification {
            source: source.to_string(),
            date: None,
            organisation: None,
        }
    }

    /// When (a FHIR dateTime).
    pub fn on(mut self, date: &str) -> Self {
        self.date = Some(date.to_string());
        self
    }

    /// By which organisation.
    pub fn by(mut self, organisation: impl Into<OrganisationId>) -> Self {
        self.organisation = Some(organisation.into());
        self
    }

    /// The extension, checked as the profile checks it; `at` locates errors.
    pub(super) fn to_extension(&self, at: &str) -> Result<Value> {
        check_code(
            at,
            "identification source",
            &self.source,
            IDENTIFICATION_SOURCES,
        )?;
        if let Some(org) = &self.organisation {
            let nhs = matches!(
                self.source.as_str(),
                "gp-practice" | "hospital-admission" | "hospital-discharge" | "hospital"
            );
            let ok = match (&self.source[..], org) {
                (_, OrganisationId::Ods(_)) => true,
                ("school-college", OrganisationId::School(_)) => true,
                _ => !nhs && self.source != "school-college",
            };
            if !ok {
                return Err(invalid(
                    at,
                    format!(
                        "a {} is named by its ODS code{}, not by {}",
                        self.source,
                        if self.source == "school-college" {
                            " or DfE URN"
                        } else {
                            ""
                        },
                        org.system()
                    ),
                ));
            }
        }
        let mut parts = vec![json!({
            "url": "source",
            "valueCodeableConcept": coding(&code_system("identification-source"), &self.source)
        })];
        if let Some(d) = &self.date {
            parts.push(json!({"url": "date", "valueDateTime": d}));
        }
        if let Some(org) = &self.organisation {
            parts.push(json!({"url": "organization", "valueReference": org.reference()}));
        }
        Ok(ext(
            "carer-identification",
            "extension",
            Value::Array(parts),
        ))
    }

    /// The identification a resource records, when it has a setting.
    pub(super) fn read(resource: &Value) -> Option<Identification> {
        let e = extensions(resource, "carer-identification").next()?;
        let part = |name: &str| {
            e["extension"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|x| x["url"] == name)
        };
        Some(Identification {
            source: first_code(&part("source")?["valueCodeableConcept"])?.to_string(),
            date: part("date").and_then(|d| d["valueDateTime"].as_str().map(str::to_string)),
            organisation: part("organization")
                .and_then(|o| OrganisationId::from_reference(&o["valueReference"])),
        })
    }
}
