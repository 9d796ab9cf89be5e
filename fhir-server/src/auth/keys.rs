//! Keys: making ES384 and RS384 key pairs (PKCS#8 PEM private keys, JWK
//! public keys), and reading a private key to sign with. The arithmetic
//! is RustCrypto's (`p384`, `rsa`); signing and verifying are
//! `jsonwebtoken`'s. The only thing written here is the JWK's JSON shape
//! (RFC 7517/7518), which these crates do not produce.

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A key pair: the private key (PKCS#8 PEM) and its public JWK.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// `ES384` or `RS384`.
    pub algorithm: Algorithm,
    /// PKCS#8, PEM.
    pub private_pem: String,
    /// The public key as a JWK, with `kid`, `alg` and `use`.
    pub public_jwk: Value,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The RFC 7638 thumbprint of a public JWK: its `kid` here.
fn thumbprint(required: &Value) -> String {
    // The required members in lexicographic order, no whitespace.
    let text = serde_json::to_string(required).unwrap_or_default();
    b64url(&Sha256::digest(text.as_bytes()))
}

/// Makes a new key pair for `algorithm` (`ES384` or `RS384`).
///
/// # Errors
/// For another algorithm, or when the key cannot be encoded.
pub fn generate(algorithm: Algorithm) -> anyhow::Result<KeyPair> {
    use p384::pkcs8::{EncodePrivateKey, LineEnding};
    use rsa::traits::PublicKeyParts;
    use rsa::Generate;
    let (private_pem, mut jwk) = match algorithm {
        Algorithm::ES384 => {
            let secret = p384::SecretKey::generate();
            let pem = secret
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("encoding the key: {e}"))?
                .to_string();
            let point = secret.public_key().to_sec1_bytes();
            // Uncompressed SEC1: 0x04, then x and y of 48 bytes each.
            anyhow::ensure!(
                point.len() == 97 && point[0] == 4,
                "unexpected P-384 point encoding"
            );
            let jwk = json!({"crv": "P-384", "kty": "EC", "x": b64url(&point[1..49]), "y": b64url(&point[49..])});
            (pem, jwk)
        }
        Algorithm::RS384 => {
            let key = rsa::PrivateKey::generate();
            let pem = rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(&key, rsa::pkcs8::LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("encoding the key: {e}"))?
                .to_string();
            let public = key.to_public_key();
            let jwk = json!({"e": b64url(&public.e_bytes()), "kty": "RSA", "n": b64url(&public.n_bytes())});
            (pem, jwk)
        }
        other => anyhow::bail!("{other:?} keys are not supported: use ES384 or RS384"),
    };
    let kid = thumbprint(&jwk);
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(format!("{algorithm:?}"));
    jwk["use"] = json!("sig");
    Ok(KeyPair {
        algorithm,
        private_pem,
        public_jwk: jwk,
    })
}

/// A JWKS holding one public key.
pub fn jwks_of(jwk: &Value) -> Value {
    json!({"keys": [jwk]})
}

/// A private key (PKCS#8 PEM, EC P-384 or RSA) to sign with, and its
/// algorithm.
///
/// # Errors
/// When the PEM is neither.
pub fn signing_key(pem: &str) -> anyhow::Result<(Algorithm, EncodingKey)> {
    if let Ok(k) = EncodingKey::from_ec_pem(pem.as_bytes()) {
        return Ok((Algorithm::ES384, k));
    }
    if let Ok(k) = EncodingKey::from_rsa_pem(pem.as_bytes()) {
        return Ok((Algorithm::RS384, k));
    }
    anyhow::bail!("the key is not a PKCS#8 PEM EC P-384 or RSA private key")
}

/// Installs the JOSE crate's cryptography (RustCrypto) for this process;
/// harmless when already installed.
pub fn install_crypto() {
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_what_their_jwk_verifies() {
        install_crypto();
        for alg in [Algorithm::ES384, Algorithm::RS384] {
            let pair = generate(alg).unwrap();
            let (found, key) = signing_key(&pair.private_pem).unwrap();
            assert_eq!(found, alg);
            let mut header = jsonwebtoken::Header::new(alg);
            header.kid = pair.public_jwk["kid"].as_str().map(str::to_string);
            let claims = json!({"sub": "x", "exp": 4_000_000_000u64});
            let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
            let jwk: jsonwebtoken::jwk::Jwk =
                serde_json::from_value(pair.public_jwk.clone()).unwrap();
            let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
            let mut v = jsonwebtoken::Validation::new(alg);
            v.validate_aud = false;
            let data = jsonwebtoken::decode::<Value>(&token, &decoding, &v).unwrap();
            assert_eq!(data.claims["sub"], "x");
            // Another key of the same kind does not verify it.
            let other = generate(alg).unwrap();
            let jwk2: jsonwebtoken::jwk::Jwk = serde_json::from_value(other.public_jwk).unwrap();
            assert!(jsonwebtoken::decode::<Value>(
                &token,
                &jsonwebtoken::DecodingKey::from_jwk(&jwk2).unwrap(),
                &v
            )
            .is_err());
        }
    }
}
