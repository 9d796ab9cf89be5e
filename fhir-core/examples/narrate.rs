//! Adds a generated narrative (`fhir_core::narrative`) to every resource in
//! a folder of FHIR JSON files that has none: the guide's build
//! (`scripts/profiles`) runs it on SUSHI's output, since SUSHI writes no
//! narratives. Definitions (StructureDefinition, ValueSet, CodeSystem,
//! ConceptMap, SearchParameter, ImplementationGuide) are left as they are.
//!
//! ```sh
//! cargo run -p fhir-core --example narrate -- profiles/fsh-generated/resources
//! ```
//!
//! Files are written back as SUSHI writes them (two-space indentation and a
//! final newline), so a second run changes nothing.

use std::path::PathBuf;
use std::process::ExitCode;

const DEFINITIONS: &[&str] = &[
    "StructureDefinition",
    "ValueSet",
    "CodeSystem",
    "ConceptMap",
    "SearchParameter",
    "ImplementationGuide",
];

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: narrate DIR");
        return ExitCode::from(2);
    };
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter(|p| p.file_name().is_some_and(|n| n != "package.json"))
            .collect(),
        Err(e) => {
            eprintln!("narrate: {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    };
    files.sort();
    let mut written = 0;
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("narrate: {}: {e}", file.display());
                return ExitCode::from(1);
            }
        };
        let mut resource: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("narrate: {}: {e}", file.display());
                return ExitCode::from(1);
            }
        };
        let rt = resource["resourceType"].as_str().unwrap_or("");
        if DEFINITIONS.contains(&rt) {
            continue;
        }
        fhir_core::narrative::add(&mut resource);
        let out = match serde_json::to_string_pretty(&resource) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("narrate: {}: {e}", file.display());
                return ExitCode::from(1);
            }
        };
        if out != text {
            if let Err(e) = std::fs::write(file, out) {
                eprintln!("narrate: {}: {e}", file.display());
                return ExitCode::from(1);
            }
            written += 1;
        }
    }
    eprintln!(
        "narrate: {written} of {} files given narratives",
        files.len()
    );
    ExitCode::SUCCESS
}
