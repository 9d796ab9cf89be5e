//! Round-trips every example resource of the shared corpora through the
//! model: JSON→model→JSON→model and →XML→model must give an equal resource,
//! and XML likewise. Reads `../shared/data` (set `CARER_FHIR_SHARED` to move
//! it); `.ci/run` always has it.
//!
//! A file that fails must be listed, with its reason, in
//! `tests/roundtrip-known-failures.txt`; a listed file that now passes fails
//! the test too, so the list stays true.

mod support;
use support::shared_dir;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fhir_core::format::{parse_typed, write_typed, Format};

/// The files of a folder (not recursive) that are JSON or XML resources.
fn resource_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && Format::from_path(p).is_some())
        .collect();
    files.sort();
    files
}

/// One file's round trip; `Err` says which step failed.
fn round_trip(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read: {e}"))?;
    let format = Format::from_path(path).unwrap();
    let first = parse_typed(&text, format).map_err(|e| format!("parse: {e}"))?;
    for (step, via) in [("JSON", Format::Json), ("XML", Format::Xml)] {
        let written = write_typed(&first, via, true).map_err(|e| format!("write {step}: {e}"))?;
        let again = parse_typed(&written, via).map_err(|e| format!("re-parse {step}: {e}"))?;
        if again != first {
            return Err(format!("{step} round trip changed the resource"));
        }
        // And back to the other format once more: XML→JSON→XML and
        // JSON→XML→JSON must keep it as well.
        let other = if via == Format::Json {
            Format::Xml
        } else {
            Format::Json
        };
        let back = write_typed(&again, other, false)
            .map_err(|e| format!("write {step}→{other:?}: {e}"))?;
        let last =
            parse_typed(&back, other).map_err(|e| format!("re-parse {step}→{other:?}: {e}"))?;
        if last != first {
            return Err(format!("{step}→{other:?} round trip changed the resource"));
        }
    }
    Ok(())
}

fn known_failures() -> BTreeMap<String, String> {
    support::reasons(include_str!("roundtrip-known-failures.txt"))
}

#[test]
fn every_shared_example_round_trips() {
    let shared = shared_dir();
    let folders = [
        "data/r4-examples",
        "data/ukcore/examples",
        "data/fhir-test-cases/r4",
        "data/fhir-test-cases/r4/examples",
    ];
    let known = known_failures();
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    println!("{:<36} {:>7} {:>7}", "folder", "passed", "total");
    for folder in folders {
        let files = resource_files(&shared.join(folder));
        let mut passed = 0;
        for f in &files {
            let key = format!("{folder}/{}", f.file_name().unwrap().to_string_lossy());
            match (round_trip(f), known.get(&key)) {
                (Ok(()), None) => passed += 1,
                (Ok(()), Some(_)) => {
                    passed += 1;
                    fixed.push(key);
                }
                (Err(e), None) => unexpected.push(format!("{key}: {e}")),
                (Err(e), Some(why)) => println!("  known: {key}: {e} ({why})"),
            }
        }
        println!("{:<36} {:>7} {:>7}", folder, passed, files.len());
    }
    assert!(
        unexpected.is_empty(),
        "unexpected failures:\n{}",
        unexpected.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "listed as failing but now pass; remove from the list:\n{}",
        fixed.join("\n")
    );
}
