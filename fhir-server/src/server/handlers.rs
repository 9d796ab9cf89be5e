//! The FHIR interactions on one resource type or instance: read, vread,
//! create, update, patch, delete (plain and conditional), search, history
//! and `$validate`.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use fhir_core::format::Format;
use serde_json::{json, Value};

use super::http::{self, Return};
use super::{ApiError, AppState};
use crate::store::{IndexEntry, Stored};

type Params = Vec<(String, String)>;

/// The query string as pairs.
pub(super) fn query_pairs(raw: Option<&str>) -> Result<Params, ApiError> {
    match raw {
        None | Some("") => Ok(Vec::new()),
        Some(q) => serde_urlencoded::from_str(q)
            .map_err(|e| ApiError::bad_request(format!("the query string is malformed: {e}"))),
    }
}

/// The body, or 413/400 when it could not be read.
pub(super) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-costly",
                format!(
                    "the body is larger than the {} MB this server accepts",
                    super::MAX_BODY / (1024 * 1024)
                ),
            )
        } else {
            ApiError::bad_request(format!("the body could not be read: {e}"))
        }
    })
}

/// Runs a handler body and answers errors as OperationOutcomes in the
/// negotiated format.
macro_rules! answer {
    ($headers:expr, $query:expr, |$fmt:ident| $body:expr) => {{
        let fmt_result = http::negotiate(&$headers, &$query);
        let $fmt = match fmt_result {
            Ok(f) => f,
            Err(e) => return http::error(e, Format::Json),
        };
        let result: Result<Response, ApiError> = async { $body }.await;
        match result {
            Ok(r) => r,
            Err(e) => http::error(e, $fmt),
        }
    }};
}

pub(super) fn check_type(state: &AppState, rtype: &str) -> Result<(), ApiError> {
    if state.resource_types.contains(rtype) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "{rtype:?} is not a FHIR R4 resource type"
        )))
    }
}

fn check_id(id: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{id:?} is not a valid resource id (1-64 letters, digits, '-' and '.')"
        )))
    }
}

/// Validates a resource about to be written and extracts its index
/// entries, on a blocking thread (validation is CPU work).
///
/// # Errors
/// 400 when its type differs from the URL's, 422 when it is invalid.
pub(super) async fn prepare(
    state: &Arc<AppState>,
    rtype: &str,
    resource: Value,
) -> Result<(Value, Vec<IndexEntry>), ApiError> {
    let body_type = resource["resourceType"].as_str().unwrap_or("");
    if body_type != rtype {
        return Err(ApiError::bad_request(format!(
            "the body is a {body_type}, but the URL names {rtype}"
        )));
    }
    let st = state.clone();
    let (resource, outcome, index) = tokio::task::spawn_blocking(move || {
        let outcome = st.validator.validate(&resource);
        let index = if outcome.has_errors() {
            Vec::new()
        } else {
            st.search.index(&resource)
        };
        (resource, outcome, index)
    })
    .await
    .map_err(ApiError::internal)?;
    if outcome.has_errors() {
        let mut oo = outcome.to_operation_outcome();
        if let Some(issues) = oo["issue"].as_array_mut() {
            issues.retain(|i| i["severity"] == "error" || i["severity"] == "fatal");
        }
        return Err(ApiError::with_outcome(StatusCode::UNPROCESSABLE_ENTITY, oo));
    }
    Ok((resource, index))
}

fn location(state: &AppState, s: &Stored) -> String {
    format!(
        "{}/{}/{}/_history/{}",
        state.base, s.resource_type, s.id, s.version
    )
}

/// The answer to a write: status, headers, and the body `Prefer` asks for.
pub(super) fn write_response(
    state: &AppState,
    s: &Stored,
    status: StatusCode,
    prefer: Return,
    fmt: Format,
) -> Response {
    let mut headers = http::version_headers(s.version, &s.last_updated);
    headers.push((header::LOCATION, location(state, s)));
    match prefer {
        Return::Minimal => http::empty(status, &headers),
        Return::OperationOutcome => http::respond(
            status,
            &json!({"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational",
                "diagnostics": format!("{}/{} version {} stored", s.resource_type, s.id, s.version)}]}),
            fmt,
            &headers,
        ),
        Return::Representation => http::respond(
            status,
            s.resource.as_ref().unwrap_or(&Value::Null),
            fmt,
            &headers,
        ),
    }
}

/// GET /{type}/{id}
pub async fn read(
    State(state): State<Arc<AppState>>,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| {
        check_type(&state, &rtype)?;
        let s = state.store.read(&rtype, &id).await?;
        if let Some(none_match) = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
        {
            if none_match.trim_start_matches("W/").trim_matches('"') == s.version.to_string() {
                return Ok(http::empty(
                    StatusCode::NOT_MODIFIED,
                    &http::version_headers(s.version, &s.last_updated),
                ));
            }
        }
        let shape = super::bundle::ShapeOpts::from_query(&query);
        let body = shape.apply(&state, s.resource.clone().unwrap_or(Value::Null));
        Ok(http::respond(
            StatusCode::OK,
            &body,
            fmt,
            &http::version_headers(s.version, &s.last_updated),
        ))
    })
}

/// GET /{type}/{id}/_history/{vid}
pub async fn vread(
    State(state): State<Arc<AppState>>,
    Path((rtype, id, vid)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| {
        check_type(&state, &rtype)?;
        let version: i64 = vid.parse().map_err(|_| {
            ApiError::not_found(format!(
                "{rtype}/{id}/_history/{vid}: {vid:?} is not a version"
            ))
        })?;
        let s = state.store.vread(&rtype, &id, version).await?;
        Ok(http::respond(
            StatusCode::OK,
            s.resource.as_ref().unwrap_or(&Value::Null),
            fmt,
            &http::version_headers(s.version, &s.last_updated),
        ))
    })
}

/// POST /{type} (with `If-None-Exist` for conditional create)
pub async fn create(
    State(state): State<Arc<AppState>>,
    Path(rtype): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| {
        check_type(&state, &rtype)?;
        let resource = http::read_body(&headers, &body_bytes(body)?)?;
        let (resource, index) = prepare(&state, &rtype, resource).await?;
        let mut tx = state.store.begin().await?;
        if let Some(cond) = headers.get("if-none-exist").and_then(|v| v.to_str().ok()) {
            let params = query_pairs(Some(cond.trim_start_matches('?')))?;
            let found = conditional_matches(&state, &mut *tx, &rtype, &params).await?;
            match found.len() {
                0 => {}
                1 => {
                    let s = &found[0];
                    return Ok(write_response(
                        &state,
                        s,
                        StatusCode::OK,
                        http::prefer_return(&headers),
                        fmt,
                    ));
                }
                n => {
                    return Err(ApiError::new(
                        StatusCode::PRECONDITION_FAILED,
                        "duplicate",
                        format!("If-None-Exist matches {n} resources; it must match at most one"),
                    ))
                }
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let s = tx.create(&rtype, &id, resource, index).await?;
        tx.commit().await?;
        Ok(write_response(
            &state,
            &s,
            StatusCode::CREATED,
            http::prefer_return(&headers),
            fmt,
        ))
    })
}

/// The current resources a conditional operation's criteria match.
pub(super) async fn conditional_matches(
    state: &AppState,
    tx: &mut dyn crate::store::Writer,
    rtype: &str,
    params: &Params,
) -> Result<Vec<Stored>, ApiError> {
    if params.is_empty() {
        return Err(ApiError::bad_request(
            "a conditional operation needs search criteria",
        ));
    }
    let (mut q, _) = state
        .search
        .params
        .query(Some(rtype), params, true)
        .map_err(|e| ApiError::bad_request(e.0))?;
    q.count = 2;
    q.offset = 0;
    Ok(tx.matching(&q).await?)
}

/// PUT /{type}/{id}
pub async fn update(
    State(state): State<Arc<AppState>>,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| {
        check_type(&state, &rtype)?;
        check_id(&id)?;
        let resource = http::read_body(&headers, &body_bytes(body)?)?;
        match resource["id"].as_str() {
            Some(body_id) if body_id == id => {}
            Some(body_id) => {
                return Err(ApiError::bad_request(format!(
                    "the body's id {body_id:?} differs from the URL's {id:?}"
                )))
            }
            None => {
                return Err(ApiError::bad_request(
                    "an update's body must carry the resource id",
                ))
            }
        }
        let if_match = http::if_match(&headers)?;
        let (resource, index) = prepare(&state, &rtype, resource).await?;
        let mut tx = state.store.begin().await?;
        let (s, created) = tx.update(&rtype, &id, resource, index, if_match).await?;
        tx.commit().await?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(write_response(
            &state,
            &s,
            status,
            http::prefer_return(&headers),
            fmt,
        ))
    })
}

/// PUT /{type}?criteria
pub async fn conditional_update(
    State(state): State<Arc<AppState>>,
    Path(rtype): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| {
        check_type(&state, &rtype)?;
        let criteria: Params = query
            .iter()
            .filter(|(k, _)| k != "_format")
            .cloned()
            .collect();
        let resource = http::read_body(&headers, &body_bytes(body)?)?;
        let (resource, index) = prepare(&state, &rtype, resource).await?;
        let mut tx = state.store.begin().await?;
        let found = conditional_matches(&state, &mut *tx, &rtype, &criteria).await?;
        let id = match found.len() {
            0 => resource["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            1 => {
                let id = found[0].id.clone();
                if resource["id"].as_str().is_some_and(|b| b != id) {
                    return Err(ApiError::bad_request(format!(
                        "the body's id differs from the matched resource's {id:?}"
                    )));
                }
                id
            }
            n => {
                return Err(ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "duplicate",
                    format!(
                        "the criteria match {n} resources; a conditional update needs at most one"
                    ),
                ))
            }
        };
        check_id(&id)?;
        let (s, created) = tx
            .update(&rtype, &id, resource, index, http::if_match(&headers)?)
            .await?;
        tx.commit().await?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(write_response(
            &state,
            &s,
            status,
            http::prefer_return(&headers),
            fmt,
        ))
    })
}

/// DELETE /{type}/{id}
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |_fmt| {
        check_type(&state, &rtype)?;
        let mut tx = state.store.begin().await?;
        let version = tx.delete(&rtype, &id).await?;
        tx.commit().await?;
        let headers = version
            .map(|v| vec![(header::ETAG, format!("W/\"{v}\""))])
            .unwrap_or_default();
        Ok(http::empty(StatusCode::NO_CONTENT, &headers))
    })
}

/// DELETE /{type}?criteria
pub async fn conditional_delete(
    State(state): State<Arc<AppState>>,
    Path(rtype): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |_fmt| {
        check_type(&state, &rtype)?;
        let criteria: Params = query
            .iter()
            .filter(|(k, _)| k != "_format")
            .cloned()
            .collect();
        let mut tx = state.store.begin().await?;
        let found = conditional_matches(&state, &mut *tx, &rtype, &criteria).await?;
        if found.len() > 1 {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "multiple-matches",
                format!(
                    "the criteria match {} resources; a conditional delete removes at most one",
                    found.len()
                ),
            ));
        }
        for s in &found {
            tx.delete(&rtype, &s.id).await?;
        }
        tx.commit().await?;
        Ok(http::empty(StatusCode::NO_CONTENT, &[]))
    })
}

/// PATCH /{type}/{id}: JSON Patch (`application/json-patch+json`) or
/// FHIRPath Patch (a Parameters resource).
pub async fn patch(
    State(state): State<Arc<AppState>>,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| {
        check_type(&state, &rtype)?;
        let body = body_bytes(body)?;
        let ctype = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let current = state.store.read(&rtype, &id).await?;
        let if_match = http::if_match(&headers)?.or(Some(current.version));
        let mut resource = current.resource.clone().unwrap_or(Value::Null);
        if ctype.starts_with("application/json-patch+json") {
            let ops: json_patch::Patch = serde_json::from_slice(&body)
                .map_err(|e| ApiError::bad_request(format!("not a JSON Patch document: {e}")))?;
            json_patch::patch(&mut resource, &ops).map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "processing",
                    format!("the patch does not apply: {e}"),
                )
            })?;
        } else {
            // FHIRPath Patch: a Parameters resource in FHIR JSON or XML.
            let params = http::read_body(&headers, &body).map_err(|e| {
                if e.status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "not-supported", format!("PATCH takes a JSON Patch (application/json-patch+json) or a FHIRPath Patch Parameters (application/fhir+json or +xml), not {ctype:?}"))
                } else {
                    e
                }
            })?;
            fhir_core::patch::apply(&mut resource, &params, &state.search.model).map_err(|e| {
                let at = e.location.path.clone().unwrap_or_default();
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "processing",
                    format!("the patch does not apply: {}", e.message),
                );
                err.outcome["issue"][0]["expression"] = json!([at]);
                err
            })?;
        }
        if resource["id"].as_str() != Some(id.as_str())
            || resource["resourceType"].as_str() != Some(rtype.as_str())
        {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "processing",
                "a patch may not change the resource's type or id",
            ));
        }
        let (resource, index) = prepare(&state, &rtype, resource).await?;
        let mut tx = state.store.begin().await?;
        let (s, _) = tx.update(&rtype, &id, resource, index, if_match).await?;
        tx.commit().await?;
        Ok(write_response(
            &state,
            &s,
            StatusCode::OK,
            http::prefer_return(&headers),
            fmt,
        ))
    })
}

/// GET /{type}?…
pub async fn search_get(
    State(state): State<Arc<AppState>>,
    Path(rtype): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| {
        let query = query_pairs(raw.as_deref())?;
        check_type(&state, &rtype)?;
        search(&state, &rtype, &query, http::prefer_strict(&headers), fmt).await
    })
}

/// POST /{type}/_search with a form body.
pub async fn search_post(
    State(state): State<Arc<AppState>>,
    Path(rtype): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| {
        check_type(&state, &rtype)?;
        let body = body_bytes(body)?;
        let ctype = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !body.is_empty() && !ctype.starts_with("application/x-www-form-urlencoded") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not-supported",
                "_search takes application/x-www-form-urlencoded parameters",
            ));
        }
        let mut params = query.clone();
        params.extend(query_pairs(std::str::from_utf8(&body).ok())?);
        search(&state, &rtype, &params, http::prefer_strict(&headers), fmt).await
    })
}

async fn search(
    state: &Arc<AppState>,
    rtype: &str,
    params: &Params,
    strict: bool,
    fmt: Format,
) -> Result<Response, ApiError> {
    let (q, shape) = state
        .search
        .params
        .query(Some(rtype), params, strict)
        .map_err(|e| ApiError::bad_request(e.0))?;
    let (found, total) = state.store.search(&q).await?;
    let bundle = super::bundle::searchset(state, rtype, &q, &shape, found, total).await?;
    Ok(http::respond(StatusCode::OK, &bundle, fmt, &[]))
}

async fn history(
    state: &Arc<AppState>,
    rtype: Option<&str>,
    id: Option<&str>,
    params: &Params,
    fmt: Format,
) -> Result<Response, ApiError> {
    let mut count = 20i64;
    let mut offset = 0i64;
    let mut since = None;
    for (k, v) in params {
        match k.as_str() {
            "_count" => {
                count = v
                    .parse::<i64>()
                    .map_err(|_| ApiError::bad_request(format!("_count: {v:?} is not a number")))?
                    .clamp(0, 1000)
            }
            "_offset" => {
                offset = v
                    .parse::<i64>()
                    .map_err(|_| ApiError::bad_request(format!("_offset: {v:?} is not a number")))?
                    .max(0)
            }
            "_since" => {
                since = Some(
                    crate::search::date_range(v)
                        .ok_or_else(|| {
                            ApiError::bad_request(format!("_since: {v:?} is not an instant"))
                        })?
                        .0,
                )
            }
            _ => {}
        }
    }
    if let (Some(t), Some(i)) = (rtype, id) {
        // An instance history of something never stored is 404.
        let (_, n) = state.store.history(Some(t), Some(i), None, 1, 0).await?;
        if n == 0 {
            return Err(ApiError::not_found(format!("{t}/{i} is not known")));
        }
    }
    let (list, total) = state
        .store
        .history(rtype, id, since.as_deref(), count, offset)
        .await?;
    let path = match (rtype, id) {
        (Some(t), Some(i)) => format!("{t}/{i}/_history"),
        (Some(t), None) => format!("{t}/_history"),
        _ => "_history".to_string(),
    };
    let bundle = super::bundle::history_bundle(state, &path, params, list, total, count, offset);
    Ok(http::respond(StatusCode::OK, &bundle, fmt, &[]))
}

/// GET /_history
pub async fn history_system(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| history(
        &state, None, None, &query, fmt
    )
    .await)
}

/// GET /{type}/_history
pub async fn history_type(
    State(state): State<Arc<AppState>>,
    Path(rtype): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| {
        check_type(&state, &rtype)?;
        history(&state, Some(&rtype), None, &query, fmt).await
    })
}

/// GET /{type}/{id}/_history
pub async fn history_instance(
    State(state): State<Arc<AppState>>,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| {
        check_type(&state, &rtype)?;
        history(&state, Some(&rtype), Some(&id), &query, fmt).await
    })
}

async fn validate(
    state: &Arc<AppState>,
    rtype: &str,
    query: &Params,
    headers: &HeaderMap,
    body: Bytes,
    fmt: Format,
) -> Result<Response, ApiError> {
    check_type(state, rtype)?;
    let posted = http::read_body(headers, &body)?;
    let mut profiles: Vec<String> = query
        .iter()
        .filter(|(k, _)| k == "profile")
        .map(|(_, v)| v.clone())
        .collect();
    let resource = if posted["resourceType"] == "Parameters" && rtype != "Parameters" {
        let mut resource = None;
        for p in posted["parameter"].as_array().into_iter().flatten() {
            match p["name"].as_str() {
                Some("resource") => resource = Some(p["resource"].clone()),
                Some("profile") => profiles.extend(
                    p["valueUri"]
                        .as_str()
                        .or(p["valueCanonical"].as_str())
                        .map(str::to_string),
                ),
                _ => {}
            }
        }
        resource
            .ok_or_else(|| ApiError::bad_request("the Parameters have no 'resource' parameter"))?
    } else {
        posted
    };
    if resource["resourceType"].as_str() != Some(rtype) {
        return Err(ApiError::bad_request(format!(
            "the resource is not a {rtype}"
        )));
    }
    for p in &profiles {
        if state.registry.structure_definition(p).is_none() {
            return Err(ApiError::bad_request(format!(
                "the profile {p:?} is not known to this server"
            )));
        }
    }
    let st = state.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = profiles.iter().map(String::as_str).collect();
        st.validator.validate_against(&resource, &refs)
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(http::respond(
        StatusCode::OK,
        &outcome.to_operation_outcome(),
        fmt,
        &[],
    ))
}

/// POST /{type}/$validate
pub async fn validate_type(
    State(state): State<Arc<AppState>>,
    Path(rtype): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| validate(
        &state,
        &rtype,
        &query,
        &headers,
        body_bytes(body)?,
        fmt
    )
    .await)
}

/// POST /{type}/{id}/$validate
pub async fn validate_instance(
    State(state): State<Arc<AppState>>,
    Path((rtype, _id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    answer!(headers, query, |fmt| validate(
        &state,
        &rtype,
        &query,
        &headers,
        body_bytes(body)?,
        fmt
    )
    .await)
}

/// Anything else: 404, or 405 for a known path with the wrong method.
pub async fn unknown_route(
    State(state): State<Arc<AppState>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let fmt = http::negotiate(&headers, &[]).unwrap_or(Format::Json);
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let e = if segments.len() <= 4 && state.resource_types.contains(segments[0]) {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-supported",
            format!(
                "{method} {} is not a FHIR interaction this server supports",
                uri.path()
            ),
        )
    } else {
        ApiError::not_found(format!(
            "{} is not a FHIR endpoint of this server",
            uri.path()
        ))
    };
    http::error(e, fmt)
}

/// Distinct `Type/id` strings of a set of stored resources.
pub(super) fn keys(list: &[Stored]) -> BTreeSet<String> {
    list.iter()
        .map(|s| format!("{}/{}", s.resource_type, s.id))
        .collect()
}
