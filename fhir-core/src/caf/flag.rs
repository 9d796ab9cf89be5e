//! `CarerFlag` (Flag on UKCore-Flag): on both records, so every
//! professional sees that a carer is involved; closed when caring ends.

use serde_json::{json, Value};

use super::codes::FLAG_CODES;
use super::json::{
    check_code, coding, ext, extension_value, first_code, meta, period_of, reference, reference_of,
    require,
};
use super::{code_system, CANONICAL};
use crate::error::Result;

/// The `CarerFlag` profile (Flag on either record).
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerFlag;
/// let f = CarerFlag::builder().code("young-carer").subject("Patient/liam")
///     .relationship("RelatedPerson/r2").start("2025-09-01").build().unwrap();
/// assert_eq!(CarerFlag::read(&f).code(), Some("young-carer"));
/// ```
pub struct CarerFlag;

impl CarerFlag {
    /// A builder. Code, subject, relationship and start are required; an
    /// end closes the flag.
    ///
    /// See [`CarerFlagBuilder`] for an example.
    pub fn builder() -> CarerFlagBuilder {
        CarerFlagBuilder::default()
    }

    /// Typed access to a CarerFlag.
    ///
    /// See [`CarerFlagReader`] for an example.
    pub fn read(resource: &Value) -> CarerFlagReader<'_> {
        CarerFlagReader(resource)
    }
}

/// Typed access to a `CarerFlag`; made by [`CarerFlag::read`].
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerFlag;
/// let f = CarerFlag::builder().code("is-a-carer").subject("Patient/mary")
///     .relationship("RelatedPerson/r").start("2025-10-03").build().unwrap();
/// let read = CarerFlag::read(&f);
/// assert_eq!(read.code(), Some("is-a-carer"));
/// assert_eq!(read.subject(), Some("Patient/mary"));
/// assert_eq!(read.relationship(), Some("RelatedPerson/r"));
/// assert_eq!(read.period(), (Some("2025-10-03"), None));
/// assert!(read.is_active());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CarerFlagReader<'a>(&'a Value);

impl<'a> CarerFlagReader<'a> {
    /// `is-a-carer`, `has-a-carer` or `young-carer`.
    pub fn code(&self) -> Option<&'a str> {
        first_code(&self.0["code"])
    }
    /// Whose record the flag is on.
    pub fn subject(&self) -> Option<&'a str> {
        reference_of(&self.0["subject"])
    }
    /// The caring relationship the flag is about.
    pub fn relationship(&self) -> Option<&'a str> {
        extension_value(self.0, "carer-relationship", "valueReference")?["reference"].as_str()
    }
    /// When the flag was raised and closed.
    pub fn period(&self) -> (Option<&'a str>, Option<&'a str>) {
        period_of(&self.0["period"])
    }
    /// True while the flag is active and not ended.
    pub fn is_active(&self) -> bool {
        self.0["status"] == "active" && self.0["period"]["end"].is_null()
    }
}

/// Builds a `CarerFlag`.
///
/// # Examples
/// ```
/// use fhir_core::caf::CarerFlag;
/// let f = CarerFlag::builder()
///     .code("has-a-carer")
///     .subject("Patient/arthur")
///     .relationship("RelatedPerson/r")
///     .start("2025-10-03")
///     .identifier("F-1")
///     .build()
///     .unwrap();
/// assert_eq!(f["status"], "active");
/// let closed = CarerFlag::builder().code("has-a-carer").subject("Patient/arthur")
///     .relationship("RelatedPerson/r").start("2025-10-03").end("2026-10-20").build().unwrap();
/// assert_eq!(closed["status"], "inactive");
/// ```
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
        check_code("Flag.code", "carer flag", &code, FLAG_CODES)?;
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
