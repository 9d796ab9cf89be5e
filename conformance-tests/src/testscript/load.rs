//! Finding TestScripts in files and folders and reading their fixtures.
//!
//! A suite is a TestScript file (JSON or XML) or a folder searched
//! recursively for them; folders named `fixtures` hold fixtures and are not
//! searched. A fixture's `resource.reference` is a path relative to its
//! script's folder, or `#id` for a contained resource. A fixture file that
//! is not a FHIR resource (malformed JSON, say) is sent as it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use fhir_core::format::{self, Format};
use serde_json::Value;

use super::model::TestScript;

/// Fixture extension: pad the fixture, when sent, with trailing spaces to
/// this many bytes (`valueInteger`). How the bad-input suite sends an
/// oversized body without committing one; runners that do not know it send
/// the fixture unpadded.
pub const PAD_TO_BYTES: &str =
    "https://fhir.carer-fhir.uk/StructureDefinition/testscript-fixture-pad-to-bytes";

/// A fixture's content.
#[derive(Debug, Clone, Default)]
pub struct FixtureContent {
    /// The bytes as written (or as received).
    pub raw: Vec<u8>,
    /// Its format, when known.
    pub format: Option<Format>,
    /// The content read as a FHIR resource.
    pub resource: Option<Value>,
    /// Why it is not a resource, when it is not.
    pub resource_error: Option<String>,
    /// Headers (of a response or request kept as a fixture).
    pub headers: Vec<(String, String)>,
    /// Status code (of a response kept as a fixture).
    pub status: Option<u16>,
    /// Send padded with spaces to this many bytes.
    pub pad_to: Option<usize>,
}

impl FixtureContent {
    /// Content for a resource given as JSON.
    pub fn from_resource(resource: Value) -> FixtureContent {
        FixtureContent {
            raw: serde_json::to_vec_pretty(&resource).unwrap_or_default(),
            format: Some(Format::Json),
            resource: Some(resource),
            ..FixtureContent::default()
        }
    }
}

impl FixtureContent {
    /// A request or response kept under a `requestId`/`responseId`: its
    /// bytes, headers (which give its format) and status, and how it read
    /// as a resource.
    pub fn kept(
        raw: Vec<u8>,
        headers: Vec<(String, String)>,
        status: Option<u16>,
        resource: Option<Value>,
        resource_error: Option<String>,
    ) -> FixtureContent {
        FixtureContent {
            format: super::client::header(&headers, "content-type").and_then(Format::from_mime),
            raw,
            resource,
            resource_error,
            headers,
            status,
            pad_to: None,
        }
    }
}

/// A TestScript ready to run.
#[derive(Debug, Clone)]
pub struct LoadedScript {
    /// Where it was read from.
    pub path: PathBuf,
    /// The script.
    pub script: TestScript,
    /// Its static fixtures by id.
    pub fixtures: BTreeMap<String, FixtureContent>,
}

impl LoadedScript {
    /// The name reports use.
    pub fn name(&self) -> String {
        self.script.display_name(&self.file_stem())
    }

    /// The script's id, or its file name without extension.
    pub fn id(&self) -> String {
        self.script.id.clone().unwrap_or_else(|| self.file_stem())
    }

    fn file_stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Loads every TestScript found in `suites` (files or folders), in path
/// order within each folder.
///
/// # Errors
/// A path that does not exist, a script that does not read as a TestScript,
/// or a fixture that cannot be found.
pub fn load_suites(suites: &[PathBuf]) -> anyhow::Result<Vec<LoadedScript>> {
    let mut files = Vec::new();
    for suite in suites {
        if suite.is_dir() {
            collect(suite, &mut files)?;
        } else if suite.is_file() {
            files.push(suite.clone());
        } else {
            bail!("{} does not exist", suite.display());
        }
    }
    let mut scripts = Vec::new();
    for file in files {
        if let Some(s) = load_script(&file)? {
            scripts.push(s);
        }
    }
    Ok(scripts)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "fixtures") {
                collect(&path, files)?;
            }
        } else if Format::from_path(&path).is_some() {
            files.push(path);
        }
    }
    Ok(())
}

/// Reads one file: `Ok(None)` when it holds a resource other than a
/// TestScript (a folder may hold other things).
///
/// # Errors
/// When the file is not a FHIR resource, or its fixtures cannot be read.
pub fn load_script(path: &Path) -> anyhow::Result<Option<LoadedScript>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let format = Format::from_path(path)
        .or_else(|| Format::sniff(&text))
        .with_context(|| format!("{} is neither JSON nor XML", path.display()))?;
    let value = format::parse(&text, format)
        .with_context(|| format!("{} is not a FHIR resource", path.display()))?;
    if value.get("resourceType").and_then(Value::as_str) != Some("TestScript") {
        return Ok(None);
    }
    let script: TestScript = serde_json::from_value(value)
        .with_context(|| format!("{} is not a TestScript the runner can read", path.display()))?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut fixtures = BTreeMap::new();
    for (i, fixture) in script.fixture.iter().enumerate() {
        let id = fixture
            .id
            .clone()
            .with_context(|| format!("{}: fixture {i} has no id", path.display()))?;
        let reference = fixture
            .resource
            .as_ref()
            .and_then(|r| r.reference.as_deref())
            .with_context(|| {
                format!("{}: fixture {id} has no resource.reference", path.display())
            })?;
        let mut content = if let Some(local) = reference.strip_prefix('#') {
            let contained = script
                .contained
                .iter()
                .find(|c| c.get("id").and_then(Value::as_str) == Some(local))
                .with_context(|| {
                    format!(
                        "{}: fixture {id}: no contained resource #{local}",
                        path.display()
                    )
                })?;
            FixtureContent::from_resource(contained.clone())
        } else {
            read_fixture(&folder.join(reference))
                .with_context(|| format!("{}: fixture {id}", path.display()))?
        };
        content.pad_to = fixture
            .extension
            .iter()
            .find(|e| e.url == PAD_TO_BYTES)
            .and_then(|e| e.value_integer)
            .and_then(|n| usize::try_from(n).ok());
        fixtures.insert(id, content);
    }
    Ok(Some(LoadedScript {
        path: path.to_path_buf(),
        script,
        fixtures,
    }))
}

fn read_fixture(path: &Path) -> anyhow::Result<FixtureContent> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = String::from_utf8_lossy(&raw);
    let format = Format::from_path(path).or_else(|| Format::sniff(&text));
    let (resource, resource_error) = match format {
        Some(f) => match format::parse(&text, f) {
            Ok(v) => (Some(v), None),
            Err(e) => (
                None,
                Some(format!("{} is not a FHIR resource: {e}", path.display())),
            ),
        },
        None => (
            None,
            Some(format!("{} is neither JSON nor XML", path.display())),
        ),
    };
    Ok(FixtureContent {
        raw,
        format,
        resource,
        resource_error,
        headers: Vec::new(),
        status: None,
        pad_to: None,
    })
}
