//! The error type of `fhir-core`'s reading and loading layer.
//!
//! Validation does not use this type: it collects [`crate::Location`]-carrying
//! issues rather than stopping at the first problem. This type is for
//! operations that cannot continue: unreadable input, an unloadable package.

use std::fmt;
use std::path::PathBuf;

/// Where in the input a problem is.
///
/// Every field is optional because not every source knows every coordinate:
/// XML parsing through fhirbolt, for instance, reports no line numbers for
/// model errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// FHIRPath-style path of the element, e.g. `Patient.name[0].given[1]`.
    pub path: Option<String>,
    /// 1-based line in the input text.
    pub line: Option<usize>,
    /// 1-based column in the input text.
    pub column: Option<usize>,
    /// The file the input came from, when it came from a file.
    pub file: Option<PathBuf>,
}

impl Location {
    /// A location that is only an element path.
    ///
    /// # Examples
    /// ```
    /// let l = fhir_core::Location::at_path("Patient.birthDate");
    /// assert_eq!(l.to_string(), "Patient.birthDate");
    /// ```
    pub fn at_path(path: impl Into<String>) -> Self {
        Location {
            path: Some(path.into()),
            ..Location::default()
        }
    }

    /// True when no coordinate is known.
    pub fn is_unknown(&self) -> bool {
        self.path.is_none() && self.line.is_none() && self.file.is_none()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(file) = &self.file {
            parts.push(file.display().to_string());
        }
        if let Some(path) = &self.path {
            parts.push(path.clone());
        }
        match (self.line, self.column) {
            (Some(l), Some(c)) => parts.push(format!("line {l}, column {c}")),
            (Some(l), None) => parts.push(format!("line {l}")),
            _ => {}
        }
        write!(f, "{}", parts.join(", "))
    }
}

/// What kind of failure an [`Error`] is.
///
/// # Examples
/// ```
/// use fhir_core::format::{parse, Format};
/// use fhir_core::ErrorKind;
/// assert_eq!(parse("{", Format::Json).unwrap_err().kind, ErrorKind::Syntax);
/// assert_eq!(parse(r#"{"resourceType": "Nope"}"#, Format::Json).unwrap_err().kind, ErrorKind::Structure);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes are not well-formed JSON or XML.
    Syntax,
    /// Well-formed, but not a FHIR R4 resource: unknown resource type,
    /// unknown element, wrong primitive type, array where one value belongs.
    Structure,
    /// The input format could not be told, or is not supported.
    Format,
    /// A file or folder could not be read or written.
    Io,
    /// A FHIR package is malformed (missing `package.json`, bad archive).
    Package,
    /// A resource could not be written in the requested format.
    Serialize,
    /// The input exceeds one of the limits in
    /// [`crate::format::limits`] (nesting depth, element or attribute
    /// count, string length); the message names the limit.
    Limit,
    /// A value breaks a rule of its type or profile: an NHS number whose
    /// check digit is wrong, a builder missing an element its profile
    /// requires.
    Invalid,
}

/// An error from reading, writing or loading FHIR content, with its location.
///
/// # Examples
/// ```
/// use fhir_core::format::{parse, Format};
/// let err = parse(r#"{"resourceType": "Patient", "birthDate": true}"#, Format::Json).unwrap_err();
/// assert_eq!(err.location.path.as_deref(), Some("Patient.birthDate"));
/// println!("{err}"); // the message with its location
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// A human-readable description, without the location.
    pub message: String,
    /// Where the problem is.
    pub location: Location,
}

impl Error {
    /// Builds an error with no location yet.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            location: Location::default(),
        }
    }

    /// Adds the file the input came from.
    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.location.file = Some(file.into());
        self
    }

    /// Wraps an I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, err: &std::io::Error) -> Self {
        let path = path.into();
        Error::new(ErrorKind::Io, format!("{}: {err}", path.display())).in_file(path)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_unknown() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;
