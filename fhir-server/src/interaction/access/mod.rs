//! Who may do what: the one access policy, applied to every interaction
//! before it touches the store ([`clear`]), and inside it (a search's
//! chained and included types, [`check_query`]; every read and search
//! restricted by the [`Clearance`]'s visibility).
//!
//! Three rules, in order:
//! 1. **Scopes** ([SMART v2 scopes](https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html)):
//!    each interaction needs its permissions on its type (read `r`,
//!    search `s`, create `c`, update `u`, delete `d`; conditional forms
//!    also `s`; a batch's entries each on their own, a transaction's all
//!    before any is applied). Missing: 403. A scope restricted by
//!    `?param=value` allows reads and searches of matching resources only.
//! 2. **CAF consent** (DESIGN §8), default deny: a version is visible to
//!    an organisation only when it is the record's source, or the record
//!    is a definition ([`compartment::DEFINITIONAL`]), or it is the data of
//!    one or more people ([`compartment`]: the Patient compartment as
//!    loaded and the guide's rules for Task, Bundle, Binary, Provenance)
//!    and an active CafConsent of every one of them permits it for the
//!    client's purpose of use, the record's type, today ([`consent`]);
//!    refusals win. A Consent is also visible to the organisation holding
//!    the person's record, an AuditEvent to admins and that organisation.
//!    This is a condition inside every query (`store::Visibility`; history
//!    and vread judge each version by its own owners), so totals, links,
//!    includes and errors reveal nothing; a record the caller may not see
//!    is answered exactly as one that does not exist. Writes
//!    (`pipeline::Tx`): an existing record is changed or deleted by its
//!    source only (a referral's moves by its parties, a Consent by the
//!    holder of the person's record); a Consent is recorded only by the
//!    organisation holding the person's record; a deleted id is re-created
//!    only by its source; update as create is not offered to clients.
//!    AuditEvents are never written through the API.
//! 3. **Emergency access** (flow 7, [`emergency`]): an emergency responder
//!    may find a contingency plan by emergency card number and read it and
//!    the contacts it names, with no consent (vital interest), nothing else.

pub mod compartment;
pub mod consent;
pub mod emergency;

use crate::auth::clients::Role;
use crate::auth::scopes::{Allowed, Perms};
use crate::search::Shape;
use crate::store::{Condition, Query, Visibility};

use super::operation::Invocation;
use super::{Caller, ClientCaller, Failure, FailureKind, Interaction, Level, Service};

/// How an interaction may run for its caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clearance {
    /// Whose eyes reads and searches are for (None: nothing hidden).
    pub visibility: Option<Visibility>,
    /// The purpose of use recorded in the audit.
    pub purpose: Option<String>,
    /// For a read or search restricted by its scopes: the restrictions,
    /// one of which a resource must match.
    pub restrictions: Option<Vec<Vec<(String, String)>>>,
    /// Whether this is vital-interest (emergency) access.
    pub emergency: bool,
}

impl Clearance {
    /// Nothing hidden, nothing restricted.
    pub fn open() -> Clearance {
        Clearance::default()
    }
}

fn forbidden(message: impl Into<String>) -> Failure {
    Failure::new(FailureKind::Forbidden, "forbidden", message)
}

fn perms(letters: &str) -> Perms {
    Perms {
        create: letters.contains('c'),
        read: letters.contains('r'),
        update: letters.contains('u'),
        delete: letters.contains('d'),
        search: letters.contains('s'),
    }
}

/// The visibility of a client's reads and searches, judged now.
pub fn visibility_of(c: &ClientCaller) -> Visibility {
    visibility(&c.organisation, &c.purposes, c.role == Role::Admin)
}

/// What `organisation` may see for `purposes`, judged now: the one
/// constructor of a [`Visibility`] (requests, notifications, operations).
pub fn visibility(organisation: &str, purposes: &[String], admin: bool) -> Visibility {
    Visibility {
        organisation: organisation.to_string(),
        purposes: purposes.to_vec(),
        now: chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string(),
        admin,
        readable_by_all: compartment::DEFINITIONAL,
    }
}

/// The types and permissions an interaction needs (`None`: every type).
fn needs(i: &Interaction, out: &mut Vec<(Option<String>, Perms)>) {
    let t = |s: &str| Some(s.to_string());
    let cond = |c: bool, base: &str| perms(&format!("{base}{}", if c { "s" } else { "" }));
    match i {
        Interaction::Capabilities | Interaction::Batch(_) => {}
        Interaction::Read(r) => out.push((t(&r.resource_type), perms("r"))),
        Interaction::VRead(r) => out.push((t(&r.resource_type), perms("r"))),
        Interaction::Search(s) if !s.types.is_empty() => {
            for t in &s.types {
                out.push((Some(t.clone()), perms("s")));
            }
        }
        Interaction::Search(s) => out.push((s.resource_type.clone(), perms("s"))),
        Interaction::History(h) => out.push((h.resource_type.clone(), perms("r"))),
        Interaction::Create(c) => {
            out.push((t(&c.resource_type), cond(c.if_none_exist.is_some(), "c")))
        }
        Interaction::Update(u) => out.push((
            t(&u.resource_type),
            cond(matches!(u.which, super::update::Which::Matching(_)), "u"),
        )),
        Interaction::Patch(p) => out.push((
            t(&p.resource_type),
            cond(matches!(p.which, super::update::Which::Matching(_)), "u"),
        )),
        Interaction::Delete(d) => out.push((
            t(&d.resource_type),
            cond(matches!(d.which, super::update::Which::Matching(_)), "d"),
        )),
        Interaction::Transaction(tx) => {
            for e in &tx.entries {
                needs(&e.interaction, out);
            }
        }
        Interaction::Operation(inv) => operation_needs(inv, out),
    }
}

fn operation_needs(inv: &Invocation, out: &mut Vec<(Option<String>, Perms)>) {
    // `$validate` of a posted resource reads nothing stored: it is for
    // those who may write the type; of a stored resource, it reads it.
    // An operation that changes data needs `u` however it is invoked
    // (with a body or without).
    let p = match (inv.operation.affects_state, &inv.level, &inv.body) {
        (true, _, _) => perms("u"),
        (false, Level::Instance, None) => perms("r"),
        (false, _, _) => Perms::default(),
    };
    out.push((inv.resource_type.clone(), p));
    for t in inv.operation.also_writes {
        out.push((Some(t.to_string()), perms("cu")));
    }
}

/// Whether an interaction writes AuditEvents, which only the server does.
fn writes_audit(i: &Interaction) -> bool {
    match i {
        Interaction::Create(c) => c.resource_type == "AuditEvent",
        Interaction::Update(u) => u.resource_type == "AuditEvent",
        Interaction::Patch(p) => p.resource_type == "AuditEvent",
        Interaction::Delete(d) => d.resource_type == "AuditEvent",
        Interaction::Transaction(t) => t.entries.iter().any(|e| writes_audit(&e.interaction)),
        _ => false,
    }
}

/// Decides whether `caller` may apply `i`, and how.
///
/// # Errors
/// 401 for an anonymous caller while access is enforced; 403 when the
/// scopes (or the emergency rule) do not allow it, and for any write of an
/// AuditEvent.
pub async fn clear(svc: &Service, caller: &Caller, i: &Interaction) -> Result<Clearance, Failure> {
    if writes_audit(i) {
        return Err(forbidden(
            "AuditEvents are written by this server alone; they cannot be created, changed or deleted through the API",
        ));
    }
    let c = match caller {
        Caller::Open => return Ok(Clearance::open()),
        Caller::Anonymous if matches!(i, Interaction::Capabilities) => return Ok(Clearance::open()),
        Caller::Anonymous => {
            return Err(Failure::new(
                FailureKind::Unauthorized,
                "login",
                "this server requires a bearer access token (SMART Backend Services: see /.well-known/smart-configuration)",
            ))
        }
        Caller::Client(c) => c,
    };
    let mut wanted = Vec::new();
    needs(i, &mut wanted);
    let mut restrictions = None;
    for (rtype, p) in &wanted {
        if p == &Perms::default() {
            // Any scope on the type will do.
            let any = ["c", "r", "u", "d", "s"].iter().any(|l| {
                !matches!(
                    c.scopes.allows(rtype.as_deref().unwrap_or("*"), perms(l)),
                    Allowed::No
                )
            });
            if !any {
                return Err(forbidden(format!(
                    "the token grants no scope on {}",
                    rtype.as_deref().unwrap_or("this server")
                )));
            }
            continue;
        }
        match rtype {
            None => {
                if !c.scopes.allows_everything(*p) {
                    return Err(forbidden(format!(
                        "this interaction spans every resource type: it needs system/*.{p} without restriction"
                    )));
                }
            }
            Some(t) => match c.scopes.allows(t, *p) {
                Allowed::Yes => {}
                Allowed::No => {
                    return Err(forbidden(format!(
                        "the token's scopes do not allow system/{t}.{p}"
                    )))
                }
                Allowed::Restricted(r) => {
                    let reads_only = matches!(i, Interaction::Read(_) | Interaction::Search(_));
                    if !reads_only || wanted.len() > 1 {
                        return Err(forbidden(format!(
                            "the token allows system/{t}.{p} only for resources matching a restriction, which applies to reads and searches alone"
                        )));
                    }
                    restrictions = Some(r);
                }
            },
        }
    }
    if c.role == Role::EmergencyResponder {
        return emergency::clear(svc, c, i).await;
    }
    Ok(Clearance {
        visibility: Some(visibility_of(c)),
        purpose: c
            .purposes
            .first()
            .cloned()
            .or_else(|| Some(c.role.default_purpose().to_string())),
        restrictions,
        emergency: false,
    })
}

/// Whether `caller` may read resources of `resource_type` (included
/// resources of other types are left out).
pub fn may_read(caller: &Caller, resource_type: &str) -> bool {
    match caller {
        Caller::Open => true,
        Caller::Anonymous => false,
        Caller::Client(c) => matches!(c.scopes.allows(resource_type, perms("r")), Allowed::Yes),
    }
}

/// The types a query reaches besides its own (chains, `_has`) and the
/// types its includes read must be allowed too.
///
/// # Errors
/// 403 naming the first type the scopes do not allow.
pub fn check_query(caller: &Caller, q: &Query, shape: &Shape) -> Result<(), Failure> {
    let Caller::Client(c) = caller else {
        return Ok(());
    };
    let mut searched = Vec::new();
    for cond in &q.conditions {
        reached(cond, &mut searched);
    }
    for (inc, _) in &shape.revinclude {
        searched.push(inc.source.clone());
    }
    for t in &searched {
        if !matches!(c.scopes.allows(t, perms("s")), Allowed::Yes) {
            return Err(forbidden(format!(
                "the token's scopes do not allow searching {t} (system/{t}.s)"
            )));
        }
    }
    for (inc, _) in &shape.include {
        if let Some(t) = &inc.target {
            if !matches!(c.scopes.allows(t, perms("r")), Allowed::Yes) {
                return Err(forbidden(format!(
                    "the token's scopes do not allow reading {t} (system/{t}.r)"
                )));
            }
        }
    }
    Ok(())
}

/// Refuses criteria (of a conditional interaction, a conditional
/// reference) that search a type the caller's scopes do not let it search
/// (`s`): its own type, and every type a chain or `_has` reaches.
///
/// # Errors
/// 403 naming the first such type.
pub fn check_criteria(
    scopes: Option<&crate::auth::scopes::Scopes>,
    resource_type: &str,
    conditions: &[Condition],
) -> Result<(), Failure> {
    let Some(scopes) = scopes else {
        return Ok(());
    };
    let mut searched = vec![resource_type.to_string()];
    for c in conditions {
        reached(c, &mut searched);
    }
    for t in &searched {
        if !matches!(scopes.allows(t, perms("s")), Allowed::Yes) {
            return Err(forbidden(format!(
                "the token's scopes do not allow searching {t} (system/{t}.s), which these criteria search"
            )));
        }
    }
    Ok(())
}

fn reached(c: &Condition, out: &mut Vec<String>) {
    match c {
        Condition::Chain {
            target_type, inner, ..
        } => {
            out.push(target_type.clone());
            reached(inner, out);
        }
        Condition::Has {
            source_type, inner, ..
        } => {
            out.push(source_type.clone());
            reached(inner, out);
        }
        Condition::Any(list) | Condition::All(list) => list.iter().for_each(|c| reached(c, out)),
        _ => {}
    }
}
