//! ARCHITECTURE.md's invariants, checked on the source:
//! - only `server` knows axum;
//! - every read or write of resources in the store is made from
//!   `interaction` (the store itself, and `import` through the write
//!   pipeline, aside): operations, workflows, the notifier and the rest read
//!   through `interaction::cleared::Reader` and write through
//!   `interaction::pipeline::Tx`;
//! - the write pipeline names no resource type and no workflow: modules
//!   plug into it as write hooks.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code: comments dropped (doc comments included), and every
/// run of whitespace removed, so that a call split over lines reads as one.
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<String>()
        .split_whitespace()
        .collect()
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Each source file, relative to `src/`, with its code.
fn files() -> Vec<(String, String)> {
    let root = src();
    let mut paths = Vec::new();
    sources(&root, &mut paths);
    assert!(paths.len() > 50, "the sources were found");
    paths
        .iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, code(p))
        })
        .collect()
}

#[test]
fn only_server_knows_axum() {
    let offenders: Vec<String> = files()
        .into_iter()
        .filter(|(rel, code)| !rel.starts_with("server/") && code.contains("axum"))
        .map(|(rel, _)| rel)
        .collect();
    assert!(offenders.is_empty(), "axum outside server/: {offenders:?}");
}

#[test]
fn resources_are_read_and_written_only_from_interaction() {
    // A store's resource methods, and the store handed on whole.
    const CALLS: &[&str] = &[
        "store.read(",
        "store.read_many(",
        "store.vread(",
        "store.search(",
        "store.history(",
        "store.referring(",
        "store.begin(",
        "store.as_ref()",
        "&state.store",
        "&svc.state.store",
        "&self.state.store",
    ];
    let allowed = |rel: &str| {
        rel.starts_with("interaction/") || rel.starts_with("store/") || rel == "import.rs"
    };
    let mut offenders = Vec::new();
    for (rel, code) in files() {
        if allowed(&rel) {
            continue;
        }
        for call in CALLS {
            if code.contains(call) {
                offenders.push(format!("{rel}: {call}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "resources read or written outside interaction (use interaction::cleared::Reader or pipeline::Tx): {offenders:?}"
    );
}

#[test]
fn the_write_pipeline_names_no_resource_type_and_no_workflow() {
    let pipeline = code(&src().join("interaction/pipeline.rs"));
    for module in ["workflow::", "subscription::"] {
        assert!(
            !pipeline.contains(module),
            "pipeline.rs calls {module}: plug it in as a write hook instead"
        );
    }
    // A resource type named in the code is a quoted name starting with a
    // capital letter ("Task", "Consent", …).
    let quoted: Vec<&str> = pipeline
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && s.chars().all(|c| c.is_ascii_alphabetic())
        })
        .collect();
    assert!(
        quoted.is_empty(),
        "pipeline.rs names resource types {quoted:?}: a type's rules belong in a write hook"
    );
}
