//! The working carer's passport: `WorkingCarersPassport` (a document Bundle
//! on UKCore-Bundle) with its `WorkingCarersPassportComposition`, signed by
//! the employer as a detached JSON Web Signature in `Bundle.signature`, and
//! the employer's `WorkingCarerFlag` on a staff record.
//!
//! # The signature
//! `Bundle.signature.data` is the base64 of a detached JWS (RFC 7515
//! appendix F: `header..signature`, ES384 or RS384) whose payload is the
//! canonical JSON of the Bundle without `id`, `meta` and `signature` (a
//! server that stores the document may change the first two; the third is
//! what is being made). Canonical JSON follows the FHIR JSON
//! canonicalisation: object members in sorted order, no whitespace outside
//! strings; numbers are kept as written, because FHIR decimals carry their
//! precision. The protected header names the key (`kid`, the key's RFC 7638
//! thumbprint) and the signing time (`sigT`, as in JAdES), which must equal
//! `Bundle.signature.when`.
//!
//! A verifier holds the employer's public keys as a JWK Set. A key may
//! carry `nbf` and `exp` (seconds since the epoch, as JWT's NumericDate):
//! the guide treats a signature made outside them as made with an expired
//! (or not yet valid) key.
//!
//! Nothing here fetches anything: the key set is given by the caller.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::crypto::{self, rust_crypto, CryptoProvider};
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{json, Map, Value};
use std::fmt;

use super::codes::WORKPLACE_ADJUSTMENTS;
use super::json::{
    check_code, coding, ext, extension_value, first_code, invalid, meta, missing, reference,
    reference_of, require,
};
use super::{code_system, OrganisationId, CANONICAL};
use crate::error::{Error, ErrorKind, Result};

/// `Signature.type` of the employer's signature: ASTM E1762 "Author's
/// Signature".
const AUTHORS_SIGNATURE: &str = "1.2.840.10065.1.12.1.1";
/// `Signature.sigFormat` and `targetFormat` of a passport's signature.
const JOSE: &str = "application/jose";
const FHIR_JSON: &str = "application/fhir+json";

/// The canonical JSON a passport's signature covers: the Bundle without
/// `id`, `meta` and `signature`, members sorted, no whitespace.
///
/// # Examples
/// ```
/// let a = serde_json::json!({"resourceType": "Bundle", "type": "document", "id": "x",
///     "signature": {"data": "AA=="}});
/// let b = serde_json::json!({"type": "document", "resourceType": "Bundle"});
/// assert_eq!(fhir_core::caf::passport::canonical(&a), fhir_core::caf::passport::canonical(&b));
/// assert_eq!(fhir_core::caf::passport::canonical(&b), br#"{"resourceType":"Bundle","type":"document"}"#);
/// ```
pub fn canonical(bundle: &Value) -> Vec<u8> {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    let mut b = bundle.clone();
    if let Some(m) = b.as_object_mut() {
        for k in ["id", "meta", "signature"] {
            m.remove(k);
        }
    }
    // A Value always serialises.
    serde_json::to_vec(&sorted(&b)).unwrap_or_default()
}

/// jsonwebtoken picks its crypto backend from its crate features; when a
/// program that links fhir-core enables another backend too, none is
/// picked, so the pure-Rust one is installed unless one already is.
fn ensure_crypto() {
    if CryptoProvider::try_get_default().is_none() {
        let _ = rust_crypto::DEFAULT_PROVIDER.install_default();
    }
}

fn jose_error(message: String) -> Error {
    Error::new(ErrorKind::Invalid, message)
}

/// An employer's private signing key: a P-384 EC key (ES384) or an RSA key
/// of 2048 bits or more (RS384), from PKCS#8 PEM (`openssl genpkey`).
///
/// # Examples
/// ```
/// use fhir_core::caf::passport::SigningKey;
/// let pem = std::fs::read("../profiles/examples/passport/example-employer-es384.pem").unwrap();
/// let key = SigningKey::from_pem(&pem).unwrap();
/// assert_eq!(key.algorithm(), "ES384");
/// assert_eq!(key.public_jwk()["kid"], key.kid());
/// assert!(SigningKey::from_pem(b"not a key").is_err());
/// ```
pub struct SigningKey {
    key: EncodingKey,
    alg: Algorithm,
    jwk: Jwk,
    kid: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private key.
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish()
    }
}

impl SigningKey {
    /// The key in `pem` (PKCS#8).
    ///
    /// # Errors
    /// When it is neither an RSA key of 2048 bits or more nor a P-384 EC key.
    pub fn from_pem(pem: &[u8]) -> Result<SigningKey> {
        ensure_crypto();
        let (key, alg) = match EncodingKey::from_rsa_pem(pem) {
            Ok(k) => (k, Algorithm::RS384),
            Err(_) => match EncodingKey::from_ec_pem(pem) {
                Ok(k) => (k, Algorithm::ES384),
                Err(e) => {
                    return Err(jose_error(format!(
                        "not a PKCS#8 PEM RSA or P-384 EC private key ({e})"
                    )))
                }
            },
        };
        let jwk = Jwk::from_encoding_key(&key, alg)
            .map_err(|e| jose_error(format!("the key cannot sign with {alg:?}: {e}")))?;
        if let jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(p) = &jwk.algorithm {
            if p.curve != jsonwebtoken::jwk::EllipticCurve::P384 {
                return Err(jose_error(format!(
                    "an EC key for the passport is on P-384, not {:?}",
                    p.curve
                )));
            }
        }
        if let jsonwebtoken::jwk::AlgorithmParameters::RSA(p) = &jwk.algorithm {
            let bits = URL_SAFE_NO_PAD.decode(&p.n).map_or(0, |n| n.len() * 8);
            if bits < 2048 {
                return Err(jose_error(format!(
                    "an RSA key for the passport has 2048 bits or more, not {bits}"
                )));
            }
        }
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| jose_error(format!("the key has no thumbprint: {e}")))?;
        Ok(SigningKey { key, alg, jwk, kid })
    }

    /// `ES384` or `RS384`.
    pub fn algorithm(&self) -> &'static str {
        match self.alg {
            Algorithm::RS384 => "RS384",
            _ => "ES384",
        }
    }

    /// The key id: the RFC 7638 SHA-256 thumbprint of the public key,
    /// unless named otherwise ([`SigningKey::with_kid`]).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The same key under the id its owner's published key set gives it
    /// (most employers' JWK Sets name keys their own way, not by
    /// thumbprint).
    ///
    /// ```
    /// use fhir_core::caf::passport::SigningKey;
    /// let pem = std::fs::read("../profiles/examples/passport/example-employer-es384.pem").unwrap();
    /// let key = SigningKey::from_pem(&pem).unwrap().with_kid("employer-2026");
    /// assert_eq!(key.kid(), "employer-2026");
    /// assert_eq!(key.public_jwk()["kid"], "employer-2026");
    /// ```
    pub fn with_kid(mut self, kid: impl Into<String>) -> SigningKey {
        self.kid = kid.into();
        self
    }

    /// The public key as a JWK (with `kid`, `alg` and `use`), for the
    /// employer's published key set.
    pub fn public_jwk(&self) -> Value {
        let mut j = serde_json::to_value(&self.jwk).unwrap_or(Value::Null);
        j["kid"] = json!(self.kid);
        j["alg"] = json!(self.algorithm());
        j["use"] = json!("sig");
        j
    }
}

/// Signs a passport as its employer: sets `Bundle.signature` (the
/// employer, named by the identifier of the Composition's author, at
/// `when`, a FHIR instant) over the passport's canonical JSON.
///
/// # Errors
/// When the passport has no Composition author with an identifier, or
/// signing fails.
///
/// # Examples
/// ```
/// use fhir_core::caf::passport::{self, SigningKey};
/// let pem = std::fs::read("../profiles/examples/passport/example-employer-es384.pem").unwrap();
/// let key = SigningKey::from_pem(&pem).unwrap();
/// let text = std::fs::read_to_string(
///     "../profiles/fsh-generated/resources/Bundle-ngozi-passport.json").unwrap();
/// let passport: serde_json::Value = serde_json::from_str(&text).unwrap();
/// let signed = passport::sign(&passport, &key, "2026-03-02T09:05:00Z").unwrap();
/// let jwks = serde_json::json!({"keys": [key.public_jwk()]});
/// assert_eq!(passport::verify(&signed, &jwks).unwrap().kid, key.kid());
/// ```
pub fn sign(bundle: &Value, key: &SigningKey, when: &str) -> Result<Value> {
    ensure_crypto();
    let employer = WorkingCarersPassport::read(bundle)
        .employer()
        .ok_or_else(|| missing("Composition.author", "the employer, by identifier"))?;
    let header = json!({"alg": key.algorithm(), "kid": key.kid(), "sigT": when});
    let header64 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default());
    let input = signing_input(&header64, bundle);
    let sig = crypto::sign(&input, &key.key, key.alg)
        .map_err(|e| jose_error(format!("signing failed: {e}")))?;
    let jws = format!("{header64}..{sig}");
    let mut signed = bundle.clone();
    signed["signature"] = json!({
        "type": [{"system": "urn:iso-astm:E1762-95:2013", "code": AUTHORS_SIGNATURE, "display": "Author's Signature"}],
        "when": when,
        "who": employer.reference(),
        "targetFormat": FHIR_JSON,
        "sigFormat": JOSE,
        "data": STANDARD.encode(jws),
    });
    Ok(signed)
}

fn signing_input(header64: &str, bundle: &Value) -> Vec<u8> {
    let mut input = header64.as_bytes().to_vec();
    input.push(b'.');
    input.extend(URL_SAFE_NO_PAD.encode(canonical(bundle)).into_bytes());
    input
}

/// A valid signature: by which key, with which algorithm, when, by whom.
///
/// # Examples
/// See [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The key's id.
    pub kid: String,
    /// `ES384` or `RS384`.
    pub algorithm: String,
    /// When it was signed (`Bundle.signature.when`).
    pub signed_at: String,
    /// The signer (`Bundle.signature.who`).
    pub signer: Option<OrganisationId>,
}

/// Why a passport's signature does not stand.
///
/// # Examples
/// ```
/// use fhir_core::caf::passport::{verify, Rejection};
/// let unsigned = serde_json::json!({"resourceType": "Bundle", "type": "document"});
/// assert_eq!(verify(&unsigned, &serde_json::json!({"keys": []})), Err(Rejection::NotSigned));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// `Bundle.signature` is absent.
    NotSigned,
    /// The signature is not a detached ES384 or RS384 JWS over FHIR JSON
    /// as the guide makes them (the reason says how).
    Malformed(String),
    /// The key set has no key with the signature's key id.
    UnknownKey(String),
    /// The key had expired (`exp`) when the passport was signed.
    KeyExpired {
        /// The key's id.
        kid: String,
        /// The signing time.
        signed_at: String,
    },
    /// The key was not yet valid (`nbf`) when the passport was signed.
    KeyNotYetValid {
        /// The key's id.
        kid: String,
        /// The signing time.
        signed_at: String,
    },
    /// The signature does not match: the content changed after signing, or
    /// the key is not the one that signed it.
    BadSignature,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::NotSigned => f.write_str("the passport is not signed (no Bundle.signature)"),
            Rejection::Malformed(why) => write!(f, "the signature is malformed: {why}"),
            Rejection::UnknownKey(kid) => write!(f, "no key in the key set has the signature's key id {kid}"),
            Rejection::KeyExpired { kid, signed_at } => {
                write!(f, "key {kid} had expired when the passport was signed ({signed_at})")
            }
            Rejection::KeyNotYetValid { kid, signed_at } => {
                write!(f, "key {kid} was not yet valid when the passport was signed ({signed_at})")
            }
            Rejection::BadSignature => f.write_str(
                "the signature does not match: the passport changed after it was signed, or another key signed it",
            ),
        }
    }
}

impl std::error::Error for Rejection {}

/// Verifies a passport's signature against the employer's key set (a JWK
/// Set, `{"keys": [...]}`): the signing key must be in the set, valid
/// (`nbf`, `exp`) at the signing time, and the signature must match the
/// passport's content now. The key is the one the set names by the
/// signature's `kid`; failing that, the one whose RFC 7638 thumbprint is
/// that `kid` (a signature naming its key by thumbprint, against a set
/// naming it otherwise), or one the set leaves unnamed (RFC 7517 §4.5:
/// `kid` is optional) that verifies.
///
/// # Errors
/// A [`Rejection`] saying why the signature does not stand.
///
/// # Examples
/// ```
/// use fhir_core::caf::passport::{verify, Rejection};
/// let dir = "../profiles/examples/passport";
/// let read = |f: &str| -> serde_json::Value {
///     serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{f}")).unwrap()).unwrap()
/// };
/// let jwks = read("jwks.json");
/// let signed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
///     "../profiles/fsh-generated/resources/Bundle-ngozi-passport.json").unwrap()).unwrap();
/// let ok = verify(&signed, &jwks).unwrap();
/// assert_eq!(ok.algorithm, "ES384");
/// assert_eq!(verify(&read("tampered.json"), &jwks), Err(Rejection::BadSignature));
/// ```
pub fn verify(bundle: &Value, jwks: &Value) -> std::result::Result<Verified, Rejection> {
    ensure_crypto();
    let bad = |why: &str| Rejection::Malformed(why.to_string());
    let sig = bundle
        .get("signature")
        .filter(|s| !s.is_null())
        .ok_or(Rejection::NotSigned)?;
    if sig["sigFormat"] != JOSE || sig["targetFormat"] != FHIR_JSON {
        return Err(bad(
            "sigFormat must be application/jose and targetFormat application/fhir+json",
        ));
    }
    let when = sig["when"]
        .as_str()
        .ok_or_else(|| bad("Bundle.signature.when is missing"))?;
    let data = sig["data"]
        .as_str()
        .ok_or_else(|| bad("Bundle.signature.data is missing"))?;
    let jws = STANDARD
        .decode(data)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| bad("Bundle.signature.data is not base64 of a JWS"))?;
    let mut parts = jws.split('.');
    let (Some(header64), Some(""), Some(sig64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("not a detached JWS (header..signature)"));
    };
    let header: Value = URL_SAFE_NO_PAD
        .decode(header64)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("the JWS header is not base64url JSON"))?;
    let alg = match header["alg"].as_str() {
        Some("ES384") => Algorithm::ES384,
        Some("RS384") => Algorithm::RS384,
        other => return Err(bad(&format!("algorithm {other:?} is not ES384 or RS384"))),
    };
    let kid = header["kid"]
        .as_str()
        .ok_or_else(|| bad("the JWS header has no kid"))?;
    let sig_t = header["sigT"]
        .as_str()
        .ok_or_else(|| bad("the JWS header has no sigT"))?;
    let signed_at = instant(sig_t).ok_or_else(|| bad("sigT is not a date and time"))?;
    if instant(when) != Some(signed_at) {
        return Err(bad("sigT differs from Bundle.signature.when"));
    }
    let keys: Vec<&Value> = jwks["keys"].as_array().into_iter().flatten().collect();
    let by_thumbprint = |k: &&Value| {
        serde_json::from_value::<Jwk>((*k).clone())
            .ok()
            .and_then(|j| j.thumbprint(ThumbprintHash::SHA256).ok())
            .is_some_and(|t| t == kid)
    };
    let named: Vec<&Value> = match keys.iter().find(|k| k["kid"] == kid) {
        Some(k) => vec![*k],
        None => match keys.iter().find(|k| by_thumbprint(k)) {
            Some(k) => vec![*k],
            None => keys
                .iter()
                .filter(|k| k.get("kid").is_none_or(Value::is_null))
                .copied()
                .collect(),
        },
    };
    let input = signing_input(header64, bundle);
    let mut last = Rejection::UnknownKey(kid.to_string());
    for jwk_json in named {
        match check_with(jwk_json, kid, alg, &header, when, signed_at, sig64, &input) {
            Ok(()) => {
                return Ok(Verified {
                    kid: kid.to_string(),
                    algorithm: header["alg"].as_str().unwrap_or_default().to_string(),
                    signed_at: when.to_string(),
                    signer: OrganisationId::from_reference(&sig["who"]),
                })
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Checks the signature with one key of the set: its algorithm, its
/// validity at the signing time, the signature itself.
#[allow(clippy::too_many_arguments)] // the parts of one signature, named at the one call
fn check_with(
    jwk_json: &Value,
    kid: &str,
    alg: Algorithm,
    header: &Value,
    when: &str,
    signed_at: chrono::DateTime<chrono::Utc>,
    sig64: &str,
    input: &[u8],
) -> std::result::Result<(), Rejection> {
    let bad = |why: &str| Rejection::Malformed(why.to_string());
    if jwk_json
        .get("alg")
        .is_some_and(|a| a != header["alg"].as_str().unwrap_or(""))
    {
        return Err(bad(&format!("key {kid} is not for {alg:?}")));
    }
    let at = signed_at.timestamp();
    if jwk_json["exp"].as_i64().is_some_and(|exp| at >= exp) {
        return Err(Rejection::KeyExpired {
            kid: kid.into(),
            signed_at: when.into(),
        });
    }
    if jwk_json["nbf"].as_i64().is_some_and(|nbf| at < nbf) {
        return Err(Rejection::KeyNotYetValid {
            kid: kid.into(),
            signed_at: when.into(),
        });
    }
    let jwk: Jwk = serde_json::from_value(jwk_json.clone())
        .map_err(|e| bad(&format!("key {kid} is not a JWK: {e}")))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| bad(&format!("key {kid}: {e}")))?;
    match crypto::verify(sig64, input, &key, alg) {
        Ok(true) => Ok(()),
        _ => Err(Rejection::BadSignature),
    }
}

/// A FHIR instant as a UTC time.
fn instant(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.to_utc())
}

/// The `WorkingCarersPassport` profile and its `WorkingCarersPassportComposition`.
///
/// # Examples
/// ```
/// use fhir_core::caf::WorkingCarersPassport;
/// let text = std::fs::read_to_string(
///     "../profiles/fsh-generated/resources/Bundle-ngozi-passport.json").unwrap();
/// let passport: serde_json::Value = serde_json::from_str(&text).unwrap();
/// let read = WorkingCarersPassport::read(&passport);
/// assert_eq!(read.adjustments()[0].0, "flexible-hours");
/// ```
pub struct WorkingCarersPassport;

impl WorkingCarersPassport {
    /// A builder: the carer's Patient, the employer's Organization (with an
    /// identifier: ODS code or another) and whoever agreed (a Practitioner
    /// or PractitionerRole), each with an id; the base URL the entries'
    /// `fullUrl`s start with.
    ///
    /// See [`WorkingCarersPassportBuilder`] for an example.
    pub fn builder(base: &str) -> WorkingCarersPassportBuilder {
        WorkingCarersPassportBuilder {
            base: base.trim_end_matches('/').to_string(),
            ..Default::default()
        }
    }

    /// Typed access to a passport.
    ///
    /// See [`WorkingCarersPassportReader`] for an example.
    pub fn read(resource: &Value) -> WorkingCarersPassportReader<'_> {
        WorkingCarersPassportReader(resource)
    }

    /// What a new employer does with a passport a carer brings: verify the
    /// previous employer's signature with that employer's key set, and only
    /// then start a passport of its own with the same carer, caring account
    /// and adjustments, replacing the previous one (`Composition.relatesTo`).
    /// The new employer then names itself, who agreed, the identifier, date
    /// and review date, builds, and signs.
    ///
    /// # Errors
    /// The [`Rejection`] when the previous passport's signature does not
    /// stand: nothing is adopted from it.
    ///
    /// # Examples
    /// ```
    /// use fhir_core::caf::{OrganisationId, WorkingCarersPassport};
    /// use fhir_core::caf::passport::Rejection;
    /// let read = |f: &str| -> serde_json::Value {
    ///     serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap()
    /// };
    /// let previous = read("../profiles/fsh-generated/resources/Bundle-ngozi-passport.json");
    /// let jwks = read("../profiles/examples/passport/jwks.json");
    /// let employer = serde_json::json!({"resourceType": "Organization", "id": "new-employer",
    ///     "identifier": [{"system": "https://find-and-update.company-information.service.gov.uk/company",
    ///                     "value": "01234567"}], "name": "Example Care Ltd"});
    /// let manager = serde_json::json!({"resourceType": "Practitioner", "id": "m2",
    ///     "name": [{"family": "Khan", "given": ["Aisha"]}]});
    /// let next = WorkingCarersPassport::adopt(&previous, &jwks).unwrap()
    ///     .employer(employer).agreed_by(manager).identifier("ECL-WCP-0001")
    ///     .date("2026-09-01T09:00:00Z").review_date("2027-09-01").build().unwrap();
    /// let r = WorkingCarersPassport::read(&next);
    /// assert_eq!(r.adjustments(), WorkingCarersPassport::read(&previous).adjustments());
    /// assert_eq!(r.replaces(), Some("RX1-WCP-2026-0012"));
    /// // A tampered passport is not adopted:
    /// let tampered = read("../profiles/examples/passport/tampered.json");
    /// assert_eq!(WorkingCarersPassport::adopt(&tampered, &jwks).unwrap_err(), Rejection::BadSignature);
    /// ```
    pub fn adopt(
        previous: &Value,
        previous_employer_keys: &Value,
    ) -> std::result::Result<WorkingCarersPassportBuilder, Rejection> {
        verify(previous, previous_employer_keys)?;
        let r = WorkingCarersPassport::read(previous);
        let mut b = WorkingCarersPassport::builder(r.base().unwrap_or(CANONICAL));
        if let Some(carer) = r.carer() {
            b = b.carer(carer.clone());
        }
        if let Some(text) = r.caring() {
            b.caring = Some(text.to_string());
        }
        for (code, text) in r.adjustments() {
            b.adjustments.push((code.to_string(), text.to_string()));
        }
        b.replaces = r.identifier().map(str::to_string);
        Ok(b)
    }
}

/// Builds a `WorkingCarersPassport` (unsigned: [`sign`] signs it).
///
/// # Examples
/// ```
/// use fhir_core::caf::WorkingCarersPassport;
/// let carer = serde_json::json!({"resourceType": "Patient", "id": "ngozi",
///     "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9991234055"}]});
/// let employer = serde_json::json!({"resourceType": "Organization", "id": "rx1",
///     "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RX1"}]});
/// let manager = serde_json::json!({"resourceType": "Practitioner", "id": "dev"});
/// let p = WorkingCarersPassport::builder("https://fhir.example-trust.nhs.uk/fhir")
///     .identifier("RX1-WCP-1")
///     .carer(carer)
///     .employer(employer)
///     .agreed_by(manager)
///     .date("2026-03-02T09:00:00Z")
///     .review_date("2027-03-01")
///     .caring("I care for my mother-in-law.")
///     .adjustment("flexible-hours", "Early shifts start at 08:30.").unwrap()
///     .adjustment("phone-access", "Phone on the ward.").unwrap()
///     .build()
///     .unwrap();
/// assert_eq!(p["type"], "document");
/// assert_eq!(WorkingCarersPassport::read(&p).review_date(), Some("2027-03-01"));
/// // Adjustments are coded:
/// assert!(WorkingCarersPassport::builder("https://x").adjustment("free-lunch", "").is_err());
/// ```
#[derive(Debug, Default, Clone)]
pub struct WorkingCarersPassportBuilder {
    base: String,
    identifier: Option<String>,
    carer: Option<Value>,
    employer: Option<Value>,
    agreed_by: Vec<Value>,
    date: Option<String>,
    review: Option<String>,
    caring: Option<String>,
    adjustments: Vec<(String, String)>,
    replaces: Option<String>,
}

impl WorkingCarersPassportBuilder {
    /// The passport's identifier (required).
    pub fn identifier(mut self, id: &str) -> Self {
        self.identifier = Some(id.into());
        self
    }
    /// The carer's Patient resource, with an id (required).
    pub fn carer(mut self, patient: Value) -> Self {
        self.carer = Some(patient);
        self
    }
    /// The employer's Organization, with an id and an identifier (required).
    pub fn employer(mut self, organization: Value) -> Self {
        self.employer = Some(organization);
        self
    }
    /// Who agreed the adjustments for the employer (a Practitioner or
    /// PractitionerRole, with an id; at least one). The carer agrees too.
    pub fn agreed_by(mut self, who: Value) -> Self {
        self.agreed_by.push(who);
        self
    }
    /// When it was agreed (a FHIR dateTime; required).
    pub fn date(mut self, when: &str) -> Self {
        self.date = Some(when.into());
        self
    }
    /// When it is to be reviewed (required).
    pub fn review_date(mut self, date: &str) -> Self {
        self.review = Some(date.into());
        self
    }
    /// What the carer chooses to tell an employer about their caring.
    pub fn caring(mut self, text: &str) -> Self {
        self.caring = Some(text.into());
        self
    }
    /// An agreed adjustment (see [`WORKPLACE_ADJUSTMENTS`]) and what was
    /// agreed, in words.
    ///
    /// # Errors
    /// When the code is not a workplace adjustment.
    pub fn adjustment(mut self, code: &str, agreed: &str) -> Result<Self> {
        check_code(
            "Composition.section.code",
            "workplace adjustment",
            code,
            WORKPLACE_ADJUSTMENTS,
        )?;
        self.adjustments.push((code.into(), agreed.into()));
        Ok(self)
    }

    /// The document: the Composition, then the carer, the employer and
    /// whoever agreed.
    ///
    /// # Errors
    /// When an element is missing, a resource has no id, the employer has
    /// no identifier, or there is no adjustment.
    pub fn build(self) -> Result<Value> {
        let id = require(
            self.identifier,
            "Bundle.identifier",
            "the passport's identifier",
        )?;
        let carer = require(self.carer, "Composition.subject", "the carer")?;
        let employer = require(self.employer, "Composition.author", "the employer")?;
        let when = require(self.date, "Composition.date", "when it was agreed")?;
        let review = require(
            self.review,
            "Composition.extension('review-date')",
            "the review date",
        )?;
        if self.agreed_by.is_empty() {
            return Err(missing(
                "Composition.attester",
                "who agreed for the employer",
            ));
        }
        if self.adjustments.is_empty() {
            return Err(missing("Composition.section", "an agreed adjustment"));
        }
        if !employer["identifier"][0]["system"].is_string()
            || !employer["identifier"][0]["value"].is_string()
        {
            return Err(missing(
                "Organization.identifier",
                "the employer's identifier (ODS code or another)",
            ));
        }
        let rel = |r: &Value| -> Result<String> {
            let rt = r["resourceType"].as_str().unwrap_or("Resource");
            let rid = r["id"].as_str().ok_or_else(|| {
                missing(
                    &format!("Bundle.entry.resource.ofType({rt}).id"),
                    "a resource id",
                )
            })?;
            Ok(format!("{rt}/{rid}"))
        };
        let (carer_ref, employer_ref) = (rel(&carer)?, rel(&employer)?);
        let mut attesters =
            vec![json!({"mode": "personal", "time": when, "party": reference(&carer_ref)})];
        let mut others = Vec::new();
        for who in &self.agreed_by {
            attesters.push(
                json!({"mode": "professional", "time": when, "party": reference(&rel(who)?)}),
            );
            others.push(who.clone());
        }
        let div = |text: &str| {
            json!({"status": "additional",
                   "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{}</p></div>", escape(text))})
        };
        let mut sections = Vec::new();
        if let Some(text) = &self.caring {
            sections.push(json!({"title": "About my caring",
                "code": coding(&code_system("working-carer-document"), "caring"), "text": div(text)}));
        }
        for (code, text) in &self.adjustments {
            sections.push(json!({"code": coding(&code_system("workplace-adjustment"), code), "text": div(text)}));
        }
        let composition_id = format!(
            "wcp-{}",
            id.to_ascii_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        );
        let mut composition = json!({
            "resourceType": "Composition",
            "id": composition_id,
            "meta": meta("WorkingCarersPassportComposition", "Composition"),
            "extension": [ext("review-date", "valueDate", json!(review))],
            "status": "final",
            "type": {"coding": [{"system": code_system("working-carer-document"), "code": "working-carers-passport",
                                 "display": "Working carer's passport"}]},
            "subject": reference(&carer_ref),
            "date": when,
            "author": [reference(&employer_ref)],
            "title": "Working carer's passport",
            "attester": attesters,
            "section": sections,
        });
        if let Some(previous) = &self.replaces {
            composition["relatesTo"] = json!([{"code": "replaces", "targetIdentifier":
                {"system": format!("{CANONICAL}/Id/working-carers-passport"), "value": previous}}]);
        }
        let mut entries = vec![
            json!({"fullUrl": format!("{}/Composition/{composition_id}", self.base), "resource": composition}),
        ];
        for r in [carer, employer].into_iter().chain(others) {
            entries.push(json!({"fullUrl": format!("{}/{}", self.base, rel(&r)?), "resource": r}));
        }
        Ok(json!({
            "resourceType": "Bundle",
            "meta": meta("WorkingCarersPassport", "Bundle"),
            "identifier": {"system": format!("{CANONICAL}/Id/working-carers-passport"), "value": id},
            "type": "document",
            "timestamp": when,
            "entry": entries,
        }))
    }
}

/// Text for XHTML: the five characters XML reserves, escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The text of an XHTML div, tags dropped and the five entities read back.
fn text_of(div: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in div.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Typed access to a `WorkingCarersPassport`.
///
/// # Examples
/// ```
/// use fhir_core::caf::{OrganisationId, WorkingCarersPassport};
/// let text = std::fs::read_to_string(
///     "../profiles/fsh-generated/resources/Bundle-ngozi-passport.json").unwrap();
/// let passport: serde_json::Value = serde_json::from_str(&text).unwrap();
/// let read = WorkingCarersPassport::read(&passport);
/// assert_eq!(read.identifier(), Some("RX1-WCP-2026-0012"));
/// assert_eq!(read.employer(), Some(OrganisationId::Ods("RX1".parse().unwrap())));
/// assert_eq!(read.carer().unwrap()["id"], "ngozi-okafor");
/// assert_eq!(read.review_date(), Some("2027-03-01"));
/// assert_eq!(read.adjustments().len(), 3);
/// assert_eq!(read.agreed_by().len(), 2);
/// assert!(read.is_signed());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct WorkingCarersPassportReader<'a>(&'a Value);

impl<'a> WorkingCarersPassportReader<'a> {
    /// The Composition (the first entry).
    pub fn composition(&self) -> Option<&'a Value> {
        let first = &self.0["entry"][0]["resource"];
        (first["resourceType"] == "Composition").then_some(first)
    }
    /// The passport's identifier.
    pub fn identifier(&self) -> Option<&'a str> {
        self.0["identifier"]["value"].as_str()
    }
    /// The carer's Patient resource.
    pub fn carer(&self) -> Option<&'a Value> {
        self.resolve(reference_of(&self.composition()?["subject"])?)
    }
    /// The employer, by identifier (the Composition's author's).
    pub fn employer(&self) -> Option<OrganisationId> {
        let org = self.resolve(reference_of(&self.composition()?["author"][0])?)?;
        OrganisationId::from_reference(&json!({"identifier": org["identifier"][0]}))
    }
    /// The resources of whoever agreed (the attesters: the carer and the
    /// employer's manager).
    pub fn agreed_by(&self) -> Vec<&'a Value> {
        self.composition()
            .and_then(|c| c["attester"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|a| self.resolve(reference_of(&a["party"])?))
            .collect()
    }
    /// When it is to be reviewed.
    pub fn review_date(&self) -> Option<&'a str> {
        extension_value(self.composition()?, "review-date", "valueDate")?.as_str()
    }
    /// What the carer wrote about their caring.
    pub fn caring(&self) -> Option<String> {
        self.sections()
            .find(|s| first_code(&s["code"]) == Some("caring"))
            .and_then(|s| s["text"]["div"].as_str())
            .map(text_of)
    }
    /// The agreed adjustments: each code (see [`WORKPLACE_ADJUSTMENTS`]) and
    /// what was agreed, in the passport's order.
    pub fn adjustments(&self) -> Vec<(&'a str, String)> {
        self.sections()
            .filter_map(|s| {
                let code = first_code(&s["code"]).filter(|c| WORKPLACE_ADJUSTMENTS.contains(c))?;
                Some((code, text_of(s["text"]["div"].as_str().unwrap_or(""))))
            })
            .collect()
    }
    /// The identifier of the passport this one replaces (from a previous
    /// employer).
    pub fn replaces(&self) -> Option<&'a str> {
        self.composition()?["relatesTo"]
            .as_array()?
            .iter()
            .find(|r| r["code"] == "replaces")?["targetIdentifier"]["value"]
            .as_str()
    }
    /// True when it carries a signature (see [`verify`] for whether it stands).
    pub fn is_signed(&self) -> bool {
        self.0["signature"].is_object()
    }

    /// The base of the entries' full URLs (the part before `Composition/…`).
    fn base(&self) -> Option<&'a str> {
        let url = self.0["entry"][0]["fullUrl"].as_str()?;
        url.rsplit_once("/Composition/").map(|(b, _)| b)
    }

    fn sections(&self) -> impl Iterator<Item = &'a Value> {
        self.composition()
            .and_then(|c| c["section"].as_array())
            .into_iter()
            .flatten()
    }

    fn resolve(&self, r: &str) -> Option<&'a Value> {
        self.0["entry"].as_array()?.iter().find_map(|e| {
            let url = e["fullUrl"].as_str()?;
            let hit = url == r || url.strip_suffix(r).is_some_and(|b| b.ends_with('/'));
            hit.then_some(&e["resource"])
        })
    }
}

/// The `WorkingCarerFlag` profile: on an employer's staff record, that the
/// member of staff is a carer with a passport.
///
/// # Examples
/// ```
/// use fhir_core::caf::WorkingCarerFlag;
/// let f = WorkingCarerFlag::builder().staff("Practitioner/ngozi").employer("Organization/rx1")
///     .start("2026-03-02").build().unwrap();
/// assert!(WorkingCarerFlag::read(&f).is_active());
/// ```
pub struct WorkingCarerFlag;

impl WorkingCarerFlag {
    /// A builder: the staff record, the employer and the start are required.
    ///
    /// See [`WorkingCarerFlagBuilder`] for an example.
    pub fn builder() -> WorkingCarerFlagBuilder {
        WorkingCarerFlagBuilder::default()
    }

    /// Typed access.
    ///
    /// See [`WorkingCarerFlagReader`] for an example.
    pub fn read(resource: &Value) -> WorkingCarerFlagReader<'_> {
        WorkingCarerFlagReader(resource)
    }
}

/// Builds a `WorkingCarerFlag`.
///
/// # Examples
/// ```
/// use fhir_core::caf::WorkingCarerFlag;
/// let f = WorkingCarerFlag::builder().staff("Practitioner/ngozi").employer("Organization/rx1")
///     .start("2026-03-02").end("2027-01-31").build().unwrap();
/// assert_eq!(f["status"], "inactive");
/// assert!(WorkingCarerFlag::builder().staff("Practitioner/ngozi").start("2026-03-02")
///     .build().is_err()); // whose flag it is must be said
/// ```
#[derive(Debug, Default, Clone)]
pub struct WorkingCarerFlagBuilder {
    staff: Option<String>,
    employer: Option<String>,
    start: Option<String>,
    end: Option<String>,
}

impl WorkingCarerFlagBuilder {
    /// The member of staff's record, a Practitioner (required).
    pub fn staff(mut self, practitioner: &str) -> Self {
        self.staff = Some(practitioner.into());
        self
    }
    /// The employer, an Organization (required).
    pub fn employer(mut self, organization: &str) -> Self {
        self.employer = Some(organization.into());
        self
    }
    /// When it was raised (required).
    pub fn start(mut self, date: &str) -> Self {
        self.start = Some(date.into());
        self
    }
    /// When it closed: the flag becomes inactive.
    pub fn end(mut self, date: &str) -> Self {
        self.end = Some(date.into());
        self
    }

    /// The resource.
    ///
    /// # Errors
    /// When an element is missing or the end precedes the start.
    pub fn build(self) -> Result<Value> {
        let staff = require(self.staff, "Flag.subject", "the staff record")?;
        let employer = require(self.employer, "Flag.author", "the employer")?;
        let start = require(self.start, "Flag.period.start", "when the flag was raised")?;
        let mut period = json!({ "start": start });
        if let Some(end) = &self.end {
            if end.as_str() < start.as_str() {
                return Err(invalid("Flag.period", format!("{end} is before {start}")));
            }
            period["end"] = json!(end);
        }
        Ok(json!({
            "resourceType": "Flag",
            "meta": meta("WorkingCarerFlag", "Flag"),
            "status": if self.end.is_some() { "inactive" } else { "active" },
            "code": coding(&code_system("employer-flag"), "working-carer"),
            "subject": reference(&staff),
            "period": period,
            "author": reference(&employer),
        }))
    }
}

/// Typed access to a `WorkingCarerFlag`.
///
/// # Examples
/// ```
/// use fhir_core::caf::WorkingCarerFlag;
/// let f = WorkingCarerFlag::builder().staff("Practitioner/ngozi").employer("Organization/rx1")
///     .start("2026-03-02").build().unwrap();
/// let read = WorkingCarerFlag::read(&f);
/// assert_eq!(read.staff(), Some("Practitioner/ngozi"));
/// assert_eq!(read.employer(), Some("Organization/rx1"));
/// assert_eq!(read.start(), Some("2026-03-02"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct WorkingCarerFlagReader<'a>(&'a Value);

impl<'a> WorkingCarerFlagReader<'a> {
    /// The staff record.
    pub fn staff(&self) -> Option<&'a str> {
        reference_of(&self.0["subject"])
    }
    /// The employer.
    pub fn employer(&self) -> Option<&'a str> {
        reference_of(&self.0["author"])
    }
    /// When it was raised.
    pub fn start(&self) -> Option<&'a str> {
        self.0["period"]["start"].as_str()
    }
    /// True while active and not ended.
    pub fn is_active(&self) -> bool {
        self.0["status"] == "active" && self.0["period"]["end"].is_null()
    }
}
