//! The carer workflows the server carries out itself, on the interaction
//! layer and within its access rules:
//! - [`referral`]: the GP-to-council referral (flow 2) as the FHIR Task
//!   state machine, with who may make each transition;
//! - [`end_caring`]: when caring ends (flow 5), by `RelatedPerson/{id}/$end-caring`
//!   or because the cared-for person's record gets `deceased[x]`, one
//!   transaction ends the relationship, closes both flags, records
//!   "no longer a carer", ends the contingency plan and offers the carer
//!   after-caring support;
//! - [`stale`]: the register check `$stale-carers`;
//! - [`caf`]: `Patient/{id}/$caf`, the CAF record document of what the
//!   caller may see.

pub mod caf;
pub mod end_caring;
pub mod referral;
pub mod stale;

use serde_json::Value;

use crate::auth::scopes::{Allowed, Perms};
use crate::interaction::{Caller, Service};
use crate::store::Condition;

/// What the caller's token scopes let an operation show of a resource
/// type (SMART `read`): what the operation reads on the caller's behalf and
/// answers is cut to it, whatever the scopes the operation itself needed.
#[derive(Debug, Clone, PartialEq)]
pub enum Reach {
    /// Every resource of the type (that the caller may see).
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

/// What `caller`'s scopes let an operation show of `resource_type`: all of
/// it, what matches a scope's restriction (`system/Observation.rs?category=…`),
/// or nothing. A restriction this server cannot search by leaves the type out.
pub fn reach(svc: &Service, caller: &Caller, resource_type: &str) -> Reach {
    let c = match caller {
        Caller::Open => return Reach::All,
        Caller::Anonymous => return Reach::Nothing,
        Caller::Client(c) => c,
    };
    let read = Perms {
        read: true,
        ..Perms::default()
    };
    match c.scopes.allows(resource_type, read) {
        Allowed::Yes => Reach::All,
        Allowed::No => Reach::Nothing,
        Allowed::Restricted(r) => crate::interaction::read::restriction(svc, resource_type, &r)
            .map_or(Reach::Nothing, Reach::Matching),
    }
}

/// Whether `caller`'s scopes let it read every resource of `resource_type`
/// (for what an operation names but cannot search by a restriction, such
/// as the references of what it changed).
pub fn reads_all(caller: &Caller, resource_type: &str) -> bool {
    crate::interaction::access::may_read(caller, resource_type)
}

/// The ODS code a reference names by identifier (`Task.owner`,
/// `Task.requester`, …).
pub fn ods_of(reference: &Value) -> Option<&str> {
    let i = &reference["identifier"];
    (i["system"] == "https://fhir.nhs.uk/Id/ods-organization-code")
        .then(|| i["value"].as_str())
        .flatten()
}

/// Today, as a FHIR date.
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}
