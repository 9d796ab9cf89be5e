//! `Carer` (Patient on UKCore-Patient): the carer's own record, with the
//! equality and diversity data councils count carers by: age, gender,
//! ethnic category, preferred language and interpreter. Nothing is
//! required, and every refusal has a code.

use serde_json::{json, Value};

use super::codes::ETHNIC_CATEGORIES;
use super::json::{check_code, invalid, meta};
use super::{NhsNumber, OdsCode, NHS_NUMBER_SYSTEM};
use crate::error::Result;

/// UK Core's ethnic category extension.
const ETHNIC_CATEGORY: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory";
/// UK Core's ethnic categories for England.
const ETHNIC_CATEGORY_ENGLAND: &str =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland";
/// The core extension UK Core uses for "needs an interpreter".
const INTERPRETER_REQUIRED: &str =
    "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired";

/// The `Carer` profile (the carer's own Patient record).
///
/// # Examples
/// ```
/// use fhir_core::caf::Carer;
/// let p = Carer::builder().birth_date("1958-03-14").ethnic_category("Z").build().unwrap();
/// let read = Carer::read(&p);
/// assert_eq!(read.age_on("2025-10-03"), Some(67));
/// assert!(read.ethnic_category_not_stated());
/// ```
pub struct Carer;

impl Carer {
    /// A builder; nothing is required.
    ///
    /// See [`CarerBuilder`] for an example.
    pub fn builder() -> CarerBuilder {
        CarerBuilder::default()
    }

    /// Typed access to a carer's Patient record.
    ///
    /// See [`CarerReader`] for an example.
    pub fn read(resource: &Value) -> CarerReader<'_> {
        CarerReader(resource)
    }
}

/// Builds a `Carer`.
///
/// # Examples
/// ```
/// use fhir_core::caf::Carer;
/// let p = Carer::builder()
///     .nhs_number("9991234004".parse().unwrap())
///     .name("Jones", "Mary")
///     .gender("female")
///     .birth_date("1958-03-14")
///     .ethnic_category("A")
///     .language("en-GB", true)
///     .interpreter_required(false)
///     .general_practitioner("A81001".parse().unwrap())
///     .build()
///     .unwrap();
/// assert_eq!(p["resourceType"], "Patient");
/// // A carer who declines to state their ethnic category is recorded as Z:
/// let z = Carer::builder().ethnic_category("Z").build().unwrap();
/// assert_eq!(z["extension"][0]["valueCodeableConcept"]["coding"][0]["display"], "Not stated");
/// // Codes outside UK Core's ethnic categories are refused:
/// assert!(Carer::builder().ethnic_category("W").build().is_err());
/// ```
#[derive(Debug, Default, Clone)]
pub struct CarerBuilder {
    nhs_number: Option<NhsNumber>,
    name: Option<(String, String)>,
    gender: Option<String>,
    birth_date: Option<String>,
    ethnic_category: Option<String>,
    interpreter: Option<bool>,
    languages: Vec<(String, bool)>,
    gp: Option<OdsCode>,
}

impl CarerBuilder {
    /// The carer's NHS number.
    pub fn nhs_number(mut self, n: NhsNumber) -> Self {
        self.nhs_number = Some(n);
        self
    }
    /// The carer's name.
    pub fn name(mut self, family: &str, given: &str) -> Self {
        self.name = Some((family.into(), given.into()));
        self
    }
    /// Administrative gender: `male`, `female`, `other` or `unknown` (also
    /// for a carer who does not say).
    pub fn gender(mut self, code: &str) -> Self {
        self.gender = Some(code.into());
        self
    }
    /// Date of birth (a FHIR date), from which age bands are counted.
    pub fn birth_date(mut self, date: &str) -> Self {
        self.birth_date = Some(date.into());
        self
    }
    /// Ethnic category, a code of UK Core's England list
    /// ([`ETHNIC_CATEGORIES`]); `Z` when asked and not stated.
    pub fn ethnic_category(mut self, code: &str) -> Self {
        self.ethnic_category = Some(code.into());
        self
    }
    /// Whether an interpreter is needed.
    pub fn interpreter_required(mut self, yes: bool) -> Self {
        self.interpreter = Some(yes);
        self
    }
    /// A language the carer uses (a BCP-47 tag such as `en-GB`, `pa`, `bfi`
    /// for British Sign Language), and whether it is their preferred one.
    pub fn language(mut self, tag: &str, preferred: bool) -> Self {
        self.languages.push((tag.into(), preferred));
        self
    }
    /// The carer's GP practice.
    pub fn general_practitioner(mut self, ods: OdsCode) -> Self {
        self.gp = Some(ods);
        self
    }

    /// The resource.
    ///
    /// # Errors
    /// When the gender or ethnic category is not a known code, or more than
    /// one language is preferred.
    pub fn build(self) -> Result<Value> {
        let mut p = json!({
            "resourceType": "Patient",
            "meta": meta("Carer", "Patient"),
        });
        let mut extension = Vec::new();
        if let Some(code) = &self.ethnic_category {
            let display = ETHNIC_CATEGORIES
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, d)| *d)
                .ok_or_else(|| {
                    invalid(
                        "Patient.extension('Extension-UKCore-EthnicCategory')",
                        format!("{code:?} is not a UK Core ethnic category (England)"),
                    )
                })?;
            extension.push(
                json!({"url": ETHNIC_CATEGORY, "valueCodeableConcept": {"coding": [
                {"system": ETHNIC_CATEGORY_ENGLAND, "code": code, "display": display}]}}),
            );
        }
        if let Some(yes) = self.interpreter {
            extension.push(json!({"url": INTERPRETER_REQUIRED, "valueBoolean": yes}));
        }
        if !extension.is_empty() {
            p["extension"] = Value::Array(extension);
        }
        if let Some(n) = &self.nhs_number {
            p["identifier"] = json!([n.identifier()]);
        }
        if let Some((family, given)) = &self.name {
            p["name"] = json!([{ "family": family, "given": [given] }]);
        }
        if let Some(g) = &self.gender {
            check_code(
                "Patient.gender",
                "administrative gender",
                g,
                &["male", "female", "other", "unknown"],
            )?;
            p["gender"] = json!(g);
        }
        if let Some(d) = &self.birth_date {
            p["birthDate"] = json!(d);
        }
        if self.languages.iter().filter(|(_, pref)| *pref).count() > 1 {
            return Err(invalid(
                "Patient.communication",
                "only one language can be the preferred one".into(),
            ));
        }
        if !self.languages.is_empty() {
            p["communication"] = self
                .languages
                .iter()
                .map(|(tag, pref)| {
                    let mut c = json!({"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": tag}]}});
                    if *pref {
                        c["preferred"] = json!(true);
                    }
                    c
                })
                .collect();
        }
        if let Some(gp) = &self.gp {
            p["generalPractitioner"] = json!([gp.reference()]);
        }
        Ok(p)
    }
}

/// Typed access to a `Carer`; made by [`Carer::read`]. It reads any Patient.
///
/// # Examples
/// ```
/// use fhir_core::caf::Carer;
/// let p = Carer::builder().nhs_number("9991234004".parse().unwrap()).gender("female")
///     .birth_date("2011-06-20").ethnic_category("H").language("gu", false)
///     .language("en-GB", true).interpreter_required(false).build().unwrap();
/// let read = Carer::read(&p);
/// assert_eq!(read.nhs_number().unwrap().as_str(), "9991234004");
/// assert_eq!(read.gender(), Some("female"));
/// assert_eq!(read.age_on("2025-09-15"), Some(14));
/// assert_eq!(read.ethnic_category(), Some("H"));
/// assert_eq!(read.preferred_language(), Some("en-GB"));
/// assert_eq!(read.languages(), ["gu", "en-GB"]);
/// assert_eq!(read.interpreter_required(), Some(false));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerReader<'a>(&'a Value);

impl<'a> CarerReader<'a> {
    /// The NHS number, when recorded and valid.
    pub fn nhs_number(&self) -> Option<NhsNumber> {
        self.0["identifier"]
            .as_array()?
            .iter()
            .find(|i| i["system"] == NHS_NUMBER_SYSTEM)
            .and_then(|i| i["value"].as_str()?.parse().ok())
    }
    /// Administrative gender.
    pub fn gender(&self) -> Option<&'a str> {
        self.0["gender"].as_str()
    }
    /// Date of birth.
    pub fn birth_date(&self) -> Option<&'a str> {
        self.0["birthDate"].as_str()
    }
    /// Age in whole years on `date` (a FHIR date), when the birth date is
    /// known to the day.
    pub fn age_on(&self, date: &str) -> Option<u32> {
        age_on(self.birth_date()?, date)
    }
    /// The ethnic category code (UK Core's England list).
    pub fn ethnic_category(&self) -> Option<&'a str> {
        self.extension(ETHNIC_CATEGORY)?["valueCodeableConcept"]["coding"][0]["code"].as_str()
    }
    /// True when the carer was asked and did not state an ethnic category
    /// (`Z`).
    pub fn ethnic_category_not_stated(&self) -> bool {
        self.ethnic_category() == Some("Z")
    }
    /// Whether an interpreter is needed.
    pub fn interpreter_required(&self) -> Option<bool> {
        self.extension(INTERPRETER_REQUIRED)?["valueBoolean"].as_bool()
    }
    /// The preferred language's tag.
    pub fn preferred_language(&self) -> Option<&'a str> {
        self.0["communication"]
            .as_array()?
            .iter()
            .find(|c| c["preferred"] == true)?["language"]["coding"][0]["code"]
            .as_str()
    }
    /// Every language's tag, in the record's order.
    pub fn languages(&self) -> Vec<&'a str> {
        self.0["communication"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["language"]["coding"][0]["code"].as_str())
            .collect()
    }

    fn extension(&self, url: &str) -> Option<&'a Value> {
        self.0["extension"]
            .as_array()?
            .iter()
            .find(|e| e["url"] == url)
    }
}

/// Whole years from `birth` to `on` (FHIR dates, `YYYY-MM-DD`; a dateTime's
/// date part is used); `None` unless both are full dates.
pub(super) fn age_on(birth: &str, on: &str) -> Option<u32> {
    let parse = |d: &str| chrono::NaiveDate::parse_from_str(d.get(..10)?, "%Y-%m-%d").ok();
    let (b, o) = (parse(birth)?, parse(on)?);
    o.years_since(b)
}
