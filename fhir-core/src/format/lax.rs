//! fhirbolt's lax reader, run only when it cannot loop, and still under a
//! deadline.
//!
//! Lax mode pads missing required elements, which is how resources that
//! lack one (the spec's Questionnaires lack `linkId`) are read; the
//! validator then reports the cardinality. But fhirbolt 0.4.0's lax mode
//! never consumes the value of an element it does not know, and loops
//! forever on it (JSON arrays, XML elements). So lax mode is used only when
//! strict mode's sole complaint is a missing element *and* fhirbolt's
//! generic element model, read strictly (it checks every element name
//! against the R4 model but needs no required element), finds no unknown
//! element: `fhir_model::check_names_json` and `check_names_xml`, called
//! by the readers in `format`. On such input lax mode ends.
//!
//! It still runs on a worker thread with a deadline, as a second line of
//! defence: should some input get past the name check, the caller gets an
//! error rather than a hang (the thread, which cannot be stopped, would
//! then spin; `tests/no_spinning.rs` checks that none does).

use std::sync::mpsc;
use std::time::Duration;

use fhir_model::{Mode, Resource};

/// How long a lax read may take; ordinary resources take milliseconds.
const DEADLINE: Duration = Duration::from_secs(5);

/// A lax read of JSON; `None` when it did not finish in time.
pub fn json(value: serde_json::Value) -> Option<Result<Resource, String>> {
    run(move || fhir_model::from_json_value(value, Mode::Lax).map_err(|e| e.to_string()))
}

/// A lax read of XML; `None` when it did not finish in time.
pub fn xml(text: String) -> Option<Result<Resource, String>> {
    run(move || fhir_model::from_xml_str(&text, Mode::Lax).map_err(|e| e.to_string()))
}

fn run(
    read: impl FnOnce() -> Result<Resource, String> + Send + 'static,
) -> Option<Result<Resource, String>> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("fhirbolt-lax".into())
        .spawn(move || {
            let _ = tx.send(read());
        })
        .ok()?;
    rx.recv_timeout(DEADLINE).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn missing_element_with_unknown_array_never_hangs() {
        // Strict mode reports the missing linkId; lax mode would loop on
        // `bogus`. The reader must answer with an error.
        let q = r#"{"resourceType":"Questionnaire","status":"draft","item":[{"type":"string"}],"bogus":["x",true]}"#;
        let started = std::time::Instant::now();
        assert!(crate::format::parse(q, crate::format::Format::Json).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }

    #[test]
    fn unknown_array_alone_is_a_located_error() {
        let p = r#"{"resourceType":"Patient","fhir_comments":["legacy", true]}"#;
        let e = crate::format::parse(p, crate::format::Format::Json).unwrap_err();
        assert_eq!(e.location.path.as_deref(), Some("Patient.fhir_comments"));
    }
}
