//! What a successful interaction answers: a status, the body, and the
//! version and location the HTTP edge turns into `ETag`,
//! `Last-Modified` and `Location` (and a Bundle entry into its
//! `response`).

use std::sync::Arc;

use http::StatusCode;
use serde_json::{json, Value};

use super::request::Return;
use crate::store::Stored;

/// An answer's body.
#[derive(Debug, Clone)]
pub enum Content {
    /// No body.
    Empty,
    /// A resource (or Bundle, or OperationOutcome) as JSON.
    Resource(Value),
    /// A stored resource's JSON text, answered as it is when the client
    /// wants JSON (no parse, no re-serialisation).
    Stored(Arc<str>),
    /// Content that is not a FHIR resource (NDJSON, CSV, HTML, SVG): sent
    /// as it is with its media type, whatever FHIR format was negotiated.
    Other {
        /// Its media type (`application/fhir+ndjson`, `text/csv`, …).
        media_type: String,
        /// The bytes.
        bytes: bytes::Bytes,
    },
}

impl Content {
    /// The body as JSON, parsing stored text when needed.
    pub fn to_value(&self) -> Option<Value> {
        match self {
            Content::Empty => None,
            Content::Resource(v) => Some(v.clone()),
            Content::Stored(t) => serde_json::from_str(t).ok(),
            Content::Other { .. } => None,
        }
    }
}

/// The version of a resource an answer concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// `meta.versionId`.
    pub id: i64,
    /// `meta.lastUpdated` (an instant).
    pub last_updated: String,
}

/// A successful interaction's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status (200, 201, 204, 304).
    pub status: StatusCode,
    /// The body.
    pub body: Content,
    /// The version concerned (ETag, Last-Modified).
    pub version: Option<Version>,
    /// Where the resource now is, relative to the base
    /// (`Patient/1/_history/2`).
    pub location: Option<String>,
    /// The Patients whose data the answer holds (for the audit).
    pub patients: Vec<String>,
    /// Whether its AuditEvent was written with it (in its transaction).
    pub audited: bool,
    /// Headers of its own (`Content-Location` of an asynchronous request,
    /// `Retry-After`, `X-Progress`, `Content-Disposition`, …), sent as
    /// they are; names or values HTTP does not allow are left out.
    pub headers: Vec<(String, String)>,
}

impl Answer {
    /// 200 with content that is not a FHIR resource.
    ///
    /// ```
    /// use fhir_server::interaction::{Answer, Content};
    /// let a = Answer::other("text/csv", "a,b\n1,2\n")
    ///     .with_header("Content-Disposition", "attachment; filename=\"x.csv\"");
    /// assert!(matches!(a.body, Content::Other { .. }));
    /// ```
    pub fn other(media_type: &str, bytes: impl Into<bytes::Bytes>) -> Answer {
        let mut a = Answer::empty(StatusCode::OK);
        a.body = Content::Other {
            media_type: media_type.to_string(),
            bytes: bytes.into(),
        };
        a
    }

    /// The answer with one more header of its own.
    pub fn with_header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// 200 with a body.
    pub fn ok(body: Value) -> Answer {
        Answer {
            status: StatusCode::OK,
            body: Content::Resource(body),
            version: None,
            location: None,
            patients: Vec::new(),
            audited: false,
            headers: Vec::new(),
        }
    }

    /// 200 with a stored resource, its version in the headers.
    pub fn stored(s: &Stored) -> Answer {
        Answer {
            status: StatusCode::OK,
            body: s
                .content
                .clone()
                .map(Content::Stored)
                .unwrap_or(Content::Empty),
            version: Some(version_of(s)),
            location: None,
            patients: s.compartments.clone(),
            audited: false,
            headers: Vec::new(),
        }
    }

    /// The answer to a write of `s`: its version, location, and the body
    /// `Prefer: return=` asks for.
    pub fn written(s: &Stored, status: StatusCode, prefer: Return) -> Answer {
        let body = match prefer {
            Return::Minimal => Content::Empty,
            Return::OperationOutcome => Content::Resource(json!({
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "information", "code": "informational",
                    "diagnostics": format!("{}/{} version {} stored", s.resource_type, s.id, s.version)}]
            })),
            Return::Representation => s
                .content
                .clone()
                .map(Content::Stored)
                .unwrap_or(Content::Empty),
        };
        Answer {
            status,
            body,
            version: Some(version_of(s)),
            location: Some(format!(
                "{}/{}/_history/{}",
                s.resource_type, s.id, s.version
            )),
            patients: s.compartments.clone(),
            audited: false,
            headers: Vec::new(),
        }
    }

    /// An answer with no body.
    pub fn empty(status: StatusCode) -> Answer {
        Answer {
            status,
            body: Content::Empty,
            version: None,
            location: None,
            patients: Vec::new(),
            audited: false,
            headers: Vec::new(),
        }
    }
}

fn version_of(s: &Stored) -> Version {
    Version {
        id: s.version,
        last_updated: s.last_updated.clone(),
    }
}
