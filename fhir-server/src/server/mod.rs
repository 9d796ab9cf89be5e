//! The HTTP edge of the FHIR R4 REST server (axum): it turns each HTTP
//! request into the interaction layer's [`Request`](crate::interaction::Request),
//! has the [`Service`] apply it for the caller, and writes the answer or
//! failure back in the negotiated format ([`http`]). Every FHIR rule lives
//! in [`crate::interaction`]; only HTTP lives here (routing is one
//! fallback handler: the interaction layer's routing table decides what a
//! path means), with request ids, tracing, the body limit and graceful
//! shutdown.

pub mod http;
pub mod listen;
pub mod parse_errors;

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
use crate::interaction::{Access, Caller, Failure, FailureKind, Service};

/// The largest request body accepted (a transaction of a few thousand
/// resources); larger is 413.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// The longest request target (path and query) accepted; longer is 414.
/// (A search that needs more is sent as `POST _search`.) Beyond 64 KiB
/// hyper answers 414 itself, before any handler runs.
pub const MAX_URL: usize = 8 * 1024;

/// The time a request may take, after which it is abandoned and answered
/// 503 with an OperationOutcome (bounded work per request).
pub const REQUEST_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

/// The routes of the FHIR API over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let cors = cors(&state.cors_origins);
    let router = Router::new()
        .route("/auth/token", axum::routing::post(token))
        .route("/auth/authorize", axum::routing::get(authorize).post(authorize))
        .route("/auth/jwks", axum::routing::get(jwks))
        .route("/.well-known/smart-configuration", axum::routing::get(smart_configuration))
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
        // Compressed when the client says it takes gzip, deflate or zstd
        // (the CapabilityStatement is half a megabyte of JSON).
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(Service::new(state));
    match cors {
        Some(layer) => router.layer(layer),
        None => router,
    }
}

/// CORS for the browser apps of `origins` (`*`: any): preflights
/// answered, and the headers a FHIR client reads exposed. None when no
/// origin is allowed (the default: browsers then refuse cross-origin
/// calls).
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, HeaderName, HeaderValue, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    let name = HeaderName::from_static;
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::ACCEPT,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                header::IF_MODIFIED_SINCE,
                name("if-none-exist"),
                name("prefer"),
                name("x-request-id"),
            ])
            .expose_headers([
                header::ETAG,
                header::LOCATION,
                header::CONTENT_LOCATION,
                header::LAST_MODIFIED,
                header::RETRY_AFTER,
                name("x-progress"),
                name("x-request-id"),
                name("preference-applied"),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// The OAuth authorization endpoint the CapabilityStatement names (the
/// SMART `oauth-uris` extension requires one). Person sign-in (SMART App
/// Launch) is not offered yet, so every request is refused as RFC 6749
/// §4.1.2.1 says when the redirect URI cannot be trusted: to the caller,
/// not by redirect.
async fn authorize() -> Response {
    use axum::response::IntoResponse;
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({
            "error": "unsupported_response_type",
            "error_description": "this server does not offer person sign-in yet; systems get tokens from the token endpoint (SMART Backend Services, client_credentials)"
        })),
    )
        .into_response()
}

/// Every request: extract, convert, apply, answer.
async fn handle(
    State(svc): State<Service>,
    method: HttpMethod,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    // A body must arrive within the request's budget: a client trickling
    // one byte now and then cannot hold a connection for ever.
    let body = match tokio::time::timeout(REQUEST_BUDGET, read_body(&headers, body)).await {
        Ok(body) => body,
        Err(_) => Err(Failure::new(
            FailureKind::Timeout,
            "timeout",
            format!(
                "the request's body did not arrive within {} s",
                REQUEST_BUDGET.as_secs()
            ),
        )),
    };
    let query =
        crate::interaction::request::query_pairs(uri.query().unwrap_or("")).unwrap_or_default();
    let caller = match authenticate(&svc, &headers).await {
        Ok(c) => c,
        Err(f) => {
            // A refused credential is an access too: it is audited.
            audit_refused(&svc, &Caller::Anonymous, &method, &uri, &f).await;
            let fmt = http::negotiate(&headers, &query).unwrap_or(Format::Json);
            return http::failure(f, fmt);
        }
    };
    let fmt = match http::negotiate(&headers, &query) {
        Ok(f) => f,
        Err(f) => {
            audit_refused(&svc, &caller, &method, &uri, &f).await;
            return http::failure(f, Format::Json);
        }
    };
    // The request's memory budget: its body, then what its answer holds.
    let result = crate::interaction::budget::scope(async {
        let body = body.and_then(|b| crate::interaction::budget::charge(b.len()).map(|()| b));
        let request = match body.and_then(|b| http::request(&method, &uri, &headers, b)) {
            Ok(r) => r,
            Err(f) => {
                audit_refused(&svc, &caller, &method, &uri, &f).await;
                return Err(f);
            }
        };
        match tokio::time::timeout(REQUEST_BUDGET, svc.handle(&caller, request)).await {
            Ok(answered) => answered,
            Err(_) => {
                tracing::warn!(budget_s = REQUEST_BUDGET.as_secs(), "request abandoned: over its time budget");
                let f = Failure::new(
                    FailureKind::Unavailable,
                    "timeout",
                    format!(
                        "the request took longer than the {} s this server gives one request; narrow it (smaller _count, fewer includes, a smaller Bundle)",
                        REQUEST_BUDGET.as_secs()
                    ),
                );
                // Abandoned mid-way, it was an access all the same.
                audit_refused(&svc, &caller, &method, &uri, &f).await;
                Err(f)
            }
        }
    })
    .await;
    let response = match result {
        Ok(answer) => http::answer(answer, fmt, &svc.state.base),
        Err(f) => http::failure(f, fmt),
    };
    http::finish(response, &method, uri.path(), &headers, &query).await
}

/// Audits a request refused at the edge (logged, not answered, when the
/// record cannot be stored: the refusal stands either way).
async fn audit_refused(
    svc: &Service,
    caller: &Caller,
    method: &HttpMethod,
    uri: &Uri,
    f: &Failure,
) {
    if let Err(e) = svc
        .audit_refused(caller, method.as_str(), uri.path(), f)
        .await
    {
        tracing::error!(error = %e.message(), "auditing a refused request");
    }
}

/// The caller a request's credentials make: everyone is `Open` when access
/// control is off; otherwise no `Authorization` is `Anonymous` (who may
/// read the CapabilityStatement only), and a bearer token must be valid.
///
/// # Errors
/// 401 for credentials that are not a valid bearer token.
async fn authenticate(svc: &Service, headers: &HeaderMap) -> Result<Caller, Failure> {
    let Access::Enforced(authority) = &svc.state.access else {
        return Ok(Caller::Open);
    };
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let unauthorized =
        |why: &str| Failure::new(FailureKind::Unauthorized, "login", why.to_string());
    let text = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not text"))?;
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauthorized("Authorization must be 'Bearer TOKEN'"));
    }
    authority
        .authenticate(token.trim())
        .await
        .map(Caller::Client)
        .map_err(|e| unauthorized(&format!("the bearer token was refused: {}", e.0)))
}

/// `POST {base}/auth/token`: the SMART Backend Services token endpoint.
async fn token(
    State(svc): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    use axum::response::IntoResponse;
    let Access::Enforced(authority) = &svc.state.access else {
        return http::failure(
            Failure::not_found(
                "access control is off (--insecure-open): this server issues no tokens",
            ),
            Format::Json,
        );
    };
    let oauth = |e: crate::auth::OAuthError| {
        let mut r = (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            axum::Json(e.body()),
        )
            .into_response();
        r.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        r
    };
    let ctype = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype.starts_with("application/x-www-form-urlencoded") {
        return oauth(crate::auth::OAuthError {
            status: 400,
            error: "invalid_request",
            description: "the token request is a form (application/x-www-form-urlencoded)".into(),
        });
    }
    let form: Vec<(String, String)> = match body
        .ok()
        .and_then(|b| serde_urlencoded::from_bytes(&b).ok())
    {
        Some(f) => f,
        None => {
            return oauth(crate::auth::OAuthError {
                status: 400,
                error: "invalid_request",
                description: "the form cannot be read".into(),
            })
        }
    };
    match authority.token(&form).await {
        Ok(t) => {
            let mut r = (StatusCode::OK, axum::Json(t)).into_response();
            r.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(e) => {
            tracing::info!(error = e.error, description = %e.description, "token refused");
            oauth(e)
        }
    }
}

/// `GET {base}/auth/jwks`: the server's public keys.
async fn jwks(State(svc): State<Service>) -> Response {
    use axum::response::IntoResponse;
    match &svc.state.access {
        Access::Enforced(a) => axum::Json(a.jwks()).into_response(),
        Access::Open => http::failure(Failure::not_found("access control is off"), Format::Json),
    }
}

/// `GET {base}/.well-known/smart-configuration`.
async fn smart_configuration(State(svc): State<Service>) -> Response {
    use axum::response::IntoResponse;
    match &svc.state.access {
        Access::Enforced(a) => axum::Json(a.smart_configuration(
            &crate::interaction::capabilities::scopes_supported(&svc.state),
        ))
        .into_response(),
        Access::Open => http::failure(
            Failure::not_found("access control is off (--insecure-open)"),
            Format::Json,
        ),
    }
}

/// Beyond this many bytes a body refused as too large is not even read
/// to its end: the connection is closed after the answer.
const MAX_DRAIN: u64 = 4 * MAX_BODY as u64;

/// The body, refused when its declared length is over [`MAX_BODY`]. A
/// client that waits for `100 Continue` is told before it sends a byte;
/// one that does not has what it sends (up to [`MAX_DRAIN`]) read and
/// dropped, so that it is still reading when the answer comes (a server
/// that closes on unread data resets the connection, and the client
/// loses the answer).
async fn read_body(headers: &HeaderMap, body: axum::body::Body) -> Result<Bytes, Failure> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = declared.filter(|&n| n > MAX_BODY as u64) {
        let waits = headers
            .get(axum::http::header::EXPECT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        if !waits && n <= MAX_DRAIN {
            use http_body_util::BodyExt;
            let mut body = body;
            let drain = async { while let Some(Ok(_)) = body.frame().await {} };
            let _ = tokio::time::timeout(REQUEST_BUDGET, drain).await;
        }
        return Err(too_large());
    }
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
        // A body over the limit without a declared length (chunked) ends
        // as a length error from the reader.
        let over = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if over {
            too_large()
        } else {
            Failure::invalid(format!("the body could not be read: {e}"))
        }
    })
}

fn too_large() -> Failure {
    Failure::new(
        FailureKind::TooLarge,
        "too-costly",
        format!(
            "the body is larger than the {} MB this server accepts",
            MAX_BODY / (1024 * 1024)
        ),
    )
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
    /// Access control off (`--insecure-open`): for local trials only.
    pub insecure_open: bool,
    /// External token issuers: issuer URL and JWKS (a file or a URL).
    pub issuers: Vec<(String, String)>,
    /// Endpoint prefixes subscription notifications may go to.
    pub subscription_allow: Vec<String>,
    /// Web origins whose browser apps may call the server (CORS); none
    /// by default.
    pub cors_origins: Vec<String>,
    /// How many matches a search without `_total` counts
    /// ([`crate::store::Total`]).
    pub count_up_to: i64,
    /// Days AuditEvents are kept (`--audit-retention`; None: for ever).
    pub audit_retention_days: Option<u32>,
    /// Connections open at once (`--max-connections`), kept within the
    /// open-file limit.
    pub max_connections: usize,
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
    let store = Arc::new(store);
    let access = if config.insecure_open {
        tracing::warn!("ACCESS CONTROL IS OFF (--insecure-open): every request may read and write everything; use this for local trials only");
        Access::Open
    } else {
        let mut issuers = Vec::new();
        for (issuer, jwks) in &config.issuers {
            issuers.push(crate::auth::ExternalIssuer {
                issuer: issuer.clone(),
                jwks: crate::auth::load_jwks(jwks).await.map_err(|e| {
                    anyhow::anyhow!("reading the JWKS of {issuer} from {jwks}: {e}")
                })?,
            });
        }
        Access::Enforced(Arc::new(
            crate::auth::Authority::new(store.clone(), &base, issuers).await?,
        ))
    };
    let mut state = AppState::new(store, registry, &base, access);
    state.count_up_to = config.count_up_to;
    state.cors_origins = config.cors_origins.clone();
    state.subscriptions = crate::subscription::Config {
        allow: config.subscription_allow.clone(),
        ..crate::subscription::Config::default()
    };
    let state = Arc::new(state);
    crate::subscription::notifier::start(state.clone());
    if let Some(days) = config.audit_retention_days {
        start_audit_retention(state.store.clone(), days);
    }
    let limits = listen::Limits {
        max_connections: listen::connections_that_fit(config.max_connections),
        ..listen::Limits::default()
    };
    tracing::info!(address = %bound, base = %base, max_connections = limits.max_connections, "listening");
    listen::serve(listener, router(state), limits, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Removes AuditEvents older than `days`, at start and then hourly. The
/// store removes them in short transactions, so requests wait a moment at
/// most; a failure is logged and tried again at the next hour.
fn start_audit_retention(store: Arc<dyn crate::store::Store>, days: u32) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            let before = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
            let before = fhir_core::instant::format(before);
            match store.purge_audit(&before).await {
                Ok(0) => {}
                Ok(removed) => {
                    tracing::info!(removed, before = %before, "audit retention: AuditEvents removed")
                }
                Err(e) => tracing::warn!(error = %e, "audit retention failed; next try in an hour"),
            }
        }
    });
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
