//! Builders and readers for the carer guide's profiles.
//!
//! A builder collects what its profile needs, checks it in `build()`, and
//! returns the resource as FHIR JSON claiming both our profile and its UK
//! Core parent. Codes are the guide's codes (see `profiles/README.md`); an
//! unknown code is an [`ErrorKind::Invalid`] error located at its element.

use serde_json::{json, Map, Value};

use super::identifiers::{missing, NhsNumber, OdsCode};
use super::rules::{self, Determination};
use super::{code_system, structure_definition, CANONICAL};
use crate::error::{Error, ErrorKind, Location, Result};

const UKCORE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-";

fn meta(profile: &str, ukcore: &str) -> Value {
    json!({"profile": [structure_definition(profile), format!("{UKCORE}{ukcore}")]})
}

fn reference(r: &str) -> Value {
    json!({ "reference": r })
}

fn coding(system: &str, code: &str) -> Value {
    json!({"coding": [{"system": system, "code": code}]})
}

fn ext(id: &str, key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert("url".into(), json!(structure_definition(id)));
    m.insert(key.into(), value);
    Value::Object(m)
}

fn invalid(path: &str, message: String) -> Error {
    Error {
        location: Location::at_path(path),
        ..Error::new(ErrorKind::Invalid, message)
    }
}

/// Checks `code` is one of `allowed` (the codes of `what`).
fn check_code(path: &str, what: &str, code: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&code) {
        Ok(())
    } else {
        Err(invalid(
            path,
            format!(
                "{code:?} is not a {what} code (one of: {})",
                allowed.join(", ")
            ),
        ))
    }
}

fn require<T>(value: Option<T>, path: &str, what: &str) -> Result<T> {
    value.ok_or_else(|| missing(path, what))
}

/// The extensions with this guide extension id.
fn extensions<'a>(resource: &'a Value, id: &str) -> impl Iterator<Item = &'a Value> {
    let url = structure_definition(id);
    resource["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |e| e["url"].as_str() == Some(url.as_str()))
}

fn first_code(cc: &Value) -> Option<&str> {
    cc["coding"][0]["code"].as_str()
}

/// The codes of the guide's `care-activity` code system.
pub const CARE_ACTIVITIES: &[&str] = &[
    "personal-care",
    "physical-help",
    "practical-help",
    "medication",
    "emotional-support",
    "supervision",
    "finances",
    "transport",
    "communication",
];
/// The codes of the guide's `carer-type` code system.
pub const CARER_TYPES: &[&str] = &[
    "young-carer",
    "young-adult-carer",
    "adult-carer",
    "parent-carer",
    "older-carer",
    "working-carer",
    "sibling-carer",
];
/// The HL7 v3 RoleCode codes of the guide's `family-role` value set.
pub const FAMILY_ROLES: &[&str] = &[
    "SPS",
    "DOMPART",
    "PRN",
    "CHILD",
    "SIB",
    "GRPRN",
    "GRNDCHILD",
    "EXT",
    "FRND",
    "NBOR",
];
/// The codes of the guide's `support-type` code system.
pub const SUPPORT_TYPES: &[&str] = &[
    "break",
    "sitting-service",
    "information-advice",
    "emotional-support",
    "training",
    "equipment",
    "health-check",
    "bereavement-support",
    "emergency-respite",
];
/// The codes of the guide's `delivery-mechanism` code system.
pub const DELIVERY_MECHANISMS: &[&str] = &[
    "direct-payment",
    "part-direct-payment",
    "managed-personal-budget",
    "commissioned-support",
    "information-advice",
];
/// The codes of the guide's `contingency-trigger` code system.
pub const CONTINGENCY_TRIGGERS: &[&str] = &[
    "carer-ill",
    "carer-injured",
    "carer-died",
    "carer-unreachable",
    "family-emergency",
];
/// The codes of the guide's `assessment-type` code system.
pub const ASSESSMENT_TYPES: &[&str] = &[
    "carers-assessment",
    "joint-assessment",
    "young-carers-needs-assessment",
    "parent-carers-needs-assessment",
    "transition-assessment",
];
/// The SNOMED CT codes of the guide's `carer-status` value set, with terms.
pub const CARER_STATUS_CODES: &[(&str, &str)] = &[
    ("224484003", "Patient themselves providing care"),
    ("199361000000101", "Is no longer a carer"),
    ("302767002", "Cares for a relative"),
    ("224485002", "Cares for a friend"),
    ("224486001", "Cares for a neighbour"),
    ("276047008", "Looks after elderly dependent"),
    ("824401000000105", "Carer of person with dementia"),
    (
        "248611000000108",
        "Carer of a person with a terminal illness",
    ),
    ("413760003", "Caregiver of a person with chronic disease"),
    (
        "413761004",
        "Caregiver of a person with learning disability",
    ),
    (
        "413762006",
        "Caregiver of a person with mental health problem",
    ),
    (
        "413763001",
        "Caregiver of a person with physical disability",
    ),
    ("413764007", "Caregiver of a person with sensory impairment"),
    ("413765008", "Caregiver of a person with substance misuse"),
];
/// The HL7 v3 ActReason codes of the guide's `caf-purpose` value set.
pub const CAF_PURPOSES: &[&str] = &["CAREMGT", "TREAT", "ETREAT", "COC", "PUBHLTH"];

// ---------------------------------------------------------------- relationship

/// The `CarerRelationship` profile (RelatedPerson): a carer and the person
/// they care for.
pub struct CarerRelationship;

impl CarerRelationship {
    /// A builder; see the [module example](super).
    pub fn builder() -> CarerRelationshipBuilder {
        CarerRelationshipBuilder::default()
    }

    /// Typed access to a CarerRelationship's elements and extensions.
    pub fn read(resource: &Value) -> CarerRelationshipReader<'_> {
        CarerRelationshipReader(resource)
    }
}

/// Builds a `CarerRelationship`.
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
    /// the start, the hours are outside 0–168, or a code is unknown.
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

/// Typed access to a `CarerRelationship`.
#[derive(Debug, Clone, Copy)]
pub struct CarerRelationshipReader<'a>(&'a Value);

impl<'a> CarerRelationshipReader<'a> {
    /// The person cared for.
    pub fn cared_for(&self) -> Option<&'a str> {
        self.0["patient"]["reference"].as_str()
    }
    /// The carer's own Patient record.
    pub fn carer_patient(&self) -> Option<&'a str> {
        extensions(self.0, "carer-patient").find_map(|e| e["valueReference"]["reference"].as_str())
    }
    /// The carer's NHS number, when recorded and valid.
    pub fn carer_nhs_number(&self) -> Option<NhsNumber> {
        self.0["identifier"]
            .as_array()?
            .iter()
            .find(|i| i["system"] == super::NHS_NUMBER_SYSTEM)
            .and_then(|i| i["value"].as_str()?.parse().ok())
    }
    /// Hours caring per week.
    pub fn hours_per_week(&self) -> Option<f64> {
        extensions(self.0, "hours-caring-per-week")
            .find_map(|e| e["valueQuantity"]["value"].as_f64())
    }
    /// Whether this is the main carer.
    pub fn main_carer(&self) -> Option<bool> {
        extensions(self.0, "main-carer").find_map(|e| e["valueBoolean"].as_bool())
    }
    /// Whether the carer lives with the person cared for.
    pub fn lives_with(&self) -> Option<bool> {
        extensions(self.0, "lives-with-cared-for").find_map(|e| e["valueBoolean"].as_bool())
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
        (
            self.0["period"]["start"].as_str(),
            self.0["period"]["end"].as_str(),
        )
    }
    /// True while caring goes on: active and no end date.
    pub fn is_current(&self) -> bool {
        self.0["active"].as_bool() != Some(false) && self.0["period"]["end"].is_null()
    }
}

// ---------------------------------------------------------------- status and flags

/// The `CarerStatus` profile (Observation on the carer's own record).
pub struct CarerStatus;

impl CarerStatus {
    /// A builder.
    ///
    /// # Examples
    /// ```
    /// let s = fhir_core::caf::CarerStatus::builder()
    ///     .carer("Patient/mary").snomed("224484003").effective("2025-10-03").build().unwrap();
    /// assert_eq!(s["code"]["coding"][0]["display"], "Patient themselves providing care");
    /// ```
    pub fn builder() -> CarerStatusBuilder {
        CarerStatusBuilder::default()
    }

    /// The SNOMED CT code of a CarerStatus; `199361000000101` means no
    /// longer a carer.
    pub fn code(resource: &Value) -> Option<&str> {
        first_code(&resource["code"])
    }
}

/// Builds a `CarerStatus`.
#[derive(Debug, Default, Clone)]
pub struct CarerStatusBuilder {
    carer: Option<String>,
    relationship: Option<String>,
    code: Option<String>,
    effective: Option<String>,
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
        self.snomed("199361000000101")
    }
    /// When (required), a FHIR dateTime.
    pub fn effective(mut self, when: &str) -> Self {
        self.effective = Some(when.into());
        self
    }

    /// The resource.
    ///
    /// # Errors
    /// When the carer, code or date is missing, or the code is not a carer status.
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
        Ok(r)
    }
}

/// The `CarerFlag` profile (Flag on either record).
pub struct CarerFlag;

impl CarerFlag {
    /// A builder.
    ///
    /// # Examples
    /// ```
    /// let f = fhir_core::caf::CarerFlag::builder().code("has-a-carer").subject("Patient/arthur")
    ///     .relationship("RelatedPerson/r").start("2025-10-03").build().unwrap();
    /// assert_eq!(f["status"], "active");
    /// assert_eq!(fhir_core::caf::CarerFlag::relationship(&f), Some("RelatedPerson/r"));
    /// ```
    pub fn builder() -> CarerFlagBuilder {
        CarerFlagBuilder::default()
    }

    /// The caring relationship a flag is about.
    pub fn relationship(resource: &Value) -> Option<&str> {
        extensions(resource, "carer-relationship")
            .find_map(|e| e["valueReference"]["reference"].as_str())
    }
}

/// Builds a `CarerFlag`.
#[derive(Debug, Default, Clone)]
pub struct CarerFlagBuilder {
    code: Option<String>,
    subject: Option<String>,
    relationship: Option<String>,
    start: Option<String>,
    end: Option<String>,
    identifier: Option<String>,
}

impl CarerFlagBuilder {
    /// `is-a-carer`, `has-a-carer` or `young-carer` (required).
    pub fn code(mut self, code: &str) -> Self {
        self.code = Some(code.into());
        self
    }
    /// Whose record (required).
    pub fn subject(mut self, patient: &str) -> Self {
        self.subject = Some(patient.into());
        self
    }
    /// The CarerRelationship (required).
    pub fn relationship(mut self, r: &str) -> Self {
        self.relationship = Some(r.into());
        self
    }
    /// When the flag was raised (required).
    pub fn start(mut self, date: &str) -> Self {
        self.start = Some(date.into());
        self
    }
    /// When it closed: the flag becomes inactive.
    pub fn end(mut self, date: &str) -> Self {
        self.end = Some(date.into());
        self
    }
    /// A business identifier (for conditional updates).
    pub fn identifier(mut self, id: &str) -> Self {
        self.identifier = Some(id.into());
        self
    }

    /// The resource.
    ///
    /// # Errors
    /// When an element is missing or the code is unknown.
    pub fn build(self) -> Result<Value> {
        let code = require(self.code, "Flag.code", "the flag code")?;
        check_code(
            "Flag.code",
            "carer flag",
            &code,
            &["is-a-carer", "has-a-carer", "young-carer"],
        )?;
        let subject = require(self.subject, "Flag.subject", "whose record")?;
        let rel = require(
            self.relationship,
            "Flag.extension('carer-relationship')",
            "the caring relationship",
        )?;
        let start = require(self.start, "Flag.period.start", "when the flag was raised")?;
        let mut period = json!({ "start": start });
        if let Some(end) = &self.end {
            period["end"] = json!(end);
        }
        let mut r = json!({
            "resourceType": "Flag",
            "meta": meta("CarerFlag", "Flag"),
            "extension": [ext("carer-relationship", "valueReference", reference(&rel))],
            "status": if self.end.is_some() { "inactive" } else { "active" },
            "code": coding(&code_system("flag-code"), &code),
            "subject": reference(&subject),
            "period": period,
        });
        if let Some(id) = &self.identifier {
            r["identifier"] =
                json!([{"system": format!("{CANONICAL}/Id/carer-flag"), "value": id}]);
        }
        Ok(r)
    }
}

// ---------------------------------------------------------------- assessment

/// Which carer's assessment questionnaire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionnaireVariant {
    /// Adult carers (Care Act 2014 s10), with the reg 3 section.
    Adult,
    /// Young carers (Children Act 1989 s17ZA).
    YoungCarer,
    /// Parent carers of a disabled child (Children Act 1989 s17ZD).
    ParentCarer,
}

impl QuestionnaireVariant {
    /// The questionnaire's canonical URL.
    pub fn url(self) -> String {
        format!("{CANONICAL}/Questionnaire/{}", self.id())
    }

    fn id(self) -> &'static str {
        match self {
            QuestionnaireVariant::Adult => "carer-assessment",
            QuestionnaireVariant::YoungCarer => "young-carer-assessment",
            QuestionnaireVariant::ParentCarer => "parent-carer-assessment",
        }
    }

    /// The guide's `CarerAssessmentQuestionnaire` for this variant, as
    /// published in `profiles/`.
    ///
    /// # Examples
    /// ```
    /// let q = fhir_core::caf::QuestionnaireVariant::Adult.questionnaire();
    /// assert_eq!(q["resourceType"], "Questionnaire");
    /// ```
    pub fn questionnaire(self) -> Value {
        let text = match self {
            QuestionnaireVariant::Adult => include_str!("../../../profiles/fsh-generated/resources/Questionnaire-carer-assessment.json"),
            QuestionnaireVariant::YoungCarer => include_str!("../../../profiles/fsh-generated/resources/Questionnaire-young-carer-assessment.json"),
            QuestionnaireVariant::ParentCarer => include_str!("../../../profiles/fsh-generated/resources/Questionnaire-parent-carer-assessment.json"),
        };
        // The guide's output is checked to parse by the tests; an empty
        // object here would mean a corrupt checkout.
        serde_json::from_str(text).unwrap_or(Value::Null)
    }
}

/// The `CarerAssessmentResponse` profile (QuestionnaireResponse).
pub struct CarerAssessmentResponse;

impl CarerAssessmentResponse {
    /// A builder that places each answer at its question's place in the
    /// questionnaire.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::{CarerAssessmentResponse, QuestionnaireVariant};
    /// let qr = CarerAssessmentResponse::builder(QuestionnaireVariant::Adult)
    ///     .carer("Patient/mary").authored("2025-11-01T10:30:00Z")
    ///     .boolean("necessary-care", true).unwrap()
    ///     .build().unwrap();
    /// assert!(CarerAssessmentResponse::is_self_assessment(&qr));
    /// assert_eq!(qr["item"][0]["linkId"], "eligibility");
    /// ```
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

    /// True when the carer answered for themselves (source is the subject).
    pub fn is_self_assessment(resource: &Value) -> bool {
        let subject = resource["subject"]["reference"].as_str();
        subject.is_some() && resource["source"]["reference"].as_str() == subject
    }

    /// The reg 3 determination from the answers ([`rules::eligibility`]).
    pub fn eligibility(resource: &Value) -> Determination {
        rules::eligibility(resource)
    }

    /// The carer quality-of-life score ([`rules::carer_qol_score`]).
    pub fn qol_score(resource: &Value) -> Option<u8> {
        rules::carer_qol_score(resource)
    }
}

/// Builds a `CarerAssessmentResponse`.
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
    items.as_array()?.iter().find_map(|i| {
        if i["linkId"].as_str() == Some(link_id) {
            i["type"].as_str()
        } else {
            question_type(&i["item"], link_id)
        }
    })
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

/// The `CarerAssessment` profile (Task): the assessment episode.
pub struct CarerAssessment;

impl CarerAssessment {
    /// A builder.
    ///
    /// # Examples
    /// ```
    /// let t = fhir_core::caf::CarerAssessment::builder()
    ///     .carer("Patient/mary").owner("616".parse().unwrap()).authored_on("2025-10-03")
    ///     .status("requested").build().unwrap();
    /// assert_eq!(t["status"], "requested");
    /// assert_eq!(fhir_core::caf::CarerAssessment::business_status(&t), Some("requested"));
    /// ```
    pub fn builder() -> CarerAssessmentBuilder {
        CarerAssessmentBuilder {
            kind: "carers-assessment".into(),
            status: "requested".into(),
            ..Default::default()
        }
    }

    /// Where the assessment stands (`offered`, `requested`, `declined`,
    /// `in-progress`, `completed`).
    pub fn business_status(resource: &Value) -> Option<&str> {
        first_code(&resource["businessStatus"])
    }
}

/// Builds a `CarerAssessment`.
#[derive(Debug, Default, Clone)]
pub struct CarerAssessmentBuilder {
    carer: Option<String>,
    relationship: Option<String>,
    kind: String,
    status: String,
    owner: Option<OdsCode>,
    authored_on: Option<String>,
    identifier: Option<String>,
    response: Option<String>,
    eligibility: Option<String>,
    support_plan: Option<String>,
}

impl CarerAssessmentBuilder {
    /// The carer assessed (required).
    pub fn carer(mut self, patient: &str) -> Self {
        self.carer = Some(patient.into());
        self
    }
    /// The CarerRelationship assessed.
    pub fn relationship(mut self, r: &str) -> Self {
        self.relationship = Some(r.into());
        self
    }
    /// The assessment type (default `carers-assessment`).
    pub fn kind(mut self, code: &str) -> Self {
        self.kind = code.into();
        self
    }
    /// `offered`, `requested` (default), `declined`, `in-progress` or `completed`.
    pub fn status(mut self, code: &str) -> Self {
        self.status = code.into();
        self
    }
    /// The local authority responsible (required).
    pub fn owner(mut self, ods: OdsCode) -> Self {
        self.owner = Some(ods);
        self
    }
    /// When requested (required).
    pub fn authored_on(mut self, when: &str) -> Self {
        self.authored_on = Some(when.into());
        self
    }
    /// The LA's reference number for the assessment.
    pub fn identifier(mut self, id: &str) -> Self {
        self.identifier = Some(id.into());
        self
    }
    /// The CarerAssessmentResponse the assessment rests on.
    pub fn response(mut self, r: &str) -> Self {
        self.response = Some(r.into());
        self
    }
    /// The CarerEligibility determination.
    pub fn eligibility(mut self, r: &str) -> Self {
        self.eligibility = Some(r.into());
        self
    }
    /// The CarerSupportPlan.
    pub fn support_plan(mut self, r: &str) -> Self {
        self.support_plan = Some(r.into());
        self
    }

    /// The resource.
    ///
    /// # Errors
    /// When an element is missing or a code is unknown.
    pub fn build(self) -> Result<Value> {
        let carer = require(self.carer, "Task.for", "the carer")?;
        let owner = require(self.owner, "Task.owner", "the local authority")?;
        let authored = require(self.authored_on, "Task.authoredOn", "when")?;
        check_code("Task.code", "assessment type", &self.kind, ASSESSMENT_TYPES)?;
        let task_status = match self.status.as_str() {
            "offered" => "draft",
            "requested" => "requested",
            "declined" => "rejected",
            "in-progress" => "in-progress",
            "completed" => "completed",
            other => return Err(invalid("Task.businessStatus", format!("{other:?} is not an assessment status (offered, requested, declined, in-progress, completed)"))),
        };
        let io = |code: &str, r: &str| json!({"type": coding(&code_system("task-io"), code), "valueReference": reference(r)});
        let mut t = json!({
            "resourceType": "Task",
            "meta": meta("CarerAssessment", "Task"),
            "status": task_status,
            "businessStatus": coding(&code_system("assessment-status"), &self.status),
            "intent": "order",
            "code": coding(&code_system("assessment-type"), &self.kind),
            "for": reference(&carer),
            "authoredOn": authored,
            "owner": owner.reference(),
        });
        if let Some(id) = &self.identifier {
            t["identifier"] =
                json!([{"system": format!("{CANONICAL}/Id/assessment"), "value": id}]);
        }
        if let Some(r) = &self.relationship {
            t["focus"] = reference(r);
        }
        if let Some(r) = &self.response {
            t["input"] = json!([io("assessment-response", r)]);
        }
        let mut output = Vec::new();
        if let Some(r) = &self.eligibility {
            output.push(io("eligibility", r));
        }
        if let Some(r) = &self.support_plan {
            output.push(io("support-plan", r));
        }
        if !output.is_empty() {
            t["output"] = Value::Array(output);
        }
        Ok(t)
    }
}

/// The `CarerEligibility` profile (Observation): built from a
/// [`Determination`] rather than by hand, so it always says what the rules
/// found.
pub struct CarerEligibility;

impl CarerEligibility {
    /// The Observation for `determination` about `carer`, derived from
    /// `response`, effective `when`.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::{rules, CarerEligibility};
    /// let qr = serde_json::json!({"resourceType": "QuestionnaireResponse", "item": [
    ///     {"linkId": "necessary-care", "answer": [{"valueBoolean": false}]}]});
    /// let obs = CarerEligibility::from_determination(&rules::eligibility(&qr), "Patient/p", "QuestionnaireResponse/q", "2025-11-01");
    /// assert_eq!(CarerEligibility::determination(&obs), Some("not-eligible"));
    /// ```
    pub fn from_determination(
        determination: &Determination,
        carer: &str,
        response: &str,
        when: &str,
    ) -> Value {
        determination.to_observation(carer, response, when)
    }

    /// The determination's code (`eligible`, `not-eligible`, `undetermined`).
    pub fn determination(resource: &Value) -> Option<&str> {
        first_code(&resource["valueCodeableConcept"])
    }

    /// The reasons given, one per note.
    pub fn reasons(resource: &Value) -> Vec<&str> {
        resource["note"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["text"].as_str())
            .collect()
    }
}

// ---------------------------------------------------------------- plans

/// The `CarerSupportPlan` profile (CarePlan for the carer).
pub struct CarerSupportPlan;

impl CarerSupportPlan {
    /// A builder.
    ///
    /// # Examples
    /// ```
    /// let p = fhir_core::caf::CarerSupportPlan::builder().carer("Patient/mary")
    ///     .activity("sitting-service", Some("direct-payment"), "Wednesdays").unwrap()
    ///     .personal_budget(1850.0).review_date("2026-11-01").build().unwrap();
    /// assert_eq!(fhir_core::caf::CarerSupportPlan::personal_budget(&p), Some(1850.0));
    /// ```
    pub fn builder() -> CarerSupportPlanBuilder {
        CarerSupportPlanBuilder::default()
    }

    /// The personal budget in pounds a year.
    pub fn personal_budget(resource: &Value) -> Option<f64> {
        extensions(resource, "personal-budget").find_map(|e| e["valueMoney"]["value"].as_f64())
    }

    /// The next review date.
    pub fn review_date(resource: &Value) -> Option<&str> {
        extensions(resource, "review-date").find_map(|e| e["valueDate"].as_str())
    }

    /// Each activity's support type and delivery mechanism codes.
    pub fn activities(resource: &Value) -> Vec<(Option<&str>, Option<&str>)> {
        resource["activity"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                let detail = &a["detail"];
                (
                    first_code(&detail["code"]),
                    extensions(detail, "delivery-mechanism")
                        .find_map(|e| first_code(&e["valueCodeableConcept"])),
                )
            })
            .collect()
    }
}

/// Builds a `CarerSupportPlan`.
#[derive(Debug, Default, Clone)]
pub struct CarerSupportPlanBuilder {
    carer: Option<String>,
    relationship: Option<String>,
    eligibility: Option<String>,
    start: Option<String>,
    review: Option<String>,
    budget: Option<f64>,
    activities: Vec<Value>,
}

impl CarerSupportPlanBuilder {
    /// The carer (required).
    pub fn carer(mut self, patient: &str) -> Self {
        self.carer = Some(patient.into());
        self
    }
    /// The CarerRelationship.
    pub fn relationship(mut self, r: &str) -> Self {
        self.relationship = Some(r.into());
        self
    }
    /// The CarerEligibility the plan meets.
    pub fn eligibility(mut self, r: &str) -> Self {
        self.eligibility = Some(r.into());
        self
    }
    /// When the plan starts.
    pub fn start(mut self, date: &str) -> Self {
        self.start = Some(date.into());
        self
    }
    /// When it is next reviewed.
    pub fn review_date(mut self, date: &str) -> Self {
        self.review = Some(date.into());
        self
    }
    /// The personal budget, pounds a year.
    pub fn personal_budget(mut self, pounds: f64) -> Self {
        self.budget = Some(pounds);
        self
    }
    /// A support activity: support type, delivery mechanism, description.
    ///
    /// # Errors
    /// When a code is unknown.
    pub fn activity(
        mut self,
        support: &str,
        delivery: Option<&str>,
        description: &str,
    ) -> Result<Self> {
        let at = format!("CarePlan.activity[{}].detail", self.activities.len());
        check_code(
            &format!("{at}.code"),
            "support type",
            support,
            SUPPORT_TYPES,
        )?;
        let mut detail = json!({"code": coding(&code_system("support-type"), support), "status": "scheduled", "description": description});
        if let Some(d) = delivery {
            check_code(
                &format!("{at}.extension('delivery-mechanism')"),
                "delivery mechanism",
                d,
                DELIVERY_MECHANISMS,
            )?;
            detail["extension"] = json!([ext(
                "delivery-mechanism",
                "valueCodeableConcept",
                coding(&code_system("delivery-mechanism"), d)
            )]);
        }
        self.activities.push(json!({ "detail": detail }));
        Ok(self)
    }

    /// The resource.
    ///
    /// # Errors
    /// When the carer is missing or the budget is negative.
    pub fn build(self) -> Result<Value> {
        let carer = require(self.carer, "CarePlan.subject", "the carer")?;
        let mut extension = Vec::new();
        if let Some(b) = self.budget {
            if b < 0.0 || !b.is_finite() {
                return Err(invalid(
                    "CarePlan.extension('personal-budget')",
                    format!("{b} is not a budget"),
                ));
            }
            extension.push(ext(
                "personal-budget",
                "valueMoney",
                json!({"value": b, "currency": "GBP"}),
            ));
        }
        if let Some(d) = &self.review {
            extension.push(ext("review-date", "valueDate", json!(d)));
        }
        if let Some(r) = &self.relationship {
            extension.push(ext("carer-relationship", "valueReference", reference(r)));
        }
        let mut p = json!({
            "resourceType": "CarePlan",
            "meta": meta("CarerSupportPlan", "CarePlan"),
            "status": "active",
            "intent": "plan",
            "category": [coding(&code_system("plan-category"), "carer-support-plan")],
            "subject": reference(&carer),
        });
        if !extension.is_empty() {
            p["extension"] = Value::Array(extension);
        }
        if let Some(s) = &self.start {
            p["period"] = json!({ "start": s });
        }
        if let Some(e) = &self.eligibility {
            p["supportingInfo"] = json!([reference(e)]);
        }
        if !self.activities.is_empty() {
            p["activity"] = Value::Array(self.activities);
        }
        Ok(p)
    }
}

/// Someone to call when a contingency plan starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ContingencyContact {
    /// Who (a RelatedPerson, Practitioner, Organization or HealthcareService).
    pub reference: String,
    /// Whether they agreed to act as a replacement carer.
    pub agreed_to_act: bool,
    /// A telephone number to reach them at once.
    pub phone: Option<String>,
}

/// The `ContingencyPlan` profile ("Plan B", CarePlan for the cared-for person).
pub struct ContingencyPlan;

impl ContingencyPlan {
    /// A builder.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::{ContingencyContact, ContingencyPlan};
    /// let plan = ContingencyPlan::builder().cared_for("Patient/arthur").author("Patient/mary")
    ///     .emergency_card("EC-616-000123").description("Call Sam first.")
    ///     .trigger("carer-ill").unwrap()
    ///     .contact(ContingencyContact { reference: "RelatedPerson/sam".into(), agreed_to_act: true, phone: None })
    ///     .agreed_with_person(true).build().unwrap();
    /// assert_eq!(ContingencyPlan::emergency_card(&plan), Some("EC-616-000123"));
    /// ```
    pub fn builder() -> ContingencyPlanBuilder {
        ContingencyPlanBuilder::default()
    }

    /// The emergency card number a responder quotes.
    pub fn emergency_card(resource: &Value) -> Option<&str> {
        let system = format!("{CANONICAL}/Id/emergency-card");
        resource["identifier"]
            .as_array()?
            .iter()
            .find(|i| i["system"] == system.as_str())?["value"]
            .as_str()
    }

    /// The contacts, in the order to call them.
    pub fn contacts(resource: &Value) -> Vec<ContingencyContact> {
        let mut found: Vec<(u64, ContingencyContact)> = extensions(resource, "emergency-contact")
            .enumerate()
            .map(|(i, e)| {
                let part = |name: &str| {
                    e["extension"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|s| s["url"] == name)
                        .cloned()
                        .unwrap_or(Value::Null)
                };
                let order = part("order")["valuePositiveInt"]
                    .as_u64()
                    .unwrap_or(1000 + i as u64);
                (
                    order,
                    ContingencyContact {
                        reference: part("contact")["valueReference"]["reference"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        agreed_to_act: part("agreedToAct")["valueBoolean"]
                            .as_bool()
                            .unwrap_or(false),
                        phone: part("telephone")["valueContactPoint"]["value"]
                            .as_str()
                            .map(str::to_string),
                    },
                )
            })
            .collect();
        found.sort_by_key(|(o, _)| *o);
        found.into_iter().map(|(_, c)| c).collect()
    }
}

/// Builds a `ContingencyPlan`.
#[derive(Debug, Default, Clone)]
pub struct ContingencyPlanBuilder {
    cared_for: Option<String>,
    author: Option<String>,
    card: Option<String>,
    description: Option<String>,
    triggers: Vec<String>,
    contacts: Vec<ContingencyContact>,
    hours_alone: Option<f64>,
    agreed: Option<bool>,
    review: Option<String>,
    relationship: Option<String>,
    activities: Vec<(String, String)>,
}

impl ContingencyPlanBuilder {
    /// The person cared for (required).
    pub fn cared_for(mut self, patient: &str) -> Self {
        self.cared_for = Some(patient.into());
        self
    }
    /// Who wrote it, usually the carer (required).
    pub fn author(mut self, who: &str) -> Self {
        self.author = Some(who.into());
        self
    }
    /// The emergency card number (required).
    pub fn emergency_card(mut self, number: &str) -> Self {
        self.card = Some(number.into());
        self
    }
    /// What should happen (required).
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.into());
        self
    }
    /// An event that starts the plan (at least one).
    ///
    /// # Errors
    /// When the code is unknown.
    pub fn trigger(mut self, code: &str) -> Result<Self> {
        check_code(
            "CarePlan.extension('contingency-trigger')",
            "contingency trigger",
            code,
            CONTINGENCY_TRIGGERS,
        )?;
        self.triggers.push(code.into());
        Ok(self)
    }
    /// Someone to call, in order (at least one who agreed to act).
    pub fn contact(mut self, contact: ContingencyContact) -> Self {
        self.contacts.push(contact);
        self
    }
    /// How many hours the person can be left alone.
    pub fn hours_alone(mut self, hours: f64) -> Self {
        self.hours_alone = Some(hours);
        self
    }
    /// Whether the person cared for agreed the plan (required).
    pub fn agreed_with_person(mut self, yes: bool) -> Self {
        self.agreed = Some(yes);
        self
    }
    /// When it is next reviewed.
    pub fn review_date(mut self, date: &str) -> Self {
        self.review = Some(date.into());
        self
    }
    /// The CarerRelationship.
    pub fn relationship(mut self, r: &str) -> Self {
        self.relationship = Some(r.into());
        self
    }
    /// Support that starts only when the plan is triggered (on hold until then).
    ///
    /// # Errors
    /// When the support type is unknown.
    pub fn standby_support(mut self, support: &str, description: &str) -> Result<Self> {
        check_code(
            "CarePlan.activity.detail.code",
            "support type",
            support,
            SUPPORT_TYPES,
        )?;
        self.activities.push((support.into(), description.into()));
        Ok(self)
    }

    /// The resource.
    ///
    /// # Errors
    /// When an element is missing, or nobody agreed to act.
    pub fn build(self) -> Result<Value> {
        let cared_for = require(self.cared_for, "CarePlan.subject", "the person cared for")?;
        let author = require(self.author, "CarePlan.author", "who wrote the plan")?;
        let card = require(
            self.card,
            "CarePlan.identifier",
            "the emergency card number",
        )?;
        let description = require(
            self.description,
            "CarePlan.description",
            "what should happen",
        )?;
        let agreed = require(
            self.agreed,
            "CarePlan.extension('agreed-with-person')",
            "whether the person agreed",
        )?;
        if self.triggers.is_empty() {
            return Err(missing(
                "CarePlan.extension('contingency-trigger')",
                "a trigger",
            ));
        }
        if !self.contacts.iter().any(|c| c.agreed_to_act) {
            return Err(missing(
                "CarePlan.extension('emergency-contact')",
                "a contact who agreed to act",
            ));
        }
        let mut extension: Vec<Value> = self
            .triggers
            .iter()
            .map(|t| {
                ext(
                    "contingency-trigger",
                    "valueCodeableConcept",
                    coding(&code_system("contingency-trigger"), t),
                )
            })
            .collect();
        for (i, c) in self.contacts.iter().enumerate() {
            let mut parts = vec![
                json!({"url": "contact", "valueReference": reference(&c.reference)}),
                json!({"url": "agreedToAct", "valueBoolean": c.agreed_to_act}),
            ];
            if let Some(p) = &c.phone {
                parts.push(json!({"url": "telephone", "valueContactPoint": {"system": "phone", "value": p}}));
            }
            parts.push(json!({"url": "order", "valuePositiveInt": i + 1}));
            extension.push(
                json!({"url": structure_definition("emergency-contact"), "extension": parts}),
            );
        }
        if let Some(h) = self.hours_alone {
            extension.push(ext("time-alone", "valueDuration", json!({"value": h, "unit": "hours", "system": "http://unitsofmeasure.org", "code": "h"})));
        }
        extension.push(ext("agreed-with-person", "valueBoolean", json!(agreed)));
        if let Some(d) = &self.review {
            extension.push(ext("review-date", "valueDate", json!(d)));
        }
        if let Some(r) = &self.relationship {
            extension.push(ext("carer-relationship", "valueReference", reference(r)));
        }
        let mut p = json!({
            "resourceType": "CarePlan",
            "meta": meta("ContingencyPlan", "CarePlan"),
            "extension": extension,
            "identifier": [{"system": format!("{CANONICAL}/Id/emergency-card"), "value": card}],
            "status": "active",
            "intent": "plan",
            "category": [coding(&code_system("plan-category"), "contingency-plan")],
            "description": description,
            "subject": reference(&cared_for),
            "author": reference(&author),
        });
        if !self.activities.is_empty() {
            p["activity"] = self
                .activities
                .iter()
                .map(|(s, d)| json!({"detail": {"code": coding(&code_system("support-type"), s), "status": "on-hold", "description": d}}))
                .collect();
        }
        Ok(p)
    }
}

// ---------------------------------------------------------------- consent

/// The `CafConsent` profile (Consent to share CAF data).
pub struct CafConsent;

impl CafConsent {
    /// A builder.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::CafConsent;
    /// let c = CafConsent::builder().patient("Patient/mary").date_time("2025-10-03T09:00:00Z")
    ///     .organisation("A81001".parse().unwrap()).purpose("CAREMGT").unwrap().build().unwrap();
    /// assert!(CafConsent::permits(&c, &"A81001".parse().unwrap(), "2026-01-01"));
    /// assert!(!CafConsent::permits(&c, &"RX1".parse().unwrap(), "2026-01-01"));
    /// ```
    pub fn builder() -> CafConsentBuilder {
        CafConsentBuilder {
            permit: true,
            ..Default::default()
        }
    }

    /// Whether this consent lets organisation `ods` have the data on
    /// `date` (a FHIR date): active, a permit, naming the organisation, and
    /// `date` within the provision's period.
    pub fn permits(resource: &Value, ods: &OdsCode, date: &str) -> bool {
        let provision = &resource["provision"];
        let named = provision["actor"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| {
                a["reference"]["identifier"]["system"] == super::ODS_SYSTEM
                    && a["reference"]["identifier"]["value"].as_str() == Some(ods.as_str())
            });
        let start_ok = provision["period"]["start"]
            .as_str()
            .is_none_or(|s| s <= date);
        let end_ok = provision["period"]["end"]
            .as_str()
            .is_none_or(|e| date <= e);
        resource["status"] == "active"
            && provision["type"] == "permit"
            && named
            && start_ok
            && end_ok
    }
}

/// Builds a `CafConsent`.
#[derive(Debug, Default, Clone)]
pub struct CafConsentBuilder {
    patient: Option<String>,
    performer: Option<String>,
    date_time: Option<String>,
    permit: bool,
    start: Option<String>,
    end: Option<String>,
    organisations: Vec<OdsCode>,
    purposes: Vec<String>,
    classes: Vec<String>,
}

impl CafConsentBuilder {
    /// Whose data (required).
    pub fn patient(mut self, patient: &str) -> Self {
        self.patient = Some(patient.into());
        self
    }
    /// Who consented, when not the person (a legitimate representative).
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
    /// An organisation the data may go to (at least one).
    pub fn organisation(mut self, ods: OdsCode) -> Self {
        self.organisations.push(ods);
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
    /// When an element is missing.
    pub fn build(self) -> Result<Value> {
        let patient = require(self.patient, "Consent.patient", "whose data")?;
        let when = require(self.date_time, "Consent.dateTime", "when consent was given")?;
        if self.organisations.is_empty() {
            return Err(missing("Consent.provision.actor", "an organisation"));
        }
        if self.purposes.is_empty() {
            return Err(missing("Consent.provision.purpose", "a purpose"));
        }
        let mut provision = json!({
            "type": if self.permit { "permit" } else { "deny" },
            "actor": self.organisations.iter().map(|o| json!({
                "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]},
                "reference": o.reference()
            })).collect::<Vec<_>>(),
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
        Ok(json!({
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
        }))
    }
}

// ---------------------------------------------------------------- record

/// The `CafRecord` profile (a document Bundle) and its `CafRecordComposition`.
pub struct CafRecord;

impl CafRecord {
    /// A builder: the person's Patient resource, then the resources to share.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::CafRecord;
    /// let mary = serde_json::json!({"resourceType": "Patient", "id": "mary"});
    /// let doc = CafRecord::builder(mary, "https://fhir.example.org/fhir")
    ///     .identifier("b7d1").author("616".parse().unwrap()).timestamp("2025-11-20T09:00:00Z")
    ///     .build().unwrap();
    /// assert_eq!(doc["entry"][0]["resource"]["resourceType"], "Composition");
    /// ```
    pub fn builder(subject: Value, base: &str) -> CafRecordBuilder {
        CafRecordBuilder {
            subject,
            base: base.trim_end_matches('/').to_string(),
            identifier: None,
            author: None,
            timestamp: None,
            resources: Vec::new(),
        }
    }
}

/// Builds a `CafRecord`.
#[derive(Debug, Clone)]
pub struct CafRecordBuilder {
    subject: Value,
    base: String,
    identifier: Option<String>,
    author: Option<OdsCode>,
    timestamp: Option<String>,
    resources: Vec<Value>,
}

impl CafRecordBuilder {
    /// The document's identifier (required).
    pub fn identifier(mut self, id: &str) -> Self {
        self.identifier = Some(id.into());
        self
    }
    /// The organisation assembling it (required).
    pub fn author(mut self, ods: OdsCode) -> Self {
        self.author = Some(ods);
        self
    }
    /// When it was assembled (required).
    pub fn timestamp(mut self, when: &str) -> Self {
        self.timestamp = Some(when.into());
        self
    }
    /// A resource to include; it needs an id.
    pub fn resource(mut self, r: Value) -> Self {
        self.resources.push(r);
        self
    }

    /// The document: the Composition, the subject, then the resources,
    /// filed in sections by kind.
    ///
    /// # Errors
    /// When an element is missing or a resource has no id.
    pub fn build(self) -> Result<Value> {
        let id = require(
            self.identifier,
            "Bundle.identifier",
            "the document identifier",
        )?;
        let author = require(
            self.author,
            "Composition.author",
            "the organisation assembling it",
        )?;
        let when = require(self.timestamp, "Bundle.timestamp", "when it was assembled")?;
        let subject_id = self.subject["id"]
            .as_str()
            .ok_or_else(|| missing("Bundle.entry.resource.id", "the subject's id"))?
            .to_string();
        let full_url = |r: &Value| -> Result<String> {
            let rt = r["resourceType"].as_str().unwrap_or("Resource");
            let rid = r["id"].as_str().ok_or_else(|| {
                missing(
                    &format!("Bundle.entry.resource.ofType({rt}).id"),
                    "a resource id",
                )
            })?;
            Ok(format!("{}/{rt}/{rid}", self.base))
        };
        let section_of = |r: &Value| -> Option<(&str, &str)> {
            let profiles = r["meta"]["profile"].to_string();
            Some(match r["resourceType"].as_str()? {
                "RelatedPerson" if profiles.contains("CarerRelationship") => {
                    ("relationships", "Caring relationships")
                }
                "Flag" => ("status", "Carer status and flags"),
                "Observation" if profiles.contains("CarerStatus") => {
                    ("status", "Carer status and flags")
                }
                "Task" | "QuestionnaireResponse" | "Observation" => {
                    ("assessments", "Assessments and determinations")
                }
                "CarePlan" => ("plans", "Plans"),
                "Consent" => ("consents", "Consents"),
                _ => return None,
            })
        };
        let mut sections: Vec<(&str, &str, Vec<Value>)> = Vec::new();
        let mut entries = Vec::new();
        let subject_ref = format!("Patient/{subject_id}");
        for r in &self.resources {
            let url = full_url(r)?;
            if let Some((code, title)) = section_of(r) {
                let rel = format!(
                    "{}/{}",
                    r["resourceType"].as_str().unwrap_or(""),
                    r["id"].as_str().unwrap_or("")
                );
                match sections.iter_mut().find(|(c, _, _)| *c == code) {
                    Some(s) => s.2.push(reference(&rel)),
                    None => sections.push((code, title, vec![reference(&rel)])),
                }
            }
            entries.push(json!({"fullUrl": url, "resource": r}));
        }
        let composition_id = format!("caf-{subject_id}");
        let composition = json!({
            "resourceType": "Composition",
            "id": composition_id,
            "meta": meta("CafRecordComposition", "Composition"),
            "status": "final",
            "type": {"coding": [{"system": code_system("caf-document"), "code": "caf-record", "display": "CAF record"}]},
            "subject": reference(&subject_ref),
            "date": when,
            "author": [author.reference()],
            "title": "CAF record",
            "section": sections.iter().map(|(code, title, refs)| json!({
                "title": title,
                "code": {"coding": [{"system": code_system("caf-document"), "code": code}]},
                "entry": refs
            })).collect::<Vec<_>>(),
        });
        let mut all = vec![
            json!({"fullUrl": format!("{}/Composition/{composition_id}", self.base), "resource": composition}),
            json!({"fullUrl": full_url(&self.subject)?, "resource": self.subject}),
        ];
        all.extend(entries);
        Ok(json!({
            "resourceType": "Bundle",
            "meta": meta("CafRecord", "Bundle"),
            "identifier": {"system": format!("{CANONICAL}/Id/caf-record"), "value": id},
            "type": "document",
            "timestamp": when,
            "entry": all,
        }))
    }
}
