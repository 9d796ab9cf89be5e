//! The FHIR package cache: `~/.fhir/packages/NAME#VERSION/package/`.
//!
//! This is the layout SUSHI, the HL7 validator and Firely tools share: one
//! folder per package, holding `package/package.json`, one resource per JSON
//! file, and a `package/.index.json` listing them. The location can be moved
//! with the `FHIR_PACKAGE_CACHE` environment variable.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// The environment variable that overrides the cache location.
pub const CACHE_ENV: &str = "FHIR_PACKAGE_CACHE";

/// The package name and version of base FHIR R4.
pub const R4_CORE: (&str, &str) = ("hl7.fhir.r4.core", "4.0.1");

/// The package cache folder: `$FHIR_PACKAGE_CACHE`, else
/// `$HOME/.fhir/packages`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".fhir").join("packages")
}

/// The folder of one package in a cache: `CACHE/NAME#VERSION`.
pub fn package_dir(cache: &Path, name: &str, version: &str) -> PathBuf {
    cache.join(format!("{name}#{version}"))
}

/// The file name a resource gets in a package: `Type-id.json`, made safe for
/// every file system.
pub fn file_name(resource: &Value) -> String {
    let rt = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("Resource");
    let id = resource
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("unnamed");
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{rt}-{safe}.json")
}

/// Writes resources as a FHIR package in the cache layout, replacing the
/// folder as a whole: it is written beside the target and renamed into place,
/// so a reader never sees half a package.
///
/// `manifest` is the `package.json` content. Returns the package folder.
///
/// # Errors
/// When a file cannot be written.
pub fn write_package<'a>(
    cache: &Path,
    manifest: &Value,
    resources: impl IntoIterator<Item = &'a Value>,
    other_files: &[(&str, Vec<u8>)],
) -> Result<PathBuf> {
    let name = manifest["name"].as_str().unwrap_or("unnamed");
    let version = manifest["version"].as_str().unwrap_or("0.0.0");
    let target = package_dir(cache, name, version);
    let staging = cache.join(format!(".{name}#{version}.partial"));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, &e))?;
    }
    let pkg = staging.join("package");
    fs::create_dir_all(pkg.join("other")).map_err(|e| Error::io(&pkg, &e))?;
    let write =
        |path: PathBuf, bytes: &[u8]| fs::write(&path, bytes).map_err(|e| Error::io(&path, &e));

    let mut index = Vec::new();
    let mut used = std::collections::HashSet::new();
    for r in resources {
        let mut file = file_name(r);
        // Two resources of one type may share an id across the spec's
        // bundles; keep both under distinct names.
        let mut n = 1;
        while !used.insert(file.clone()) {
            n += 1;
            file = file_name(r).replace(".json", &format!("-{n}.json"));
        }
        let bytes = serde_json::to_vec(r)
            .map_err(|e| Error::new(crate::ErrorKind::Serialize, e.to_string()))?;
        write(pkg.join(&file), &bytes)?;
        let mut entry = json!({"filename": file, "resourceType": r["resourceType"], "id": r["id"]});
        for key in ["url", "version", "kind", "type"] {
            if let Some(v) = r.get(key).filter(|v| v.is_string()) {
                entry[key] = v.clone();
            }
        }
        index.push(entry);
    }
    let index = json!({"index-version": 1, "files": index});
    write(pkg.join(".index.json"), index.to_string().as_bytes())?;
    write(
        pkg.join("package.json"),
        serde_json::to_string_pretty(manifest)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    for (file, bytes) in other_files {
        write(pkg.join("other").join(file), bytes)?;
    }
    if target.exists() {
        fs::remove_dir_all(&target).map_err(|e| Error::io(&target, &e))?;
    }
    fs::rename(&staging, &target).map_err(|e| Error::io(&target, &e))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_loadable_package() {
        let dir =
            std::env::temp_dir().join(format!("carer-fhir-cache-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let manifest =
            json!({"name": "example.pkg", "version": "1.0.0", "fhirVersions": ["4.0.1"]});
        let vs = json!({"resourceType": "ValueSet", "id": "a/b", "url": "https://x/vs"});
        let p =
            write_package(&dir, &manifest, [&vs, &vs], &[("note.txt", b"hi".to_vec())]).unwrap();
        assert!(p.join("package/ValueSet-a_b.json").is_file());
        assert!(p.join("package/ValueSet-a_b-2.json").is_file());
        let mut reg = crate::package::Registry::new();
        let report = reg.load(&p).unwrap();
        assert_eq!(report.package.as_deref(), Some("example.pkg#1.0.0"));
        // The same canonical (and version) twice is one resource.
        assert_eq!((report.loaded, report.skipped), (1, 1));
        fs::remove_dir_all(&dir).unwrap();
    }
}
