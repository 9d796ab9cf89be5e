//! Validation issues and their OperationOutcome form.

use serde_json::{json, Value};

/// How serious an issue is (OperationOutcome.issue.severity).
///
/// # Examples
/// ```
/// use fhir_core::validation::Severity;
/// assert!(Severity::Error > Severity::Warning);
/// assert_eq!(Severity::Information.code(), "information");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Information only.
    Information,
    /// Worth attention; the resource is still valid.
    Warning,
    /// The resource is not valid.
    Error,
}

impl Severity {
    /// The FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            Severity::Information => "information",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding, with its FHIRPath location.
///
/// # Examples
/// ```
/// use fhir_core::validation::{Issue, Outcome, Severity};
/// let outcome = Outcome { issues: vec![Issue {
///     severity: Severity::Error,
///     code: "required",
///     expression: "Patient.name[0]".into(),
///     message: "name.family or name.given is required".into(),
/// }] };
/// assert_eq!(outcome.error_count(), 1);
/// assert_eq!(outcome.to_operation_outcome()["issue"][0]["expression"][0], "Patient.name[0]");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// How serious.
    pub severity: Severity,
    /// The IssueType code: `structure`, `required`, `value`, `invariant`,
    /// `code-invalid`, `not-found`, `invalid`, `informational`…
    pub code: &'static str,
    /// Where: `Patient.name[0].given[1]`.
    pub expression: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// The result of validating one resource.
///
/// # Examples
/// ```
/// use fhir_core::validation::{Issue, Outcome, Severity};
/// let warning = Issue { severity: Severity::Warning, code: "invariant",
///     expression: "Patient".into(), message: "dom-6".into() };
/// let outcome = Outcome { issues: vec![warning] };
/// assert!(!outcome.has_errors());
/// assert_eq!(outcome.error_count(), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Every issue found, in the order found.
    pub issues: Vec<Issue>,
}

impl Outcome {
    /// Whether any issue is an error.
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Error)
    }

    /// How many issues are errors.
    pub fn error_count(&self) -> usize {
        self.issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .count()
    }

    /// The outcome as a FHIR OperationOutcome. An outcome without issues
    /// says so with one information issue, as OperationOutcome needs one.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::validation::Outcome;
    /// let oo = Outcome::default().to_operation_outcome();
    /// assert_eq!(oo["issue"][0]["severity"], "information");
    /// ```
    pub fn to_operation_outcome(&self) -> Value {
        let mut issues: Vec<Value> = self
            .issues
            .iter()
            .map(|i| {
                json!({
                    "severity": i.severity.code(),
                    "code": i.code,
                    "details": {"text": i.message},
                    "expression": [i.expression]
                })
            })
            .collect();
        if issues.is_empty() {
            issues.push(json!({"severity": "information", "code": "informational", "details": {"text": "No issues found"}}));
        }
        json!({"resourceType": "OperationOutcome", "issue": issues})
    }
}

/// An issue at `path`, for the modules that build issues by hand.
pub(super) fn issue(
    severity: Severity,
    code: &'static str,
    path: &str,
    message: impl Into<String>,
) -> Issue {
    Issue {
        severity,
        code,
        expression: path.to_string(),
        message: message.into(),
    }
}
