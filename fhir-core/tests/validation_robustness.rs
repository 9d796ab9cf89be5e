//! Validation never panics, whatever the input: resources from the shared
//! corpus (UK Core examples, validator test cases) are mutated many ways
//! (values replaced by other JSON kinds, keys dropped, arrays emptied,
//! resource types swapped, deep nesting) and each mutant is validated; a
//! panic fails the test and names the mutant.
//!
//! The mutations come from a fixed-seed generator, so a failure repeats.
//! Bounded: 120 resources × 12 mutants.

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};

use fhir_core::format::{self, Format};
use fhir_core::validation::Validator;
use serde_json::{json, Value};

/// xorshift64*: a fixed-seed source of choices, enough to pick mutations.
struct Choices(u64);

impl Choices {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % below.max(1)
    }
}

/// Every path (as pointer segments) to a value inside `v`.
fn paths(v: &Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(here.clone());
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                here.push(k.clone());
                paths(x, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(i.to_string());
                paths(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

fn mutate(resource: &Value, choices: &mut Choices) -> Value {
    let mut v = resource.clone();
    let mut all = Vec::new();
    paths(&v, &mut Vec::new(), &mut all);
    let path = &all[choices.next(all.len())];
    let replacement = match choices.next(10) {
        0 => json!(null),
        1 => json!(42),
        2 => json!("x"),
        3 => json!([]),
        4 => json!({}),
        5 => json!([{"extension": [{"url": 7}]}]),
        6 => json!({"resourceType": "Nonsense", "id": "???"}),
        7 => json!({"reference": "#missing", "extension": {"url": []}}),
        8 => json!([[[[[[[[[[1]]]]]]]]]]),
        _ => json!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x</script>"),
    };
    if path.is_empty() {
        return replacement;
    }
    if choices.next(4) == 0 {
        // Drop the key or array item instead.
        let parent = pointer(&path[..path.len() - 1]);
        let last = &path[path.len() - 1];
        match v.pointer_mut(&parent) {
            Some(Value::Object(o)) => {
                o.remove(last);
            }
            Some(Value::Array(a)) => {
                if let Ok(i) = last.parse::<usize>() {
                    if i < a.len() {
                        a.remove(i);
                    }
                }
            }
            _ => {}
        }
        return v;
    }
    if let Some(slot) = v.pointer_mut(&pointer(path)) {
        *slot = replacement;
    }
    v
}

#[test]
fn validation_never_panics_on_mutated_resources() {
    let shared = support::shared_dir();
    let registry = support::r4_and_ukcore(&shared);
    let validator = Validator::new(&registry);
    // FHIR JSON has no empty arrays: the validator says where (servers
    // read JSON bodies without the model, so this is their check).
    let empty = json!({"resourceType": "Patient", "name": [], "active": true});
    let outcome = validator.validate(&empty);
    assert!(
        outcome
            .issues
            .iter()
            .any(|i| i.expression == "Patient.name" && i.message.contains("empty")),
        "{:#?}",
        outcome.issues
    );
    let mut files = Vec::new();
    for dir in ["data/ukcore/examples", "data/fhir-test-cases/validator"] {
        let mut here: Vec<_> = std::fs::read_dir(shared.join(dir))
            .expect("corpus folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "xml"))
            .collect();
        here.sort();
        files.extend(here.into_iter().step_by(4).take(60));
    }
    let mut choices = Choices(0x9E37_79B9_7F4A_7C15);
    let mut validated = 0;
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let fmt = Format::from_path(file).unwrap_or(Format::Json);
        let Ok(resource) = format::parse(&text, fmt) else {
            continue;
        };
        for _ in 0..12 {
            let mutant = mutate(&resource, &mut choices);
            let outcome = catch_unwind(AssertUnwindSafe(|| validator.validate(&mutant)));
            assert!(
                outcome.is_ok(),
                "validation panicked on a mutant of {}:\n{mutant:#}",
                file.display()
            );
            validated += 1;
        }
    }
    println!("validated {validated} mutants without a panic");
    assert!(validated > 1000, "too few mutants validated ({validated})");
}
