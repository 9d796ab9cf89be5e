//! Operations ([FHIR R4 operations](https://hl7.org/fhir/R4/operations.html)):
//! `[base]/$name`, `[base]/[type]/$name`, `[base]/[type]/[id]/$name`, by
//! GET (operations that change nothing, with simple parameters) or POST
//! (a Parameters resource, or the one resource parameter itself).
//!
//! Every operation is one row of [`OPERATIONS`]: its name, levels, types,
//! OperationDefinition and handler. Dispatch and the CapabilityStatement
//! both read this table; to add an operation, write its handler in a file
//! of this folder and add its row.

pub mod subscription;
pub mod validate;

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use super::access::Clearance;
use super::request::read_resource;
use super::{Answer, Failure, Level, Method, PathShape, Request, Service, Target};

/// What an operation's handler returns.
pub type Reply<'a> = Pin<Box<dyn Future<Output = Result<Answer, Failure>> + Send + 'a>>;

/// An operation's handler: it runs for a caller cleared by the access
/// policy, and reads only what the clearance lets it see.
pub type Handler = for<'a> fn(&'a Service, &'a Context<'a>, Invocation) -> Reply<'a>;

/// What an operation runs with: its caller, the clearance the access
/// policy gave, the [`Reader`](crate::interaction::cleared::Reader) that
/// applies it (an operation reads through it, never from the store), and
/// (while access is audited) the facts of its AuditEvent,
/// which a state-changing operation writes with its changes
/// ([`Service::commit_with_audit`]).
#[derive(Debug)]
pub struct Context<'a> {
    /// Who invoked it.
    pub caller: &'a crate::interaction::Caller,
    /// What it may see.
    pub clearance: &'a Clearance,
    /// Its reads, within that clearance and the caller's scopes.
    pub reader: crate::interaction::cleared::Reader,
    /// Its audit record's facts, when audited.
    pub facts: Option<crate::interaction::audit::Facts>,
}

/// One operation the server supports.
#[derive(Debug)]
pub struct Operation {
    /// Its name, without `$`.
    pub name: &'static str,
    /// The canonical URL of its OperationDefinition.
    pub definition: &'static str,
    /// Where it can be invoked.
    pub levels: &'static [Level],
    /// The resource types it applies to (empty: every type).
    pub resource_types: &'static [&'static str],
    /// Whether it may change stored data (then GET is not allowed).
    pub affects_state: bool,
    /// The types it may create or change besides the one it is invoked
    /// on (a workflow's consequences): the caller's token needs `c` and
    /// `u` on each, as if it wrote them itself.
    pub also_writes: &'static [&'static str],
    /// What runs it.
    pub handler: Handler,
}

impl Operation {
    /// Whether it applies to `resource_type`.
    pub fn applies_to(&self, resource_type: &str) -> bool {
        self.resource_types.is_empty() || self.resource_types.contains(&resource_type)
    }
}

/// Every operation of this server.
pub static OPERATIONS: &[Operation] = &[
    validate::OPERATION,
    subscription::STATUS,
    subscription::EVENTS,
    crate::workflow::end_caring::OPERATION,
    crate::workflow::stale::OPERATION,
    crate::workflow::caf::OPERATION,
];

/// An operation invoked: where, and with what.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The operation.
    pub operation: &'static Operation,
    /// The level it was invoked at.
    pub level: Level,
    /// The type, at type and instance level.
    pub resource_type: Option<String>,
    /// The id, at instance level.
    pub id: Option<String>,
    /// The URL's parameters.
    pub params: Vec<(String, String)>,
    /// The body (Parameters, or a resource), for POST.
    pub body: Option<Value>,
}

impl Invocation {
    /// Parses an operation request.
    ///
    /// # Errors
    /// 404 for an operation this server does not have (at that level or
    /// for that type), 405 for GET of an operation that changes data,
    /// 400/415 for an unreadable body.
    pub fn parse(target: &Target, req: &Request) -> Result<Invocation, Failure> {
        let name = target.operation.as_deref().unwrap_or("");
        let level = match target.shape {
            PathShape::SystemOperation => Level::System,
            PathShape::TypeOperation => Level::Type,
            _ => Level::Instance,
        };
        let operation = OPERATIONS
            .iter()
            .find(|o| {
                o.name == name
                    && o.levels.contains(&level)
                    && target
                        .resource_type
                        .as_deref()
                        .is_none_or(|t| o.applies_to(t))
            })
            .ok_or_else(|| {
                Failure::not_found(format!(
                    "${name} is not an operation of this server at /{}",
                    req.path.join("/")
                ))
            })?;
        if req.method == Method::Get && operation.affects_state {
            return Err(Failure::method_not_allowed(
                format!("${name} changes data: invoke it with POST"),
                "POST".into(),
            ));
        }
        let body = match (&req.method, &req.body) {
            (Method::Post, Some(b)) => Some(read_resource(req.headers.content_type.as_deref(), b)?),
            _ => None,
        };
        Ok(Invocation {
            operation,
            level,
            resource_type: target.resource_type.clone(),
            id: target.id.clone(),
            params: req.query.clone(),
            body,
        })
    }

    /// The values of parameter `name`: from the URL, and from a Parameters
    /// body (`value[x]` as text).
    pub fn values(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect();
        if let Some(p) = self.parameters() {
            for param in p["parameter"].as_array().into_iter().flatten() {
                if param["name"] == name {
                    if let Some((_, v)) = param
                        .as_object()
                        .into_iter()
                        .flatten()
                        .find(|(k, v)| k.starts_with("value") && v.is_string())
                    {
                        out.extend(v.as_str().map(str::to_string));
                    }
                }
            }
        }
        out
    }

    /// The body when it is a Parameters resource (and the operation is not
    /// about a Parameters resource itself).
    pub fn parameters(&self) -> Option<&Value> {
        self.body.as_ref().filter(|b| {
            b["resourceType"] == "Parameters" && self.resource_type.as_deref() != Some("Parameters")
        })
    }

    /// The resource parameter `name` of a Parameters body.
    pub fn resource_parameter(&self, name: &str) -> Option<Value> {
        self.parameters()?["parameter"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["resource"].clone())
            .filter(|r| r.is_object())
    }
}
