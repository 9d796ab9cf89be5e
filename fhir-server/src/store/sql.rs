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
//! when the query asks for a total and the page does not already show it.
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

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};

use super::{
    Condition, Grant, HistoryQuery, IndexEntry, IndexValue, NewVersion, Page, Prefix, Query,
    SortKey, Store, StoreError, Stored, StrMode, Table, Total, Visibility, Writer,
};

/// The schema this code writes; a database holding another is refused at
/// start with a message, never read wrongly.
const SCHEMA_VERSION: i64 = 2;

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
    pub(super) dialect: Dialect,
    /// SQLite's one writer at a time, queued here rather than in SQLite's
    /// busy handler.
    writers: Arc<tokio::sync::Mutex<()>>,
    /// Index rows written since the statistics were refreshed.
    written: Arc<AtomicU64>,
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

const INDEX_TABLES: [(Table, &str); 6] = [
    (Table::Token, "idx_token"),
    (Table::Str, "idx_string"),
    (Table::Uri, "idx_uri"),
    (Table::Number, "idx_number"),
    (Table::Date, "idx_date"),
    (Table::Reference, "idx_ref"),
];

fn table_name(t: Table) -> &'static str {
    INDEX_TABLES
        .iter()
        .find(|(k, _)| *k == t)
        .map(|(_, n)| *n)
        .unwrap_or("idx_token")
}

fn schema(d: Dialect) -> Vec<String> {
    let (real, text, row_id) = (d.real(), d.text(), d.row_id());
    let mut s = vec![
        format!(
            "CREATE TABLE IF NOT EXISTS resources (
            rid {row_id}, res_type {text} NOT NULL, res_id {text} NOT NULL, version BIGINT NOT NULL,
            last_updated {text} NOT NULL, deleted INTEGER NOT NULL, content TEXT, source TEXT,
            UNIQUE (res_type, res_id))"
        ),
        "CREATE INDEX IF NOT EXISTS resources_by_type ON resources (res_type, rid)".into(),
        "CREATE INDEX IF NOT EXISTS resources_by_time ON resources (res_type, last_updated)"
            .into(),
        format!(
            "CREATE TABLE IF NOT EXISTS versions (
            rid BIGINT NOT NULL, version BIGINT NOT NULL, res_type {text} NOT NULL, res_id {text} NOT NULL,
            last_updated {text} NOT NULL, method TEXT NOT NULL, content TEXT, source TEXT,
            PRIMARY KEY (rid, version))"
        ),
        "CREATE INDEX IF NOT EXISTS versions_by_time ON versions (last_updated)".into(),
        "CREATE INDEX IF NOT EXISTS versions_by_type ON versions (res_type, last_updated)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_token (rid BIGINT NOT NULL, pid BIGINT NOT NULL, system {text}, code {text}, text {text})"),
        "CREATE INDEX IF NOT EXISTS idx_token_code ON idx_token (pid, code, system, rid)".into(),
        "CREATE INDEX IF NOT EXISTS idx_token_text ON idx_token (pid, text)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_string (rid BIGINT NOT NULL, pid BIGINT NOT NULL, norm {text} NOT NULL, exact {text} NOT NULL)"),
        "CREATE INDEX IF NOT EXISTS idx_string_norm ON idx_string (pid, norm, rid)".into(),
        "CREATE INDEX IF NOT EXISTS idx_string_exact ON idx_string (pid, exact)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_uri (rid BIGINT NOT NULL, pid BIGINT NOT NULL, uri {text} NOT NULL)"),
        "CREATE INDEX IF NOT EXISTS idx_uri_value ON idx_uri (pid, uri, rid)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_number (rid BIGINT NOT NULL, pid BIGINT NOT NULL, lo {real} NOT NULL, hi {real} NOT NULL, system {text}, code {text})"),
        "CREATE INDEX IF NOT EXISTS idx_number_value ON idx_number (pid, lo, hi)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_date (rid BIGINT NOT NULL, pid BIGINT NOT NULL, lo {text} NOT NULL, hi {text} NOT NULL)"),
        "CREATE INDEX IF NOT EXISTS idx_date_lo ON idx_date (pid, lo, hi, rid)".into(),
        "CREATE INDEX IF NOT EXISTS idx_date_hi ON idx_date (pid, hi, lo, rid)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_ref (rid BIGINT NOT NULL, pid BIGINT NOT NULL, ref_type {text} NOT NULL, ref_id {text} NOT NULL)"),
        "CREATE INDEX IF NOT EXISTS idx_ref_target ON idx_ref (pid, ref_id, ref_type, rid)".into(),
        "CREATE INDEX IF NOT EXISTS idx_ref_any ON idx_ref (ref_id, ref_type, rid)".into(),
    ];
    // The authorisation server's registrations, used assertion ids, keys.
    s.push(format!(
        "CREATE TABLE IF NOT EXISTS auth_clients (client_id {text} PRIMARY KEY, name TEXT NOT NULL, ods TEXT NOT NULL,
            role TEXT NOT NULL, scopes TEXT NOT NULL, purposes TEXT NOT NULL, jwks TEXT NOT NULL)"
    ));
    s.push(format!(
        "CREATE TABLE IF NOT EXISTS auth_jti (client_id {text} NOT NULL, jti {text} NOT NULL, expires_at BIGINT NOT NULL,
            PRIMARY KEY (client_id, jti))"
    ));
    s.push("CREATE TABLE IF NOT EXISTS auth_keys (name TEXT PRIMARY KEY, private_pem TEXT NOT NULL, public_jwk TEXT NOT NULL)".into());
    // Whose data each resource is, and what each consent allows: the rows
    // the visibility condition reads.
    s.push(format!(
        "CREATE TABLE IF NOT EXISTS compartments (rid BIGINT NOT NULL, patient_id {text} NOT NULL)"
    ));
    s.push(
        "CREATE INDEX IF NOT EXISTS compartments_by_resource ON compartments (rid, patient_id)"
            .into(),
    );
    s.push(
        "CREATE INDEX IF NOT EXISTS compartments_by_patient ON compartments (patient_id, rid)"
            .into(),
    );
    s.push(format!(
        "CREATE TABLE IF NOT EXISTS consent_grants (rid BIGINT NOT NULL, patient_id {text} NOT NULL, permit INTEGER NOT NULL,
            actor {text}, purpose {text}, class {text}, start_at {text} NOT NULL, end_at {text})"
    ));
    s.push("CREATE INDEX IF NOT EXISTS consent_grants_by_patient ON consent_grants (patient_id, permit)".into());
    s.push("CREATE INDEX IF NOT EXISTS consent_grants_by_resource ON consent_grants (rid)".into());
    // Every index table is also cleared by resource on each write.
    for (_, t) in INDEX_TABLES {
        s.push(format!(
            "CREATE INDEX IF NOT EXISTS {t}_by_resource ON {t} (rid)"
        ));
    }
    s
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
        let options =
            AnyPoolOptions::new().max_connections(if dialect == Dialect::Sqlite { 8 } else { 16 });
        let options = if dialect == Dialect::Sqlite {
            options.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers run beside the one writer; the busy
                    // timeout covers other processes on the same file (this
                    // process queues its own writers).
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA busy_timeout = 30000",
                        "PRAGMA synchronous = NORMAL",
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
        } else {
            options
        };
        let pool = options.connect(&url).await?;
        let store = SqlStore {
            pool,
            dialect,
            writers: Arc::new(tokio::sync::Mutex::new(())),
            written: Arc::new(AtomicU64::new(0)),
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
        match found {
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

    /// The dialect in use.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

const CURRENT_COLUMNS: &str =
    "r.rid, r.res_type, r.res_id, r.version, r.last_updated, r.content, r.source";

/// The current columns and the Patients whose data the row is (for the
/// audit), in the dialect's string aggregate.
fn current_columns(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "r.rid, r.res_type, r.res_id, r.version, r.last_updated, r.content, r.source, (SELECT group_concat(cc.patient_id, ' ') FROM compartments cc WHERE cc.rid = r.rid) AS patients",
        Dialect::Postgres => "r.rid, r.res_type, r.res_id, r.version, r.last_updated, r.content, r.source, (SELECT string_agg(cc.patient_id, ' ') FROM compartments cc WHERE cc.rid = r.rid) AS patients",
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

/// The largest code point: appended to a prefix it bounds every string
/// that starts with the prefix (byte order, as both databases compare here).
const PREFIX_END: char = '\u{10FFFF}';

/// Builds the SQL of conditions, giving each nested level its own alias
/// (and, when the query has a [`Visibility`], its visibility condition:
/// a chain or `_has` reveals nothing of a resource the caller may not see).
struct Conditions<'v> {
    depth: usize,
    visibility: Option<&'v Visibility>,
}

impl Conditions<'_> {
    /// `alias.rid IN (SELECT rid FROM table WHERE pid = ? AND …)`.
    fn index_in(
        &mut self,
        sql: &mut Sql,
        alias: &str,
        negate: bool,
        table: Table,
        pid: i64,
        f: &mut dyn FnMut(&mut Sql, &mut Self),
    ) {
        sql.push(alias)
            .push(if negate { ".rid NOT IN (" } else { ".rid IN (" });
        sql.push("SELECT rid FROM ")
            .push(table_name(table))
            .push(" WHERE pid = ")
            .bind(pid);
        f(sql, self);
        sql.push(")");
    }

    /// The SQL condition on the resource row `alias` (of type `rtype`).
    fn condition(&mut self, sql: &mut Sql, c: &Condition, rtype: &str, alias: &str) {
        let pid = |param: &str| param_id(rtype, param);
        match c {
            Condition::Any(list) => {
                sql.push("(");
                for (n, c) in list.iter().enumerate() {
                    if n > 0 {
                        sql.push(" OR ");
                    }
                    self.condition(sql, c, rtype, alias);
                }
                if list.is_empty() {
                    sql.push("1 = 0");
                }
                sql.push(")");
            }
            Condition::All(list) => {
                sql.push("(");
                for (n, c) in list.iter().enumerate() {
                    if n > 0 {
                        sql.push(" AND ");
                    }
                    self.condition(sql, c, rtype, alias);
                }
                if list.is_empty() {
                    sql.push("1 = 1");
                }
                sql.push(")");
            }
            Condition::Id(ids) => {
                sql.push(alias).push(".res_id IN (");
                for (n, id) in ids.iter().enumerate() {
                    if n > 0 {
                        sql.push(", ");
                    }
                    sql.bind(id);
                }
                if ids.is_empty() {
                    sql.push("NULL");
                }
                sql.push(")");
            }
            Condition::LastUpdated(prefix, lo, hi) => {
                let col = format!("{alias}.last_updated");
                range_sql(
                    sql,
                    &col,
                    &col,
                    *prefix,
                    Param::Text(lo.clone()),
                    Param::Text(hi.clone()),
                );
            }
            Condition::Token {
                param,
                system,
                code,
                not,
            } => self.index_in(sql, alias, *not, Table::Token, pid(param), &mut |sql, _| {
                if let Some(code) = code {
                    sql.push(" AND code = ").bind(code);
                }
                match system.as_deref() {
                    None => {}
                    Some("") => {
                        sql.push(" AND system IS NULL");
                    }
                    Some(s) => {
                        sql.push(" AND system = ").bind(s);
                    }
                }
            }),
            Condition::TokenText { param, text } => self.index_in(
                sql,
                alias,
                false,
                Table::Token,
                pid(param),
                &mut |sql, _| {
                    prefix_sql(sql, "text", text);
                },
            ),
            Condition::Str { param, value, mode } => self.index_in(
                sql,
                alias,
                false,
                Table::Str,
                pid(param),
                &mut |sql, _| match mode {
                    StrMode::Exact => {
                        sql.push(" AND exact = ").bind(value);
                    }
                    StrMode::Prefix => prefix_sql(sql, "norm", value),
                    StrMode::Contains => {
                        sql.push(" AND norm LIKE ")
                            .bind(format!("%{}%", like_escape(value)).as_str())
                            .push(" ESCAPE '\\'");
                    }
                },
            ),
            Condition::Uri {
                param,
                value,
                below,
            } => self.index_in(sql, alias, false, Table::Uri, pid(param), &mut |sql, _| {
                if *below {
                    prefix_sql(sql, "uri", value);
                } else {
                    sql.push(" AND uri = ").bind(value);
                }
            }),
            Condition::Num {
                param,
                prefix,
                lo,
                hi,
                system,
                code,
            } => self.index_in(
                sql,
                alias,
                false,
                Table::Number,
                pid(param),
                &mut |sql, _| {
                    sql.push(" AND ");
                    range_sql(sql, "lo", "hi", *prefix, Param::Real(*lo), Param::Real(*hi));
                    if let Some(s) = system {
                        sql.push(" AND system = ").bind(s);
                    }
                    if let Some(c) = code {
                        sql.push(" AND code = ").bind(c);
                    }
                },
            ),
            Condition::Date {
                param,
                prefix,
                lo,
                hi,
            } => self.index_in(sql, alias, false, Table::Date, pid(param), &mut |sql, _| {
                sql.push(" AND ");
                range_sql(
                    sql,
                    "lo",
                    "hi",
                    *prefix,
                    Param::Text(lo.clone()),
                    Param::Text(hi.clone()),
                );
            }),
            Condition::Reference {
                param,
                target_type,
                id,
            } => self.index_in(
                sql,
                alias,
                false,
                Table::Reference,
                pid(param),
                &mut |sql, _| {
                    sql.push(" AND ref_id = ").bind(id);
                    if let Some(t) = target_type {
                        sql.push(" AND ref_type = ").bind(t);
                    }
                },
            ),
            Condition::Chain {
                param,
                target_type,
                inner,
            } => self.index_in(
                sql,
                alias,
                false,
                Table::Reference,
                pid(param),
                &mut |sql, me| {
                    me.depth += 1;
                    let inner_alias = format!("r{}", me.depth);
                    sql.push(" AND ref_type = ").bind(target_type);
                    sql.push(" AND ref_id IN (SELECT ")
                        .push(&inner_alias)
                        .push(".res_id FROM resources ")
                        .push(&inner_alias)
                        .push(" WHERE ")
                        .push(&inner_alias)
                        .push(".deleted = 0 AND ")
                        .push(&inner_alias)
                        .push(".res_type = ")
                        .bind(target_type);
                    sql.push(" AND ");
                    me.condition(sql, inner, target_type, &inner_alias);
                    if let Some(v) = me.visibility {
                        sql.push(" AND ");
                        visible_sql(sql, &inner_alias, v);
                    }
                    sql.push(")");
                },
            ),
            Condition::Has {
                source_type,
                param,
                inner,
            } => {
                self.depth += 1;
                let inner_alias = format!("r{}", self.depth);
                sql.push(alias)
                    .push(".res_id IN (SELECT h.ref_id FROM idx_ref h JOIN resources ");
                sql.push(&inner_alias).push(" ON ").push(&inner_alias);
                sql.push(".rid = h.rid WHERE h.pid = ")
                    .bind(param_id(source_type, param));
                sql.push(" AND h.ref_type = ").bind(rtype);
                sql.push(" AND ")
                    .push(&inner_alias)
                    .push(".deleted = 0 AND ");
                self.condition(sql, inner, source_type, &inner_alias);
                if let Some(v) = self.visibility {
                    sql.push(" AND ");
                    visible_sql(sql, &inner_alias, v);
                }
                sql.push(")");
            }
            Condition::Missing {
                param,
                tables,
                missing,
            } => {
                sql.push(if *missing { "NOT (" } else { "(" });
                for (n, t) in tables.iter().enumerate() {
                    if n > 0 {
                        sql.push(" OR ");
                    }
                    self.index_in(sql, alias, false, *t, pid(param), &mut |_, _| {});
                }
                if tables.is_empty() {
                    sql.push("1 = 0");
                }
                sql.push(")");
            }
        }
    }
}

/// `AND column >= prefix AND column < prefix || U+10FFFF`: a prefix match
/// that the column's index answers (LIKE would not, under PostgreSQL's
/// collations or SQLite's case-insensitive LIKE).
fn prefix_sql(sql: &mut Sql, column: &str, prefix: &str) {
    let mut end = prefix.to_string();
    end.push(PREFIX_END);
    sql.push(" AND ").push(column).push(" >= ").bind(prefix);
    sql.push(" AND ").push(column).push(" < ").bind(&end);
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A range comparison of a stored range [lo_col, hi_col] with the
/// parameter's range [lo, hi], per the FHIR search rules for prefixes.
fn range_sql(sql: &mut Sql, lo_col: &str, hi_col: &str, prefix: Prefix, lo: Param, hi: Param) {
    let cmp = |sql: &mut Sql, col: &str, op: &str, p: &Param| {
        sql.push(col).push(" ").push(op).push(" ");
        sql.bind(p.clone());
    };
    sql.push("(");
    match prefix {
        Prefix::Eq | Prefix::Ap => {
            cmp(sql, lo_col, ">=", &lo);
            sql.push(" AND ");
            cmp(sql, hi_col, "<=", &hi);
        }
        Prefix::Ne => {
            cmp(sql, lo_col, "<", &lo);
            sql.push(" OR ");
            cmp(sql, hi_col, ">", &hi);
        }
        Prefix::Gt => cmp(sql, hi_col, ">", &hi),
        Prefix::Lt => cmp(sql, lo_col, "<", &lo),
        Prefix::Ge => cmp(sql, hi_col, ">=", &lo),
        Prefix::Le => cmp(sql, lo_col, "<=", &hi),
        Prefix::Sa => cmp(sql, lo_col, ">", &hi),
        Prefix::Eb => cmp(sql, hi_col, "<", &lo),
    }
    sql.push(")");
}

/// The `FROM … WHERE …` of a query on current resources, alias `r`.
fn from_where(sql: &mut Sql, query: &Query) {
    sql.push(" FROM resources r WHERE r.deleted = 0");
    if let Some(t) = &query.resource_type {
        sql.push(" AND r.res_type = ").bind(t);
    }
    let rtype = query.resource_type.as_deref().unwrap_or("Resource");
    let mut conds = Conditions {
        depth: 0,
        visibility: query.visibility.as_ref(),
    };
    for c in &query.conditions {
        sql.push(" AND ");
        conds.condition(sql, c, rtype, "r");
    }
    if let Some(v) = &query.visibility {
        sql.push(" AND ");
        visible_sql(sql, "r", v);
    }
}

/// Whether the resource row `a` is visible under `v` (see [`Visibility`]):
/// its source is the caller's organisation, or each person whose data it
/// is permits it; AuditEvents only for admins and the person's
/// organisation of record (the source of their Patient record).
fn visible_sql(sql: &mut Sql, a: &str, v: &Visibility) {
    sql.push("((")
        .push(a)
        .push(".res_type <> 'AuditEvent' AND (");
    sql.push(a).push(".source = ").bind(&v.organisation);
    sql.push(" OR NOT EXISTS (SELECT 1 FROM compartments vc WHERE vc.rid = ")
        .push(a)
        .push(".rid AND NOT (");
    grant_sql(sql, a, "vc.patient_id", true, v);
    sql.push(" AND NOT ");
    grant_sql(sql, a, "vc.patient_id", false, v);
    sql.push(")))) OR (")
        .push(a)
        .push(".res_type = 'AuditEvent' AND (");
    sql.push(if v.admin { "1 = 1" } else { "1 = 0" });
    sql.push(" OR EXISTS (SELECT 1 FROM compartments ac JOIN resources ap ON ap.res_type = 'Patient' AND ap.res_id = ac.patient_id WHERE ac.rid = ")
        .push(a)
        .push(".rid AND ap.source = ")
        .bind(&v.organisation);
    sql.push("))))");
}

/// A column `vis` (1 or 0) telling whether row `a` is visible (always 1
/// without a visibility).
fn visible_column(sql: &mut Sql, a: &str, visibility: Option<&Visibility>) {
    match visibility {
        None => {
            sql.push(", 1 AS vis");
        }
        Some(v) => {
            sql.push(", CASE WHEN ");
            visible_sql(sql, a, v);
            sql.push(" THEN 1 ELSE 0 END AS vis");
        }
    }
}

fn is_visible(row: &AnyRow) -> Result<bool, StoreError> {
    let v = row
        .try_get::<i64, _>("vis")
        .or_else(|_| row.try_get::<i32, _>("vis").map(i64::from))?;
    Ok(v != 0)
}

/// `EXISTS` a consent grant (a permit, or a refusal) of `patient` that
/// matches the caller, the row's type and the instant.
fn grant_sql(sql: &mut Sql, a: &str, patient: &str, permit: bool, v: &Visibility) {
    sql.push("EXISTS (SELECT 1 FROM consent_grants g WHERE g.patient_id = ")
        .push(patient);
    sql.push(if permit {
        " AND g.permit = 1"
    } else {
        " AND g.permit = 0"
    });
    sql.push(" AND (g.actor IS NULL OR g.actor = ")
        .bind(&v.organisation)
        .push(")");
    sql.push(" AND (g.purpose IS NULL OR g.purpose IN (");
    for (n, p) in v.purposes.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        sql.bind(p);
    }
    if v.purposes.is_empty() {
        sql.push("NULL");
    }
    sql.push("))");
    sql.push(" AND (g.class IS NULL OR g.class = ")
        .push(a)
        .push(".res_type)");
    sql.push(" AND g.start_at <= ").bind(&v.now);
    sql.push(" AND (g.end_at IS NULL OR g.end_at >= ")
        .bind(&v.now)
        .push("))");
}

/// The column a parameter's values sort by in its table.
fn sort_column(t: Table) -> &'static str {
    match t {
        Table::Token => "code",
        Table::Str => "norm",
        Table::Uri => "uri",
        Table::Number => "lo",
        Table::Date => "lo",
        Table::Reference => "ref_id",
    }
}

fn select_page(d: Dialect, query: &Query) -> Sql {
    let mut sql = Sql::new(d);
    sql.push("SELECT ").push(current_columns(d));
    from_where(&mut sql, query);
    sql.push(" ORDER BY ");
    let rtype = query.resource_type.as_deref().unwrap_or("Resource");
    for (key, desc) in &query.sort {
        let dir = if *desc { " DESC" } else { " ASC" };
        match key {
            SortKey::Id => {
                sql.push("r.res_id").push(dir).push(", ");
            }
            SortKey::LastUpdated => {
                sql.push("r.last_updated").push(dir).push(", ");
            }
            SortKey::Param { param, table } => {
                let agg = if *desc { "MAX" } else { "MIN" };
                sql.push("(SELECT ")
                    .push(agg)
                    .push("(s.")
                    .push(sort_column(*table))
                    .push(") FROM ")
                    .push(table_name(*table))
                    .push(" s WHERE s.rid = r.rid AND s.pid = ")
                    .bind(param_id(rtype, param));
                // Resources without the parameter come last either way,
                // the same on both databases.
                sql.push(")").push(dir).push(" NULLS LAST, ");
            }
        }
    }
    sql.push("r.rid DESC LIMIT ").bind(query.count.max(0));
    sql.push(" OFFSET ").bind(query.offset.max(0));
    sql
}

fn select_count(d: Dialect, query: &Query) -> Sql {
    let mut sql = Sql::new(d);
    sql.push("SELECT COUNT(*) AS n");
    from_where(&mut sql, query);
    sql
}

/// A transaction on the SQL store.
pub struct SqlWriter {
    tx: Transaction<'static, Any>,
    dialect: Dialect,
    /// Holds SQLite's writer queue until commit or drop.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Index rows written by this transaction.
    written: u64,
    store_written: Arc<AtomicU64>,
    store: SqlStore,
}

/// Rows per multi-row INSERT: well inside both databases' limits on bound
/// parameters (SQLite 32,766; PostgreSQL 65,535) at six columns a row.
const ROWS_PER_INSERT: usize = 500;

impl SqlWriter {
    async fn write_index(
        &mut self,
        rid: i64,
        rtype: &str,
        index: &[IndexEntry],
    ) -> Result<(), StoreError> {
        let d = self.dialect;
        for (table, name) in INDEX_TABLES {
            let rows: Vec<&IndexEntry> =
                index.iter().filter(|e| e.value.table() == table).collect();
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let mut sql = Sql::new(d);
                sql.push("INSERT INTO ").push(name).push(match table {
                    Table::Token => " (rid, pid, system, code, text) VALUES ",
                    Table::Str => " (rid, pid, norm, exact) VALUES ",
                    Table::Uri => " (rid, pid, uri) VALUES ",
                    Table::Number => " (rid, pid, lo, hi, system, code) VALUES ",
                    Table::Date => " (rid, pid, lo, hi) VALUES ",
                    Table::Reference => " (rid, pid, ref_type, ref_id) VALUES ",
                });
                for (n, e) in chunk.iter().enumerate() {
                    if n > 0 {
                        sql.push(", ");
                    }
                    sql.push("(").bind(rid).push(", ");
                    sql.bind(param_id(rtype, &e.param));
                    match &e.value {
                        IndexValue::Token { system, code, text } => {
                            sql.push(", ").bind(Param::from(system.as_ref()));
                            sql.push(", ").bind(Param::from(code.as_ref()));
                            sql.push(", ").bind(Param::from(text.as_ref()));
                        }
                        IndexValue::Str { normalised, exact } => {
                            sql.push(", ").bind(normalised).push(", ").bind(exact);
                        }
                        IndexValue::Uri(u) => {
                            sql.push(", ").bind(u);
                        }
                        IndexValue::Number {
                            lo,
                            hi,
                            system,
                            code,
                        } => {
                            sql.push(", ").bind(*lo).push(", ").bind(*hi);
                            sql.push(", ").bind(Param::from(system.as_ref()));
                            sql.push(", ").bind(Param::from(code.as_ref()));
                        }
                        IndexValue::Date { lo, hi } => {
                            sql.push(", ").bind(lo).push(", ").bind(hi);
                        }
                        IndexValue::Reference { target_type, id } => {
                            sql.push(", ").bind(target_type).push(", ").bind(id);
                        }
                    }
                    sql.push(")");
                }
                sql.query().execute(&mut *self.tx).await?;
            }
        }
        self.written += index.len() as u64;
        Ok(())
    }

    /// Replaces the compartment and consent-grant rows of a resource.
    async fn write_access(
        &mut self,
        rid: i64,
        compartments: &[String],
        grants: &[Grant],
    ) -> Result<(), StoreError> {
        for table in ["compartments", "consent_grants"] {
            let mut sql = Sql::new(self.dialect);
            sql.push("DELETE FROM ")
                .push(table)
                .push(" WHERE rid = ")
                .bind(rid);
            sql.query().execute(&mut *self.tx).await?;
        }
        for chunk in compartments.chunks(ROWS_PER_INSERT) {
            let mut sql = Sql::new(self.dialect);
            sql.push("INSERT INTO compartments (rid, patient_id) VALUES ");
            for (n, p) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push(", ");
                }
                sql.push("(").bind(rid).push(", ").bind(p).push(")");
            }
            sql.query().execute(&mut *self.tx).await?;
        }
        for chunk in grants.chunks(ROWS_PER_INSERT) {
            let mut sql = Sql::new(self.dialect);
            sql.push("INSERT INTO consent_grants (rid, patient_id, permit, actor, purpose, class, start_at, end_at) VALUES ");
            for (n, g) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push(", ");
                }
                sql.push("(").bind(rid).push(", ").bind(&g.patient);
                sql.push(", ").bind(i64::from(g.permit));
                sql.push(", ").bind(Param::from(g.actor.as_ref()));
                sql.push(", ").bind(Param::from(g.purpose.as_ref()));
                sql.push(", ").bind(Param::from(g.class.as_ref()));
                sql.push(", ").bind(&g.start);
                sql.push(", ").bind(Param::from(g.end.as_ref())).push(")");
            }
            sql.query().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn clear_index(&mut self, rid: i64) -> Result<(), StoreError> {
        for (_, name) in INDEX_TABLES {
            let mut sql = Sql::new(self.dialect);
            sql.push("DELETE FROM ")
                .push(name)
                .push(" WHERE rid = ")
                .bind(rid);
            sql.query().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // one row's columns, named at each call
    async fn write_version(
        &mut self,
        rid: i64,
        rtype: &str,
        id: &str,
        version: i64,
        content: Option<&str>,
        method: &str,
        source: Option<&str>,
        when: &str,
    ) -> Result<(), StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO versions (rid, version, res_type, res_id, last_updated, method, content, source) VALUES (");
        sql.bind(rid).push(", ").bind(version).push(", ");
        sql.bind(rtype).push(", ").bind(id).push(", ");
        sql.bind(when).push(", ").bind(method).push(", ");
        sql.bind(content.map(Param::from).unwrap_or(Param::Null))
            .push(", ");
        sql.bind(source.map(Param::from).unwrap_or(Param::Null))
            .push(")");
        sql.query().execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn current_row(
        &mut self,
        rtype: &str,
        id: &str,
    ) -> Result<Option<(i64, Stored, bool)>, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT ")
            .push(CURRENT_COLUMNS)
            .push(", r.deleted FROM resources r WHERE r.res_type = ")
            .bind(rtype);
        sql.push(" AND r.res_id = ").bind(id);
        let Some(row) = sql.query().fetch_optional(&mut *self.tx).await? else {
            return Ok(None);
        };
        let rid: i64 = row.try_get("rid")?;
        let deleted: i32 = row
            .try_get::<i32, _>("deleted")
            .or_else(|_| row.try_get::<i64, _>("deleted").map(|d| d as i32))?;
        Ok(Some((rid, stored_from(&row, false)?, deleted != 0)))
    }
}

#[async_trait::async_trait]
impl Writer for SqlWriter {
    async fn create(
        &mut self,
        resource_type: &str,
        id: &str,
        new: NewVersion,
    ) -> Result<Stored, StoreError> {
        let when = now();
        let resource = stamp(new.resource, id, 1, &when);
        let content = resource.to_string();
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO resources (res_type, res_id, version, last_updated, deleted, content, source) VALUES (");
        sql.bind(resource_type).push(", ").bind(id).push(", 1, ");
        sql.bind(&when).push(", 0, ").bind(&content).push(", ");
        sql.bind(Param::from(new.source.as_ref()))
            .push(") RETURNING rid");
        let row = sql
            .query()
            .fetch_one(&mut *self.tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Conflict(format!("{resource_type}/{id}"))
                }
                other => other.into(),
            })?;
        let rid: i64 = row.try_get("rid")?;
        self.write_version(
            rid,
            resource_type,
            id,
            1,
            Some(&content),
            "POST",
            new.source.as_deref(),
            &when,
        )
        .await?;
        self.write_index(rid, resource_type, &new.index).await?;
        self.write_access(rid, &new.compartments, &new.grants)
            .await?;
        Ok(Stored {
            resource_type: resource_type.into(),
            id: id.into(),
            version: 1,
            last_updated: when,
            content: Some(Arc::from(content)),
            method: "POST".into(),
            source: new.source,
            compartments: new.compartments,
        })
    }

    async fn update(
        &mut self,
        resource_type: &str,
        id: &str,
        new: NewVersion,
        if_match: Option<i64>,
    ) -> Result<(Stored, bool), StoreError> {
        let name = format!("{resource_type}/{id}");
        let Some((rid, current, deleted)) = self.current_row(resource_type, id).await? else {
            if let Some(expected) = if_match {
                return Err(StoreError::VersionConflict {
                    resource: name,
                    current: 0,
                    expected,
                });
            }
            let mut s = self.create(resource_type, id, new).await?;
            s.method = "PUT".into();
            // The version row says how it was made.
            let mut sql = Sql::new(self.dialect);
            sql.push("UPDATE versions SET method = 'PUT' WHERE res_type = ")
                .bind(resource_type)
                .push(" AND res_id = ")
                .bind(id)
                .push(" AND version = 1");
            sql.query().execute(&mut *self.tx).await?;
            return Ok((s, true));
        };
        if let Some(expected) = if_match {
            if expected != current.version {
                return Err(StoreError::VersionConflict {
                    resource: name,
                    current: current.version,
                    expected,
                });
            }
        }
        let version = current.version + 1;
        let when = now();
        let resource = stamp(new.resource, id, version, &when);
        let content = resource.to_string();
        let mut sql = Sql::new(self.dialect);
        sql.push("UPDATE resources SET version = ").bind(version);
        sql.push(", last_updated = ").bind(&when);
        sql.push(", deleted = 0, content = ").bind(&content);
        // The organisation that created a resource stays its source; each
        // version row records who wrote that version.
        if deleted {
            sql.push(", source = ")
                .bind(Param::from(new.source.as_ref()));
        }
        sql.push(" WHERE rid = ").bind(rid);
        sql.push(" AND version = ").bind(current.version);
        let done = sql.query().execute(&mut *self.tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(name));
        }
        self.write_version(
            rid,
            resource_type,
            id,
            version,
            Some(&content),
            "PUT",
            new.source.as_deref(),
            &when,
        )
        .await?;
        self.clear_index(rid).await?;
        self.write_index(rid, resource_type, &new.index).await?;
        self.write_access(rid, &new.compartments, &new.grants)
            .await?;
        Ok((
            Stored {
                resource_type: resource_type.into(),
                id: id.into(),
                version,
                last_updated: when,
                content: Some(Arc::from(content)),
                method: "PUT".into(),
                source: if deleted { new.source } else { current.source },
                compartments: new.compartments,
            },
            deleted,
        ))
    }

    async fn delete(
        &mut self,
        resource_type: &str,
        id: &str,
        source: Option<&str>,
    ) -> Result<Option<i64>, StoreError> {
        let Some((rid, current, deleted)) = self.current_row(resource_type, id).await? else {
            return Ok(None);
        };
        if deleted {
            return Ok(None);
        }
        let version = current.version + 1;
        let when = now();
        let mut sql = Sql::new(self.dialect);
        sql.push("UPDATE resources SET version = ").bind(version);
        sql.push(", last_updated = ").bind(&when);
        sql.push(", deleted = 1, content = NULL WHERE rid = ")
            .bind(rid);
        sql.push(" AND version = ").bind(current.version);
        let done = sql.query().execute(&mut *self.tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!("{resource_type}/{id}")));
        }
        self.write_version(
            rid,
            resource_type,
            id,
            version,
            None,
            "DELETE",
            source,
            &when,
        )
        .await?;
        self.clear_index(rid).await?;
        // A deleted consent permits nothing; whose data it was stays known.
        let mut sql = Sql::new(self.dialect);
        sql.push("DELETE FROM consent_grants WHERE rid = ")
            .bind(rid);
        sql.query().execute(&mut *self.tx).await?;
        Ok(Some(version))
    }

    async fn current(
        &mut self,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<Stored>, StoreError> {
        Ok(self
            .current_row(resource_type, id)
            .await?
            .map(|(_, mut s, deleted)| {
                if deleted {
                    s.content = None;
                }
                s
            }))
    }

    async fn matching(&mut self, query: &Query) -> Result<Vec<Stored>, StoreError> {
        let sql = select_page(self.dialect, query);
        if self.dialect == Dialect::Postgres {
            // Conditional operations on the same criteria, from any
            // process, wait for each other here until commit: the second
            // then sees what the first wrote.
            let mut key = sql.text.clone();
            for p in &sql.params {
                let _ = write!(key, "|{p:?}");
            }
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(param_id("conditional", &key))
                .execute(&mut *self.tx)
                .await?;
        }
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter().map(|r| stored_from(r, false)).collect()
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let written = self.written;
        let store = self.store.clone();
        let counter = self.store_written.clone();
        self.tx.commit().await?;
        // Statistics follow the data: after enough new index rows, SQLite's
        // planner is told again what the tables hold.
        let before = counter.fetch_add(written, Ordering::Relaxed);
        if before / OPTIMIZE_EVERY != (before + written) / OPTIMIZE_EVERY {
            store.optimize().await;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn begin(&self) -> Result<Box<dyn Writer>, StoreError> {
        let turn = if self.dialect == Dialect::Sqlite {
            Some(self.writers.clone().lock_owned().await)
        } else {
            None
        };
        let mut tx = self.pool.begin().await?;
        if self.dialect == Dialect::Sqlite {
            // Take the write lock now, so that a writer of another process
            // queues (busy timeout) instead of one failing when it upgrades
            // from reading.
            sqlx::query("UPDATE resources SET version = version WHERE 1 = 0")
                .execute(&mut *tx)
                .await?;
        }
        Ok(Box::new(SqlWriter {
            tx,
            dialect: self.dialect,
            _turn: turn,
            written: 0,
            store_written: self.written.clone(),
            store: self.clone(),
        }))
    }

    async fn read(
        &self,
        resource_type: &str,
        id: &str,
        visibility: Option<&Visibility>,
    ) -> Result<Stored, StoreError> {
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
        let mut sql = Sql::new(self.dialect);
        sql.push(
            "SELECT v.res_type, v.res_id, v.version, v.last_updated, v.method, v.content, v.source",
        );
        visible_column(&mut sql, "r", visibility);
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
                sql.push(" AND ");
                visible_sql(sql, "r", vis);
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
        let rows = select_page(self.dialect, query)
            .query()
            .fetch_all(&self.pool)
            .await?;
        let items = rows
            .iter()
            .map(|r| stored_from(r, false))
            .collect::<Result<Vec<_>, _>>()?;
        let total = match query.total {
            Total::None => None,
            // A page that is not full shows every match after the offset:
            // the total is known without counting.
            Total::Accurate if (items.len() as i64) < query.count && !items.is_empty() => {
                Some(query.offset + items.len() as i64)
            }
            Total::Accurate if query.offset == 0 && items.is_empty() && query.count > 0 => Some(0),
            Total::Accurate => Some(
                select_count(self.dialect, query)
                    .query()
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("n")?,
            ),
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

    fn name(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        }
    }
}
