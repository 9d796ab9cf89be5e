//! patch — [FHIR R4 http §3.1.0.6](https://hl7.org/fhir/R4/http.html#patch):
//! `PATCH [base]/[type]/[id]` with a JSON Patch (`application/json-patch+json`)
//! or a FHIRPath Patch (a Parameters resource,
//! [fhirpatch](https://hl7.org/fhir/R4/fhirpatch.html)); conditional patch
//! `PATCH [base]/[type]?[criteria]`. In a batch or transaction a JSON Patch
//! travels as a Binary resource whose `contentType` is
//! `application/json-patch+json` and a FHIRPath Patch as a Parameters
//! resource (§3.1.0.6). The patched resource is validated as any write;
//! a patch may not change the type or id.

use base64::Engine as _;
use http::StatusCode;
use serde_json::Value;

use super::pipeline::{prepare_blocking, Tx};
use super::request::{parse_if_match, read_resource, Body, Prefer};
use super::update::Which;
use super::{Answer, AppState, Failure, FailureKind, Request, Service, Target};
use crate::store::Stored;

const JSON_PATCH: &str = "application/json-patch+json";

/// A patch document.
#[derive(Debug, Clone)]
pub enum Document {
    /// RFC 6902 JSON Patch.
    Json(json_patch::Patch),
    /// FHIRPath Patch (a Parameters resource).
    FhirPath(Value),
}

/// A patch, parsed.
#[derive(Debug, Clone)]
pub struct Patch {
    /// The resource type.
    pub resource_type: String,
    /// The resource to patch.
    pub which: Which,
    /// What to change.
    pub document: Document,
    /// `If-Match`.
    pub if_match: Option<i64>,
    /// `Prefer`.
    pub prefer: Prefer,
}

fn json_patch_of(bytes: &[u8]) -> Result<Document, Failure> {
    serde_json::from_slice(bytes)
        .map(Document::Json)
        .map_err(|e| Failure::invalid(format!("not a JSON Patch document: {e}")))
}

impl Patch {
    /// Parses a PATCH request.
    ///
    /// # Errors
    /// 400 for a body that is not a patch document, 415 for a content type
    /// that is neither JSON Patch nor FHIR.
    pub fn parse(state: &AppState, target: &Target, req: &Request) -> Result<Patch, Failure> {
        let body = req
            .body
            .as_ref()
            .ok_or_else(|| Failure::invalid("a patch needs a patch document in the body"))?;
        let ctype = req.headers.content_type.as_deref().unwrap_or("");
        let document = match body {
            Body::Bytes(b) if ctype.starts_with(JSON_PATCH) => json_patch_of(b)?,
            _ => {
                let doc = read_resource(req.headers.content_type.as_deref(), body).map_err(|e| {
                    if e.kind == FailureKind::UnsupportedMediaType {
                        Failure::new(FailureKind::UnsupportedMediaType, "not-supported", format!(
                            "PATCH takes a JSON Patch (application/json-patch+json) or a FHIRPath Patch Parameters (application/fhir+json or +xml), not {ctype:?}"
                        ))
                    } else {
                        e
                    }
                })?;
                match doc["resourceType"].as_str() {
                    Some("Parameters") => Document::FhirPath(doc),
                    Some("Binary") if doc["contentType"].as_str().is_some_and(|c| c.starts_with(JSON_PATCH)) => {
                        let data = base64::engine::general_purpose::STANDARD
                            .decode(doc["data"].as_str().unwrap_or(""))
                            .map_err(|e| Failure::invalid(format!("the Binary's data is not base64: {e}")))?;
                        json_patch_of(&data)?
                    }
                    other => {
                        return Err(Failure::invalid(format!(
                            "a patch is a JSON Patch, a Binary holding one, or a FHIRPath Patch Parameters, not a {}",
                            other.unwrap_or("body without resourceType")
                        )))
                    }
                }
            }
        };
        Ok(Patch {
            resource_type: target.resource_type().to_string(),
            which: Which::from_target(state, target, req, "a conditional patch")?,
            document,
            if_match: parse_if_match(req.headers.if_match.as_deref())?,
            prefer: Prefer::parse(req.headers.prefer.as_deref()),
        })
    }

    /// The patched resource.
    fn patched(&self, svc: &Service, current: &Stored) -> Result<Value, Failure> {
        let mut resource = current.resource().unwrap_or(Value::Null);
        match &self.document {
            Document::Json(ops) => json_patch::patch(&mut resource, ops).map_err(|e| {
                Failure::new(
                    FailureKind::Unprocessable,
                    "processing",
                    format!("the patch does not apply: {e}"),
                )
            })?,
            Document::FhirPath(params) => {
                fhir_core::patch::apply(&mut resource, params, &svc.state.search.model).map_err(
                    |e| {
                        Failure::new(
                            FailureKind::Unprocessable,
                            "processing",
                            format!("the patch does not apply: {}", e.message),
                        )
                        .at(Some(e.location.path.as_deref().unwrap_or("")))
                    },
                )?
            }
        }
        if resource["id"].as_str() != Some(current.id.as_str())
            || resource["resourceType"].as_str() != Some(current.resource_type.as_str())
        {
            return Err(Failure::new(
                FailureKind::Unprocessable,
                "processing",
                "a patch may not change the resource's type or id",
            ));
        }
        Ok(resource)
    }

    /// Patches inside `tx`: reads the current version there, applies the
    /// patch, validates, writes.
    ///
    /// # Errors
    /// 404/410 when there is nothing to patch, 412 for multiple matches or
    /// a stale `If-Match`, 422 when the patch does not apply or its result
    /// is invalid.
    pub async fn write(self, svc: &Service, tx: &mut Tx) -> Result<Answer, Failure> {
        let Some(id) = self.which.resolve(tx, "a conditional patch").await? else {
            return Err(Failure::not_found(format!(
                "the conditional patch matches no {}",
                self.resource_type
            )));
        };
        if tx.hidden(&self.resource_type, &id).await? {
            return Err(Failure::not_found(format!(
                "{}/{id} is not known",
                self.resource_type
            )));
        }
        let current = match tx.current(&self.resource_type, &id).await? {
            Some(s) if s.content.is_some() => s,
            Some(s) => {
                return Err(Failure::new(
                    FailureKind::Gone,
                    "deleted",
                    format!("{} was deleted", s.key()),
                ))
            }
            None => {
                return Err(Failure::not_found(format!(
                    "{}/{id} is not known",
                    self.resource_type
                )))
            }
        };
        let resource = self.patched(svc, &current)?;
        let prepared = prepare_blocking(svc, self.resource_type.clone(), resource).await?;
        let if_match = self.if_match.or(Some(current.version));
        let (s, _) = tx.update(&id, prepared, if_match).await?;
        Ok(Answer::written(&s, StatusCode::OK, self.prefer.return_))
    }
}
