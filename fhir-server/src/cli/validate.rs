//! `carer-fhir validate FILE... [--profile URL] [--package DIR_OR_TGZ]...`.

use std::path::PathBuf;

use anyhow::Context as _;
use fhir_core::format::{self, Format};
use fhir_core::package::Registry;
use fhir_core::validation::Validator;

use super::Failure;

/// Arguments of `validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Resources to validate (JSON or XML).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Also validate against this profile (canonical URL); repeatable.
    #[arg(long = "profile")]
    profiles: Vec<String>,
    /// Load this package folder, .tgz, Bundle or folder of resources (UK
    /// Core's folder loads as it is); repeatable.
    #[arg(long = "package")]
    packages: Vec<PathBuf>,
    /// The package cache holding base R4 (default: $FHIR_PACKAGE_CACHE,
    /// else ~/.fhir/packages).
    #[arg(long)]
    cache: Option<PathBuf>,
}

pub(super) fn run(args: Args) -> Result<(), Failure> {
    let core = super::r4_core_dir(args.cache)?;
    let mut registry = Registry::new();
    registry.load(&core)?;
    for p in &args.packages {
        let report = registry.load(p).map_err(Failure::input)?;
        for e in &report.errors {
            eprintln!("carer-fhir: warning: {e}");
        }
    }
    let validator = Validator::new(&registry);
    let profiles: Vec<&str> = args.profiles.iter().map(String::as_str).collect();
    let mut any_error = false;
    let mut unusable = None;
    for file in &args.files {
        let read = std::fs::read_to_string(file)
            .with_context(|| format!("reading {}", file.display()))
            .map_err(|e| e.to_string())
            .and_then(|text| {
                let fmt = Format::from_path(file)
                    .or_else(|| Format::sniff(&text))
                    .ok_or("cannot tell JSON from XML")?;
                format::parse(&text, fmt).map_err(|e| e.in_file(file).to_string())
            });
        let outcome = match read {
            Ok(resource) => {
                let outcome = validator.validate_against(&resource, &profiles);
                any_error |= outcome.has_errors();
                outcome.to_operation_outcome()
            }
            Err(message) => {
                // Unreadable input is reported as an OperationOutcome too.
                unusable = Some(message.clone());
                serde_json::json!({"resourceType": "OperationOutcome", "issue": [
                    {"severity": "fatal", "code": "structure", "details": {"text": message}}
                ]})
            }
        };
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    }
    if let Some(m) = unusable {
        return Err(Failure::input(anyhow::anyhow!("unusable input: {m}")));
    }
    if any_error {
        return Err(Failure {
            code: 1,
            error: anyhow::anyhow!("validation found errors"),
        });
    }
    Ok(())
}
