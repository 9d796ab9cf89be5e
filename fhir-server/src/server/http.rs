//! HTTP conventions at the edge: turning an HTTP request into the
//! interaction layer's [`Request`], negotiating the response format
//! (`_format`, then `Accept`), and writing an [`Answer`] or [`Failure`]
//! as a response (`ETag`, `Last-Modified`, `Location`, the body in JSON or
//! XML). No FHIR interaction rule lives here.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use fhir_core::format::{self, Format};
use serde_json::Value;

use crate::interaction::request::{fhir_format, query_pairs, split_path};
use crate::interaction::{Answer, Body, Content, Failure, FailureKind, Headers, Method, Request};

/// The format a response should have: from `_format`, else `Accept`, else
/// JSON.
///
/// # Errors
/// 406 when the client accepts neither FHIR format.
pub fn negotiate(headers: &HeaderMap, query: &[(String, String)]) -> Result<Format, Failure> {
    if let Some((_, f)) = query.iter().find(|(k, _)| k == "_format") {
        return match f.as_str() {
            "json" => Ok(Format::Json),
            "xml" => Ok(Format::Xml),
            other => fhir_format(other).ok_or_else(|| {
                Failure::new(
                    FailureKind::NotAcceptable,
                    "not-supported",
                    format!("_format={other} is not supported: use json or xml"),
                )
            }),
        };
    }
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(Format::Json);
    };
    // RFC 9110 §12.5.1: the acceptable range of the highest quality wins
    // (the first of equals); q=0 means "not this". FHIR's `fhirVersion`
    // parameter (http §3.1.0.1.5): a version other than R4's is not
    // acceptable here.
    let mut best: Option<(Format, f32)> = None;
    let mut other_version = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        let mut version_ok = true;
        for param in parts {
            let (k, v) = param.split_once('=').unwrap_or((param, ""));
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "q" => q = v.parse().unwrap_or(0.0),
                "fhirversion" if !(v == "4.0" || v.starts_with("4.0.")) => {
                    version_ok = false;
                    other_version = Some(v.to_string());
                }
                _ => {}
            }
        }
        let format = match mime.as_str() {
            "*/*" | "application/*" | "" => Some(Format::Json),
            m => fhir_format(m),
        };
        if let Some(f) = format.filter(|_| version_ok && q > 0.0) {
            if best.is_none_or(|(_, bq)| q > bq) {
                best = Some((f, q));
            }
        }
    }
    match (best, other_version) {
        (Some((f, _)), _) => Ok(f),
        (None, Some(v)) => Err(Failure::new(
            FailureKind::NotAcceptable,
            "not-supported",
            format!("Accept asks for FHIR version {v}; this server speaks FHIR R4 (fhirVersion=4.0) only"),
        )),
        (None, None) => Err(Failure::new(
            FailureKind::NotAcceptable,
            "not-supported",
            format!("Accept: {accept} names no format this server writes (application/fhir+json, application/fhir+xml)"),
        )),
    }
}

/// The interaction layer's request for an HTTP request.
///
/// # Errors
/// 400 for an undecodable path or query, 405 for a method FHIR does not use.
pub fn request(
    method: &axum::http::Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Request, Failure> {
    let target = uri.path_and_query().map(|p| p.as_str().len()).unwrap_or(0);
    if target > super::MAX_URL {
        return Err(Failure::new(
            FailureKind::UriTooLong,
            "too-costly",
            format!(
                "the URL is {target} bytes; this server takes at most {} (send a long search as POST [type]/_search)",
                super::MAX_URL
            ),
        ));
    }
    let method = Method::parse(method.as_str()).ok_or_else(|| {
        Failure::method_not_allowed(
            format!("{method} is not a method of FHIR's RESTful API"),
            "GET, HEAD, POST, PUT, PATCH, DELETE".into(),
        )
    })?;
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Ok(Request {
        method,
        path: split_path(uri.path())?,
        query: query_pairs(uri.query().unwrap_or(""))?,
        headers: Headers {
            if_match: text(header::IF_MATCH),
            if_none_match: text(header::IF_NONE_MATCH),
            if_none_exist: text(header::HeaderName::from_static("if-none-exist")),
            if_modified_since: text(header::IF_MODIFIED_SINCE),
            prefer: text(header::HeaderName::from_static("prefer")),
            content_type: text(header::CONTENT_TYPE),
        },
        body: (!body.is_empty()).then_some(Body::Bytes(body)),
    })
}

const JSON_MIME: &str = "application/fhir+json; charset=utf-8";
const XML_MIME: &str = "application/fhir+xml; charset=utf-8";

/// A body in `fmt`: the text and its MIME type.
fn body_text(body: &Content, fmt: Format) -> Result<Option<(String, &'static str)>, Failure> {
    let value = match (body, fmt) {
        (Content::Empty, _) => return Ok(None),
        (Content::Stored(t), Format::Json) => return Ok(Some((t.to_string(), JSON_MIME))),
        (Content::Resource(v), Format::Json) => return Ok(Some((v.to_string(), JSON_MIME))),
        (Content::Stored(t), Format::Xml) => {
            serde_json::from_str::<Value>(t).map_err(Failure::internal)?
        }
        (Content::Resource(v), Format::Xml) => v.clone(),
        // Sent as bytes by `answer`; never a FHIR body.
        (Content::Other { .. }, _) => return Ok(None),
    };
    match format::write(&value, Format::Xml, false) {
        Ok(x) => Ok(Some((x, XML_MIME))),
        Err(e) => {
            tracing::error!(error = %e, "writing XML");
            Err(Failure::new(
                FailureKind::NotAcceptable,
                "not-supported",
                "this resource cannot be written as FHIR XML; ask for JSON",
            ))
        }
    }
}

fn with_body(status: StatusCode, body: Option<(String, &'static str)>) -> Response {
    match body {
        Some((text, mime)) => {
            let mut r = (status, text).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            r
        }
        None => status.into_response(),
    }
}

/// An answer as a response in `fmt`; `base` makes its location absolute.
pub fn answer(a: Answer, fmt: Format, base: &str) -> Response {
    let mut response = match &a.body {
        Content::Other { media_type, bytes } => {
            let mut r = (a.status, bytes.clone()).into_response();
            if let Ok(v) = HeaderValue::from_str(media_type) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r
        }
        _ => match body_text(&a.body, fmt) {
            Ok(b) => with_body(a.status, b),
            Err(f) => return failure(f, fmt),
        },
    };
    let h = response.headers_mut();
    for (name, value) in &a.headers {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            h.insert(n, v);
        }
    }
    if let Some(v) = &a.version {
        if let Ok(etag) = HeaderValue::from_str(&format!("W/\"{}\"", v.id)) {
            h.insert(header::ETAG, etag);
        }
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&v.last_updated) {
            let date = t
                .with_timezone(&chrono::Utc)
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string();
            if let Ok(d) = HeaderValue::from_str(&date) {
                h.insert(header::LAST_MODIFIED, d);
            }
        }
    }
    if let Some(l) = &a.location {
        if let Ok(loc) = HeaderValue::from_str(&format!("{base}/{l}")) {
            h.insert(header::LOCATION, loc);
        }
    }
    response
}

/// A failure as an OperationOutcome response in `fmt` (JSON when even the
/// OperationOutcome cannot be written as XML).
pub fn failure(f: Failure, fmt: Format) -> Response {
    let status = f.status();
    let unauthorized = f.kind == FailureKind::Unauthorized;
    let description = f.message().replace(['"', '\\'], "'");
    let body = Content::Resource(f.outcome);
    let text = body_text(&body, fmt)
        .or_else(|_| body_text(&body, Format::Json))
        .unwrap_or(None);
    let mut response = with_body(status, text);
    if let Some(allow) = f
        .allow
        .as_deref()
        .and_then(|a| HeaderValue::from_str(a).ok())
    {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        // RFC 9110 §10.2.3: when to come back.
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if unauthorized {
        // RFC 6750 §3: a 401 names the scheme (and why a token was refused).
        let challenge = if description.contains("token was refused") {
            format!("Bearer realm=\"carer-fhir\", error=\"invalid_token\", error_description=\"{description}\"")
        } else {
            "Bearer realm=\"carer-fhir\"".to_string()
        };
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    response
}

/// The conventions every FHIR answer follows, applied last: `Vary` (the
/// answer depends on `Accept`), `Preference-Applied` for the `Prefer`
/// preferences honoured (RFC 7240 §3), and `_pretty=true` (JSON indented;
/// FHIR http §3.1.0.1.7).
pub async fn finish(
    mut response: Response,
    method: &axum::http::Method,
    path: &str,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Response {
    // What a caller may see depends on its token, so no shared cache may
    // answer another caller with it.
    response.headers_mut().append(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization"),
    );
    let search = *method == axum::http::Method::GET || path.ends_with("/_search");
    if let Some(applied) = preferences_applied(&response, method, search, headers) {
        if let Ok(v) = HeaderValue::from_str(&applied) {
            response
                .headers_mut()
                .insert(header::HeaderName::from_static("preference-applied"), v);
        }
    }
    let pretty = query.iter().any(|(k, v)| k == "_pretty" && v == "true");
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/fhir+json"));
    // Indented only when small enough to read again here, outside the
    // request's memory budget.
    let small = axum::body::HttpBody::size_hint(response.body())
        .exact()
        .is_some_and(|n| n <= PRETTY_MAX);
    if !(pretty && json && small) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let text = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok());
    let mut response = Response::from_parts(
        parts,
        axum::body::Body::from(text.map_or(bytes, Bytes::from)),
    );
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

/// The largest answer `_pretty=true` indents (a larger one goes out as it
/// is).
const PRETTY_MAX: u64 = 8 * 1024 * 1024;

/// The preferences of the request's `Prefer` this answer honours: the
/// `return=` of a successful write, the `handling=` of a search (by GET
/// or `POST _search`), and `respond-async` when the answer is 202
/// Accepted.
fn preferences_applied(
    response: &Response,
    method: &axum::http::Method,
    search: bool,
    headers: &HeaderMap,
) -> Option<String> {
    let prefer = headers.get("prefer").and_then(|v| v.to_str().ok())?;
    let status = response.status();
    let mut applied: Vec<&str> = Vec::new();
    for p in prefer.split([',', ';']).map(str::trim) {
        let honoured = match p {
            "return=minimal" | "return=representation" | "return=OperationOutcome" => {
                status.is_success()
                    && !search
                    && matches!(
                        *method,
                        axum::http::Method::POST
                            | axum::http::Method::PUT
                            | axum::http::Method::PATCH
                    )
            }
            "handling=strict" | "handling=lenient" => search,
            "respond-async" => status == StatusCode::ACCEPTED,
            _ => false,
        };
        if honoured && !applied.contains(&p) {
            applied.push(p);
        }
    }
    (!applied.is_empty()).then(|| applied.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_that_is_not_fhir_goes_out_as_it_is_with_its_own_headers() {
        let a = Answer::other("application/fhir+ndjson", "{\"a\":1}\n{\"a\":2}\n")
            .with_header("X-Progress", "50%")
            .with_header("Bad Name", "ignored");
        let r = answer(a, Format::Xml, "http://127.0.0.1:8080");
        assert_eq!(r.status(), StatusCode::OK);
        let h = r.headers();
        assert_eq!(h[header::CONTENT_TYPE], "application/fhir+ndjson");
        assert_eq!(h["x-progress"], "50%");
        assert!(
            h.keys().all(|k| k.as_str() != "bad name"),
            "a name HTTP does not allow is left out: {h:?}"
        );
    }

    fn accept(value: &str) -> Result<Format, Failure> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        negotiate(&h, &[])
    }

    #[test]
    fn accept_is_read_by_quality_then_order_and_by_fhir_version() {
        assert_eq!(
            accept("application/fhir+xml;q=0.5, application/fhir+json").unwrap(),
            Format::Json
        );
        assert_eq!(
            accept("application/fhir+json;q=0.2, application/fhir+xml;q=0.9").unwrap(),
            Format::Xml
        );
        assert_eq!(
            accept("application/fhir+xml, application/fhir+json").unwrap(),
            Format::Xml
        );
        assert_eq!(accept("text/html, */*;q=0.1").unwrap(), Format::Json);
        assert_eq!(
            accept("application/fhir+xml;q=0, */*").unwrap(),
            Format::Json
        );
        assert_eq!(
            accept("application/fhir+json; fhirVersion=4.0").unwrap(),
            Format::Json
        );
        let f = accept("application/fhir+json; fhirVersion=5.0").unwrap_err();
        assert_eq!(f.kind, FailureKind::NotAcceptable);
        assert!(f.message().contains("5.0"), "{}", f.message());
        assert_eq!(
            accept("application/fhir+json;fhirVersion=3.0, application/fhir+xml;fhirVersion=4.0")
                .unwrap(),
            Format::Xml
        );
        assert_eq!(
            accept("text/html").unwrap_err().kind,
            FailureKind::NotAcceptable
        );
    }

    #[test]
    fn a_405_names_the_methods_the_path_takes() {
        let f = Failure::method_not_allowed("no", "GET, HEAD".into());
        let r = failure(f, Format::Json);
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
    }
}
