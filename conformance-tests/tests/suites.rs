//! The suites we ship are valid R4 TestScripts whose fixtures all load, and
//! every operation and assertion in them is one the runner understands.

use std::path::Path;

use conformance_tests::testscript::load_suites;
use fhir_core::format::{self, Format};
use fhir_core::package::{cache, Registry};
use fhir_core::validation::{Severity, Validator};

#[test]
fn shipped_suites_are_valid_testscripts() {
    let suites = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let scripts = load_suites(&[suites]).expect("every suite and fixture loads");
    assert!(scripts.len() >= 9, "{} scripts", scripts.len());
    let mut registry = Registry::base_r4(&cache::cache_dir())
        .expect("base R4 is installed (carer-fhir packages install)");
    // The guide defines the runner's fixture extension.
    registry
        .load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/fsh-generated/resources"))
        .expect("the guide loads");
    let validator = Validator::new(&registry);
    let (mut tests, mut asserts) = (0, 0);
    for s in &scripts {
        let text = std::fs::read_to_string(&s.path).unwrap();
        let value = format::parse(&text, Format::Json).unwrap();
        let errors: Vec<String> = validator
            .validate(&value)
            .issues
            .into_iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| format!("{}: {}", i.expression, i.message))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", s.path.display());
        for t in &s.script.test {
            tests += 1;
            for a in &t.action {
                assert!(
                    a.operation.is_some() != a.assert.is_some(),
                    "{}: {:?} has one operation or one assert",
                    s.path.display(),
                    t.name
                );
                asserts += usize::from(a.assert.is_some());
            }
        }
        // Every fixture a script names exists (load_suites read them).
        for f in &s.script.fixture {
            assert!(s.fixtures.contains_key(f.id.as_deref().unwrap()));
        }
    }
    eprintln!(
        "{} scripts, {tests} tests, {asserts} assertions in tests",
        scripts.len()
    );
}
