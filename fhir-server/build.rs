//! Compiles the carer implementation guide's conformance resources
//! (`profiles/fsh-generated/resources`) into the binary, so that a plain
//! `carer-fhir serve` validates and searches by the carer profiles with
//! no package to install.

use std::fmt::Write as _;
use std::path::Path;

/// The resource types that are conformance resources (examples are not
/// compiled in).
const CONFORMANCE: &[&str] = &[
    "StructureDefinition",
    "ValueSet",
    "CodeSystem",
    "ConceptMap",
    "SearchParameter",
    "Questionnaire",
    "OperationDefinition",
    "ImplementationGuide",
    "CapabilityStatement",
    "CompartmentDefinition",
    "NamingSystem",
    "StructureMap",
];

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/fsh-generated/resources");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("/// The guide's conformance resources: (file name, JSON text).\npub static GUIDE_RESOURCES: &[(&str, &str)] = &[\n");
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let kind = name.split('-').next().unwrap_or("");
        if name.ends_with(".json") && (CONFORMANCE.contains(&kind) || name == "package.json") {
            println!("cargo:rerun-if-changed={}", f.display());
            let _ = writeln!(
                out,
                "    ({name:?}, include_str!({:?})),",
                f.display().to_string()
            );
        }
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("guide.rs");
    std::fs::write(target, out).expect("writing guide.rs");
}
