//! The fuzz targets of fhir-server, as plain functions of the input bytes:
//! the two readers of client input that the library's targets do not
//! reach.
//!
//! - [`search_parse`]: a search URL (`Type?query`, or `?query` for a
//!   system search) through query decoding and the search-parameter
//!   parser (`SearchParams::query`: modifiers, prefixes, chains, `_has`,
//!   includes, paging, every limit), with and without `handling=strict`.
//! - [`transaction_parse`]: a request body POSTed to the base, through
//!   `Interaction::parse` (the body read by content type, the Bundle's
//!   entries, their requests, fullUrls and conditional references).
//!
//! Any `Err` is a fine answer; a panic, an abort or a hang is a finding.
//! The state (base R4 and the carer guide, an scratch SQLite store) is
//! made once, before the first input ([`init`]).

use std::sync::{Arc, OnceLock};

use fhir_core::package::cache;
use fhir_server::interaction::request::{Body, Headers, Method, Request};
use fhir_server::interaction::{Access, AppState, Interaction};

static STATE: OnceLock<AppState> = OnceLock::new();
/// The runtime the store was opened on, kept as long as the state (held
/// here, so that LeakSanitizer sees it reachable).
static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// The server state every input is read against (base R4 from the package
/// cache, as `carer-fhir serve` loads it, and the compiled-in guide).
pub fn init() -> &'static AppState {
    STATE.get_or_init(|| {
        let r4 = cache::package_dir(&cache::cache_dir(), "hl7.fhir.r4.core", "4.0.1");
        let registry = fhir_server::server::load_registry(&r4, &[])
            .unwrap_or_else(|e| panic!("{e}; run `carer-fhir packages install`"));
        let registry: &'static _ = Box::leak(Box::new(registry));
        // The store is never read by the parsers; it is there because the
        // state holds one.
        let runtime = RUNTIME.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
        });
        let file =
            std::env::temp_dir().join(format!("carer-fhir-fuzz-{}.sqlite", std::process::id()));
        let store = runtime
            .block_on(fhir_server::store::sql::SqlStore::connect(&format!(
                "sqlite:{}",
                file.display()
            )))
            .expect("a scratch store");
        AppState::new(
            Arc::new(store),
            registry,
            "http://fuzz.invalid",
            Access::Open,
        )
    })
}

/// A search URL through the search-parameter parser.
pub fn search_parse(data: &[u8]) {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    let state = init();
    let (rtype, query) = url.split_once('?').unwrap_or((url, ""));
    let Ok(params) = fhir_server::interaction::request::query_pairs(query) else {
        return;
    };
    let rtype = (!rtype.is_empty()).then_some(rtype);
    for strict in [false, true] {
        let _ = state.search.params.query(rtype, &params, strict);
    }
}

/// A body POSTed to the base (a batch or transaction Bundle, in JSON or,
/// when it starts with `<`, XML) through the interaction parser.
pub fn transaction_parse(data: &[u8]) {
    let state = init();
    let xml = data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    let content_type = if xml {
        "application/fhir+xml"
    } else {
        "application/fhir+json"
    };
    let request = Request {
        method: Method::Post,
        path: Vec::new(),
        query: Vec::new(),
        headers: Headers {
            content_type: Some(content_type.to_string()),
            ..Headers::default()
        },
        body: Some(Body::Bytes(data.to_vec().into())),
    };
    let _ = Interaction::parse(state, request);
}
