//! `fhir-server`: the carer-fhir FHIR R4 REST server and the `carer-fhir`
//! command line.
//!
//! # Layout
//! - [`cli`]: the `carer-fhir` subcommands (`convert`, `packages`, `serve`),
//!   each a thin adapter over the library below or over `fhir-core`.
//! - [`packages`]: installing base FHIR R4 into the FHIR package cache from
//!   the npm registry, repaired to the published R4 definitions.
//!
//! The REST server itself arrives with its own issue; `carer-fhir serve`
//! says so until then.
#![deny(missing_docs)]

pub mod cli;
pub mod packages;
