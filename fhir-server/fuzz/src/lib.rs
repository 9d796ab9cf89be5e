//! The fuzz targets of fhir-server, as plain functions of the input bytes.
//!
//! `targets.rs` holds them so that two builds share one definition: the
//! cargo-fuzz binaries in `fuzz_targets/` (nightly, coverage-guided) and
//! the stable test `fhir-server/tests/fuzz_regressions.rs`, which runs each
//! function over the committed seeds and every finding so far.

#[path = "targets.rs"]
mod targets;

pub use targets::*;
