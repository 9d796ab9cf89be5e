//! Who is asking: every interaction is applied on behalf of a [`Caller`].

use std::sync::Arc;

use crate::auth::clients::Role;
use crate::auth::scopes::Scopes;

/// The party an interaction is applied for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A request that presented no credentials (it may read the
    /// CapabilityStatement, and nothing else, while access is enforced).
    Anonymous,
    /// Access control is off (`carer-fhir serve --insecure-open`, tests of
    /// behaviour unrelated to access, and `carer-fhir import` into a
    /// database it owns): everything is allowed and nothing hidden.
    Open,
    /// A registered client with a valid access token.
    Client(Arc<ClientCaller>),
}

/// A registered client, as its access token grants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCaller {
    /// Its client id.
    pub client_id: String,
    /// Its name.
    pub name: String,
    /// Its organisation's ODS code.
    pub organisation: String,
    /// Its role.
    pub role: Role,
    /// The scopes the token grants (never beyond the registration).
    pub scopes: Scopes,
    /// Its purposes of use (v3 ActReason codes).
    pub purposes: Vec<String>,
}

impl Caller {
    /// The caller's organisation (ODS code), recorded as the source of
    /// what it writes; None when it has none.
    pub fn organisation(&self) -> Option<&str> {
        match self {
            Caller::Client(c) => Some(&c.organisation),
            _ => None,
        }
    }

    /// The registered client, when it is one.
    pub fn client(&self) -> Option<&ClientCaller> {
        match self {
            Caller::Client(c) => Some(c),
            _ => None,
        }
    }
}
