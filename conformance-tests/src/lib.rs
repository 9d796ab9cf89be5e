//! `conformance-tests`: runs conformance suites and reports results testers
//! can file.
//!
//! # Layout
//! - [`validator_suite`]: the HL7 validator test cases run against
//!   `fhir-core`'s validator, compared with the reference validator's
//!   outcomes (`conformance-tests validator-suite MANIFEST`).
//! - [`testscript`]: the TestScript runner (`conformance-tests run --server
//!   URL --suite DIR`), writing TestReports, JUnit XML and a summary.
#![deny(missing_docs)]

pub mod testscript;
pub mod validator_suite;
