//! The one write pipeline: **parse → validate → index → write**, used by
//! single requests, batch and transaction entries, and `carer-fhir import`.
//!
//! [`prepare`] checks a resource against base R4 and every profile it
//! claims and extracts its search-index entries: CPU work with no database
//! in sight, so it runs before any write lock is taken (on a blocking
//! thread: [`prepare_blocking`]). [`Tx`] is then the store transaction the
//! prepared resources are written in, recording each change; its
//! [`Tx::commit`] is where work that must happen with every write (an
//! audit record, a subscription event) joins the same transaction.

use serde_json::Value;

use std::sync::Arc;

use super::access::{consent, Clearance};
use super::hooks::Write;
use super::{blocking, AppState, Caller, Failure, FailureKind, Service};
use crate::store::{
    Condition, IndexEntry, NewVersion, Query, Stored, SubscriptionRow, Total, Visibility, Writer,
};

/// A resource ready to be written: valid, with its index entries.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Its type.
    pub resource_type: String,
    /// The resource.
    pub resource: Value,
    /// The values its search parameters find.
    pub index: Vec<IndexEntry>,
}

/// Validates a resource about to be written (as `rtype`) and extracts its
/// index entries.
///
/// # Errors
/// 400 when its type differs from `rtype`, 422 with the validator's errors
/// when it is invalid.
pub fn prepare(state: &AppState, rtype: &str, resource: Value) -> Result<Prepared, Failure> {
    let body_type = resource["resourceType"].as_str().unwrap_or("");
    if body_type != rtype {
        return Err(Failure::invalid(format!(
            "the body is a {body_type}, but the URL names {rtype}"
        )));
    }
    validate(state, &resource)?;
    consent::check(&resource)?;
    let index = state.search.index(&resource);
    Ok(Prepared {
        resource_type: rtype.to_string(),
        resource,
        index,
    })
}

/// [`prepare`] on a blocking thread.
///
/// # Errors
/// As [`prepare`].
pub async fn prepare_blocking(
    svc: &Service,
    rtype: String,
    resource: Value,
) -> Result<Prepared, Failure> {
    let state = svc.state.clone();
    blocking(move || prepare(&state, &rtype, resource)).await
}

/// [`prepare`] for many resources, spread over the machine's cores (one
/// blocking task per core, each taking every n-th job); the results come
/// back in the jobs' order, each with its key.
///
/// # Errors
/// Only an internal failure (a worker that panicked); each job's own
/// failure is its result.
pub async fn prepare_many<K: Send + 'static>(
    state: &std::sync::Arc<AppState>,
    jobs: Vec<(K, String, Value)>,
) -> Result<Vec<(K, Result<Prepared, Failure>)>, Failure> {
    let n = jobs.len();
    let workers = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(2)
        .clamp(1, n.max(1));
    let mut shares: Vec<Vec<(usize, K, String, Value)>> =
        (0..workers).map(|_| Vec::new()).collect();
    for (i, (key, rtype, resource)) in jobs.into_iter().enumerate() {
        shares[i % workers].push((i, key, rtype, resource));
    }
    let handles: Vec<_> = shares
        .into_iter()
        .map(|share| {
            let state = state.clone();
            tokio::task::spawn_blocking(move || {
                share
                    .into_iter()
                    .map(|(i, key, rtype, resource)| (i, key, prepare(&state, &rtype, resource)))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut out: Vec<(usize, K, Result<Prepared, Failure>)> = Vec::with_capacity(n);
    for h in handles {
        out.extend(h.await.map_err(Failure::internal)?);
    }
    out.sort_by_key(|(i, _, _)| *i);
    Ok(out.into_iter().map(|(_, k, r)| (k, r)).collect())
}

/// Checks a resource against base R4 and the profiles it claims.
///
/// # Errors
/// 422 with an OperationOutcome of its errors (warnings and information
/// left out: they do not stop a write).
pub fn validate(state: &AppState, resource: &Value) -> Result<(), Failure> {
    let outcome = state.validator.validate(resource);
    if !outcome.has_errors() {
        return Ok(());
    }
    let mut oo = outcome.to_operation_outcome();
    if let Some(issues) = oo["issue"].as_array_mut() {
        issues.retain(|i| i["severity"] == "error" || i["severity"] == "fatal");
    }
    Err(Failure::with_outcome(FailureKind::Unprocessable, oo))
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A new resource (or one created by update).
    Created,
    /// A new version of an existing resource.
    Updated,
    /// A deletion.
    Deleted,
}

/// One change made in a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// The resource type.
    pub resource_type: String,
    /// The id.
    pub id: String,
    /// The version written.
    pub version: i64,
    /// The Patients whose data it is.
    pub patients: Vec<String>,
    /// The resource as written (None for a deletion).
    pub content: Option<Arc<str>>,
    /// The version it replaced (None when it is new).
    pub previous: Option<Arc<str>>,
}

/// A store transaction for one caller's writes.
pub struct Tx {
    writer: Box<dyn Writer>,
    state: Arc<AppState>,
    source: Option<String>,
    /// The organisation a referral written here must name as its
    /// requester: the caller's, except for an admin client, which records
    /// referrals made by others (a school's, a ward's) and for which this
    /// is None, as with access control off.
    referrer: Option<String>,
    purposes: Vec<String>,
    /// The registered client writing (recorded with a Subscription it
    /// writes: its registration decides what is delivered).
    client_id: Option<String>,
    visibility: Option<Visibility>,
    /// Set while the server writes the consequences of a change the
    /// caller was allowed to make (a death ending caring everywhere, the
    /// flags and plans `$end-caring` closes): those records need only be
    /// visible to the caller, not written by it.
    consequence: bool,
    /// Events raised in the subscription outbox (the notifier is woken
    /// after commit when there are any).
    raised: usize,
    /// The caller's token scopes (None: access control off).
    scopes: Option<crate::auth::scopes::Scopes>,
    /// Whether the hooks' work before commit has run ([`Tx::settle`]).
    settled: bool,
    changes: Vec<Change>,
}

/// What a caller's write finds at an id. A record the caller may not see
/// is [`Found::Nothing`], exactly as one that does not exist, so that no
/// write can tell them apart (ARCHITECTURE.md, "one answer for hidden and
/// missing").
enum Found {
    /// No record the caller may see.
    Nothing,
    /// A deletion the caller may see (it is the record's source, or
    /// access control is off).
    Deleted,
    /// A current version the caller may see.
    Live(Stored),
}

impl Tx {
    /// Begins a transaction in `state`'s store for `caller`, who sees what
    /// `clearance` lets it see (conditional criteria match nothing else,
    /// and what it cannot see it cannot change).
    ///
    /// # Errors
    /// When the database cannot start one.
    pub async fn begin(
        state: &Arc<AppState>,
        caller: &Caller,
        clearance: &Clearance,
    ) -> Result<Tx, Failure> {
        Ok(Tx {
            writer: state.store.begin().await?,
            state: state.clone(),
            source: caller.organisation().map(str::to_string),
            referrer: caller
                .client()
                .filter(|c| c.role != crate::auth::clients::Role::Admin)
                .map(|c| c.organisation.clone()),
            purposes: caller
                .client()
                .map(|c| c.purposes.clone())
                .unwrap_or_default(),
            client_id: caller.client().map(|c| c.client_id.clone()),
            visibility: clearance.visibility.clone(),
            consequence: false,
            raised: 0,
            scopes: caller.client().map(|c| c.scopes.clone()),
            settled: false,
            changes: Vec::new(),
        })
    }

    /// A transaction for a bulk load into a database given directly
    /// (`carer-fhir import --database`): no access control, each resource
    /// recorded as written by `source` (the organisation whose data is
    /// loaded), or by no one.
    ///
    /// # Errors
    /// When the database cannot start one.
    pub async fn begin_import(state: &Arc<AppState>, source: Option<&str>) -> Result<Tx, Failure> {
        let mut tx = Tx::begin(state, &Caller::Open, &Clearance::open()).await?;
        tx.source = source.map(str::to_string);
        Ok(tx)
    }

    /// The version to write: the resource with its source, its owners
    /// (`access::compartment`: the Patients named, and the owners of the
    /// records it shares them with, read here) and, for a consent, what it
    /// grants.
    async fn new_version(&mut self, id: &str, p: Prepared) -> Result<NewVersion, Failure> {
        let owners = self
            .state
            .compartments
            .owners_of(&p.resource_type, id, &p.index, &p.resource);
        let mut compartments = owners.patients;
        for (t, i) in owners.through.iter().take(MAX_LINKED_OWNERS) {
            for patient in self.patients_of_stored(t, i).await? {
                if !compartments.contains(&patient) {
                    compartments.push(patient);
                }
            }
        }
        let ods = consent::organisations_named(self, &p.resource).await?;
        let grants = consent::grants_of(&p.resource, &ods);
        Ok(NewVersion {
            resource: p.resource,
            index: p.index,
            source: self.source.clone(),
            compartments,
            grants,
        })
    }

    /// The Patients whose data a stored resource is, from its current
    /// content (one level: a Provenance of a Provenance is not followed).
    async fn patients_of_stored(&mut self, rtype: &str, id: &str) -> Result<Vec<String>, Failure> {
        let Some(resource) = self
            .writer
            .current(rtype, id)
            .await?
            .and_then(|s| s.resource())
        else {
            return Ok(Vec::new());
        };
        let index = self.state.search.index(&resource);
        Ok(self
            .state
            .compartments
            .owners_of(rtype, id, &index, &resource)
            .patients)
    }

    /// Whether `current` exists but is hidden from the caller by consent.
    async fn hides(&mut self, current: Option<&Stored>) -> Result<bool, Failure> {
        let (Some(vis), Some(current)) = (self.visibility.clone(), current) else {
            return Ok(false);
        };
        if current.content.is_none() {
            return Ok(!self.is_source(current));
        }
        let q = Query {
            resource_type: Some(current.resource_type.clone()),
            conditions: vec![Condition::Id(vec![current.id.clone()])],
            count: 1,
            total: Total::None,
            visibility: Some(vis),
            ..Query::default()
        };
        Ok(self.writer.matching(&q).await?.is_empty())
    }

    /// Whether access control applies to this transaction's writes.
    fn enforced(&self) -> bool {
        self.visibility.is_some()
    }

    /// Whether the caller's organisation is the source of `s`.
    pub fn is_source(&self, s: &Stored) -> bool {
        self.source.is_some() && s.source == self.source
    }

    /// What the caller finds at `rtype/id` (see [`Found`]). A deletion is
    /// seen, through a write, by the record's source alone: only it may
    /// re-create the id.
    async fn found(&mut self, rtype: &str, id: &str) -> Result<Found, Failure> {
        let Some(current) = self.writer.current(rtype, id).await? else {
            return Ok(Found::Nothing);
        };
        if self.hides(Some(&current)).await? {
            return Ok(Found::Nothing);
        }
        Ok(if current.content.is_none() {
            Found::Deleted
        } else {
            Found::Live(current)
        })
    }

    /// Whether a resource exists but is hidden from the caller (a deletion
    /// counts as hidden from all but its source).
    ///
    /// # Errors
    /// A database failure.
    pub async fn hidden(&mut self, rtype: &str, id: &str) -> Result<bool, Failure> {
        let current = self.writer.current(rtype, id).await?;
        self.hides(current.as_ref()).await
    }

    /// Whether access rules bind this write: access control is on, and it
    /// is the caller's own change, not a consequence the server derives
    /// from one ([`Tx::update_as_consequence`]).
    pub fn bound(&self) -> bool {
        self.enforced() && !self.consequence
    }

    /// The organisation a referral written here must name as its
    /// requester (None: any, as for an admin or with access control off).
    pub fn referrer(&self) -> Option<&str> {
        self.referrer.as_deref()
    }

    /// The caller's token scopes (None: none apply).
    pub fn scopes(&self) -> Option<&crate::auth::scopes::Scopes> {
        self.scopes.as_ref()
    }

    /// The registered client writing, when known.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The writer's purposes of use.
    pub fn purposes(&self) -> &[String] {
        &self.purposes
    }

    /// Runs every hook's [`WriteHook::before_write`] on a version the
    /// caller is about to write.
    async fn before_write(
        &mut self,
        id: &str,
        p: &mut Prepared,
        previous: Option<&Value>,
    ) -> Result<(), Failure> {
        let hooks = self.state.hooks.clone();
        let rtype = p.resource_type.clone();
        let mut write = Write {
            resource_type: &rtype,
            id,
            resource: &mut p.resource,
            previous,
        };
        for hook in hooks.iter() {
            hook.before_write(self, &mut write).await?;
        }
        Ok(())
    }

    /// Rule W1: an existing record is changed or deleted by its source
    /// only, unless a hook permits the change (a referral's moves by its
    /// parties, a Consent by the holder of the person's record).
    async fn check_writer(&mut self, current: &Stored, new: Option<&Value>) -> Result<(), Failure> {
        if !self.bound() || self.is_source(current) {
            return Ok(());
        }
        if let Some(previous) = current.resource() {
            let hooks = self.state.hooks.clone();
            for hook in hooks.iter() {
                if hook.permits_non_source(self, &previous, new).await? {
                    return Ok(());
                }
            }
        }
        Err(Failure::new(
            FailureKind::Forbidden,
            "forbidden",
            format!(
                "{} was recorded by another organisation: only its source may change or delete it",
                current.key()
            ),
        ))
    }

    /// Registers (or re-registers) a subscription's outbox state in this
    /// transaction.
    ///
    /// # Errors
    /// A database failure.
    pub async fn put_subscription(&mut self, row: &SubscriptionRow) -> Result<(), Failure> {
        Ok(self.writer.put_subscription(row).await?)
    }

    /// Forgets a subscription and its events, in this transaction.
    ///
    /// # Errors
    /// A database failure.
    pub async fn remove_subscription(&mut self, id: &str) -> Result<(), Failure> {
        Ok(self.writer.remove_subscription(id).await?)
    }

    /// The subscriptions (not `off`) listening to any of `topics`.
    ///
    /// # Errors
    /// A database failure.
    pub async fn subscriptions_for(
        &mut self,
        topics: &[String],
    ) -> Result<Vec<SubscriptionRow>, Failure> {
        Ok(self.writer.subscriptions_for(topics).await?)
    }

    /// Raises an event in the subscription outbox, in this transaction
    /// (the notifier is woken after commit).
    ///
    /// # Errors
    /// A database failure.
    pub async fn add_event(
        &mut self,
        subscription: &str,
        topic: &str,
        focus: (&str, &str, i64),
        at: &str,
    ) -> Result<i64, Failure> {
        let n = self
            .writer
            .add_event(subscription, topic, focus, at)
            .await?;
        self.raised += 1;
        Ok(n)
    }

    /// Creates a prepared resource with a new id.
    ///
    /// # Errors
    /// 409 when the id is taken; 403 for a Consent the caller may not
    /// record (rule W2); a database failure.
    pub async fn create(&mut self, id: &str, mut p: Prepared) -> Result<Stored, Failure> {
        let rtype = p.resource_type.clone();
        self.before_write(id, &mut p, None).await?;
        let new = self.new_version(id, p).await?;
        let s = self.writer.create(&rtype, id, new).await?;
        self.record(ChangeKind::Created, &s, None);
        Ok(s)
    }

    /// Updates a prepared resource; `if_match` is the version the client
    /// expects. Returns the version written and whether it was created:
    /// with access control off an update may create (update as create);
    /// with it on, only the source of a deleted record re-creates it, and
    /// an id the caller finds nothing at is answered as one that does not
    /// exist and cannot be created by update (rules W3, O1).
    ///
    /// # Errors
    /// 412 when `If-Match` is not the current version (or names a version
    /// of nothing the caller may see); 405 for an update as create while
    /// access control is on; 403 when the caller is not the record's
    /// source (rule W1).
    pub async fn update(
        &mut self,
        id: &str,
        mut p: Prepared,
        if_match: Option<i64>,
    ) -> Result<(Stored, bool), Failure> {
        let rtype = p.resource_type.clone();
        let previous = match self.found(&rtype, id).await? {
            // Nor may a consequence reach what the caller cannot see.
            Found::Nothing if self.enforced() => {
                return Err(nothing_to_update(&rtype, id, if_match))
            }
            Found::Nothing | Found::Deleted => None,
            Found::Live(current) => {
                self.check_writer(&current, Some(&p.resource)).await?;
                Some(current)
            }
        };
        let before = previous.as_ref().and_then(Stored::resource);
        self.before_write(id, &mut p, before.as_ref()).await?;
        let new = self.new_version(id, p).await?;
        let (s, created) = self.writer.update(&rtype, id, new, if_match).await?;
        let kind = if created {
            ChangeKind::Created
        } else {
            ChangeKind::Updated
        };
        self.record(kind, &s, previous.and_then(|c| c.content));
        Ok((s, created))
    }

    /// [`Tx::update`] of a record the caller's change makes the server
    /// change too (a workflow's consequence): the record must be visible to
    /// the caller, but need not be its own.
    ///
    /// # Errors
    /// As [`Tx::update`].
    pub async fn update_as_consequence(
        &mut self,
        id: &str,
        p: Prepared,
        if_match: Option<i64>,
    ) -> Result<(Stored, bool), Failure> {
        let was = std::mem::replace(&mut self.consequence, true);
        let out = self.update(id, p, if_match).await;
        self.consequence = was;
        out
    }

    /// Runs the consequences a workflow derives from the caller's changes
    /// (see [`Tx::update_as_consequence`]) with `consequence` set.
    pub fn set_consequence(&mut self, on: bool) {
        self.consequence = on;
    }

    /// Writes a new version of a resource as the server itself (no
    /// registration of a Subscription, no access check): for state the
    /// server keeps in resources, such as a Subscription's status.
    ///
    /// # Errors
    /// A database failure.
    pub async fn server_update(&mut self, id: &str, p: Prepared) -> Result<Stored, Failure> {
        let rtype = p.resource_type.clone();
        let current = self.writer.current(&rtype, id).await?;
        let new = self.new_version(id, p).await?;
        let (s, _) = self.writer.update(&rtype, id, new, None).await?;
        self.record(ChangeKind::Updated, &s, current.and_then(|c| c.content));
        Ok(s)
    }

    /// Deletes a resource; the deletion's version, or None when there was
    /// nothing (the caller may see) to delete.
    ///
    /// # Errors
    /// 403 when the caller is not the record's source (rule W1); a
    /// database failure.
    pub async fn delete(&mut self, rtype: &str, id: &str) -> Result<Option<i64>, Failure> {
        let current = match self.found(rtype, id).await? {
            Found::Live(current) => current,
            // A record hidden from this caller is, to it, one that does not
            // exist: deleting it deletes nothing.
            Found::Nothing | Found::Deleted => return Ok(None),
        };
        self.check_writer(&current, None).await?;
        let version = self
            .writer
            .delete(rtype, id, self.source.as_deref())
            .await?;
        if let Some(v) = version {
            let hooks = self.state.hooks.clone();
            for hook in hooks.iter() {
                hook.after_delete(self, rtype, id).await?;
            }
            self.changes.push(Change {
                kind: ChangeKind::Deleted,
                resource_type: rtype.to_string(),
                id: id.to_string(),
                version: v,
                patients: Vec::new(),
                content: None,
                previous: current.content,
            });
        }
        Ok(version)
    }

    /// The current version of a resource as this transaction sees it
    /// (`content` None for a deletion).
    ///
    /// # Errors
    /// A database failure.
    pub async fn current(&mut self, rtype: &str, id: &str) -> Result<Option<Stored>, Failure> {
        Ok(self.writer.current(rtype, id).await?)
    }

    /// Reads the current versions of many resources ahead (a bulk load's
    /// or a transaction's), so that the writes that follow need not read
    /// them one by one.
    ///
    /// # Errors
    /// A database failure.
    pub async fn prefetch(&mut self, keys: &[(String, String)]) -> Result<(), Failure> {
        Ok(self.writer.prefetch(keys).await?)
    }

    /// Current resources matching `query`, inside this transaction.
    ///
    /// # Errors
    /// A database failure.
    pub async fn matching(&mut self, query: &Query) -> Result<Vec<Stored>, Failure> {
        let mut q = query.clone();
        if q.visibility.is_none() {
            q.visibility = self.visibility.clone();
        }
        Ok(self.writer.matching(&q).await?)
    }

    /// The state this transaction writes for.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The organisation writing, when known.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// The changes made so far.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    fn record(&mut self, kind: ChangeKind, s: &Stored, previous: Option<Arc<str>>) {
        self.changes.push(Change {
            kind,
            resource_type: s.resource_type.clone(),
            id: s.id.clone(),
            version: s.version,
            patients: s.compartments.clone(),
            content: s.content.clone(),
            previous,
        });
    }

    /// Writes an AuditEvent of this transaction's access in it: the access
    /// and its record are kept together or not at all.
    ///
    /// # Errors
    /// A database failure.
    pub async fn audit(&mut self, state: &AppState, event: Value) -> Result<(), Failure> {
        // The store numbers AuditEvents itself (the id given is not kept).
        let new = super::audit::new_version(state, event);
        self.writer.audit(new).await?;
        Ok(())
    }

    /// The Patients whose data this transaction's changes are.
    pub fn patients(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.changes {
            for p in &c.patients {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
        }
        out
    }

    /// Runs the hooks' work before commit (the consequences of a death,
    /// the subscription events) once, so that what they change is among
    /// [`Tx::changes`] before the transaction's audit is written.
    ///
    /// # Errors
    /// A hook's failure (then the transaction must not commit).
    pub async fn settle(&mut self) -> Result<(), Failure> {
        if self.settled {
            return Ok(());
        }
        self.settled = true;
        let hooks = self.state.hooks.clone();
        for hook in hooks.iter() {
            hook.before_commit(self).await?;
        }
        Ok(())
    }

    /// Makes every write permanent, and returns what changed. Work that
    /// must be written with every change belongs here, before the commit:
    /// the subscription events the changes raise (the outbox) are.
    ///
    /// # Errors
    /// A database failure (then nothing was written).
    pub async fn commit(mut self) -> Result<Vec<Change>, Failure> {
        self.settle().await?;
        self.writer.commit().await?;
        if self.raised > 0 {
            self.state.notify.notify_one();
        }
        Ok(self.changes)
    }
}

/// How many linked records (a Provenance's targets, …) a version's owners
/// are read from; beyond that a resource is owned by what was read (and
/// its source), never by less.
const MAX_LINKED_OWNERS: usize = 64;

/// The one answer for an update of an id the caller finds nothing at
/// (missing, hidden, or deleted by another): the same status and text in
/// every case, so that none can be told from another (rule O1).
fn nothing_to_update(rtype: &str, id: &str, if_match: Option<i64>) -> Failure {
    match if_match {
        Some(v) => Failure::new(
            FailureKind::PreconditionFailed,
            "conflict",
            format!("If-Match names version {v} of {rtype}/{id}, which is not its current version"),
        ),
        None => Failure::method_not_allowed(
            format!(
                "{rtype}/{id} does not exist, and this server does not create resources by update while access control is on: create with POST [base]/{rtype}"
            ),
            super::allowed(super::PathShape::Instance),
        ),
    }
}
