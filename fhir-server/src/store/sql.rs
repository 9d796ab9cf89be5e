//! The SQL store: SQLite or PostgreSQL through sqlx's `Any` driver with
//! runtime queries (no database needed at build time).
//!
//! Tables: `resources` (the current version of each resource), `versions`
//! (every version, for vread and history) and `search_index` (one row per
//! value a search parameter finds in a current resource). A write changes
//! all three in one transaction.

use std::fmt::Write as _;

use serde_json::Value;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};

use super::{Condition, IndexEntry, Prefix, Query, Store, StoreError, Stored, StrMode, Writer};

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
}

/// A bound value.
#[derive(Debug, Clone)]
enum Param {
    Text(String),
    Int(i64),
    Real(f64),
    /// A NULL text (PostgreSQL types every parameter, NULLs included).
    Null,
    /// A NULL number.
    NullReal,
}

/// SQL text with its parameters, placeholders in the dialect's style.
struct Sql {
    dialect: Dialect,
    text: String,
    params: Vec<Param>,
}

impl Sql {
    fn new(dialect: Dialect) -> Self {
        Sql {
            dialect,
            text: String::new(),
            params: Vec::new(),
        }
    }
    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    fn bind(&mut self, p: Param) -> &mut Self {
        self.params.push(p);
        match self.dialect {
            Dialect::Sqlite => self.text.push('?'),
            Dialect::Postgres => {
                let _ = write!(self.text, "${}", self.params.len());
            }
        }
        self
    }
    fn text(&mut self, s: &str) -> &mut Self {
        self.bind(Param::Text(s.to_string()))
    }
    fn query(&self) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for p in &self.params {
            q = match p {
                Param::Text(s) => q.bind(s.clone()),
                Param::Int(i) => q.bind(*i),
                Param::Real(f) => q.bind(*f),
                Param::Null => q.bind(Option::<String>::None),
                // sqlx 0.8.6's Any driver turns an f64 NULL into a
                // PostgreSQL float4 NULL and an f32 NULL into float8; the
                // prepared statement keeps the first type it saw, so a
                // float4 NULL would break every later float8 value. An f32
                // NULL gives the float8 the column has.
                Param::NullReal => q.bind(Option::<f32>::None),
            };
        }
        q
    }
}

/// The SQL store.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn schema(d: Dialect) -> Vec<String> {
    let real = d.real();
    vec![
        "CREATE TABLE IF NOT EXISTS resources (
            res_type TEXT NOT NULL, res_id TEXT NOT NULL, version BIGINT NOT NULL,
            last_updated TEXT NOT NULL, deleted INTEGER NOT NULL, content TEXT,
            PRIMARY KEY (res_type, res_id))"
            .into(),
        "CREATE TABLE IF NOT EXISTS versions (
            res_type TEXT NOT NULL, res_id TEXT NOT NULL, version BIGINT NOT NULL,
            last_updated TEXT NOT NULL, method TEXT NOT NULL, content TEXT,
            PRIMARY KEY (res_type, res_id, version))"
            .into(),
        "CREATE INDEX IF NOT EXISTS versions_by_time ON versions (last_updated)".into(),
        format!(
            "CREATE TABLE IF NOT EXISTS search_index (
            res_type TEXT NOT NULL, res_id TEXT NOT NULL, param TEXT NOT NULL,
            system TEXT, code TEXT, text TEXT, exact TEXT,
            num_lo {real}, num_hi {real}, date_lo TEXT, date_hi TEXT,
            ref_type TEXT, ref_id TEXT)"
        ),
        "CREATE INDEX IF NOT EXISTS search_by_resource ON search_index (res_type, res_id)".into(),
        "CREATE INDEX IF NOT EXISTS search_by_code ON search_index (param, code, res_type)".into(),
        "CREATE INDEX IF NOT EXISTS search_by_text ON search_index (param, text)".into(),
        "CREATE INDEX IF NOT EXISTS search_by_ref ON search_index (param, ref_id, ref_type)".into(),
        "CREATE INDEX IF NOT EXISTS search_by_date ON search_index (param, date_lo, date_hi)"
            .into(),
    ]
}

impl SqlStore {
    /// Opens (and creates, for SQLite, with its tables) the database at
    /// `url`: `sqlite:PATH` or `postgres://…`.
    ///
    /// # Errors
    /// When the URL is neither, or the database cannot be reached or set up.
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
                    // timeout makes concurrent writers wait rather than fail.
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 10000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
        } else {
            options
        };
        let pool = options.connect(&url).await?;
        for stmt in schema(dialect) {
            sqlx::query(&stmt).execute(&pool).await?;
        }
        Ok(SqlStore { pool, dialect })
    }

    /// The dialect in use.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

fn stored_from(row: &AnyRow, with_method: bool) -> Result<Stored, StoreError> {
    let content: Option<String> = row.try_get("content")?;
    let resource = match content {
        Some(c) => Some(
            serde_json::from_str(&c)
                .map_err(|e| StoreError::Database(format!("stored JSON: {e}")))?,
        ),
        None => None,
    };
    Ok(Stored {
        resource_type: row.try_get("res_type")?,
        id: row.try_get("res_id")?,
        version: row.try_get("version")?,
        last_updated: row.try_get("last_updated")?,
        resource,
        method: if with_method {
            row.try_get("method")?
        } else {
            String::new()
        },
    })
}

/// Sets `id` and `meta.versionId`/`meta.lastUpdated`.
fn stamp(mut resource: Value, id: &str, version: i64, when: &str) -> Value {
    resource["id"] = Value::String(id.to_string());
    if !resource["meta"].is_object() {
        resource["meta"] = serde_json::json!({});
    }
    resource["meta"]["versionId"] = Value::String(version.to_string());
    resource["meta"]["lastUpdated"] = Value::String(when.to_string());
    resource
}

/// The SQL condition (on table alias `r`) for one search condition.
fn condition_sql(sql: &mut Sql, c: &Condition, rtype: &str) {
    let exists = |sql: &mut Sql, param: &str, f: &dyn Fn(&mut Sql)| {
        sql.push("EXISTS (SELECT 1 FROM search_index i WHERE i.res_type = r.res_type AND i.res_id = r.res_id AND i.param = ");
        sql.text(param);
        f(sql);
        sql.push(")");
    };
    match c {
        Condition::Any(list) => {
            sql.push("(");
            for (n, c) in list.iter().enumerate() {
                if n > 0 {
                    sql.push(" OR ");
                }
                condition_sql(sql, c, rtype);
            }
            if list.is_empty() {
                sql.push("1 = 0");
            }
            sql.push(")");
        }
        Condition::Id(ids) => {
            sql.push("r.res_id IN (");
            for (n, id) in ids.iter().enumerate() {
                if n > 0 {
                    sql.push(", ");
                }
                sql.text(id);
            }
            sql.push(")");
        }
        Condition::LastUpdated(prefix, lo, hi) => {
            range_sql(
                sql,
                "r.last_updated",
                "r.last_updated",
                *prefix,
                &Param::Text(lo.clone()),
                &Param::Text(hi.clone()),
            );
        }
        Condition::Token {
            param,
            system,
            code,
            not,
        } => {
            if *not {
                sql.push("NOT ");
            }
            exists(sql, param, &|sql| {
                match system.as_deref() {
                    None => {}
                    Some("") => {
                        sql.push(" AND i.system IS NULL");
                    }
                    Some(s) => {
                        sql.push(" AND i.system = ");
                        sql.text(s);
                    }
                }
                if let Some(code) = code {
                    sql.push(" AND i.code = ");
                    sql.text(code);
                }
            });
        }
        Condition::TokenText { param, text } => exists(sql, param, &|sql| {
            sql.push(" AND i.text LIKE ");
            sql.text(&format!("{}%", like_escape(text)));
            sql.push(" ESCAPE '\\'");
        }),
        Condition::Str { param, value, mode } => exists(sql, param, &|sql| match mode {
            StrMode::Exact => {
                sql.push(" AND i.exact = ");
                sql.text(value);
            }
            StrMode::Prefix => {
                sql.push(" AND i.text LIKE ");
                sql.text(&format!("{}%", like_escape(value)));
                sql.push(" ESCAPE '\\'");
            }
            StrMode::Contains => {
                sql.push(" AND i.text LIKE ");
                sql.text(&format!("%{}%", like_escape(value)));
                sql.push(" ESCAPE '\\'");
            }
        }),
        Condition::Uri {
            param,
            value,
            below,
        } => exists(sql, param, &|sql| {
            if *below {
                sql.push(" AND i.text LIKE ");
                sql.text(&format!("{}%", like_escape(value)));
                sql.push(" ESCAPE '\\'");
            } else {
                sql.push(" AND i.text = ");
                sql.text(value);
            }
        }),
        Condition::Num {
            param,
            prefix,
            lo,
            hi,
            system,
            code,
        } => exists(sql, param, &|sql| {
            sql.push(" AND ");
            range_sql(
                sql,
                "i.num_lo",
                "i.num_hi",
                *prefix,
                &Param::Real(*lo),
                &Param::Real(*hi),
            );
            if let Some(s) = system {
                sql.push(" AND i.system = ");
                sql.text(s);
            }
            if let Some(c) = code {
                sql.push(" AND i.code = ");
                sql.text(c);
            }
        }),
        Condition::Date {
            param,
            prefix,
            lo,
            hi,
        } => exists(sql, param, &|sql| {
            sql.push(" AND ");
            range_sql(
                sql,
                "i.date_lo",
                "i.date_hi",
                *prefix,
                &Param::Text(lo.clone()),
                &Param::Text(hi.clone()),
            );
        }),
        Condition::Reference {
            param,
            target_type,
            id,
        } => exists(sql, param, &|sql| {
            sql.push(" AND i.ref_id = ");
            sql.text(id);
            if let Some(t) = target_type {
                sql.push(" AND i.ref_type = ");
                sql.text(t);
            }
        }),
        Condition::Chain {
            param,
            target_type,
            inner,
        } => exists(sql, param, &|sql| {
            sql.push(" AND i.ref_type = ");
            sql.text(target_type);
            sql.push(" AND i.ref_id IN (SELECT r.res_id FROM resources r WHERE r.deleted = 0 AND r.res_type = ");
            sql.text(target_type);
            sql.push(" AND ");
            condition_sql(sql, inner, target_type);
            sql.push(")");
        }),
        Condition::Has {
            source_type,
            param,
            inner,
        } => {
            sql.push("r.res_id IN (SELECT i.ref_id FROM search_index i JOIN resources r ON r.res_type = i.res_type AND r.res_id = i.res_id AND r.deleted = 0 WHERE i.param = ");
            sql.text(param);
            sql.push(" AND i.res_type = ");
            sql.text(source_type);
            sql.push(" AND i.ref_type = ");
            sql.text(rtype);
            sql.push(" AND ");
            condition_sql(sql, inner, source_type);
            sql.push(")");
        }
        Condition::Missing { param, missing } => {
            if *missing {
                sql.push("NOT ");
            }
            exists(sql, param, &|_| {});
        }
    }
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A range comparison of a stored range [lo_col, hi_col] with the
/// parameter's range [lo, hi], per the FHIR search rules for prefixes.
fn range_sql(sql: &mut Sql, lo_col: &str, hi_col: &str, prefix: Prefix, lo: &Param, hi: &Param) {
    let cmp = |sql: &mut Sql, col: &str, op: &str, p: &Param| {
        sql.push(col).push(" ").push(op).push(" ");
        sql.bind(p.clone());
    };
    sql.push("(");
    match prefix {
        Prefix::Eq | Prefix::Ap => {
            cmp(sql, lo_col, ">=", lo);
            sql.push(" AND ");
            cmp(sql, hi_col, "<=", hi);
        }
        Prefix::Ne => {
            cmp(sql, lo_col, "<", lo);
            sql.push(" OR ");
            cmp(sql, hi_col, ">", hi);
        }
        Prefix::Gt => cmp(sql, hi_col, ">", hi),
        Prefix::Lt => cmp(sql, lo_col, "<", lo),
        Prefix::Ge => cmp(sql, hi_col, ">=", lo),
        Prefix::Le => cmp(sql, lo_col, "<=", hi),
        Prefix::Sa => cmp(sql, lo_col, ">", hi),
        Prefix::Eb => cmp(sql, hi_col, "<", lo),
    }
    sql.push(")");
}

fn select_current(d: Dialect, query: &Query, count_only: bool) -> Sql {
    let mut sql = Sql::new(d);
    if count_only {
        sql.push("SELECT COUNT(*) AS n FROM resources r WHERE r.deleted = 0");
    } else {
        sql.push("SELECT r.res_type, r.res_id, r.version, r.last_updated, r.content FROM resources r WHERE r.deleted = 0");
    }
    if let Some(t) = &query.resource_type {
        sql.push(" AND r.res_type = ");
        sql.text(t);
    }
    for c in &query.conditions {
        sql.push(" AND ");
        condition_sql(&mut sql, c, query.resource_type.as_deref().unwrap_or(""));
    }
    if !count_only {
        sql.push(" ORDER BY ");
        for (key, desc) in &query.sort {
            let dir = if *desc { "DESC" } else { "ASC" };
            match key.as_str() {
                "_id" => {
                    sql.push("r.res_id ").push(dir).push(", ");
                }
                "_lastUpdated" => {
                    sql.push("r.last_updated ").push(dir).push(", ");
                }
                param => {
                    let agg = if *desc { "MAX" } else { "MIN" };
                    sql.push("(SELECT ").push(agg).push("(COALESCE(i.date_lo, i.exact, i.code, i.text)) FROM search_index i WHERE i.res_type = r.res_type AND i.res_id = r.res_id AND i.param = ");
                    sql.text(param);
                    sql.push(") ").push(dir).push(", ");
                }
            }
        }
        sql.push("r.last_updated DESC, r.res_id ASC LIMIT ");
        sql.bind(Param::Int(query.count.max(0)));
        sql.push(" OFFSET ");
        sql.bind(Param::Int(query.offset.max(0)));
    }
    sql
}

/// A transaction on the SQL store.
pub struct SqlWriter {
    tx: Transaction<'static, Any>,
    dialect: Dialect,
}

impl SqlWriter {
    #[allow(clippy::too_many_arguments)] // one row's columns, named at each call
    async fn write_version(
        &mut self,
        resource_type: &str,
        id: &str,
        version: i64,
        resource: Option<&Value>,
        method: &str,
        index: &[IndexEntry],
        when: &str,
    ) -> Result<(), StoreError> {
        let d = self.dialect;
        let content = resource.map(|r| r.to_string());
        let mut sql = Sql::new(d);
        sql.push("INSERT INTO versions (res_type, res_id, version, last_updated, method, content) VALUES (");
        sql.text(resource_type).push(", ");
        sql.text(id).push(", ");
        sql.bind(Param::Int(version)).push(", ");
        sql.text(when).push(", ");
        sql.text(method).push(", ");
        sql.bind(content.map(Param::Text).unwrap_or(Param::Null))
            .push(")");
        sql.query().execute(&mut *self.tx).await?;
        let mut del = Sql::new(d);
        del.push("DELETE FROM search_index WHERE res_type = ");
        del.text(resource_type).push(" AND res_id = ");
        del.text(id);
        del.query().execute(&mut *self.tx).await?;
        for e in index {
            let mut ins = Sql::new(d);
            ins.push("INSERT INTO search_index (res_type, res_id, param, system, code, text, exact, num_lo, num_hi, date_lo, date_hi, ref_type, ref_id) VALUES (");
            ins.text(resource_type).push(", ");
            ins.text(id).push(", ");
            ins.text(&e.param).push(", ");
            let opt = |v: &Option<String>| v.clone().map(Param::Text).unwrap_or(Param::Null);
            ins.bind(opt(&e.system)).push(", ");
            ins.bind(opt(&e.code)).push(", ");
            ins.bind(opt(&e.text)).push(", ");
            ins.bind(opt(&e.exact)).push(", ");
            ins.bind(e.num.map(|n| Param::Real(n.0)).unwrap_or(Param::NullReal))
                .push(", ");
            ins.bind(e.num.map(|n| Param::Real(n.1)).unwrap_or(Param::NullReal))
                .push(", ");
            ins.bind(
                e.date
                    .as_ref()
                    .map(|d| Param::Text(d.0.clone()))
                    .unwrap_or(Param::Null),
            )
            .push(", ");
            ins.bind(
                e.date
                    .as_ref()
                    .map(|d| Param::Text(d.1.clone()))
                    .unwrap_or(Param::Null),
            )
            .push(", ");
            ins.bind(
                e.reference
                    .as_ref()
                    .map(|r| Param::Text(r.0.clone()))
                    .unwrap_or(Param::Null),
            )
            .push(", ");
            ins.bind(
                e.reference
                    .as_ref()
                    .map(|r| Param::Text(r.1.clone()))
                    .unwrap_or(Param::Null),
            )
            .push(")");
            ins.query().execute(&mut *self.tx).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Writer for SqlWriter {
    async fn create(
        &mut self,
        resource_type: &str,
        id: &str,
        resource: Value,
        index: Vec<IndexEntry>,
    ) -> Result<Stored, StoreError> {
        let when = now();
        let resource = stamp(resource, id, 1, &when);
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO resources (res_type, res_id, version, last_updated, deleted, content) VALUES (");
        sql.text(resource_type).push(", ");
        sql.text(id).push(", 1, ");
        sql.text(&when).push(", 0, ");
        sql.text(&resource.to_string()).push(")");
        sql.query()
            .execute(&mut *self.tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Conflict(format!("{resource_type}/{id}"))
                }
                other => other.into(),
            })?;
        self.write_version(resource_type, id, 1, Some(&resource), "POST", &index, &when)
            .await?;
        Ok(Stored {
            resource_type: resource_type.into(),
            id: id.into(),
            version: 1,
            last_updated: when,
            resource: Some(resource),
            method: "POST".into(),
        })
    }

    async fn update(
        &mut self,
        resource_type: &str,
        id: &str,
        resource: Value,
        index: Vec<IndexEntry>,
        if_match: Option<i64>,
    ) -> Result<(Stored, bool), StoreError> {
        let name = format!("{resource_type}/{id}");
        let current = self.current(resource_type, id).await?;
        let Some(current) = current else {
            if let Some(expected) = if_match {
                return Err(StoreError::VersionConflict {
                    resource: name,
                    current: 0,
                    expected,
                });
            }
            let mut s = self.create(resource_type, id, resource, index).await?;
            s.method = "PUT".into();
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
        let resource = stamp(resource, id, version, &when);
        let mut sql = Sql::new(self.dialect);
        sql.push("UPDATE resources SET version = ");
        sql.bind(Param::Int(version)).push(", last_updated = ");
        sql.text(&when).push(", deleted = 0, content = ");
        sql.text(&resource.to_string()).push(" WHERE res_type = ");
        sql.text(resource_type).push(" AND res_id = ");
        sql.text(id).push(" AND version = ");
        sql.bind(Param::Int(current.version));
        let done = sql.query().execute(&mut *self.tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(name));
        }
        self.write_version(
            resource_type,
            id,
            version,
            Some(&resource),
            "PUT",
            &index,
            &when,
        )
        .await?;
        let created = current.resource.is_none();
        Ok((
            Stored {
                resource_type: resource_type.into(),
                id: id.into(),
                version,
                last_updated: when,
                resource: Some(resource),
                method: "PUT".into(),
            },
            created,
        ))
    }

    async fn delete(&mut self, resource_type: &str, id: &str) -> Result<Option<i64>, StoreError> {
        let Some(current) = self.current(resource_type, id).await? else {
            return Ok(None);
        };
        if current.resource.is_none() {
            return Ok(None);
        }
        let version = current.version + 1;
        let when = now();
        let mut sql = Sql::new(self.dialect);
        sql.push("UPDATE resources SET version = ");
        sql.bind(Param::Int(version)).push(", last_updated = ");
        sql.text(&when)
            .push(", deleted = 1, content = NULL WHERE res_type = ");
        sql.text(resource_type).push(" AND res_id = ");
        sql.text(id).push(" AND version = ");
        sql.bind(Param::Int(current.version));
        let done = sql.query().execute(&mut *self.tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!("{resource_type}/{id}")));
        }
        self.write_version(resource_type, id, version, None, "DELETE", &[], &when)
            .await?;
        Ok(Some(version))
    }

    async fn current(
        &mut self,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<Stored>, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT res_type, res_id, version, last_updated, content FROM resources WHERE res_type = ");
        sql.text(resource_type).push(" AND res_id = ");
        sql.text(id);
        let row = sql.query().fetch_optional(&mut *self.tx).await?;
        row.map(|r| stored_from(&r, false)).transpose()
    }

    async fn matching(&mut self, query: &Query) -> Result<Vec<Stored>, StoreError> {
        let sql = select_current(self.dialect, query, false);
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter().map(|r| stored_from(r, false)).collect()
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn begin(&self) -> Result<Box<dyn Writer>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.dialect == Dialect::Sqlite {
            // Take the write lock now, so two writers queue instead of one
            // failing when it upgrades from reading.
            sqlx::query("UPDATE resources SET version = version WHERE 1 = 0")
                .execute(&mut *tx)
                .await?;
        }
        Ok(Box::new(SqlWriter {
            tx,
            dialect: self.dialect,
        }))
    }

    async fn read(&self, resource_type: &str, id: &str) -> Result<Stored, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT res_type, res_id, version, last_updated, content FROM resources WHERE res_type = ");
        sql.text(resource_type).push(" AND res_id = ");
        sql.text(id);
        let name = format!("{resource_type}/{id}");
        let row = sql
            .query()
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(name.clone()))?;
        let s = stored_from(&row, false)?;
        if s.resource.is_none() {
            return Err(StoreError::Gone {
                resource: name,
                version: s.version,
            });
        }
        Ok(s)
    }

    async fn vread(
        &self,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> Result<Stored, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT res_type, res_id, version, last_updated, method, content FROM versions WHERE res_type = ");
        sql.text(resource_type).push(" AND res_id = ");
        sql.text(id).push(" AND version = ");
        sql.bind(Param::Int(version));
        let name = format!("{resource_type}/{id}/_history/{version}");
        let row = sql
            .query()
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(name.clone()))?;
        let s = stored_from(&row, true)?;
        if s.resource.is_none() {
            return Err(StoreError::Gone {
                resource: name,
                version,
            });
        }
        Ok(s)
    }

    async fn history(
        &self,
        resource_type: Option<&str>,
        id: Option<&str>,
        since: Option<&str>,
        count: i64,
        offset: i64,
    ) -> Result<(Vec<Stored>, i64), StoreError> {
        let filter = |sql: &mut Sql| {
            sql.push(" WHERE 1 = 1");
            if let Some(t) = resource_type {
                sql.push(" AND res_type = ");
                sql.text(t);
            }
            if let Some(i) = id {
                sql.push(" AND res_id = ");
                sql.text(i);
            }
            if let Some(s) = since {
                sql.push(" AND last_updated >= ");
                sql.text(s);
            }
        };
        let mut count_sql = Sql::new(self.dialect);
        count_sql.push("SELECT COUNT(*) AS n FROM versions");
        filter(&mut count_sql);
        let total: i64 = count_sql
            .query()
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT res_type, res_id, version, last_updated, method, content FROM versions");
        filter(&mut sql);
        sql.push(" ORDER BY last_updated DESC, version DESC LIMIT ");
        sql.bind(Param::Int(count.max(0))).push(" OFFSET ");
        sql.bind(Param::Int(offset.max(0)));
        let rows = sql.query().fetch_all(&self.pool).await?;
        let list = rows
            .iter()
            .map(|r| stored_from(r, true))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((list, total))
    }

    async fn search(&self, query: &Query) -> Result<(Vec<Stored>, i64), StoreError> {
        let count_sql = select_current(self.dialect, query, true);
        let total: i64 = count_sql
            .query()
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let sql = select_current(self.dialect, query, false);
        let rows = sql.query().fetch_all(&self.pool).await?;
        let list = rows
            .iter()
            .map(|r| stored_from(r, false))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((list, total))
    }

    async fn referring(
        &self,
        resource_type: &str,
        param: Option<&str>,
        targets: &[String],
    ) -> Result<Vec<Stored>, StoreError> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT DISTINCT r.res_type, r.res_id, r.version, r.last_updated, r.content FROM resources r JOIN search_index i ON i.res_type = r.res_type AND i.res_id = r.res_id WHERE r.deleted = 0 AND r.res_type = ");
        sql.text(resource_type);
        if let Some(p) = param {
            sql.push(" AND i.param = ");
            sql.text(p);
        }
        sql.push(" AND (");
        for (n, t) in targets.iter().enumerate() {
            let (tt, tid) = t.split_once('/').unwrap_or(("", t));
            if n > 0 {
                sql.push(" OR ");
            }
            sql.push("(i.ref_type = ");
            sql.text(tt).push(" AND i.ref_id = ");
            sql.text(tid).push(")");
        }
        sql.push(") LIMIT 1000");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| stored_from(r, false)).collect()
    }

    fn name(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        }
    }
}
