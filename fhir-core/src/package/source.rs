//! Reading resources out of the places FHIR packages live.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::format::{self, Format};

/// What a source held.
pub(super) struct Found {
    pub package: Option<String>,
    pub resources: Vec<Value>,
    pub errors: Vec<Error>,
}

impl Found {
    fn new(package: Option<String>) -> Self {
        Found {
            package,
            resources: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn take(&mut self, name: &Path, text: &str) {
        match read_resource(name, text) {
            Ok(Some(v)) => self.resources.push(v),
            Ok(None) => {}
            Err(e) => self.errors.push(e.in_file(name)),
        }
    }
}

/// Reads every resource of a package folder, archive, resource file or
/// plain folder.
pub(super) fn read(source: &Path) -> Result<Found> {
    let meta = fs::metadata(source).map_err(|e| Error::io(source, &e))?;
    if meta.is_dir() {
        if source.join("package").join("package.json").is_file() {
            return read_package_dir(&source.join("package"));
        }
        if source.join("package.json").is_file()
            && is_package_manifest(&source.join("package.json"))
        {
            return read_package_dir(source);
        }
        let mut found = Found::new(None);
        walk(source, &mut found)?;
        return Ok(found);
    }
    let name = source.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
        return read_tgz(source);
    }
    let mut found = Found::new(None);
    let text = fs::read_to_string(source).map_err(|e| Error::io(source, &e))?;
    match read_resource(source, &text) {
        Ok(Some(v)) => found.resources.push(v),
        Ok(None) => {
            return Err(
                Error::new(ErrorKind::Format, "not a FHIR JSON or XML resource").in_file(source),
            )
        }
        Err(e) => return Err(e.in_file(source)),
    }
    Ok(found)
}

/// A `package.json` of a FHIR package has a `name` and a `version`; npm's
/// own manifests have them too, but no FHIR resources sit beside them, which
/// the caller then simply finds.
fn is_package_manifest(path: &Path) -> bool {
    fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .is_some_and(|v| v.get("name").is_some() && v.get("version").is_some())
}

fn package_id(manifest: &Value) -> Option<String> {
    Some(format!(
        "{}#{}",
        manifest.get("name")?.as_str()?,
        manifest.get("version")?.as_str()?
    ))
}

/// The package folder itself (the one holding `package.json`): resources
/// are the JSON files directly in it, as the package specification says;
/// `examples/` and `other/` are not loaded.
fn read_package_dir(dir: &Path) -> Result<Found> {
    let manifest_path = dir.join("package.json");
    let manifest: Value = fs::read_to_string(&manifest_path)
        .map_err(|e| Error::io(&manifest_path, &e))
        .and_then(|t| {
            serde_json::from_str(&t)
                .map_err(|e| Error::new(ErrorKind::Package, e.to_string()).in_file(&manifest_path))
        })?;
    let mut found = Found::new(package_id(&manifest));
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| Error::io(dir, &e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_resource_file_name(p))
        .collect();
    files.sort();
    for f in files {
        match fs::read_to_string(&f) {
            Ok(t) => found.take(&f, &t),
            Err(e) => found.errors.push(Error::io(&f, &e)),
        }
    }
    Ok(found)
}

fn is_resource_file_name(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    Format::from_path(p).is_some() && !name.starts_with('.') && name != "package.json"
}

fn walk(dir: &Path, found: &mut Found) -> Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| Error::io(dir, &e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, found)?;
        } else if is_resource_file_name(&p) {
            match fs::read_to_string(&p) {
                Ok(t) => found.take(&p, &t),
                Err(e) => found.errors.push(Error::io(&p, &e)),
            }
        }
    }
    Ok(())
}

fn read_tgz(path: &Path) -> Result<Found> {
    let file = fs::File::open(path).map_err(|e| Error::io(path, &e))?;
    let bad = |e: std::io::Error| {
        Error::new(
            ErrorKind::Package,
            format!("unreadable package archive: {e}"),
        )
        .in_file(path)
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut found = Found::new(None);
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let name = entry.path().map_err(bad)?.into_owned();
        // Only files directly in package/ are the package's resources.
        let in_package_root = name.parent() == Some(Path::new("package"));
        if !in_package_root || Format::from_path(&name).is_none() {
            continue;
        }
        let mut text = String::new();
        if let Err(e) = entry.read_to_string(&mut text) {
            found.errors.push(bad(e));
            continue;
        }
        if name.file_name().and_then(|n| n.to_str()) == Some("package.json") {
            found.package = serde_json::from_str(&text)
                .ok()
                .as_ref()
                .and_then(package_id);
        } else if !name
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .starts_with('.')
        {
            found.take(&name, &text);
        }
    }
    if found.package.is_none() {
        return Err(
            Error::new(ErrorKind::Package, "archive has no package/package.json").in_file(path),
        );
    }
    Ok(found)
}

/// Reads one file's resource. JSON is read as plain JSON (conformance
/// resources are trusted input, and the spec's bundles are large); XML goes
/// through the model. Returns `None` for JSON that is not a resource.
fn read_resource(name: &Path, text: &str) -> Result<Option<Value>> {
    match Format::from_path(name).or_else(|| Format::sniff(text)) {
        Some(Format::Json) => {
            let v: Value = serde_json::from_str(text).map_err(|e| {
                let mut err = Error::new(ErrorKind::Syntax, e.to_string());
                err.location.line = Some(e.line());
                err.location.column = Some(e.column());
                err
            })?;
            Ok(v.get("resourceType").is_some().then_some(v))
        }
        Some(Format::Xml) => format::parse(text, Format::Xml).map(Some),
        None => Ok(None),
    }
}
