//! batch — [FHIR R4 http §3.1.0.11](https://hl7.org/fhir/R4/http.html#transaction):
//! `POST [base]` with a Bundle of type `batch`. Each entry is a request
//! of its own, parsed and applied through the same interactions as a
//! request over HTTP (so the same rules, issue codes and limits apply),
//! each in its own store transaction; its answer or failure becomes the
//! entry of the `batch-response`. Batches and transactions inside a
//! batch are refused.

use serde_json::{json, Value};

use super::bundle::new_bundle;
use super::request::{Body, Headers};
use super::{Answer, Caller, Content, Failure, FailureKind, Interaction, Method, Request, Service};

/// The most entries a batch or transaction may have.
pub const MAX_ENTRIES: usize = 10_000;

/// A batch, parsed: each entry's request, or why it could not be read.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The entries, in order.
    pub entries: Vec<Result<Request, Failure>>,
}

impl Batch {
    /// Takes a batch Bundle apart into requests.
    ///
    /// # Errors
    /// 400 when the Bundle has more than [`MAX_ENTRIES`] entries.
    pub fn parse(bundle: Value) -> Result<Batch, Failure> {
        let entries = bundle_entries(&bundle)?;
        Ok(Batch {
            entries: entries.iter().map(entry_request).collect(),
        })
    }

    /// Applies each entry on its own.
    ///
    /// # Errors
    /// Never for an entry's failure (that is the entry's answer).
    pub async fn apply(self, svc: &Service, caller: &Caller) -> Result<Answer, Failure> {
        let mut out = Vec::with_capacity(self.entries.len());
        for entry in self.entries {
            let mut reads = false;
            let result = match (entry, super::budget::check()) {
                (Err(f), _) => Err(f),
                // A batch over its memory budget already: the rest of its
                // entries are refused before they run, each answered so.
                (Ok(_), Err(refused)) => Err(refused),
                (Ok(request), Ok(())) => {
                    reads = request.method == Method::Get;
                    let nested = request.method == Method::Post && request.path.is_empty();
                    if nested {
                        Err(Failure::invalid(
                            "a batch entry cannot itself be a batch or transaction",
                        ))
                    } else {
                        // Boxed: a batch is applied by the service that
                        // applies its entries.
                        Box::pin(svc.handle(caller, request)).await
                    }
                }
            };
            // What the entries answer is held until the whole batch is:
            // stored text read counts against the request's budget
            // (searches count their own). A write's answer is never
            // refused after it committed (its body was counted as sent).
            let result = result.and_then(|answer| match &answer.body {
                Content::Stored(text) if reads => {
                    super::budget::charge(text.len()).map(|()| answer)
                }
                _ => Ok(answer),
            });
            out.push(match result {
                Ok(answer) => response_entry(&answer, true),
                Err(f) => failure_entry(&f),
            });
        }
        Ok(Answer::ok(new_bundle("batch-response", out)))
    }
}

/// The entries of a batch or transaction Bundle.
///
/// # Errors
/// 400 above [`MAX_ENTRIES`].
pub fn bundle_entries(bundle: &Value) -> Result<Vec<Value>, Failure> {
    let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
    if entries.len() > MAX_ENTRIES {
        return Err(Failure::new(
            FailureKind::Invalid,
            "too-costly",
            format!(
                "the Bundle has {} entries; this server takes at most {MAX_ENTRIES} in one batch or transaction",
                entries.len()
            ),
        ));
    }
    Ok(entries)
}

/// The request an entry of a batch or transaction makes: `request.method`,
/// `request.url` (relative to the base), its conditional headers, and its
/// resource as the body.
///
/// # Errors
/// 400 when the method or URL is missing or malformed.
pub fn entry_request(entry: &Value) -> Result<Request, Failure> {
    let r = &entry["request"];
    let method = r["method"].as_str().ok_or_else(|| {
        Failure::invalid("the entry has no request.method").at(Some("request.method"))
    })?;
    let method = Method::parse(method).ok_or_else(|| {
        Failure::invalid(format!(
            "request.method {method:?} is not an HTTP method FHIR uses"
        ))
        .at(Some("request.method"))
    })?;
    let url = r["url"]
        .as_str()
        .ok_or_else(|| Failure::invalid("the entry has no request.url").at(Some("request.url")))?;
    let path = url.split('?').next().unwrap_or("");
    if path.contains("://") {
        return Err(Failure::invalid(format!(
            "request.url {url:?} must be relative to this server's base"
        ))
        .at(Some("request.url")));
    }
    if path.split('/').any(|s| s == "." || s == "..") {
        return Err(
            Failure::invalid(format!("request.url {url:?} is not a FHIR path"))
                .at(Some("request.url")),
        );
    }
    let mut request = Request::from_url(method, url)?;
    let text = |k: &str| r[k].as_str().map(str::to_string);
    request.headers = Headers {
        if_match: text("ifMatch"),
        if_none_match: text("ifNoneMatch"),
        if_none_exist: text("ifNoneExist"),
        if_modified_since: text("ifModifiedSince"),
        prefer: None,
        content_type: None,
    };
    if let Some(resource) = entry.get("resource").filter(|r| r.is_object()) {
        request.body = Some(Body::Resource(resource.clone()));
    }
    Ok(request)
}

/// Whether an interaction may appear in a batch or transaction entry.
pub fn allowed_in_bundle(i: &Interaction) -> bool {
    !matches!(
        i,
        Interaction::Batch(_) | Interaction::Transaction(_) | Interaction::Capabilities
    )
}

/// The response entry for a successful entry: status, location, ETag,
/// last modified, and the body for reads (`with_body`).
pub fn response_entry(answer: &Answer, with_body: bool) -> Value {
    let mut r = json!({"status": format!("{} {}", answer.status.as_u16(), answer.status.canonical_reason().unwrap_or(""))});
    if let Some(l) = &answer.location {
        r["location"] = json!(l);
    }
    if let Some(v) = &answer.version {
        r["etag"] = json!(format!("W/\"{}\"", v.id));
        if !v.last_updated.is_empty() {
            r["lastModified"] = json!(v.last_updated);
        }
    }
    let mut e = json!({"response": r});
    if with_body && answer.location.is_none() {
        if let Some(body) = answer.body.to_value() {
            if body["resourceType"] == "OperationOutcome"
                && !matches!(answer.body, Content::Stored(_))
            {
                e["response"]["outcome"] = body;
            } else {
                e["resource"] = body;
            }
        }
    }
    e
}

/// The response entry for a failed entry: its status and OperationOutcome.
pub fn failure_entry(f: &Failure) -> Value {
    let s = f.status();
    json!({"response": {
        "status": format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or("")),
        "outcome": f.outcome
    }})
}

/// A failure of entry `i`, its locations made relative to the Bundle.
pub fn at_entry(i: usize, mut f: Failure) -> Failure {
    if let Some(issues) = f.outcome["issue"].as_array_mut() {
        for issue in issues {
            let located: Vec<Value> = match issue["expression"].as_array() {
                Some(old) => old
                    .iter()
                    .map(|x| {
                        let x = x.as_str().unwrap_or("");
                        let rest = if x.starts_with("request.") {
                            x.to_string()
                        } else {
                            let tail = x.split_once('.').map(|p| p.1).unwrap_or("");
                            if tail.is_empty() {
                                "resource".to_string()
                            } else {
                                format!("resource.{tail}")
                            }
                        };
                        Value::String(format!("Bundle.entry[{i}].{rest}"))
                    })
                    .collect(),
                None => vec![Value::String(format!("Bundle.entry[{i}]"))],
            };
            issue["expression"] = Value::Array(located);
        }
    }
    f
}
