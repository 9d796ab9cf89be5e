//! Rules of a Bundle that span its entries (R4 `bundle.html`): link
//! relations by Bundle type, `fullUrl` presence, form and agreement with
//! the resource, search set entries, references resolved inside the
//! bundle, and for documents and messages the references that must
//! resolve and the entries that must be reachable.
//!
//! References resolve as `bundle.html#references` says: an absolute
//! reference is the `fullUrl` of an entry; a relative one is resolved
//! against the referring entry's `fullUrl` (its server base, or the
//! `urn:uuid:` namespace) and then looked up by `fullUrl`. A reference
//! that matches several entries is an error.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use serde_json::Value;

use super::issue::{Issue, Severity};
use super::Validator;
use crate::fhirpath::{capitalise_type, TypeInfo};

/// Where issues go, with their severity.
struct Report<'a> {
    issues: &'a mut Vec<Issue>,
}

impl Report<'_> {
    fn add(&mut self, severity: Severity, path: String, message: String) {
        self.issues.push(Issue {
            severity,
            code: "invalid",
            expression: path,
            message,
        });
    }

    fn error(&mut self, path: String, message: String) {
        self.add(Severity::Error, path, message);
    }

    fn warning(&mut self, path: String, message: String) {
        self.add(Severity::Warning, path, message);
    }
}

fn string<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn resource_type(e: &Value) -> Option<&str> {
    e.get("resource").and_then(|r| string(r, "resourceType"))
}

fn resource_id(e: &Value) -> Option<&str> {
    e.get("resource").and_then(|r| string(r, "id"))
}

/// A Bundle's entries by what references name them, built once per
/// Bundle so that resolving every reference costs one lookup each, not a
/// scan of the entries (a Bundle of n entries with a reference each would
/// otherwise cost n²).
#[derive(Default)]
pub(super) struct Index {
    /// `fullUrl` → the entries that carry it, in order.
    by_url: HashMap<String, Vec<usize>>,
    /// `(type, id)` of the entry's resource → the entries.
    by_type_id: HashMap<(String, String), Vec<usize>>,
    /// The address of an entry's resource → the entry.
    by_resource: HashMap<usize, usize>,
}

fn version_of(e: &Value) -> Option<&str> {
    e.pointer("/resource/meta/versionId")
        .and_then(Value::as_str)
}

impl Index {
    pub(super) fn new(entries: &[Value]) -> Index {
        let mut index = Index::default();
        for (i, e) in entries.iter().enumerate() {
            if let Some(url) = string(e, "fullUrl") {
                index.by_url.entry(url.to_string()).or_default().push(i);
            }
            if let Some(r) = e.get("resource") {
                index.by_resource.insert(r as *const Value as usize, i);
                if let (Some(ty), Some(id)) = (resource_type(e), resource_id(e)) {
                    index
                        .by_type_id
                        .entry((ty.to_string(), id.to_string()))
                        .or_default()
                        .push(i);
                }
            }
        }
        index
    }

    /// The entry whose resource is `resource` (by address).
    pub(super) fn entry_of(&self, resource: &Value) -> Option<usize> {
        self.by_resource
            .get(&(resource as *const Value as usize))
            .copied()
    }

    fn with_url(&self, url: &str) -> &[usize] {
        self.by_url.get(url).map_or(&[], Vec::as_slice)
    }

    /// The entries a reference from the entry with fullUrl `from` names, by
    /// the bundle's resolution rules (`bundle.html#references`): an
    /// absolute reference is a fullUrl; a relative one is resolved against
    /// `from`'s base (`http://server/fhir/` of a RESTful fullUrl,
    /// `urn:uuid:` of a UUID); a version (`_history`) selects the entry
    /// with that `meta.versionId`.
    pub(super) fn resolve(&self, entries: &[Value], from: &str, reference: &str) -> Vec<usize> {
        let (target, version) = match reference.split_once("/_history/") {
            Some((t, v)) => (t, Some(v)),
            None => (reference, None),
        };
        let target = if reference.contains(':') {
            target.to_string()
        } else {
            if from.is_empty() {
                return Vec::new();
            }
            if from.starts_with("urn") {
                let base = &from[..from.rfind(':').map_or(0, |i| i + 1)];
                let id = target.rsplit('/').next().unwrap_or(target);
                format!("{base}{id}")
            } else {
                let mut parts: Vec<&str> = from.split('/').collect();
                parts.truncate(parts.len().saturating_sub(2));
                format!("{}/{target}", parts.join("/"))
            }
        };
        self.with_url(&target)
            .iter()
            .copied()
            .filter(|&i| version.is_none_or(|v| version_of(&entries[i]) == Some(v)))
            .collect()
    }

    /// The entries whose `fullUrl`, or `fullUrl/_history/versionId`, is
    /// `url`, in order.
    fn by_full_or_versioned(&self, entries: &[Value], url: &str) -> Vec<usize> {
        let mut found: Vec<usize> = self.with_url(url).to_vec();
        if let Some(at) = url.rfind("/_history/") {
            let (base, vid) = (&url[..at], &url[at + "/_history/".len()..]);
            found.extend(
                self.with_url(base)
                    .iter()
                    .copied()
                    .filter(|&i| version_of(&entries[i]) == Some(vid)),
            );
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Checks the rules of a Bundle across its entries.
pub(super) fn check(v: &Validator, bundle: &Value, issues: &mut Vec<Issue>) {
    let ty = string(bundle, "type").unwrap_or("");
    let entries: &[Value] = bundle
        .get("entry")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let mut report = Report { issues };
    let index = Index::new(entries);
    links(ty, bundle, &mut report);
    if ty == "document" {
        stylesheets(bundle, &index, &mut report);
    }
    full_urls(v, ty, entries, &mut report);
    if ty == "searchset" {
        search_set(v, bundle, entries, &mut report);
    }
    references(v, ty, entries, &index, &mut report);
    if ty == "document" || ty == "message" {
        interlinked(v, ty, bundle, entries, &index, &mut report);
    }
}

/// Link relations (`bundle.html#links`): the paging relations (`first`,
/// `previous`, `next`, `last`) belong to search sets and histories and are
/// prohibited in other Bundles; in search sets and histories each paging
/// relation and `self` occurs once, elsewhere `self` occurs once.
fn links(ty: &str, bundle: &Value, report: &mut Report) {
    const PAGING: &[&str] = &["first", "previous", "next", "last"];
    let paged = matches!(ty, "searchset" | "history");
    let known = matches!(
        ty,
        "document"
            | "message"
            | "collection"
            | "subscription-notification"
            | "transaction"
            | "transaction-response"
            | "batch"
            | "batch-response"
    );
    let mut seen = BTreeSet::new();
    for (i, l) in bundle
        .get("link")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(rel) = string(l, "relation") else {
            continue;
        };
        let path = format!("Bundle.link[{i}]");
        if known && PAGING.contains(&rel) {
            report.error(
                format!("{path}.relation"),
                format!("The link relationship type '{rel}' used in search sets is prohibited in this context"),
            );
        }
        let unique =
            (paged && (PAGING.contains(&rel) || rel == "self")) || (known && rel == "self");
        if !seen.insert(rel) && unique {
            report.error(
                path,
                format!("The link relationship type '{rel}' can only occur once"),
            );
        }
    }
}

/// The stylesheets a Bundle links to, with each link's index
/// (`relation` `stylesheet`).
fn stylesheet_links(bundle: &Value) -> impl Iterator<Item = (usize, &str)> {
    bundle
        .get("link")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, l)| string(l, "relation") == Some("stylesheet"))
        .filter_map(|(i, l)| string(l, "url").map(|url| (i, url)))
}

/// The entry a relative stylesheet URL names: the first resource whose
/// `Type/id` it is (looked up, not searched for: a Bundle may have many
/// links and many entries).
fn stylesheet_entry(index: &Index, url: &str) -> Option<usize> {
    let (ty, id) = url.split_once('/')?;
    index
        .by_type_id
        .get(&(ty.to_string(), id.to_string()))?
        .first()
        .copied()
}

/// A document's stylesheets (`documents.html`, "Presenting Documents"):
/// one named by a relative URL is a resource in the document
/// (`Binary/[id]`), so the URL must resolve in the Bundle.
fn stylesheets(bundle: &Value, index: &Index, report: &mut Report) {
    for (i, url) in stylesheet_links(bundle) {
        if !url.contains(':') && stylesheet_entry(index, url).is_none() {
            report.error(
                format!("Bundle.link[{i}].url"),
                "The stylesheet reference could not be resolved in this bundle".into(),
            );
        }
    }
}

/// Whether a URL has the RESTful form `[base/]Type/id[/_history/vid]`
/// with a known resource type (`http.html#general`).
fn restful(v: &Validator, url: &str) -> Option<(String, String)> {
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if scheme == "http" || scheme == "https" => rest,
        Some(_) => return None,
        None => url,
    };
    let plain = rest.split("/_history/").next().unwrap_or(rest);
    let mut parts = plain.rsplit('/');
    let id = parts.next()?;
    let ty = parts.next()?;
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    (v.is_resource_type(ty) && id_ok).then(|| (ty.to_string(), id.to_string()))
}

/// `fullUrl` (`bundle.html#bundle-unique`): present in every entry
/// except in transactions and batches; absolute; when it has the RESTful
/// form, the entry's resource has an id and the URL ends with its type and
/// id; a canonical resource's `url` may equal the `fullUrl` only when the
/// `fullUrl` is RESTful and ends with the resource's id.
fn full_urls(v: &Validator, ty: &str, entries: &[Value], report: &mut Report) {
    let optional = matches!(
        ty,
        "transaction" | "transaction-response" | "batch" | "batch-response"
    );
    for (i, e) in entries.iter().enumerate() {
        let path = format!("Bundle.entry[{i}]");
        let full = string(e, "fullUrl");
        match full {
            None if !optional => report.error(
                path.clone(),
                "Except for transactions and batches, each entry in a Bundle must have a fullUrl which is the identity of the resource in the entry".into(),
            ),
            None => {}
            Some(url) if !url.contains(':') => report.error(
                path.clone(),
                format!("The fullUrl must be an absolute URL (not '{url}')"),
            ),
            Some(url) => {
                if let (Some(rt), Some(_)) = (resource_type(e), restful(v, url)) {
                    match resource_id(e) {
                        None => report.error(
                            path.clone(),
                            format!("The fullUrl '{url}' looks like a RESTful server URL, but the resource has no id"),
                        ),
                        Some(id) if !url.ends_with(&format!("/{rt}/{id}")) => report.error(
                            path.clone(),
                            format!("The fullUrl '{url}' looks like a RESTful server URL, so it must end with the correct type and id (/{rt}/{id})"),
                        ),
                        Some(_) => {}
                    }
                }
            }
        }
        let canonical = e.get("resource").and_then(|r| string(r, "url"));
        if let (Some(canonical), Some(full)) = (canonical, full) {
            let id = resource_id(e).unwrap_or("");
            let legacy = canonical.starts_with("http://hl7.org/fhir/v3/")
                || canonical.starts_with("http://hl7.org/fhir/v2/");
            let restful_id =
                restful(v, canonical).is_some() && canonical.ends_with(&format!("/{id}"));
            if canonical == full && !restful_id && !legacy {
                report.error(
                    path,
                    format!("The canonical URL ({canonical}) cannot match the fullUrl ({full}) unless the resource id ({id}) also matches"),
                );
            }
        }
    }
}

/// The resource types a search's self link asks for: its path's last
/// segment when that is a type, else its `_type` parameter.
fn searched_types(v: &Validator, url: &str) -> Vec<String> {
    let (head, query) = url.split_once('?').unwrap_or((url, ""));
    if let Some(last) = head.trim_end_matches('/').rsplit('/').next() {
        if v.is_resource_type(last) {
            return vec![last.to_string()];
        }
    }
    query
        .split('&')
        .filter_map(|p| p.strip_prefix("_type="))
        .flat_map(|t| t.split(','))
        .map(str::to_string)
        .collect()
}

/// Search set entries (`bundle.html#searchset`, `search.html#conformance`):
/// each has a resource; when entries carry a search mode, `match` and
/// `include` entries have ids, matches are of a type the search asked
/// for, and `outcome` entries are OperationOutcomes.
fn search_set(v: &Validator, bundle: &Value, entries: &[Value], report: &mut Report) {
    let self_link = bundle
        .get("link")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|l| string(l, "relation") == Some("self"))
        .and_then(|l| string(l, "url"));
    let types = self_link.map(|u| searched_types(v, u)).unwrap_or_default();
    let modes: Vec<Option<&str>> = entries
        .iter()
        .map(|e| e.get("search").and_then(|s| string(s, "mode")))
        .collect();
    let any_mode = modes.iter().any(Option::is_some);
    for (i, e) in entries.iter().enumerate() {
        let path = format!("Bundle.entry[{i}]");
        let Some(r) = e.get("resource") else {
            report.error(path, "SearchSet Bundle Entries must have resources".into());
            continue;
        };
        if !any_mode {
            continue;
        }
        let rt = string(r, "resourceType").unwrap_or("");
        let has_id = string(r, "id").is_some();
        match modes[i] {
            None => report.warning(
                path,
                "Search entries should say whether they are a match, an include or an outcome (search.mode)".into(),
            ),
            Some("match") => {
                if !has_id {
                    report.error(format!("{path}.resource"), "Search results must have ids".into());
                }
                if !types.is_empty() && !types.iter().any(|t| t == rt) {
                    report.error(
                        format!("{path}.resource"),
                        format!("This is not a matching resource type for the specified search ({rt} expecting {})", types.join(", ")),
                    );
                }
            }
            Some("include") => {
                if !has_id {
                    report.error(format!("{path}.resource"), "Search results must have ids".into());
                }
            }
            Some(_) => {
                if rt != "OperationOutcome" {
                    report.error(
                        format!("{path}.resource"),
                        format!("This is not an OperationOutcome ({rt})"),
                    );
                }
            }
        }
    }
}

/// The number of `/` in a relative reference: `Type/id` has one,
/// `Type/id/_history/vid` three.
fn slashes(reference: &str) -> usize {
    reference.matches('/').count()
}

/// A conditional reference's query (`Patient?identifier=x|1`) is a
/// valid search: a known type, then `name=value` pairs
/// (`http.html#trules`).
pub(super) fn is_search_url(v: &Validator, reference: &str) -> bool {
    let Some((ty, query)) = reference.split_once('?') else {
        return false;
    };
    if !v.is_resource_type(ty) || query.is_empty() {
        return false;
    }
    query.split('&').all(|pair| {
        let Some((name, value)) = pair.split_once('=') else {
            return false;
        };
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic());
        first_ok
            && chars.all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c))
            && !value.contains('=')
    })
}

/// Every reference inside an entry's resource that points out of it (not
/// `#`, not into contained resources' own), with its path and whether it
/// is a `Reference.reference`.
fn collect_references(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == "reference" {
                    if let Some(r) = x.as_str() {
                        if !r.starts_with('#') {
                            out.push((path.to_string(), r.to_string()));
                        }
                    }
                    continue;
                }
                // A nested Bundle resolves its own references.
                if x.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
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

/// The `uri` and `url` values inside a resource, with their paths: they
/// name entries as references do (an `Attachment.url` naming a Binary in
/// the Bundle, a `narrativeLink` extension's `valueUrl`), and the
/// reference validator follows them when it links a document's or a
/// message's entries (`BundleValidator.findReferences`). Canonicals,
/// `system`s and endpoints' addresses name no entry.
fn collect_uris(
    v: &Validator,
    value: &Value,
    ty: &str,
    path: &str,
    out: &mut Vec<(String, String)>,
) {
    const NOT_LINKS: &[&str] = &[
        "MessageHeader.source.endpoint",
        "MessageHeader.destination.endpoint",
        "Endpoint.address",
    ];
    let Some(obj) = value.as_object() else {
        return;
    };
    let ty = string(value, "resourceType").unwrap_or(ty);
    let Some(info) = v.model.get(ty) else {
        return;
    };
    for (key, x) in obj {
        let Some(element_ty) = element_type(info, key) else {
            continue;
        };
        let link = matches!(element_ty, "uri" | "url")
            && key != "system"
            && !NOT_LINKS.contains(&format!("{ty}.{key}").as_str());
        let items: Vec<(String, &Value)> = match x {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, x)| (format!("{path}.{key}[{i}]"), x))
                .collect(),
            _ => vec![(format!("{path}.{key}"), x)],
        };
        for (here, x) in items {
            match x.as_str() {
                Some(u) if link && !u.starts_with('#') => out.push((here, u.to_string())),
                Some(_) => {}
                // A nested Bundle resolves its own references.
                None if string(x, "resourceType") == Some("Bundle") => {}
                None => collect_uris(v, x, element_ty, &here, out),
            }
        }
    }
}

/// The type of the element a JSON property of a `ty` holds (`valueUrl`
/// of an Extension holds a `url`).
fn element_type<'m>(info: &'m TypeInfo, key: &str) -> Option<&'m str> {
    if let Some(e) = info.element(key).filter(|e| !e.choice) {
        return e.types.first().map(String::as_str);
    }
    info.elements().filter(|e| e.choice).find_map(|e| {
        let suffix = key.strip_prefix(e.name.as_str())?;
        e.types
            .iter()
            .map(String::as_str)
            .find(|t| capitalise_type(t) == suffix)
    })
}

/// References from each entry (`bundle.html#references`): a relative
/// reference needs the referring entry's fullUrl (except in responses);
/// outside transactions and batches a relative reference is `Type/id`
/// (in them a conditional search is allowed too); a reference matches at
/// most one entry, of the type it names.
fn references(v: &Validator, ty: &str, entries: &[Value], index: &Index, report: &mut Report) {
    let response = matches!(ty, "transaction-response" | "batch-response");
    let transaction = matches!(ty, "transaction" | "batch");
    for (i, e) in entries.iter().enumerate() {
        let Some(resource) = e.get("resource") else {
            continue;
        };
        let mut found = Vec::new();
        collect_references(resource, &format!("Bundle.entry[{i}].resource"), &mut found);
        let from = string(e, "fullUrl");
        let mut missing_reported = false;
        for (path, reference) in found {
            let absolute = reference.contains(':');
            if !absolute {
                if from.is_none() {
                    if !response {
                        if !missing_reported {
                            report.error(
                                format!("Bundle.entry[{i}]"),
                                "Bundle entry missing fullUrl".into(),
                            );
                            missing_reported = true;
                        }
                        report.error(
                            path,
                            "Relative Reference appears inside Bundle whose entry is missing a fullUrl".into(),
                        );
                    }
                    continue;
                }
                let n = slashes(&reference);
                if n != 1 && n != 3 {
                    if transaction {
                        if !is_search_url(v, &reference) {
                            report.error(path, format!("Relative URLs must be of the format [ResourceName]/[id], or a search URL is allowed ([type]?parameters. Encountered {reference})"));
                        }
                    } else {
                        report.error(
                            path,
                            format!("Relative URLs must be of the format [ResourceName]/[id]. Encountered {reference}"),
                        );
                    }
                    continue;
                }
            }
            let matches = index.resolve(entries, from.unwrap_or(""), &reference);
            if matches.len() > 1 {
                for _ in 1..matches.len() {
                    report.error(
                        path.clone(),
                        format!("Multiple matches in bundle for reference {reference}"),
                    );
                }
                continue;
            }
            if let (Some(&m), false) = (matches.first(), absolute) {
                let expected = reference.split('/').next().unwrap_or("");
                let actual = resource_type(&entries[m]).unwrap_or("");
                if expected != actual {
                    report.error(
                        path,
                        format!("Matching reference for reference {reference} has resourceType {actual}"),
                    );
                }
            }
        }
    }
}

/// What a reference from a document or message means inside it: the entry
/// it resolves to, or why it resolves to none (`documents.html`,
/// `messaging.html`).
enum InBundle {
    Found(usize),
    /// Not found, and that is a fault whether or not it must resolve.
    Wrong(String),
    /// Not found.
    Missing,
}

/// The types whose instances are canonical resources (they have `url`,
/// `version`, `name` and `status`), which a document may cite without
/// holding.
fn is_canonical_type(v: &Validator, ty: &str) -> bool {
    v.model.get(ty).is_some_and(|t| {
        ["url", "version", "name", "status"]
            .iter()
            .all(|e| t.element(e).is_some())
    })
}

fn resolve_in_document(
    v: &Validator,
    entries: &[Value],
    index: &Index,
    from: usize,
    reference: &str,
) -> InBundle {
    let reference = reference.split('#').next().unwrap_or(reference);
    let by_url = |url: &str| index.by_full_or_versioned(entries, url);
    if reference.contains(':') {
        let found = by_url(reference);
        return match found.as_slice() {
            [one] => InBundle::Found(*one),
            [] => {
                let known = v.registry.resolve(reference).is_some()
                    || restful(v, reference).is_some_and(|(t, _)| is_canonical_type(v, &t));
                if known {
                    InBundle::Found(from)
                } else {
                    InBundle::Missing
                }
            }
            many => InBundle::Wrong(format!(
                "Found {} matches for '{reference}' in the bundle",
                many.len()
            )),
        };
    }
    let full = string(&entries[from], "fullUrl").unwrap_or("");
    let own = format!(
        "{}/{}",
        resource_type(&entries[from]).unwrap_or(""),
        resource_id(&entries[from]).unwrap_or("")
    );
    let base = (restful(v, full).is_some() && full.ends_with(&own))
        .then(|| &full[..full.len() - own.len()]);
    if let Some(base) = base {
        let found = by_url(&format!("{base}{reference}"));
        match found.as_slice() {
            [one] => return InBundle::Found(*one),
            [] => {}
            many => {
                return InBundle::Wrong(format!(
                    "Found {} matches for '{reference}' in the bundle",
                    many.len()
                ))
            }
        }
    }
    let parts: Vec<&str> = reference.split('/').collect();
    if parts.len() >= 2 && v.is_resource_type(parts[0]) {
        let same: Vec<&str> = index
            .by_type_id
            .get(&(parts[0].to_string(), parts[1].to_string()))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| &entries[i])
            .filter(|e| parts.len() < 4 || version_of(e) == Some(parts[3]))
            .map(|e| string(e, "fullUrl").unwrap_or("<missing>"))
            .collect();
        if !same.is_empty() {
            return InBundle::Wrong(format!(
                "Can't find '{reference}' in the bundle. There is a resource in the bundle with the same type and id ({}), but it does not match because of the fullUrl based rules around matching relative references",
                same.join(",")
            ));
        }
    }
    InBundle::Missing
}

/// The references a document's Composition or a message's MessageHeader
/// makes that must resolve inside the Bundle (`documents.html#content`,
/// `messaging.html#content`), with their paths.
fn anchor_references(first: &Value, path: &str, document: bool) -> Vec<(String, String)> {
    fn refs(v: &Value, key: &str, path: &str, all: bool, out: &mut Vec<(String, String)>) {
        match v.get(key) {
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if !all && i > 0 {
                        break;
                    }
                    if let Some(r) = string(item, "reference") {
                        out.push((format!("{path}.{key}[{i}]"), r.to_string()));
                    }
                }
            }
            Some(item) => {
                if let Some(r) = string(item, "reference") {
                    out.push((format!("{path}.{key}"), r.to_string()));
                }
            }
            None => {}
        }
    }
    fn sections(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
        for (i, s) in v
            .get("section")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let here = format!("{path}.section[{i}]");
            refs(s, "author", &here, true, out);
            refs(s, "focus", &here, false, out);
            refs(s, "entry", &here, true, out);
            sections(s, &here, out);
        }
    }
    let mut out = Vec::new();
    if document {
        refs(first, "subject", path, false, &mut out);
        refs(first, "author", path, true, &mut out);
        refs(first, "encounter", path, false, &mut out);
        refs(first, "custodian", path, false, &mut out);
        for (key, sub, all) in [("attester", "party", false), ("event", "detail", true)] {
            for (i, item) in first
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                refs(item, sub, &format!("{path}.{key}[{i}]"), all, &mut out);
            }
        }
        sections(first, path, &mut out);
    } else {
        refs(first, "focus", path, true, &mut out);
    }
    out.retain(|(_, r)| !r.starts_with('#'));
    out
}

/// Documents and messages (`documents.html`, `messaging.html`): the first
/// entry is the Composition or MessageHeader; its references resolve in
/// the Bundle; every entry is reachable from it, or from a stylesheet the
/// Bundle links to, by following references (a document's unreachable
/// entries are errors, a message's warnings).
fn interlinked(
    v: &Validator,
    ty: &str,
    bundle: &Value,
    entries: &[Value],
    index: &Index,
    report: &mut Report,
) {
    let document = ty == "document";
    let (anchor, what) = if document {
        ("Composition", "document")
    } else {
        ("MessageHeader", "message")
    };
    let Some(first) = entries.first() else {
        report.error(
            "Bundle".into(),
            format!("A {what} must have a {anchor} as its first entry"),
        );
        return;
    };
    let Some(first_resource) = first.get("resource") else {
        report.error(
            "Bundle.entry[0]".into(),
            format!("The first entry in a {what} must have a resource"),
        );
        return;
    };
    let mut reported: HashSet<String> = HashSet::new();
    if resource_type(first) == Some(anchor) {
        for (path, reference) in
            anchor_references(first_resource, "Bundle.entry[0].resource", document)
        {
            match resolve_in_document(v, entries, index, 0, &reference) {
                InBundle::Found(_) => {}
                InBundle::Wrong(m) => {
                    report.error(path.clone(), m);
                    reported.insert(path);
                }
                InBundle::Missing => {
                    report.error(
                        path.clone(),
                        format!("Can't find '{reference}' in the bundle"),
                    );
                    reported.insert(path);
                }
            }
        }
    } else {
        let message = if document {
            "The first entry in a document must be a composition"
        } else {
            "The first entry in a message must be a MessageHeader"
        };
        report.error("Bundle.entry[0].resource".into(), message.into());
    }
    // Links between entries, by each entry's references.
    let mut targets: Vec<Vec<usize>> = vec![Vec::new(); entries.len()];
    for (i, e) in entries.iter().enumerate() {
        let Some(resource) = e.get("resource") else {
            continue;
        };
        let mut found = Vec::new();
        let at = format!("Bundle.entry[{i}].resource");
        collect_references(resource, &at, &mut found);
        collect_uris(v, resource, "", &at, &mut found);
        let mut seen = HashSet::new();
        for (path, reference) in found {
            if !seen.insert(reference.clone()) {
                continue;
            }
            match resolve_in_document(v, entries, index, i, &reference) {
                InBundle::Found(t) if t != i => targets[i].push(t),
                InBundle::Wrong(m) if reported.insert(path.clone()) => report.error(path, m),
                _ => {}
            }
        }
    }
    let with_resource: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].get("resource").is_some())
        .collect();
    // Reachable "forward or backward": the entries connected to the first
    // by links followed either way, found by one breadth-first walk over
    // the links as undirected edges (no recursion, so no stack to exhaust).
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); entries.len()];
    for (i, ts) in targets.iter().enumerate() {
        for &t in ts {
            neighbours[i].push(t);
            neighbours[t].push(i);
        }
    }
    // The walk starts from the first entry and from the stylesheets the
    // Bundle links to (`documents.html#content`: a document includes its
    // stylesheet).
    let mut visited = vec![false; entries.len()];
    let mut queue: VecDeque<usize> = with_resource
        .first()
        .copied()
        .into_iter()
        .chain(stylesheet_links(bundle).filter_map(|(_, url)| stylesheet_entry(index, url)))
        .collect();
    for &i in &queue {
        visited[i] = true;
    }
    while let Some(i) = queue.pop_front() {
        for &n in &neighbours[i] {
            if !visited[n] {
                visited[n] = true;
                queue.push_back(n);
            }
        }
    }
    for &i in &with_resource {
        if visited[i] {
            continue;
        }
        let url = string(&entries[i], "fullUrl").unwrap_or("");
        let path = format!("Bundle.entry[{i}]");
        if document {
            report.error(
                path,
                format!("Entry '{url}' isn't reachable by traversing links (forward or backward) from the Composition"),
            );
        } else {
            report.warning(
                path,
                format!("Entry '{url}' isn't reachable by traversing links (forward or backward) from the MessageHeader, so its presence should be reviewed (is it needed to process the message?)"),
            );
        }
    }
}
