//! `conformance-tests`: runs conformance suites and reports results testers
//! can file.
//!
//! # Layout
//! - [`validator_suite`]: the HL7 validator test cases run against
//!   `fhir-core`'s validator, compared with the reference validator's
//!   outcomes (`conformance-tests validator-suite MANIFEST`).
//!
//! The TestScript runner (`conformance-tests run`) arrives with its own
//! issue.
#![deny(missing_docs)]

pub mod validator_suite;
