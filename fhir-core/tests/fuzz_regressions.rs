//! The fuzz targets' functions (`fhir-core/fuzz/src/targets.rs`) on stable
//! Rust: each runs over its committed seeds and every input a fuzzing run
//! found to crash, hang or misbehave, in `tests/fuzz-regressions/TARGET/`.
//! A new finding is fixed at its root and its input added there (see
//! `fhir-core/fuzz/README.md`). The validation and evaluation targets need
//! base R4 in the package cache, as every validation test does.

use std::path::Path;

#[path = "../fuzz/src/targets.rs"]
mod targets;

fn run(target: &str, f: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    for input in inputs {
        let data = std::fs::read(&input).expect("readable input");
        // Each input on a thread of the size a server's worker has, so a
        // reader that recursed by depth would fail here too.
        let name = input.display().to_string();
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || f(&data))
            .expect("thread")
            .join()
            .unwrap_or_else(|_| panic!("{name} failed"));
    }
}

#[test]
fn json_parse() {
    run("json_parse", targets::json_parse);
}

#[test]
fn xml_parse() {
    run("xml_parse", targets::xml_parse);
}

#[test]
fn validate() {
    // As the fuzzer does: base R4 loaded before the first input.
    targets::init();
    run("validate", targets::validate);
}

#[test]
fn fhirpath_parse() {
    run("fhirpath_parse", targets::fhirpath_parse);
}

#[test]
fn fhirpath_eval() {
    run("fhirpath_eval", targets::fhirpath_eval);
}
