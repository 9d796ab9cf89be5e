//! The server's fuzz targets (`fhir-server/fuzz/src/targets.rs`) on stable
//! Rust: each runs over its committed seeds and every input a fuzzing run
//! found to crash, hang or misbehave, in `tests/fuzz-regressions/TARGET/`.
//! A new finding is fixed at its root and its input added there (see
//! `fhir-server/fuzz/README.md`). Needs base R4 in the package cache, as
//! every server test does.

use std::path::Path;
use std::time::{Duration, Instant};

#[path = "../fuzz/src/targets.rs"]
mod targets;

fn run(target: &str, f: fn(&[u8])) {
    targets::init();
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
        // On a thread of the size a server's blocking worker has, so a
        // reader that recursed by depth would fail here too.
        let name = input.display().to_string();
        let started = Instant::now();
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || f(&data))
            .expect("thread")
            .join()
            .unwrap_or_else(|_| panic!("{name} failed"));
        // Generous for a debug build: a hang or a blow-up is minutes.
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn search_parse() {
    run("search_parse", targets::search_parse);
}

#[test]
fn transaction_parse() {
    run("transaction_parse", targets::transaction_parse);
}
