//! The rows a write transaction holds back, and their flush.
//!
//! Each statement sent through sqlx's driver is a round trip to its worker
//! thread (SQLite) or to the server (PostgreSQL); writing a resource row by
//! row took about a dozen of them (resource, version, one per index table,
//! compartments, consent grants). A [`SqlWriter`] instead keeps the rows of
//! the versions it writes in [`Pending`] and sends them as one multi-row
//! INSERT per table ([`SqlWriter::flush`]): before anything reads what they
//! would change (a read of one of their resources, a search, a deletion),
//! when [`FLUSH_AT`] versions are waiting, and at commit. A new resource's
//! row id comes back from its INSERT (`RETURNING`), so no id is assigned
//! here and both databases keep their own sequences.
//!
//! **Invariant:** a pending version's resource is named in
//! [`Pending::holds`], and every path that reads a resource it holds
//! flushes first; the transaction therefore reads its own writes exactly as
//! if they had been sent one by one.

use std::collections::{HashMap, HashSet};

use super::*;

/// Rows per multi-row INSERT: well inside both databases' limits on bound
/// parameters (SQLite 32,766; PostgreSQL 65,535) at eight columns a row.
pub(super) const ROWS_PER_INSERT: usize = 500;

/// Versions held before they are written anyway (bounds the memory a
/// large transaction holds twice: as resources and as rows).
pub(super) const FLUSH_AT: usize = 1_000;

/// One version waiting to be written.
pub(super) struct PendingVersion {
    /// The resource's row id; None for a new resource, whose row is
    /// inserted by the flush.
    pub rid: Option<i64>,
    pub rtype: String,
    pub id: String,
    pub version: i64,
    pub when: String,
    pub method: &'static str,
    pub content: Arc<str>,
    /// The organisation writing this version.
    pub source: Option<String>,
    /// Whether the resource had index and access rows that this version
    /// replaces (an update), deleted by the flush before the new ones go
    /// in.
    pub replaces: bool,
    pub index: Vec<IndexEntry>,
    pub compartments: Vec<String>,
    pub grants: Vec<Grant>,
}

/// The versions a transaction has written but not yet sent.
#[derive(Default)]
pub(super) struct Pending {
    versions: Vec<PendingVersion>,
    keys: HashSet<(String, String)>,
}

impl Pending {
    pub(super) fn push(&mut self, v: PendingVersion) {
        self.keys.insert((v.rtype.clone(), v.id.clone()));
        self.versions.push(v);
    }

    /// Whether a version of `rtype/id` is waiting.
    pub(super) fn holds(&self, rtype: &str, id: &str) -> bool {
        // A borrowed lookup would need a key type of its own; the clone is
        // two short strings.
        self.keys.contains(&(rtype.to_string(), id.to_string()))
    }

    pub(super) fn len(&self) -> usize {
        self.versions.len()
    }

    fn take(&mut self) -> Vec<PendingVersion> {
        self.keys.clear();
        std::mem::take(&mut self.versions)
    }
}

/// Appends `rows` to `head` as one multi-row INSERT per [`ROWS_PER_INSERT`]
/// rows, each row written by `row`, and runs them.
async fn insert_rows<T>(
    tx: &mut sqlx::AnyConnection,
    dialect: Dialect,
    head: &str,
    rows: &[T],
    row: impl Fn(&mut Sql, &T),
) -> Result<(), StoreError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut sql = Sql::new(dialect);
        sql.push(head);
        for (n, r) in chunk.iter().enumerate() {
            if n > 0 {
                sql.push(", ");
            }
            sql.push("(");
            row(&mut sql, r);
            sql.push(")");
        }
        sql.query().execute(&mut *tx).await?;
    }
    Ok(())
}

/// Binds an index entry's value columns, after its `rid, pid`.
fn bind_value(sql: &mut Sql, value: &IndexValue) {
    match value {
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
}

fn columns(table: Table) -> &'static str {
    match table {
        Table::Token => " (rid, pid, system, code, text) VALUES ",
        Table::Str => " (rid, pid, norm, exact) VALUES ",
        Table::Uri => " (rid, pid, uri) VALUES ",
        Table::Number => " (rid, pid, lo, hi, system, code) VALUES ",
        Table::Date => " (rid, pid, lo, hi) VALUES ",
        Table::Reference => " (rid, pid, ref_type, ref_id) VALUES ",
    }
}

impl SqlWriter {
    /// Holds a version for the next flush, flushing when [`FLUSH_AT`] are
    /// waiting.
    pub(super) async fn hold(&mut self, v: PendingVersion) -> Result<(), StoreError> {
        self.known.remove(&(v.rtype.clone(), v.id.clone()));
        self.pending.push(v);
        if self.pending.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends every pending version: new resources' rows (their row ids
    /// returned), then the replaced rows' deletion, then versions, index,
    /// compartment and consent-grant rows, one multi-row INSERT per table.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when a new resource's id was taken by
    /// another transaction meanwhile; a database failure.
    pub(super) async fn flush(&mut self) -> Result<(), StoreError> {
        let mut versions = self.pending.take();
        if versions.is_empty() {
            return Ok(());
        }
        let d = self.dialect;
        // 1. New resources, and their row ids.
        let new: Vec<usize> = (0..versions.len())
            .filter(|&i| versions[i].rid.is_none())
            .collect();
        for chunk in new.chunks(ROWS_PER_INSERT) {
            let mut sql = Sql::new(d);
            sql.push("INSERT INTO resources (res_type, res_id, version, last_updated, deleted, content, source) VALUES ");
            for (n, &i) in chunk.iter().enumerate() {
                let v = &versions[i];
                if n > 0 {
                    sql.push(", ");
                }
                sql.push("(").bind(&v.rtype).push(", ").bind(&v.id);
                sql.push(", ").bind(v.version).push(", ").bind(&v.when);
                sql.push(", 0, ").bind(&*v.content).push(", ");
                sql.bind(Param::from(v.source.as_ref())).push(")");
            }
            sql.push(" RETURNING rid, res_type, res_id");
            let rows = sql
                .query()
                .fetch_all(&mut *self.tx)
                .await
                .map_err(|e| match e {
                    sqlx::Error::Database(db) if db.is_unique_violation() => {
                        let names: Vec<String> = chunk
                            .iter()
                            .map(|&i| format!("{}/{}", versions[i].rtype, versions[i].id))
                            .take(3)
                            .collect();
                        let more = if chunk.len() > 3 { " or another" } else { "" };
                        StoreError::Conflict(format!("{}{more}", names.join(" or ")))
                    }
                    other => other.into(),
                })?;
            let mut rids: HashMap<(String, String), i64> = HashMap::with_capacity(rows.len());
            for row in &rows {
                rids.insert(
                    (row.try_get("res_type")?, row.try_get("res_id")?),
                    row.try_get("rid")?,
                );
            }
            for &i in chunk {
                let v = &mut versions[i];
                v.rid = rids.remove(&(v.rtype.clone(), v.id.clone()));
                if v.rid.is_none() {
                    return Err(StoreError::Database(format!(
                        "the database returned no row id for {}/{}",
                        v.rtype, v.id
                    )));
                }
            }
        }
        let rid = |v: &PendingVersion| v.rid.unwrap_or_default();
        // 2. The rows that updated resources' new rows replace.
        let replaced: Vec<i64> = versions.iter().filter(|v| v.replaces).map(rid).collect();
        if !replaced.is_empty() {
            let tables = INDEX_TABLES
                .iter()
                .map(|(_, name)| *name)
                .chain(["compartments", "consent_grants"]);
            for table in tables {
                for chunk in replaced.chunks(ROWS_PER_INSERT) {
                    let mut sql = Sql::new(d);
                    sql.push("DELETE FROM ").push(table).push(" WHERE rid IN (");
                    for (n, r) in chunk.iter().enumerate() {
                        if n > 0 {
                            sql.push(", ");
                        }
                        sql.bind(*r);
                    }
                    sql.push(")");
                    sql.query().execute(&mut *self.tx).await?;
                }
            }
        }
        // 3. Versions.
        insert_rows(
            &mut self.tx,
            d,
            "INSERT INTO versions (rid, version, res_type, res_id, last_updated, method, content, source) VALUES ",
            &versions,
            |sql, v| {
                sql.bind(rid(v)).push(", ").bind(v.version).push(", ");
                sql.bind(&v.rtype).push(", ").bind(&v.id).push(", ");
                sql.bind(&v.when).push(", ").bind(v.method).push(", ");
                sql.bind(&*v.content).push(", ");
                sql.bind(Param::from(v.source.as_ref()));
            },
        )
        .await?;
        // 4. Index rows, one table at a time across every version.
        let mut written = 0;
        for (table, name) in INDEX_TABLES {
            let rows: Vec<(i64, i64, &IndexValue)> = versions
                .iter()
                .flat_map(|v| {
                    v.index
                        .iter()
                        .filter(|e| e.value.table() == table)
                        .map(move |e| (rid(v), param_id(&v.rtype, &e.param), &e.value))
                })
                .collect();
            written += rows.len() as u64;
            let head = format!("INSERT INTO {name}{}", columns(table));
            insert_rows(&mut self.tx, d, &head, &rows, |sql, (r, pid, value)| {
                sql.bind(*r).push(", ").bind(*pid);
                bind_value(sql, value);
            })
            .await?;
        }
        self.written += written;
        // 5. Compartments and consent grants.
        let compartments: Vec<(i64, &String)> = versions
            .iter()
            .flat_map(|v| v.compartments.iter().map(move |p| (rid(v), p)))
            .collect();
        insert_rows(
            &mut self.tx,
            d,
            "INSERT INTO compartments (rid, patient_id) VALUES ",
            &compartments,
            |sql, (r, p)| {
                sql.bind(*r).push(", ").bind(*p);
            },
        )
        .await?;
        let owned: Vec<(i64, i64, &String)> = versions
            .iter()
            .flat_map(|v| v.compartments.iter().map(move |p| (rid(v), v.version, p)))
            .collect();
        insert_rows(
            &mut self.tx,
            d,
            "INSERT INTO version_compartments (rid, version, patient_id) VALUES ",
            &owned,
            |sql, (r, n, p)| {
                sql.bind(*r).push(", ").bind(*n).push(", ").bind(*p);
            },
        )
        .await?;
        let grants: Vec<(i64, &Grant)> = versions
            .iter()
            .flat_map(|v| v.grants.iter().map(move |g| (rid(v), g)))
            .collect();
        insert_rows(
            &mut self.tx,
            d,
            "INSERT INTO consent_grants (rid, patient_id, permit, actor, purpose, class, start_at, end_at) VALUES ",
            &grants,
            |sql, (r, g)| {
                sql.bind(*r).push(", ").bind(&g.patient);
                sql.push(", ").bind(i64::from(g.permit));
                sql.push(", ").bind(Param::from(g.actor.as_ref()));
                sql.push(", ").bind(Param::from(g.purpose.as_ref()));
                sql.push(", ").bind(Param::from(g.class.as_ref()));
                sql.push(", ").bind(&g.start);
                sql.push(", ").bind(Param::from(g.end.as_ref()));
            },
        )
        .await?;
        Ok(())
    }
}
