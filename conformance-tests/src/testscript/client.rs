//! One HTTP exchange with the server under test: the request as sent and
//! the response as received, with the body read as a FHIR resource when it
//! is one.

use std::time::{Duration, Instant};

use fhir_core::format::{self, Format};
use serde_json::Value;

/// A request as sent.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method, upper case.
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Headers sent (besides those the HTTP library adds).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Option<Vec<u8>>,
}

/// A response as received.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The body read as a FHIR resource (JSON form), when it is one.
    pub resource: Option<Value>,
    /// Why the body is not a resource, when it is not empty and not one.
    pub resource_error: Option<String>,
    /// Time from sending to the whole body.
    pub elapsed: Duration,
}

/// The first value of header `name` (any case) in `headers`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads a body as a FHIR resource by its content type (or its first
/// character): `Ok(None)` for an empty body.
pub fn read_resource(body: &[u8], content_type: Option<&str>) -> Result<Option<Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let text = std::str::from_utf8(body).map_err(|e| format!("the body is not UTF-8: {e}"))?;
    let format = content_type
        .and_then(Format::from_mime)
        .or_else(|| Format::sniff(text))
        .ok_or_else(|| "the body is neither FHIR JSON nor FHIR XML".to_string())?;
    format::parse(text, format)
        .map(Some)
        .map_err(|e| format!("the body is not a FHIR resource: {e}"))
}

/// Sends requests to one server, adding the run's own headers to each.
pub struct Client {
    http: reqwest::blocking::Client,
    extra_headers: Vec<(String, String)>,
}

impl Client {
    /// A client that adds `extra_headers` (e.g. `Authorization`) to every
    /// request and gives up on a request after `timeout`.
    ///
    /// # Errors
    /// When the HTTP library cannot be set up.
    pub fn new(extra_headers: Vec<(String, String)>, timeout: Duration) -> anyhow::Result<Client> {
        let http = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Client {
            http,
            extra_headers,
        })
    }

    /// Sends `request` and reads the whole response.
    ///
    /// # Errors
    /// A message when the request cannot be made or the response read
    /// (connection refused, timeout, bad URL); HTTP error statuses are
    /// responses, not errors.
    pub fn send(&self, request: &Request) -> Result<Response, String> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| format!("`{}` is not an HTTP method", request.method))?;
        let url = reqwest::Url::parse(&request.url)
            .map_err(|e| format!("`{}` is not a URL: {e}", request.url))?;
        let mut builder = self.http.request(method, url);
        for (k, v) in self.extra_headers.iter().chain(&request.headers) {
            builder = builder.header(k, v);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let started = Instant::now();
        let response = builder
            .send()
            .map_err(|e| format!("{} {} failed: {e}", request.method, request.url))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .bytes()
            .map_err(|e| format!("reading the response to {} failed: {e}", request.url))?
            .to_vec();
        let elapsed = started.elapsed();
        let (resource, resource_error) =
            match read_resource(&body, header(&headers, "content-type")) {
                Ok(r) => (r, None),
                Err(e) => (None, Some(e)),
            };
        Ok(Response {
            status,
            headers,
            body,
            resource,
            resource_error,
            elapsed,
        })
    }
}
