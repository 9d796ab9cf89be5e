//! `GET /metadata`: the CapabilityStatement, generated from what this
//! server really does: every R4 resource type with the same interactions,
//! the search parameters the registry holds for each, and the profiles
//! loaded beyond base R4.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fhir_core::format::Format;
use serde_json::{json, Value};

use super::handlers::query_pairs;
use super::{http, AppState};

fn search_type(kind: crate::search::Kind) -> &'static str {
    use crate::search::Kind::*;
    match kind {
        Number => "number",
        Date => "date",
        String => "string",
        Token => "token",
        Reference => "reference",
        Quantity => "quantity",
        Uri => "uri",
        Other => "special",
    }
}

/// The CapabilityStatement of `state`'s server.
pub fn capability_statement(state: &AppState) -> Value {
    let interactions: Vec<Value> = [
        "read",
        "vread",
        "update",
        "patch",
        "delete",
        "history-instance",
        "history-type",
        "create",
        "search-type",
    ]
    .iter()
    .map(|c| json!({"code": c}))
    .collect();
    let resources: Vec<Value> = state
        .resource_types
        .iter()
        .map(|rt| {
            let profiles: Vec<Value> = state
                .registry
                .of_type("StructureDefinition")
                .filter(|sd| {
                    sd["type"] == rt.as_str()
                        && sd["derivation"] == "constraint"
                        && sd["kind"] == "resource"
                })
                .filter_map(|sd| sd["url"].as_str().map(|u| json!(u)))
                .collect();
            let mut params: Vec<Value> = state
                .search
                .params
                .of_type(rt)
                .into_iter()
                .filter(|p| p.kind != crate::search::Kind::Other)
                .map(|p| json!({"name": p.code, "definition": p.url, "type": search_type(p.kind)}))
                .collect();
            params.push(json!({"name": "_id", "type": "token"}));
            params.push(json!({"name": "_lastUpdated", "type": "date"}));
            let mut r = json!({
                "type": rt,
                "profile": format!("http://hl7.org/fhir/StructureDefinition/{rt}"),
                "interaction": interactions,
                "versioning": "versioned",
                "readHistory": true,
                "updateCreate": true,
                "conditionalCreate": true,
                "conditionalUpdate": true,
                "conditionalDelete": "single",
                "searchInclude": ["*"],
                "searchRevInclude": ["*"],
                "searchParam": params,
            });
            if !profiles.is_empty() {
                r["supportedProfile"] = Value::Array(profiles);
            }
            r
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": chrono::Utc::now().format("%Y-%m-%d").to_string(),
        "publisher": "carer-fhir",
        "kind": "instance",
        "software": {"name": "carer-fhir", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": format!("carer-fhir FHIR R4 server on {}", state.store.name()), "url": state.base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/fhir+xml"],
        "patchFormat": ["application/json-patch+json", "application/fhir+json", "application/fhir+xml"],
        "rest": [{
            "mode": "server",
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}, {"code": "history-system"}],
            "operation": [{"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}]
        }]
    })
}

/// GET /metadata
pub async fn metadata(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = query_pairs(raw.as_deref()).unwrap_or_default();
    let fmt = match http::negotiate(&headers, &query) {
        Ok(f) => f,
        Err(e) => return http::error(e, Format::Json),
    };
    http::respond(StatusCode::OK, &capability_statement(&state), fmt, &[])
}
