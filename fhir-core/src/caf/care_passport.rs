//! `CarePassport` (Composition on UKCore-Composition): the care passport of
//! the person cared for, which the carer records and a hospital reads on
//! admission.

use serde_json::{json, Value};

use super::code_system;
use super::codes::CARE_PASSPORT_SECTIONS;
use super::json::{
    check_code, coding, ext, extension_value, first_code, meta, missing, reference, reference_of,
    require,
};
use crate::error::Result;

/// The `CarePassport` profile.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarePassport;
/// let p = CarePassport::builder().person("Patient/arthur").recorded_by("RelatedPerson/mary")
///     .date("2025-10-10").section("must-know", "I have dementia.").unwrap()
///     .section("communication", "Speak slowly.").unwrap().build().unwrap();
/// assert_eq!(CarePassport::read(&p).section("communication"), Some("Speak slowly.".into()));
/// ```
pub struct CarePassport;

impl CarePassport {
    /// A builder: the person, who recorded it, the date, and at least the
    /// `must-know` and `communication` sections are required.
    ///
    /// See [`CarePassportBuilder`] for an example.
    pub fn builder() -> CarePassportBuilder {
        CarePassportBuilder::default()
    }

    /// Typed access.
    ///
    /// See [`CarePassportReader`] for an example.
    pub fn read(resource: &Value) -> CarePassportReader<'_> {
        CarePassportReader(resource)
    }
}

/// Builds a `CarePassport`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarePassport;
/// let p = CarePassport::builder()
///     .person("Patient/arthur-jones")
///     .recorded_by("RelatedPerson/mary-cares-for-arthur")
///     .date("2025-10-10T10:00:00Z")
///     .review_date("2026-04-01")
///     .section("must-know", "I have Alzheimer's dementia & take donepezil at 8pm.").unwrap()
///     .section("communication", "Speak slowly, one thing at a time.").unwrap()
///     .section("carer", "My wife Mary is my main carer.").unwrap()
///     .build()
///     .unwrap();
/// assert_eq!(p["section"].as_array().unwrap().len(), 3);
/// // What a hospital must always find:
/// assert!(CarePassport::builder().person("Patient/a").recorded_by("RelatedPerson/m")
///     .date("2025-10-10").section("must-know", "x").unwrap().build().is_err());
/// ```
#[derive(Debug, Default, Clone)]
pub struct CarePassportBuilder {
    person: Option<String>,
    authors: Vec<String>,
    date: Option<String>,
    review: Option<String>,
    sections: Vec<(String, String)>,
}

impl CarePassportBuilder {
    /// The person cared for (required).
    pub fn person(mut self, patient: &str) -> Self {
        self.person = Some(patient.into());
        self
    }
    /// Who recorded it: the carer's CarerRelationship, the person, a
    /// professional (at least one).
    pub fn recorded_by(mut self, who: &str) -> Self {
        self.authors.push(who.into());
        self
    }
    /// When (required).
    pub fn date(mut self, when: &str) -> Self {
        self.date = Some(when.into());
        self
    }
    /// When it is to be looked at again.
    pub fn review_date(mut self, date: &str) -> Self {
        self.review = Some(date.into());
        self
    }
    /// A section (see [`CARE_PASSPORT_SECTIONS`]) and its text.
    ///
    /// # Errors
    /// When the code is not a care passport section.
    pub fn section(mut self, code: &str, text: &str) -> Result<Self> {
        check_code(
            "Composition.section.code",
            "care passport section",
            code,
            CARE_PASSPORT_SECTIONS,
        )?;
        self.sections.push((code.into(), text.into()));
        Ok(self)
    }

    /// The resource.
    ///
    /// # Errors
    /// When an element is missing, or the `must-know` or `communication`
    /// section is.
    pub fn build(self) -> Result<Value> {
        let person = require(self.person, "Composition.subject", "the person cared for")?;
        let date = require(self.date, "Composition.date", "when")?;
        if self.authors.is_empty() {
            return Err(missing("Composition.author", "who recorded it"));
        }
        for must in ["must-know", "communication"] {
            if !self.sections.iter().any(|(c, _)| c == must) {
                return Err(missing(
                    "Composition.section",
                    &format!("the {must} section"),
                ));
            }
        }
        let system = code_system("care-passport-section");
        let mut c = json!({
            "resourceType": "Composition",
            "meta": meta("CarePassport", "Composition"),
            "status": "final",
            "type": {"coding": [{"system": system, "code": "care-passport", "display": "Care passport"}]},
            "subject": reference(&person),
            "date": date,
            "author": self.authors.iter().map(|a| reference(a)).collect::<Vec<_>>(),
            "title": "Care passport",
            "section": self.sections.iter().map(|(code, text)| json!({
                "code": coding(&system, code),
                "text": {"status": "additional",
                         "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{}</p></div>", escape(text))}
            })).collect::<Vec<_>>(),
        });
        if let Some(r) = &self.review {
            c["extension"] = json!([ext("review-date", "valueDate", json!(r))]);
        }
        Ok(c)
    }
}

/// Text for XHTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Typed access to a `CarePassport`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarePassport;
/// let text = std::fs::read_to_string(
///     "../profiles/fsh-generated/resources/Composition-arthur-care-passport.json").unwrap();
/// let p: serde_json::Value = serde_json::from_str(&text).unwrap();
/// let read = CarePassport::read(&p);
/// assert_eq!(read.person(), Some("Patient/arthur-jones"));
/// assert_eq!(read.recorded_by(), ["RelatedPerson/mary-cares-for-arthur"]);
/// assert!(read.section("communication").unwrap().contains("Speak slowly"));
/// assert_eq!(read.review_date(), Some("2026-04-01"));
/// assert_eq!(read.section_codes().len(), 6);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarePassportReader<'a>(&'a Value);

impl<'a> CarePassportReader<'a> {
    /// The person cared for.
    pub fn person(&self) -> Option<&'a str> {
        reference_of(&self.0["subject"])
    }
    /// Who recorded it.
    pub fn recorded_by(&self) -> Vec<&'a str> {
        self.0["author"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(reference_of)
            .collect()
    }
    /// When it is to be looked at again.
    pub fn review_date(&self) -> Option<&'a str> {
        extension_value(self.0, "review-date", "valueDate")?.as_str()
    }
    /// The section codes, in order.
    pub fn section_codes(&self) -> Vec<&'a str> {
        self.0["section"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| first_code(&s["code"]))
            .collect()
    }
    /// A section's text (tags dropped).
    pub fn section(&self, code: &str) -> Option<String> {
        let s = self.0["section"]
            .as_array()?
            .iter()
            .find(|s| first_code(&s["code"]) == Some(code))?;
        let div = s["text"]["div"].as_str()?;
        let mut out = String::new();
        let mut in_tag = false;
        for c in div.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        Some(
            out.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        )
    }
}
