//! Regression test for issue 15, fault 2: input that sent fhirbolt's lax
//! reader into an endless loop left a thread spinning at full CPU for the
//! life of the process. After reading such input, the process must be
//! idle: its CPU time, summed over its threads, must stop growing.
//!
//! One test in its own binary, so that no other test's work is counted.

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use fhir_core::format::{self, Format};

/// CPU time of every live thread of this process, in seconds, from the
/// scheduler's per-thread accounting (`/proc/self/task/*/schedstat`, whose
/// first field is nanoseconds on the CPU).
fn cpu_seconds() -> f64 {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").expect("procfs") {
        let path = task.expect("task").path().join("schedstat");
        if let Ok(text) = std::fs::read_to_string(path) {
            total += text
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total as f64 / 1e9
}

#[test]
fn input_that_looped_the_lax_reader_leaves_no_thread_running() {
    let inputs = [
        // A required element missing (`other`), then an unknown element
        // repeated in a later sibling.
        (
            Format::Xml,
            r#"<Patient xmlns="http://hl7.org/fhir"><link><type value="seealso"/></link><link><other><reference value="Patient/1"/><bogus value="1"/><bogus value="2"/></other><type value="seealso"/></link></Patient>"#,
        ),
        (
            Format::Xml,
            r#"<Questionnaire xmlns="http://hl7.org/fhir"><status value="draft"/><item><type value="string"/></item><bogus/><bogus/></Questionnaire>"#,
        ),
        (
            Format::Xml,
            r#"<Questionnaire xmlns="http://hl7.org/fhir"><status value="draft"/><item><type value="group"/><item><linkId value="a"/><type value="string"/><bogus/></item></item></Questionnaire>"#,
        ),
        (
            Format::Json,
            r#"{"resourceType":"Questionnaire","status":"draft","item":[{"type":"string"}],"bogus":["x",true]}"#,
        ),
        (
            Format::Json,
            r#"{"resourceType":"Patient","link":[{"type":"seealso"},{"other":{"reference":"Patient/1","bogus":[1,2]},"type":"seealso"}]}"#,
        ),
    ];
    let results: Vec<_> = inputs
        .iter()
        .map(|(format, text)| (text, format::parse(text, *format)))
        .collect();
    // Whatever the reads started has had time to end; now measure.
    std::thread::sleep(Duration::from_millis(200));
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    std::thread::sleep(Duration::from_millis(1500));
    let busy = cpu_seconds() - cpu;
    let elapsed = wall.elapsed().as_secs_f64();
    // A spinning thread makes this ratio about 1; an idle process about 0.
    assert!(
        busy < 0.25 * elapsed,
        "the process used {busy:.2} s of CPU in {elapsed:.2} s after the reads: a thread is still running"
    );
    // And each was refused for what is wrong with it.
    for (text, result) in results {
        let e = result.expect_err("refused");
        assert!(e.message.contains("bogus"), "{text}: {e}");
    }
}
