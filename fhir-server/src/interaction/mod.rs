//! The interaction layer: the one door every FHIR request passes.
//!
//! A request, whatever carried it (HTTP, or an entry of a batch or
//! transaction Bundle), is first **parsed** into an [`Interaction`] value
//! ([`Interaction::parse`], driven by the routing table [`ROUTES`]), then
//! **applied** by the [`Service`] on behalf of a [`Caller`], giving an
//! [`Answer`] or a [`Failure`] (whose HTTP status is decided in one place,
//! [`FailureKind::status`]). The HTTP edge (`crate::server`) only extracts
//! and converts; it holds no FHIR rules.
//!
//! One file per interaction, each opening with its section of the FHIR R4
//! HTTP specification and holding its value's parsing and applying:
//! [`read`], [`vread`], [`create`], [`update`], [`patch`], [`delete`]
//! (each with its conditional form), [`search`] (type and system),
//! [`history`] (instance, type, system), [`capabilities`], [`batch`],
//! [`transaction`], and [`operation`] (the table of operations, with
//! `$validate`).
//!
//! Shared pieces: [`conditional`] (criteria of conditional interactions:
//! one set of rules and issue codes), [`pipeline`] (the one write
//! pipeline: parse → validate → index → write, also used by
//! `carer-fhir import`), [`bundle`] (searchset and history Bundles,
//! `_summary`/`_elements`), and [`state`] (what the service holds).
//!
//! **Invariant:** every read or write of the store in this crate is made
//! from this module (the store itself aside), so that a rule on who may
//! read or write what, or a hook after every write, has one place to live.

pub mod access;
pub mod answer;
pub mod audit;
pub mod batch;
pub mod budget;
pub mod bundle;
pub mod caller;
pub mod capabilities;
pub mod cleared;
pub mod conditional;
pub mod create;
pub mod delete;
pub mod failure;
pub mod history;
pub mod hooks;
pub mod operation;
pub mod patch;
pub mod pipeline;
pub mod read;
pub mod request;
pub mod search;
pub mod state;
pub mod transaction;
pub mod update;
pub mod vread;

use std::sync::Arc;

pub use answer::{Answer, Content, Version};
pub use caller::{Caller, ClientCaller};
pub use failure::{Failure, FailureKind};
pub use request::{Body, Headers, Method, Prefer, Request, Return};
pub use state::{Access, AppState};

/// Where on the server a request is addressed, by the shape of its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `[base]` (and `[base]/_history`, `[base]/$op`).
    System,
    /// `[base]/[type]`.
    Type,
    /// `[base]/[type]/[id]`.
    Instance,
}

/// The shape of a request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathShape {
    /// `[base]`
    Base,
    /// `[base]/metadata`
    Metadata,
    /// `[base]/_history`
    SystemHistory,
    /// `[base]/_search`
    SystemSearch,
    /// `[base]/$op`
    SystemOperation,
    /// `[base]/[type]`
    Type,
    /// `[base]/[type]/_search`
    TypeSearch,
    /// `[base]/[type]/_history`
    TypeHistory,
    /// `[base]/[type]/$op`
    TypeOperation,
    /// `[base]/[type]/[id]`
    Instance,
    /// `[base]/[type]/[id]/_history`
    InstanceHistory,
    /// `[base]/[type]/[id]/$op`
    InstanceOperation,
    /// `[base]/[type]/[id]/_history/[vid]`
    Version,
    /// `[base]/Patient/[id]/[type]` or `[base]/Patient/[id]/*`: a search
    /// in the Patient's compartment.
    Compartment,
}

/// The interactions, as the routing table names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// `capabilities`
    Capabilities,
    /// `batch` or `transaction` (by the Bundle's type).
    BatchOrTransaction,
    /// `search-system`
    SearchSystem,
    /// `history-system`
    HistorySystem,
    /// `search-type`
    SearchType,
    /// `create` (conditional with `If-None-Exist`)
    Create,
    /// conditional `update`
    ConditionalUpdate,
    /// conditional `delete`
    ConditionalDelete,
    /// conditional `patch`
    ConditionalPatch,
    /// `history-type`
    HistoryType,
    /// `read`
    Read,
    /// `vread`
    VRead,
    /// `update`
    Update,
    /// `patch`
    Patch,
    /// `delete`
    Delete,
    /// `history-instance`
    HistoryInstance,
    /// a compartment search (`search-type` on the type searched)
    SearchCompartment,
    /// an operation (`$name`)
    Operation,
}

impl Code {
    /// The CapabilityStatement interaction code, for those it lists.
    pub fn capability_code(self) -> Option<&'static str> {
        Some(match self {
            Code::SearchSystem => "search-system",
            Code::HistorySystem => "history-system",
            Code::SearchType => "search-type",
            Code::Create => "create",
            Code::HistoryType => "history-type",
            Code::Read => "read",
            Code::VRead => "vread",
            Code::Update => "update",
            Code::Patch => "patch",
            Code::Delete => "delete",
            Code::HistoryInstance => "history-instance",
            _ => return None,
        })
    }
}

/// One route: a path shape and method, and the interaction they mean.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The path's shape.
    pub shape: PathShape,
    /// The method.
    pub method: Method,
    /// The interaction.
    pub code: Code,
}

const fn route(shape: PathShape, method: Method, code: Code) -> Route {
    Route {
        shape,
        method,
        code,
    }
}

/// Every request this server understands: the table [`Interaction::parse`]
/// dispatches on and the CapabilityStatement is generated from.
pub const ROUTES: &[Route] = &[
    route(PathShape::Metadata, Method::Get, Code::Capabilities),
    route(PathShape::Base, Method::Post, Code::BatchOrTransaction),
    route(PathShape::Base, Method::Get, Code::SearchSystem),
    route(PathShape::SystemSearch, Method::Post, Code::SearchSystem),
    route(PathShape::SystemHistory, Method::Get, Code::HistorySystem),
    route(PathShape::SystemOperation, Method::Get, Code::Operation),
    route(PathShape::SystemOperation, Method::Post, Code::Operation),
    route(PathShape::Type, Method::Get, Code::SearchType),
    route(PathShape::TypeSearch, Method::Post, Code::SearchType),
    route(PathShape::Type, Method::Post, Code::Create),
    route(PathShape::Type, Method::Put, Code::ConditionalUpdate),
    route(PathShape::Type, Method::Delete, Code::ConditionalDelete),
    route(PathShape::Type, Method::Patch, Code::ConditionalPatch),
    route(PathShape::TypeHistory, Method::Get, Code::HistoryType),
    route(PathShape::TypeOperation, Method::Get, Code::Operation),
    route(PathShape::TypeOperation, Method::Post, Code::Operation),
    route(PathShape::Instance, Method::Get, Code::Read),
    route(PathShape::Instance, Method::Put, Code::Update),
    route(PathShape::Instance, Method::Patch, Code::Patch),
    route(PathShape::Instance, Method::Delete, Code::Delete),
    route(
        PathShape::InstanceHistory,
        Method::Get,
        Code::HistoryInstance,
    ),
    route(PathShape::InstanceOperation, Method::Get, Code::Operation),
    route(PathShape::InstanceOperation, Method::Post, Code::Operation),
    route(PathShape::Version, Method::Get, Code::VRead),
    route(PathShape::Compartment, Method::Get, Code::SearchCompartment),
];

/// The compartment a compartment search may search in: the Patient's, the
/// one this server keeps for every resource.
pub const COMPARTMENT: &str = "Patient";

/// A request's path, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Its shape.
    pub shape: PathShape,
    /// The resource type, for type and instance paths.
    pub resource_type: Option<String>,
    /// The id, for instance paths.
    pub id: Option<String>,
    /// The version, for `_history/[vid]`.
    pub version: Option<String>,
    /// The operation's name without `$`.
    pub operation: Option<String>,
    /// For a compartment search: the type searched, or `*` for all.
    pub within: Option<String>,
}

impl Target {
    /// Reads a path's segments.
    ///
    /// # Errors
    /// 404 for a path no route has, or an unknown resource type; 400 for
    /// an id that is not a FHIR id.
    pub fn parse(state: &AppState, path: &[String]) -> Result<Target, Failure> {
        let seg: Vec<&str> = path.iter().map(String::as_str).collect();
        let op = |s: &str| s.strip_prefix('$').map(str::to_string);
        let mut t = Target {
            shape: PathShape::Base,
            resource_type: None,
            id: None,
            version: None,
            operation: None,
            within: None,
        };
        t.shape = match seg.as_slice() {
            [] => PathShape::Base,
            ["metadata"] => PathShape::Metadata,
            ["_history"] => PathShape::SystemHistory,
            ["_search"] => PathShape::SystemSearch,
            [o] if o.starts_with('$') => {
                t.operation = op(o);
                PathShape::SystemOperation
            }
            [rt, rest @ ..] => {
                state.check_type(rt)?;
                t.resource_type = Some(rt.to_string());
                match rest {
                    [] => PathShape::Type,
                    ["_search"] => PathShape::TypeSearch,
                    ["_history"] => PathShape::TypeHistory,
                    [o] if o.starts_with('$') => {
                        t.operation = op(o);
                        PathShape::TypeOperation
                    }
                    [id, more @ ..] => {
                        check_id(id)?;
                        t.id = Some(id.to_string());
                        match more {
                            [] => PathShape::Instance,
                            ["_history"] => PathShape::InstanceHistory,
                            [o] if o.starts_with('$') => {
                                t.operation = op(o);
                                PathShape::InstanceOperation
                            }
                            ["_history", vid] => {
                                t.version = Some(vid.to_string());
                                PathShape::Version
                            }
                            [within] if *rt == COMPARTMENT => {
                                if *within != "*" {
                                    state.check_type(within)?;
                                }
                                t.within = Some(within.to_string());
                                PathShape::Compartment
                            }
                            _ => return Err(no_endpoint(path)),
                        }
                    }
                }
            }
        };
        Ok(t)
    }

    /// The resource type (for type and instance paths).
    pub fn resource_type(&self) -> &str {
        self.resource_type.as_deref().unwrap_or("")
    }

    /// The id (for instance paths).
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or("")
    }
}

/// The methods a path of `shape` takes, as an `Allow` header lists them
/// (from [`ROUTES`]; `HEAD` wherever `GET` is).
pub fn allowed(shape: PathShape) -> String {
    let mut methods: Vec<&str> = Vec::new();
    for r in ROUTES.iter().filter(|r| r.shape == shape) {
        let name = r.method.name();
        if !methods.contains(&name) {
            methods.push(name);
            if r.method == Method::Get {
                methods.push("HEAD");
            }
        }
    }
    methods.join(", ")
}

fn no_endpoint(path: &[String]) -> Failure {
    Failure::not_found(format!(
        "/{} is not a FHIR endpoint of this server",
        path.join("/")
    ))
}

/// Checks a logical id's syntax ([datatypes §id](https://hl7.org/fhir/R4/datatypes.html#id):
/// 1–64 letters, digits, `-` and `.`).
///
/// # Errors
/// 400 for anything else.
pub fn check_id(id: &str) -> Result<(), Failure> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(Failure::invalid(format!(
            "{id:?} is not a valid resource id (1-64 letters, digits, '-' and '.')"
        )))
    }
}

/// A FHIR interaction, parsed and ready to apply.
#[derive(Debug, Clone)]
pub enum Interaction {
    /// `GET [base]/metadata`.
    Capabilities,
    /// read.
    Read(read::Read),
    /// vread.
    VRead(vread::VRead),
    /// create (and conditional create).
    Create(create::Create),
    /// update (and conditional update).
    Update(update::Update),
    /// patch (and conditional patch).
    Patch(patch::Patch),
    /// delete (and conditional delete).
    Delete(delete::Delete),
    /// search (type and system level).
    Search(search::Search),
    /// history (instance, type, system).
    History(history::History),
    /// batch.
    Batch(batch::Batch),
    /// transaction.
    Transaction(transaction::Transaction),
    /// an operation.
    Operation(operation::Invocation),
}

impl Interaction {
    /// Parses a request into the interaction it asks for. Bodies are read
    /// here (the service runs this on a blocking thread when there is one).
    ///
    /// # Errors
    /// 404 for an unknown endpoint or type, 405 for a known endpoint with
    /// a method it does not take, 400/413/415 for a request that does not
    /// fit its interaction.
    pub fn parse(state: &AppState, req: Request) -> Result<Interaction, Failure> {
        let target = Target::parse(state, &req.path)?;
        let Some(route) = ROUTES
            .iter()
            .find(|r| r.shape == target.shape && r.method == req.method)
        else {
            return Err(Failure::method_not_allowed(
                format!(
                    "{} /{} is not a FHIR interaction this server supports",
                    req.method.name(),
                    req.path.join("/")
                ),
                allowed(target.shape),
            ));
        };
        Ok(match route.code {
            Code::Capabilities => Interaction::Capabilities,
            Code::BatchOrTransaction => {
                let bundle = request::read_resource(
                    req.headers.content_type.as_deref(),
                    req.body.as_ref().ok_or_else(|| {
                        Failure::invalid("POST to the base takes a batch or transaction Bundle")
                    })?,
                )?;
                if bundle["resourceType"] != "Bundle" {
                    return Err(Failure::invalid(
                        "POST to the base takes a batch or transaction Bundle",
                    ));
                }
                match bundle["type"].as_str() {
                    Some("transaction") => {
                        Interaction::Transaction(transaction::Transaction::parse(state, bundle)?)
                    }
                    Some("batch") => Interaction::Batch(batch::Batch::parse(bundle)?),
                    other => {
                        return Err(Failure::invalid(format!(
                            "a Bundle of type {other:?} cannot be processed: send a batch or a transaction"
                        )))
                    }
                }
            }
            Code::SearchSystem | Code::SearchType | Code::SearchCompartment => {
                Interaction::Search(search::Search::parse(&target, &req)?)
            }
            Code::HistorySystem | Code::HistoryType | Code::HistoryInstance => {
                Interaction::History(history::History::parse(&target, &req)?)
            }
            Code::Create => Interaction::Create(create::Create::parse(state, &target, &req)?),
            Code::Update | Code::ConditionalUpdate => {
                Interaction::Update(update::Update::parse(state, &target, &req)?)
            }
            Code::Patch | Code::ConditionalPatch => {
                Interaction::Patch(patch::Patch::parse(state, &target, &req)?)
            }
            Code::Delete | Code::ConditionalDelete => {
                Interaction::Delete(delete::Delete::parse(state, &target, &req)?)
            }
            Code::Read => Interaction::Read(read::Read::parse(&target, &req)?),
            Code::VRead => Interaction::VRead(vread::VRead::parse(&target)?),
            Code::Operation => Interaction::Operation(operation::Invocation::parse(&target, &req)?),
        })
    }

    /// Whether applying it may change stored data.
    pub fn writes(&self) -> bool {
        match self {
            Interaction::Create(_)
            | Interaction::Update(_)
            | Interaction::Patch(_)
            | Interaction::Delete(_)
            | Interaction::Batch(_)
            | Interaction::Transaction(_) => true,
            Interaction::Operation(i) => i.operation.affects_state,
            _ => false,
        }
    }
}

/// The service that applies interactions: the one door.
#[derive(Clone)]
pub struct Service {
    /// What it serves.
    pub state: Arc<AppState>,
}

impl Service {
    /// A service over `state`.
    pub fn new(state: Arc<AppState>) -> Service {
        Service { state }
    }

    /// Parses and applies one request for `caller`.
    ///
    /// # Errors
    /// The interaction's failure, as an OperationOutcome with its kind.
    pub async fn handle(&self, caller: &Caller, request: Request) -> Result<Answer, Failure> {
        let method = request.method.name().to_string();
        let path = format!("/{}", request.path.join("/"));
        let parsed = if matches!(request.body, Some(Body::Bytes(_))) {
            // Reading a body (JSON or XML through the loss-checked model) is
            // CPU work: it runs beside the async workers, not on them.
            let state = self.state.clone();
            blocking(move || Interaction::parse(&state, request)).await
        } else {
            Interaction::parse(&self.state, request)
        };
        match parsed {
            Ok(interaction) => self.apply(caller, interaction).await,
            Err(f) => {
                // Refused before it was an interaction (unknown type, a
                // method the path does not take, a body that cannot be
                // read): an access all the same, and audited.
                self.audit_refused(caller, &method, &path, &f).await?;
                Err(f)
            }
        }
    }

    /// Applies a parsed interaction for `caller`.
    ///
    /// # Errors
    /// The interaction's failure.
    pub async fn apply(
        &self,
        caller: &Caller,
        interaction: Interaction,
    ) -> Result<Answer, Failure> {
        let mut facts = self
            .audits(caller, &interaction)
            .then(|| audit::Facts::of(&interaction));
        let clearance = match access::clear(self, caller, &interaction).await {
            Ok(c) => c,
            Err(f) => {
                if let Some(facts) = &facts {
                    self.record(facts, caller, None, Err(&f)).await?;
                }
                return Err(f);
            }
        };
        let result = self
            .run(caller, &clearance, interaction, facts.as_mut())
            .await;
        match (&result, &mut facts) {
            // A write recorded its access in its own transaction.
            (Ok((_, true)), _) | (_, None) => {}
            (Ok((answer, false)), Some(facts)) => {
                facts.learn(answer, &answer.patients);
                self.record(facts, caller, Some(&clearance), Ok(())).await?;
            }
            (Err(f), Some(facts)) => self.record(facts, caller, Some(&clearance), Err(f)).await?,
        }
        result.map(|(answer, _)| answer)
    }

    /// Whether the access is audited: while access control is on, every
    /// interaction but the public CapabilityStatement and a batch as a
    /// whole (each of its entries is audited).
    fn audits(&self, caller: &Caller, i: &Interaction) -> bool {
        matches!(self.state.access, Access::Enforced(_))
            && !matches!(caller, Caller::Open)
            && !matches!(i, Interaction::Capabilities | Interaction::Batch(_))
    }

    async fn record(
        &self,
        facts: &audit::Facts,
        caller: &Caller,
        clearance: Option<&access::Clearance>,
        outcome: Result<(), &Failure>,
    ) -> Result<(), Failure> {
        self.state
            .auditor()
            .record(audit::event(facts, caller, clearance, outcome))
            .await
    }

    /// Records a request refused before it could be read as an interaction
    /// (credentials that are not a valid token, an unknown type, a method
    /// the path does not take, a body or media type that cannot be read).
    ///
    /// # Errors
    /// When the record cannot be stored.
    pub async fn audit_refused(
        &self,
        caller: &Caller,
        method: &str,
        path: &str,
        failure: &Failure,
    ) -> Result<(), Failure> {
        if !matches!(self.state.access, Access::Enforced(_)) || matches!(caller, Caller::Open) {
            return Ok(());
        }
        let facts = audit::Facts {
            subtype: String::new(),
            action: if method == "GET" { "R" } else { "E" },
            resources: Vec::new(),
            query: Some(format!("{method} {path}")),
            patients: Vec::new(),
        };
        self.record(&facts, caller, None, Err(failure)).await
    }

    /// Applies a cleared interaction; whether its audit was written with it.
    async fn run(
        &self,
        caller: &Caller,
        c: &access::Clearance,
        interaction: Interaction,
        facts: Option<&mut audit::Facts>,
    ) -> Result<(Answer, bool), Failure> {
        let unaudited = |a: Answer| (a, false);
        Ok(match interaction {
            Interaction::Capabilities => {
                unaudited(Answer::ok(capabilities::capability_statement(&self.state)))
            }
            Interaction::Read(i) => unaudited(i.apply(self, caller, c).await?),
            Interaction::VRead(i) => unaudited(i.apply(self, c).await?),
            Interaction::Search(i) => unaudited(i.apply(self, caller, c).await?),
            Interaction::History(i) => unaudited(i.apply(self, c).await?),
            Interaction::Create(i) => {
                let prepared = i.prepare(self).await?;
                let mut tx = self.begin(caller, c).await?;
                let answer = prepared.write(&mut tx).await?;
                self.commit(tx, caller, c, &answer, facts).await?
            }
            Interaction::Update(i) => {
                let prepared = i.prepare(self).await?;
                let mut tx = self.begin(caller, c).await?;
                let answer = prepared.write(&mut tx).await?;
                self.commit(tx, caller, c, &answer, facts).await?
            }
            Interaction::Patch(i) => {
                let mut tx = self.begin(caller, c).await?;
                let answer = i.write(self, &mut tx).await?;
                self.commit(tx, caller, c, &answer, facts).await?
            }
            Interaction::Delete(i) => {
                let mut tx = self.begin(caller, c).await?;
                let answer = i.write(&mut tx).await?;
                self.commit(tx, caller, c, &answer, facts).await?
            }
            Interaction::Transaction(i) => {
                let written = i.apply(self, caller, c).await?;
                let (tx, rest) = written.split();
                let (_, audited) = self
                    .commit(tx, caller, c, &Answer::empty(http::StatusCode::OK), facts)
                    .await?;
                (rest.respond(self, caller).await, audited)
            }
            Interaction::Batch(i) => unaudited(i.apply(self, caller).await?),
            Interaction::Operation(i) => {
                let ctx = operation::Context {
                    caller,
                    clearance: c,
                    reader: cleared::Reader::for_caller(&self.state, caller, c),
                    facts: facts.map(|f| f.clone()),
                };
                let answer = (i.operation.handler)(self, &ctx, i).await?;
                let audited = answer.audited;
                (answer, audited)
            }
        })
    }

    /// Commits an operation's transaction with the operation's AuditEvent
    /// (when audited): what a state-changing operation ends with.
    ///
    /// # Errors
    /// A database failure (then nothing was written).
    pub async fn commit_with_audit(
        &self,
        tx: pipeline::Tx,
        ctx: &operation::Context<'_>,
        answer: Answer,
    ) -> Result<Answer, Failure> {
        let mut facts = ctx.facts.clone();
        let (mut answer, audited) = self
            .commit(tx, ctx.caller, ctx.clearance, &answer, facts.as_mut())
            .await?;
        answer.audited = audited;
        Ok(answer)
    }

    /// Commits a write's transaction with its AuditEvent (when audited).
    async fn commit(
        &self,
        mut tx: pipeline::Tx,
        caller: &Caller,
        c: &access::Clearance,
        answer: &Answer,
        facts: Option<&mut audit::Facts>,
    ) -> Result<(Answer, bool), Failure> {
        let audited = facts.is_some();
        // What the write's hooks add (a death's consequences) is part of
        // the access the audit records.
        tx.settle().await?;
        if let Some(f) = facts {
            f.learn(answer, &tx.patients());
            tx.audit(&self.state, audit::event(f, caller, Some(c), Ok(())))
                .await?;
        }
        tx.commit().await?;
        Ok((answer.clone(), audited))
    }

    /// A store transaction for `caller`'s writes.
    ///
    /// # Errors
    /// When the database cannot start one.
    pub async fn begin(
        &self,
        caller: &Caller,
        clearance: &access::Clearance,
    ) -> Result<pipeline::Tx, Failure> {
        pipeline::Tx::begin(&self.state, caller, clearance).await
    }
}

/// Runs CPU work on a blocking thread.
///
/// # Errors
/// The work's failure; a panic in it is an internal failure.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(Failure::internal)?
}
