//! transaction — [FHIR R4 http §3.1.0.11](https://hl7.org/fhir/R4/http.html#transaction)
//! and its [processing rules](https://hl7.org/fhir/R4/http.html#trules):
//! `POST [base]` with a Bundle of type `transaction`. Every entry or none:
//! each is parsed through the same interactions as a request over HTTP,
//! then
//! 1. references to other entries (`fullUrl`, `urn:uuid:`) are pointed at
//!    the ids the entries will have; a `urn:uuid:` or `urn:oid:` reference
//!    that names no entry, and two entries with one `fullUrl`, are refused;
//! 2. every resource is validated and indexed **before** the store's write
//!    lock is taken (spread over the machine's cores);
//! 3. inside one store transaction: conditional creates, updates and
//!    references (`Patient?identifier=…`) are resolved, then the writes
//!    run in the specification's order (DELETE, POST, PUT and PATCH);
//! 4. after commit, the reads (GET) run, and the `transaction-response`
//!    holds an entry per entry, in the request's order.
//!
//! A failing entry fails the whole transaction with that entry's status
//! and OperationOutcome, its locations relative to the Bundle.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::access::Clearance;
use super::batch::{at_entry, bundle_entries, entry_request, failure_entry, response_entry};
use super::bundle::new_bundle;
use super::conditional::Criteria;
use super::create::PreparedCreate;
use super::pipeline::{prepare_many, Prepared, Tx};
use super::update::{PreparedUpdate, Which};
use super::{blocking, Answer, AppState, Caller, Failure, FailureKind, Interaction, Service};

/// One entry of a transaction, parsed.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its position in the Bundle.
    pub index: usize,
    /// Its `fullUrl`.
    pub full_url: Option<String>,
    /// What it asks for.
    pub interaction: Interaction,
}

/// A transaction, parsed.
#[derive(Debug, Clone)]
pub struct Transaction {
    /// The entries, in the Bundle's order.
    pub entries: Vec<Entry>,
}

impl Transaction {
    /// Parses a transaction Bundle: every entry through
    /// [`Interaction::parse`].
    ///
    /// # Errors
    /// The first entry that cannot be parsed, at its place; 400 for
    /// entries that may not be in a transaction and for a repeated
    /// `fullUrl`.
    pub fn parse(state: &AppState, bundle: Value) -> Result<Transaction, Failure> {
        let mut entries = Vec::new();
        let mut full_urls: HashMap<String, usize> = HashMap::new();
        for (index, e) in bundle_entries(&bundle)?.into_iter().enumerate() {
            let request = entry_request(&e).map_err(|f| at_entry(index, f))?;
            let interaction = Interaction::parse(state, request).map_err(|f| at_entry(index, f))?;
            if !super::batch::allowed_in_bundle(&interaction)
                || matches!(interaction, Interaction::Operation(_))
            {
                return Err(at_entry(
                    index,
                    Failure::invalid(
                        "this entry's request cannot be part of a transaction (a batch, transaction, operation or capabilities request)",
                    )
                    .at(Some("request")),
                ));
            }
            let full_url = e["fullUrl"].as_str().map(str::to_string);
            if let Some(f) = &full_url {
                if let Some(first) = full_urls.insert(f.clone(), index) {
                    return Err(at_entry(
                        index,
                        Failure::invalid(format!(
                            "fullUrl {f:?} is also entry {first}'s: each entry needs its own"
                        ))
                        .at(Some("fullUrl")),
                    ));
                }
            }
            entries.push(Entry {
                index,
                full_url,
                interaction,
            });
        }
        Ok(Transaction { entries })
    }

    /// Applies every entry, or none.
    ///
    /// # Errors
    /// The first failing entry's failure, at its place.
    pub async fn apply(
        self,
        svc: &Service,
        caller: &Caller,
        clearance: &Clearance,
    ) -> Result<Written, Failure> {
        let state = &svc.state;
        let mut plan = Plan::new(self.entries);
        plan.map_known_references();
        plan.point_references()?;
        plan.prepare_all(svc).await?;

        let mut tx = svc.begin(caller, clearance).await?;
        plan.resolve(state, &mut tx).await?;
        plan.finish_references(svc).await?;
        let mut answers: BTreeMap<usize, Value> = BTreeMap::new();
        let mut reads = Vec::new();
        let steps = plan.steps_in_order();
        // The resources the updates replace, read in one query per type.
        let keys: Vec<(String, String)> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Update(_, u) => Some((u.update.resource_type.clone(), u.id.clone()?)),
                _ => None,
            })
            .collect();
        tx.prefetch(&keys).await?;
        for step in steps {
            let index = step.index();
            let answer = match step {
                Step::Create(_, c) => c.finish(&mut tx).await,
                Step::Update(_, u) => u.finish(&mut tx).await,
                Step::Patch(_, p) => p.write(svc, &mut tx).await,
                Step::Delete(_, d) => d.write(&mut tx).await,
                Step::Read(i, interaction) => {
                    reads.push((i, interaction));
                    continue;
                }
            }
            .map_err(|f| at_entry(index, f))?;
            answers.insert(index, response_entry(&answer, false));
        }
        Ok(Written {
            tx,
            rest: Responses { answers, reads },
        })
    }
}

/// A transaction whose writes are made but not yet committed, with the
/// reads that run after the commit.
pub struct Written {
    tx: Tx,
    rest: Responses,
}

/// The entries' answers so far, and the reads still to run.
pub struct Responses {
    answers: BTreeMap<usize, Value>,
    reads: Vec<(usize, Interaction)>,
}

impl Written {
    /// The store transaction (to commit) and what answers after it.
    pub fn split(self) -> (Tx, Responses) {
        (self.tx, self.rest)
    }
}

impl Responses {
    /// After the commit: runs the reads (as the processing rules order
    /// them, last) and gives the `transaction-response`.
    pub async fn respond(self, svc: &Service, caller: &Caller) -> Answer {
        let mut answers = self.answers;
        for (index, interaction) in self.reads {
            let entry = match Box::pin(svc.apply(caller, interaction)).await {
                Ok(answer) => response_entry(&answer, true),
                Err(f) => failure_entry(&f),
            };
            answers.insert(index, entry);
        }
        Answer::ok(new_bundle(
            "transaction-response",
            answers.into_values().collect(),
        ))
    }
}

/// One entry on its way through the transaction.
enum Step {
    Create(usize, Box<PreparedCreate>),
    Update(usize, Box<PreparedUpdate>),
    Patch(usize, super::patch::Patch),
    Delete(usize, super::delete::Delete),
    Read(usize, Interaction),
}

impl Step {
    fn index(&self) -> usize {
        match self {
            Step::Create(i, _)
            | Step::Update(i, _)
            | Step::Patch(i, _)
            | Step::Delete(i, _)
            | Step::Read(i, _) => *i,
        }
    }

    /// The order of the processing rules: DELETE, POST, PUT/PATCH, GET.
    fn order(&self) -> u8 {
        match self {
            Step::Delete(..) => 0,
            Step::Create(..) => 1,
            Step::Update(..) | Step::Patch(..) => 2,
            Step::Read(..) => 3,
        }
    }
}

/// An entry before preparation.
enum Pending {
    Create(super::create::Create),
    Update(super::update::Update),
    Other(Interaction),
}

/// The transaction's working state.
struct Plan {
    pending: Vec<(usize, Option<String>, Pending)>,
    steps: Vec<Step>,
    /// `fullUrl` → `Type/id`, for entries whose id is known before the
    /// database is asked.
    known: HashMap<String, String>,
    /// `fullUrl` of entries whose id a conditional decides → their type.
    undecided: HashMap<String, String>,
    /// Per entry, the references left to resolve in the database
    /// (conditional references, and references to undecided entries).
    unresolved: HashMap<usize, HashSet<String>>,
    /// Per entry with unresolved references, its resource before
    /// placeholders were put in (known references already pointed).
    originals: HashMap<usize, Value>,
    /// Entry index → its `fullUrl`.
    full_urls: HashMap<usize, String>,
}

/// The id placeholder references get while they are validated before the
/// database decides them.
const PLACEHOLDER_ID: &str = "transaction-pending";

impl Plan {
    fn new(entries: Vec<Entry>) -> Plan {
        let full_urls = entries
            .iter()
            .filter_map(|e| e.full_url.clone().map(|f| (e.index, f)))
            .collect();
        let pending = entries
            .into_iter()
            .map(|e| {
                let p = match e.interaction {
                    Interaction::Create(c) => Pending::Create(c),
                    Interaction::Update(u) => Pending::Update(u),
                    other => Pending::Other(other),
                };
                (e.index, e.full_url, p)
            })
            .collect();
        Plan {
            pending,
            steps: Vec::new(),
            known: HashMap::new(),
            undecided: HashMap::new(),
            unresolved: HashMap::new(),
            originals: HashMap::new(),
            full_urls,
        }
    }

    /// Which `fullUrl`s have ids known now, and which wait on a conditional.
    fn map_known_references(&mut self) {
        for (_, full_url, p) in &self.pending {
            let Some(f) = full_url else { continue };
            match p {
                Pending::Create(c) if c.if_none_exist.is_none() => {
                    self.known
                        .insert(f.clone(), format!("{}/{}", c.resource_type, c.id));
                }
                Pending::Create(c) => {
                    self.undecided.insert(f.clone(), c.resource_type.clone());
                }
                Pending::Update(u) => match &u.which {
                    Which::Id(id) => {
                        self.known
                            .insert(f.clone(), format!("{}/{id}", u.resource_type));
                    }
                    Which::Matching(_) => {
                        self.undecided.insert(f.clone(), u.resource_type.clone());
                    }
                },
                Pending::Other(_) => {}
            }
        }
    }

    /// Points every reference of every entry's resource at what is known,
    /// and at a typed placeholder what the database will decide.
    fn point_references(&mut self) -> Result<(), Failure> {
        for (index, _, p) in &mut self.pending {
            let resource = match p {
                Pending::Create(c) => &mut c.resource,
                Pending::Update(u) => &mut u.resource,
                Pending::Other(_) => continue,
            };
            let mut unresolved = HashSet::new();
            let mut dangling = None;
            let mut original = resource.clone();
            rewrite_references(&mut original, &mut |r| self.known.get(r).cloned());
            rewrite_references(resource, &mut |r| {
                if let Some(to) = self.known.get(r) {
                    return Some(to.clone());
                }
                if let Some(t) = self.undecided.get(r) {
                    unresolved.insert(r.to_string());
                    return Some(format!("{t}/{PLACEHOLDER_ID}"));
                }
                if r.starts_with("urn:uuid:") || r.starts_with("urn:oid:") {
                    dangling.get_or_insert_with(|| r.to_string());
                    return None;
                }
                if let Some((t, _)) = conditional_reference(r) {
                    unresolved.insert(r.to_string());
                    return Some(format!("{t}/{PLACEHOLDER_ID}"));
                }
                None
            });
            if let Some(r) = dangling {
                return Err(at_entry(
                    *index,
                    Failure::new(
                        FailureKind::Invalid,
                        "not-found",
                        format!("the reference {r:?} names no entry of this transaction"),
                    ),
                ));
            }
            if !unresolved.is_empty() {
                self.unresolved.insert(*index, unresolved);
                self.originals.insert(*index, original);
            }
        }
        Ok(())
    }

    /// Validates and indexes every create and update, spread over the cores.
    async fn prepare_all(&mut self, svc: &Service) -> Result<(), Failure> {
        let mut jobs: Vec<(usize, String, Value)> = Vec::new();
        for (index, _, p) in &self.pending {
            match p {
                Pending::Create(c) => {
                    jobs.push((*index, c.resource_type.clone(), c.resource.clone()))
                }
                Pending::Update(u) => {
                    jobs.push((*index, u.resource_type.clone(), u.resource.clone()))
                }
                Pending::Other(_) => {}
            }
        }
        let mut prepared: HashMap<usize, Prepared> = HashMap::new();
        // The earliest failing entry is reported, as the Bundle orders them.
        for (index, result) in prepare_many(&svc.state, jobs).await? {
            prepared.insert(index, result.map_err(|f| at_entry(index, f))?);
        }
        for (index, _, p) in std::mem::take(&mut self.pending) {
            let step = match p {
                Pending::Create(create) => {
                    let prepared = prepared
                        .remove(&index)
                        .ok_or_else(|| Failure::internal("entry not prepared"))?;
                    Step::Create(
                        index,
                        Box::new(PreparedCreate {
                            create,
                            prepared,
                            existing: None,
                        }),
                    )
                }
                Pending::Update(update) => {
                    let prepared = prepared
                        .remove(&index)
                        .ok_or_else(|| Failure::internal("entry not prepared"))?;
                    Step::Update(
                        index,
                        Box::new(PreparedUpdate {
                            update,
                            prepared,
                            id: None,
                            fresh: false,
                        }),
                    )
                }
                Pending::Other(Interaction::Patch(p)) => Step::Patch(index, p),
                Pending::Other(Interaction::Delete(d)) => Step::Delete(index, d),
                Pending::Other(other) => Step::Read(index, other),
            };
            self.steps.push(step);
        }
        Ok(())
    }

    /// Inside the store transaction: decides conditional creates and
    /// updates, and resolves conditional references.
    async fn resolve(
        &mut self,
        state: &AppState,
        tx: &mut super::pipeline::Tx,
    ) -> Result<(), Failure> {
        let mut decided: HashMap<usize, String> = HashMap::new();
        for step in &mut self.steps {
            match step {
                Step::Create(i, c) if c.create.if_none_exist.is_some() => {
                    c.resolve(tx).await.map_err(|f| at_entry(*i, f))?;
                    decided.insert(*i, c.reference());
                }
                Step::Update(i, u) => {
                    u.resolve(tx).await.map_err(|f| at_entry(*i, f))?;
                    if let Some(r) = u.reference() {
                        decided.insert(*i, r);
                    }
                }
                _ => {}
            }
        }
        // The fullUrls of decided entries now have their ids.
        for (i, r) in decided {
            if let Some(f) = self.full_urls.get(&i) {
                self.known.insert(f.clone(), r);
            }
        }
        let unresolved: Vec<(usize, String)> = self
            .unresolved
            .iter()
            .flat_map(|(i, refs)| refs.iter().map(|r| (*i, r.clone())))
            .collect();
        for (i, r) in unresolved {
            if self.known.contains_key(&r) {
                continue;
            }
            let Some((rtype, query)) = conditional_reference(&r) else {
                continue;
            };
            state.check_type(rtype).map_err(|f| at_entry(i, f))?;
            let what = format!("the conditional reference {r}");
            let criteria =
                Criteria::parse_query(state, rtype, query, &what).map_err(|f| at_entry(i, f))?;
            match criteria
                .at_most_one(tx, &what)
                .await
                .map_err(|f| at_entry(i, f))?
            {
                Some(s) => {
                    self.known.insert(r.clone(), s.key());
                }
                None => {
                    return Err(at_entry(
                        i,
                        Failure::new(
                            FailureKind::Unprocessable,
                            "not-found",
                            format!("{what} matches no resource"),
                        ),
                    ))
                }
            }
        }
        Ok(())
    }

    /// Points the references left open at what the database decided, and
    /// indexes those resources again.
    async fn finish_references(&mut self, svc: &Service) -> Result<(), Failure> {
        for step in &mut self.steps {
            let (i, prepared) = match step {
                Step::Create(i, c) => (*i, &mut c.prepared),
                Step::Update(i, u) => (*i, &mut u.prepared),
                _ => continue,
            };
            let Some(mut resource) = self.originals.remove(&i) else {
                continue;
            };
            // The validated resource holds placeholders: the original is
            // pointed at what the database decided instead. Only
            // references changed, so it stays valid; its index is made
            // again.
            rewrite_references(&mut resource, &mut |r| self.known.get(r).cloned());
            if let Some(id) = prepared.resource.get("id").cloned() {
                resource["id"] = id;
            }
            prepared.resource = resource;
            let state = svc.state.clone();
            let resource = prepared.resource.clone();
            prepared.index = blocking(move || Ok(state.search.index(&resource))).await?;
        }
        Ok(())
    }

    fn steps_in_order(&mut self) -> Vec<Step> {
        let mut steps = std::mem::take(&mut self.steps);
        steps.sort_by_key(|s| (s.order(), s.index()));
        steps
    }
}

/// `Type?query` of a conditional reference (relative, not a URL).
fn conditional_reference(r: &str) -> Option<(&str, &str)> {
    let (t, q) = r.split_once('?')?;
    let is_type = t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && t.chars().all(|c| c.is_ascii_alphanumeric());
    is_type.then_some((t, q))
}

/// Calls `f` on every `reference` string in `v`, replacing it with what
/// `f` returns.
fn rewrite_references(v: &mut Value, f: &mut dyn FnMut(&str) -> Option<String>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if k == "reference" {
                    if let Some(new) = child.as_str().and_then(&mut *f) {
                        *child = Value::String(new);
                    }
                    continue;
                }
                rewrite_references(child, f);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rewrite_references(c, f)),
        _ => {}
    }
}
