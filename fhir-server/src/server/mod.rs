//! The FHIR R4 REST server: axum routes over a [`Store`], every write
//! validated with `fhir_core::validation` and indexed with the one
//! search-parameter registry ([`crate::search`]).
//!
//! Request flow: route → `http` (format negotiation, body reading) →
//! handler in `handlers` or `bundle` (transaction/batch) → validation
//! (on a blocking thread) → index extraction → store transaction → response
//! in the client's format with `ETag`, `Last-Modified`, `Location`. Every
//! failure is an [`ApiError`] answered as an OperationOutcome.

mod bundle;
mod capability;
pub mod error;
mod handlers;
mod http;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use fhir_core::fhirpath::ModelInfo;
use fhir_core::package::Registry;
use fhir_core::validation::{Options, Validator};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use error::ApiError;

use crate::search::{SearchParams, Searcher};
use crate::store::Store;

/// The largest request body accepted (a transaction of a few thousand
/// resources); larger is 413.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

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
}

impl AppState {
    /// A server state over `store` with the conformance resources of
    /// `registry`, which lives as long as the process (see [`serve`]).
    pub fn new(store: Arc<dyn Store>, registry: &'static Registry, base: &str) -> AppState {
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
            // warning, ours and UK Core's must be known.
            validator: Validator::with_model(registry, model.clone()).with_options(Options {
                assume_valid_rest_references: true,
                foreign_extensions: true,
                ..Options::default()
            }),
            search: Searcher {
                params: SearchParams::from_registry(registry),
                model,
            },
            resource_types,
            base: base.trim_end_matches('/').to_string(),
        }
    }
}

/// The routes of the FHIR API over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metadata", get(capability::metadata))
        .route("/", post(bundle::batch_or_transaction))
        .route("/_history", get(handlers::history_system))
        .route("/{rtype}", get(handlers::search_get).post(handlers::create).put(handlers::conditional_update).delete(handlers::conditional_delete))
        .route("/{rtype}/_search", post(handlers::search_post))
        .route("/{rtype}/_history", get(handlers::history_type))
        .route("/{rtype}/$validate", post(handlers::validate_type))
        .route("/{rtype}/{id}", get(handlers::read).put(handlers::update).delete(handlers::delete).patch(handlers::patch))
        .route("/{rtype}/{id}/$validate", post(handlers::validate_instance))
        .route("/{rtype}/{id}/_history", get(handlers::history_instance))
        .route("/{rtype}/{id}/_history/{vid}", get(handlers::vread))
        .fallback(handlers::unknown_route)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                // Method, path and request id only: no query (it may hold
                // identifiers) and never a body.
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// How to run a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on.
    pub bind: SocketAddr,
    /// `sqlite:PATH` or `postgres://…`.
    pub database: String,
    /// The folder of base R4 (`hl7.fhir.r4.core#4.0.1` in the package cache).
    pub r4: PathBuf,
    /// Further packages (UK Core, our guide, …).
    pub packages: Vec<PathBuf>,
    /// The base URL for links; default `http://BIND`.
    pub base: Option<String>,
}

/// Loads the conformance resources a [`Config`] names.
///
/// # Errors
/// When base R4 or a package cannot be read.
pub fn load_registry(config: &Config) -> anyhow::Result<Registry> {
    let mut registry = Registry::new();
    for source in std::iter::once(&config.r4).chain(&config.packages) {
        let report = registry
            .load(source)
            .map_err(|e| anyhow::anyhow!("loading {}: {e}", source.display()))?;
        tracing::info!(source = %source.display(), loaded = report.loaded, unreadable = report.errors.len(), "conformance resources loaded");
    }
    Ok(registry)
}

/// Runs the server until SIGINT or SIGTERM, then finishes the requests in
/// flight and returns.
///
/// # Errors
/// When the database or the address cannot be opened.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let registry = load_registry(&config)?;
    let store = crate::store::sql::SqlStore::connect(&config.database).await?;
    tracing::info!(store = store.name(), "database ready");
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let bound = listener.local_addr()?;
    let base = config
        .base
        .clone()
        .unwrap_or_else(|| format!("http://{bound}"));
    // One registry for the life of the process: validators borrow it.
    let registry: &'static Registry = Box::leak(Box::new(registry));
    let state = Arc::new(AppState::new(Arc::new(store), registry, &base));
    tracing::info!(address = %bound, base = %base, "listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
