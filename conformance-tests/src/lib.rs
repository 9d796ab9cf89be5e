//! `conformance-tests`: runs FHIR TestScripts against any FHIR server, and
//! the HL7 validator test cases against `fhir-core`'s validator.
//!
//! Both runners arrive with their own issues; this crate holds their place
//! in the workspace so that its layout is fixed from the start.
#![deny(missing_docs)]
