//! Storage: resources, their versions, and the search index, behind one
//! trait ([`Store`]) with SQLite (the embedded default) and PostgreSQL
//! behind it.
//!
//! Both stores are one SQL implementation ([`sql::SqlStore`]) over sqlx's
//! runtime-checked `Any` driver, differing only in a [`sql::Dialect`]
//! (placeholders, column types): the SQL they run is the same apart from
//! that, so they pass the same tests. Every write (resource row, version
//! row, index rows) happens in one database transaction.
//!
//! The store knows nothing of FHIR's HTTP rules: it is called only from
//! `crate::interaction` (and from `crate::import` through the interaction
//! layer's write pipeline), which decides what may be read or written.

pub mod sql;

use std::sync::Arc;

use serde_json::Value;

/// A stored version of a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The resource type.
    pub resource_type: String,
    /// The logical id.
    pub id: String,
    /// The version number (1, 2, …).
    pub version: i64,
    /// When this version was written (`instant`, UTC).
    pub last_updated: String,
    /// The resource's FHIR JSON as stored, with `id` and
    /// `meta.versionId`/`meta.lastUpdated` set; `None` for a deletion. Kept
    /// as text so that a read can answer it without parsing it again.
    pub content: Option<Arc<str>>,
    /// The HTTP method that made this version (`POST`, `PUT`, `DELETE`);
    /// empty where the store did not read it (current versions).
    pub method: String,
    /// The organisation (ODS code) that wrote this version, when known.
    pub source: Option<String>,
    /// The Patients whose data it is (filled by reads of current
    /// versions; empty elsewhere).
    pub compartments: Vec<String>,
}

impl Stored {
    /// The resource as JSON; `None` for a deletion (or, never expected,
    /// stored text that is not JSON).
    pub fn resource(&self) -> Option<Value> {
        self.content
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
    }

    /// `Type/id`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.resource_type, self.id)
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such resource (or version).
    #[error("{0} is not known")]
    NotFound(String),
    /// The resource was deleted.
    #[error("{resource} was deleted (version {version})")]
    Gone {
        /// `Type/id`.
        resource: String,
        /// The deletion's version.
        version: i64,
    },
    /// The version given in `If-Match` is not the current one.
    #[error("{resource} is at version {current}, not {expected}")]
    VersionConflict {
        /// `Type/id`.
        resource: String,
        /// The current version.
        current: i64,
        /// The version the client expected.
        expected: i64,
    },
    /// Two writers raced for the same resource; the other won.
    #[error("{0} was changed by another request at the same time; retry")]
    Conflict(String),
    /// The database is busy beyond the time a request may wait.
    #[error("the database is busy: {0}")]
    Busy(String),
    /// The database cannot be reached or cannot store data now (disk
    /// full, I/O error, file read-only, server down): the server's
    /// condition, not the request's; nothing was written.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(String),
    /// A search this store cannot answer (a parameter or modifier on a
    /// type kept outside the resource index, such as AuditEvent).
    #[error("{0}")]
    Unsupported(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let text = e.to_string();
        let kind = match &e {
            // PostgreSQL ending the session (FATAL) or the whole server
            // (PANIC, as when it cannot write its WAL) is an outage,
            // whatever the SQLSTATE.
            sqlx::Error::Database(db)
                if db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some_and(|pg| {
                        matches!(
                            pg.severity(),
                            sqlx::postgres::PgSeverity::Panic | sqlx::postgres::PgSeverity::Fatal
                        )
                    }) =>
            {
                Some(Outage::Down)
            }
            sqlx::Error::Database(db) => {
                let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
                db.code().and_then(|c| Outage::of_code(&c, sqlite))
            }
            // No connection free within the pool's wait: load, or a
            // server that refuses connections (sqlx retries until then).
            sqlx::Error::PoolTimedOut => Some(Outage::Busy),
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Some(Outage::Down),
            _ => None,
        };
        match kind {
            Some(Outage::Busy) => StoreError::Busy(text),
            Some(Outage::Down) => StoreError::Unavailable(text),
            None if text.contains("database is locked") => StoreError::Busy(text),
            None => StoreError::Database(text),
        }
    }
}

/// Database errors that are the storage's condition, not a fault in a
/// request or in this server.
enum Outage {
    /// Contention that passes: SQLite's lock held by another process
    /// beyond the busy timeout, PostgreSQL's serialization failures and
    /// deadlocks.
    Busy,
    /// The storage cannot be reached or cannot write.
    Down,
}

impl Outage {
    /// The kind of a database's error code: SQLite's (extended) result
    /// code as a number (`sqlite`), else PostgreSQL's SQLSTATE (which may
    /// be all digits too: `40001`).
    fn of_code(code: &str, sqlite: bool) -> Option<Outage> {
        if sqlite {
            let n = code.parse::<i64>().ok()?;
            // The primary code is the low byte.
            return match n & 0xff {
                5 | 6 => Some(Outage::Busy),                     // BUSY, LOCKED
                7 | 8 | 10 | 13 | 14 | 15 => Some(Outage::Down), // NOMEM, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL
                _ => None,
            };
        }
        match code {
            "40001" | "40P01" | "55P03" => Some(Outage::Busy),
            // Connection exceptions, insufficient resources (disk full),
            // operator intervention (shutting down, not yet accepting),
            // system errors (I/O). And 42501: this server's own SQL never
            // asks for what its role may not do, and PostgreSQL reports a
            // data file it cannot write (a read-only disk) so.
            "42501" => Some(Outage::Down),
            _ if ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c)) => Some(Outage::Down),
            _ => None,
        }
    }
}

/// One row of the search index: a value a search parameter found in a
/// resource.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    /// The search parameter's code (`name`, `subject`, `carer-patient`).
    pub param: String,
    /// The value, by the parameter's type.
    pub value: IndexValue,
}

/// A value in the search index; each kind has its own table.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexValue {
    /// A token: system, code, and display text (normalised) for `:text`.
    Token {
        /// The system, when the value has one.
        system: Option<String>,
        /// The code (or identifier value).
        code: Option<String>,
        /// Display text, normalised.
        text: Option<String>,
    },
    /// A string: normalised for the default and `:contains` searches, and
    /// exact for `:exact`.
    Str {
        /// Lower case without accents.
        normalised: String,
        /// As written.
        exact: String,
    },
    /// A URI (and canonical references, by URL and by URL|version).
    Uri(String),
    /// A number or quantity: the value's range, and the quantity's unit.
    Number {
        /// Low end.
        lo: f64,
        /// High end.
        hi: f64,
        /// Quantity system.
        system: Option<String>,
        /// Quantity unit code.
        code: Option<String>,
    },
    /// A date: the instants the value covers (UTC, sortable text).
    Date {
        /// First instant.
        lo: String,
        /// Last instant.
        hi: String,
    },
    /// A reference to a resource by type and id.
    Reference {
        /// The target type.
        target_type: String,
        /// The target id.
        id: String,
    },
}

/// The index tables, one per kind of [`IndexValue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Tokens.
    Token,
    /// Strings.
    Str,
    /// URIs.
    Uri,
    /// Numbers and quantities.
    Number,
    /// Dates.
    Date,
    /// References.
    Reference,
}

impl IndexValue {
    /// The table this value lives in.
    pub fn table(&self) -> Table {
        match self {
            IndexValue::Token { .. } => Table::Token,
            IndexValue::Str { .. } => Table::Str,
            IndexValue::Uri(_) => Table::Uri,
            IndexValue::Number { .. } => Table::Number,
            IndexValue::Date { .. } => Table::Date,
            IndexValue::Reference { .. } => Table::Reference,
        }
    }
}

/// A comparison prefix of a number, date or quantity search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// eq: the ranges overlap entirely (value range inside the parameter's).
    Eq,
    /// ne.
    Ne,
    /// gt.
    Gt,
    /// lt.
    Lt,
    /// ge.
    Ge,
    /// le.
    Le,
    /// sa: starts after.
    Sa,
    /// eb: ends before.
    Eb,
    /// ap: approximately (±10%).
    Ap,
}

/// A condition on resources, in terms of the index.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// In the compartment of `Patient/{id}`: the resource is that
    /// Patient's data, as the Patient CompartmentDefinition decides at
    /// each write ([compartment search](https://hl7.org/fhir/R4/compartmentdefinition.html#search)).
    Compartment(String),
    /// Any of these (comma-separated values).
    Any(Vec<Condition>),
    /// All of these (a scope's restriction).
    All(Vec<Condition>),
    /// The logical id is one of these.
    Id(Vec<String>),
    /// `_lastUpdated`.
    LastUpdated(Prefix, String, String),
    /// A token: `system` None = any system, Some("") = no system.
    Token {
        /// Parameter code.
        param: String,
        /// The system, if given.
        system: Option<String>,
        /// The code, if given.
        code: Option<String>,
        /// `:not`.
        not: bool,
    },
    /// Token `:text`.
    TokenText {
        /// Parameter code.
        param: String,
        /// Normalised text.
        text: String,
    },
    /// A string: normalised prefix, `:exact` or `:contains`.
    Str {
        /// Parameter code.
        param: String,
        /// The value (normalised unless exact).
        value: String,
        /// How to match.
        mode: StrMode,
    },
    /// A URI, matched exactly (or `:below` as a prefix).
    Uri {
        /// Parameter code.
        param: String,
        /// The value.
        value: String,
        /// `:below`.
        below: bool,
    },
    /// A number or quantity.
    Num {
        /// Parameter code.
        param: String,
        /// The comparison.
        prefix: Prefix,
        /// The low and high ends of the parameter value's range.
        lo: f64,
        /// High end.
        hi: f64,
        /// Quantity system and code, if given.
        system: Option<String>,
        /// Quantity code.
        code: Option<String>,
    },
    /// A date.
    Date {
        /// Parameter code.
        param: String,
        /// The comparison.
        prefix: Prefix,
        /// Low instant of the value's range.
        lo: String,
        /// High instant.
        hi: String,
    },
    /// A reference to `type/id` (type None: any type).
    Reference {
        /// Parameter code.
        param: String,
        /// Target type, if known.
        target_type: Option<String>,
        /// Target id.
        id: String,
    },
    /// A reference whose target matches a condition (chaining):
    /// `subject:Patient.name=x`.
    Chain {
        /// The reference parameter.
        param: String,
        /// The target type.
        target_type: String,
        /// The condition on the target.
        inner: Box<Condition>,
    },
    /// Reverse chaining `_has:Type:param:cond`: some `Type` resource whose
    /// `param` references this one matches `inner`.
    Has {
        /// The referring type.
        source_type: String,
        /// Its reference parameter.
        param: String,
        /// The condition on it.
        inner: Box<Condition>,
    },
    /// `:missing=true|false`.
    Missing {
        /// Parameter code.
        param: String,
        /// The tables the parameter's values live in.
        tables: Vec<Table>,
        /// True: the parameter has no value.
        missing: bool,
    },
}

/// How a string search matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrMode {
    /// Default: starts with, case- and accent-insensitive.
    Prefix,
    /// `:exact`.
    Exact,
    /// `:contains`.
    Contains,
}

/// A sort key of a search.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    /// `_id`.
    Id,
    /// `_lastUpdated`.
    LastUpdated,
    /// A search parameter, sorted by its least (ascending) or greatest
    /// (descending) value in `table`.
    Param {
        /// Parameter code.
        param: String,
        /// Where its values are.
        table: Table,
    },
}

/// Whether a search counts its matches, and how far.
///
/// A count costs as much as the matches it counts: at a million resources
/// a broad date range matches tens of thousands, and counting them costs
/// many times the page. So when the client does not ask for an exact
/// total, the store counts up to a bound ([`COUNT_UP_TO`], unless the
/// server was started with another `--count-up-to`): the total is
/// exact when there are no more, and left out of the Bundle when there are
/// (FHIR lets a server choose the total when `_total` is absent; HAPI's
/// `countSearchResultsUpTo` is the same policy). Paging still works without
/// it: a full page has a `next` link.
///
/// ```
/// use fhir_server::store::{Total, COUNT_UP_TO};
///
/// assert_eq!(Total::default(), Total::UpTo(COUNT_UP_TO));
/// assert_eq!(Total::UpTo(10).bound(), Some(10));
/// assert_eq!(Total::Accurate.bound(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// Count every match (`_total=accurate` or `estimate`, `_summary=count`).
    Accurate,
    /// Count at most this many matches; no total beyond (the default).
    UpTo(i64),
    /// Do not count (`_total=none`).
    None,
}

/// How many matches a search counts when `_total` is absent (see [`Total`]).
pub const COUNT_UP_TO: i64 = 10_000;

impl Default for Total {
    fn default() -> Self {
        Total::UpTo(COUNT_UP_TO)
    }
}

impl Total {
    /// The most matches a count may read (None: no bound).
    pub fn bound(self) -> Option<i64> {
        match self {
            Total::UpTo(n) => Some(n),
            Total::Accurate | Total::None => None,
        }
    }
}

/// A search for current resources.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// The resource type (None: all types, for system search).
    pub resource_type: Option<String>,
    /// With no `resource_type`: the types searched (`_type`; empty: all).
    pub types: Vec<String>,
    /// All must hold.
    pub conditions: Vec<Condition>,
    /// Sort keys and whether each is descending.
    pub sort: Vec<(SortKey, bool)>,
    /// Page size.
    pub count: i64,
    /// Rows to skip.
    pub offset: i64,
    /// Whether to count the matches.
    pub total: Total,
    /// Whose eyes the search is for (None: every row).
    pub visibility: Option<Visibility>,
}

/// A page of search results.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The resources of the page.
    pub items: Vec<Stored>,
    /// How many match in all, when counted.
    pub total: Option<i64>,
}

/// Which versions a history lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryQuery {
    /// One type (None: every type).
    pub resource_type: Option<String>,
    /// One resource of that type.
    pub id: Option<String>,
    /// Only versions written at or after this instant.
    pub since: Option<String>,
    /// Page size.
    pub count: i64,
    /// Versions to skip.
    pub offset: i64,
    /// Whose eyes the history is for (None: every version).
    pub visibility: Option<Visibility>,
}

/// A new version to write: the resource, its index entries, the
/// organisation writing it, and the access facts derived from it.
#[derive(Debug, Clone, Default)]
pub struct NewVersion {
    /// The resource (its `id` and `meta` versioning are set by the store).
    pub resource: Value,
    /// The values its search parameters find.
    pub index: Vec<IndexEntry>,
    /// The writing organisation's ODS code, when known.
    pub source: Option<String>,
    /// The ids of the Patients whose data this is (their compartments).
    /// Kept after a deletion, so that the history stays theirs.
    pub compartments: Vec<String>,
    /// What this resource, when it is a consent, allows or refuses.
    pub grants: Vec<Grant>,
}

/// One rule a consent makes about a person's data (who, for what purpose,
/// which type, when; permit or deny), as the consent interpreter gives it
/// and the store keeps it in `consent_grants`.
pub type Grant = fhir_core::caf::sharing::SharingRule;

/// Whose eyes a read or search is for: rows are kept only when they are
/// visible to `organisation` under the rule of CAF consent (see
/// `interaction::access`): it is their source, or every person whose data
/// they are has an active consent permitting that organisation, for one
/// of `purposes`, for their type, at `now`, and no refusal matches.
/// AuditEvents are visible to `admin` callers and to the organisation that
/// holds the person's record only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visibility {
    /// The caller's organisation (ODS code).
    pub organisation: String,
    /// The caller's purposes of use.
    pub purposes: Vec<String>,
    /// The instant consents are judged at.
    pub now: String,
    /// Whether the caller administers the server (sees every AuditEvent).
    pub admin: bool,
    /// The types whose resources are nobody's data, visible to every
    /// caller (the access policy's definitional types).
    pub readable_by_all: &'static [&'static str],
}

/// A write within a transaction.
#[async_trait::async_trait]
pub trait Writer: Send {
    /// Appends an AuditEvent to the audit log in this transaction (the
    /// store numbers it; kept or lost with the transaction's writes).
    ///
    /// # Errors
    /// A database failure.
    async fn audit(&mut self, event: NewVersion) -> Result<(), StoreError>;
    /// Creates a resource with the given (new) id.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the id is taken.
    async fn create(
        &mut self,
        resource_type: &str,
        id: &str,
        new: NewVersion,
    ) -> Result<Stored, StoreError>;
    /// Replaces a resource, or creates it with this id when it does not
    /// exist (update as create); `if_match` is the version the client
    /// expects. Returns the new version and whether it was created.
    ///
    /// # Errors
    /// [`StoreError::VersionConflict`] when `if_match` is not the current
    /// version.
    async fn update(
        &mut self,
        resource_type: &str,
        id: &str,
        new: NewVersion,
        if_match: Option<i64>,
    ) -> Result<(Stored, bool), StoreError>;
    /// Deletes a resource; returns the deletion's version, or None when
    /// there was nothing to delete.
    async fn delete(
        &mut self,
        resource_type: &str,
        id: &str,
        source: Option<&str>,
    ) -> Result<Option<i64>, StoreError>;
    /// The current version (including a deletion).
    async fn current(
        &mut self,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<Stored>, StoreError>;
    /// Reads the current rows of many resources (`(type, id)`) ahead, in
    /// one query per type, so that the writes that follow need not read
    /// them one by one (a bulk load's). Changes no answer.
    ///
    /// # Errors
    /// A database failure.
    async fn prefetch(&mut self, keys: &[(String, String)]) -> Result<(), StoreError> {
        let _ = keys;
        Ok(())
    }
    /// Current resources matching a query, inside this transaction (for
    /// conditional operations, which must see the transaction's own
    /// writes and hold their answer until commit).
    async fn matching(&mut self, query: &Query) -> Result<Vec<Stored>, StoreError>;
    /// Registers (or re-registers) a subscription's outbox state, keeping
    /// its event count and delivery state when it exists.
    async fn put_subscription(&mut self, row: &SubscriptionRow) -> Result<(), StoreError>;
    /// Forgets a subscription and its events.
    async fn remove_subscription(&mut self, id: &str) -> Result<(), StoreError>;
    /// The subscriptions (not `off`) listening to any of `topics`.
    async fn subscriptions_for(
        &mut self,
        topics: &[String],
    ) -> Result<Vec<SubscriptionRow>, StoreError>;
    /// Raises an event for a subscription, in this transaction: its number.
    async fn add_event(
        &mut self,
        subscription: &str,
        topic: &str,
        focus: (&str, &str, i64),
        at: &str,
    ) -> Result<i64, StoreError>;
    /// Makes every write of this transaction permanent.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// The storage of a FHIR server (with its subscription outbox).
#[async_trait::async_trait]
pub trait Store: SubscriptionStore + Send + Sync {
    /// A transaction: writes are visible to others only after commit, and
    /// dropped without it they vanish.
    async fn begin(&self) -> Result<Box<dyn Writer>, StoreError>;
    /// The current version of a resource.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], or [`StoreError::Gone`] for a deletion.
    /// [`StoreError::NotFound`] too when `visibility` hides it: a hidden
    /// resource is answered as one that does not exist.
    async fn read(
        &self,
        resource_type: &str,
        id: &str,
        visibility: Option<&Visibility>,
    ) -> Result<Stored, StoreError>;
    /// The current versions of many resources (`(type, id)`); those not
    /// found, deleted or hidden are left out.
    async fn read_many(
        &self,
        keys: &[(String, String)],
        visibility: Option<&Visibility>,
    ) -> Result<Vec<Stored>, StoreError>;
    /// One version of a resource (not found when hidden).
    async fn vread(
        &self,
        resource_type: &str,
        id: &str,
        version: i64,
        visibility: Option<&Visibility>,
    ) -> Result<Stored, StoreError>;
    /// Versions, newest first: of one resource, of a type, or of all; and
    /// how many there are in all.
    async fn history(&self, query: &HistoryQuery) -> Result<(Vec<Stored>, i64), StoreError>;
    /// Current resources matching a query.
    async fn search(&self, query: &Query) -> Result<Page, StoreError>;
    /// Appends AuditEvents to the audit log in one transaction of their
    /// own (the accesses that are not writes; a write's AuditEvent is
    /// created in the write's transaction).
    ///
    /// # Errors
    /// When the database fails: none is kept then.
    async fn append_audit(&self, events: Vec<NewVersion>) -> Result<(), StoreError>;
    /// Removes the AuditEvents recorded before `before` (an instant),
    /// oldest first, in short transactions; returns how many it removed.
    ///
    /// # Errors
    /// When the database fails.
    async fn purge_audit(&self, before: &str) -> Result<u64, StoreError>;
    /// Current resources of `resource_type` whose reference parameter
    /// `param` (any, when None) points at one of `targets` (`(type, id)`),
    /// at most `limit` of them: for `_revinclude`.
    async fn referring(
        &self,
        resource_type: &str,
        param: Option<&str>,
        targets: &[(String, String)],
        limit: i64,
        visibility: Option<&Visibility>,
    ) -> Result<Vec<Stored>, StoreError>;
    /// A name for logs and the CapabilityStatement (`SQLite`, `PostgreSQL`).
    fn name(&self) -> &'static str;
}

/// A registered client as stored (see `auth::clients::Client`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// Client id.
    pub id: String,
    /// Name.
    pub name: String,
    /// ODS code.
    pub organisation: String,
    /// Role name.
    pub role: String,
    /// Scopes, space-separated.
    pub scopes: String,
    /// Purposes of use, space-separated.
    pub purposes: String,
    /// The JWKS, as JSON text.
    pub jwks: String,
}

/// What the authorisation server keeps: registered clients, the ids of
/// client assertions already used, and its own signing key.
#[async_trait::async_trait]
pub trait AuthStore: Send + Sync {
    /// Registers (or replaces) a client.
    async fn put_client(&self, client: &ClientRecord) -> Result<(), StoreError>;
    /// A registered client.
    async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError>;
    /// Every registered client, by id.
    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError>;
    /// Removes a client; whether there was one.
    async fn remove_client(&self, id: &str) -> Result<bool, StoreError>;
    /// Records that `client` used assertion id `jti`, valid until
    /// `expires` (seconds since the epoch); false when it was used before.
    /// Ids past their expiry are forgotten.
    async fn use_jti(&self, client: &str, jti: &str, expires: i64) -> Result<bool, StoreError>;
    /// The server's signing key (a PKCS#8 PEM and its JWK, as JSON text),
    /// made by `make` and kept the first time it is asked for; every
    /// process on the same database then signs with the same key.
    async fn signing_key(
        &self,
        make: &(dyn Fn() -> (String, String) + Send + Sync),
    ) -> Result<(String, String), StoreError>;
}

/// A subscription as the outbox keeps it: what it listens to, where it
/// delivers, for whom, and how delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscriptionRow {
    /// The Subscription's id.
    pub id: String,
    /// The topic's canonical URL, or `criteria:Type?query` for a classic
    /// R4 query subscription.
    pub topic: String,
    /// Filter criteria (`Type?param=value`), all of which the focus must match.
    pub filters: Vec<String>,
    /// `requested`, `active`, `error` or `off`.
    pub status: String,
    /// The organisation (ODS code) it notifies, whose consent rules apply.
    pub owner: Option<String>,
    /// That organisation's purposes of use.
    pub purposes: Vec<String>,
    /// The registered client that wrote it last (None when access control
    /// was off): its registration at each delivery decides which events
    /// may be sent (its organisation, role and scopes then).
    pub client_id: Option<String>,
    /// The rest-hook endpoint.
    pub endpoint: String,
    /// Channel headers (`Name: value`); never logged.
    pub headers: Vec<String>,
    /// `empty`, `id-only` or `full-resource`.
    pub content: String,
    /// Heartbeat period, seconds.
    pub heartbeat: Option<i64>,
    /// Delivery timeout, seconds.
    pub timeout: i64,
    /// Events in one notification at most.
    pub max_count: i64,
    /// Events raised so far (the last event number).
    pub events: i64,
    /// Delivery failures in a row.
    pub failures: i64,
    /// When delivery may be tried next (instant).
    pub next_attempt: String,
    /// When a notification was last sent (instant).
    pub last_sent: Option<String>,
    /// Why it is in error, when it is.
    pub error: Option<String>,
}

/// One event raised for a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// The subscription.
    pub subscription: String,
    /// Its number, from 1, in the order raised.
    pub number: i64,
    /// The topic.
    pub topic: String,
    /// The focus: type, id and version.
    pub focus: (String, String, i64),
    /// When it was raised.
    pub at: String,
    /// 0 waiting, 1 delivered, 2 withheld (the owner may not see the focus).
    pub state: i64,
}

/// The outbox of subscription notifications, outside transactions: what
/// the delivery worker and the `$status`/`$events` operations read.
#[async_trait::async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// One subscription's state.
    async fn subscription(&self, id: &str) -> Result<Option<SubscriptionRow>, StoreError>;
    /// Subscriptions with work due at `now` (a handshake, waiting events,
    /// a heartbeat), not leased by anyone.
    async fn due_subscriptions(&self, now: &str) -> Result<Vec<SubscriptionRow>, StoreError>;
    /// Takes the delivery lease of a subscription for `owner` until
    /// `until`; false when another holds it. Two processes on one database
    /// never deliver the same subscription at once.
    async fn lease(
        &self,
        id: &str,
        owner: &str,
        now: &str,
        until: &str,
    ) -> Result<bool, StoreError>;
    /// Events of a subscription numbered `since..=until`, in order (only
    /// those waiting when `waiting`), at most `limit`.
    async fn events(
        &self,
        id: &str,
        since: i64,
        until: Option<i64>,
        waiting: bool,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError>;
    /// Records a delivery attempt: the subscription's new state, the
    /// events now delivered or withheld, and the lease released.
    async fn finish_delivery(
        &self,
        row: &SubscriptionRow,
        delivered: &[i64],
        withheld: &[i64],
    ) -> Result<(), StoreError>;
}
