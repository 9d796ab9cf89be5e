//! The HTTP edge of the FHIR R4 REST server (axum): it turns each HTTP
//! request into the interaction layer's [`Request`](crate::interaction::Request),
//! has the [`Service`] apply it for the caller, and writes the answer or
//! failure back in the negotiated format ([`http`]). Every FHIR rule lives
//! in [`crate::interaction`]; only HTTP lives here (routing is one
//! fallback handler: the interaction layer's routing table decides what a
//! path means), with request ids, tracing, the body limit and graceful
//! shutdown.

pub mod http;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use fhir_core::format::Format;
use fhir_core::package::Registry;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use crate::interaction::AppState;
use crate::interaction::{Caller, Failure, FailureKind, Service};

/// The largest request body accepted (a transaction of a few thousand
/// resources); larger is 413.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// The routes of the FHIR API over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    // Method, path and request id only: no query (it may
                    // hold identifiers) and never a body.
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_string();
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(Service::new(state))
}

/// Every request: extract, convert, apply, answer.
async fn handle(
    State(svc): State<Service>,
    method: HttpMethod,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query =
        crate::interaction::request::query_pairs(uri.query().unwrap_or("")).unwrap_or_default();
    let fmt = match http::negotiate(&headers, &query) {
        Ok(f) => f,
        Err(f) => return http::failure(f, Format::Json),
    };
    let result = async {
        let body = body.map_err(body_failure)?;
        let request = http::request(&method, &uri, &headers, body)?;
        svc.handle(&Caller::Anonymous, request).await
    }
    .await;
    match result {
        Ok(answer) => http::answer(answer, fmt, &svc.state.base),
        Err(f) => http::failure(f, fmt),
    }
}

fn body_failure(e: BytesRejection) -> Failure {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Failure::new(
            FailureKind::TooLarge,
            "too-costly",
            format!(
                "the body is larger than the {} MB this server accepts",
                MAX_BODY / (1024 * 1024)
            ),
        )
    } else {
        Failure::invalid(format!("the body could not be read: {e}"))
    }
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
    /// Further packages (UK Core, …); the carer guide is always loaded.
    pub packages: Vec<PathBuf>,
    /// The base URL for links; default `http://BIND`.
    pub base: Option<String>,
}

/// Loads base R4, the carer guide (compiled in) and each further package.
///
/// # Errors
/// When base R4 or a package cannot be read.
pub fn load_registry(r4: &std::path::Path, packages: &[PathBuf]) -> anyhow::Result<Registry> {
    let mut registry = Registry::new();
    let report = registry
        .load(r4)
        .map_err(|e| anyhow::anyhow!("loading {}: {e}", r4.display()))?;
    tracing::info!(source = %r4.display(), loaded = report.loaded, "base R4 loaded");
    let guide = crate::packages::guide::load(&mut registry);
    tracing::info!(package = %crate::packages::guide::package_id(), loaded = guide, "carer guide loaded (compiled in)");
    for source in packages {
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
    let registry = load_registry(&config.r4, &config.packages)?;
    let store = crate::store::sql::SqlStore::connect(&config.database).await?;
    tracing::info!(store = crate::store::Store::name(&store), "database ready");
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
