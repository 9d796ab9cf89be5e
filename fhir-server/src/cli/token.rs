//! `carer-fhir token --client ID --key FILE [--scope S] [--server URL]`:
//! the SMART Backend Services exchange, as a client does it, printing the
//! access token.

use std::path::PathBuf;

use super::Failure;
use crate::auth::JWT_BEARER;

/// The `token` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The client id.
    #[arg(long)]
    pub client: String,
    /// The client's private key (PKCS#8 PEM, EC P-384 or RSA).
    #[arg(long)]
    pub key: PathBuf,
    /// The scopes to ask for.
    #[arg(long, default_value = "system/*.rs")]
    pub scope: String,
    /// The FHIR server's base URL (its token endpoint is found in its
    /// /.well-known/smart-configuration).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The token endpoint, when it is not the one the server advertises.
    #[arg(long)]
    pub token_url: Option<String>,
    /// The kid of the key, when the client registered several.
    #[arg(long)]
    pub kid: Option<String>,
}

pub(super) fn run(args: Args) -> Result<(), Failure> {
    let pem = std::fs::read_to_string(&args.key)
        .map_err(|e| Failure::input(anyhow::anyhow!("reading {}: {e}", args.key.display())))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let token = runtime.block_on(async {
        let http = reqwest::Client::new();
        let base = args.server.trim_end_matches('/');
        let token_url = match &args.token_url {
            Some(u) => u.clone(),
            None => {
                let conf: serde_json::Value = http
                    .get(format!("{base}/.well-known/smart-configuration"))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                conf["token_endpoint"]
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("{base} advertises no token_endpoint"))?
                    .to_string()
            }
        };
        let assertion =
            crate::auth::client_assertion(&args.client, &token_url, &pem, args.kid.as_deref())?;
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", args.scope.as_str()),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.as_str()),
        ];
        let resp = http.post(&token_url).form(&form).send().await?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        if !status.is_success() {
            anyhow::bail!(
                "{token_url} refused: {} ({})",
                body["error"].as_str().unwrap_or("?"),
                body["error_description"].as_str().unwrap_or("")
            );
        }
        eprintln!(
            "granted: {} (expires in {} s)",
            body["scope"].as_str().unwrap_or(""),
            body["expires_in"]
        );
        body["access_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("{token_url} answered without an access_token"))
    })?;
    println!("{token}");
    Ok(())
}
