//! What the interaction service holds: the store, the conformance
//! resources, the validator, the search-parameter registry, and the base
//! URL links are written with.

use std::collections::BTreeSet;
use std::sync::Arc;

use fhir_core::fhirpath::ModelInfo;
use fhir_core::package::Registry;
use fhir_core::validation::{Options, Validator};

use super::access::compartment::Compartments;
use super::Failure;
use crate::auth::Authority;
use crate::search::{SearchParams, Searcher};
use crate::store::Store;

/// Whether access control is on.
#[derive(Debug, Clone)]
pub enum Access {
    /// Off: every caller is allowed everything (`--insecure-open`, and
    /// tests of behaviour unrelated to access).
    Open,
    /// On: bearer tokens of this authority are required and scopes and
    /// consent enforced.
    Enforced(Arc<Authority>),
}

/// What a server needs.
pub struct AppState {
    /// Where resources live.
    pub store: Arc<dyn Store>,
    /// The conformance resources (base R4, UK Core, our guide, …).
    pub registry: &'static Registry,
    /// Validation of every write.
    pub validator: Validator<'static>,
    /// Search parameters and index extraction.
    pub search: Searcher,
    /// The resource types of R4.
    pub resource_types: BTreeSet<String>,
    /// The base URL for links (`http://127.0.0.1:8080`).
    pub base: String,
    /// Whose data each resource is.
    pub compartments: Arc<Compartments>,
    /// Whether access control is on.
    pub access: Access,
    /// Where subscription notifications may go.
    pub subscriptions: crate::subscription::Config,
    /// How many matches a search that does not ask for `_total` counts
    /// (see [`crate::store::Total`]; default [`crate::store::COUNT_UP_TO`]).
    pub count_up_to: i64,
    /// The web origins whose browser apps may call this server (CORS);
    /// empty: none (`serve --cors-origin`).
    pub cors_origins: Vec<String>,
    /// Woken when a commit raises subscription events (the delivery
    /// worker waits on it).
    pub notify: Arc<tokio::sync::Notify>,
    /// What modules add to every write ([`crate::write_hooks`]).
    pub hooks: Arc<Vec<Arc<dyn super::hooks::WriteHook>>>,
    /// The writer of AuditEvents for accesses outside writes (started on
    /// first use, while access control is on).
    auditor: std::sync::OnceLock<super::audit::Auditor>,
}

impl AppState {
    /// A server state over `store` with the conformance resources of
    /// `registry`, which lives as long as the process, with access control
    /// as `access` says.
    pub fn new(
        store: Arc<dyn Store>,
        registry: &'static Registry,
        base: &str,
        access: Access,
    ) -> AppState {
        let model = Arc::new(ModelInfo::from_registry(registry));
        let resource_types = registry
            .of_type("StructureDefinition")
            .filter(|sd| {
                sd["kind"] == "resource"
                    && sd["derivation"] == "specialization"
                    && sd["abstract"] != true
            })
            .filter_map(|sd| sd["type"].as_str().map(str::to_string))
            .collect();
        AppState {
            store,
            registry,
            // References are RESTful here; extensions from namespaces we
            // hold no definitions for (Synthea's, say) are kept with a
            // warning, ours and UK Core's must be known; example addresses
            // (RFC 2606) are accepted, as before the example-URL rule.
            validator: Validator::with_model(registry, model.clone()).with_options(Options {
                assume_valid_rest_references: true,
                foreign_extensions: true,
                allow_examples: true,
                ..Options::default()
            }),
            search: Searcher {
                params: SearchParams::from_registry(registry),
                model,
            },
            resource_types,
            base: base.trim_end_matches('/').to_string(),
            compartments: Arc::new(Compartments::from_registry(registry)),
            access,
            subscriptions: crate::subscription::Config::default(),
            count_up_to: crate::store::COUNT_UP_TO,
            cors_origins: Vec::new(),
            notify: Arc::new(tokio::sync::Notify::new()),
            hooks: Arc::new(crate::write_hooks()),
            auditor: std::sync::OnceLock::new(),
        }
    }

    /// The audit writer of this state (started on first use).
    pub fn auditor(self: &Arc<Self>) -> &super::audit::Auditor {
        self.auditor
            .get_or_init(|| super::audit::Auditor::start(self.clone()))
    }

    /// Checks that `rtype` is an R4 resource type.
    ///
    /// # Errors
    /// 404 otherwise (no such endpoint).
    pub fn check_type(&self, rtype: &str) -> Result<(), Failure> {
        if self.resource_types.contains(rtype) {
            Ok(())
        } else {
            Err(Failure::not_found(format!(
                "{rtype:?} is not a FHIR R4 resource type"
            )))
        }
    }
}
