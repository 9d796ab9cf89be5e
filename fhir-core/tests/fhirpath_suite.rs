//! Runs every test of the official FHIRPath R4 suite
//! (`../shared/data/fhir-test-cases/r4/fhirpath/tests-fhir-r4.xml`, inputs
//! beside it) with type knowledge from the installed base R4 package.
//!
//! Every test that does not pass is listed, with its reason, in
//! `tests/fhirpath-not-passing.txt`; an unlisted failure fails this test,
//! and so does a listed test that now passes, so the pass count cannot
//! regress unnoticed and the list stays true. Needs `carer-fhir packages
//! install` (scripts/test does it) and the shared corpus.

mod support;
use support::shared_dir;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;

use fhir_core::fhirpath::{Context, Expression, Item, ModelInfo, Temporal};
use fhir_core::format::{self, Format};
use fhir_core::package::{cache, Registry};
use rust_decimal::Decimal;
use serde_json::Value;

fn r4_registry() -> Registry {
    let dir = cache::package_dir(&cache::cache_dir(), "hl7.fhir.r4.core", "4.0.1");
    assert!(
        dir.is_dir(),
        "base R4 is not installed at {}: run `carer-fhir packages install`",
        dir.display()
    );
    let mut reg = Registry::new();
    reg.load(&dir).unwrap();
    reg
}

struct Case {
    name: String,
    input: Option<String>,
    expression: String,
    invalid: bool,
    strict: bool,
    predicate: bool,
    outputs: Vec<(String, String)>,
}

fn cases(xml: &str) -> Vec<Case> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("test"))
        .map(|t| {
            let expr = t.children().find(|c| c.has_tag_name("expression")).unwrap();
            let mode = |n: roxmltree::Node| n.attribute("mode") == Some("strict");
            Case {
                name: t.attribute("name").unwrap_or("?").to_string(),
                input: t.attribute("inputfile").map(str::to_string),
                expression: expr.text().unwrap_or("").to_string(),
                invalid: expr.attribute("invalid").is_some() || t.attribute("invalid").is_some(),
                strict: mode(t) || mode(expr),
                predicate: t.attribute("predicate") == Some("true"),
                outputs: t
                    .children()
                    .filter(|c| c.has_tag_name("output"))
                    .map(|o| {
                        (
                            o.attribute("type").unwrap_or("").to_string(),
                            o.text().unwrap_or("").to_string(),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Whether one result item is the expected output.
fn matches(item: &Item, ty: &str, text: &str) -> bool {
    let system = item.to_system();
    match ty {
        "boolean" => matches!(system, Some(Item::Boolean(b)) if b.to_string() == text),
        "integer" => matches!(system, Some(Item::Integer(n)) if n.to_string() == text),
        "decimal" => match system {
            Some(Item::Decimal(d)) => Decimal::from_str(text).is_ok_and(|e| e == d),
            Some(Item::Integer(n)) => Decimal::from_str(text).is_ok_and(|e| e == Decimal::from(n)),
            _ => false,
        },
        "date" | "dateTime" | "time" => match system {
            Some(Item::Temporal(t)) => {
                let expected = Temporal::parse_literal(text.trim_start_matches('@'));
                expected.is_some_and(|e| e == t)
            }
            _ => false,
        },
        "Quantity" => match system {
            Some(Item::Quantity(q)) => {
                let (v, u) = text.split_once(' ').unwrap_or((text, "'1'"));
                Decimal::from_str(v).is_ok_and(|v| v == q.value) && u.trim_matches('\'') == q.unit
            }
            _ => false,
        },
        "" => untyped(item, text),
        _ => item.as_str().as_deref() == Some(text),
    }
}

/// An output with no type attribute: compared by its FHIRPath text form.
fn untyped(item: &Item, text: &str) -> bool {
    let Some(system) = item.to_system() else {
        return false;
    };
    if let Some(t) = text.strip_prefix('@') {
        return matches!(system, Item::Temporal(v) if Temporal::parse_literal(t) == Some(v));
    }
    match &system {
        Item::Quantity(q) => {
            let (v, u) = text.split_once(' ').unwrap_or((text, "'1'"));
            v == q.value.to_string() && u.trim_matches('\'') == q.unit
        }
        other => fhir_core::fhirpath::to_json(&vec![other.clone()])[0]["value"]
            .as_str()
            .map(str::to_string)
            .or_else(|| {
                Some(fhir_core::fhirpath::to_json(&vec![other.clone()])[0]["value"].to_string())
            })
            .is_some_and(|s| s == text),
    }
}

fn run(
    case: &Case,
    inputs: &HashMap<String, Value>,
    model: &ModelInfo,
    registry: &Registry,
) -> Result<(), String> {
    let empty = Value::Object(Default::default());
    let input = match &case.input {
        Some(f) => inputs
            .get(f)
            .ok_or_else(|| format!("input {f} could not be read"))?,
        None => &empty,
    };
    let ctx = Context {
        model: Some(model),
        registry: Some(registry),
        strict: case.strict,
        ..Context::default()
    };
    let result = Expression::parse(&case.expression)
        .map_err(|e| format!("parse: {e}"))
        .and_then(|e| e.evaluate(input, &ctx).map_err(|e| format!("eval: {e}")));
    match (case.invalid, result) {
        (true, Err(_)) => Ok(()),
        (true, Ok(r)) => Err(format!("expected an error, got {} items", r.len())),
        (false, Err(e)) => Err(e),
        (false, Ok(mut r)) => {
            if case.predicate {
                r = vec![Item::Boolean(!r.is_empty())];
            }
            if r.len() != case.outputs.len() {
                return Err(format!(
                    "expected {} items, got {}: {}",
                    case.outputs.len(),
                    r.len(),
                    fhir_core::fhirpath::to_json(&r)
                ));
            }
            for (i, (item, (ty, text))) in r.iter().zip(&case.outputs).enumerate() {
                if !matches(item, ty, text) {
                    return Err(format!(
                        "item {i}: expected {ty} {text}, got {}",
                        fhir_core::fhirpath::to_json(&vec![item.clone()])
                    ));
                }
            }
            Ok(())
        }
    }
}

fn not_passing() -> BTreeMap<String, String> {
    include_str!("fhirpath-not-passing.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, why) = l.split_once(" -- ").unwrap_or((l, ""));
            (name.trim().to_string(), why.trim().to_string())
        })
        .collect()
}

#[test]
fn official_fhirpath_suite() {
    let dir = shared_dir().join("data/fhir-test-cases/r4");
    let xml = std::fs::read_to_string(dir.join("fhirpath/tests-fhir-r4.xml")).unwrap();
    let cases = cases(&xml);
    let registry = r4_registry();
    let model = ModelInfo::from_registry(&registry);
    let mut inputs = HashMap::new();
    for c in &cases {
        if let Some(f) = &c.input {
            // An input the model cannot read fails the tests that use it.
            if let Ok(v) = format::parse(
                &std::fs::read_to_string(dir.join(f)).unwrap(),
                Format::from_path(Path::new(f)).unwrap(),
            ) {
                inputs.entry(f.clone()).or_insert(v);
            }
        }
    }
    let listed = not_passing();
    let (mut passed, mut unexpected, mut now_passing) = (0, Vec::new(), Vec::new());
    for c in &cases {
        match (
            run(c, &inputs, &model, &registry),
            listed.contains_key(&c.name),
        ) {
            (Ok(()), false) => passed += 1,
            (Ok(()), true) => {
                passed += 1;
                now_passing.push(c.name.clone());
            }
            (Err(e), false) => {
                unexpected.push(format!("{}: {} -- {e}", c.name, c.expression.trim()))
            }
            (Err(_), true) => {}
        }
    }
    let total = cases.len();
    println!(
        "FHIRPath suite: {passed} passed, {} not passing (listed), {total} total ({:.1}%)",
        total - passed,
        100.0 * passed as f64 / total as f64
    );
    assert!(
        unexpected.is_empty(),
        "{} unlisted failures:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        now_passing.is_empty(),
        "listed as not passing but pass now; remove them from the list:\n{}",
        now_passing.join("\n")
    );
}
