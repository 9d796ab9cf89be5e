//! The authorisation server and token checks: SMART on FHIR Backend
//! Services ([SMART App Launch 2.x, backend services](https://hl7.org/fhir/smart-app-launch/backend-services.html)).
//!
//! A registered client ([`clients`]) asks `POST {base}/auth/token` for an
//! access token with `grant_type=client_credentials`, the scopes it wants
//! ([`scopes`]) and a `client_assertion`: a JWT it signed with one of its
//! registered keys (RS384 or ES384), `iss` = `sub` = its client id, `aud`
//! the token URL, `exp` at most five minutes ahead, a `jti` never used
//! before. The answer is a short-lived access token (ES384, signed with
//! the server's key, [`keys`]) for the scopes both asked for and
//! registered. Each FHIR request's bearer token is checked here
//! ([`Authority::authenticate`]) and becomes the interaction layer's
//! `Caller`; tokens of an external issuer configured by its URL and JWKS
//! are accepted too, for registered clients.
//!
//! A token follows its client's registration as it is now: `carer-fhir
//! clients add|remove` writes the registration from another process, so
//! every request reads it again (one primary-key lookup) and only the
//! token's signature and claims are checked once and kept. A removed client's
//! tokens are refused like an unknown client's; a token issued to another
//! registration of the client (its organisation, role or keys since
//! changed) is refused; scopes are what both the token grants and the
//! registration allows now; purposes of use are the registration's.
//!
//! JWT signing and verification are `jsonwebtoken`'s; key arithmetic is
//! RustCrypto's. Nothing cryptographic is written here.

pub mod clients;
pub mod keys;
pub mod scopes;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::interaction::caller::ClientCaller;
use crate::store::{AuthStore, ClientRecord, StoreError};
use clients::Client;
use scopes::Scopes;

/// How long an access token lives, in seconds.
pub const TOKEN_LIFETIME: i64 = 300;

/// How far ahead a client assertion's `exp` may be, in seconds.
pub const MAX_ASSERTION_LIFETIME: i64 = 300;

/// Clock skew tolerated between client and server, in seconds.
pub const LEEWAY: u64 = 30;

/// The `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Tokens checked recently, so that a signature is verified once per token,
/// not once per request. Bounded: cleared when it reaches this size.
const TOKEN_CACHE: usize = 10_000;

/// The claim of our access tokens naming the registration they were
/// issued to ([`registration_digest`]).
const REGISTRATION_CLAIM: &str = "registration";

/// What is kept of a token whose signature and claims were checked: what
/// the token itself says, never the registration of its client (read
/// again on every request).
#[derive(Debug)]
struct Verified {
    /// The client it names.
    client_id: String,
    /// The scopes it grants (its `scope` claim).
    scopes: Scopes,
    /// The registration it was issued to ([`registration_digest`]): our
    /// tokens carry it; an external issuer's token (or one of ours issued
    /// before tokens carried it) is bound to the registration its client had
    /// when the token was first checked.
    registration: String,
    /// Its expiry (seconds since the epoch).
    exp: i64,
}

/// Which registration of a client this is: a digest of what a token must
/// not outlive (organisation, role and keys). A client removed and
/// registered again with the same organisation, role and keys is the same
/// registration; one with new keys (after a key was lost, say) is not, so
/// tokens obtained with the old keys are refused. Scopes and purposes are
/// not part of it: a token follows their changes.
pub fn registration_digest(r: &ClientRecord) -> String {
    let mut h = Sha256::new();
    for part in [&r.organisation, &r.role, &r.jwks] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.finalize().as_slice())
}

/// An OAuth 2.0 error answer of the token endpoint (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// 400, or 401 for `invalid_client`.
    pub status: u16,
    /// The error code (`invalid_client`, `invalid_scope`, …).
    pub error: &'static str,
    /// What was wrong, for the client's developers.
    pub description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            status: if error == "invalid_client" { 401 } else { 400 },
            error,
            description: description.into(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"error": self.error, "error_description": self.description})
    }
}

/// Why a bearer token was refused (the answer is 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRefused(pub String);

/// An external identity provider whose access tokens are accepted.
#[derive(Debug, Clone)]
pub struct ExternalIssuer {
    /// Its issuer URL (the tokens' `iss`).
    pub issuer: String,
    /// Its public keys.
    pub jwks: JwkSet,
}

/// The authorisation server of one FHIR base.
pub struct Authority {
    store: Arc<dyn AuthStore>,
    base: String,
    kid: String,
    public_jwk: Value,
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuers: Vec<ExternalIssuer>,
    checked: Mutex<HashMap<String, Arc<Verified>>>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("base", &self.base)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The unverified claims of a JWT, read only to choose the keys to verify
/// it with (never trusted before verification).
fn unverified_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A stored registration, typed.
///
/// # Errors
/// When the stored text no longer reads (never written so by this code).
pub fn client_of(r: &ClientRecord) -> Result<Client, String> {
    Ok(Client {
        id: r.id.clone(),
        name: r.name.clone(),
        organisation: r.organisation.clone(),
        role: r.role.parse()?,
        scopes: Scopes::parse(&r.scopes),
        purposes: r.purposes.split_whitespace().map(str::to_string).collect(),
        jwks: serde_json::from_str(&r.jwks).map_err(|e| e.to_string())?,
    })
}

/// A registration as stored.
pub fn record_of(c: &Client) -> ClientRecord {
    ClientRecord {
        id: c.id.clone(),
        name: c.name.clone(),
        organisation: c.organisation.clone(),
        role: c.role.name().to_string(),
        scopes: c.scopes.to_string(),
        purposes: c.purposes.join(" "),
        jwks: c.jwks.to_string(),
    }
}

impl Authority {
    /// The authority of `base`, with the signing key kept in `store`
    /// (made on first use) and the external issuers accepted.
    ///
    /// # Errors
    /// When the key cannot be read or made.
    pub async fn new(
        store: Arc<dyn AuthStore>,
        base: &str,
        issuers: Vec<ExternalIssuer>,
    ) -> anyhow::Result<Authority> {
        keys::install_crypto();
        let make = || {
            let pair = keys::generate(Algorithm::ES384).expect("an ES384 key can be made");
            (pair.private_pem, pair.public_jwk.to_string())
        };
        let (pem, jwk_text) = store.signing_key(&make).await?;
        let public_jwk: Value = serde_json::from_str(&jwk_text)?;
        let jwk: Jwk = serde_json::from_value(public_jwk.clone())?;
        Ok(Authority {
            store,
            base: base.trim_end_matches('/').to_string(),
            kid: public_jwk["kid"].as_str().unwrap_or("").to_string(),
            public_jwk,
            encoding: EncodingKey::from_ec_pem(pem.as_bytes())?,
            decoding: DecodingKey::from_jwk(&jwk)?,
            issuers,
            checked: Mutex::new(HashMap::new()),
        })
    }

    /// `{base}/auth/token`.
    pub fn token_url(&self) -> String {
        format!("{}/auth/token", self.base)
    }

    /// The authorization endpoint (`{base}/auth/authorize`).
    pub fn authorize_url(&self) -> String {
        format!("{}/auth/authorize", self.base)
    }

    /// The server's public keys (`{base}/auth/jwks`).
    pub fn jwks(&self) -> Value {
        keys::jwks_of(&self.public_jwk)
    }

    /// `GET {base}/.well-known/smart-configuration`.
    pub fn smart_configuration(&self, scopes_supported: &[String]) -> Value {
        json!({
            "jwks_uri": format!("{}/auth/jwks", self.base),
            "token_endpoint": self.token_url(),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
            "grant_types_supported": ["client_credentials"],
            "scopes_supported": scopes_supported,
            "capabilities": ["client-confidential-asymmetric", "permission-v2", "permission-v1"],
            "code_challenge_methods_supported": []
        })
    }

    /// A registered client.
    ///
    /// # Errors
    /// A database failure.
    pub async fn client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        Ok(self
            .store
            .client(id)
            .await?
            .and_then(|r| client_of(&r).ok()))
    }

    /// The token endpoint: checks a client-credentials request with a JWT
    /// client assertion and issues an access token.
    ///
    /// # Errors
    /// An OAuth error naming what was wrong.
    pub async fn token(&self, form: &[(String, String)]) -> Result<Value, OAuthError> {
        let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if field("grant_type") != Some("client_credentials") {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                "grant_type must be client_credentials",
            ));
        }
        if field("client_assertion_type") != Some(JWT_BEARER) {
            return Err(OAuthError::new(
                "invalid_request",
                format!("client_assertion_type must be {JWT_BEARER}"),
            ));
        }
        let assertion = field("client_assertion")
            .ok_or_else(|| OAuthError::new("invalid_request", "client_assertion is missing"))?;
        let (client, registration) = self.check_assertion(assertion).await?;
        let requested = Scopes::parse(field("scope").unwrap_or(""));
        let granted = client.scopes.grant(&requested);
        if granted.is_empty() {
            return Err(OAuthError::new(
                "invalid_scope",
                "none of the scopes asked for is registered for this client",
            ));
        }
        let iat = now();
        let claims = json!({
            "iss": self.base, "sub": client.id, "aud": self.base, "client_id": client.id,
            "iat": iat, "exp": iat + TOKEN_LIFETIME, "jti": uuid::Uuid::new_v4().to_string(),
            "scope": granted.to_string(), REGISTRATION_CLAIM: registration,
        });
        let mut header = Header::new(Algorithm::ES384);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "signing an access token");
            OAuthError::new("server_error", "the token could not be signed")
        })?;
        Ok(json!({
            "access_token": token, "token_type": "bearer",
            "expires_in": TOKEN_LIFETIME, "scope": granted.to_string()
        }))
    }

    /// Checks a client assertion; the client it authenticates, with the
    /// digest of its registration ([`registration_digest`]).
    async fn check_assertion(&self, assertion: &str) -> Result<(Client, String), OAuthError> {
        let bad = |why: &str| OAuthError::new("invalid_client", why.to_string());
        let header = jsonwebtoken::decode_header(assertion)
            .map_err(|_| bad("client_assertion is not a signed JWT (RS384 or ES384)"))?;
        if !matches!(header.alg, Algorithm::RS384 | Algorithm::ES384) {
            return Err(bad("client_assertion must be signed with RS384 or ES384"));
        }
        // SMART Backend Services: a `jku` "SHALL match the JWKS URL value
        // that the client supplied … at registration". Clients here
        // register their key set itself, never a URL, so no `jku` can
        // match, and a key set named by the assertion is never fetched.
        if header.jku.is_some() || header.x5u.is_some() {
            return Err(bad(
                "the client assertion names a key set (jku or x5u) that is not this client's registration: clients here register their keys, and assertions are checked against those only",
            ));
        }
        let claims = unverified_claims(assertion)
            .ok_or_else(|| bad("client_assertion has no readable claims"))?;
        let id = claims["iss"]
            .as_str()
            .ok_or_else(|| bad("client_assertion has no iss"))?;
        let record = self
            .store
            .client(id)
            .await
            .map_err(|_| OAuthError::new("server_error", "the registrations could not be read"))?
            .ok_or_else(|| bad("unknown client"))?;
        let registration = registration_digest(&record);
        let client = client_of(&record).map_err(|_| bad("unknown client"))?;
        let keys: JwkSet = serde_json::from_value(client.jwks.clone())
            .map_err(|_| bad("the client's registered JWKS cannot be read"))?;
        let candidates: Vec<&Jwk> = match &header.kid {
            Some(kid) => keys
                .keys
                .iter()
                .filter(|k| k.common.key_id.as_deref() == Some(kid.as_str()))
                .collect(),
            None => keys.keys.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(bad(
                "no registered key of this client has the assertion's kid",
            ));
        }
        let mut v = Validation::new(header.alg);
        v.leeway = LEEWAY;
        v.set_audience(&[self.token_url()]);
        v.set_issuer(&[client.id.as_str()]);
        v.sub = Some(client.id.clone());
        v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        let mut verified = None;
        let mut last_error = String::from("the signature does not verify with the client's keys");
        for jwk in candidates {
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            match jsonwebtoken::decode::<Value>(assertion, &key, &v) {
                Ok(data) => {
                    verified = Some(data.claims);
                    break;
                }
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind as K;
                    last_error = match e.kind() {
                        K::ExpiredSignature => "the client assertion has expired".into(),
                        K::InvalidAudience => {
                            format!("the client assertion's aud must be {}", self.token_url())
                        }
                        K::InvalidIssuer | K::InvalidSubject => {
                            "the client assertion's iss and sub must be the client id".into()
                        }
                        K::InvalidSignature | K::InvalidAlgorithm | K::InvalidKeyFormat => {
                            last_error
                        }
                        other => format!("the client assertion is not valid: {other:?}"),
                    };
                }
            }
        }
        let claims = verified.ok_or_else(|| bad(&last_error))?;
        let exp = claims["exp"].as_i64().unwrap_or(0);
        if exp > now() + MAX_ASSERTION_LIFETIME + LEEWAY as i64 {
            return Err(bad(
                "the client assertion's exp is more than five minutes ahead",
            ));
        }
        let jti = claims["jti"]
            .as_str()
            .ok_or_else(|| bad("the client assertion has no jti"))?;
        let fresh = self
            .store
            .use_jti(&client.id, jti, exp + LEEWAY as i64)
            .await
            .map_err(|_| OAuthError::new("server_error", "the assertion could not be recorded"))?;
        if !fresh {
            return Err(bad("this client assertion's jti was used before"));
        }
        Ok((client, registration))
    }

    /// Checks a bearer token (ours, or an external issuer's) and gives the
    /// caller it stands for, as its client is registered now.
    ///
    /// The token's signature and claims are checked once and kept until it
    /// expires; the registration is read on every call (one lookup by
    /// primary key), so that `carer-fhir clients add|remove`, run by another
    /// process on the same database, takes effect at the next request:
    /// - a removed client: refused as an unknown client is;
    /// - a token issued to another registration of the client (organisation,
    ///   role or keys changed since, [`registration_digest`]): refused;
    /// - scopes: those both the token grants and the registration now
    ///   allows (each cut down to what both allow);
    /// - purposes of use: the registration's now.
    ///
    /// # Errors
    /// Why it was refused.
    pub async fn authenticate(&self, token: &str) -> Result<Arc<ClientCaller>, TokenRefused> {
        let refuse = |why: &str| TokenRefused(why.to_string());
        let t = now();
        let cached = self
            .checked
            .lock()
            .ok()
            .and_then(|c| c.get(token).cloned())
            .filter(|v| v.exp > t);
        let checked = match cached {
            Some(v) => Checked::Kept(v),
            None => Checked::New(self.verify(token)?),
        };
        let client_id = match &checked {
            Checked::Kept(v) => v.client_id.as_str(),
            Checked::New(c) => c.client_id.as_str(),
        };
        let record = self
            .store
            .client(client_id)
            .await
            .map_err(|_| refuse("the registrations could not be read"))?
            .ok_or_else(|| refuse(UNREGISTERED))?;
        let current = registration_digest(&record);
        let verified = match checked {
            Checked::Kept(v) => v,
            Checked::New(c) => {
                let v = Arc::new(Verified {
                    client_id: c.client_id,
                    scopes: c.scopes,
                    // Bound now, to the registration the token is first
                    // accepted for, when it does not say its own.
                    registration: c.registration.unwrap_or_else(|| current.clone()),
                    exp: c.exp,
                });
                self.remember(token, v.clone(), t);
                v
            }
        };
        if verified.registration != current {
            return Err(refuse(
                "the token was issued to another registration of its client \
                 (its organisation, role or keys have changed): ask for a new token",
            ));
        }
        let caller = caller_of(&record, &verified.scopes).map_err(|_| refuse(UNREGISTERED))?;
        Ok(Arc::new(caller))
    }

    /// Keeps a checked token until it expires.
    fn remember(&self, token: &str, verified: Arc<Verified>, t: i64) {
        if let Ok(mut cache) = self.checked.lock() {
            if cache.len() >= TOKEN_CACHE {
                cache.retain(|_, v| v.exp > t);
                if cache.len() >= TOKEN_CACHE {
                    cache.clear();
                }
            }
            cache.insert(token.to_string(), verified);
        }
    }

    /// Checks a bearer token's signature (ours, or a trusted external
    /// issuer's) and claims, and reads what it says. Nothing about its
    /// client's registration is looked at here.
    fn verify(&self, token: &str) -> Result<TokenClaims, TokenRefused> {
        let t = now();
        let refuse = |why: &str| TokenRefused(why.to_string());
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| refuse("the token is not a signed JWT"))?;
        let claims =
            unverified_claims(token).ok_or_else(|| refuse("the token has no readable claims"))?;
        let iss = claims["iss"].as_str().unwrap_or("");
        let ours = iss == self.base;
        let (key, alg) = if ours {
            if header.kid.as_deref() != Some(self.kid.as_str()) {
                return Err(refuse("the token was not signed with this server's key"));
            }
            (self.decoding.clone(), Algorithm::ES384)
        } else if let Some(ext) = self.issuers.iter().find(|i| i.issuer == iss) {
            let jwk = match &header.kid {
                Some(kid) => ext.jwks.find(kid),
                None => ext.jwks.keys.first(),
            }
            .ok_or_else(|| refuse("no key of the token's issuer has its kid"))?;
            if !matches!(
                header.alg,
                Algorithm::RS384 | Algorithm::ES384 | Algorithm::RS256 | Algorithm::ES256
            ) {
                return Err(refuse("the token's algorithm is not accepted"));
            }
            (
                DecodingKey::from_jwk(jwk)
                    .map_err(|_| refuse("the issuer's key cannot be used"))?,
                header.alg,
            )
        } else {
            return Err(refuse("the token's issuer is not trusted here"));
        };
        let mut v = Validation::new(alg);
        v.leeway = LEEWAY;
        v.set_issuer(&[iss]);
        v.set_audience(&[self.base.as_str(), &format!("{}/", self.base)]);
        let data = jsonwebtoken::decode::<Value>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => refuse("the token has expired"),
                K::InvalidAudience => refuse("the token is not for this server (aud)"),
                _ => refuse("the token's signature or claims are not valid"),
            }
        })?;
        let c = &data.claims;
        let client_id = c["client_id"]
            .as_str()
            .or(c["azp"].as_str())
            .or(c["sub"].as_str())
            .ok_or_else(|| refuse("the token names no client"))?
            .to_string();
        Ok(TokenClaims {
            client_id,
            scopes: Scopes::parse(c["scope"].as_str().unwrap_or("")),
            // Only our own tokens are read for it: an external issuer's
            // claims mean what that issuer means.
            registration: if ours {
                c[REGISTRATION_CLAIM].as_str().map(str::to_string)
            } else {
                None
            },
            exp: c["exp"].as_i64().unwrap_or(t),
        })
    }
}

/// The answer for a token whose client is not (or no longer) registered.
const UNREGISTERED: &str = "the token's client is not registered here";

/// A token kept from an earlier request, or one just verified.
enum Checked {
    Kept(Arc<Verified>),
    New(TokenClaims),
}

/// What a verified token says.
struct TokenClaims {
    client_id: String,
    scopes: Scopes,
    /// The registration it says it was issued to (our tokens only).
    registration: Option<String>,
    exp: i64,
}

/// The caller a token granting `granted` stands for, under the client's
/// registration as stored now: the scopes both allow, the registration's
/// organisation, role and purposes.
///
/// # Errors
/// When the stored role no longer reads (never written so by this code).
fn caller_of(record: &ClientRecord, granted: &Scopes) -> Result<ClientCaller, String> {
    Ok(ClientCaller {
        client_id: record.id.clone(),
        name: record.name.clone(),
        organisation: record.organisation.clone(),
        role: record.role.parse()?,
        scopes: Scopes::parse(&record.scopes).grant(granted),
        purposes: record
            .purposes
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    })
}

/// A client assertion for `token_url`, signed with `pem`: what a client
/// sends the token endpoint (`iss` = `sub` = `client`, four minutes of
/// life, a fresh `jti`).
///
/// # Errors
/// When the key cannot be read or the JWT signed.
pub fn client_assertion(
    client: &str,
    token_url: &str,
    pem: &str,
    kid: Option<&str>,
) -> anyhow::Result<String> {
    keys::install_crypto();
    let (alg, key) = keys::signing_key(pem)?;
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": client, "sub": client, "aud": token_url,
        "iat": now, "exp": now + 240, "jti": uuid::Uuid::new_v4().to_string(),
    });
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = kid.map(str::to_string);
    Ok(jsonwebtoken::encode(&header, &claims, &key)?)
}

/// Reads an external issuer's JWKS from a file or an `http(s)` URL.
///
/// # Errors
/// When it cannot be read or is not a JWKS.
pub async fn load_jwks(source: &str) -> anyhow::Result<JwkSet> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        reqwest::get(source)
            .await?
            .error_for_status()?
            .text()
            .await?
    } else {
        std::fs::read_to_string(source)?
    };
    Ok(serde_json::from_str(&text)?)
}

#[cfg(test)]
mod tests {
    use super::clients::Role;
    use super::*;
    use crate::store::sql::SqlStore;

    const BASE: &str = "http://fhir.test";

    async fn open(path: &std::path::Path) -> Arc<SqlStore> {
        Arc::new(
            SqlStore::connect(&format!("sqlite:{}", path.display()))
                .await
                .unwrap(),
        )
    }

    fn registration(ods: &str, role: Role, scopes: &str, key: &keys::KeyPair) -> ClientRecord {
        record_of(&Client {
            id: "app".into(),
            name: "app".into(),
            organisation: ods.into(),
            role,
            scopes: Scopes::parse(scopes),
            purposes: vec![role.default_purpose().into()],
            jwks: keys::jwks_of(&key.public_jwk),
        })
    }

    async fn token_for(authority: &Authority, key: &keys::KeyPair, scope: &str) -> String {
        let assertion =
            client_assertion("app", &authority.token_url(), &key.private_pem, None).unwrap();
        let form: Vec<(String, String)> = [
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let answer = authority.token(&form).await.unwrap();
        answer["access_token"].as_str().unwrap().to_string()
    }

    /// `carer-fhir clients add|remove` run by another process (a second
    /// connection to the same database) takes effect at the next request,
    /// though the token's verdict is kept.
    #[tokio::test]
    async fn tokens_follow_their_clients_registration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.sqlite");
        let server = open(&path).await;
        let admin = open(&path).await;
        let authority = Authority::new(server.clone(), BASE, Vec::new())
            .await
            .unwrap();
        let key = keys::generate(Algorithm::ES384).unwrap();
        let both = "system/Patient.rs system/Observation.rs";
        let first = registration("616", Role::LocalAuthority, both, &key);
        admin.put_client(&first).await.unwrap();
        let token = token_for(&authority, &key, both).await;
        let caller = authority.authenticate(&token).await.unwrap();
        assert_eq!(caller.scopes.to_string(), both);
        assert_eq!(caller.organisation, "616");
        assert_eq!(caller.purposes, vec!["CAREMGT".to_string()]);

        // Scopes narrowed: the token keeps only what both allow.
        let narrowed = registration("616", Role::LocalAuthority, "system/Patient.r", &key);
        admin.put_client(&narrowed).await.unwrap();
        let caller = authority.authenticate(&token).await.unwrap();
        assert_eq!(caller.scopes.to_string(), "system/Patient.r");

        // Scopes widened: never beyond what the token was granted.
        let mut widened = registration("616", Role::LocalAuthority, "system/*.cruds", &key);
        widened.purposes = "CAREMGT PUBHLTH".into();
        admin.put_client(&widened).await.unwrap();
        let caller = authority.authenticate(&token).await.unwrap();
        assert_eq!(caller.scopes.to_string(), both);
        assert_eq!(
            caller.purposes,
            vec!["CAREMGT".to_string(), "PUBHLTH".to_string()],
            "the registration's purposes now"
        );

        // Another organisation, role or key: the token was issued to
        // another registration.
        for (changed, what) in [
            (
                registration("999", Role::LocalAuthority, both, &key),
                "organisation",
            ),
            (registration("616", Role::Admin, both, &key), "role"),
            (
                registration(
                    "616",
                    Role::LocalAuthority,
                    both,
                    &keys::generate(Algorithm::ES384).unwrap(),
                ),
                "keys",
            ),
        ] {
            admin.put_client(&changed).await.unwrap();
            assert!(
                authority.authenticate(&token).await.is_err(),
                "{what} changed"
            );
        }

        // Removed: refused as an unknown client's token is.
        admin.put_client(&first).await.unwrap();
        assert!(authority.authenticate(&token).await.is_ok());
        assert!(admin.remove_client("app").await.unwrap());
        assert_eq!(
            authority.authenticate(&token).await.unwrap_err(),
            TokenRefused(UNREGISTERED.to_string())
        );
        // A new token for a new registration of the same id works.
        let key2 = keys::generate(Algorithm::ES384).unwrap();
        admin
            .put_client(&registration("616", Role::LocalAuthority, both, &key2))
            .await
            .unwrap();
        assert!(authority.authenticate(&token).await.is_err());
        let token2 = token_for(&authority, &key2, both).await;
        assert!(authority.authenticate(&token2).await.is_ok());
    }

    /// An external issuer's token is bound to the registration its client
    /// had when the token was first accepted, and follows it likewise.
    #[tokio::test]
    async fn an_external_issuers_tokens_follow_the_registration_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.sqlite");
        let server = open(&path).await;
        let admin = open(&path).await;
        let idp = keys::generate(Algorithm::ES384).unwrap();
        let issuer = "https://idp.example.org/realms/council";
        let authority = Authority::new(
            server.clone(),
            BASE,
            vec![ExternalIssuer {
                issuer: issuer.into(),
                jwks: serde_json::from_value(keys::jwks_of(&idp.public_jwk)).unwrap(),
            }],
        )
        .await
        .unwrap();
        let key = keys::generate(Algorithm::ES384).unwrap();
        admin
            .put_client(&registration(
                "616",
                Role::LocalAuthority,
                "system/Patient.rs",
                &key,
            ))
            .await
            .unwrap();
        let (alg, signing) = keys::signing_key(&idp.private_pem).unwrap();
        let mut header = Header::new(alg);
        header.kid = idp.public_jwk["kid"].as_str().map(str::to_string);
        let token = jsonwebtoken::encode(
            &header,
            &json!({"iss": issuer, "aud": BASE, "client_id": "app", "sub": "app",
                "exp": now() + 120, "scope": "system/*.cruds"}),
            &signing,
        )
        .unwrap();
        let caller = authority.authenticate(&token).await.unwrap();
        assert_eq!(caller.scopes.to_string(), "system/Patient.rs");
        admin
            .put_client(&registration(
                "616",
                Role::LocalAuthority,
                "system/Patient.r",
                &key,
            ))
            .await
            .unwrap();
        let caller = authority.authenticate(&token).await.unwrap();
        assert_eq!(caller.scopes.to_string(), "system/Patient.r");
        admin
            .put_client(&registration(
                "999",
                Role::LocalAuthority,
                "system/Patient.r",
                &key,
            ))
            .await
            .unwrap();
        assert!(authority.authenticate(&token).await.is_err());
        assert!(admin.remove_client("app").await.unwrap());
        assert_eq!(
            authority.authenticate(&token).await.unwrap_err(),
            TokenRefused(UNREGISTERED.to_string())
        );
    }
}
