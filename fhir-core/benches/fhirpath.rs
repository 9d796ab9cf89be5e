//! FHIRPath throughput over the Synthea sample (`../shared/data/synthea-10-patients`):
//! evaluations per second of two R4 invariants (`dom-6` and `ele-1`) and of
//! a real search-parameter expression (`clinical-patient`, a 30-way union),
//! each beside a baseline measured in the same run: the same question
//! answered by hand-written `serde_json` navigation.
//!
//! Run with `cargo bench -p fhir-core --bench fhirpath` (needs
//! `carer-fhir packages install`). Each measurement is bounded: three passes
//! over the ~7,000 resources.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use fhir_core::fhirpath::{Context, Expression, ModelInfo};
use fhir_core::package::{cache, Registry};
use serde_json::Value;

const PASSES: usize = 3;

fn shared() -> PathBuf {
    std::env::var_os("CARER_FHIR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn load_synthea() -> Vec<Value> {
    let dir = shared().join("data/synthea-10-patients");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        for line in std::fs::read_to_string(&f)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            out.push(serde_json::from_str(line).unwrap());
        }
    }
    out
}

/// Runs `f` over every resource `PASSES` times; returns calls per second.
fn rate(resources: &[Value], mut f: impl FnMut(&Value) -> bool) -> f64 {
    let start = Instant::now();
    let mut n = 0usize;
    let mut trues = 0usize;
    for _ in 0..PASSES {
        for r in resources {
            trues += f(r) as usize;
            n += 1;
        }
    }
    black_box(trues);
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let core = cache::package_dir(&cache::cache_dir(), "hl7.fhir.r4.core", "4.0.1");
    let mut registry = Registry::new();
    if registry.load(&core).is_err() {
        eprintln!(
            "base R4 is not installed at {}: run `carer-fhir packages install`",
            core.display()
        );
        std::process::exit(1);
    }
    let model = ModelInfo::from_registry(&registry);
    let ctx = Context {
        model: Some(&model),
        ..Context::default()
    };
    let resources = load_synthea();
    println!(
        "FHIRPath benchmark: {} Synthea resources, {PASSES} passes each",
        resources.len()
    );

    let dom6 = Expression::parse("text.`div`.exists()").unwrap();
    let engine = rate(&resources, |r| {
        dom6.evaluate_boolean(r, &ctx).unwrap() == Some(true)
    });
    let base = rate(&resources, |r| {
        r.get("text").and_then(|t| t.get("div")).is_some()
    });
    report("dom-6  text.`div`.exists()", engine, base);

    let ele1 = Expression::parse("hasValue() or (children().count() > id.count())").unwrap();
    let engine = rate(&resources, |r| {
        ele1.evaluate_boolean(r, &ctx).unwrap() == Some(true)
    });
    let base = rate(&resources, |r| {
        let o = r.as_object().unwrap();
        o.keys()
            .filter(|k| *k != "resourceType" && !k.starts_with('_'))
            .count()
            > o.contains_key("id") as usize
    });
    report(
        "ele-1  hasValue() or (children().count() > id.count())",
        engine,
        base,
    );

    let sp = registry
        .search_parameter("http://hl7.org/fhir/SearchParameter/clinical-patient")
        .and_then(|p| p["expression"].as_str().map(str::to_string))
        .expect("clinical-patient search parameter");
    let patient = Expression::parse(&sp).unwrap();
    let engine = rate(&resources, |r| {
        !patient.evaluate(r, &ctx).unwrap().is_empty()
    });
    let base = rate(&resources, |r| {
        ["patient", "subject"].iter().any(|k| r.get(*k).is_some())
    });
    report(
        "search clinical-patient (30-way union of paths)",
        engine,
        base,
    );
}

fn report(name: &str, engine: f64, baseline: f64) {
    println!(
        "{name:<58} {engine:>12.0} evals/s   baseline (hand-written serde_json) {baseline:>12.0}/s   ratio {:.3}",
        engine / baseline
    );
}
