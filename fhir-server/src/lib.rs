//! `fhir-server`: the carer-fhir FHIR R4 REST server and the `carer-fhir`
//! command line.
//!
//! # Layout
//! - [`cli`]: the `carer-fhir` subcommands (`convert`, `packages`, `serve`),
//!   each a thin adapter over the library below or over `fhir-core`.
//! - [`packages`]: installing base FHIR R4 into the FHIR package cache from
//!   the npm registry, repaired to the published R4 definitions.
//!
//! - [`interaction`]: the one door: every FHIR interaction parsed into a
//!   value and applied by one service for a caller; the write pipeline;
//!   operations; the CapabilityStatement.
//! - [`server`]: the HTTP edge (axum): extraction, format negotiation,
//!   answers and failures as responses.
//! - [`store`]: storage behind the [`store::Store`] trait (SQLite, PostgreSQL).
//! - [`import`]: bulk loading of NDJSON and Bundles into a database or a server.
//! - [`search`]: the search-parameter registry, index extraction, query parsing.
//! - [`auth`]: the SMART Backend Services authorisation server and token checks.
//! - [`subscription`]: topic-based subscriptions: topics, the outbox, delivery.
#![deny(missing_docs)]

pub mod auth;
pub mod cli;
pub mod import;
pub mod interaction;
pub mod packages;
pub mod search;
pub mod server;
pub mod store;
pub mod subscription;
pub mod workflow;

use std::sync::Arc;

/// The modules' part in every write, in the order they run: the
/// referral's rules, who may record consent, the subscription outbox, and
/// deaths ending caring (see [`interaction::hooks`]). The write pipeline
/// knows them only through this list.
pub fn write_hooks() -> Vec<Arc<dyn interaction::hooks::WriteHook>> {
    vec![
        Arc::new(workflow::referral::Referral),
        Arc::new(interaction::access::consent::Recorder),
        Arc::new(workflow::end_caring::Deaths),
        Arc::new(subscription::Outbox),
    ]
}
