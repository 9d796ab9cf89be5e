//! Installing a local source (a package folder, `.tgz`, or a plain folder of
//! JSON/XML conformance resources such as UK Core's published repository or
//! our own guide's SUSHI output) into the FHIR package cache as
//! `NAME#VERSION`.
//!
//! Differential-only StructureDefinitions get a generated snapshot on the
//! way in: SUSHI, the HL7 validator and our loader all expect the cache's
//! profiles to have one, and UK Core's repository publishes differentials
//! only.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use fhir_core::package::{cache, Registry};
use fhir_core::validation::snapshot::snapshot_elements;
use serde_json::{json, Map, Value};

/// A package's identity: `name#version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageId {
    /// The package name, such as `fhir.r4.ukcore.stu3.currentbuild`.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl std::str::FromStr for PackageId {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        let Some((name, version)) = s.split_once('#') else {
            bail!("{s:?} is not NAME#VERSION");
        };
        let ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        };
        if !ok(name) || !ok(version) {
            bail!("{s:?} is not NAME#VERSION (letters, digits, '.', '-', '_')");
        }
        Ok(PackageId {
            name: name.to_string(),
            version: version.to_string(),
        })
    }
}

impl std::fmt::Display for PackageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.name, self.version)
    }
}

/// What installing a local source did.
#[derive(Debug)]
pub struct LocalInstall {
    /// The package's identity.
    pub id: PackageId,
    /// The package folder written.
    pub dir: PathBuf,
    /// Conformance resources written.
    pub resources: usize,
    /// Snapshots generated for differential-only profiles.
    pub snapshots: usize,
    /// Profiles whose snapshot could not be generated (base missing), by URL.
    pub without_snapshot: Vec<String>,
    /// Files that could not be read, with why.
    pub unreadable: Vec<String>,
}

/// Installs `source` into `cache_dir`. The identity is `id` when given, else
/// the source's `package.json`, else its ImplementationGuide resource
/// (`packageId`, `version`, `dependsOn`). `dependencies` are added to the
/// manifest and loaded (from the cache) for snapshot generation, as are the
/// ImplementationGuide's own.
///
/// # Errors
/// When the source cannot be read, has no identity, a dependency is not in
/// the cache, or the cache cannot be written.
pub fn install_local(
    source: &Path,
    id: Option<PackageId>,
    dependencies: &[PackageId],
    cache_dir: &Path,
) -> anyhow::Result<LocalInstall> {
    let mut own = Registry::new();
    let report = own
        .load(source)
        .with_context(|| format!("reading {}", source.display()))?;
    let unreadable: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
    let guide = own
        .of_type("ImplementationGuide")
        .next()
        .map(|g| g.as_ref().clone());
    let id = match (id, report.package.as_deref(), &guide) {
        (Some(id), _, _) => id,
        (None, Some(p), _) => p.parse()?,
        (None, None, Some(g)) => PackageId {
            name: g["packageId"]
                .as_str()
                .context("the ImplementationGuide has no packageId")?
                .to_string(),
            version: g["version"]
                .as_str()
                .context("the ImplementationGuide has no version")?
                .to_string(),
        },
        (None, None, None) => bail!(
            "{} has no package.json or ImplementationGuide: give its identity with --as NAME#VERSION",
            source.display()
        ),
    };
    let mut deps: Vec<PackageId> = vec![PackageId {
        name: cache::R4_CORE.0.into(),
        version: cache::R4_CORE.1.into(),
    }];
    if let Some(g) = &guide {
        for d in g["dependsOn"].as_array().into_iter().flatten() {
            if let (Some(n), Some(v)) = (d["packageId"].as_str(), d["version"].as_str()) {
                deps.push(PackageId {
                    name: n.into(),
                    version: v.into(),
                });
            }
        }
    }
    deps.extend(dependencies.iter().cloned());
    deps.dedup();

    let mut full = Registry::new();
    for d in &deps {
        let dir = cache::package_dir(cache_dir, &d.name, &d.version);
        if !dir.is_dir() {
            bail!(
                "{id} depends on {d}, which is not in {}: install it first",
                cache_dir.display()
            );
        }
        full.load(&dir)
            .with_context(|| format!("loading {}", dir.display()))?;
    }
    for r in own.iter() {
        full.add(r.as_ref().clone());
    }

    let mut resources = Vec::new();
    let mut snapshots = 0;
    let mut without_snapshot = Vec::new();
    for r in own.iter() {
        let mut r = r.as_ref().clone();
        let needs_snapshot = r["resourceType"] == "StructureDefinition"
            && r.pointer("/snapshot/element")
                .and_then(Value::as_array)
                .is_none_or(|e| e.is_empty());
        if needs_snapshot {
            match snapshot_elements(&r, &full) {
                Some(elements) => {
                    r["snapshot"] = json!({ "element": elements });
                    snapshots += 1;
                }
                None => without_snapshot.push(r["url"].as_str().unwrap_or("?").to_string()),
            }
        }
        resources.push(r);
    }

    let mut dependencies_json = Map::new();
    for d in deps.iter().filter(|d| d.name != cache::R4_CORE.0) {
        dependencies_json.insert(d.name.clone(), json!(d.version));
    }
    dependencies_json.insert(cache::R4_CORE.0.into(), json!(cache::R4_CORE.1));
    let mut manifest = json!({
        "name": id.name,
        "version": id.version,
        "fhirVersions": ["4.0.1"],
        "type": "IG",
        "dependencies": dependencies_json,
    });
    if let Some(g) = &guide {
        for (from, to) in [
            ("title", "title"),
            ("description", "description"),
            ("license", "license"),
        ] {
            if let Some(v) = g.get(from) {
                manifest[to] = v.clone();
            }
        }
        if let Some(url) = g["url"].as_str() {
            if let Some((canonical, _)) = url.split_once("/ImplementationGuide/") {
                manifest["canonical"] = json!(canonical);
            }
        }
    }
    let dir = cache::write_package(cache_dir, &manifest, resources.iter(), &[])?;
    Ok(LocalInstall {
        id,
        dir,
        resources: resources.len(),
        snapshots,
        without_snapshot,
        unreadable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids_parse_and_reject_nonsense() {
        let id: PackageId = "fhir.r4.ukcore.stu3.currentbuild#0.0.0-dev"
            .parse()
            .unwrap();
        assert_eq!(id.name, "fhir.r4.ukcore.stu3.currentbuild");
        assert_eq!(id.to_string(), "fhir.r4.ukcore.stu3.currentbuild#0.0.0-dev");
        assert!("no-version".parse::<PackageId>().is_err());
        assert!("a#".parse::<PackageId>().is_err());
        assert!("../x#1".parse::<PackageId>().is_err());
    }
}
