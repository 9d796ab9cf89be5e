//! `packages install SOURCE`: UK Core's XML repository and the carer guide's
//! SUSHI output install into a package cache as complete FHIR packages
//! (every profile with a snapshot) that the loader reads back.
//!
//! Needs base R4 in the package cache (`carer-fhir packages install`, as
//! `scripts/test` does first) and UK Core from the shared corpus.

use std::path::{Path, PathBuf};

use fhir_core::package::{cache, Registry};
use fhir_server::packages::local::{install_local, PackageId};

fn shared() -> PathBuf {
    std::env::var_os("CARER_FHIR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

#[test]
fn uk_core_and_the_guide_install_as_complete_packages() {
    let real = cache::package_dir(&cache::cache_dir(), "hl7.fhir.r4.core", "4.0.1");
    assert!(
        real.is_dir(),
        "base R4 is not installed; run `carer-fhir packages install`"
    );
    let dir = tempfile::tempdir().unwrap();
    let r4 = cache::package_dir(dir.path(), "hl7.fhir.r4.core", "4.0.1");
    std::os::unix::fs::symlink(&real, &r4).unwrap();

    let ukcore: PackageId = "fhir.r4.ukcore.stu3.currentbuild#0.0.0-develop"
        .parse()
        .unwrap();
    let done = install_local(
        &shared().join("data/ukcore"),
        Some(ukcore.clone()),
        &[],
        dir.path(),
    )
    .unwrap();
    assert!(done.resources > 300, "{done:?}");
    assert!(
        done.snapshots > 100,
        "UK Core publishes differentials only: {done:?}"
    );
    assert!(
        done.without_snapshot.is_empty(),
        "{:?}",
        done.without_snapshot
    );

    let guide = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/fsh-generated/resources");
    let done = install_local(&guide, None, &[], dir.path()).unwrap();
    assert_eq!(done.id.to_string(), "uk.carer-fhir.caf#0.2.0");
    assert_eq!(done.snapshots, 0, "SUSHI's output has its snapshots");

    let mut registry = Registry::new();
    let report = registry.load(&done.dir).unwrap();
    assert_eq!(report.package.as_deref(), Some("uk.carer-fhir.caf#0.2.0"));
    let sd = registry
        .structure_definition("https://fhir.carer-fhir.uk/StructureDefinition/CarerRelationship")
        .expect("the profile loads from the installed package");
    assert!(sd["snapshot"]["element"]
        .as_array()
        .is_some_and(|e| !e.is_empty()));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(done.dir.join("package/package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest["dependencies"][&ukcore.name],
        ukcore.version.as_str()
    );

    // A dependency missing from the cache is a clear error, not a half-written package.
    let empty = tempfile::tempdir().unwrap();
    let err = install_local(&guide, None, &[], empty.path()).unwrap_err();
    assert!(err.to_string().contains("not in"), "{err}");
}
