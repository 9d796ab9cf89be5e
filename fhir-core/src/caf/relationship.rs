//! `CarerRelationship` (RelatedPerson on UKCore-RelatedPerson): a carer and
//! the person they care for, recorded on the cared-for person's record.

use serde_json::{json, Value};

use super::codes::{CARER_TYPES, CARE_ACTIVITIES, FAMILY_ROLES, HOURS_CARING_BANDS};
use super::json::{
    check_code, coding, ext, extension_value, extensions, first_code, invalid, meta, period_of,
    reference, reference_of, require,
};
use super::rules::hours_band;
use super::{code_system, Identification, NhsNumber, CANONICAL, NHS_NUMBER_SYSTEM};
use crate::error::Result;

/// The `CarerRelationship` profile (RelatedPerson): a carer and the person
/// they care for.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerRelationship;
/// let rel = CarerRelationship::builder()
///     .cared_for("Patient/arthur").started("2022-09-01").hours_per_week(35.0)
///     .build().unwrap();
/// assert_eq!(CarerRelationship::read(&rel).hours_per_week(), Some(35.0));
/// ```
pub struct CarerRelationship;

impl CarerRelationship {
    /// A builder. `cared_for` and `started` are required; the rest is
    /// optional.
    ///
    /// See [`CarerRelationshipBuilder`] for an example.
    pub fn builder() -> CarerRelationshipBuilder {
        CarerRelationshipBuilder::default()
    }

    /// Typed access to a CarerRelationship's elements and extensions.
    ///
    /// See [`CarerRelationshipReader`] for an example.
    pub fn read(resource: &Value) -> CarerRelationshipReader<'_> {
        CarerRelationshipReader(resource)
    }
}

/// Builds a `CarerRelationship`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerRelationship;
/// let rel = CarerRelationship::builder()
///     .cared_for("Patient/arthur-jones")
///     .carer_patient("Patient/mary-jones")
///     .carer_nhs_number("9991234004".parse().unwrap())
///     .relationship_id("LA616-R1")
///     .family_role("SPS")
///     .started("2022-09-01")
///     .hours_per_week(50.0)
///     .main_carer(true)
///     .lives_with(true)
///     .care_activity("personal-care")
///     .carer_type("older-carer")
///     .name("Jones", "Mary")
///     .identified(fhir_core::caf::Identification::new("gp-practice")
///         .on("2025-10-03").by(fhir_core::caf::OrganisationId::Ods("A81001".parse().unwrap())))
///     .build()
///     .unwrap();
/// assert_eq!(rel["patient"]["reference"], "Patient/arthur-jones");
/// assert_eq!(rel["active"], true);
/// // The Census band is derived from the hours, so carers can be counted by it:
/// assert_eq!(CarerRelationship::read(&rel).hours_band(), Some("50-plus"));
/// // When only the band is known:
/// let banded = CarerRelationship::builder().cared_for("Patient/jean").started("2024-03-01")
///     .hours_band("9-or-less").build().unwrap();
/// assert_eq!(CarerRelationship::read(&banded).hours_band(), Some("9-or-less"));
/// // Hours and band must agree:
/// assert!(CarerRelationship::builder().cared_for("Patient/jean").started("2024-03-01")
///     .hours_per_week(6.0).hours_band("10-19").build().is_err());
/// // Each requirement is checked, and the error says where:
/// let err = CarerRelationship::builder().started("2022-09-01").build().unwrap_err();
/// assert_eq!(err.location.path.as_deref(), Some("RelatedPerson.patient"));
/// ```
#[derive(Debug, Default, Clone)]
pub struct CarerRelationshipBuilder {
    cared_for: Option<String>,
    carer_patient: Option<String>,
    nhs_number: Option<NhsNumber>,
    relationship_id: Option<String>,
    family_role: Option<String>,
    started: Option<String>,
    ended: Option<String>,
    hours: Option<f64>,
    band: Option<String>,
    identification: Option<Identification>,
    main_carer: Option<bool>,
    lives_with: Option<bool>,
    activities: Vec<String>,
    carer_types: Vec<String>,
    name: Option<(String, String)>,
}

impl CarerRelationshipBuilder {
    /// The person cared for (required): a reference such as `Patient/x`.
    pub fn cared_for(mut self, patient: &str) -> Self {
        self.cared_for = Some(patient.into());
        self
    }
    /// The carer's own Patient record.
    pub fn carer_patient(mut self, patient: &str) -> Self {
        self.carer_patient = Some(patient.into());
        self
    }
    /// The carer's NHS number.
    pub fn carer_nhs_number(mut self, n: NhsNumber) -> Self {
        self.nhs_number = Some(n);
        self
    }
    /// A business identifier of the relationship (for conditional updates).
    pub fn relationship_id(mut self, id: &str) -> Self {
        self.relationship_id = Some(id.into());
        self
    }
    /// The carer's family role, an HL7 v3 RoleCode (`SPS`, `CHILD`, …).
    pub fn family_role(mut self, code: &str) -> Self {
        self.family_role = Some(code.into());
        self
    }
    /// When caring started (required), a FHIR date.
    pub fn started(mut self, date: &str) -> Self {
        self.started = Some(date.into());
        self
    }
    /// When caring ended: the relationship becomes inactive.
    pub fn ended(mut self, date: &str) -> Self {
        self.ended = Some(date.into());
        self
    }
    /// Hours caring per week (0 to 168).
    pub fn hours_per_week(mut self, hours: f64) -> Self {
        self.hours = Some(hours);
        self
    }
    /// The Census 2021 band of the hours caring (see [`HOURS_CARING_BANDS`]),
    /// when the hours themselves are not known; with the hours, it is
    /// derived from them and must agree.
    pub fn hours_band(mut self, code: &str) -> Self {
        self.band = Some(code.into());
        self
    }
    /// Where, when and by whom the carer was identified.
    pub fn identified(mut self, how: Identification) -> Self {
        self.identification = Some(how);
        self
    }
    /// Whether this is the main carer.
    pub fn main_carer(mut self, yes: bool) -> Self {
        self.main_carer = Some(yes);
        self
    }
    /// Whether the carer lives with the person cared for.
    pub fn lives_with(mut self, yes: bool) -> Self {
        self.lives_with = Some(yes);
        self
    }
    /// A care activity (`personal-care`, `supervision`, …); repeatable.
    pub fn care_activity(mut self, code: &str) -> Self {
        self.activities.push(code.into());
        self
    }
    /// A carer type (`young-carer`, `parent-carer`, …); repeatable.
    pub fn carer_type(mut self, code: &str) -> Self {
        self.carer_types.push(code.into());
        self
    }
    /// The carer's name.
    pub fn name(mut self, family: &str, given: &str) -> Self {
        self.name = Some((family.into(), given.into()));
        self
    }

    /// The resource.
    ///
    /// # Errors
    /// When the person cared for or the start is missing, the end precedes
    /// the start, the hours are outside 0–168 or disagree with the band, a
    /// code is unknown, or the identification names a setting's
    /// organisation wrongly.
    pub fn build(self) -> Result<Value> {
        let cared_for = require(
            self.cared_for,
            "RelatedPerson.patient",
            "the person cared for",
        )?;
        let started = require(
            self.started,
            "RelatedPerson.period.start",
            "when caring started",
        )?;
        let mut extension = Vec::new();
        if let Some(p) = &self.carer_patient {
            extension.push(ext("carer-patient", "valueReference", reference(p)));
        }
        if let Some(h) = self.hours {
            if !(0.0..=168.0).contains(&h) {
                return Err(invalid(
                    "RelatedPerson.extension('hours-caring-per-week')",
                    format!("{h} hours a week is not between 0 and 168"),
                ));
            }
            extension.push(ext(
                "hours-caring-per-week",
                "valueQuantity",
                json!({"value": h, "unit": "hours per week", "system": "http://unitsofmeasure.org", "code": "h/wk"}),
            ));
        }
        let band = match (self.hours, self.band.as_deref()) {
            (Some(h), Some(b)) if hours_band(h) != b => {
                return Err(invalid(
                    "RelatedPerson.extension('hours-caring-band')",
                    format!("{h} hours a week is in the {} band, not {b}", hours_band(h)),
                ))
            }
            (Some(h), _) => Some(hours_band(h)),
            (None, Some(b)) => {
                check_code(
                    "RelatedPerson.extension('hours-caring-band')",
                    "hours caring band",
                    b,
                    HOURS_CARING_BANDS,
                )?;
                Some(b)
            }
            (None, None) => None,
        };
        if let Some(b) = band {
            extension.push(ext(
                "hours-caring-band",
                "valueCodeableConcept",
                coding(&code_system("hours-caring-band"), b),
            ));
        }
        if let Some(how) = &self.identification {
            extension.push(how.to_extension("RelatedPerson.extension('carer-identification')")?);
        }
        if let Some(b) = self.main_carer {
            extension.push(ext("main-carer", "valueBoolean", json!(b)));
        }
        if let Some(b) = self.lives_with {
            extension.push(ext("lives-with-cared-for", "valueBoolean", json!(b)));
        }
        for a in &self.activities {
            check_code(
                "RelatedPerson.extension('care-activity')",
                "care activity",
                a,
                CARE_ACTIVITIES,
            )?;
            extension.push(ext(
                "care-activity",
                "valueCodeableConcept",
                coding(&code_system("care-activity"), a),
            ));
        }
        for t in &self.carer_types {
            check_code(
                "RelatedPerson.extension('carer-type')",
                "carer type",
                t,
                CARER_TYPES,
            )?;
            extension.push(ext(
                "carer-type",
                "valueCodeableConcept",
                coding(&code_system("carer-type"), t),
            ));
        }
        let mut relationship = vec![json!({"coding": [{
            "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdditionalPersonRelationshipRole",
            "code": "Carer", "display": "Carer of patient"}]})];
        if let Some(role) = &self.family_role {
            check_code(
                "RelatedPerson.relationship",
                "family role",
                role,
                FAMILY_ROLES,
            )?;
            relationship.push(coding(
                "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                role,
            ));
        }
        let mut identifier = Vec::new();
        if let Some(n) = &self.nhs_number {
            identifier.push(n.identifier());
        }
        if let Some(id) = &self.relationship_id {
            identifier
                .push(json!({"system": format!("{CANONICAL}/Id/carer-relationship"), "value": id}));
        }
        let mut period = json!({ "start": started });
        if let Some(end) = &self.ended {
            if end.as_str() < started.as_str() {
                return Err(invalid(
                    "RelatedPerson.period",
                    format!("caring cannot end ({end}) before it started ({started})"),
                ));
            }
            period["end"] = json!(end);
        }
        let mut r = json!({
            "resourceType": "RelatedPerson",
            "meta": meta("CarerRelationship", "RelatedPerson"),
            "active": self.ended.is_none(),
            "patient": reference(&cared_for),
            "relationship": relationship,
            "period": period,
        });
        if !extension.is_empty() {
            r["extension"] = Value::Array(extension);
        }
        if !identifier.is_empty() {
            r["identifier"] = Value::Array(identifier);
        }
        if let Some((family, given)) = self.name {
            r["name"] = json!([{ "family": family, "given": [given] }]);
        }
        Ok(r)
    }
}

/// Typed access to a `CarerRelationship`; made by [`CarerRelationship::read`].
/// Absent or malformed elements read as
/// `None` (or empty).
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerRelationship;
/// let rel = serde_json::json!({"resourceType": "RelatedPerson",
///     "patient": {"reference": "Patient/arthur"},
///     "extension": [{"url": "https://fhir.carer-fhir.uk/StructureDefinition/main-carer",
///                    "valueBoolean": true}],
///     "period": {"start": "2022-09-01", "end": "2026-10-20"}});
/// let read = CarerRelationship::read(&rel);
/// assert_eq!(read.cared_for(), Some("Patient/arthur"));
/// assert_eq!(read.main_carer(), Some(true));
/// assert_eq!(read.period(), (Some("2022-09-01"), Some("2026-10-20")));
/// assert!(!read.is_current());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerRelationshipReader<'a>(&'a Value);

impl<'a> CarerRelationshipReader<'a> {
    /// The person cared for.
    pub fn cared_for(&self) -> Option<&'a str> {
        reference_of(&self.0["patient"])
    }
    /// The carer's own Patient record.
    pub fn carer_patient(&self) -> Option<&'a str> {
        extension_value(self.0, "carer-patient", "valueReference")?["reference"].as_str()
    }
    /// The carer's NHS number, when recorded and valid.
    pub fn carer_nhs_number(&self) -> Option<NhsNumber> {
        self.0["identifier"]
            .as_array()?
            .iter()
            .find(|i| i["system"] == NHS_NUMBER_SYSTEM)
            .and_then(|i| i["value"].as_str()?.parse().ok())
    }
    /// Hours caring per week.
    pub fn hours_per_week(&self) -> Option<f64> {
        extension_value(self.0, "hours-caring-per-week", "valueQuantity")?["value"].as_f64()
    }
    /// The Census 2021 band of the hours caring: the recorded band, or the
    /// band of the recorded hours.
    pub fn hours_band(&self) -> Option<&'a str> {
        extension_value(self.0, "hours-caring-band", "valueCodeableConcept")
            .and_then(first_code)
            .or_else(|| self.hours_per_week().map(hours_band))
    }
    /// Where, when and by whom the carer was identified.
    pub fn identification(&self) -> Option<Identification> {
        Identification::read(self.0)
    }
    /// The carer's family role (an HL7 v3 RoleCode such as `DAUINLAW`).
    pub fn family_role(&self) -> Option<&'a str> {
        self.0["relationship"]
            .as_array()?
            .iter()
            .flat_map(|r| r["coding"].as_array().into_iter().flatten())
            .find(|c| c["system"] == "http://terminology.hl7.org/CodeSystem/v3-RoleCode")?["code"]
            .as_str()
    }
    /// Whether this is the main carer.
    pub fn main_carer(&self) -> Option<bool> {
        extension_value(self.0, "main-carer", "valueBoolean")?.as_bool()
    }
    /// Whether the carer lives with the person cared for.
    pub fn lives_with(&self) -> Option<bool> {
        extension_value(self.0, "lives-with-cared-for", "valueBoolean")?.as_bool()
    }
    /// The care activities' codes.
    pub fn care_activities(&self) -> Vec<&'a str> {
        extensions(self.0, "care-activity")
            .filter_map(|e| first_code(&e["valueCodeableConcept"]))
            .collect()
    }
    /// The carer types' codes.
    pub fn carer_types(&self) -> Vec<&'a str> {
        extensions(self.0, "carer-type")
            .filter_map(|e| first_code(&e["valueCodeableConcept"]))
            .collect()
    }
    /// When caring started and ended.
    pub fn period(&self) -> (Option<&'a str>, Option<&'a str>) {
        period_of(&self.0["period"])
    }
    /// True while caring goes on: active and no end date.
    pub fn is_current(&self) -> bool {
        self.0["active"].as_bool() != Some(false) && self.0["period"]["end"].is_null()
    }
}
