//! `carer-fhir passport sign FILE --key PRIVATE_KEY.pem [-o OUT]` and
//! `carer-fhir passport verify FILE --jwks JWKS.json`: the employer's
//! signature on a working carer's passport (`fhir_core::caf::passport`).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};
use fhir_core::caf::passport::{self, SigningKey};
use fhir_core::format::{self, Format};

use super::Failure;

/// The `passport` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Sign a working carer's passport as its employer: writes the passport
    /// with Bundle.signature (a detached ES384 or RS384 JWS, by the key's
    /// type) to OUT, or to standard output.
    Sign {
        /// The passport (a WorkingCarersPassport document Bundle, JSON or XML).
        file: PathBuf,
        /// The employer's private key: PKCS#8 PEM, P-384 EC or RSA (2048 bits or more).
        #[arg(long)]
        key: PathBuf,
        /// Where to write the signed passport (JSON); standard output by default.
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
        /// The key's id as the employer's published JWK Set names it;
        /// default: the key's RFC 7638 thumbprint. (Verification finds the
        /// key either way.)
        #[arg(long)]
        kid: Option<String>,
    },
    /// Verify a passport's signature against the employer's key set: exit 0
    /// when it stands and the content is unchanged, 1 with the reason
    /// otherwise.
    Verify {
        /// The passport.
        file: PathBuf,
        /// The employer's public keys, a JWK Set (`{"keys": [...]}`).
        #[arg(long)]
        jwks: PathBuf,
    },
}

fn read_resource(path: &Path) -> Result<serde_json::Value, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))
        .map_err(Failure::input)?;
    let fmt = Format::from_path(path).unwrap_or(Format::Json);
    format::parse(&text, fmt).map_err(|e| Failure::input(anyhow!("{}: {e}", path.display())))
}

pub(super) fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Sign {
            file,
            key,
            out,
            kid,
        } => {
            let passport = read_resource(&file)?;
            let pem = std::fs::read(&key)
                .with_context(|| format!("reading {}", key.display()))
                .map_err(Failure::input)?;
            let mut key = SigningKey::from_pem(&pem)
                .map_err(|e| Failure::input(anyhow!("{}: {e}", key.display())))?;
            if let Some(kid) = kid {
                key = key.with_kid(kid);
            }
            // Signing time to the second, in UTC, as FHIR instants are written.
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let signed = passport::sign(&passport, &key, &now).map_err(Failure::input)?;
            let text = serde_json::to_string_pretty(&signed)? + "\n";
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
            eprintln!("signed with {} key {}", key.algorithm(), key.kid());
            Ok(())
        }
        Command::Verify { file, jwks } => {
            let passport = read_resource(&file)?;
            let keys: serde_json::Value = std::fs::read_to_string(&jwks)
                .with_context(|| format!("reading {}", jwks.display()))
                .and_then(|t| serde_json::from_str(&t).context("the key set is not JSON"))
                .map_err(Failure::input)?;
            match passport::verify(&passport, &keys) {
                Ok(v) => {
                    println!(
                        "valid: signed {} by {} with {} key {}",
                        v.signed_at,
                        v.signer
                            .map(|s| format!("{}|{}", s.system(), s.value()))
                            .unwrap_or_else(|| "an unnamed signer".into()),
                        v.algorithm,
                        v.kid
                    );
                    Ok(())
                }
                Err(why) => Err(Failure::from(anyhow!("not valid: {why}"))),
            }
        }
    }
}
