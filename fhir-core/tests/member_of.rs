//! FHIRPath `memberOf()` decides value-set membership by the same rules
//! as the validator's bindings (FHIR R4 ValueSet §4.9.5 "compose": an
//! `exclude` removes codes an `include` brought in; an include may name
//! other value sets, whose codes it takes): written from the
//! specification's text, with value sets of our own.

use fhir_core::fhirpath::{to_json, Context, Expression};
use fhir_core::package::Registry;
use serde_json::json;

fn registry() -> Registry {
    let mut r = Registry::new();
    r.add(
        json!({"resourceType": "CodeSystem", "url": "https://example.org/cs", "status": "active",
        "content": "complete", "concept": [{"code": "a"}, {"code": "b"}, {"code": "c"}]}),
    );
    r.add(json!({"resourceType": "ValueSet", "url": "https://example.org/vs/all-but-b", "status": "active",
        "compose": {"include": [{"system": "https://example.org/cs"}],
                    "exclude": [{"system": "https://example.org/cs", "concept": [{"code": "b"}]}]}}));
    r.add(json!({"resourceType": "ValueSet", "url": "https://example.org/vs/nested", "status": "active",
        "compose": {"include": [{"valueSet": ["https://example.org/vs/all-but-b"]}]}}));
    r
}

fn member(r: &Registry, code: &str, vs: &str) -> serde_json::Value {
    let resource = json!({"resourceType": "Observation", "status": code});
    let ctx = Context {
        registry: Some(r),
        ..Context::default()
    };
    let e = Expression::parse(&format!("Observation.status.memberOf('{vs}')")).unwrap();
    to_json(&e.evaluate(&resource, &ctx).unwrap())
}

#[test]
fn an_excluded_code_is_not_a_member() {
    let r = registry();
    assert_eq!(
        member(&r, "a", "https://example.org/vs/all-but-b"),
        json!([{"type": "boolean", "value": true}])
    );
    assert_eq!(
        member(&r, "b", "https://example.org/vs/all-but-b"),
        json!([{"type": "boolean", "value": false}])
    );
}

#[test]
fn a_nested_value_set_brings_its_codes_and_its_exclusions() {
    let r = registry();
    assert_eq!(
        member(&r, "c", "https://example.org/vs/nested"),
        json!([{"type": "boolean", "value": true}])
    );
    assert_eq!(
        member(&r, "b", "https://example.org/vs/nested"),
        json!([{"type": "boolean", "value": false}])
    );
}
