//! The audit log: every AuditEvent as one compact row of an append-only
//! table, searchable by the AuditEvent search parameters the server
//! indexes (`patient`, `agent`, `date`, `entity`, `outcome`, `type`,
//! `subtype`, `action`, `_id`, `_lastUpdated`).
//!
//! An AuditEvent is written for every access, so its cost is paid on every
//! request: as an ordinary resource it cost a resource row, a version row
//! (the JSON twice) and a dozen index rows, about 9 KB. Here it is:
//! - `audit_log (seq, at, body)`: the sequence number is its id, `at` its
//!   `recorded` instant in milliseconds (also its `meta.lastUpdated`; the
//!   `date` search reads it), `body` the AuditEvent's JSON without `id`,
//!   `meta` and `recorded`, compressed with zstd against a dictionary of
//!   the text every AuditEvent shares ([`DICTIONARY`]);
//! - `audit_terms (tid, param, value, system)`: each distinct indexed
//!   value once (a token's code and system, a reference's id and type);
//! - `audit_keys (tid, seq)`: which events hold which value, the searches'
//!   index (one short row per value per event), ordered by value;
//! - `audit_tail (seq, tid)`: the same for the newest events, ordered by
//!   event: an event's keys are appended here, on one page, and moved into
//!   `audit_keys` a few thousand at a time ([`SqlStore::merge_audit_tail`])
//!   (written straight into `audit_keys`, each key of an event would dirty
//!   a page of its own in every commit); searches read both;
//! - `audit_people (seq, tid)`: whose data each event is about (the
//!   Patients of its compartment), which its visibility reads.
//!
//! Events are never changed; the retention setting removes the oldest
//! ([`SqlStore::purge_audit`]). Visibility is the rule of
//! `query::visibility_sql` for AuditEvents: admins see all, the holder of
//! every person's record sees the events about them, nobody else any.

use std::collections::HashMap;

use serde_json::Value;

use super::writer::SqlWriter;
use super::*;

/// The resource type kept here.
pub(super) const AUDIT_EVENT: &str = "AuditEvent";

/// The term `param` of a person an event is about (its compartment).
const OWNER: &str = "@owner";

/// The most terms the store remembers the ids of.
const TERM_CACHE: usize = 100_000;

/// How the body is encoded (its first byte): plain JSON, or zstd against
/// [`DICTIONARY`] version 1.
const PLAIN: u8 = 0;
const ZSTD_V1: u8 = 1;
/// zstd's level 9: a read's AuditEvent (1.8 KB of JSON) in about 95 bytes,
/// in under 10 µs; higher levels gain nothing on events this small.
const LEVEL: i32 = 9;

/// The text AuditEvents share, as zstd's raw-content dictionary: a
/// notification's, a search's and a read's AuditEvent as the server writes
/// them (ids left out), the commonest last, where its matches cost least.
/// Events unlike these are stored as well, only less compressed.
///
/// **Invariant:** stored bodies tagged [`ZSTD_V1`] are read with exactly
/// this text; a different dictionary needs a new tag.
const DICTIONARY: &str = concat!(
    r#"{"resourceType":"AuditEvent","type":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"110106","display":"Export"},"action":"R","outcome":"4","agent":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP","display":"information recipient"}]},"who":{"identifier":{"system":"https://fhir.carer-fhir.uk/Id/client","value":""},"display":""},"altId":"","name":"","requestor":false,"role":[{"coding":[{"system":"https://fhir.carer-fhir.uk/CodeSystem/client-role","code":"local-authority"}]}]}],"#,
    r#""entity":[{"what":{"reference":"Subscription/"},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"2","display":"System Object"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"4","display":"Domain Resource"}}],"outcomeDesc":"notification not taken: ","outcomeDesc":"403 ","outcomeDesc":"404 ","subtype":[{"system":"https://fhir.carer-fhir.uk/CodeSystem/audit-subtype","code":"operation"}],"#,
    r#"{"resourceType":"AuditEvent","type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest","display":"RESTful Operation"},"action":"E","entity":[{"what":{"reference":"Patient/"},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"1","display":"Person"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"1","display":"Patient"}},{"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"2","display":"System Object"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"24","display":"Query"},"query":""}],"outcome":"0","agent":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/extra-security-role-type","code":"datacollector","display":"data collector"}]},"who":{"identifier":{"system":"https://fhir.carer-fhir.uk/Id/client","value":""},"display":""},"altId":"","name":"","requestor":true,"role":[{"coding":[{"system":"https://fhir.carer-fhir.uk/CodeSystem/client-role","code":"local-authority"}]}]},{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleClass","code":"PROV","display":"healthcare provider"}]},"who":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":""}},"requestor":false}],"source":{"observer":{"display":"carer-fhir"},"type":[{"system":"http://terminology.hl7.org/CodeSystem/security-source-type","code":"4","display":"Application Server"}]},"subtype":[{"system":"http://hl7.org/fhir/restful-interaction","code":"search-type"}],"purposeOfEvent":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"CAREMGT"}]}]}"#,
    r#"{"resourceType":"AuditEvent","type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest","display":"RESTful Operation"},"action":"R","entity":[{"what":{"reference":"Patient/"},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"1","display":"Person"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"1","display":"Patient"}},{"what":{"reference":"Patient/"},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"2","display":"System Object"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"4","display":"Domain Resource"}}],"outcome":"0","agent":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/extra-security-role-type","code":"datacollector","display":"data collector"}]},"who":{"identifier":{"system":"https://fhir.carer-fhir.uk/Id/client","value":""},"display":""},"altId":"","name":"","requestor":true,"role":[{"coding":[{"system":"https://fhir.carer-fhir.uk/CodeSystem/client-role","code":"gp-practice"}]}]},{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleClass","code":"PROV","display":"healthcare provider"}]},"who":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":""}},"requestor":false}],"source":{"observer":{"display":"carer-fhir"},"type":[{"system":"http://terminology.hl7.org/CodeSystem/security-source-type","code":"4","display":"Application Server"}]},"subtype":[{"system":"http://hl7.org/fhir/restful-interaction","code":"read"}],"purposeOfEvent":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"CAREMGT"}]}]}"#
);

thread_local! {
    // zstd contexts are reused: building one (and loading the dictionary)
    // costs more than compressing an event.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// The stored form of an AuditEvent's JSON text.
fn encode(json: &str) -> Vec<u8> {
    let compressed = COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Compressor::with_dictionary(LEVEL, DICTIONARY.as_bytes()).ok();
        }
        c.as_mut().and_then(|c| c.compress(json.as_bytes()).ok())
    });
    match compressed {
        Some(z) if z.len() < json.len() => {
            let mut out = Vec::with_capacity(z.len() + 1);
            out.push(ZSTD_V1);
            out.extend_from_slice(&z);
            out
        }
        _ => {
            let mut out = Vec::with_capacity(json.len() + 1);
            out.push(PLAIN);
            out.extend_from_slice(json.as_bytes());
            out
        }
    }
}

/// The JSON text of a stored body.
fn decode(body: &[u8]) -> Result<String, StoreError> {
    let bad = || StoreError::Database("an audit log entry cannot be read".into());
    let (tag, rest) = body.split_first().ok_or_else(bad)?;
    let bytes = match *tag {
        PLAIN => rest.to_vec(),
        ZSTD_V1 => DECOMPRESSOR.with(|d| {
            let mut d = d.borrow_mut();
            if d.is_none() {
                *d = zstd::bulk::Decompressor::with_dictionary(DICTIONARY.as_bytes()).ok();
            }
            let d = d.as_mut().ok_or_else(bad)?;
            // An event is a few KB at most; its size is bounded by what the
            // server writes, and the limit keeps a damaged row harmless.
            d.decompress(rest, 1 << 20).map_err(|_| bad())
        })?,
        _ => return Err(bad()),
    };
    String::from_utf8(bytes).map_err(|_| bad())
}

/// Milliseconds since the epoch of a sortable UTC instant
/// (`fhir_core::instant` form).
fn millis(instant: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(instant)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The instant of `ms`, as `recorded` and `meta.lastUpdated` show it.
fn instant(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(fhir_core::instant::format)
        .unwrap_or_default()
}

/// An event's `at` (its `recorded`, in milliseconds), its stored body,
/// and the event as stored (without `id`, `meta`, and `recorded` when
/// `at` gives it back exactly).
fn encode_event(mut event: Value) -> (i64, Vec<u8>, Value) {
    if let Some(o) = event.as_object_mut() {
        o.remove("id");
        o.remove("meta");
    }
    let recorded = event["recorded"].as_str().map(str::to_string);
    let at = match recorded.as_deref().and_then(millis) {
        Some(ms) if recorded.as_deref() == Some(instant(ms).as_str()) => {
            if let Some(o) = event.as_object_mut() {
                o.remove("recorded");
            }
            ms
        }
        Some(ms) => ms,
        None => chrono::Utc::now().timestamp_millis(),
    };
    let body = encode(&event.to_string());
    (at, body, event)
}

/// A value an event is found by: `(param, value, system)`.
type Term = (String, String, String);

/// The terms of an event: each token (code, system) and reference (id,
/// type) its index holds, and each person it is about. Dates are read
/// from `at`; other kinds of value are not among the parameters kept.
fn terms_of(new: &NewVersion) -> (Vec<Term>, Vec<Term>) {
    let mut keys: Vec<Term> = Vec::new();
    for e in &new.index {
        let t = match &e.value {
            IndexValue::Token {
                system,
                code: Some(code),
                ..
            } => (
                e.param.clone(),
                code.clone(),
                system.clone().unwrap_or_default(),
            ),
            IndexValue::Reference { target_type, id } => {
                (e.param.clone(), id.clone(), target_type.clone())
            }
            _ => continue,
        };
        if !keys.contains(&t) {
            keys.push(t);
        }
    }
    let mut people: Vec<Term> = Vec::new();
    for p in &new.compartments {
        let t = (OWNER.to_string(), p.clone(), "Patient".to_string());
        if !people.contains(&t) {
            people.push(t);
        }
    }
    (keys, people)
}

/// The schema of the log.
pub(super) fn schema(d: Dialect) -> Vec<String> {
    let text = d.text();
    let (seq, blob, without_rowid) = match d {
        // AUTOINCREMENT: an id is never given again, even after the
        // retention has removed every event.
        Dialect::Sqlite => (
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "BLOB",
            " WITHOUT ROWID",
        ),
        Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "BYTEA", ""),
    };
    vec![
        format!("CREATE TABLE IF NOT EXISTS audit_log (seq {seq}, at BIGINT NOT NULL, body {blob} NOT NULL)"),
        "CREATE INDEX IF NOT EXISTS audit_log_by_time ON audit_log (at)".into(),
        format!(
            "CREATE TABLE IF NOT EXISTS audit_terms (tid {}, param {text} NOT NULL, value {text} NOT NULL, system {text} NOT NULL, UNIQUE (param, value, system))",
            d.row_id()
        ),
        format!("CREATE TABLE IF NOT EXISTS audit_keys (tid BIGINT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (tid, seq)){without_rowid}"),
        format!("CREATE TABLE IF NOT EXISTS audit_tail (seq BIGINT NOT NULL, tid BIGINT NOT NULL, PRIMARY KEY (seq, tid)){without_rowid}"),
        format!("CREATE TABLE IF NOT EXISTS audit_people (seq BIGINT NOT NULL, tid BIGINT NOT NULL, PRIMARY KEY (seq, tid)){without_rowid}"),
    ]
}

/// The ids of terms the store has seen committed, so that most events
/// write their keys without looking their terms up.
#[derive(Debug, Default)]
pub(super) struct TermCache(std::sync::Mutex<HashMap<Term, i64>>);

impl TermCache {
    fn get(&self, t: &Term) -> Option<i64> {
        self.0.lock().ok().and_then(|m| m.get(t).copied())
    }

    /// Remembers terms of a committed transaction.
    pub(super) fn learn(&self, terms: HashMap<Term, i64>) {
        if terms.is_empty() {
            return;
        }
        if let Ok(mut m) = self.0.lock() {
            if m.len() + terms.len() > TERM_CACHE {
                m.clear();
            }
            m.extend(terms);
        }
    }
}

/// An event numbered and encoded, waiting for its transaction's next
/// flush.
#[derive(Debug)]
pub(super) struct Held {
    seq: i64,
    at: i64,
    body: Vec<u8>,
    keys: Vec<i64>,
    people: Vec<i64>,
}

/// What a transaction appending to the log keeps: the terms it added
/// (remembered by the store only once it commits), the next sequence
/// number it may give (SQLite), and the events not yet written.
#[derive(Debug, Default)]
pub(super) struct Appending {
    new_terms: HashMap<Term, i64>,
    next_seq: Option<i64>,
    held: Vec<Held>,
    /// Keys written to the tail.
    tail_rows: u64,
}

impl Appending {
    /// The terms added, for the store to remember after the commit.
    pub(super) fn take_terms(&mut self) -> HashMap<Term, i64> {
        std::mem::take(&mut self.new_terms)
    }

    /// The keys written to the tail, for the store to count after the
    /// commit.
    pub(super) fn tail_rows(&self) -> u64 {
        self.tail_rows
    }
}

/// A transaction appending to the log.
pub(super) struct Appender<'a> {
    pub(super) tx: &'a mut sqlx::AnyConnection,
    pub(super) dialect: Dialect,
    pub(super) cache: &'a TermCache,
    pub(super) state: &'a mut Appending,
}

impl SqlWriter {
    fn appender(&mut self) -> Appender<'_> {
        Appender {
            tx: &mut self.tx,
            dialect: self.dialect,
            cache: &self.store.terms,
            state: &mut self.audit,
        }
    }

    /// Appends an AuditEvent to the log in this transaction; its id is its
    /// sequence number. It is written at the next flush (at the latest at
    /// commit), with the other events of the transaction: a batch of the
    /// moment's events costs three statements, not three each.
    pub(super) async fn append_audit(&mut self, new: NewVersion) -> Result<Stored, StoreError> {
        self.appender().append(new).await
    }

    /// Writes the events appended and not yet written.
    pub(super) async fn flush_audit(&mut self) -> Result<(), StoreError> {
        self.appender().flush().await
    }
}

/// Rows per multi-row `INSERT` (3 parameters a row at most, well under
/// either database's limit on parameters).
const ROWS: usize = 300;

impl Appender<'_> {
    /// The id of term `t`, added when new.
    async fn term(&mut self, t: &Term) -> Result<i64, StoreError> {
        if let Some(id) = self.state.new_terms.get(t) {
            return Ok(*id);
        }
        if let Some(id) = self.cache.get(t) {
            return Ok(id);
        }
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO audit_terms (param, value, system) VALUES (")
            .bind(&t.0)
            .push(", ")
            .bind(&t.1)
            .push(", ")
            .bind(&t.2)
            .push(") ON CONFLICT DO NOTHING");
        sql.query().execute(&mut *self.tx).await?;
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT tid FROM audit_terms WHERE param = ")
            .bind(&t.0);
        sql.push(" AND value = ").bind(&t.1);
        sql.push(" AND system = ").bind(&t.2);
        let id: i64 = sql.query().fetch_one(&mut *self.tx).await?.try_get("tid")?;
        self.state.new_terms.insert(t.clone(), id);
        Ok(id)
    }

    /// The next sequence number. SQLite: the transaction holds the write
    /// lock, so it reads the last number given once and counts on from it
    /// (an explicit number moves `sqlite_sequence` on). PostgreSQL: the
    /// column's sequence, which concurrent transactions share safely.
    async fn next_seq(&mut self) -> Result<i64, StoreError> {
        match self.dialect {
            Dialect::Sqlite => {
                let next = match self.state.next_seq {
                    Some(n) => n,
                    None => {
                        let last: i64 = sqlx::query("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0) AS s")
                            .fetch_one(&mut *self.tx)
                            .await?
                            .try_get("s")?;
                        last + 1
                    }
                };
                self.state.next_seq = Some(next + 1);
                Ok(next)
            }
            Dialect::Postgres => Ok(sqlx::query(
                "SELECT nextval(pg_get_serial_sequence('audit_log', 'seq')) AS s",
            )
            .fetch_one(&mut *self.tx)
            .await?
            .try_get("s")?),
        }
    }

    /// Appends an AuditEvent; its id is its sequence number.
    pub(super) async fn append(&mut self, new: NewVersion) -> Result<Stored, StoreError> {
        let (keys, people) = terms_of(&new);
        let (at, body, event) = encode_event(new.resource);
        let seq = self.next_seq().await?;
        let mut ids = [
            Vec::with_capacity(keys.len()),
            Vec::with_capacity(people.len()),
        ];
        for (terms, ids) in [&keys, &people].into_iter().zip(ids.iter_mut()) {
            for t in terms {
                let id = self.term(t).await?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        let [key_ids, people_ids] = ids;
        self.state.held.push(Held {
            seq,
            at,
            body,
            keys: key_ids,
            people: people_ids,
        });
        let mut resource = event;
        if resource.get("recorded").is_none() {
            resource["recorded"] = Value::String(instant(at));
        }
        let when = instant(at);
        let resource = stamp(resource, &seq.to_string(), 1, &when);
        Ok(Stored {
            resource_type: AUDIT_EVENT.into(),
            id: seq.to_string(),
            version: 1,
            last_updated: when,
            content: Some(Arc::from(resource.to_string())),
            method: "POST".into(),
            source: None,
            compartments: new.compartments,
        })
    }

    /// Writes the held events: their rows, keys and people, each table in
    /// multi-row `INSERT`s. On SQLite the three go to the database as one
    /// request (sqlx runs a text of several statements, each taking its
    /// parameters in turn): a request costs a hand-off to the connection's
    /// thread, more than these inserts do.
    pub(super) async fn flush(&mut self) -> Result<(), StoreError> {
        let held = std::mem::take(&mut self.state.held);
        let pairs = |f: fn(&Held) -> &Vec<i64>| -> Vec<(i64, i64)> {
            held.iter()
                .flat_map(|h| f(h).iter().map(move |k| (*k, h.seq)))
                .collect()
        };
        let (keys, people) = (pairs(|h| &h.keys), pairs(|h| &h.people));
        self.state.tail_rows += keys.len() as u64;
        let mut sql = Sql::new(self.dialect);
        for chunk in held.chunks(ROWS) {
            sql.push("INSERT INTO audit_log (seq, at, body) VALUES ");
            for (n, h) in chunk.iter().enumerate() {
                sql.push(if n > 0 { ", (" } else { "(" });
                sql.bind(h.seq).push(", ").bind(h.at).push(", ");
                sql.bind(Param::Blob(h.body.clone())).push(")");
            }
            sql = self.statement_done(sql).await?;
        }
        for (table, pairs) in [("audit_tail", &keys), ("audit_people", &people)] {
            for chunk in pairs.chunks(ROWS) {
                sql.push("INSERT INTO ")
                    .push(table)
                    .push(" (tid, seq) VALUES ");
                for (n, (tid, seq)) in chunk.iter().enumerate() {
                    sql.push(if n > 0 { ", (" } else { "(" });
                    sql.bind(*tid).push(", ").bind(*seq).push(")");
                }
                sql = self.statement_done(sql).await?;
            }
        }
        if !sql.text.is_empty() {
            sql.query().persistent(false).execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Ends a statement of [`Appender::flush`]: PostgreSQL runs it now;
    /// SQLite gathers it with the next (up to a bound on parameters).
    async fn statement_done(&mut self, mut sql: Sql) -> Result<Sql, StoreError> {
        if self.dialect == Dialect::Sqlite && sql.params.len() < 3 * ROWS * 3 {
            sql.push(";\n");
            return Ok(sql);
        }
        sql.query().persistent(false).execute(&mut *self.tx).await?;
        Ok(Sql::new(self.dialect))
    }
}

/// Moves the AuditEvents a schema-3 database kept as resources into the
/// log (new ids: their sequence numbers), with the terms their index rows
/// held, and removes them from the resource tables.
pub(super) async fn move_from_resources(
    tx: &mut Transaction<'static, Any>,
    dialect: Dialect,
) -> Result<u64, StoreError> {
    const PARAMS: [&str; 10] = [
        "patient",
        "agent",
        "agent:identifier",
        "date",
        "entity",
        "entity:identifier",
        "outcome",
        "type",
        "subtype",
        "action",
    ];
    let code_of: HashMap<i64, &str> = PARAMS
        .iter()
        .map(|c| (param_id(AUDIT_EVENT, c), *c))
        .collect();
    let cache = TermCache::default();
    let mut state = Appending::default();
    let mut moved = 0;
    loop {
        let rows = sqlx::query("SELECT rid, content FROM resources WHERE res_type = 'AuditEvent' ORDER BY rid LIMIT 500")
            .fetch_all(&mut **tx)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let rid: i64 = row.try_get("rid")?;
            let content: Option<String> = row.try_get("content")?;
            let mut index = Vec::new();
            let mut sql = Sql::new(dialect);
            sql.push("SELECT pid, system, code FROM idx_token WHERE rid = ")
                .bind(rid);
            for r in sql.query().fetch_all(&mut **tx).await? {
                if let Some(code) = code_of.get(&r.try_get::<i64, _>("pid")?) {
                    index.push(IndexEntry {
                        param: code.to_string(),
                        value: IndexValue::Token {
                            system: r.try_get("system")?,
                            code: r.try_get("code")?,
                            text: None,
                        },
                    });
                }
            }
            let mut sql = Sql::new(dialect);
            sql.push("SELECT pid, ref_type, ref_id FROM idx_ref WHERE rid = ")
                .bind(rid);
            for r in sql.query().fetch_all(&mut **tx).await? {
                if let Some(code) = code_of.get(&r.try_get::<i64, _>("pid")?) {
                    index.push(IndexEntry {
                        param: code.to_string(),
                        value: IndexValue::Reference {
                            target_type: r.try_get("ref_type")?,
                            id: r.try_get("ref_id")?,
                        },
                    });
                }
            }
            let mut sql = Sql::new(dialect);
            sql.push("SELECT patient_id FROM compartments WHERE rid = ")
                .bind(rid);
            let compartments = sql
                .query()
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>("patient_id"))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(resource) = content.and_then(|c| serde_json::from_str(&c).ok()) {
                Appender {
                    tx,
                    dialect,
                    cache: &cache,
                    state: &mut state,
                }
                .append(NewVersion {
                    resource,
                    index,
                    compartments,
                    ..NewVersion::default()
                })
                .await?;
                moved += 1;
            }
            for table in [
                "idx_token",
                "idx_string",
                "idx_uri",
                "idx_number",
                "idx_date",
                "idx_ref",
                "compartments",
                "version_compartments",
                "versions",
                "resources",
            ] {
                let mut sql = Sql::new(dialect);
                sql.push("DELETE FROM ")
                    .push(table)
                    .push(" WHERE rid = ")
                    .bind(rid);
                sql.query().execute(&mut **tx).await?;
            }
        }
        Appender {
            tx,
            dialect,
            cache: &cache,
            state: &mut state,
        }
        .flush()
        .await?;
    }
    Ok(moved)
}

/// The columns of an event row `a` and the people it is about.
fn columns(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "a.seq, a.at, a.body, (SELECT group_concat(t.value, ' ') FROM audit_people p JOIN audit_terms t ON t.tid = p.tid WHERE p.seq = a.seq) AS patients",
        Dialect::Postgres => "a.seq, a.at, a.body, (SELECT string_agg(t.value, ' ') FROM audit_people p JOIN audit_terms t ON t.tid = p.tid WHERE p.seq = a.seq) AS patients",
    }
}

/// The AuditEvent of a row of [`columns`].
fn stored(row: &AnyRow) -> Result<Stored, StoreError> {
    let seq: i64 = row.try_get("seq")?;
    let at: i64 = row.try_get("at")?;
    let body: Vec<u8> = row.try_get("body")?;
    let mut event: Value = serde_json::from_str(&decode(&body)?)
        .map_err(|_| StoreError::Database("an audit log entry is not JSON".into()))?;
    let when = instant(at);
    if event.get("recorded").is_none() {
        event["recorded"] = Value::String(when.clone());
    }
    let event = stamp(event, &seq.to_string(), 1, &when);
    let patients: Option<String> = row.try_get("patients").ok().flatten();
    Ok(Stored {
        resource_type: AUDIT_EVENT.into(),
        id: seq.to_string(),
        version: 1,
        last_updated: when,
        content: Some(Arc::from(event.to_string())),
        method: "POST".into(),
        source: None,
        compartments: patients
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// Whether event row `a` is visible under `v`: to admins every event; to
/// the organisation holding the record of every person an event is about
/// (there is at least one) that event; to no one else.
fn visible(sql: &mut Sql, v: &Visibility) {
    if v.admin {
        sql.push("1 = 1");
        return;
    }
    sql.push("(EXISTS (SELECT 1 FROM audit_people vp WHERE vp.seq = a.seq) AND NOT EXISTS (SELECT 1 FROM audit_people vp JOIN audit_terms vt ON vt.tid = vp.tid WHERE vp.seq = a.seq AND NOT EXISTS (SELECT 1 FROM resources ap WHERE ap.res_type = 'Patient' AND ap.res_id = vt.value AND ap.deleted = 0 AND ap.source = ")
        .bind(&v.organisation)
        .push(")))");
}

/// The sequence number an id names (its canonical decimal form only).
fn seq_of(id: &str) -> Option<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|s| *s > 0 && s.to_string() == id)
}

/// A condition the log cannot answer.
fn unsupported(what: &str) -> StoreError {
    StoreError::Unsupported(format!(
        "{what} is not supported on AuditEvent: search it by patient, agent, entity, date, outcome, type, subtype, action, _id or _lastUpdated"
    ))
}

/// `a.seq IN` the events holding a term with `param` (and `value`,
/// `system` when given).
fn term_in(sql: &mut Sql, negate: bool, param: &str, value: Option<&str>, system: Option<&str>) {
    let terms = |sql: &mut Sql| {
        sql.push("SELECT t.tid FROM audit_terms t WHERE t.param = ")
            .bind(param);
        if let Some(v) = value {
            sql.push(" AND t.value = ").bind(v);
        }
        if let Some(s) = system {
            sql.push(" AND t.system = ").bind(s);
        }
    };
    sql.push(if negate { "a.seq NOT IN" } else { "a.seq IN" });
    sql.push(" (SELECT k.seq FROM audit_keys k WHERE k.tid IN (");
    terms(sql);
    sql.push(") UNION ALL SELECT u.seq FROM audit_tail u WHERE u.tid IN (");
    terms(sql);
    sql.push("))");
}

/// The SQL of condition `c` on event row `a`.
fn condition(sql: &mut Sql, c: &Condition) -> Result<(), StoreError> {
    let range = |sql: &mut Sql, prefix: Prefix, lo: &str, hi: &str| -> Result<(), StoreError> {
        let (Some(lo), Some(hi)) = (millis(lo), millis(hi)) else {
            return Err(unsupported("a date outside the years 1 to 9999"));
        };
        range_sql(sql, "a.at", "a.at", prefix, Param::Int(lo), Param::Int(hi));
        Ok(())
    };
    match c {
        Condition::Any(list) | Condition::All(list) => {
            if list.is_empty() {
                sql.push(if matches!(c, Condition::Any(_)) {
                    "1 = 0"
                } else {
                    "1 = 1"
                });
                return Ok(());
            }
            let join = if matches!(c, Condition::Any(_)) {
                " OR "
            } else {
                " AND "
            };
            sql.push("(");
            for (n, inner) in list.iter().enumerate() {
                if n > 0 {
                    sql.push(join);
                }
                condition(sql, inner)?;
            }
            sql.push(")");
        }
        Condition::Id(ids) => {
            let seqs: Vec<i64> = ids.iter().filter_map(|i| seq_of(i)).collect();
            if seqs.is_empty() {
                sql.push("1 = 0");
            } else {
                sql.push("a.seq IN (");
                for (n, s) in seqs.iter().enumerate() {
                    if n > 0 {
                        sql.push(", ");
                    }
                    sql.bind(*s);
                }
                sql.push(")");
            }
        }
        Condition::LastUpdated(prefix, lo, hi) => range(sql, *prefix, lo, hi)?,
        Condition::Date {
            param,
            prefix,
            lo,
            hi,
        } if param == "date" => range(sql, *prefix, lo, hi)?,
        Condition::Token {
            param,
            system,
            code,
            not,
        } => term_in(sql, *not, param, code.as_deref(), system.as_deref()),
        Condition::Reference {
            param,
            target_type,
            id,
        } => term_in(sql, false, param, Some(id), target_type.as_deref()),
        Condition::Missing { param, missing, .. } => {
            if param == "date" {
                sql.push(if *missing { "1 = 0" } else { "1 = 1" });
            } else {
                sql.push(if *missing { "NOT (" } else { "(" });
                for (n, table) in ["audit_keys", "audit_tail"].into_iter().enumerate() {
                    sql.push(if n > 0 { " OR " } else { "" });
                    sql.push("EXISTS (SELECT 1 FROM audit_terms t JOIN ")
                        .push(table)
                        .push(" k ON k.tid = t.tid WHERE t.param = ")
                        .bind(param);
                    sql.push(" AND k.seq = a.seq)");
                }
                sql.push(")");
            }
        }
        Condition::Date { param, .. } => return Err(unsupported(&format!("the date {param}"))),
        Condition::Chain { param, .. } => {
            return Err(unsupported(&format!("chaining ({param}.…)")))
        }
        Condition::Has { .. } => return Err(unsupported("_has")),
        // The Patients the event is about: its compartment.
        Condition::Compartment(patient) => {
            sql.push("EXISTS (SELECT 1 FROM audit_people p JOIN audit_terms t ON t.tid = p.tid WHERE t.param = '@owner' AND t.value = ")
                .bind(patient);
            sql.push(" AND p.seq = a.seq)");
        }
        Condition::TokenText { param, .. } => return Err(unsupported(&format!("{param}:text"))),
        Condition::Str { param, .. }
        | Condition::Uri { param, .. }
        | Condition::Num { param, .. } => return Err(unsupported(param)),
    }
    Ok(())
}

/// `FROM audit_log a WHERE` the query's conditions and visibility.
fn from_where(
    sql: &mut Sql,
    conditions: &[Condition],
    v: Option<&Visibility>,
) -> Result<(), StoreError> {
    sql.push(" FROM audit_log a WHERE 1 = 1");
    for c in conditions {
        sql.push(" AND ");
        condition(sql, c)?;
    }
    if let Some(v) = v {
        sql.push(" AND ");
        visible(sql, v);
    }
    Ok(())
}

/// Whether a query's order is oldest first (events are in the order of
/// their sequence, which is that of `recorded`).
fn ascending(sort: &[(SortKey, bool)]) -> Result<bool, StoreError> {
    match sort.first() {
        None => Ok(false),
        Some((SortKey::Id | SortKey::LastUpdated, desc)) => Ok(!desc),
        Some((SortKey::Param { param, .. }, desc)) if param == "date" => Ok(!desc),
        Some((SortKey::Param { param, .. }, _)) => Err(unsupported(&format!("sorting by {param}"))),
    }
}

/// Whether any condition (at any depth) reaches AuditEvents, which the
/// resource index does not hold: a `_has:AuditEvent` or a chain through a
/// reference to them.
pub(super) fn reaches(c: &Condition) -> bool {
    match c {
        Condition::Any(l) | Condition::All(l) => l.iter().any(reaches),
        Condition::Chain {
            target_type, inner, ..
        } => target_type == AUDIT_EVENT || reaches(inner),
        Condition::Has {
            source_type, inner, ..
        } => source_type == AUDIT_EVENT || reaches(inner),
        _ => false,
    }
}

/// Keys in the tail after which it is merged into the index.
const MERGE_AT: u64 = 4_096;

/// The tail's state: keys written since the last merge, and whether a
/// merge is running.
#[derive(Debug, Default)]
pub(super) struct Tail {
    rows: std::sync::atomic::AtomicU64,
    merging: std::sync::atomic::AtomicBool,
}

/// The most parameters one request of [`SqlStore::append_audit_at_once`]
/// binds (SQLite allows 32,766).
const AT_ONCE_PARAMS: usize = 30_000;

impl SqlStore {
    /// Counts keys committed to the tail; past [`MERGE_AT`], merges it in
    /// the background (one merge at a time; a failed one is logged and
    /// tried again at the next count: the keys stay searchable in the tail
    /// meanwhile).
    pub(super) fn tail_written(&self, rows: u64) {
        use std::sync::atomic::Ordering;
        if rows == 0 || self.tail.rows.fetch_add(rows, Ordering::Relaxed) + rows < MERGE_AT {
            return;
        }
        if self.tail.merging.swap(true, Ordering::AcqRel) {
            return;
        }
        self.tail.rows.store(0, Ordering::Relaxed);
        let store = self.clone();
        tokio::spawn(async move {
            if let Err(e) = store.merge_audit_tail().await {
                tracing::warn!(error = %e, "merging the audit log's newest keys into its index");
            }
            store.tail.merging.store(false, Ordering::Release);
        });
    }

    /// Moves the tail's keys into the index, in one short transaction
    /// (in the index's order, so that each page it touches takes many).
    ///
    /// # Errors
    /// When the database fails (nothing moves then).
    pub(super) async fn merge_audit_tail(&self) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let last: Option<i64> = sqlx::query("SELECT MAX(seq) AS m FROM audit_tail")
            .fetch_one(&mut *tx)
            .await?
            .try_get("m")?;
        let Some(last) = last else {
            return Ok(());
        };
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO audit_keys (tid, seq) SELECT tid, seq FROM audit_tail WHERE seq <= ")
            .bind(last)
            .push(" ORDER BY tid, seq ON CONFLICT DO NOTHING");
        sql.query().execute(&mut *tx).await?;
        let mut sql = Sql::new(self.dialect);
        sql.push("DELETE FROM audit_tail WHERE seq <= ").bind(last);
        sql.query().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// SQLite: appends a batch of events in one request to the database,
    /// its transaction included (`BEGIN IMMEDIATE; INSERT …; COMMIT`),
    /// numbering them from `sqlite_sequence` inside the statements. Each
    /// request costs a hand-off to the connection's thread, more than the
    /// inserts themselves, and a batch takes five through [`Appender`].
    /// `false` (nothing written) when the batch needs that general path: a
    /// term not yet known, or more parameters than one request binds.
    pub(super) async fn append_audit_at_once(
        &self,
        events: &[NewVersion],
    ) -> Result<bool, StoreError> {
        let mut rows = Vec::with_capacity(events.len());
        let (mut keys, mut people) = (Vec::new(), Vec::new());
        for (n, e) in events.iter().enumerate() {
            let n = n as i64 + 1;
            let (k, p) = terms_of(e);
            for (terms, out) in [(&k, &mut keys), (&p, &mut people)] {
                let mut ids: Vec<i64> = Vec::with_capacity(terms.len());
                for t in terms {
                    let Some(id) = self.terms.get(t) else {
                        return Ok(false);
                    };
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                out.extend(ids.into_iter().map(|id| (id, n)));
            }
            let (at, body, _) = encode_event(e.resource.clone());
            rows.push((n, at, body));
        }
        if rows.is_empty() {
            return Ok(true);
        }
        if 3 * rows.len() + 2 * (keys.len() + people.len()) > AT_ONCE_PARAMS {
            return Ok(false);
        }
        let mut sql = Sql::new(self.dialect);
        sql.push("BEGIN IMMEDIATE;\n");
        sql.push("INSERT INTO audit_log (seq, at, body) SELECT b.s + v.column1, v.column2, v.column3 FROM (SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0) AS s) b, (VALUES ");
        for (i, (n, at, body)) in rows.into_iter().enumerate() {
            sql.push(if i > 0 { ", (" } else { "(" });
            sql.bind(n).push(", ").bind(at).push(", ");
            sql.bind(Param::Blob(body)).push(")");
        }
        sql.push(") v;\n");
        let batch = events.len() as i64;
        for (table, pairs) in [("audit_tail", &keys), ("audit_people", &people)] {
            if pairs.is_empty() {
                continue;
            }
            // The numbers just given end at `sqlite_sequence`.
            sql.push("INSERT INTO ").push(table);
            sql.push(" (tid, seq) SELECT v.column1, b.s + v.column2 FROM (SELECT seq - ")
                .bind(batch)
                .push(" AS s FROM sqlite_sequence WHERE name = 'audit_log') b, (VALUES ");
            for (i, (tid, n)) in pairs.iter().enumerate() {
                sql.push(if i > 0 { ", (" } else { "(" });
                sql.bind(*tid).push(", ").bind(*n).push(")");
            }
            sql.push(") v;\n");
        }
        sql.push("COMMIT;");
        // Not kept prepared: its text varies with the batch, and would push
        // the statements that repeat out of the connection's cache.
        let _turn = self.writers_turn().await;
        let mut conn = self.write_pool.acquire().await?;
        if let Err(e) = sql.query().persistent(false).execute(&mut *conn).await {
            // Whatever ran of it may have left its transaction open, or
            // ended by the database: the connection is closed, which
            // undoes it either way, and the next writer gets a fresh one.
            super::txn::close(conn).await;
            return Err(e.into());
        }
        drop(conn);
        drop(_turn);
        self.tail_written(keys.len() as u64);
        Ok(true)
    }

    /// The AuditEvent `id`.
    pub(super) async fn read_audit(
        &self,
        id: &str,
        v: Option<&Visibility>,
    ) -> Result<Stored, StoreError> {
        let name = format!("{AUDIT_EVENT}/{id}");
        let Some(seq) = seq_of(id) else {
            return Err(StoreError::NotFound(name));
        };
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT ").push(columns(self.dialect));
        from_where(&mut sql, &[Condition::Id(vec![seq.to_string()])], v)?;
        let row = sql
            .query()
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound(name))?;
        stored(&row)
    }

    /// A search of the log.
    pub(super) async fn search_audit(&self, q: &Query) -> Result<Page, StoreError> {
        let ascending = ascending(&q.sort)?;
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT ").push(columns(self.dialect));
        from_where(&mut sql, &q.conditions, q.visibility.as_ref())?;
        sql.push(if ascending {
            " ORDER BY a.seq"
        } else {
            " ORDER BY a.seq DESC"
        });
        sql.push(" LIMIT ").bind(q.count.max(0));
        sql.push(" OFFSET ").bind(q.offset.max(0));
        let items = sql
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(stored)
            .collect::<Result<Vec<_>, _>>()?;
        let shown = items.len() as i64;
        let total = match q.total {
            Total::None => None,
            _ if shown < q.count && shown > 0 => Some(q.offset + shown),
            _ if q.offset == 0 && shown == 0 && q.count > 0 => Some(0),
            counted => {
                let bound = counted.bound();
                let mut sql = Sql::new(self.dialect);
                sql.push("SELECT COUNT(*) AS n FROM (SELECT 1 AS one");
                from_where(&mut sql, &q.conditions, q.visibility.as_ref())?;
                if let Some(b) = bound {
                    sql.push(" LIMIT ").bind(b + 1);
                }
                sql.push(") c");
                let n: i64 = sql.query().fetch_one(&self.pool).await?.try_get("n")?;
                Some(n).filter(|n| bound.is_none_or(|b| *n <= b))
            }
        };
        Ok(Page { items, total })
    }

    /// The history of AuditEvents (each has one version).
    pub(super) async fn history_audit(
        &self,
        q: &HistoryQuery,
    ) -> Result<(Vec<Stored>, i64), StoreError> {
        let mut conditions = Vec::new();
        if let Some(id) = &q.id {
            conditions.push(Condition::Id(vec![id.clone()]));
        }
        if let Some(since) = &q.since {
            conditions.push(Condition::LastUpdated(
                Prefix::Ge,
                since.clone(),
                since.clone(),
            ));
        }
        let page = self
            .search_audit(&Query {
                resource_type: Some(AUDIT_EVENT.into()),
                conditions,
                count: q.count,
                offset: q.offset,
                total: Total::Accurate,
                visibility: q.visibility.clone(),
                ..Query::default()
            })
            .await?;
        Ok((page.items, page.total.unwrap_or(0)))
    }

    /// Removes the AuditEvents recorded before `before` (milliseconds since
    /// the epoch), oldest first, with their keys; returns how many. Each
    /// batch is one short transaction, so that requests' own audit writes
    /// wait a moment at most.
    ///
    /// # Errors
    /// When the database fails.
    pub(super) async fn purge_audit_before(&self, before: i64) -> Result<u64, StoreError> {
        const BATCH: i64 = 1_000;
        let mut removed = 0;
        loop {
            let n = self.purge_audit_batch(before, BATCH).await?;
            removed += n;
            if n < BATCH as u64 {
                break;
            }
            tokio::task::yield_now().await;
        }
        if removed > 0 {
            self.sweep_audit_keys().await?;
        }
        Ok(removed)
    }

    /// Removes up to `batch` of the oldest events recorded before `before`
    /// and the records of whom they are about (their keys go in
    /// [`SqlStore::sweep_audit_keys`]).
    async fn purge_audit_batch(&self, before: i64, batch: i64) -> Result<u64, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT seq FROM audit_log WHERE at < ")
            .bind(before)
            .push(" ORDER BY seq LIMIT ")
            .bind(batch.max(1));
        let seqs: Vec<i64> = sql
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("seq"))
            .collect::<Result<_, _>>()?;
        if seqs.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write_tx().await?;
        let (first, last) = (seqs[0], seqs[seqs.len() - 1]);
        for table in ["audit_log", "audit_people", "audit_tail"] {
            let mut sql = Sql::new(self.dialect);
            sql.push("DELETE FROM ")
                .push(table)
                .push(" WHERE seq >= ")
                .bind(first)
                .push(" AND seq <= ")
                .bind(last)
                .push(" AND seq IN (");
            for (n, s) in seqs.iter().enumerate() {
                if n > 0 {
                    sql.push(", ");
                }
                sql.bind(*s);
            }
            sql.push(")");
            sql.query().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(seqs.len() as u64)
    }

    /// Removes the keys of events older than the oldest left: for each
    /// term one range of its keys (the key table is ordered by term, then
    /// event), a few thousand terms per short transaction.
    async fn sweep_audit_keys(&self) -> Result<(), StoreError> {
        const TERMS: i64 = 2_000;
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT MIN(seq) AS m FROM audit_log");
        let oldest: Option<i64> = sql.query().fetch_one(&self.pool).await?.try_get("m")?;
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT MAX(tid) AS t FROM audit_terms");
        let last_term: Option<i64> = sql.query().fetch_one(&self.pool).await?.try_get("t")?;
        let Some(last_term) = last_term else {
            return Ok(());
        };
        // With no event left, every key goes.
        let below = oldest.unwrap_or(i64::MAX);
        let mut from = 0;
        while from <= last_term {
            let _turn = self.writers_turn().await;
            let mut sql = Sql::new(self.dialect);
            sql.push(
                "DELETE FROM audit_keys WHERE tid IN (SELECT tid FROM audit_terms WHERE tid >= ",
            )
            .bind(from)
            .push(" AND tid < ")
            .bind(from + TERMS)
            .push(") AND seq < ")
            .bind(below);
            sql.query().execute(&self.write_pool).await?;
            from += TERMS;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_reads_back_as_written_and_is_small() {
        // A read's AuditEvent as the server writes it.
        let event = r#"{"resourceType":"AuditEvent","type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest","display":"RESTful Operation"},"action":"R","entity":[{"what":{"reference":"Patient/129c6ac7-8d06-89de-ad63-0204a93e76c3"},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"1","display":"Person"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"1","display":"Patient"}},{"what":{"reference":"Patient/129c6ac7-8d06-89de-ad63-0204a93e76c3"},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"2","display":"System Object"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"4","display":"Domain Resource"}}],"outcome":"0","agent":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/extra-security-role-type","code":"datacollector","display":"data collector"}]},"who":{"identifier":{"system":"https://fhir.carer-fhir.uk/Id/client","value":"bench-reader"},"display":"bench-reader"},"altId":"bench-reader","name":"bench-reader","requestor":true,"role":[{"coding":[{"system":"https://fhir.carer-fhir.uk/CodeSystem/client-role","code":"gp-practice"}]}]},{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleClass","code":"PROV","display":"healthcare provider"}]},"who":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A99999"}},"requestor":false}],"source":{"observer":{"display":"carer-fhir"},"type":[{"system":"http://terminology.hl7.org/CodeSystem/security-source-type","code":"4","display":"Application Server"}]},"subtype":[{"system":"http://hl7.org/fhir/restful-interaction","code":"read"}],"purposeOfEvent":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"CAREMGT"}]}]}"#;
        let body = encode(event);
        assert_eq!(body[0], ZSTD_V1);
        assert!(body.len() < 150, "{} bytes of {}", body.len(), event.len());
        assert_eq!(decode(&body).unwrap(), event);
        // Text the dictionary does not help with is kept as it is.
        let short = "{}";
        assert_eq!(decode(&encode(short)).unwrap(), short);
        assert!(decode(&[9, 1, 2]).is_err());
        assert!(decode(&[]).is_err());
    }

    #[test]
    fn ids_are_canonical_sequence_numbers() {
        assert_eq!(seq_of("42"), Some(42));
        for bad in ["042", "-1", "0", "x", "", "1e3"] {
            assert_eq!(seq_of(bad), None, "{bad}");
        }
    }

    /// An event about `patient`, read by `client`, at `recorded`.
    fn event(patient: &str, client: &str, recorded: &str) -> NewVersion {
        NewVersion {
            resource: serde_json::json!({"resourceType": "AuditEvent", "recorded": recorded, "action": "R",
                "entity": [{"what": {"reference": format!("Patient/{patient}")}}]}),
            index: vec![
                IndexEntry {
                    param: "patient".into(),
                    value: IndexValue::Reference {
                        target_type: "Patient".into(),
                        id: patient.into(),
                    },
                },
                IndexEntry {
                    param: "agent:identifier".into(),
                    value: IndexValue::Token {
                        system: Some("https://fhir.carer-fhir.uk/Id/client".into()),
                        code: Some(client.into()),
                        text: None,
                    },
                },
            ],
            compartments: vec![patient.into()],
            ..NewVersion::default()
        }
    }

    async fn count(store: &SqlStore, table: &str) -> i64 {
        sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&store.pool)
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    }

    /// Keys in the index and in its tail.
    async fn keys(store: &SqlStore) -> i64 {
        count(store, "audit_keys").await + count(store, "audit_tail").await
    }

    fn by(param: &str, system: Option<&str>, code: &str) -> Query {
        Query {
            resource_type: Some(AUDIT_EVENT.into()),
            conditions: vec![Condition::Token {
                param: param.into(),
                system: system.map(str::to_string),
                code: Some(code.into()),
                not: false,
            }],
            count: 10,
            total: Total::Accurate,
            ..Query::default()
        }
    }

    /// Written, found by its terms (a token with and without its system),
    /// read back whole; the retention removes the old events with their
    /// keys and keeps the rest searchable.
    async fn the_log_is_searchable_and_purged(store: SqlStore) {
        let mut w = store.begin().await.unwrap();
        for (p, c, at) in [
            ("p1", "gp", "2020-01-01T00:00:00.000Z"),
            ("p2", "gp", "2021-06-01T12:00:00.500Z"),
            ("p1", "council", "2026-01-01T00:00:00.000Z"),
        ] {
            w.create(AUDIT_EVENT, "ignored", event(p, c, at))
                .await
                .unwrap();
        }
        w.commit().await.unwrap();
        let gp = store
            .search(&by(
                "agent:identifier",
                Some("https://fhir.carer-fhir.uk/Id/client"),
                "gp",
            ))
            .await
            .unwrap();
        assert_eq!(gp.total, Some(2));
        let any_system = store
            .search(&by("agent:identifier", None, "gp"))
            .await
            .unwrap();
        assert_eq!(any_system.total, Some(2));
        let other_system = store
            .search(&by("agent:identifier", Some("x"), "gp"))
            .await
            .unwrap();
        assert_eq!(other_system.total, Some(0));
        let first = &gp.items[1];
        let read = store.read(AUDIT_EVENT, &first.id, None).await.unwrap();
        let body = read.resource().unwrap();
        assert_eq!(body["recorded"], "2020-01-01T00:00:00.000Z");
        assert_eq!(body["meta"]["lastUpdated"], "2020-01-01T00:00:00.000Z");
        assert_eq!(body["entity"][0]["what"]["reference"], "Patient/p1");
        assert_eq!(read.compartments, vec!["p1".to_string()]);
        assert_eq!(keys(&store).await, 6);
        // Moved from the tail into the index, found the same.
        store.merge_audit_tail().await.unwrap();
        assert_eq!(count(&store, "audit_tail").await, 0);
        assert_eq!(count(&store, "audit_keys").await, 6);
        assert_eq!(
            store
                .search(&by("agent:identifier", None, "gp"))
                .await
                .unwrap()
                .total,
            Some(2)
        );

        let removed = store.purge_audit("2022-01-01T00:00:00Z").await.unwrap();
        assert_eq!(removed, 2);
        assert_eq!(count(&store, "audit_log").await, 1);
        assert_eq!(count(&store, "audit_people").await, 1);
        assert_eq!(keys(&store).await, 2, "the old events' keys are gone");
        assert!(matches!(
            store.read(AUDIT_EVENT, &first.id, None).await,
            Err(StoreError::NotFound(_))
        ));
        let left = store
            .search(&by("agent:identifier", None, "council"))
            .await
            .unwrap();
        assert_eq!(left.total, Some(1));
        // New events never take a removed event's id.
        let mut w = store.begin().await.unwrap();
        let next = w
            .create(
                AUDIT_EVENT,
                "ignored",
                event("p3", "gp", "2026-02-01T00:00:00.000Z"),
            )
            .await
            .unwrap();
        w.commit().await.unwrap();
        assert!(seq_of(&next.id).unwrap() > seq_of(&left.items[0].id).unwrap());
        assert_eq!(store.purge_audit("2100-01-01T00:00:00Z").await.unwrap(), 2);
        assert_eq!(keys(&store).await, 0);
    }

    #[tokio::test]
    async fn the_log_is_searchable_and_purged_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("audit.sqlite").display());
        the_log_is_searchable_and_purged(SqlStore::connect(&url).await.unwrap()).await;
    }

    #[tokio::test]
    async fn the_log_is_searchable_and_purged_on_postgresql() {
        let Ok(url) = std::env::var("CARER_FHIR_TEST_POSTGRES") else {
            eprintln!("skipped: set CARER_FHIR_TEST_POSTGRES (scripts/test does)");
            return;
        };
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query("DROP SCHEMA IF EXISTS unit_audit_log CASCADE")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("CREATE SCHEMA unit_audit_log")
            .execute(&pool)
            .await
            .unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}options=-c%20search_path%3Dunit_audit_log");
        the_log_is_searchable_and_purged(SqlStore::connect(&url).await.unwrap()).await;
    }

    /// A schema 3 database (AuditEvents kept as resources, with their
    /// index rows) moves them into the log when a schema 4 server opens it.
    #[tokio::test]
    async fn a_schema_3_database_moves_its_audit_events_into_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("v3.sqlite").display());
        let store = SqlStore::connect(&url).await.unwrap();
        let content = r#"{"resourceType":"AuditEvent","id":"old-1","meta":{"versionId":"1","lastUpdated":"2026-01-02T03:04:05.006Z"},"recorded":"2026-01-02T03:04:05.006Z","action":"R"}"#;
        for stmt in [
            format!("INSERT INTO resources (rid, res_type, res_id, version, last_updated, deleted, content) VALUES (77, 'AuditEvent', 'old-1', 1, '2026-01-02T03:04:05.006Z', 0, '{content}')"),
            format!("INSERT INTO versions (rid, version, res_type, res_id, last_updated, method, content) VALUES (77, 1, 'AuditEvent', 'old-1', '2026-01-02T03:04:05.006Z', 'POST', '{content}')"),
            format!("INSERT INTO idx_ref (rid, pid, ref_type, ref_id) VALUES (77, {}, 'Patient', 'p9')", param_id(AUDIT_EVENT, "patient")),
            format!("INSERT INTO idx_token (rid, pid, system, code) VALUES (77, {}, 'https://fhir.carer-fhir.uk/Id/client', 'gp')", param_id(AUDIT_EVENT, "agent:identifier")),
            "INSERT INTO compartments (rid, patient_id) VALUES (77, 'p9')".into(),
            "UPDATE carer_fhir_schema SET version = 3".into(),
        ] {
            sqlx::query(&stmt).execute(&store.pool).await.unwrap();
        }
        drop(store);
        let store = SqlStore::connect(&url).await.unwrap();
        assert_eq!(count(&store, "resources").await, 0);
        assert_eq!(count(&store, "versions").await, 0);
        assert_eq!(count(&store, "idx_ref").await, 0);
        let found = store
            .search(&by("agent:identifier", None, "gp"))
            .await
            .unwrap();
        assert_eq!(found.total, Some(1));
        let moved = found.items[0].resource().unwrap();
        assert_eq!(moved["recorded"], "2026-01-02T03:04:05.006Z");
        assert_eq!(found.items[0].compartments, vec!["p9".to_string()]);
        let mut q = by("agent:identifier", None, "gp");
        q.conditions = vec![Condition::Reference {
            param: "patient".into(),
            target_type: None,
            id: "p9".into(),
        }];
        assert_eq!(store.search(&q).await.unwrap().total, Some(1));
        let version: i64 = sqlx::query("SELECT version FROM carer_fhir_schema")
            .fetch_one(&store.pool)
            .await
            .unwrap()
            .try_get("version")
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn recorded_round_trips_through_milliseconds() {
        let t = "2026-12-07T14:01:02.345Z";
        assert_eq!(instant(millis(t).unwrap()), t);
    }
}
