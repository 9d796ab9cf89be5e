//! Rules of a Bundle that span its entries: `fullUrl` form and agreement
//! with the resource, unique link relations, references resolved inside
//! the bundle, and, for documents, every entry reachable from the
//! Composition.

use std::collections::BTreeSet;

use serde_json::Value;

use super::issue::{Issue, Severity};
use super::Validator;

/// Checks the rules of a Bundle across its entries.
pub(super) fn check(v: &Validator, bundle: &Value, issues: &mut Vec<Issue>) {
    let ty = bundle.get("type").and_then(Value::as_str).unwrap_or("");
    let entries: &[Value] = bundle
        .get("entry")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let mut error = |path: String, message: String| {
        issues.push(Issue {
            severity: Severity::Error,
            code: "invalid",
            expression: path,
            message,
        });
    };
    links(bundle, &mut error);
    let transactional = matches!(
        ty,
        "transaction" | "batch" | "transaction-response" | "batch-response"
    );
    for (i, e) in entries.iter().enumerate() {
        let path = format!("Bundle.entry[{i}]");
        let resource = e.get("resource");
        match e.get("fullUrl").and_then(Value::as_str) {
            None if resource.is_some() && !transactional => error(
                path,
                "Except for transactions and batches, each entry in a Bundle must have a fullUrl which is the identity of the resource in the entry".into(),
            ),
            None => {}
            Some(url) if !url.contains(':') => {
                error(path, format!("The fullUrl must be an absolute URL (not '{url}')"))
            }
            Some(url) => {
                if let Some(r) = resource {
                    restful_full_url(v, url, r, &path, &mut error);
                }
            }
        }
    }
    references(entries, matches!(ty, "document" | "message"), &mut error);
}

/// `Bundle.link.relation` values are unique.
fn links(bundle: &Value, error: &mut impl FnMut(String, String)) {
    let mut seen = BTreeSet::new();
    for (i, l) in bundle
        .get("link")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(rel) = l.get("relation").and_then(Value::as_str) {
            if !seen.insert(rel) {
                error(
                    format!("Bundle.link[{i}]"),
                    format!("The link relationship type '{rel}' can only occur once"),
                );
            }
        }
    }
}

/// A fullUrl of the RESTful form `…/Type/id` must name the entry's own
/// resource.
fn restful_full_url(
    v: &Validator,
    url: &str,
    resource: &Value,
    path: &str,
    error: &mut impl FnMut(String, String),
) {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return;
    }
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let (Some(id), Some(ty)) = (parts.next(), parts.next()) else {
        return;
    };
    if !v.is_resource_type(ty) {
        return;
    }
    let rt = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    match resource.get("id").and_then(Value::as_str) {
        None => error(
            path.to_string(),
            format!("The fullUrl '{url}' looks like a RESTful server URL, but the resource has no id"),
        ),
        Some(rid) if rid != id || rt != ty => error(
            path.to_string(),
            format!("The fullUrl '{url}' looks like a RESTful server URL, so it must end with the correct type and id (/{rt}/{rid})"),
        ),
        Some(_) => {}
    }
}

/// A reference that resolves inside the bundle resolves to exactly one
/// entry, of the right type. In documents and messages (`closed`) every
/// reference must resolve, and in documents every entry is reachable from
/// the Composition.
fn references(entries: &[Value], closed: bool, error: &mut impl FnMut(String, String)) {
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let Some(resource) = e.get("resource") else {
            continue;
        };
        let mut found = Vec::new();
        collect_references(resource, &format!("Bundle.entry[{i}].resource"), &mut found);
        let from = e.get("fullUrl").and_then(Value::as_str).unwrap_or("");
        for (path, reference) in found {
            let mut matches = resolve(entries, from, &reference);
            // A versioned reference means the entry of that version.
            if let Some((_, version)) = reference.split_once("/_history/") {
                matches.retain(|&m| {
                    entries[m]
                        .pointer("/resource/meta/versionId")
                        .and_then(Value::as_str)
                        .is_none_or(|v| v == version)
                });
            }
            match matches.as_slice() {
                [one] => {
                    edges.push((i, *one));
                    let expected = reference_type(&reference);
                    let actual = entries[*one]
                        .pointer("/resource/resourceType")
                        .and_then(Value::as_str);
                    if let (Some(expected), Some(actual)) = (expected, actual) {
                        if expected != actual {
                            error(
                                path,
                                format!("Matching reference for reference {reference} has resourceType {actual}"),
                            );
                        }
                    }
                }
                [] if closed => error(path, format!("Can't find '{reference}' in the bundle")),
                [] => {}
                many => error(
                    path,
                    format!(
                        "Found {} matches for '{reference}' in the bundle",
                        many.len()
                    ),
                ),
            }
        }
    }
    let is_document = closed
        && entries
            .first()
            .and_then(|e| e.pointer("/resource/resourceType"))
            .and_then(Value::as_str)
            == Some("Composition");
    if !is_document {
        return;
    }
    let mut reached = vec![false; entries.len()];
    reached[0] = true;
    let mut changed = true;
    while changed {
        changed = false;
        for &(a, b) in &edges {
            if reached[a] != reached[b] {
                reached[a] = true;
                reached[b] = true;
                changed = true;
            }
        }
    }
    for (i, e) in entries.iter().enumerate() {
        if !reached[i] && e.get("resource").is_some() {
            let url = e.get("fullUrl").and_then(Value::as_str).unwrap_or("");
            error(
                format!("Bundle.entry[{i}]"),
                format!("Entry '{url}' isn't reachable by traversing links (forward or backward) from the Composition"),
            );
        }
    }
}

/// Every `reference` string inside a resource (not into contained
/// resources), with its path.
fn collect_references(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == "contained" {
                    continue;
                }
                if k == "reference" {
                    if let Some(r) = x.as_str() {
                        if !r.starts_with('#') {
                            out.push((path.to_string(), r.to_string()));
                        }
                    }
                    continue;
                }
                collect_references(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                collect_references(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The resource type a reference names (`Patient/1`, `http://x/Patient/1`,
/// `Patient/1/_history/2`), if any.
fn reference_type(reference: &str) -> Option<&str> {
    if reference.starts_with("urn:") {
        return None;
    }
    let without_history = reference.split("/_history/").next().unwrap_or(reference);
    let mut parts = without_history.rsplit('/');
    parts.next()?;
    parts
        .next()
        .filter(|t| t.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// The entries a reference from the entry with fullUrl `from` can mean.
pub(super) fn resolve(entries: &[Value], from: &str, reference: &str) -> Vec<usize> {
    let full = |e: &Value| {
        e.get("fullUrl")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    if reference.contains(':') {
        let target = reference.split("/_history/").next().unwrap_or(reference);
        return (0..entries.len())
            .filter(|&i| full(&entries[i]) == target)
            .collect();
    }
    let plain = reference.split("/_history/").next().unwrap_or(reference);
    let (Some(_), Some(id)) = (reference_type(plain), plain.rsplit('/').next()) else {
        return Vec::new();
    };
    // Relative to the referring entry's server base, when it has one.
    if let Some(base) = restful_base(from) {
        let target = format!("{base}/{plain}");
        let exact: Vec<usize> = (0..entries.len())
            .filter(|&i| full(&entries[i]) == target)
            .collect();
        if !exact.is_empty() {
            return exact;
        }
    }
    (0..entries.len())
        .filter(|&i| {
            let e = &entries[i];
            let url = full(e);
            // A resource's own type and id do not make it the target: its
            // fullUrl is its identity in the bundle.
            url == plain || url.ends_with(&format!("/{plain}")) || url == format!("urn:uuid:{id}")
        })
        .collect()
}

/// `http://server/fhir` of `http://server/fhir/Patient/1`.
fn restful_base(url: &str) -> Option<&str> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return None;
    }
    let mut it = url.trim_end_matches('/').rsplitn(3, '/');
    it.next()?;
    it.next()?;
    it.next()
}
