//! Bundles: searchsets (with `_include`/`_revinclude`, paging links,
//! `_summary`, `_elements`), history, and batch/transaction processing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fhir_core::format::Format;
use serde_json::{json, Value};

use super::handlers::{body_bytes, check_type, conditional_matches, keys, prepare, query_pairs};
use super::http;
use super::{ApiError, AppState};
use crate::search::Shape;
use crate::store::{Query, Stored, Writer};

/// `_summary` and `_elements` of a read or search.
#[derive(Debug, Clone, Default)]
pub(super) struct ShapeOpts {
    summary: Option<String>,
    elements: Vec<String>,
}

impl ShapeOpts {
    pub(super) fn from_query(q: &[(String, String)]) -> Self {
        let mut s = ShapeOpts::default();
        for (k, v) in q {
            match k.as_str() {
                "_summary" => s.summary = Some(v.clone()),
                "_elements" => s.elements = v.split(',').map(|e| e.trim().to_string()).collect(),
                _ => {}
            }
        }
        s
    }

    fn from_shape(shape: &Shape) -> Self {
        ShapeOpts {
            summary: shape.summary.clone(),
            elements: shape.elements.clone(),
        }
    }

    /// The resource cut down as `_summary`/`_elements` ask, tagged SUBSETTED.
    pub(super) fn apply(&self, state: &AppState, resource: Value) -> Value {
        let rt = resource["resourceType"].as_str().unwrap_or("").to_string();
        let keep: Option<BTreeSet<String>> = match self.summary.as_deref() {
            Some("true") => Some(summary_elements(state, &rt)),
            Some("text") => Some(
                ["text", "id", "meta"]
                    .iter()
                    .map(|s| s.to_string())
                    .chain(mandatory_elements(state, &rt))
                    .collect(),
            ),
            Some("data") => {
                let mut r = resource;
                if let Some(o) = r.as_object_mut() {
                    o.remove("text");
                }
                return subsetted(r);
            }
            _ if !self.elements.is_empty() => Some(
                self.elements
                    .iter()
                    .cloned()
                    .chain(mandatory_elements(state, &rt))
                    .collect(),
            ),
            _ => None,
        };
        let Some(keep) = keep else { return resource };
        let Value::Object(map) = resource else {
            return resource;
        };
        let mut out = serde_json::Map::new();
        for (k, v) in map {
            let base = k.trim_start_matches('_');
            if k == "resourceType"
                || k == "id"
                || k == "meta"
                || keep.contains(base)
                || keep
                    .iter()
                    .any(|e| e.ends_with("[x]") && base.starts_with(e.trim_end_matches("[x]")))
            {
                out.insert(k, v);
            }
        }
        subsetted(Value::Object(out))
    }
}

fn subsetted(mut r: Value) -> Value {
    if !r["meta"].is_object() {
        r["meta"] = json!({});
    }
    let tag = json!({"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"});
    match r["meta"]["tag"].as_array_mut() {
        Some(tags) => tags.push(tag),
        None => r["meta"]["tag"] = json!([tag]),
    }
    r
}

fn top_elements(state: &AppState, rt: &str, pick: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    let url = format!("http://hl7.org/fhir/StructureDefinition/{rt}");
    let Some(sd) = state.registry.structure_definition(&url) else {
        return BTreeSet::new();
    };
    sd.pointer("/snapshot/element")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| pick(e))
        .filter_map(|e| e["path"].as_str())
        .filter_map(|p| p.strip_prefix(&format!("{rt}.")))
        .filter(|p| !p.contains('.'))
        .map(|p| p.trim_end_matches("[x]").to_string())
        .collect()
}

fn summary_elements(state: &AppState, rt: &str) -> BTreeSet<String> {
    top_elements(state, rt, |e| e["isSummary"] == true)
}

fn mandatory_elements(state: &AppState, rt: &str) -> BTreeSet<String> {
    top_elements(state, rt, |e| e["min"].as_u64().unwrap_or(0) > 0)
}

fn page_link(
    state: &AppState,
    path: &str,
    used: &[(String, String)],
    count: i64,
    offset: i64,
) -> String {
    let mut params: Vec<(String, String)> = used
        .iter()
        .filter(|(k, _)| k != "_count" && k != "_offset")
        .cloned()
        .collect();
    params.push(("_count".into(), count.to_string()));
    params.push(("_offset".into(), offset.to_string()));
    let q = serde_urlencoded::to_string(&params).unwrap_or_default();
    format!("{}/{path}?{q}", state.base)
}

fn entry(state: &AppState, s: &Stored, mode: &str, shape: &ShapeOpts) -> Value {
    let resource = shape.apply(state, s.resource.clone().unwrap_or(Value::Null));
    json!({
        "fullUrl": format!("{}/{}/{}", state.base, s.resource_type, s.id),
        "resource": resource,
        "search": {"mode": mode}
    })
}

/// The reference targets (`Type/id`) of one resource's reference parameter.
fn reference_targets(
    state: &AppState,
    s: &Stored,
    param: &str,
    target: Option<&str>,
) -> Vec<String> {
    let Some(resource) = &s.resource else {
        return Vec::new();
    };
    let params: Vec<_> = if param == "*" {
        state
            .search
            .params
            .of_type(&s.resource_type)
            .into_iter()
            .filter(|p| p.kind == crate::search::Kind::Reference)
            .cloned()
            .collect()
    } else {
        state
            .search
            .params
            .get(&s.resource_type, param)
            .into_iter()
            .cloned()
            .collect()
    };
    let mut out = Vec::new();
    for p in params {
        let entries = {
            let ctx = fhir_core::fhirpath::Context {
                model: Some(&state.search.model),
                ..Default::default()
            };
            let mut v = Vec::new();
            if let Some(expr) = &p.expression {
                if let Ok(items) = expr.evaluate(resource, &ctx) {
                    for item in &items {
                        if let Some(r) = item.json().and_then(|j| j["reference"].as_str()) {
                            v.push(r.to_string());
                        }
                    }
                }
            }
            v
        };
        for r in entries {
            let r = r.split("/_history/").next().unwrap_or(&r).to_string();
            let mut parts = r.rsplit('/');
            if let (Some(id), Some(t)) = (parts.next(), parts.next()) {
                if target.is_none_or(|want| want == t) {
                    out.push(format!("{t}/{id}"));
                }
            }
        }
    }
    out
}

/// A searchset Bundle for `found` (a page of `total`), with includes.
pub(super) async fn searchset(
    state: &Arc<AppState>,
    rtype: &str,
    q: &Query,
    shape: &Shape,
    found: Vec<Stored>,
    total: i64,
) -> Result<Value, ApiError> {
    let opts = ShapeOpts::from_shape(shape);
    if shape.summary.as_deref() == Some("count") {
        return Ok(
            json!({"resourceType": "Bundle", "type": "searchset", "total": total,
            "link": [{"relation": "self", "url": page_link(state, rtype, &shape.used, q.count, q.offset)}]}),
        );
    }
    let mut entries: Vec<Value> = found
        .iter()
        .map(|s| entry(state, s, "match", &opts))
        .collect();
    let mut seen = keys(&found);
    // _include (with :iterate applied to what was included, three rounds at most)
    let mut frontier = found.clone();
    for round in 0..3 {
        let mut next = Vec::new();
        for (inc, iterate) in &shape.include {
            if round > 0 && !iterate {
                continue;
            }
            let mut parts = inc.split(':');
            let (Some(src), Some(param)) = (parts.next(), parts.next()) else {
                return Err(ApiError::bad_request(format!(
                    "_include={inc} is not Type:parameter[:target]"
                )));
            };
            let target = parts.next();
            for s in frontier.iter().filter(|s| s.resource_type == src) {
                for t in reference_targets(state, s, param, target) {
                    if seen.insert(t.clone()) {
                        let (tt, tid) = t.split_once('/').unwrap_or(("", ""));
                        if let Ok(r) = state.store.read(tt, tid).await {
                            next.push(r);
                        }
                    }
                }
            }
        }
        // _revinclude
        for (rev, iterate) in &shape.revinclude {
            if round > 0 && !iterate {
                continue;
            }
            let mut parts = rev.split(':');
            let (Some(src), param) = (parts.next(), parts.next()) else {
                continue;
            };
            check_type(state, src)?;
            let targets: Vec<String> = keys(&frontier).into_iter().collect();
            let param = param.filter(|p| *p != "*");
            for r in state.store.referring(src, param, &targets).await? {
                if seen.insert(format!("{}/{}", r.resource_type, r.id)) {
                    next.push(r);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        entries.extend(
            next.iter()
                .map(|s| entry(state, s, "include", &ShapeOpts::default())),
        );
        frontier = next;
    }
    let mut links = vec![
        json!({"relation": "self", "url": page_link(state, rtype, &shape.used, q.count, q.offset)}),
    ];
    if q.offset + q.count < total {
        links.push(json!({"relation": "next", "url": page_link(state, rtype, &shape.used, q.count, q.offset + q.count)}));
    }
    if q.offset > 0 {
        links.push(json!({"relation": "previous", "url": page_link(state, rtype, &shape.used, q.count, (q.offset - q.count).max(0))}));
    }
    let mut bundle = new_bundle("searchset", entries);
    bundle["link"] = json!(links);
    if shape.total.as_deref() != Some("none") {
        bundle["total"] = json!(total);
    }
    Ok(bundle)
}

/// A history Bundle.
pub(super) fn history_bundle(
    state: &AppState,
    path: &str,
    params: &[(String, String)],
    list: Vec<Stored>,
    total: i64,
    count: i64,
    offset: i64,
) -> Value {
    let entries: Vec<Value> = list
        .iter()
        .map(|s| {
            let url = format!("{}/{}", s.resource_type, s.id);
            let status = match s.method.as_str() {
                "POST" => "201 Created",
                "DELETE" => "204 No Content",
                _ if s.version == 1 => "201 Created",
                _ => "200 OK",
            };
            let mut e = json!({
                "fullUrl": format!("{}/{url}", state.base),
                "request": {"method": s.method, "url": if s.method == "POST" { s.resource_type.clone() } else { url.clone() }},
                "response": {"status": status, "etag": format!("W/\"{}\"", s.version), "lastModified": s.last_updated}
            });
            if let Some(r) = &s.resource {
                e["resource"] = r.clone();
            }
            e
        })
        .collect();
    let mut links =
        vec![json!({"relation": "self", "url": page_link(state, path, params, count, offset)})];
    if offset + count < total {
        links.push(json!({"relation": "next", "url": page_link(state, path, params, count, offset + count)}));
    }
    if offset > 0 {
        links.push(json!({"relation": "previous", "url": page_link(state, path, params, count, (offset - count).max(0))}));
    }
    let mut bundle = new_bundle("history", entries);
    bundle["total"] = json!(total);
    bundle["link"] = json!(links);
    bundle
}

/// POST / with a batch or transaction Bundle.
pub async fn batch_or_transaction(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    let fmt = match http::negotiate(&headers, &query) {
        Ok(f) => f,
        Err(e) => return http::error(e, Format::Json),
    };
    let result = async {
        let bundle = http::read_body(&headers, &body_bytes(body)?)?;
        if bundle["resourceType"] != "Bundle" {
            return Err(ApiError::bad_request(
                "POST to the base takes a batch or transaction Bundle",
            ));
        }
        match bundle["type"].as_str() {
            Some("transaction") => transaction(&state, bundle).await,
            Some("batch") => Ok(batch(&state, bundle).await),
            other => Err(ApiError::bad_request(format!(
                "a Bundle of type {other:?} cannot be processed: send a batch or a transaction"
            ))),
        }
    }
    .await;
    match result {
        Ok(b) => http::respond(StatusCode::OK, &b, fmt, &[]),
        Err(e) => http::error(e, fmt),
    }
}

/// Replaces every `reference` in `v` found in `map`.
fn rewrite_references(v: &mut Value, map: &HashMap<String, String>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if k == "reference" {
                    if let Some(new) = child.as_str().and_then(|s| map.get(s)) {
                        *child = Value::String(new.clone());
                        continue;
                    }
                }
                rewrite_references(child, map);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rewrite_references(c, map)),
        _ => {}
    }
}

/// Conditional references (`Patient?identifier=…`) in `v`.
fn conditional_references(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                if k == "reference" {
                    if let Some(s) = child.as_str().filter(|s| {
                        s.contains('?') && !s.starts_with("urn:") && !s.starts_with("http")
                    }) {
                        out.insert(s.to_string());
                    }
                }
                conditional_references(child, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| conditional_references(c, out)),
        _ => {}
    }
}

struct Planned {
    index: usize,
    method: String,
    url: String,
    full_url: Option<String>,
    resource: Option<Value>,
    if_none_exist: Option<String>,
    if_match: Option<i64>,
}

fn entry_error(i: usize, e: ApiError) -> ApiError {
    let mut e = e;
    if let Some(issues) = e.outcome["issue"].as_array_mut() {
        for issue in issues {
            let mut expr = vec![Value::String(format!("Bundle.entry[{i}]"))];
            if let Some(old) = issue["expression"].as_array() {
                expr = old
                    .iter()
                    .map(|x| {
                        Value::String(format!(
                            "Bundle.entry[{i}].resource.{}",
                            x.as_str()
                                .unwrap_or("")
                                .split_once('.')
                                .map(|p| p.1)
                                .unwrap_or("")
                        ))
                    })
                    .collect();
            }
            issue["expression"] = Value::Array(expr);
        }
    }
    e
}

fn plan(bundle: &Value) -> Result<Vec<Planned>, ApiError> {
    let mut out = Vec::new();
    for (i, e) in bundle["entry"].as_array().into_iter().flatten().enumerate() {
        let req = &e["request"];
        let method = req["method"]
            .as_str()
            .ok_or_else(|| {
                entry_error(i, ApiError::bad_request("the entry has no request.method"))
            })?
            .to_string();
        let url = req["url"]
            .as_str()
            .ok_or_else(|| entry_error(i, ApiError::bad_request("the entry has no request.url")))?
            .to_string();
        let if_match = match req["ifMatch"].as_str() {
            Some(s) => Some(
                s.trim_start_matches("W/")
                    .trim_matches('"')
                    .parse()
                    .map_err(|_| {
                        entry_error(
                            i,
                            ApiError::bad_request(format!("ifMatch {s:?} is not a version")),
                        )
                    })?,
            ),
            None => None,
        };
        out.push(Planned {
            index: i,
            method,
            url,
            full_url: e["fullUrl"].as_str().map(str::to_string),
            resource: e.get("resource").cloned(),
            if_none_exist: req["ifNoneExist"].as_str().map(str::to_string),
            if_match,
        });
    }
    Ok(out)
}

fn order(method: &str) -> u8 {
    match method {
        "DELETE" => 0,
        "POST" => 1,
        "PUT" | "PATCH" => 2,
        _ => 3,
    }
}

fn response_entry(status: &str, s: Option<&Stored>) -> Value {
    let mut r = json!({"status": status});
    if let Some(s) = s {
        r["location"] = json!(format!(
            "{}/{}/_history/{}",
            s.resource_type, s.id, s.version
        ));
        r["etag"] = json!(format!("W/\"{}\"", s.version));
        r["lastModified"] = json!(s.last_updated);
    }
    json!({"response": r})
}

/// Resolves a conditional reference inside the transaction.
async fn resolve_conditional(
    state: &AppState,
    tx: &mut dyn Writer,
    reference: &str,
) -> Result<String, ApiError> {
    let (rtype, q) = reference.split_once('?').unwrap_or((reference, ""));
    check_type(state, rtype)?;
    let params = query_pairs(Some(q))?;
    let found = conditional_matches(state, tx, rtype, &params).await?;
    match found.len() {
        1 => Ok(format!("{rtype}/{}", found[0].id)),
        0 => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "not-found",
            format!("the conditional reference {reference} matches no resource"),
        )),
        n => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "multiple-matches",
            format!("the conditional reference {reference} matches {n} resources"),
        )),
    }
}

/// A transaction: every entry or none.
async fn transaction(state: &Arc<AppState>, bundle: Value) -> Result<Value, ApiError> {
    let mut planned = plan(&bundle)?;
    // Ids for creates, so references between entries can be rewritten.
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut new_ids: BTreeMap<usize, String> = BTreeMap::new();
    for p in &planned {
        if p.method == "POST" {
            let rtype = p.url.split(['/', '?']).next().unwrap_or("").to_string();
            let id = uuid::Uuid::new_v4().to_string();
            if let Some(f) = &p.full_url {
                ids.insert(f.clone(), format!("{rtype}/{id}"));
            }
            new_ids.insert(p.index, id);
        }
    }
    let mut tx = state.store.begin().await?;
    // Conditional creates that match an existing resource map to it instead.
    let mut existing: BTreeMap<usize, Stored> = BTreeMap::new();
    for p in planned
        .iter()
        .filter(|p| p.method == "POST" && p.if_none_exist.is_some())
    {
        let rtype = p.url.split(['/', '?']).next().unwrap_or("");
        let params = query_pairs(Some(
            p.if_none_exist
                .as_deref()
                .unwrap_or("")
                .trim_start_matches('?'),
        ))
        .map_err(|e| entry_error(p.index, e))?;
        let found = conditional_matches(state, &mut *tx, rtype, &params)
            .await
            .map_err(|e| entry_error(p.index, e))?;
        match found.len() {
            0 => {}
            1 => {
                if let Some(f) = &p.full_url {
                    ids.insert(f.clone(), format!("{rtype}/{}", found[0].id));
                }
                existing.insert(p.index, found[0].clone());
            }
            n => {
                return Err(entry_error(
                    p.index,
                    ApiError::new(
                        StatusCode::PRECONDITION_FAILED,
                        "duplicate",
                        format!("ifNoneExist matches {n} resources"),
                    ),
                ))
            }
        }
    }
    // Conditional PUT targets.
    planned.sort_by_key(|p| (order(&p.method), p.index));
    let mut responses: BTreeMap<usize, Value> = BTreeMap::new();
    for p in &mut planned {
        let i = p.index;
        let rtype = p.url.split(['/', '?']).next().unwrap_or("").to_string();
        if p.method != "GET" {
            check_type(state, &rtype).map_err(|e| entry_error(i, e))?;
        }
        if let Some(resource) = p.resource.as_mut() {
            let mut conds = BTreeSet::new();
            conditional_references(resource, &mut conds);
            for c in conds {
                if let std::collections::hash_map::Entry::Vacant(slot) = ids.entry(c) {
                    let target = resolve_conditional(state, &mut *tx, slot.key())
                        .await
                        .map_err(|e| entry_error(i, e))?;
                    slot.insert(target);
                }
            }
            rewrite_references(resource, &ids);
        }
        match p.method.as_str() {
            "POST" => {
                if let Some(s) = existing.get(&i) {
                    responses.insert(i, response_entry("200 OK", Some(s)));
                    continue;
                }
                let resource = p.resource.take().ok_or_else(|| {
                    entry_error(i, ApiError::bad_request("a POST entry needs a resource"))
                })?;
                let (resource, index) = prepare(state, &rtype, resource)
                    .await
                    .map_err(|e| entry_error(i, e))?;
                let s = tx
                    .create(&rtype, &new_ids[&i], resource, index)
                    .await
                    .map_err(|e| entry_error(i, e.into()))?;
                responses.insert(i, response_entry("201 Created", Some(&s)));
            }
            "PUT" => {
                let resource = p.resource.take().ok_or_else(|| {
                    entry_error(i, ApiError::bad_request("a PUT entry needs a resource"))
                })?;
                let id = if let Some((_, q)) = p.url.split_once('?') {
                    let params = query_pairs(Some(q)).map_err(|e| entry_error(i, e))?;
                    let found = conditional_matches(state, &mut *tx, &rtype, &params)
                        .await
                        .map_err(|e| entry_error(i, e))?;
                    match found.len() {
                        0 => resource["id"]
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                        1 => found[0].id.clone(),
                        n => {
                            return Err(entry_error(
                                i,
                                ApiError::new(
                                    StatusCode::PRECONDITION_FAILED,
                                    "duplicate",
                                    format!("the conditional update matches {n} resources"),
                                ),
                            ))
                        }
                    }
                } else {
                    p.url.split('/').nth(1).unwrap_or("").to_string()
                };
                let mut resource = resource;
                resource["id"] = Value::String(id.clone());
                if let Some(f) = &p.full_url {
                    ids.insert(f.clone(), format!("{rtype}/{id}"));
                }
                let (resource, index) = prepare(state, &rtype, resource)
                    .await
                    .map_err(|e| entry_error(i, e))?;
                let (s, created) = tx
                    .update(&rtype, &id, resource, index, p.if_match)
                    .await
                    .map_err(|e| entry_error(i, e.into()))?;
                responses.insert(
                    i,
                    response_entry(if created { "201 Created" } else { "200 OK" }, Some(&s)),
                );
            }
            "DELETE" => {
                let found_ids: Vec<String> = if let Some((_, q)) = p.url.split_once('?') {
                    let params = query_pairs(Some(q)).map_err(|e| entry_error(i, e))?;
                    conditional_matches(state, &mut *tx, &rtype, &params)
                        .await
                        .map_err(|e| entry_error(i, e))?
                        .into_iter()
                        .map(|s| s.id)
                        .collect()
                } else {
                    vec![p.url.split('/').nth(1).unwrap_or("").to_string()]
                };
                if found_ids.len() > 1 {
                    return Err(entry_error(
                        i,
                        ApiError::new(
                            StatusCode::PRECONDITION_FAILED,
                            "multiple-matches",
                            "the conditional delete matches more than one resource",
                        ),
                    ));
                }
                for id in found_ids {
                    tx.delete(&rtype, &id)
                        .await
                        .map_err(|e| entry_error(i, e.into()))?;
                }
                responses.insert(i, response_entry("204 No Content", None));
            }
            "GET" => {}
            other => {
                return Err(entry_error(
                    i,
                    ApiError::bad_request(format!(
                        "request.method {other:?} is not supported in a transaction"
                    )),
                ))
            }
        }
    }
    tx.commit().await?;
    // Reads after the writes, as the specification orders them.
    for p in planned.iter().filter(|p| p.method == "GET") {
        responses.insert(p.index, read_entry(state, &p.url).await);
    }
    let entries: Vec<Value> = responses.into_values().collect();
    Ok(new_bundle("transaction-response", entries))
}

/// A GET inside a batch or transaction.
async fn read_entry(state: &Arc<AppState>, url: &str) -> Value {
    let result: Result<Value, ApiError> = async {
        let (path, q) = url.split_once('?').unwrap_or((url, ""));
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            [rtype] => {
                check_type(state, rtype)?;
                let params = query_pairs(Some(q))?;
                let (query, shape) = state
                    .search
                    .params
                    .query(Some(rtype), &params, false)
                    .map_err(|e| ApiError::bad_request(e.0))?;
                let (found, total) = state.store.search(&query).await?;
                searchset(state, rtype, &query, &shape, found, total).await
            }
            [rtype, id] => {
                check_type(state, rtype)?;
                Ok(state
                    .store
                    .read(rtype, id)
                    .await?
                    .resource
                    .unwrap_or(Value::Null))
            }
            _ => Err(ApiError::bad_request(format!(
                "{url} is not a read or search this server runs in a Bundle"
            ))),
        }
    }
    .await;
    match result {
        Ok(resource) => json!({"resource": resource, "response": {"status": "200 OK"}}),
        Err(e) => {
            json!({"response": {"status": e.status.as_u16().to_string(), "outcome": e.outcome}})
        }
    }
}

/// A batch: each entry on its own.
async fn batch(state: &Arc<AppState>, bundle: Value) -> Value {
    let mut entries = Vec::new();
    for e in bundle["entry"].as_array().into_iter().flatten() {
        let method = e["request"]["method"].as_str().unwrap_or("");
        let url = e["request"]["url"].as_str().unwrap_or("");
        if method == "GET" {
            entries.push(read_entry(state, url).await);
            continue;
        }
        let one = json!({"resourceType": "Bundle", "type": "transaction", "entry": [e]});
        match transaction(state, one).await {
            Ok(r) => entries.push(r["entry"][0].clone()),
            Err(err) => entries.push(json!({"response": {"status": err.status.as_u16().to_string(), "outcome": err.outcome}})),
        }
    }
    new_bundle("batch-response", entries)
}

/// A Bundle of `kind` holding `entries`; without an `entry` property when
/// there are none (FHIR JSON has no empty arrays).
fn new_bundle(kind: &str, entries: Vec<Value>) -> Value {
    let mut bundle = json!({"resourceType": "Bundle", "type": kind});
    if !entries.is_empty() {
        bundle["entry"] = Value::Array(entries);
    }
    bundle
}
