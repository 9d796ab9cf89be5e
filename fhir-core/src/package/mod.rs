//! Conformance resources: loading FHIR packages and resolving canonical URLs.
//!
//! A [`Registry`] holds every loaded canonical resource (StructureDefinition,
//! ValueSet, CodeSystem, SearchParameter, Questionnaire, ConceptMap, …),
//! indexed by canonical URL and version. It loads from:
//! - the FHIR package cache layout (`~/.fhir/packages/NAME#VERSION/package/`),
//!   see [`cache`];
//! - `.tgz` package archives;
//! - Bundles (such as the spec's `profiles-resources.json`);
//! - plain folders of JSON or XML resources, searched recursively (so UK
//!   Core's published folder loads as it is).
//!
//! Resources without a `url` (instances such as example Patients) are not
//! conformance resources and are skipped, and counted as skipped.

pub mod cache;
mod source;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::error::Result;

/// What one call to [`Registry::load`] did.
///
/// # Examples
/// ```no_run
/// use fhir_core::package::Registry;
/// let mut registry = Registry::new();
/// let report = registry.load("profiles/fsh-generated/resources".as_ref()).unwrap();
/// println!("{:?}: {} loaded, {} skipped", report.package, report.loaded, report.skipped);
/// ```
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    /// The package's `name#version` when the source is a FHIR package.
    pub package: Option<String>,
    /// How many conformance resources were added.
    pub loaded: usize,
    /// How many resources were read but skipped (no canonical URL, or a
    /// canonical version already loaded).
    pub skipped: usize,
    /// Files that could not be read, with why. Loading goes on past them.
    pub errors: Vec<crate::Error>,
}

/// Every loaded conformance resource, indexed by canonical URL.
///
/// # Examples
/// ```
/// use fhir_core::package::Registry;
/// let mut reg = Registry::new();
/// reg.add(serde_json::json!({
///     "resourceType": "ValueSet",
///     "url": "https://example.org/ValueSet/x",
///     "version": "1.0.0",
///     "status": "active"
/// }));
/// assert!(reg.value_set("https://example.org/ValueSet/x|1.0.0").is_some());
/// assert!(reg.structure_definition("https://example.org/ValueSet/x").is_none());
/// ```
#[derive(Debug, Default, Clone)]
pub struct Registry {
    resources: Vec<Arc<Value>>,
    by_url: HashMap<String, Vec<usize>>,
    /// Resource type → the resources of that type, in load order (the
    /// validator asks for the ImplementationGuides on every resource it
    /// checks: a scan of the whole registry each time would cost more
    /// than the check).
    by_type: HashMap<String, Vec<usize>>,
    packages: Vec<String>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// A registry holding base FHIR R4 (`hl7.fhir.r4.core#4.0.1`) from the
    /// package cache `cache` (see [`cache::cache_dir`]).
    ///
    /// # Errors
    /// When base R4 is not installed there (`carer-fhir packages install`
    /// installs it).
    ///
    /// ```no_run
    /// use fhir_core::package::{cache, Registry};
    /// let r4 = Registry::base_r4(&cache::cache_dir()).unwrap();
    /// assert!(r4.structure_definition("http://hl7.org/fhir/StructureDefinition/Patient").is_some());
    /// ```
    pub fn base_r4(cache: &Path) -> Result<Registry> {
        let mut registry = Registry::new();
        registry.load(&cache::package_dir(cache, "hl7.fhir.r4.core", "4.0.1"))?;
        Ok(registry)
    }

    /// Loads a package folder, package archive, Bundle, single resource file
    /// or plain folder; see the [module docs](self) for the layouts.
    ///
    /// # Errors
    /// When the source does not exist or is an unreadable archive. Unreadable
    /// files inside a folder are listed in the report instead.
    pub fn load(&mut self, source: &Path) -> Result<LoadReport> {
        let found = source::read(source)?;
        let mut report = LoadReport {
            package: found.package.clone(),
            errors: found.errors,
            ..LoadReport::default()
        };
        if let Some(p) = found.package {
            self.packages.push(p);
        }
        for r in found.resources {
            if self.add(r) {
                report.loaded += 1;
            } else {
                report.skipped += 1;
            }
        }
        Ok(report)
    }

    /// Adds one resource; a Bundle adds its entries. Returns false (and
    /// keeps nothing) for a resource without a canonical `url`, or one whose
    /// `url` and `version` are already held.
    pub fn add(&mut self, resource: Value) -> bool {
        if resource.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
            let entries = match resource {
                Value::Object(mut m) => match m.remove("entry") {
                    Some(Value::Array(e)) => e,
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            let mut any = false;
            for mut e in entries {
                if let Some(r) = e.get_mut("resource").map(Value::take) {
                    any |= self.add(r);
                }
            }
            return any;
        }
        let Some(url) = resource
            .get("url")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return false;
        };
        // The same canonical version loaded twice (a package given again,
        // or compiled in and given) is one resource.
        let version = resource.get("version").and_then(Value::as_str);
        if self.by_url.get(&url).is_some_and(|list| {
            list.iter()
                .any(|&i| self.resources[i].get("version").and_then(Value::as_str) == version)
        }) {
            return false;
        }
        let index = self.resources.len();
        let resource_type = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        self.resources.push(Arc::new(resource));
        self.by_url.entry(url).or_default().push(index);
        self.by_type.entry(resource_type).or_default().push(index);
        true
    }

    /// The resource with this canonical, optionally `url|version`. Without a
    /// version the latest loaded (by semantic-ish version order) wins; a
    /// partial version (`|0.2`) means the latest that starts with it.
    pub fn resolve(&self, canonical: &str) -> Option<&Arc<Value>> {
        let (url, version) = match canonical.split_once('|') {
            Some((u, v)) => (u, Some(v)),
            None => (canonical, None),
        };
        let candidates = self.by_url.get(url)?;
        let version_of = |i: &usize| self.resources[*i].get("version").and_then(Value::as_str);
        let chosen = match version {
            // An exact version, else the latest whose version it is a
            // prefix of (`|0.2` means the newest 0.2.x).
            Some(v) => candidates
                .iter()
                .find(|i| version_of(i) == Some(v))
                .or_else(|| {
                    let prefix = format!("{v}.");
                    candidates
                        .iter()
                        .filter(|i| version_of(i).is_some_and(|x| x.starts_with(&prefix)))
                        .max_by(|a, b| compare_versions(version_of(a), version_of(b)))
                })?,
            None => candidates
                .iter()
                .max_by(|a, b| compare_versions(version_of(a), version_of(b)))?,
        };
        Some(&self.resources[*chosen])
    }

    /// The resource with this canonical if it is of `resource_type`.
    pub fn resolve_typed(&self, canonical: &str, resource_type: &str) -> Option<&Arc<Value>> {
        self.resolve(canonical)
            .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some(resource_type))
    }

    /// A StructureDefinition by canonical.
    pub fn structure_definition(&self, canonical: &str) -> Option<&Arc<Value>> {
        self.resolve_typed(canonical, "StructureDefinition")
    }

    /// A ValueSet by canonical.
    pub fn value_set(&self, canonical: &str) -> Option<&Arc<Value>> {
        self.resolve_typed(canonical, "ValueSet")
    }

    /// A CodeSystem by canonical.
    pub fn code_system(&self, canonical: &str) -> Option<&Arc<Value>> {
        self.resolve_typed(canonical, "CodeSystem")
    }

    /// A SearchParameter by canonical.
    pub fn search_parameter(&self, canonical: &str) -> Option<&Arc<Value>> {
        self.resolve_typed(canonical, "SearchParameter")
    }

    /// A Questionnaire by canonical.
    pub fn questionnaire(&self, canonical: &str) -> Option<&Arc<Value>> {
        self.resolve_typed(canonical, "Questionnaire")
    }

    /// Every loaded resource of one type, in load order.
    pub fn of_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
        self.by_type
            .get(resource_type)
            .into_iter()
            .flatten()
            .map(|&i| &self.resources[i])
    }

    /// Every loaded resource, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Value>> {
        self.resources.iter()
    }

    /// How many resources are loaded.
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// True when nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// The loaded resources counted by resource type.
    pub fn counts_by_type(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for r in &self.resources {
            let t = r.get("resourceType").and_then(Value::as_str).unwrap_or("?");
            *counts.entry(t.to_string()).or_insert(0) += 1;
        }
        counts
    }

    /// The `name#version` of each FHIR package loaded.
    pub fn packages(&self) -> &[String] {
        &self.packages
    }
}

/// Orders versions by their dot-separated parts, numerically where both
/// parts are numbers. A missing version sorts first.
fn compare_versions(a: Option<&str>, b: Option<&str>) -> std::cmp::Ordering {
    let (a, b) = match (a, b) {
        (Some(a), Some(b)) => (a, b),
        (a, b) => return a.is_some().cmp(&b.is_some()),
    };
    let mut pa = a.split(['.', '-']);
    let mut pb = b.split(['.', '-']);
    loop {
        match (pa.next(), pb.next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.cmp(y),
                };
                if o.is_ne() {
                    return o;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn latest_version_wins_without_a_version() {
        let mut reg = Registry::new();
        for v in ["1.9.0", "1.10.0", "1.2.0"] {
            reg.add(json!({"resourceType":"CodeSystem","url":"u","version":v}));
        }
        assert_eq!(reg.code_system("u").unwrap()["version"], "1.10.0");
        assert_eq!(reg.code_system("u|1.2.0").unwrap()["version"], "1.2.0");
        assert!(reg.code_system("u|9").is_none());
    }

    #[test]
    fn bundle_entries_are_added_and_instances_skipped() {
        let mut reg = Registry::new();
        reg.add(json!({"resourceType":"Bundle","type":"collection","entry":[
            {"resource":{"resourceType":"ValueSet","url":"a"}},
            {"resource":{"resourceType":"Patient","id":"p"}}
        ]}));
        assert_eq!(reg.len(), 1);
        assert_eq!(reg.counts_by_type().get("ValueSet"), Some(&1));
    }
}
