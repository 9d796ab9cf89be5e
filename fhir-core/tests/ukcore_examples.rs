//! Every UK Core example validates against the UK Core profile of its
//! resource type (`UKCore-<type>`) with no error, except the examples with
//! a real defect listed in `tests/ukcore-example-defects.txt`, which must
//! still be found invalid.
//!
//! Needs base R4 in the package cache (`carer-fhir packages install`, as
//! `scripts/test` does first) and the shared corpus.

mod support;

use std::path::Path;

use fhir_core::format::{self, Format};
use fhir_core::package::Registry;
use fhir_core::validation::{Options, Validator};
use serde_json::Value;

/// The errors of one example against its type's UK Core profile; `Err`
/// when the file cannot be read as a resource.
fn errors(validator: &Validator, registry: &Registry, file: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let fmt = Format::from_path(file).unwrap_or(Format::Json);
    let resource = format::parse(&text, fmt).map_err(|e| e.to_string())?;
    let rt = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let profile = format!("https://fhir.hl7.org.uk/StructureDefinition/UKCore-{rt}");
    let profiles: Vec<&str> = if registry.structure_definition(&profile).is_some() {
        vec![profile.as_str()]
    } else {
        Vec::new()
    };
    Ok(validator
        .validate_against(&resource, &profiles)
        .issues
        .into_iter()
        .filter(|i| i.severity == fhir_core::validation::Severity::Error)
        .map(|i| format!("{}: {}", i.expression, i.message))
        .collect())
}

#[test]
fn ukcore_examples_validate_against_their_profiles() {
    let shared = support::shared_dir();
    let registry = support::r4_and_ukcore(&shared);
    // Examples may use example addresses (RFC 2606).
    let validator = Validator::new(&registry).with_options(Options {
        allow_examples: true,
        ..Options::default()
    });
    let defects = support::reasons(include_str!("ukcore-example-defects.txt"));
    let dir = shared.join("data/ukcore/examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml" || x == "json"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    let mut clean = 0;
    for file in &files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let found = errors(&validator, &registry, file);
        let invalid = !matches!(&found, Ok(e) if e.is_empty());
        match (defects.contains_key(&name), invalid) {
            (false, false) => clean += 1,
            (true, true) => {}
            (false, true) => problems.push(format!("{name}: {found:?}")),
            (true, false) => problems.push(format!(
                "{name} is listed as defective but now validates; take it off the list"
            )),
        }
    }
    println!(
        "UK Core examples: {clean} of {} validate with no error; {} listed defects",
        files.len(),
        defects.len()
    );
    assert!(
        files.len() > 200,
        "expected the UK Core examples in {}",
        dir.display()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
