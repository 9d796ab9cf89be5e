//! The HTTP edge's error: every failure becomes an OperationOutcome with the
//! status the FHIR HTTP specification gives it.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::store::StoreError;

/// An error answered with an OperationOutcome.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The OperationOutcome.
    pub outcome: Value,
}

impl ApiError {
    /// One issue: `code` is the IssueType code (`invalid`, `not-found`, …).
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            outcome: json!({"resourceType": "OperationOutcome", "issue": [{
                "severity": "error", "code": code, "diagnostics": message.into()
            }]}),
        }
    }

    /// The same error located at `path` (a FHIRPath expression), when known.
    pub fn at(mut self, path: Option<&str>) -> Self {
        if let Some(p) = path {
            self.outcome["issue"][0]["expression"] = json!([p]);
        }
        self
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", message)
    }

    /// 422 (or another status) with a validator's OperationOutcome.
    pub fn with_outcome(status: StatusCode, outcome: Value) -> Self {
        ApiError { status, outcome }
    }

    /// 500: our failure, never the client's. The message is logged; the
    /// client gets a request id to quote.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        tracing::error!(error = %message, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            "the server failed; the error is in its log",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound(_) => ApiError::not_found(e.to_string()),
            StoreError::Gone { .. } => ApiError::new(StatusCode::GONE, "deleted", e.to_string()),
            StoreError::VersionConflict { .. } => {
                ApiError::new(StatusCode::PRECONDITION_FAILED, "conflict", e.to_string())
            }
            StoreError::Conflict(_) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            StoreError::Database(_) => ApiError::internal(e),
        }
    }
}
