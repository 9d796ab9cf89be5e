//! Validation throughput, release build, one thread: resources validated
//! per second against base R4 (the Synthea sample in
//! `../shared/data/synthea-10-patients`) and against UK Core profiles (the
//! UK Core examples, each against `UKCore-<type>`), each beside a baseline
//! measured in the same run: reading the same resources from JSON text
//! through the model (the strict, loss-checked parse every write pays
//! anyway). Also JSON parse + serialise through the model beside the same
//! through `serde_json::Value`.
//!
//! Run with `cargo bench -p fhir-core --bench validation` (needs
//! `carer-fhir packages install`). Each measurement is bounded: a fixed
//! number of passes over the files.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use fhir_core::format::{self, Format};
use fhir_core::package::{cache, Registry};
use fhir_core::validation::Validator;
use serde_json::Value;

fn shared() -> PathBuf {
    std::env::var_os("CARER_FHIR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// The files of a shared-corpus folder, sorted.
fn files(folder: &str) -> Vec<PathBuf> {
    let dir = shared().join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("folder entry").path())
        .collect();
    files.sort();
    files
}

/// At most this many resources of each set (`CARER_FHIR_BENCH_LIMIT`;
/// `bench/run --smoke` sets it), else all.
fn limit() -> usize {
    std::env::var("CARER_FHIR_BENCH_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX)
}

/// Synthea resources as JSON text, one per line of the NDJSON files.
fn synthea() -> Vec<String> {
    files("data/synthea-10-patients")
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .expect("readable NDJSON")
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .take(limit())
        .collect()
}

/// UK Core examples that read cleanly, as JSON text.
fn ukcore_examples() -> Vec<String> {
    files("data/ukcore/examples")
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).ok()?;
            let v = format::parse(&text, Format::from_path(f)?).ok()?;
            Some(v.to_string())
        })
        .take(limit())
        .collect()
}

/// Runs `f` over every item `passes` times; returns items per second.
fn rate<T>(items: &[T], passes: usize, mut f: impl FnMut(&T) -> usize) -> f64 {
    let start = Instant::now();
    let mut n = 0usize;
    let mut sink = 0usize;
    for _ in 0..passes {
        for i in items {
            sink += f(i);
            n += 1;
        }
    }
    black_box(sink);
    n as f64 / start.elapsed().as_secs_f64()
}

/// Passes over each set for the validation figures
/// (`CARER_FHIR_BENCH_PASSES`; more make a profile of validation alone
/// stand out over the set-up), else 1 over Synthea and 5 over UK Core.
fn passes(default: usize) -> usize {
    std::env::var("CARER_FHIR_BENCH_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn report(name: &str, count: usize, ours: f64, baseline: f64) {
    println!(
        "{name:<28} {count:>6} resources  validate {ours:>9.0}/s  parse baseline {baseline:>9.0}/s  ratio {:.3}",
        ours / baseline
    );
}

fn main() {
    // A thread with the stack the library recommends for volume work, as a
    // server's workers have.
    std::thread::Builder::new()
        .stack_size(fhir_core::format::limits::THREAD_STACK)
        .spawn(run)
        .expect("a benchmark thread")
        .join()
        .expect("the benchmark");
}

fn run() {
    let mut registry = Registry::new();
    let r4 = cache::package_dir(&cache::cache_dir(), "hl7.fhir.r4.core", "4.0.1");
    registry
        .load(&r4)
        .unwrap_or_else(|e| panic!("{}: {e}; run `carer-fhir packages install`", r4.display()));
    registry
        .load(&shared().join("data/ukcore"))
        .expect("UK Core loads");
    let validator = Validator::new(&registry);

    let texts = synthea();
    let parsed: Vec<Value> = texts
        .iter()
        .map(|t| serde_json::from_str(t).expect("Synthea JSON"))
        .collect();
    // Warm the validator's prepared profiles and expressions once.
    for r in &parsed {
        black_box(validator.validate(r).issues.len());
    }
    let baseline = rate(&texts, 1, |t| {
        format::parse(t, Format::Json).map_or(0, |v| v.as_object().map_or(0, |o| o.len()))
    });
    let ours = rate(&parsed, passes(1), |r| validator.validate(r).issues.len());
    report("base R4 (Synthea)", parsed.len(), ours, baseline);

    // The model's round trip (parse into the loss-checked model, write it
    // back) beside serde_json's (parse into a `Value`, write it back), on
    // the same text.
    let model = rate(&texts, 1, |t| {
        format::parse_typed(t, Format::Json)
            .and_then(|r| format::write_typed(&r, Format::Json, false))
            .map_or(0, |s| s.len())
    });
    let plain = rate(&texts, 1, |t| {
        serde_json::from_str::<Value>(t).map_or(0, |v| v.to_string().len())
    });
    println!(
        "{:<28} {:>6} resources  model {model:>9.0}/s  serde_json::Value {plain:>9.0}/s  ratio {:.3}",
        "JSON parse + serialise",
        texts.len(),
        model / plain
    );

    let texts = ukcore_examples();
    let parsed: Vec<Value> = texts
        .iter()
        .map(|t| serde_json::from_str(t).expect("example JSON"))
        .collect();
    let profiles: Vec<String> = parsed
        .iter()
        .map(|r| {
            let rt = r.get("resourceType").and_then(Value::as_str).unwrap_or("");
            format!("https://fhir.hl7.org.uk/StructureDefinition/UKCore-{rt}")
        })
        .collect();
    let validate_profiled = |(r, p): &(&Value, &String)| {
        let claimed: Vec<&str> = if registry.structure_definition(p).is_some() {
            vec![p.as_str()]
        } else {
            Vec::new()
        };
        validator.validate_against(r, &claimed).issues.len()
    };
    let pairs: Vec<(&Value, &String)> = parsed.iter().zip(&profiles).collect();
    for p in &pairs {
        black_box(validate_profiled(p));
    }
    let baseline = rate(&texts, 5, |t| {
        format::parse(t, Format::Json).map_or(0, |v| v.as_object().map_or(0, |o| o.len()))
    });
    let ours = rate(&pairs, passes(5), validate_profiled);
    report("UK Core profiles (examples)", pairs.len(), ours, baseline);
}
