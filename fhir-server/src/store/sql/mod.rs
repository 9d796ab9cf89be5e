//! The SQL store: SQLite or PostgreSQL through sqlx's `Any` driver with
//! runtime queries (no database needed at build time).
//!
//! # Tables
//! - `resources`: the current version of each resource, keyed by an
//!   integer row id (`rid`) and unique by `(res_type, res_id)`;
//! - `versions`: every version, for vread and history;
//! - one index table per kind of value (`idx_token`, `idx_string`,
//!   `idx_uri`, `idx_number`, `idx_date`, `idx_ref`), each row a value one
//!   search parameter found in one current resource: `(rid, pid, …)`.
//!
//! `pid` names a search parameter of a resource type: a stable 62-bit hash
//! of `Type.code` ([`param_id`]), so that no dictionary table has to be
//! read or kept in step between processes. Deleted resources have no index
//! rows.
//!
//! # Query plan
//! A condition is `r.rid IN (SELECT rid FROM idx_… WHERE pid = ? AND …)`:
//! each index table has an index that starts with `pid` and the searched
//! column and ends with `rid`, so the subquery is answered from the index
//! alone, and the resources are then fetched by their primary key. The
//! default order is by row id, newest first, which both databases give
//! without sorting the matches (SQLite walks the subquery's ordered result;
//! `(res_type, rid)` serves a search with no condition). A count runs only
//! when the query asks for a total and the page does not already show it,
//! and stops at the query's bound ([`crate::store::Total::UpTo`]).
//! SQLite's planner statistics are kept by `PRAGMA optimize` (at start and
//! after large writes); PostgreSQL's by autovacuum.
//!
//! # Writers
//! SQLite has one writer at a time: this store queues its own writers on
//! an async mutex (so they wait their turn instead of failing with
//! "database is locked"), and takes SQLite's write lock at the start of a
//! transaction. On PostgreSQL, conditional operations hold a
//! transaction-scoped advisory lock on their criteria, so two processes
//! racing the same conditional create serialise in the database.

mod audit_log;
mod auth;
mod outbox;
mod pending;
mod query;
mod schema;
mod txn;
mod writer;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};

use query::*;
use schema::*;
pub use writer::SqlWriter;

use super::{
    Condition, Grant, HistoryQuery, IndexEntry, IndexValue, NewVersion, Page, Prefix, Query,
    SortKey, Store, StoreError, Stored, StrMode, SubscriptionRow, Table, Total, Visibility, Writer,
};

/// The schema this code writes; a database holding another is refused at
/// start with a message, never read wrongly.
const SCHEMA_VERSION: i64 = 4;

/// Index rows written since the planner statistics were last refreshed,
/// after which SQLite's `PRAGMA optimize` runs again.
const OPTIMIZE_EVERY: u64 = 20_000;

/// The SQL differences between the two databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: `?` placeholders.
    Sqlite,
    /// PostgreSQL: `$n` placeholders.
    Postgres,
}

impl Dialect {
    fn real(self) -> &'static str {
        match self {
            Dialect::Sqlite => "REAL",
            Dialect::Postgres => "DOUBLE PRECISION",
        }
    }

    /// Text compared byte by byte, so that prefix ranges and the indexes
    /// agree whatever the database's locale.
    fn text(self) -> &'static str {
        match self {
            Dialect::Sqlite => "TEXT",
            Dialect::Postgres => "TEXT COLLATE \"C\"",
        }
    }

    fn row_id(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER PRIMARY KEY",
            Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
        }
    }
}

/// The stable id of search parameter `code` of `resource_type` in the index
/// tables: FNV-1a over `Type.code`, kept to 62 bits so it is a positive
/// BIGINT everywhere.
///
/// **Invariant:** changing this function changes every stored index row's
/// meaning; a database written by another version must be re-indexed.
///
/// # Examples
/// ```
/// use fhir_server::store::sql::param_id;
/// assert_eq!(param_id("Encounter", "patient"), param_id("Encounter", "patient"));
/// assert_ne!(param_id("Encounter", "patient"), param_id("Encounter", "subject"));
/// ```
pub fn param_id(resource_type: &str, code: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in resource_type
        .bytes()
        .chain(std::iter::once(b'.'))
        .chain(code.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h >> 2) as i64
}

/// A bound value.
#[derive(Debug, Clone)]
pub(super) enum Param {
    Text(String),
    Int(i64),
    Real(f64),
    /// A NULL text (PostgreSQL types every parameter, NULLs included).
    Null,
    /// A NULL integer.
    NullInt,
    /// Bytes.
    Blob(Vec<u8>),
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(s.to_string())
    }
}

impl From<Option<&String>> for Param {
    fn from(s: Option<&String>) -> Self {
        s.map(|s| Param::Text(s.clone())).unwrap_or(Param::Null)
    }
}

/// SQL text with its parameters, placeholders in the dialect's style.
pub(super) struct Sql {
    dialect: Dialect,
    text: String,
    params: Vec<Param>,
}

impl Sql {
    pub(super) fn new(dialect: Dialect) -> Self {
        Sql {
            dialect,
            text: String::new(),
            params: Vec::new(),
        }
    }
    pub(super) fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    pub(super) fn bind(&mut self, p: impl Into<ParamArg>) -> &mut Self {
        self.params.push(p.into().0);
        match self.dialect {
            Dialect::Sqlite => self.text.push('?'),
            Dialect::Postgres => {
                let _ = write!(self.text, "${}", self.params.len());
            }
        }
        self
    }
    pub(super) fn query(&self) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for p in &self.params {
            q = match p {
                Param::Text(s) => q.bind(s.clone()),
                Param::Int(i) => q.bind(*i),
                Param::Real(f) => q.bind(*f),
                Param::Null => q.bind(Option::<String>::None),
                Param::NullInt => q.bind(Option::<i64>::None),
                Param::Blob(b) => q.bind(b.clone()),
            };
        }
        q
    }
}

/// Anything [`Sql::bind`] takes.
pub(super) struct ParamArg(Param);

impl From<Param> for ParamArg {
    fn from(p: Param) -> Self {
        ParamArg(p)
    }
}
impl From<&str> for ParamArg {
    fn from(s: &str) -> Self {
        ParamArg(Param::Text(s.to_string()))
    }
}
impl From<&String> for ParamArg {
    fn from(s: &String) -> Self {
        ParamArg(Param::Text(s.clone()))
    }
}
impl From<i64> for ParamArg {
    fn from(i: i64) -> Self {
        ParamArg(Param::Int(i))
    }
}
impl From<f64> for ParamArg {
    fn from(f: f64) -> Self {
        ParamArg(Param::Real(f))
    }
}

/// The SQL store.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(super) pool: AnyPool,
    /// The connections write transactions use: one for SQLite (see
    /// `connect`), the same pool for PostgreSQL.
    pub(super) write_pool: AnyPool,
    pub(super) dialect: Dialect,
    /// SQLite's one writer at a time, queued here rather than in SQLite's
    /// busy handler.
    writers: Arc<tokio::sync::Mutex<()>>,
    /// Index rows written since the statistics were refreshed.
    written: Arc<AtomicU64>,
    /// The ids of the audit log's terms (see [`audit_log`]).
    terms: Arc<audit_log::TermCache>,
    /// The audit log's newest keys (see [`audit_log`]).
    tail: Arc<audit_log::Tail>,
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// A pool of at most `max` connections, each set up for the dialect.
fn pool_options(dialect: Dialect, max: u32) -> AnyPoolOptions {
    let options = AnyPoolOptions::new().max_connections(max);
    if dialect == Dialect::Postgres {
        // A database that is down refuses connections; sqlx retries them
        // until this timeout, and the request then answers 503 (an outage
        // is answered at once, not after the request's whole budget).
        return options.acquire_timeout(std::time::Duration::from_secs(1));
    }
    // An SQLite connection is a file handle in this process: it cannot go
    // stale the way a network connection can, so the pool does not ping it
    // (a round trip to sqlx's worker thread) before each use.
    options.test_before_acquire(false).after_connect(|conn, _| {
        Box::pin(async move {
            // WAL lets readers run beside the one writer. The busy
            // timeout covers other processes on the same file (this
            // process queues its own writers): a file another process
            // holds locked longer than that is an outage, answered 503.
            // FULL: a commit is on stable storage (the WAL synced) before
            // it is acknowledged, as PostgreSQL's is; NORMAL survives a
            // crash of the process but not of the machine or its disk.
            // Writes keep their rate by committing in groups (the audit
            // log, import batches), not by weakening this.
            for pragma in [
                "PRAGMA journal_mode = WAL",
                "PRAGMA busy_timeout = 1000",
                "PRAGMA synchronous = FULL",
                "PRAGMA foreign_keys = ON",
                "PRAGMA cache_size = -65536",
                "PRAGMA temp_store = MEMORY",
                "PRAGMA analysis_limit = 1000",
            ] {
                sqlx::query(pragma).execute(&mut *conn).await?;
            }
            Ok(())
        })
    })
}

impl SqlStore {
    /// Opens (and creates, for SQLite, with its tables) the database at
    /// `url`: `sqlite:PATH` or `postgres://…`.
    ///
    /// # Errors
    /// When the URL is neither, the database cannot be reached or set up,
    /// or it holds another version's schema.
    pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
        sqlx::any::install_default_drivers();
        let (dialect, url) = if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            (Dialect::Sqlite, format!("sqlite://{path}?mode=rwc"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Dialect::Postgres, url.to_string())
        } else {
            return Err(StoreError::Database(format!(
                "{url:?} is not a database URL: use sqlite:PATH or postgres://USER@HOST/DB"
            )));
        };
        let pool = pool_options(dialect, if dialect == Dialect::Sqlite { 8 } else { 16 })
            .connect(&url)
            .await?;
        // SQLite's one writer gets a connection of its own: a connection
        // drops its page cache whenever another has written, so writes
        // made on whichever pooled connection was free found the B-tree
        // pages they change evicted, and read them again.
        let write_pool = match dialect {
            Dialect::Sqlite => pool_options(dialect, 1).connect(&url).await?,
            Dialect::Postgres => pool.clone(),
        };
        let store = SqlStore {
            pool,
            write_pool,
            dialect,
            writers: Arc::new(tokio::sync::Mutex::new(())),
            written: Arc::new(AtomicU64::new(0)),
            terms: Arc::default(),
            tail: Arc::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.dialect == Dialect::Postgres {
            // Two servers starting on one database set it up one at a time.
            sqlx::query("SELECT pg_advisory_xact_lock(7262693)")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("CREATE TABLE IF NOT EXISTS carer_fhir_schema (version BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await?;
        let found: Option<i64> = sqlx::query("SELECT version FROM carer_fhir_schema")
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get::<i64, _>("version"))
            .transpose()?;
        let old_tables: i64 = match self.dialect {
            Dialect::Sqlite => sqlx::query(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'search_index'",
            ),
            Dialect::Postgres => sqlx::query(
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'search_index' AND table_schema = current_schema()",
            ),
        }
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        // Version 3 kept AuditEvents as resources; version 4 in the audit
        // log. That is the one difference, so a version 3 database moves
        // its AuditEvents and goes on.
        let from_3 = found == Some(3);
        match found {
            Some(3) => {}
            Some(v) if v != SCHEMA_VERSION => {
                return Err(StoreError::Database(format!(
                    "this database holds schema version {v}; this carer-fhir writes version {SCHEMA_VERSION}: export its data and import it into a new database"
                )))
            }
            None if old_tables > 0 => {
                return Err(StoreError::Database(
                    "this database was written by an earlier carer-fhir (schema version 1): export its data and import it into a new database".into(),
                ))
            }
            _ => {}
        }
        for stmt in schema(self.dialect) {
            sqlx::query(&stmt).execute(&mut *tx).await?;
        }
        if from_3 {
            let moved = audit_log::move_from_resources(&mut tx, self.dialect).await?;
            tracing::info!(moved, "schema 3 to 4: AuditEvents moved into the audit log");
            let mut sql = Sql::new(self.dialect);
            sql.push("UPDATE carer_fhir_schema SET version = ")
                .bind(SCHEMA_VERSION);
            sql.query().execute(&mut *tx).await?;
        }
        if found.is_none() {
            let mut sql = Sql::new(self.dialect);
            sql.push("INSERT INTO carer_fhir_schema (version) VALUES (")
                .bind(SCHEMA_VERSION)
                .push(")");
            sql.query().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.optimize().await;
        Ok(())
    }

    /// Refreshes the query planner's statistics (SQLite; PostgreSQL keeps
    /// its own). Failure only costs speed, so it is logged, not returned.
    async fn optimize(&self) {
        if self.dialect == Dialect::Sqlite {
            if let Err(e) = sqlx::query("PRAGMA optimize").execute(&self.pool).await {
                tracing::warn!(error = %e, "PRAGMA optimize failed");
            }
        }
    }

    /// A write transaction (see [`Store::begin`]).
    async fn sql_writer(&self) -> Result<SqlWriter, StoreError> {
        let tx = self.write_tx().await?;
        Ok(SqlWriter {
            tx,
            dialect: self.dialect,
            written: 0,
            store_written: self.written.clone(),
            store: self.clone(),
            pending: Default::default(),
            known: Default::default(),
            audit: Default::default(),
        })
    }

    /// The dialect in use.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

fn stored_from(row: &AnyRow, with_method: bool) -> Result<Stored, StoreError> {
    let content: Option<String> = row.try_get("content")?;
    Ok(Stored {
        resource_type: row.try_get("res_type")?,
        id: row.try_get("res_id")?,
        version: row.try_get("version")?,
        last_updated: row.try_get("last_updated")?,
        content: content.map(Arc::from),
        method: if with_method {
            row.try_get("method")?
        } else {
            String::new()
        },
        source: row.try_get("source")?,
        compartments: row
            .try_get::<Option<String>, _>("patients")
            .ok()
            .flatten()
            .map(|p| {
                p.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Sets `id` and `meta.versionId`/`meta.lastUpdated`.
fn stamp(mut resource: serde_json::Value, id: &str, version: i64, when: &str) -> serde_json::Value {
    resource["id"] = serde_json::Value::String(id.to_string());
    if !resource["meta"].is_object() {
        resource["meta"] = serde_json::json!({});
    }
    resource["meta"]["versionId"] = serde_json::Value::String(version.to_string());
    resource["meta"]["lastUpdated"] = serde_json::Value::String(when.to_string());
    resource
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn begin(&self) -> Result<Box<dyn Writer>, StoreError> {
        Ok(Box::new(self.sql_writer().await?))
    }

    async fn append_audit(&self, events: Vec<NewVersion>) -> Result<(), StoreError> {
        if self.dialect == Dialect::Sqlite && self.append_audit_at_once(&events).await? {
            return Ok(());
        }
        let mut w = self.sql_writer().await?;
        for e in events {
            w.append_audit(e).await?;
        }
        Box::new(w).commit().await
    }

    async fn read(
        &self,
        resource_type: &str,
        id: &str,
        visibility: Option<&Visibility>,
    ) -> Result<Stored, StoreError> {
        if resource_type == audit_log::AUDIT_EVENT {
            return self.read_audit(id, visibility).await;
        }
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT ").push(current_columns(self.dialect));
        visible_column(&mut sql, "r", visibility);
        sql.push(" FROM resources r WHERE r.res_type = ")
            .bind(resource_type);
        sql.push(" AND r.res_id = ").bind(id);
        let name = format!("{resource_type}/{id}");
        let row = sql
            .query()
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(name.clone()))?;
        // Hidden is answered as unknown, deleted or not: even a 410 would
        // tell that something was there.
        if !is_visible(&row)? {
            return Err(StoreError::NotFound(name));
        }
        let s = stored_from(&row, false)?;
        if s.content.is_none() {
            return Err(StoreError::Gone {
                resource: name,
                version: s.version,
            });
        }
        Ok(s)
    }

    async fn read_many(
        &self,
        keys: &[(String, String)],
        visibility: Option<&Visibility>,
    ) -> Result<Vec<Stored>, StoreError> {
        let mut out = Vec::new();
        for (t, id) in keys {
            if t == audit_log::AUDIT_EVENT {
                match self.read_audit(id, visibility).await {
                    Ok(s) => out.push(s),
                    Err(StoreError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        for chunk in keys.chunks(200) {
            let mut sql = Sql::new(self.dialect);
            sql.push("SELECT ")
                .push(current_columns(self.dialect))
                .push(" FROM resources r WHERE r.deleted = 0 AND (");
            for (n, (t, id)) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push(" OR ");
                }
                sql.push("(r.res_type = ").bind(t);
                sql.push(" AND r.res_id = ").bind(id).push(")");
            }
            sql.push(")");
            if let Some(v) = visibility {
                sql.push(" AND ");
                visible_sql(&mut sql, "r", v);
            }
            for row in sql.query().fetch_all(&self.pool).await? {
                out.push(stored_from(&row, false)?);
            }
        }
        // In the order asked for.
        let order: std::collections::HashMap<(&str, &str), usize> = keys
            .iter()
            .enumerate()
            .map(|(n, (t, i))| ((t.as_str(), i.as_str()), n))
            .collect();
        out.sort_by_key(|s| {
            order
                .get(&(s.resource_type.as_str(), s.id.as_str()))
                .copied()
                .unwrap_or(usize::MAX)
        });
        Ok(out)
    }

    async fn vread(
        &self,
        resource_type: &str,
        id: &str,
        version: i64,
        visibility: Option<&Visibility>,
    ) -> Result<Stored, StoreError> {
        if resource_type == audit_log::AUDIT_EVENT {
            // An AuditEvent has one version.
            return match version {
                1 => self.read_audit(id, visibility).await,
                _ => Err(StoreError::NotFound(format!(
                    "{resource_type}/{id}/_history/{version}"
                ))),
            };
        }
        let mut sql = Sql::new(self.dialect);
        sql.push(
            "SELECT v.res_type, v.res_id, v.version, v.last_updated, v.method, v.content, v.source",
        );
        query::visible_column_of(&mut sql, "r", query::Owned::Version("v"), visibility);
        sql.push(" FROM versions v JOIN resources r ON r.rid = v.rid WHERE r.res_type = ")
            .bind(resource_type);
        sql.push(" AND r.res_id = ").bind(id);
        sql.push(" AND v.version = ").bind(version);
        let name = format!("{resource_type}/{id}/_history/{version}");
        let row = sql
            .query()
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(name.clone()))?;
        if !is_visible(&row)? {
            return Err(StoreError::NotFound(name));
        }
        let s = stored_from(&row, true)?;
        if s.content.is_none() {
            return Err(StoreError::Gone {
                resource: name,
                version,
            });
        }
        Ok(s)
    }

    async fn history(&self, q: &HistoryQuery) -> Result<(Vec<Stored>, i64), StoreError> {
        if q.resource_type.as_deref() == Some(audit_log::AUDIT_EVENT) {
            return self.history_audit(q).await;
        }
        let filter = |sql: &mut Sql| {
            sql.push(" FROM versions v JOIN resources r ON r.rid = v.rid WHERE 1 = 1");
            if let Some(t) = &q.resource_type {
                sql.push(" AND v.res_type = ").bind(t);
            }
            if let Some(i) = &q.id {
                sql.push(" AND v.res_id = ").bind(i);
            }
            if let Some(s) = &q.since {
                sql.push(" AND v.last_updated >= ").bind(s);
            }
            if let Some(vis) = &q.visibility {
                // Each version is judged by its own owners.
                sql.push(" AND ");
                query::visibility_sql(sql, "r", query::Owned::Version("v"), vis);
            }
        };
        let mut count_sql = Sql::new(self.dialect);
        count_sql.push("SELECT COUNT(*) AS n");
        filter(&mut count_sql);
        let total: i64 = count_sql
            .query()
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let mut sql = Sql::new(self.dialect);
        sql.push(
            "SELECT v.res_type, v.res_id, v.version, v.last_updated, v.method, v.content, v.source",
        );
        filter(&mut sql);
        sql.push(" ORDER BY v.last_updated DESC, v.rid DESC, v.version DESC LIMIT ")
            .bind(q.count.max(0));
        sql.push(" OFFSET ").bind(q.offset.max(0));
        let rows = sql.query().fetch_all(&self.pool).await?;
        let list = rows
            .iter()
            .map(|r| stored_from(r, true))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((list, total))
    }

    async fn search(&self, query: &Query) -> Result<Page, StoreError> {
        if query.resource_type.as_deref() == Some(audit_log::AUDIT_EVENT) {
            return self.search_audit(query).await;
        }
        if query.conditions.iter().any(audit_log::reaches) {
            return Err(StoreError::Unsupported(
                "AuditEvents cannot be reached by chaining or _has: search AuditEvent itself"
                    .into(),
            ));
        }
        let window = match select_window(self.dialect, query) {
            Some(sql) => Some(sql.query().fetch_all(&self.pool).await?)
                .filter(|rows| rows.len() as i64 >= query.count),
            None => None,
        };
        let rows = match window {
            Some(rows) => rows,
            None => {
                select_page(self.dialect, query)
                    .query()
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        let items = rows
            .iter()
            .map(|r| stored_from(r, false))
            .collect::<Result<Vec<_>, _>>()?;
        let shown = items.len() as i64;
        let total = match query.total {
            Total::None => None,
            // A page that is not full shows every match after the offset:
            // the total is known without counting.
            _ if shown < query.count && shown > 0 => Some(query.offset + shown),
            _ if query.offset == 0 && shown == 0 && query.count > 0 => Some(0),
            counted => {
                let bound = counted.bound();
                let n: i64 = select_count(self.dialect, query, bound)
                    .query()
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("n")?;
                // More than the bound: no total (see `Total`).
                Some(n).filter(|n| bound.is_none_or(|b| *n <= b))
            }
        };
        Ok(Page { items, total })
    }

    async fn referring(
        &self,
        resource_type: &str,
        param: Option<&str>,
        targets: &[(String, String)],
        limit: i64,
        visibility: Option<&Visibility>,
    ) -> Result<Vec<Stored>, StoreError> {
        if targets.is_empty() || limit <= 0 {
            return Ok(Vec::new());
        }
        if resource_type == audit_log::AUDIT_EVENT {
            let refs = |p: &'static str| {
                targets.iter().map(move |(t, id)| Condition::Reference {
                    param: p.to_string(),
                    target_type: Some(t.clone()),
                    id: id.clone(),
                })
            };
            let any: Vec<Condition> = match param {
                Some(p) => targets
                    .iter()
                    .map(|(t, id)| Condition::Reference {
                        param: p.to_string(),
                        target_type: Some(t.clone()),
                        id: id.clone(),
                    })
                    .collect(),
                None => ["patient", "entity", "agent"]
                    .into_iter()
                    .flat_map(refs)
                    .collect(),
            };
            let page = self
                .search_audit(&Query {
                    resource_type: Some(resource_type.into()),
                    conditions: vec![Condition::Any(any)],
                    count: limit,
                    total: Total::None,
                    visibility: visibility.cloned(),
                    ..Query::default()
                })
                .await?;
            return Ok(page.items);
        }
        let mut out: Vec<Stored> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for chunk in targets.chunks(200) {
            let mut sql = Sql::new(self.dialect);
            sql.push("SELECT ")
                .push(current_columns(self.dialect))
                .push(" FROM resources r WHERE r.deleted = 0 AND r.res_type = ")
                .bind(resource_type);
            sql.push(" AND r.rid IN (SELECT i.rid FROM idx_ref i WHERE ");
            if let Some(p) = param {
                sql.push("i.pid = ")
                    .bind(param_id(resource_type, p))
                    .push(" AND ");
            }
            sql.push("(");
            for (n, (tt, tid)) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push(" OR ");
                }
                sql.push("(i.ref_id = ").bind(tid);
                sql.push(" AND i.ref_type = ").bind(tt).push(")");
            }
            sql.push("))");
            if let Some(v) = visibility {
                sql.push(" AND ");
                visible_sql(&mut sql, "r", v);
            }
            sql.push(" ORDER BY r.rid DESC LIMIT ")
                .bind(limit - out.len() as i64);
            for row in sql.query().fetch_all(&self.pool).await? {
                let s = stored_from(&row, false)?;
                if seen.insert(s.key()) {
                    out.push(s);
                }
            }
            if out.len() as i64 >= limit {
                break;
            }
        }
        Ok(out)
    }

    async fn purge_audit(&self, before: &str) -> Result<u64, StoreError> {
        let before = chrono::DateTime::parse_from_rfc3339(before)
            .map_err(|e| StoreError::Unsupported(format!("{before:?} is not an instant: {e}")))?;
        self.purge_audit_before(before.timestamp_millis()).await
    }

    fn name(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        }
    }
}
