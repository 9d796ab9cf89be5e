//! Issue 15, fault 3: reading and validation must cost time linear in the
//! size of the input. Each case builds a resource with 1,000 and with
//! 16,000 repeats of one element and times reading it (JSON and XML),
//! validating it, and evaluating the search parameters' FHIRPath on it; a
//! linear path costs about 16 times as much for the larger, a quadratic
//! one 256 times. The bound is a ratio of times measured in the same run
//! (the best of three of each), so a slow or busy machine does not matter.
//!
//! The cases run one after another in a single test, in their own binary,
//! so that no other test competes for the CPU while they are timed.

use std::time::{Duration, Instant};

use fhir_core::fhirpath::{Context, Expression, ModelInfo};
use fhir_core::format::{self, Format};
use fhir_core::package::{cache, Registry};
use fhir_core::validation::Validator;
use serde_json::{json, Value};

/// The ratio a linear cost stays well under (16 is linear, 256 quadratic).
const MAX_RATIO: f64 = 40.0;

const SMALL: usize = 1_000;
const LARGE: usize = 16_000;

fn best_of_three(mut f: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .expect("three runs")
}

/// A resource of `ty` with `n` repeats built by `make`.
struct Case {
    name: &'static str,
    make: fn(usize) -> Value,
}

fn patient_names(n: usize) -> Value {
    let names: Vec<Value> = (0..n)
        .map(|i| json!({"use": "official", "family": format!("Family{i}"), "given": ["Ann", format!("G{i}")]}))
        .collect();
    json!({"resourceType": "Patient", "id": "p", "name": names})
}

fn patient_extensions(n: usize) -> Value {
    let exts: Vec<Value> = (0..n)
        .map(|i| json!({"url": "http://example.org/fhir/StructureDefinition/e", "valueString": format!("v{i}")}))
        .collect();
    json!({"resourceType": "Patient", "id": "p", "extension": exts})
}

fn bundle_entries(n: usize) -> Value {
    // Each Observation refers to the Patient of the entry before it, so
    // reference resolution inside the Bundle is exercised.
    let entries: Vec<Value> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                json!({"fullUrl": format!("urn:uuid:00000000-0000-0000-0000-{i:012}"),
                    "resource": {"resourceType": "Patient", "active": true}})
            } else {
                json!({"fullUrl": format!("urn:uuid:00000000-0000-0000-0000-{i:012}"),
                    "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                        "subject": {"reference": format!("urn:uuid:00000000-0000-0000-0000-{:012}", i - 1)}}})
            }
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "collection", "entry": entries})
}

fn questionnaire_items(n: usize) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| json!({"linkId": format!("q{i}"), "text": "Question", "type": "string", "required": i % 2 == 0}))
        .collect();
    json!({"resourceType": "Questionnaire", "status": "draft", "item": items})
}

#[test]
fn reading_and_validation_cost_is_linear() {
    let registry = Registry::base_r4(&cache::cache_dir())
        .expect("base R4 is installed (carer-fhir packages install)");
    let validator = Validator::new(&registry);
    let model = ModelInfo::from_registry(&registry);
    let context = Context {
        model: Some(&model),
        ..Context::default()
    };
    let cases = [
        Case {
            name: "Patient.name",
            make: patient_names,
        },
        Case {
            name: "Patient.extension",
            make: patient_extensions,
        },
        Case {
            name: "Bundle.entry",
            make: bundle_entries,
        },
        Case {
            name: "Questionnaire.item",
            make: questionnaire_items,
        },
    ];
    let mut report = Vec::new();
    for case in &cases {
        let ty = (case.make)(1)["resourceType"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let expressions: Vec<Expression> = registry
            .of_type("SearchParameter")
            .filter(|sp| {
                sp["base"]
                    .as_array()
                    .is_some_and(|b| b.iter().any(|t| t == ty.as_str()))
            })
            .filter_map(|sp| {
                sp["expression"]
                    .as_str()
                    .and_then(|e| Expression::parse(e).ok())
            })
            .collect();
        let mut times = Vec::new();
        for n in [SMALL, LARGE] {
            let value = (case.make)(n);
            let json = value.to_string();
            let xml = format::write(&value, Format::Xml, false).expect("writes as XML");
            let read_json = best_of_three(|| {
                format::parse(&json, Format::Json).expect("reads");
            });
            let read_xml = best_of_three(|| {
                format::parse(&xml, Format::Xml).expect("reads");
            });
            let validate = best_of_three(|| {
                validator.validate(&value);
            });
            let search = best_of_three(|| {
                for e in &expressions {
                    let _ = e.evaluate(&value, &context);
                }
            });
            eprintln!("{} x{n}: read JSON {read_json:?}, read XML {read_xml:?}, validate {validate:?}, search {search:?}", case.name);
            times.push([read_json, read_xml, validate, search]);
        }
        for (stage, what) in ["read JSON", "read XML", "validate", "search FHIRPath"]
            .iter()
            .enumerate()
        {
            let (small, large) = (times[0][stage], times[1][stage]);
            let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-6);
            report.push((case.name, *what, small, large, ratio));
        }
    }
    // Locating what a refused resource did wrong is linear too: a string
    // where a boolean belongs, after n names, is found by bisection.
    let mut wrong = Vec::new();
    for n in [SMALL, LARGE] {
        let mut value = patient_names(n);
        value["active"] = json!("yes");
        let text = value.to_string();
        wrong.push(best_of_three(|| {
            let e = format::parse(&text, Format::Json).expect_err("refused");
            assert_eq!(e.location.path.as_deref(), Some("Patient.active"));
        }));
    }
    report.push((
        "Patient.active",
        "locate an error",
        wrong[0],
        wrong[1],
        wrong[1].as_secs_f64() / wrong[0].as_secs_f64().max(1e-6),
    ));
    for (case, what, small, large, ratio) in &report {
        println!("{case:<20} {what:<16} {SMALL}: {small:>10.2?}  {LARGE}: {large:>10.2?}  ratio {ratio:>6.1}");
    }
    let bad: Vec<_> = report.iter().filter(|r| r.4 > MAX_RATIO).collect();
    assert!(bad.is_empty(), "super-linear: {bad:?}");
}
