//! Helpers shared by the integration tests that read the shared corpus.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fhir_core::package::{cache, Registry};

/// The shared corpus folder (`../shared` beside the repository, or
/// `$CARER_FHIR_SHARED`).
pub fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("CARER_FHIR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    assert!(
        dir.join("data").is_dir(),
        "this test reads the shared corpus at {}; set CARER_FHIR_SHARED to its folder",
        dir.display()
    );
    dir
}

/// A list of `PATH -- reason` lines (comments start with `#`).
pub fn reasons(list: &str) -> BTreeMap<String, String> {
    list.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (file, why) = l.split_once(" -- ").unwrap_or((l, ""));
            (file.trim().to_string(), why.trim().to_string())
        })
        .collect()
}

/// Base R4 from the package cache (`carer-fhir packages install`, as
/// `scripts/test` does first) plus UK Core from the shared corpus.
pub fn r4_and_ukcore(shared: &Path) -> Registry {
    let mut registry = Registry::new();
    let r4 = cache::package_dir(&cache::cache_dir(), "hl7.fhir.r4.core", "4.0.1");
    registry.load(&r4).unwrap_or_else(|e| {
        panic!(
            "base R4 is not installed at {} ({e}); run `carer-fhir packages install`",
            r4.display()
        )
    });
    registry
        .load(&shared.join("data/ukcore"))
        .expect("UK Core loads");
    registry
}
