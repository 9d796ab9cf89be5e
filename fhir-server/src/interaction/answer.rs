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
}

impl Content {
    /// The body as JSON, parsing stored text when needed.
    pub fn to_value(&self) -> Option<Value> {
        match self {
            Content::Empty => None,
            Content::Resource(v) => Some(v.clone()),
            Content::Stored(t) => serde_json::from_str(t).ok(),
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
}

impl Answer {
    /// 200 with a body.
    pub fn ok(body: Value) -> Answer {
        Answer {
            status: StatusCode::OK,
            body: Content::Resource(body),
            version: None,
            location: None,
            patients: Vec::new(),
            audited: false,
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
        }
    }
}

fn version_of(s: &Stored) -> Version {
    Version {
        id: s.version,
        last_updated: s.last_updated.clone(),
    }
}
