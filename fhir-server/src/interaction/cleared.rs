//! The one door for modules: a [`Reader`] that applies a caller's whole
//! clearance to every read an operation, a workflow or the subscription
//! notifier makes (writes go through the write pipeline's
//! [`Tx`](super::pipeline::Tx), which applies the same clearance).
//!
//! A reader holds what the access policy decided for one caller: the
//! visibility consent and ownership give it (`store::Visibility`, `None`
//! with access control off) and the SMART scopes of its token. Every read
//! is cut by both: a type the scopes do not let it read is absent; under
//! a restricted scope (`system/Observation.rs?category=…`) only the
//! matching resources are there; what the visibility hides does not exist.
//! No module outside `interaction` holds the store for resources: this is
//! how the next capabilities (bulk export, extracts, the carers' web app)
//! read, so that none can leak more than a search would.
//!
//! ```
//! use fhir_server::interaction::cleared::Reach;
//! assert!(Reach::Nothing.is_nothing());
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::auth::scopes::{Allowed, Perms, Scopes};
use crate::store::{Condition, Query, StoreError, Stored, Total, Visibility};

use super::access::Clearance;
use super::{AppState, Caller, Failure};

/// What a reader's scopes let it see of a resource type (SMART `read`).
#[derive(Debug, Clone, PartialEq)]
pub enum Reach {
    /// Every resource of the type (that the visibility shows).
    All,
    /// Those matching this condition only (a scope's restriction).
    Matching(Condition),
    /// None: the type is left out.
    Nothing,
}

impl Reach {
    /// Whether nothing of the type is shown.
    pub fn is_nothing(&self) -> bool {
        matches!(self, Reach::Nothing)
    }
}

/// Reads on one caller's behalf, within its clearance.
#[derive(Clone)]
pub struct Reader {
    state: Arc<AppState>,
    visibility: Option<Visibility>,
    /// None: no scope applies (access control off).
    scopes: Option<Scopes>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("visibility", &self.visibility)
            .field("scopes", &self.scopes)
            .finish()
    }
}

fn read_perms() -> Perms {
    Perms {
        read: true,
        ..Perms::default()
    }
}

impl Reader {
    /// The reader of a caller the access policy cleared: its clearance's
    /// visibility, its token's scopes. An anonymous caller reads nothing.
    pub fn for_caller(state: &Arc<AppState>, caller: &Caller, clearance: &Clearance) -> Reader {
        let scopes = match caller {
            Caller::Open => None,
            Caller::Anonymous => Some(Scopes::parse("")),
            Caller::Client(c) => Some(c.scopes.clone()),
        };
        Reader::new(state, clearance.visibility.clone(), scopes)
    }

    /// A reader with this visibility and these scopes (`None`: none
    /// applies), for readers that are not a request's caller (a
    /// subscriber, at delivery).
    pub fn new(
        state: &Arc<AppState>,
        visibility: Option<Visibility>,
        scopes: Option<Scopes>,
    ) -> Reader {
        Reader {
            state: state.clone(),
            visibility,
            scopes,
        }
    }

    /// The server reading its own bookkeeping resources (a Subscription
    /// whose status it keeps): no visibility, no scopes. Never for what is
    /// sent or answered to anyone.
    pub fn server(state: &Arc<AppState>) -> Reader {
        Reader::new(state, None, None)
    }

    /// The visibility its reads are cut by.
    pub fn visibility(&self) -> Option<&Visibility> {
        self.visibility.as_ref()
    }

    /// What its scopes let it see of `resource_type`. A restriction this
    /// server cannot search by leaves the type out.
    pub fn reach(&self, resource_type: &str) -> Reach {
        let Some(scopes) = &self.scopes else {
            return Reach::All;
        };
        match scopes.allows(resource_type, read_perms()) {
            Allowed::Yes => Reach::All,
            Allowed::No => Reach::Nothing,
            Allowed::Restricted(r) => {
                let alts: Result<Vec<Condition>, _> = r
                    .iter()
                    .map(|one| {
                        self.state
                            .search
                            .params
                            .criteria(resource_type, one)
                            .map(Condition::All)
                    })
                    .collect();
                alts.map_or(Reach::Nothing, |a| Reach::Matching(Condition::Any(a)))
            }
        }
    }

    /// Whether its scopes let it read every resource of `resource_type`
    /// (for what a module names without reading it, such as the
    /// references of what it changed).
    pub fn reads_all(&self, resource_type: &str) -> bool {
        self.reach(resource_type) == Reach::All
    }

    /// The current version of `resource_type/id`, when it exists and the
    /// reader may see it (a deletion, a hidden record and one out of the
    /// scopes' reach are all None).
    ///
    /// # Errors
    /// A database failure.
    pub async fn read(&self, resource_type: &str, id: &str) -> Result<Option<Stored>, Failure> {
        match self.reach(resource_type) {
            Reach::Nothing => Ok(None),
            Reach::All => match self
                .state
                .store
                .read(resource_type, id, self.visibility.as_ref())
                .await
            {
                Ok(s) => Ok(Some(s)),
                Err(StoreError::NotFound(_) | StoreError::Gone { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            },
            Reach::Matching(c) => Ok(self
                .search_within(
                    resource_type,
                    vec![Condition::Id(vec![id.to_string()]), c],
                    1,
                )
                .await?
                .into_iter()
                .next()),
        }
    }

    /// The current versions of many resources the reader may see, in the
    /// order asked for (what it may not see is left out).
    ///
    /// # Errors
    /// A database failure.
    pub async fn read_many(&self, keys: &[(String, String)]) -> Result<Vec<Stored>, Failure> {
        let mut by_type: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (t, i) in keys {
            by_type.entry(t.as_str()).or_default().push(i.clone());
        }
        let mut whole: Vec<(String, String)> = Vec::new();
        let mut found: Vec<Stored> = Vec::new();
        for (t, ids) in by_type {
            match self.reach(t) {
                Reach::All => whole.extend(ids.into_iter().map(|i| (t.to_string(), i))),
                Reach::Matching(c) => {
                    let n = ids.len() as i64;
                    found.extend(
                        self.search_within(t, vec![Condition::Id(ids), c], n)
                            .await?,
                    );
                }
                Reach::Nothing => {}
            }
        }
        if !whole.is_empty() {
            found.extend(
                self.state
                    .store
                    .read_many(&whole, self.visibility.as_ref())
                    .await?,
            );
        }
        let order: std::collections::HashMap<(&str, &str), usize> = keys
            .iter()
            .enumerate()
            .map(|(n, (t, i))| ((t.as_str(), i.as_str()), n))
            .collect();
        found.sort_by_key(|s| {
            order
                .get(&(s.resource_type.as_str(), s.id.as_str()))
                .copied()
                .unwrap_or(usize::MAX)
        });
        Ok(found)
    }

    /// Up to `count` current resources of `resource_type` matching every
    /// condition, newest first, that the reader may see.
    ///
    /// # Errors
    /// A database failure.
    pub async fn search(
        &self,
        resource_type: &str,
        mut conditions: Vec<Condition>,
        count: i64,
    ) -> Result<Vec<Stored>, Failure> {
        match self.reach(resource_type) {
            Reach::Nothing => Ok(Vec::new()),
            Reach::All => self.search_within(resource_type, conditions, count).await,
            Reach::Matching(c) => {
                conditions.push(c);
                self.search_within(resource_type, conditions, count).await
            }
        }
    }

    /// The current resources a query finds, within the reader's clearance:
    /// its visibility replaces the query's, and its scopes' reach of the
    /// query's type is added to the conditions (a query of no one type
    /// needs every type in reach).
    ///
    /// # Errors
    /// A database failure.
    pub async fn query(&self, mut q: Query) -> Result<Vec<Stored>, Failure> {
        let reach = match &q.resource_type {
            Some(t) => self.reach(t),
            None if self.scopes.is_none() => Reach::All,
            None => match &self.scopes {
                Some(s) if s.allows_everything(read_perms()) => Reach::All,
                _ => Reach::Nothing,
            },
        };
        match reach {
            Reach::Nothing => return Ok(Vec::new()),
            Reach::All => {}
            Reach::Matching(c) => q.conditions.push(c),
        }
        q.visibility = self.visibility.clone();
        Ok(self.state.store.search(&q).await?.items)
    }

    async fn search_within(
        &self,
        resource_type: &str,
        conditions: Vec<Condition>,
        count: i64,
    ) -> Result<Vec<Stored>, Failure> {
        Ok(self
            .state
            .store
            .search(&Query {
                resource_type: Some(resource_type.to_string()),
                conditions,
                count,
                total: Total::None,
                visibility: self.visibility.clone(),
                ..Query::default()
            })
            .await?
            .items)
    }

    /// Version `version` of `resource_type/id`, when the reader may see
    /// that version (judged by its own owners) and read the type in full;
    /// a deletion the reader may see has no content.
    ///
    /// # Errors
    /// A database failure.
    pub async fn vread(
        &self,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> Result<Option<Stored>, Failure> {
        if !self.reads_all(resource_type) {
            return Ok(None);
        }
        match self
            .state
            .store
            .vread(resource_type, id, version, self.visibility.as_ref())
            .await
        {
            Ok(s) => Ok(Some(s)),
            Err(StoreError::Gone { .. }) => Ok(Some(Stored {
                resource_type: resource_type.to_string(),
                id: id.to_string(),
                version,
                last_updated: String::new(),
                content: None,
                method: "DELETE".into(),
                source: None,
                compartments: Vec::new(),
            })),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
