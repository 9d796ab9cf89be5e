//! Why an interaction failed: a kind, from which the HTTP status is decided
//! in one place ([`FailureKind::status`]), and the OperationOutcome the
//! client gets.

use http::StatusCode;
use serde_json::{json, Value};

use crate::search::SearchError;
use crate::store::StoreError;

/// The kinds of failure, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// 400: the request is malformed.
    Invalid,
    /// 401: no usable credentials.
    Unauthorized,
    /// 403: the caller may not do this.
    Forbidden,
    /// 404: no such resource, endpoint or type (also what a caller sees of
    /// a resource it may not see).
    NotFound,
    /// 405: a known endpoint, but not with this method.
    MethodNotAllowed,
    /// 406: no format the client accepts.
    NotAcceptable,
    /// 408: the request took longer than its time budget.
    Timeout,
    /// 409: a conflict with the stored state (a race lost).
    Conflict,
    /// 410: the resource was deleted.
    Gone,
    /// 412: a precondition failed (`If-Match`, multiple conditional matches).
    PreconditionFailed,
    /// 413: the body is too large.
    TooLarge,
    /// 414: the URL is too long.
    UriTooLong,
    /// 415: the body's content type is not a FHIR format.
    UnsupportedMediaType,
    /// 422: the content is well formed but not acceptable (invalid).
    Unprocessable,
    /// 429: too many requests.
    TooManyRequests,
    /// 500: our failure, never the client's.
    Internal,
    /// 503: the server is too busy (the database, a queue) to answer now.
    Unavailable,
}

impl FailureKind {
    /// The HTTP status of this kind of failure: the one place it is decided.
    pub fn status(self) -> StatusCode {
        match self {
            FailureKind::Invalid => StatusCode::BAD_REQUEST,
            FailureKind::Unauthorized => StatusCode::UNAUTHORIZED,
            FailureKind::Forbidden => StatusCode::FORBIDDEN,
            FailureKind::NotFound => StatusCode::NOT_FOUND,
            FailureKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            FailureKind::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            FailureKind::Timeout => StatusCode::REQUEST_TIMEOUT,
            FailureKind::Conflict => StatusCode::CONFLICT,
            FailureKind::Gone => StatusCode::GONE,
            FailureKind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            FailureKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            FailureKind::UriTooLong => StatusCode::URI_TOO_LONG,
            FailureKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            FailureKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            FailureKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            FailureKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            FailureKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A failed interaction: its kind and the OperationOutcome to answer.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong, which decides the status.
    pub kind: FailureKind,
    /// The OperationOutcome.
    pub outcome: Value,
    /// For 405: the methods the path does take (the `Allow` header).
    pub allow: Option<String>,
}

impl Failure {
    /// One error issue: `code` is the IssueType code (`invalid`,
    /// `not-found`, `multiple-matches`, …).
    pub fn new(kind: FailureKind, code: &str, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            outcome: json!({"resourceType": "OperationOutcome", "issue": [{
                "severity": "error", "code": code, "diagnostics": message.into()
            }]}),
            allow: None,
        }
    }

    /// 405 `not-supported`: the path does not take this method; `allow`
    /// lists those it does (`GET, HEAD, PUT`), sent as `Allow`
    /// (RFC 9110 §15.5.6).
    pub fn method_not_allowed(message: impl Into<String>, allow: String) -> Failure {
        let mut f = Failure::new(FailureKind::MethodNotAllowed, "not-supported", message);
        f.allow = Some(allow);
        f
    }

    /// The same failure located at `path` (a FHIRPath expression).
    pub fn at(mut self, path: Option<&str>) -> Failure {
        if let Some(p) = path {
            if let Some(issue) = self.outcome["issue"].get_mut(0) {
                issue["expression"] = json!([p]);
            }
        }
        self
    }

    /// 400 `invalid`.
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(FailureKind::Invalid, "invalid", message)
    }

    /// 404 `not-found`.
    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure::new(FailureKind::NotFound, "not-found", message)
    }

    /// 412 `multiple-matches`: conditional criteria that match more than
    /// one resource.
    pub fn multiple_matches(what: &str) -> Failure {
        Failure::new(
            FailureKind::PreconditionFailed,
            "multiple-matches",
            format!("{what} matches more than one resource; it must match at most one"),
        )
    }

    /// A failure with a validator's (or another) OperationOutcome.
    pub fn with_outcome(kind: FailureKind, outcome: Value) -> Failure {
        Failure {
            kind,
            outcome,
            allow: None,
        }
    }

    /// 500: our failure. The cause is logged; the client is told only that
    /// the server failed (the request id in the response headers lets an
    /// operator find the log line).
    pub fn internal(cause: impl std::fmt::Display) -> Failure {
        tracing::error!(error = %cause, "internal error");
        Failure::new(
            FailureKind::Internal,
            "exception",
            "the server failed; the error is in its log",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The first issue's diagnostics, for logs and tests.
    pub fn message(&self) -> &str {
        self.outcome["issue"][0]["diagnostics"]
            .as_str()
            .unwrap_or("")
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound(_) => Failure::not_found(e.to_string()),
            StoreError::Gone { .. } => Failure::new(FailureKind::Gone, "deleted", e.to_string()),
            StoreError::VersionConflict { .. } => {
                Failure::new(FailureKind::PreconditionFailed, "conflict", e.to_string())
            }
            StoreError::Conflict(_) => {
                Failure::new(FailureKind::Conflict, "conflict", e.to_string())
            }
            StoreError::Busy(_) => {
                tracing::warn!(error = %e, "database busy");
                Failure::new(
                    FailureKind::Unavailable,
                    "transient",
                    "the database is busy; retry shortly",
                )
            }
            StoreError::Unavailable(_) => {
                tracing::error!(error = %e, "database unavailable");
                Failure::new(
                    FailureKind::Unavailable,
                    "transient",
                    "the database cannot be reached or cannot store data now; nothing was written; retry shortly",
                )
            }
            StoreError::Database(_) => Failure::internal(e),
            StoreError::Unsupported(_) => {
                Failure::new(FailureKind::Invalid, "not-supported", e.to_string())
            }
        }
    }
}

impl From<SearchError> for Failure {
    fn from(e: SearchError) -> Self {
        match &e {
            SearchError::UnknownParameter { .. } | SearchError::Unsupported { .. } => {
                Failure::new(FailureKind::Invalid, "not-supported", e.to_string())
            }
            SearchError::Limit { .. } => {
                Failure::new(FailureKind::Invalid, "too-costly", e.to_string())
            }
            _ => Failure::invalid(e.to_string()),
        }
    }
}
