//! capabilities — [FHIR R4 http §3.1.0.10](https://hl7.org/fhir/R4/http.html#capabilities):
//! `GET [base]/metadata` answers the CapabilityStatement, generated from
//! the tables the server dispatches on: the routing table
//! ([`super::ROUTES`]) for interactions and conditional support, the
//! search-parameter registry and [`crate::search::MODIFIERS`] for search,
//! the operations table ([`super::operation::OPERATIONS`]), and the
//! profiles loaded beyond base R4.

use serde_json::{json, Value};

use super::operation::OPERATIONS;
use super::{Access, AppState, Code, Level, PathShape, ROUTES};
use crate::search::{Kind, MODIFIERS};

fn has(code: Code) -> bool {
    ROUTES.iter().any(|r| r.code == code)
}

fn interactions(system: bool) -> Vec<Value> {
    let mut codes: Vec<&str> = ROUTES
        .iter()
        .filter(|r| {
            let sys = matches!(
                r.shape,
                PathShape::Base | PathShape::SystemHistory | PathShape::SystemSearch
            );
            sys == system
        })
        .filter_map(|r| r.code.capability_code())
        .collect();
    if system && has(Code::BatchOrTransaction) {
        codes.extend(["transaction", "batch"]);
    }
    codes.dedup();
    let mut seen = Vec::new();
    codes
        .into_iter()
        .filter(|c| {
            let new = !seen.contains(c);
            seen.push(*c);
            new
        })
        .map(|c| json!({"code": c}))
        .collect()
}

fn operations(level: Level, rtype: Option<&str>) -> Vec<Value> {
    OPERATIONS
        .iter()
        .filter(|o| o.levels.contains(&level))
        .filter(|o| rtype.is_none_or(|t| o.applies_to(t)))
        .map(|o| json!({"name": o.name, "definition": o.definition}))
        .collect()
}

/// The modifiers of a parameter type, as documentation.
fn modifiers_of(kind: Kind) -> String {
    MODIFIERS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, m)| {
            m.iter()
                .map(|m| format!(":{m}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// The CapabilityStatement of `state`'s server.
pub fn capability_statement(state: &AppState) -> Value {
    let type_interactions = interactions(false);
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
                .chain(state.search.params.common())
                .filter(|p| p.kind != Kind::Other && p.code != "_id" && p.code != "_lastUpdated")
                .map(|p| {
                    json!({"name": p.code, "definition": p.url, "type": p.kind.code(),
                        "documentation": format!("modifiers: {}", modifiers_of(p.kind))})
                })
                .collect();
            params.push(json!({"name": "_id", "type": "token"}));
            params.push(json!({"name": "_lastUpdated", "type": "date"}));
            let mut r = json!({
                "type": rt,
                "profile": format!("http://hl7.org/fhir/StructureDefinition/{rt}"),
                "interaction": type_interactions,
                "versioning": "versioned",
                "readHistory": true,
                // Update as create would tell a free id from a hidden one:
                // it is offered only with access control off.
                "updateCreate": matches!(state.access, Access::Open),
                "conditionalCreate": has(Code::Create),
                "conditionalRead": "full-support",
                "conditionalUpdate": has(Code::ConditionalUpdate),
                "conditionalDelete": if has(Code::ConditionalDelete) { "single" } else { "not-supported" },
                "referencePolicy": ["literal", "logical"],
                "searchInclude": ["*"],
                "searchRevInclude": ["*"],
                "searchParam": params,
            });
            let ops: Vec<Value> = operations(Level::Type, Some(rt))
                .into_iter()
                .chain(operations(Level::Instance, Some(rt)))
                .fold(Vec::new(), |mut acc, o| {
                    if !acc.contains(&o) {
                        acc.push(o);
                    }
                    acc
                });
            if !ops.is_empty() {
                r["operation"] = Value::Array(ops);
            }
                        if !profiles.is_empty() {
                r["supportedProfile"] = Value::Array(profiles);
            }
            if rt == "Subscription" {
                // The topics subscribers may name (Subscriptions Backport).
                r["extension"] = Value::Array(
                    crate::subscription::topics::TOPICS
                        .iter()
                        .map(|t| json!({"url": crate::subscription::ext::TOPIC_CANONICAL, "valueCanonical": t.url()}))
                        .collect(),
                );
            }
            r
        })
        .collect();
    let mut rest = json!({
        "mode": "server",
        "resource": resources,
        "interaction": interactions(true),
        "searchParam": [
            {"name": "_id", "type": "token"},
            {"name": "_lastUpdated", "type": "date"},
            {"name": "_type", "type": "token", "documentation": "Narrows a search of all types to these; their shared parameters may then be used"}
        ],
        "compartment": ["http://hl7.org/fhir/CompartmentDefinition/patient"],
    });
    rest["security"] = security(state);
    let system_ops = operations(Level::System, None);
    if !system_ops.is_empty() {
        rest["operation"] = Value::Array(system_ops);
    }
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
        "rest": [rest]
    })
}

/// The scopes this server grants: v2 and v1 forms, every type and each
/// resource type.
pub fn scopes_supported(state: &AppState) -> Vec<String> {
    let mut out = vec![
        "system/*.cruds".to_string(),
        "system/*.rs".to_string(),
        "system/*.read".to_string(),
        "system/*.write".to_string(),
    ];
    out.extend(
        state
            .resource_types
            .iter()
            .map(|t| format!("system/{t}.cruds")),
    );
    out
}

/// `rest.security`: SMART on FHIR with its OAuth URIs when access is
/// enforced; a plain statement that it is not, when it is off.
fn security(state: &AppState) -> Value {
    match &state.access {
        Access::Enforced(a) => json!({
            "cors": !state.cors_origins.is_empty(),
            "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}],
                "text": "SMART on FHIR Backend Services (client credentials, private_key_jwt)"}],
            "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                "extension": [
                    {"url": "token", "valueUri": a.token_url()},
                    {"url": "authorize", "valueUri": a.authorize_url()}
                ]}],
            "description": "Bearer tokens from the token endpoint (SMART Backend Services) are required; scopes are enforced per interaction, CAF consent on every read, and every access is audited (AuditEvent)."
        }),
        Access::Open => json!({
            "cors": !state.cors_origins.is_empty(),
            "description": "ACCESS CONTROL IS OFF (carer-fhir serve --insecure-open): every request may read and write everything. For local trials only."
        }),
    }
}
