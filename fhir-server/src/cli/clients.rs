//! `carer-fhir clients add|list|remove|keygen`: the system clients that may
//! ask this server for tokens, stored in its database.

use std::path::PathBuf;
use std::sync::Arc;

use super::Failure;
use crate::auth::clients::{Client, Role};
use crate::auth::scopes::Scopes;
use crate::auth::{client_of, keys, record_of};
use crate::store::sql::SqlStore;
use crate::store::AuthStore;

/// The `clients` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Register a client (or replace its registration).
    Add {
        /// The client id (its assertions' `iss` and `sub`).
        client_id: String,
        /// Its organisation's ODS code.
        #[arg(long)]
        ods: String,
        /// gp-practice, local-authority, carers-organisation, emergency-responder or admin.
        #[arg(long)]
        role: String,
        /// Its public keys: a JWKS file.
        #[arg(long)]
        jwks: PathBuf,
        /// The scopes it may be granted, space-separated (`system/*.rs system/Observation.cruds`).
        #[arg(long)]
        scopes: String,
        /// A purpose of use (v3 ActReason, as in CafConsent); repeatable.
        /// Default CAREMGT, or ETREAT for an emergency responder.
        #[arg(long = "purpose")]
        purposes: Vec<String>,
        /// A name for people.
        #[arg(long)]
        name: Option<String>,
        /// The server's database.
        #[arg(long, default_value = "sqlite:carer-fhir.sqlite")]
        database: String,
    },
    /// List the registered clients.
    List {
        /// The server's database.
        #[arg(long, default_value = "sqlite:carer-fhir.sqlite")]
        database: String,
    },
    /// Remove a client: it gets no more tokens, and the tokens already
    /// issued to it are refused from the server's next request.
    Remove {
        /// The client id.
        client_id: String,
        /// The server's database.
        #[arg(long, default_value = "sqlite:carer-fhir.sqlite")]
        database: String,
    },
    /// Make a key pair for a client: the private key (PKCS#8 PEM, kept by
    /// the client) and its public JWKS (for `clients add --jwks`).
    Keygen {
        /// Where to write the private key.
        #[arg(long)]
        key: PathBuf,
        /// Where to write the public JWKS.
        #[arg(long)]
        jwks: PathBuf,
        /// ES384 or RS384.
        #[arg(long, default_value = "ES384")]
        alg: String,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

async fn store(database: &str) -> Result<Arc<SqlStore>, Failure> {
    Ok(Arc::new(
        SqlStore::connect(database).await.map_err(Failure::input)?,
    ))
}

pub(super) fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Add {
            client_id,
            ods,
            role,
            jwks,
            scopes,
            purposes,
            name,
            database,
        } => {
            let role: Role = role
                .parse()
                .map_err(|e: String| Failure::input(anyhow::anyhow!(e)))?;
            let text = std::fs::read_to_string(&jwks)
                .map_err(|e| Failure::input(anyhow::anyhow!("reading {}: {e}", jwks.display())))?;
            let jwks: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                Failure::input(anyhow::anyhow!("{} is not JSON: {e}", jwks.display()))
            })?;
            let purposes = if purposes.is_empty() {
                vec![role.default_purpose().to_string()]
            } else {
                purposes
            };
            let client = Client {
                name: name.unwrap_or_else(|| client_id.clone()),
                id: client_id,
                organisation: ods,
                role,
                scopes: Scopes::parse(&scopes),
                purposes,
                jwks,
            };
            client
                .check()
                .map_err(|e| Failure::input(anyhow::anyhow!(e)))?;
            runtime()?.block_on(async {
                store(&database)
                    .await?
                    .put_client(&record_of(&client))
                    .await?;
                Ok::<(), Failure>(())
            })?;
            println!(
                "registered {} ({}, {} {}) with scopes {}",
                client.id, client.name, client.role, client.organisation, client.scopes
            );
            Ok(())
        }
        Command::List { database } => {
            let list = runtime()?
                .block_on(async { Ok::<_, Failure>(store(&database).await?.clients().await?) })?;
            for r in &list {
                match client_of(r) {
                    Ok(c) => println!(
                        "{}\t{}\t{}\t{}\tpurposes: {}\tkeys: {}\t{}",
                        c.id,
                        c.role,
                        c.organisation,
                        c.scopes,
                        c.purposes.join(" "),
                        c.jwks["keys"].as_array().map(Vec::len).unwrap_or(0),
                        c.name
                    ),
                    Err(e) => println!("{}\t(unreadable registration: {e})", r.id),
                }
            }
            if list.is_empty() {
                println!("no clients are registered");
            }
            Ok(())
        }
        Command::Remove {
            client_id,
            database,
        } => {
            let removed = runtime()?.block_on(async {
                Ok::<_, Failure>(store(&database).await?.remove_client(&client_id).await?)
            })?;
            if removed {
                println!("removed {client_id}");
                Ok(())
            } else {
                Err(Failure {
                    code: 1,
                    error: anyhow::anyhow!("{client_id} is not registered"),
                })
            }
        }
        Command::Keygen { key, jwks, alg } => {
            let algorithm = match alg.as_str() {
                "ES384" => jsonwebtoken::Algorithm::ES384,
                "RS384" => jsonwebtoken::Algorithm::RS384,
                other => {
                    return Err(Failure::input(anyhow::anyhow!(
                        "--alg {other}: use ES384 or RS384"
                    )))
                }
            };
            keys::install_crypto();
            let pair = keys::generate(algorithm)?;
            write_private(&key, &pair.private_pem)?;
            std::fs::write(
                &jwks,
                serde_json::to_string_pretty(&keys::jwks_of(&pair.public_jwk))?,
            )?;
            println!(
                "wrote the private key to {} and its public JWKS to {} (kid {})",
                key.display(),
                jwks.display(),
                pair.public_jwk["kid"].as_str().unwrap_or("")
            );
            Ok(())
        }
    }
}

/// Writes a private key readable by its owner only.
fn write_private(path: &std::path::Path, pem: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(pem.as_bytes())?;
    Ok(())
}
