//! The HL7 validator test cases, run against `fhir-core`'s validator and
//! compared with the reference (Java) validator's outcomes.
//!
//! The manifest format is fhir-test-cases' `validator/manifest.json`: each
//! case names a file, supporting resources (`supporting`, `supporting5`,
//! `profiles`), an optional profile to validate against (`profile.source`,
//! with its own reference outcome `profile.java`), and the reference
//! outcome (`java`, under `outcomes/`). Paths are relative to the
//! manifest's folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use fhir_core::format::{self, Format};
use fhir_core::package::Registry;
use fhir_core::validation::{Options, ReferencePolicy, Validator};
use serde_json::Value;

/// One case's result.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case name.
    pub name: String,
    /// Its module (`general`, `profile`, …).
    pub module: String,
    /// Error-level issues the reference validator reported.
    pub expected_errors: usize,
    /// Error-level issues we reported (`None`: the file was unusable).
    pub our_errors: usize,
    /// The reference validator's errors, as `location: message`.
    pub expected_messages: Vec<String>,
    /// Our errors, as `location: message`.
    pub our_messages: Vec<String>,
}

impl CaseResult {
    /// Both say valid, or both say invalid.
    pub fn verdict_agrees(&self) -> bool {
        (self.expected_errors > 0) == (self.our_errors > 0)
    }

    /// The same number of errors.
    pub fn count_agrees(&self) -> bool {
        self.expected_errors == self.our_errors
    }
}

/// The totals of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Every case's result.
    pub cases: Vec<CaseResult>,
}

impl Summary {
    /// Verdict agreement as a fraction.
    pub fn verdict_agreement(&self) -> f64 {
        ratio(
            self.cases.iter().filter(|c| c.verdict_agrees()).count(),
            self.cases.len(),
        )
    }

    /// Exact error-count agreement as a fraction.
    pub fn count_agreement(&self) -> f64 {
        ratio(
            self.cases.iter().filter(|c| c.count_agrees()).count(),
            self.cases.len(),
        )
    }

    /// The table by module and the closing totals line.
    pub fn report(&self) -> String {
        let mut by_module: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
        for c in &self.cases {
            let e = by_module.entry(&c.module).or_default();
            e.0 += 1;
            e.1 += c.verdict_agrees() as usize;
            e.2 += c.count_agrees() as usize;
        }
        let mut out = format!(
            "{:<14} {:>6} {:>9} {:>12}\n",
            "module", "cases", "verdict", "error-count"
        );
        for (m, (n, v, c)) in &by_module {
            out.push_str(&format!("{m:<14} {n:>6} {v:>9} {c:>12}\n"));
        }
        let n = self.cases.len();
        let v = self.cases.iter().filter(|c| c.verdict_agrees()).count();
        let c = self.cases.iter().filter(|c| c.count_agrees()).count();
        out.push_str(&format!(
            "verdict agreement {:.1}% ({v}/{n}), error-count agreement {:.1}% ({c}/{n})\n",
            100.0 * ratio(v, n),
            100.0 * ratio(c, n)
        ));
        out
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn read_resource(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let fmt = Format::from_path(path)
        .or_else(|| Format::sniff(&text))
        .context("neither JSON nor XML")?;
    Ok(format::parse(&text, fmt)?)
}

/// The error and fatal issues of an OperationOutcome, as
/// `location: message`.
fn error_messages(outcome: &Value) -> Vec<String> {
    outcome
        .get("issue")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|i| matches!(i["severity"].as_str(), Some("error" | "fatal")))
        .map(|i| {
            let at = i
                .pointer("/expression/0")
                .and_then(Value::as_str)
                .unwrap_or("");
            let text = i
                .pointer("/details/text")
                .and_then(Value::as_str)
                .unwrap_or("");
            format!("{at}: {text}")
        })
        .collect()
}

/// The validator options a case asks for (the reference validator's
/// settings of the same names).
fn options(case: &Value) -> Options {
    let flag = |k: &str| case.get(k).and_then(Value::as_bool).unwrap_or(false);
    Options {
        security_checks: flag("security-checks"),
        no_html_in_markdown: flag("noHtmlInMarkdown"),
        validate_contained: case.get("validateContains").and_then(Value::as_str) != Some("IGNORE"),
        assume_valid_rest_references: case
            .pointer("/profile/assumeValidRestReferences")
            .or_else(|| case.get("assumeValidRestReferences"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        extension_domains: match case.get("allowed-extension-domain") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        },
        foreign_extensions: false,
        reference_policy: match case.get("validateReference").and_then(Value::as_str) {
            Some("CHECK_EXISTS") => ReferencePolicy::CheckExists,
            Some("CHECK_TYPE" | "CHECK_EXISTS_AND_TYPE") => ReferencePolicy::CheckType,
            Some("CHECK_VALID") => ReferencePolicy::CheckValid,
            _ => ReferencePolicy::Ignore,
        },
        // The reference harness allows example references unless told not to.
        allow_examples: case
            .get("examples")
            .and_then(Value::as_bool)
            .unwrap_or(true),
    }
}

/// The resources the reference harness serves for references that lead
/// out of a case: `Patient/test` is an empty Patient; `Type/id` is the
/// file `type-id.json` (or `.xml`) in the cases' folder, else the file
/// named by what follows the first `/`.
fn fetch(dir: &Path, reference: &str) -> Option<Value> {
    if reference == "Patient/test" {
        return Some(serde_json::json!({"resourceType": "Patient"}));
    }
    let name = |r: &str| r.replace('/', "-").to_lowercase();
    let mut candidates = vec![name(reference)];
    if let Some((_, tail)) = reference.split_once('/') {
        candidates.push(name(tail));
    }
    candidates.iter().find_map(|c| {
        ["json", "xml"]
            .iter()
            .find_map(|ext| read_resource(&dir.join(format!("{c}.{ext}"))).ok())
    })
}

/// Runs every R4 case of a manifest with `base` (base R4 loaded) plus each
/// case's supporting resources. `progress` is told each case as it ends.
///
/// # Errors
/// When the manifest cannot be read.
pub fn run(
    manifest: &Path,
    base: &Registry,
    progress: &mut dyn FnMut(&CaseResult),
) -> anyhow::Result<Summary> {
    let dir = manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let m: Value = serde_json::from_str(
        &std::fs::read_to_string(manifest)
            .with_context(|| format!("reading {}", manifest.display()))?,
    )
    .context("parsing the manifest")?;
    let mut summary = Summary::default();
    let model = std::sync::Arc::new(fhir_core::fhirpath::ModelInfo::from_registry(base));
    for case in m
        .get("test-cases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let version = case.get("version").and_then(Value::as_str).unwrap_or("4.0");
        if !version.starts_with("4.0") {
            continue;
        }
        let name = case["name"].as_str().unwrap_or("?").to_string();
        let module = case["module"].as_str().unwrap_or("?").to_string();
        let profile = case.get("profile");
        let reference = profile
            .and_then(|p| p.get("java"))
            .or(case.get("java"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let expected: Value = match std::fs::read_to_string(dir.join("outcomes").join(reference)) {
            Ok(t) => serde_json::from_str(&t).unwrap_or(Value::Null),
            Err(_) => continue,
        };
        let mut registry = base.clone();
        // The profile run also loads the profile's own supporting files.
        // `supporting5` names resources the reference harness reads as R5
        // and loads all the same; those written in R4's shape load here.
        let supporting = ["supporting", "supporting5", "profiles"]
            .iter()
            .flat_map(|k| {
                case.get(*k)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .chain(
                profile
                    .and_then(|p| p.get("supporting"))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            )
            .chain(profile.and_then(|p| p.get("source")).cloned())
            .filter_map(|v| v.as_str().map(str::to_string));
        for s in supporting {
            if let Ok(r) = read_resource(&dir.join(&s)) {
                registry.add(r);
            }
        }
        let profile_url = profile
            .and_then(|p| p.get("source"))
            .and_then(Value::as_str)
            .and_then(|s| read_resource(&dir.join(s)).ok())
            .and_then(|sd| sd.get("url").and_then(Value::as_str).map(str::to_string));
        let file = dir.join(case["file"].as_str().unwrap_or(""));
        let our_messages = match read_resource(&file) {
            Ok(resource) => {
                let folder = dir.clone();
                let validator = Validator::with_model(&registry, model.clone())
                    .with_options(options(case))
                    .with_resolver(std::sync::Arc::new(move |r: &str| fetch(&folder, r)));
                let profiles: Vec<&str> = profile_url.as_deref().into_iter().collect();
                error_messages(
                    &validator
                        .validate_against(&resource, &profiles)
                        .to_operation_outcome(),
                )
            }
            // Unreadable input is one fatal error.
            Err(e) => vec![format!("{}: {e}", file.display())],
        };
        let expected_messages = error_messages(&expected);
        let result = CaseResult {
            name,
            module,
            expected_errors: expected_messages.len(),
            our_errors: our_messages.len(),
            expected_messages,
            our_messages,
        };
        progress(&result);
        summary.cases.push(result);
    }
    Ok(summary)
}
