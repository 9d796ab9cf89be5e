//! HTTP conventions: format negotiation (`_format`, `Accept`,
//! `Content-Type`), `Prefer`, reading bodies, and writing resources and
//! errors in the client's format.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fhir_core::format::{self, Format};
use serde_json::Value;

use super::ApiError;

/// The format a response should have: from `_format`, else `Accept`, else
/// JSON.
///
/// # Errors
/// 406 when the client accepts neither FHIR format.
pub fn negotiate(headers: &HeaderMap, query: &[(String, String)]) -> Result<Format, ApiError> {
    if let Some((_, f)) = query.iter().find(|(k, _)| k == "_format") {
        return match f.as_str() {
            "json" | "application/json" | "application/fhir+json" => Ok(Format::Json),
            "xml" | "text/xml" | "application/xml" | "application/fhir+xml" => Ok(Format::Xml),
            other => Err(ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "not-supported",
                format!("_format={other} is not supported: use json or xml"),
            )),
        };
    }
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(Format::Json);
    };
    let mut any = false;
    for part in accept.split(',') {
        let mime = part
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/fhir+json" | "application/json" | "application/json+fhir" => {
                return Ok(Format::Json)
            }
            "application/fhir+xml" | "application/xml" | "text/xml" | "application/xml+fhir" => {
                return Ok(Format::Xml)
            }
            "*/*" | "application/*" | "" => any = true,
            _ => {}
        }
    }
    if any {
        Ok(Format::Json)
    } else {
        Err(ApiError::new(StatusCode::NOT_ACCEPTABLE, "not-supported", format!("Accept: {accept} names no format this server writes (application/fhir+json, application/fhir+xml)")))
    }
}

/// What a `Prefer` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Return {
    /// The resource (the default).
    #[default]
    Representation,
    /// No body.
    Minimal,
    /// An OperationOutcome.
    OperationOutcome,
}

/// `Prefer: return=…`.
pub fn prefer_return(headers: &HeaderMap) -> Return {
    let prefer = headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for part in prefer.split([',', ';']) {
        match part.trim() {
            "return=minimal" => return Return::Minimal,
            "return=OperationOutcome" => return Return::OperationOutcome,
            "return=representation" => return Return::Representation,
            _ => {}
        }
    }
    Return::Representation
}

/// `Prefer: handling=strict`.
pub fn prefer_strict(headers: &HeaderMap) -> bool {
    headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.contains("handling=strict"))
}

/// Reads a request body as a resource.
///
/// # Errors
/// 415 for another content type, 400 for malformed content or a body that
/// is not a resource.
pub fn read_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/fhir+json");
    let mime = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let fmt = match mime.as_str() {
        "application/fhir+json" | "application/json" | "application/json+fhir" => Format::Json,
        "application/fhir+xml" | "application/xml" | "text/xml" | "application/xml+fhir" => {
            Format::Xml
        }
        other => {
            return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "not-supported", format!("Content-Type {other} is not a FHIR format: send application/fhir+json or application/fhir+xml")));
        }
    };
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not UTF-8: {e}")))?;
    if text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "the request has no body; a resource was expected",
        ));
    }
    let value: Value = match fmt {
        Format::Json => serde_json::from_str(text).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "structure",
                format!("the body is not valid JSON: {e}"),
            )
        })?,
        Format::Xml => format::parse(text, Format::Xml).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "structure",
                format!("the body is not a valid FHIR XML resource: {e}"),
            )
        })?,
    };
    if value.get("resourceType").and_then(Value::as_str).is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "structure",
            "the body is not a FHIR resource: it has no resourceType",
        ));
    }
    format::check_no_empty_arrays(&value).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "structure",
            format!("the body is not valid FHIR JSON: {}", e.message),
        )
        .at(e.location.path.as_deref())
    })?;
    Ok(value)
}

/// A response with a resource (or OperationOutcome, or Bundle) in `fmt`.
pub fn respond(
    status: StatusCode,
    body: &Value,
    fmt: Format,
    extra: &[(header::HeaderName, String)],
) -> Response {
    let (text, mime) = match fmt {
        Format::Json => (body.to_string(), "application/fhir+json; charset=utf-8"),
        Format::Xml => match format::write(body, Format::Xml, false) {
            Ok(x) => (x, "application/fhir+xml; charset=utf-8"),
            Err(e) => {
                tracing::error!(error = %e, "writing XML");
                (body.to_string(), "application/fhir+json; charset=utf-8")
            }
        },
    };
    let mut response = (status, text).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name.clone(), v);
        }
    }
    response
}

/// A response with no body.
pub fn empty(status: StatusCode, extra: &[(header::HeaderName, String)]) -> Response {
    let mut response = status.into_response();
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            response.headers_mut().insert(name.clone(), v);
        }
    }
    response
}

/// An error as an OperationOutcome in `fmt`.
pub fn error(e: ApiError, fmt: Format) -> Response {
    respond(e.status, &e.outcome, fmt, &[])
}

/// `ETag`, `Last-Modified` (HTTP date) for a version.
pub fn version_headers(version: i64, last_updated: &str) -> Vec<(header::HeaderName, String)> {
    let mut h = vec![(header::ETAG, format!("W/\"{version}\""))];
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(last_updated) {
        h.push((
            header::LAST_MODIFIED,
            t.with_timezone(&chrono::Utc)
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        ));
    }
    h
}

/// The version an `If-Match` header asks for (`W/"3"` or `3`).
///
/// # Errors
/// 400 when it is not a version.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("").trim();
    let digits = s.trim_start_matches("W/").trim_matches('"');
    digits.parse().map(Some).map_err(|_| {
        ApiError::bad_request(format!(
            "If-Match: {s:?} is not a version ETag such as W/\"3\""
        ))
    })
}
