//! Registered system clients: who may ask for tokens, for which
//! organisation (ODS code), in which role, with which scopes and purposes
//! of use, and with which keys (a JWKS).

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use super::scopes::Scopes;

/// What kind of organisation a client acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A GP practice.
    GpPractice,
    /// A local authority (social care).
    LocalAuthority,
    /// A carers' organisation.
    CarersOrganisation,
    /// A 24/7 emergency responder (contingency plans only, vital interest).
    EmergencyResponder,
    /// Administers the server (sees every AuditEvent).
    Admin,
}

impl Role {
    /// Every role, by name.
    pub const ALL: [Role; 5] = [
        Role::GpPractice,
        Role::LocalAuthority,
        Role::CarersOrganisation,
        Role::EmergencyResponder,
        Role::Admin,
    ];

    /// The role's name (`gp-practice`, …).
    pub fn name(self) -> &'static str {
        match self {
            Role::GpPractice => "gp-practice",
            Role::LocalAuthority => "local-authority",
            Role::CarersOrganisation => "carers-organisation",
            Role::EmergencyResponder => "emergency-responder",
            Role::Admin => "admin",
        }
    }

    /// The purpose of use a client of this role has when none is named:
    /// care management, or emergency treatment for responders (v3
    /// ActReason `CAREMGT`, `ETREAT`).
    pub fn default_purpose(self) -> &'static str {
        match self {
            Role::EmergencyResponder => "ETREAT",
            _ => "CAREMGT",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a role: use one of {}",
                    Role::ALL.map(Role::name).join(", ")
                )
            })
    }
}

/// A registered client.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    /// Its client id (the `iss` and `sub` of its assertions).
    pub id: String,
    /// A name for people.
    pub name: String,
    /// Its organisation's ODS code.
    pub organisation: String,
    /// Its role.
    pub role: Role,
    /// The scopes it may be granted.
    pub scopes: Scopes,
    /// Its purposes of use (v3 ActReason codes).
    pub purposes: Vec<String>,
    /// Its public keys (a JWKS).
    pub jwks: Value,
}

impl Client {
    /// Checks a registration before it is stored.
    ///
    /// # Errors
    /// A message saying what is wrong: an empty id, an ODS code that is not
    /// one, no usable scope, a JWKS without keys.
    pub fn check(&self) -> Result<(), String> {
        if self.id.is_empty() || self.id.len() > 128 || self.id.chars().any(char::is_whitespace) {
            return Err(format!("{:?} is not a usable client id", self.id));
        }
        self.organisation
            .parse::<fhir_core::caf::OdsCode>()
            .map_err(|e| format!("--ods {:?}: {e}", self.organisation))?;
        if self.scopes.is_empty() {
            return Err("no system scope given (e.g. \"system/*.rs\")".into());
        }
        let keys = self.jwks["keys"].as_array().map(Vec::len).unwrap_or(0);
        if keys == 0 {
            return Err("the JWKS has no keys".into());
        }
        for k in self.jwks["keys"].as_array().into_iter().flatten() {
            serde_json::from_value::<jsonwebtoken::jwk::Jwk>(k.clone())
                .map_err(|e| format!("a key of the JWKS is not a JWK: {e}"))?;
            if k.get("d").is_some() {
                return Err("the JWKS holds a private key: register public keys only".into());
            }
        }
        if self.purposes.is_empty() {
            return Err("no purpose of use".into());
        }
        Ok(())
    }
}
