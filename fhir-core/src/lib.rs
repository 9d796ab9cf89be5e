//! `fhir-core`: the FHIR R4 library of carer-fhir.
//!
//! EHR vendors link this crate to read, write and check the resources of the
//! Common Assessment Framework for adults (carers, the people they care for,
//! assessments, plans, consents), on HL7 FHIR R4 and NHS England's UK Core.
//!
//! # Layout
//! - [`format`](mod@format): reading and writing resources as FHIR JSON and XML, through
//!   fhirbolt's R4 model ([`format::Format`], [`format::parse`],
//!   [`format::write`], [`format::convert`]). Resources are then handled as
//!   `serde_json::Value` in their JSON form.
//! - [`package`]: loading conformance resources (StructureDefinition,
//!   ValueSet, CodeSystem, SearchParameter, Questionnaire, …) from FHIR
//!   packages, `.tgz` archives, Bundles and folders, indexed by canonical URL
//!   in a [`package::Registry`].
//! - [`fhirpath`]: the FHIRPath engine ([`fhirpath::Expression`]), with type
//!   knowledge from StructureDefinitions ([`fhirpath::ModelInfo`]).
//! - [`patch`]: FHIRPath Patch.
//! - [`narrative`]: a generator of resources' human-readable `text`
//!   ([`narrative::generate`], [`narrative::add`]).
//! - [`validation`]: validation against base R4 and profiles
//!   ([`validation::Validator`], [`validation::Outcome`]), with snapshot
//!   generation for differential-only profiles.
//! - [`caf`]: the carer data set: typed builders and readers for the carer
//!   guide's profiles, [`caf::NhsNumber`], [`caf::OdsCode`] and
//!   [`caf::OrganisationId`], the rules ([`caf::rules::eligibility`] under
//!   reg 3, [`caf::rules::carer_qol_score`], [`caf::rules::hours_band`],
//!   [`caf::rules::young_carer_age`]), and the working carer's passport's
//!   signature ([`caf::passport::sign`], [`caf::passport::verify`]).
//! - [`error`]: the one error type of this layer, [`Error`], which always
//!   carries a [`Location`].
//!
//! # Example
//! ```
//! use fhir_core::format::{convert, Format};
//! let json = r#"{"resourceType":"Patient","active":true}"#;
//! let xml = convert(json, Format::Json, Format::Xml, false).unwrap();
//! assert!(xml.contains("<active value=\"true\"/>"));
//! ```
#![deny(missing_docs)]

pub mod caf;
pub mod error;
pub mod fhirpath;
pub mod format;
pub mod instant;
pub mod narrative;
pub mod package;
pub mod patch;
pub mod reference;
pub mod validation;

pub use error::{Error, ErrorKind, Location, Result};
