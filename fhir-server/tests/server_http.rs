//! The REST API: socketless tests of each interaction through the router
//! (`interactions`), named tests over real HTTP on 127.0.0.1 (`rest`,
//! `access`, `sharing`), and the attack suite of the access rules
//! (`attack`),
//! each run on a real SQLite file and on a real PostgreSQL server (when
//! `CARER_FHIR_TEST_POSTGRES` names a database, as `scripts/test`
//! arranges; `CARER_FHIR_REQUIRE_POSTGRES` makes its absence a failure).
//!
//! Needs base R4 in the package cache and UK Core from the shared corpus.

#[path = "server_http/access.rs"]
mod access;
#[path = "server_http/attack.rs"]
mod attack;
#[path = "server_http/conventions.rs"]
mod conventions;
#[path = "server_http/interactions.rs"]
mod interactions;
#[path = "server_http/rest.rs"]
mod rest;
#[path = "server_http/sharing.rs"]
mod sharing;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use fhir_core::package::{cache, Registry};
use fhir_server::server::{router, AppState};
use fhir_server::store::sql::SqlStore;
use serde_json::{json, Value};

pub fn shared() -> PathBuf {
    std::env::var_os("CARER_FHIR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

pub fn guide() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/fsh-generated/resources")
}

/// Base R4, the compiled-in guide (as `carer-fhir serve` loads them) and
/// UK Core.
pub fn registry() -> &'static Registry {
    static R: OnceLock<&'static Registry> = OnceLock::new();
    R.get_or_init(|| {
        let r4 = cache::package_dir(&cache::cache_dir(), "hl7.fhir.r4.core", "4.0.1");
        let r = fhir_server::server::load_registry(&r4, &[shared().join("data/ukcore")])
            .expect("base R4 installed and UK Core in the shared corpus");
        Box::leak(Box::new(r))
    })
}

/// Where a test's data lives: a fresh SQLite file, or a fresh schema of
/// the test PostgreSQL database.
#[derive(Clone, Copy)]
pub enum Db {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A fresh store for test `name` on `db`; None when PostgreSQL is not
/// configured (and not required).
pub async fn store(db: Db, name: &str) -> Option<(SqlStore, Option<tempfile::TempDir>)> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
    match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite:{}", dir.path().join("test.sqlite").display());
            Some((SqlStore::connect(&url).await.expect("SQLite"), Some(dir)))
        }
        Db::Postgres => {
            let Ok(url) = std::env::var("CARER_FHIR_TEST_POSTGRES") else {
                assert!(
                    std::env::var_os("CARER_FHIR_REQUIRE_POSTGRES").is_none(),
                    "CARER_FHIR_REQUIRE_POSTGRES is set but CARER_FHIR_TEST_POSTGRES is not"
                );
                eprintln!("skipped: set CARER_FHIR_TEST_POSTGRES to a postgres:// URL (scripts/test does)");
                return None;
            };
            // A schema of its own per test, so that tests run side by side.
            let schema = format!(
                "t_{}",
                name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            );
            let pool = sqlx::PgPool::connect(&url)
                .await
                .expect("PostgreSQL reachable");
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&pool)
                .await
                .unwrap();
            let sep = if url.contains('?') { '&' } else { '?' };
            let url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
            Some((
                SqlStore::connect(&url).await.expect("PostgreSQL store"),
                None,
            ))
        }
    }
}

/// The server state over a store, with links written for `base`.
pub fn state(store: SqlStore, base: &str) -> Arc<AppState> {
    Arc::new(AppState::new(
        Arc::new(store),
        registry(),
        base,
        fhir_server::interaction::Access::Open,
    ))
}

/// Starts a server on an ephemeral loopback port; returns its base URL and
/// what keeps its store alive.
pub async fn start(db: Db, name: &str) -> Option<(String, Option<tempfile::TempDir>)> {
    let (store, dir) = store(db, name).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(state(store, &base));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Some((base, dir))
}

pub fn patient(nhs: &str, family: &str, given: &str, birth: &str) -> Value {
    json!({"resourceType": "Patient", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
           "name": [{"family": family, "given": [given]}], "gender": "female", "birthDate": birth})
}

/// The ids of a searchset's matches.
pub fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["search"]["mode"] != "include")
        .map(|e| e["resource"]["id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Runs each named async test body on SQLite and on PostgreSQL: `$body`
/// is a function `async fn(Db, &str)`.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Db::Sqlite, stringify!($name)).await;
                }
            )*
        }
        mod on_postgresql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Db::Postgres, concat!("pg_", stringify!($name))).await;
                }
            )*
        }
    };
}
