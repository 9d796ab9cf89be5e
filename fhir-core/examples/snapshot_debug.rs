use fhir_core::package::{cache, Registry};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut registry = Registry::new();
    registry
        .load(&cache::package_dir(
            &cache::cache_dir(),
            "hl7.fhir.r4.core",
            "4.0.1",
        ))
        .unwrap();
    for f in &args[2..] {
        registry.load(std::path::Path::new(f)).unwrap();
    }
    let sd = registry.structure_definition(&args[1]).unwrap().clone();
    for e in fhir_core::validation::snapshot::snapshot_elements(&sd, &registry).unwrap() {
        println!(
            "{} {}",
            e["id"],
            e.get("fixedUri").map(|v| v.to_string()).unwrap_or_default()
        );
    }
}
