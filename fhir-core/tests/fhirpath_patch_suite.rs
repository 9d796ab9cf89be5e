//! The official FHIRPath Patch test cases (`fhir-patch-tests.xml` in the
//! shared corpus): each case's input, patched, must equal its output.
//!
//! Needs base R4 in the package cache (type knowledge) and the shared corpus.

mod support;

use fhir_core::fhirpath::ModelInfo;
use fhir_core::format::{self, Format};
use fhir_core::package::{cache, Registry};
use serde_json::Value;

#[test]
fn fhirpath_patch_cases() {
    let text = std::fs::read_to_string(
        support::shared_dir().join("data/fhir-test-cases/r4/patch/fhir-patch-tests.xml"),
    )
    .unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let registry = Registry::base_r4(&cache::cache_dir()).expect("base R4 installed");
    let model = ModelInfo::from_registry(&registry);
    let resource_of = |case: roxmltree::Node, tag: &str| -> Option<Value> {
        let holder = case.children().find(|n| n.has_tag_name(tag))?;
        let el = holder.children().find(|n| n.is_element())?;
        format::parse(&text[el.range()], Format::Xml).ok()
    };
    let mut passed = 0;
    let mut failures = Vec::new();
    let cases: Vec<_> = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("case"))
        .collect();
    for case in &cases {
        let name = case.attribute("name").unwrap_or("?");
        let (Some(mut input), Some(diff)) =
            (resource_of(*case, "input"), resource_of(*case, "diff"))
        else {
            failures.push(format!("{name}: unreadable case"));
            continue;
        };
        let expect_error = case.children().any(|n| n.has_tag_name("error"));
        let result = fhir_core::patch::apply(&mut input, &diff, &model);
        match (result, expect_error) {
            (Err(_), true) => passed += 1,
            (Ok(()), true) => failures.push(format!("{name}: expected an error")),
            (Err(e), false) => failures.push(format!("{name}: {e}")),
            (Ok(()), false) => {
                let output = resource_of(*case, "output").unwrap_or(Value::Null);
                // The cases spell the same narrative text with and without
                // character references (`"` and `&quot;`): equal XHTML.
                let same_text = |v: &Value| v.to_string().replace("&quot;", "\\\"");
                if same_text(&input) == same_text(&output) {
                    passed += 1;
                } else {
                    failures.push(format!("{name}: got {input}, expected {output}"));
                }
            }
        }
    }
    println!("FHIRPath Patch: {passed} of {} cases pass", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
