//! `CafConsent` (Consent on UKCore-Consent): the person's consent (or
//! refusal) to share their CAF data with the organisations named, for the
//! purposes named, over a period; revoked by making it inactive.

use serde_json::{json, Value};

use super::codes::{CAF_PURPOSES, REPRESENTATIVE_AUTHORITIES};
use super::json::{
    check_code, coding, extension_value, first_code, meta, missing, period_of, reference,
    reference_of, require,
};
use super::{code_system, OdsCode, ODS_SYSTEM};
use crate::error::Result;

/// The `CafConsent` profile (Consent to share CAF data).
///
/// # Examples
/// ```
/// use fhir_core::caf::CafConsent;
/// let c = CafConsent::builder().patient("Patient/mary").date_time("2025-10-03")
///     .organisation("616".parse().unwrap()).purpose("COC").unwrap().build().unwrap();
/// assert!(CafConsent::read(&c).permits(&"616".parse().unwrap(), "2025-12-01"));
/// ```
pub struct CafConsent;

impl CafConsent {
    /// A builder. The person, the date, an organisation and a purpose are
    /// required; consent is a permit unless [`CafConsentBuilder::deny`] is
    /// called.
    ///
    /// See [`CafConsentBuilder`] for an example.
    pub fn builder() -> CafConsentBuilder {
        CafConsentBuilder {
            permit: true,
            ..Default::default()
        }
    }

    /// Typed access to a CafConsent, and whether it lets an organisation
    /// have the data.
    ///
    /// See [`CafConsentReader`] for an example.
    pub fn read(resource: &Value) -> CafConsentReader<'_> {
        CafConsentReader(resource)
    }
}

/// Typed access to a `CafConsent`; made by [`CafConsent::read`].
///
/// # Examples
/// ```
/// use fhir_core::caf::CafConsent;
/// let c = CafConsent::builder().patient("Patient/mary").date_time("2025-10-03T09:00:00Z")
///     .period("2025-10-03", Some("2027-10-03"))
///     .organisation("A81001".parse().unwrap()).purpose("CAREMGT").unwrap().build().unwrap();
/// let read = CafConsent::read(&c);
/// assert!(read.permits(&"A81001".parse().unwrap(), "2026-01-01"));
/// assert!(!read.permits(&"RX1".parse().unwrap(), "2026-01-01")); // not named
/// assert!(!read.permits(&"A81001".parse().unwrap(), "2028-01-01")); // expired
/// assert_eq!(read.patient(), Some("Patient/mary"));
/// assert_eq!(read.organisations(), ["A81001".parse().unwrap()]);
/// assert_eq!(read.purposes(), ["CAREMGT"]);
/// assert!(read.is_permit() && read.is_active());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CafConsentReader<'a>(&'a Value);

impl<'a> CafConsentReader<'a> {
    /// Whose data.
    pub fn patient(&self) -> Option<&'a str> {
        reference_of(&self.0["patient"])
    }
    /// Who consented (the person or a legitimate representative).
    pub fn performer(&self) -> Option<&'a str> {
        reference_of(&self.0["performer"][0])
    }
    /// The authority a representative consented under (see
    /// [`REPRESENTATIVE_AUTHORITIES`]); `None` when the person consented.
    pub fn representative_authority(&self) -> Option<&'a str> {
        extension_value(self.0, "representative-authority", "valueCodeableConcept")
            .and_then(first_code)
    }
    /// The people who may be told (the carer, by their RelatedPerson
    /// record), by reference.
    pub fn people(&self) -> Vec<&'a str> {
        self.0["provision"]["actor"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| reference_of(&a["reference"]))
            .collect()
    }
    /// Whether this consent lets the person `reference` (a RelatedPerson,
    /// as [`CafConsentReader::people`] lists them) be told on `date`.
    pub fn permits_person(&self, reference: &str, date: &str) -> bool {
        let (start, end) = self.period();
        self.is_active()
            && self.is_permit()
            && self.people().contains(&reference)
            && start.is_none_or(|s| s <= date)
            && end.is_none_or(|e| date <= e)
    }
    /// True while the consent stands (status `active`; revoked is `inactive`).
    pub fn is_active(&self) -> bool {
        self.0["status"] == "active"
    }
    /// True for a permission, false for a refusal.
    pub fn is_permit(&self) -> bool {
        self.0["provision"]["type"] == "permit"
    }
    /// The organisations named, by ODS code.
    pub fn organisations(&self) -> Vec<OdsCode> {
        self.0["provision"]["actor"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| &a["reference"]["identifier"])
            .filter(|id| id["system"] == ODS_SYSTEM)
            .filter_map(|id| id["value"].as_str()?.parse().ok())
            .collect()
    }
    /// The purposes (HL7 v3 ActReason codes).
    pub fn purposes(&self) -> Vec<&'a str> {
        self.0["provision"]["purpose"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["code"].as_str())
            .collect()
    }
    /// The resource types covered; empty means every CAF resource.
    pub fn classes(&self) -> Vec<&'a str> {
        self.0["provision"]["class"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["code"].as_str())
            .collect()
    }
    /// The period covered, start and end.
    pub fn period(&self) -> (Option<&'a str>, Option<&'a str>) {
        period_of(&self.0["provision"]["period"])
    }
    /// Whether this consent lets organisation `ods` have the data on
    /// `date` (a FHIR date): active, a permit, naming the organisation, and
    /// `date` within the provision's period.
    pub fn permits(&self, ods: &OdsCode, date: &str) -> bool {
        let (start, end) = self.period();
        self.is_active()
            && self.is_permit()
            && self.organisations().contains(ods)
            && start.is_none_or(|s| s <= date)
            && end.is_none_or(|e| date <= e)
    }
}

/// Builds a `CafConsent`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CafConsent;
/// let c = CafConsent::builder()
///     .patient("Patient/mary")
///     .performer("Patient/mary")
///     .date_time("2025-10-03T09:00:00Z")
///     .period("2025-10-03", Some("2027-10-03"))
///     .organisation("A81001".parse().unwrap())
///     .organisation("616".parse().unwrap())
///     .purpose("CAREMGT").unwrap()
///     .class("CarePlan")
///     .build()
///     .unwrap();
/// assert_eq!(c["provision"]["type"], "permit");
/// // A refusal is recorded the same way:
/// let no = CafConsent::builder().patient("Patient/mary").date_time("2025-10-03")
///     .organisation("RX1".parse().unwrap()).purpose("CAREMGT").unwrap().deny().build().unwrap();
/// assert_eq!(no["provision"]["type"], "deny");
/// // Arthur's attorney consents that Mary, his carer, may be told:
/// let tell_mary = CafConsent::builder().patient("Patient/arthur")
///     .representative("RelatedPerson/sam", "lpa-health-welfare")
///     .date_time("2025-10-10").person("RelatedPerson/mary-cares-for-arthur")
///     .purpose("CAREMGT").unwrap().build().unwrap();
/// let read = CafConsent::read(&tell_mary);
/// assert!(read.permits_person("RelatedPerson/mary-cares-for-arthur", "2026-01-01"));
/// assert_eq!(read.representative_authority(), Some("lpa-health-welfare"));
/// // A representative must say under what authority:
/// assert!(CafConsent::builder().patient("Patient/arthur").performer("RelatedPerson/sam")
///     .date_time("2025-10-10").person("RelatedPerson/r1").purpose("CAREMGT").unwrap()
///     .build().is_err());
/// // Purposes outside caf-purpose (marketing, say) are refused:
/// assert!(CafConsent::builder().purpose("HMARKT").is_err());
/// ```
#[derive(Debug, Default, Clone)]
pub struct CafConsentBuilder {
    patient: Option<String>,
    performer: Option<String>,
    date_time: Option<String>,
    permit: bool,
    start: Option<String>,
    end: Option<String>,
    organisations: Vec<OdsCode>,
    people: Vec<String>,
    authority: Option<String>,
    identifier: Option<String>,
    purposes: Vec<String>,
    classes: Vec<String>,
}

impl CafConsentBuilder {
    /// Whose data (required).
    pub fn patient(mut self, patient: &str) -> Self {
        self.patient = Some(patient.into());
        self
    }
    /// Who consented, when not the person; a representative also needs the
    /// authority they act under ([`CafConsentBuilder::representative`]).
    pub fn performer(mut self, who: &str) -> Self {
        self.performer = Some(who.into());
        self
    }
    /// When consent was given (required).
    pub fn date_time(mut self, when: &str) -> Self {
        self.date_time = Some(when.into());
        self
    }
    /// Record a refusal instead of a permission.
    pub fn deny(mut self) -> Self {
        self.permit = false;
        self
    }
    /// The period the consent covers.
    pub fn period(mut self, start: &str, end: Option<&str>) -> Self {
        self.start = Some(start.into());
        self.end = end.map(str::to_string);
        self
    }
    /// An organisation the data may go to (at least one organisation or
    /// person).
    pub fn organisation(mut self, ods: OdsCode) -> Self {
        self.organisations.push(ods);
        self
    }
    /// A person who may be told: the carer, by a reference to their
    /// RelatedPerson record on the person's.
    pub fn person(mut self, related_person: &str) -> Self {
        self.people.push(related_person.into());
        self
    }
    /// Consent given by a legitimate representative (`who`, a RelatedPerson)
    /// under `authority` (see [`REPRESENTATIVE_AUTHORITIES`]: a lasting
    /// power of attorney, a deputyship).
    pub fn representative(mut self, who: &str, authority: &str) -> Self {
        self.performer = Some(who.into());
        self.authority = Some(authority.into());
        self
    }
    /// A business identifier, so that recording the consent again (a
    /// conditional create on it) finds the first.
    pub fn identifier(mut self, id: &str) -> Self {
        self.identifier = Some(id.into());
        self
    }
    /// A purpose, an HL7 v3 ActReason code of the caf-purpose value set (at least one).
    ///
    /// # Errors
    /// When the purpose is not one the guide allows.
    pub fn purpose(mut self, code: &str) -> Result<Self> {
        check_code(
            "Consent.provision.purpose",
            "CAF purpose",
            code,
            CAF_PURPOSES,
        )?;
        self.purposes.push(code.into());
        Ok(self)
    }
    /// A resource type covered (`RelatedPerson`, `CarePlan`, …).
    pub fn class(mut self, resource_type: &str) -> Self {
        self.classes.push(resource_type.into());
        self
    }

    /// The resource.
    ///
    /// # Errors
    /// When an element is missing, or a representative consented without
    /// an authority (or with an unknown one).
    pub fn build(self) -> Result<Value> {
        let patient = require(self.patient, "Consent.patient", "whose data")?;
        let when = require(self.date_time, "Consent.dateTime", "when consent was given")?;
        if self.organisations.is_empty() && self.people.is_empty() {
            return Err(missing(
                "Consent.provision.actor",
                "an organisation or person to share with",
            ));
        }
        let by_other = self.performer.as_deref().is_some_and(|p| p != patient);
        if by_other && self.authority.is_none() {
            return Err(missing(
                "Consent.extension('representative-authority')",
                "the authority a representative consented under",
            ));
        }
        if let Some(a) = &self.authority {
            check_code(
                "Consent.extension('representative-authority')",
                "representative authority",
                a,
                REPRESENTATIVE_AUTHORITIES,
            )?;
        }
        let ircp = json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]});
        if self.purposes.is_empty() {
            return Err(missing("Consent.provision.purpose", "a purpose"));
        }
        let mut provision = json!({
            "type": if self.permit { "permit" } else { "deny" },
            "actor": self.organisations.iter().map(|o| json!({"role": ircp, "reference": o.reference()}))
                .chain(self.people.iter().map(|p| json!({"role": ircp, "reference": reference(p)})))
                .collect::<Vec<_>>(),
            "purpose": self.purposes.iter().map(|p| json!({"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": p})).collect::<Vec<_>>(),
        });
        if let Some(s) = &self.start {
            provision["period"] = json!({ "start": s });
            if let Some(e) = &self.end {
                provision["period"]["end"] = json!(e);
            }
        }
        if !self.classes.is_empty() {
            provision["class"] = self
                .classes
                .iter()
                .map(|c| json!({"system": "http://hl7.org/fhir/resource-types", "code": c}))
                .collect();
        }
        let mut c = json!({
            "resourceType": "Consent",
            "meta": meta("CafConsent", "Consent"),
            "status": "active",
            "scope": coding("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy"),
            "category": [{"coding": [
                {"system": code_system("caf-consent-category"), "code": "caf-sharing"},
                {"system": "http://loinc.org", "code": "59284-0"}
            ]}],
            "patient": reference(&patient),
            "dateTime": when,
            "performer": [reference(self.performer.as_deref().unwrap_or(&patient))],
            "policyRule": coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN"),
            "provision": provision,
        });
        if let Some(a) = &self.authority {
            c["extension"] = json!([super::json::ext(
                "representative-authority",
                "valueCodeableConcept",
                coding(&code_system("representative-authority"), a)
            )]);
        }
        if let Some(id) = &self.identifier {
            c["identifier"] =
                json!([{"system": format!("{}/Id/caf-consent", super::CANONICAL), "value": id}]);
        }
        Ok(c)
    }
}
