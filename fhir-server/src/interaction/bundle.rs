//! Bundles the server answers with ([Bundle](https://hl7.org/fhir/R4/bundle.html)):
//! searchsets and histories with their paging links, and the
//! `_summary`/`_elements` cut of a resource
//! ([search §3.1.1.5.8–9](https://hl7.org/fhir/R4/search.html#summary)).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::{AppState, Failure};
use crate::search::Paging;

/// `_summary` and `_elements` of a read or search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shaping {
    /// `_summary`.
    pub summary: Option<String>,
    /// `_elements`.
    pub elements: Vec<String>,
}

impl Shaping {
    /// From a request's parameters.
    ///
    /// # Errors
    /// 400 for a `_summary` value R4 does not define.
    pub fn from_query(q: &[(String, String)]) -> Result<Shaping, Failure> {
        let mut s = Shaping::default();
        for (k, v) in q {
            match k.as_str() {
                "_summary" => {
                    if !matches!(v.as_str(), "true" | "false" | "text" | "data" | "count") {
                        return Err(Failure::invalid(format!(
                            "_summary: {v:?} is not true, false, text, data or count"
                        )));
                    }
                    s.summary = Some(v.clone());
                }
                "_elements" => {
                    s.elements = v
                        .split(',')
                        .map(|e| e.trim().to_string())
                        .filter(|e| !e.is_empty())
                        .collect()
                }
                _ => {}
            }
        }
        Ok(s)
    }

    /// Whether the resource is answered whole.
    pub fn is_whole(&self) -> bool {
        matches!(
            self.summary.as_deref(),
            None | Some("false") | Some("count")
        ) && self.elements.is_empty()
    }

    /// The resource cut down as `_summary`/`_elements` ask, tagged SUBSETTED.
    pub fn apply(&self, state: &AppState, resource: Value) -> Value {
        if self.is_whole() {
            return resource;
        }
        let rt = resource["resourceType"].as_str().unwrap_or("").to_string();
        let keep: BTreeSet<String> = match self.summary.as_deref() {
            Some("true") => top_elements(state, &rt, |e| e["isSummary"] == true),
            Some("text") => ["text", "id", "meta"]
                .iter()
                .map(|s| s.to_string())
                .chain(mandatory_elements(state, &rt))
                .collect(),
            Some("data") => {
                let mut r = resource;
                if let Some(o) = r.as_object_mut() {
                    o.remove("text");
                }
                return subsetted(r);
            }
            _ => self
                .elements
                .iter()
                .cloned()
                .chain(mandatory_elements(state, &rt))
                .collect(),
        };
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
    let prefix = format!("{rt}.");
    sd.pointer("/snapshot/element")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| pick(e))
        .filter_map(|e| e["path"].as_str())
        .filter_map(|p| p.strip_prefix(&prefix))
        .filter(|p| !p.contains('.'))
        .map(|p| p.trim_end_matches("[x]").to_string())
        .collect()
}

fn mandatory_elements(state: &AppState, rt: &str) -> BTreeSet<String> {
    top_elements(state, rt, |e| e["min"].as_u64().unwrap_or(0) > 0)
}

/// A link to a page of `path` (relative to the base) with the parameters
/// `used`.
pub fn page_link(
    state: &AppState,
    path: &str,
    used: &[(String, String)],
    paging: Paging,
) -> String {
    let mut params: Vec<(String, String)> = used
        .iter()
        .filter(|(k, _)| k != "_count" && k != "_offset")
        .cloned()
        .collect();
    params.push(("_count".into(), paging.count.to_string()));
    params.push(("_offset".into(), paging.offset.to_string()));
    let q = serde_urlencoded::to_string(&params).unwrap_or_default();
    let sep = if path.is_empty() { "" } else { "/" };
    format!("{}{sep}{path}?{q}", state.base)
}

/// `self`, `next` and `previous` links of a page.
pub fn paging_links(
    state: &AppState,
    path: &str,
    used: &[(String, String)],
    paging: Paging,
    total: Option<i64>,
    page_len: usize,
) -> Value {
    let mut links = vec![
        json!({"relation": "self", "url": page_link(state, path, used, paging)}),
        json!({"relation": "first", "url": page_link(state, path, used, Paging { offset: 0, ..paging })}),
    ];
    // The last page, when the total is known (a page is never empty
    // unless there is nothing at all).
    if let (Some(t), true) = (total, paging.count > 0) {
        let last = (t.max(1) - 1) / paging.count * paging.count;
        if last <= crate::search::MAX_OFFSET {
            links.push(json!({"relation": "last", "url": page_link(state, path, used, Paging { offset: last, ..paging })}));
        }
    }
    if let Some(next) = paging.next(total, page_len) {
        links.push(json!({"relation": "next", "url": page_link(state, path, used, Paging { offset: next, ..paging })}));
    }
    if let Some(previous) = paging.previous() {
        links.push(json!({"relation": "previous", "url": page_link(state, path, used, Paging { offset: previous, ..paging })}));
    }
    Value::Array(links)
}

/// A Bundle of `kind` holding `entries`; without an `entry` property when
/// there are none (FHIR JSON has no empty arrays).
pub fn new_bundle(kind: &str, entries: Vec<Value>) -> Value {
    let mut bundle = json!({"resourceType": "Bundle", "type": kind});
    if !entries.is_empty() {
        bundle["entry"] = Value::Array(entries);
    }
    bundle
}
