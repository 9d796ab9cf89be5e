//! fhirbolt's lax reader, run only under a deadline.
//!
//! Lax mode pads missing required elements, which is how resources that
//! lack one (the spec's Questionnaires lack `linkId`) are read; the
//! validator then reports the cardinality. But fhirbolt 0.4.0's lax mode
//! never consumes the value of an element it does not know, and loops
//! forever when that value is an array (JSON) or the element repeats (XML).
//! So lax mode is used only when strict mode's sole complaint is a missing
//! element, and always on a worker thread with a deadline: a caller gets an
//! error instead of a hang. A thread that hits the deadline cannot be
//! stopped and spins until the process ends; removing that requires a typed
//! pre-pass that rejects unknown elements before fhirbolt sees the input
//! (planned with the server, which must not accept input before it exists).

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
