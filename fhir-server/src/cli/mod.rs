//! The `carer-fhir` command line.
//!
//! Each subcommand parses its arguments (clap), calls the library, prints
//! the result, and turns errors into a message and an exit code:
//! 0 success, 1 a failure of the work itself, 2 unusable input.

mod clients;
mod convert;
mod fhirpath;
mod import;
mod packages;
mod passport;
mod token;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// carer-fhir: the FHIR R4 data layer for carers' data (CAF for adults).
#[derive(Parser, Debug)]
#[command(name = "carer-fhir", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Convert a resource between FHIR JSON and FHIR XML.
    Convert(convert::Args),
    /// Evaluate a FHIRPath expression on a resource and print the result as JSON.
    Fhirpath(fhirpath::Args),
    /// Load NDJSON files or Bundles into a FHIR server (--server) or a
    /// database (--database), validating each resource, with progress and
    /// the rate in resources/s. Exit 0: all loaded, 1: some refused, 2:
    /// unusable input.
    Import(import::Args),
    /// Install and list FHIR packages (base R4 and others).
    Packages {
        /// What to do with packages.
        #[command(subcommand)]
        command: packages::Command,
    },
    /// Validate resources against base R4, the profiles they claim, and any
    /// --profile; prints one OperationOutcome per file. Exit 0: no errors,
    /// 1: errors found, 2: unusable input.
    Validate(validate::Args),
    /// Sign or verify a working carer's passport (the employer's JWS).
    Passport {
        /// Sign, or verify.
        #[command(subcommand)]
        command: passport::Command,
    },
    /// Run the FHIR R4 REST server until SIGINT or SIGTERM.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
        /// Database: sqlite:PATH (default sqlite:carer-fhir.sqlite in the
        /// working directory, created on first start) or postgres://…
        #[arg(long, default_value = "sqlite:carer-fhir.sqlite")]
        database: String,
        /// Extra FHIR packages to load (UK Core, any folder, .tgz or
        /// Bundle); the carer guide is compiled in and always loaded.
        #[arg(long = "package")]
        packages: Vec<PathBuf>,
        /// The base URL links are written with (default http://BIND).
        #[arg(long)]
        base_url: Option<String>,
        /// The package cache holding base R4 (default: $FHIR_PACKAGE_CACHE, else ~/.fhir/packages).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Turn access control off (no tokens, no scopes, no consent, no
        /// audit of who): for local trials only. A warning is logged and the
        /// CapabilityStatement says so.
        #[arg(long)]
        insecure_open: bool,
        /// Also accept access tokens from this external issuer (its `iss`);
        /// repeatable, paired in order with --token-issuer-jwks.
        #[arg(long = "token-issuer")]
        token_issuers: Vec<String>,
        /// The JWKS (a file or an http(s) URL) of each --token-issuer.
        #[arg(long = "token-issuer-jwks")]
        token_issuer_jwks: Vec<String>,
        /// Subscription notifications may go to endpoints under this URL
        /// (repeatable): the same scheme, host and port, a path under its
        /// path on a segment boundary, and no user name or password; none
        /// given: nowhere.
        #[arg(long = "subscription-endpoint-allow")]
        subscription_endpoint_allow: Vec<String>,
        /// Let browser apps served from this web origin call the server
        /// (CORS; repeatable, e.g. `https://app.example.org`; `*` for any);
        /// none given: no cross-origin calls.
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// When a search does not ask for `_total`, count at most this many
        /// matches: the total is exact up to it and left out beyond (0: only
        /// the totals a page shows by itself).
        #[arg(long, default_value_t = crate::store::COUNT_UP_TO, value_parser = clap::value_parser!(i64).range(0..))]
        count_up_to: i64,
        /// Keep AuditEvents for this many days, then remove them (checked at
        /// start and hourly, in small batches beside the requests); default:
        /// kept for ever.
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=36_500))]
        audit_retention: Option<u32>,
        /// Connections open at once; one more is answered 503 at once (also
        /// kept within the process's open-file limit, which is raised to
        /// the system's hard limit at start).
        #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        max_connections: u64,
    },
    /// Register, list and remove the system clients that may ask this
    /// server for access tokens (SMART Backend Services).
    Clients {
        /// What to do with clients.
        #[command(subcommand)]
        command: clients::Command,
    },
    /// Get an access token from a server's token endpoint as a registered
    /// client (the SMART Backend Services exchange) and print it.
    Token(token::Args),
}

/// An error with the exit code it deserves.
pub(crate) struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    /// Unusable input: exit code 2.
    pub fn input(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: 2,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure {
            code: 1,
            error: error.into(),
        }
    }
}

/// The installed base R4 package folder in `cache` (the default cache when
/// `None`), or an input error that says how to install it.
pub(crate) fn r4_core_dir(cache: Option<PathBuf>) -> Result<PathBuf, Failure> {
    let dir = cache.unwrap_or_else(fhir_core::package::cache::cache_dir);
    let (name, version) = fhir_core::package::cache::R4_CORE;
    let core = fhir_core::package::cache::package_dir(&dir, name, version);
    if !core.is_dir() {
        return Err(Failure::input(anyhow::anyhow!(
            "base R4 is not installed in {}; run `carer-fhir packages install`",
            dir.display()
        )));
    }
    Ok(core)
}

/// What `serve` was asked for.
struct ServeArgs {
    bind: std::net::SocketAddr,
    database: String,
    packages: Vec<PathBuf>,
    base: Option<String>,
    cache: Option<PathBuf>,
    insecure_open: bool,
    issuers: Vec<(String, String)>,
    subscription_allow: Vec<String>,
    cors_origins: Vec<String>,
    count_up_to: i64,
    audit_retention: Option<u32>,
    max_connections: u64,
}

fn serve(a: ServeArgs) -> Result<(), Failure> {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let r4 = r4_core_dir(a.cache)?;
    let config = crate::server::Config {
        bind: a.bind,
        database: a.database,
        r4,
        packages: a.packages,
        base: a.base,
        insecure_open: a.insecure_open,
        issuers: a.issuers,
        subscription_allow: a.subscription_allow,
        cors_origins: a.cors_origins,
        count_up_to: a.count_up_to,
        audit_retention_days: a.audit_retention,
        max_connections: usize::try_from(a.max_connections).unwrap_or(usize::MAX),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(fhir_core::format::limits::THREAD_STACK)
        .enable_all()
        .build()?;
    runtime.block_on(crate::server::serve(config))?;
    Ok(())
}

/// Parses the process arguments and runs the subcommand.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => convert::run(args),
        Command::Fhirpath(args) => fhirpath::run(args),
        Command::Packages { command } => packages::run(command),
        Command::Import(args) => import::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Passport { command } => passport::run(command),
        Command::Serve {
            bind,
            database,
            packages,
            base_url,
            cache,
            insecure_open,
            token_issuers,
            token_issuer_jwks,
            subscription_endpoint_allow,
            cors_origins,
            count_up_to,
            audit_retention,
            max_connections,
        } => {
            if token_issuers.len() != token_issuer_jwks.len() {
                Err(Failure::input(anyhow::anyhow!(
                    "give one --token-issuer-jwks for each --token-issuer"
                )))
            } else {
                serve(ServeArgs {
                    bind,
                    database,
                    packages,
                    base: base_url,
                    cache,
                    insecure_open,
                    issuers: token_issuers.into_iter().zip(token_issuer_jwks).collect(),
                    subscription_allow: subscription_endpoint_allow,
                    cors_origins,
                    count_up_to,
                    audit_retention,
                    max_connections,
                })
            }
        }
        Command::Clients { command } => clients::run(command),
        Command::Token(args) => token::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("carer-fhir: error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}
