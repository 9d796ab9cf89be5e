//! The carer implementation guide, compiled into the binary (see
//! `build.rs`): every `carer-fhir serve` and `import` knows the carer
//! profiles, terminology and search parameters without a package to
//! install.

use fhir_core::package::Registry;
use serde_json::Value;

include!(concat!(env!("OUT_DIR"), "/guide.rs"));

/// The guide's package name and version (`uk.carer-fhir.caf#0.1.0`).
pub fn package_id() -> String {
    GUIDE_RESOURCES
        .iter()
        .find(|(name, _)| *name == "package.json")
        .and_then(|(_, text)| serde_json::from_str::<Value>(text).ok())
        .map(|p| {
            format!(
                "{}#{}",
                p["name"].as_str().unwrap_or("uk.carer-fhir.caf"),
                p["version"].as_str().unwrap_or("")
            )
        })
        .unwrap_or_default()
}

/// Adds the guide's conformance resources to `registry`; returns how many
/// it added.
pub fn load(registry: &mut Registry) -> usize {
    GUIDE_RESOURCES
        .iter()
        .filter(|(name, _)| *name != "package.json")
        .filter_map(|(_, text)| serde_json::from_str::<Value>(text).ok())
        .filter(|r| registry.add(r.clone()))
        .count()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_guide_is_compiled_in() {
        let mut r = fhir_core::package::Registry::new();
        assert!(
            super::load(&mut r) > 50,
            "profiles, value sets, code systems"
        );
        assert!(r
            .structure_definition(
                "https://fhir.carer-fhir.uk/StructureDefinition/CarerRelationship"
            )
            .is_some());
        assert!(super::package_id().starts_with("uk.carer-fhir.caf#"));
    }
}
