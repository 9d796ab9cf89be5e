//! Storage: resources, their versions, and the search index, behind one
//! trait ([`Store`]) with SQLite (the embedded default) and PostgreSQL
//! behind it.
//!
//! Both stores are one SQL implementation ([`sql::SqlStore`]) over sqlx's
//! runtime-checked `Any` driver, differing only in a [`sql::Dialect`]
//! (placeholders, column types): the SQL they run is the same apart from
//! that, so they pass the same tests. Every write (resource row, version
//! row, index rows) happens in one database transaction.

pub mod sql;

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
    /// The resource with `id` and `meta.versionId`/`meta.lastUpdated` set;
    /// `None` for a deletion.
    pub resource: Option<Value>,
    /// The HTTP method that made this version (`POST`, `PUT`, `DELETE`).
    pub method: String,
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
    /// The database failed.
    #[error("database: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// One row of the search index: a value a search parameter found in a
/// resource. Which fields are set depends on the parameter's type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexEntry {
    /// The search parameter's code (`name`, `subject`, `carer-patient`).
    pub param: String,
    /// Token system, quantity system.
    pub system: Option<String>,
    /// Token code, quantity unit code.
    pub code: Option<String>,
    /// String (normalised), URI, token text.
    pub text: Option<String>,
    /// The exact string, for `:exact`.
    pub exact: Option<String>,
    /// Number and quantity: the low and high ends of the value's range.
    pub num: Option<(f64, f64)>,
    /// Date: the low and high instants of the value's range (UTC, sortable).
    pub date: Option<(String, String)>,
    /// Reference: target type and id.
    pub reference: Option<(String, String)>,
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
    /// Any of these (comma-separated values).
    Any(Vec<Condition>),
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

/// A search for resources of one type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// The resource type (None: all types, for system search).
    pub resource_type: Option<String>,
    /// All must hold.
    pub conditions: Vec<Condition>,
    /// Sort keys: parameter code (or `_id`, `_lastUpdated`) and descending.
    pub sort: Vec<(String, bool)>,
    /// Page size.
    pub count: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// A write within a transaction.
#[async_trait::async_trait]
pub trait Writer: Send {
    /// Creates a resource with a new id (or the given one when `id` is Some
    /// and it does not exist: create-on-update).
    async fn create(
        &mut self,
        resource_type: &str,
        id: &str,
        resource: Value,
        index: Vec<IndexEntry>,
    ) -> Result<Stored, StoreError>;
    /// Replaces a resource; `if_match` is the version the client expects.
    /// Returns the new version and whether it was created.
    async fn update(
        &mut self,
        resource_type: &str,
        id: &str,
        resource: Value,
        index: Vec<IndexEntry>,
        if_match: Option<i64>,
    ) -> Result<(Stored, bool), StoreError>;
    /// Deletes a resource; returns the deletion's version, or None when
    /// there was nothing to delete.
    async fn delete(&mut self, resource_type: &str, id: &str) -> Result<Option<i64>, StoreError>;
    /// The current version (including a deletion).
    async fn current(
        &mut self,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<Stored>, StoreError>;
    /// The ids of resources matching a query (for conditional operations).
    async fn matching(&mut self, query: &Query) -> Result<Vec<Stored>, StoreError>;
    /// Makes every write of this transaction permanent.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// The storage of a FHIR server.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// A transaction: writes are visible to others only after commit, and
    /// dropped without it they vanish.
    async fn begin(&self) -> Result<Box<dyn Writer>, StoreError>;
    /// The current version of a resource.
    async fn read(&self, resource_type: &str, id: &str) -> Result<Stored, StoreError>;
    /// One version of a resource.
    async fn vread(
        &self,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> Result<Stored, StoreError>;
    /// Versions, newest first: of one resource, of a type, or of all.
    async fn history(
        &self,
        resource_type: Option<&str>,
        id: Option<&str>,
        since: Option<&str>,
        count: i64,
        offset: i64,
    ) -> Result<(Vec<Stored>, i64), StoreError>;
    /// Current resources matching a query, and how many match in all.
    async fn search(&self, query: &Query) -> Result<(Vec<Stored>, i64), StoreError>;
    /// Current resources of `resource_type` whose reference parameter
    /// `param` (any, when None) points at one of `targets` (`Type/id`):
    /// for `_revinclude`.
    async fn referring(
        &self,
        resource_type: &str,
        param: Option<&str>,
        targets: &[String],
    ) -> Result<Vec<Stored>, StoreError>;
    /// A name for logs and the CapabilityStatement (`SQLite`, `PostgreSQL`).
    fn name(&self) -> &'static str;
}
