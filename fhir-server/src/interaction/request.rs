//! A FHIR request as the interaction layer sees it, whatever carried it
//! (an HTTP request, or an entry of a batch or transaction Bundle):
//! method, path relative to the base, query, the headers FHIR gives
//! meaning to, and the body.

use std::sync::Arc;

use fhir_core::format::{self, Format};
use serde_json::Value;

use super::{Failure, FailureKind};

/// The methods of FHIR's RESTful API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET (and HEAD, answered without a body by the HTTP edge).
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Method {
    /// Parses a method name (`GET`, `POST`, …; `HEAD` reads as GET).
    pub fn parse(name: &str) -> Option<Method> {
        Some(match name {
            "GET" | "HEAD" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => return None,
        })
    }

    /// The method's name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// The request headers FHIR gives meaning to (for a Bundle entry: its
/// `request.ifMatch`, `ifNoneMatch`, `ifNoneExist`, `ifModifiedSince`).
#[derive(Debug, Clone, Default)]
pub struct Headers {
    /// `If-Match`.
    pub if_match: Option<String>,
    /// `If-None-Match`.
    pub if_none_match: Option<String>,
    /// `If-None-Exist`.
    pub if_none_exist: Option<String>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<String>,
    /// `Prefer`.
    pub prefer: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// Bytes as sent, to be read by their content type.
    Bytes(bytes::Bytes),
    /// A resource already read (a Bundle entry's).
    Resource(Value),
}

/// One FHIR request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path after the base, without a leading slash, its segments
    /// percent-decoded (`Patient/1/_history`).
    pub path: Vec<String>,
    /// The query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers FHIR uses.
    pub headers: Headers,
    /// The body, if any.
    pub body: Option<Body>,
}

impl Request {
    /// A request for `url` (`Patient/1?_elements=name`, relative to the
    /// base, as a Bundle entry's `request.url` is).
    ///
    /// # Errors
    /// 400 when the query or a path segment cannot be decoded.
    pub fn from_url(method: Method, url: &str) -> Result<Request, Failure> {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        Ok(Request {
            method,
            path: split_path(path)?,
            query: query_pairs(query)?,
            headers: Headers::default(),
            body: None,
        })
    }
}

/// The segments of a path, percent-decoded.
///
/// # Errors
/// 400 when a segment does not decode to UTF-8.
pub fn split_path(path: &str) -> Result<Vec<String>, Failure> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| {
                    Failure::invalid(format!(
                        "the path segment {s:?} is not percent-encoded UTF-8"
                    ))
                })
        })
        .collect()
}

/// The query string as pairs.
///
/// # Errors
/// 400 when it is malformed.
pub fn query_pairs(q: &str) -> Result<Vec<(String, String)>, Failure> {
    let q = q.trim_start_matches('?');
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q)
        .map_err(|e| Failure::invalid(format!("the query string is malformed: {e}")))?;
    // Parameter values are FHIR strings, which "SHALL NOT contain Unicode
    // character points below 32, except for u0009, u000D and u000A"
    // (datatypes.html#string); NUL in particular no store can hold.
    let control = |s: &str| {
        s.chars()
            .any(|c| c < ' ' && !matches!(c, '\t' | '\r' | '\n'))
    };
    if let Some((name, _)) = pairs.iter().find(|(n, v)| control(n) || control(v)) {
        return Err(Failure::invalid(format!(
            "the parameter '{}' holds a control character, which FHIR strings may not",
            name.escape_default()
        )));
    }
    Ok(pairs)
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

/// The `Prefer` header's `return` and `handling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prefer {
    /// `return=`.
    pub return_: Return,
    /// `handling=strict`.
    pub strict: bool,
}

impl Prefer {
    /// Reads a `Prefer` header value.
    pub fn parse(header: Option<&str>) -> Prefer {
        let mut p = Prefer::default();
        for part in header.unwrap_or("").split([',', ';']) {
            match part.trim() {
                "return=minimal" => p.return_ = Return::Minimal,
                "return=OperationOutcome" => p.return_ = Return::OperationOutcome,
                "return=representation" => p.return_ = Return::Representation,
                "handling=strict" => p.strict = true,
                "handling=lenient" => p.strict = false,
                _ => {}
            }
        }
        p
    }
}

/// The version an `If-Match` value asks for (`W/"3"` or `3`).
///
/// # Errors
/// 400 when it is not a version.
pub fn parse_if_match(value: Option<&str>) -> Result<Option<i64>, Failure> {
    let Some(s) = value else { return Ok(None) };
    let s = s.trim();
    s.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|_| {
            Failure::invalid(format!(
                "If-Match: {s:?} is not a version ETag such as W/\"3\""
            ))
        })
}

/// The FHIR format of a MIME type, if it is one.
pub fn fhir_format(mime: &str) -> Option<Format> {
    let mime = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/fhir+json" | "application/json" | "application/json+fhir" => {
            Some(Format::Json)
        }
        "application/fhir+xml" | "application/xml" | "text/xml" | "application/xml+fhir" => {
            Some(Format::Xml)
        }
        _ => None,
    }
}

/// Reads a body as a resource in the format its content type names (JSON
/// when none is given).
///
/// # Errors
/// 415 for a content type that is not a FHIR format, 400 for malformed
/// content or a body that is not a resource.
pub fn read_resource(content_type: Option<&str>, body: &Body) -> Result<Value, Failure> {
    let bytes = match body {
        Body::Resource(v) => return check_resource(v.clone()),
        Body::Bytes(b) => b,
    };
    let ctype = content_type.unwrap_or("application/fhir+json");
    let fmt = fhir_format(ctype).ok_or_else(|| {
        Failure::new(
            FailureKind::UnsupportedMediaType,
            "not-supported",
            format!(
                "Content-Type {} is not a FHIR format: send application/fhir+json or application/fhir+xml",
                ctype.split(';').next().unwrap_or("").trim()
            ),
        )
    })?;
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Failure::invalid(format!("the body is not UTF-8: {e}")))?;
    if text.trim().is_empty() {
        return Err(Failure::invalid(
            "the request has no body; a resource was expected",
        ));
    }
    let value = format::parse(text, fmt).map_err(|e| {
        // A body beyond one of `fhir_core::format::limits` is refused as
        // too costly, with the limit named in the message.
        let code = if e.kind == fhir_core::error::ErrorKind::Limit {
            "too-costly"
        } else {
            "structure"
        };
        Failure::new(
            FailureKind::Invalid,
            code,
            format!("the body is not a valid FHIR resource: {}", e.message),
        )
        .at(e.location.path.as_deref())
    })?;
    check_resource(value)
}

fn check_resource(value: Value) -> Result<Value, Failure> {
    if value.get("resourceType").and_then(Value::as_str).is_none() {
        return Err(Failure::new(
            FailureKind::Invalid,
            "structure",
            "the body is not a FHIR resource: it has no resourceType",
        ));
    }
    format::check_no_empty_arrays(&value).map_err(|e| {
        Failure::new(
            FailureKind::Invalid,
            "structure",
            format!("the body is not valid FHIR JSON: {}", e.message),
        )
        .at(e.location.path.as_deref())
    })?;
    Ok(value)
}

/// A shared, read-only resource (a Bundle's entries are taken apart once).
pub type Shared = Arc<Value>;
