//! The `conformance-tests` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fhir_core::package::{cache, Registry};

/// Conformance suites for FHIR servers and validators.
#[derive(Parser, Debug)]
#[command(name = "conformance-tests", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HL7 validator test cases of MANIFEST against fhir-core's
    /// validator and compare with the reference outcomes.
    ValidatorSuite {
        /// The manifest.json (paths in it are relative to its folder).
        manifest: PathBuf,
        /// Fail when verdict agreement (percent) is below this.
        #[arg(long, default_value_t = 0.0)]
        min_verdict: f64,
        /// Fail when exact error-count agreement (percent) is below this.
        #[arg(long, default_value_t = 0.0)]
        min_error_count: f64,
        /// Print each case's result.
        #[arg(long)]
        verbose: bool,
        /// Print both validators' errors for the cases whose name contains
        /// this (repeatable).
        #[arg(long)]
        show: Vec<String>,
        /// The package cache holding base R4.
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// Run TestScripts against a FHIR server; writes a TestReport per
    /// script, junit.xml and summary.txt, prints the summary, and exits 0
    /// only when every assertion passed.
    Run {
        /// The server's FHIR base URL.
        #[arg(long)]
        server: String,
        /// TestScript files (JSON or XML), or folders searched for them
        /// (folders named `fixtures` are skipped).
        #[arg(long, required = true, num_args = 1..)]
        suite: Vec<PathBuf>,
        /// Where the reports are written.
        #[arg(long, default_value = "conformance-reports")]
        report_dir: PathBuf,
        /// A header sent with every request, `Name: value` (repeatable).
        #[arg(long = "header")]
        headers: Vec<String>,
        /// A package folder or .tgz whose profiles `validateProfileId`
        /// assertions name (repeatable); base R4 comes from the cache.
        #[arg(long = "package")]
        packages: Vec<PathBuf>,
        /// The package cache holding base R4.
        #[arg(long)]
        cache: Option<PathBuf>,
        /// SMART Backend Services: the registered client id (with --key).
        #[arg(long, requires = "key")]
        client_id: Option<String>,
        /// SMART Backend Services: the client's private key (PKCS#8 PEM).
        #[arg(long, requires = "client_id")]
        key: Option<PathBuf>,
        /// SMART Backend Services: the token endpoint (default: the one the
        /// server's /.well-known/smart-configuration names).
        #[arg(long, requires = "client_id")]
        token_url: Option<String>,
        /// SMART Backend Services: the scopes to ask for.
        #[arg(long, default_value = "system/*.cruds")]
        scope: String,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::ValidatorSuite {
            manifest,
            min_verdict,
            min_error_count,
            verbose,
            show,
            cache: dir,
        } => {
            let base = match Registry::base_r4(&dir.unwrap_or_else(cache::cache_dir)) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("conformance-tests: base R4 is not installed ({e}); run `carer-fhir packages install`");
                    return ExitCode::from(2);
                }
            };
            let mut done = 0;
            let summary = conformance_tests::validator_suite::run(&manifest, &base, &mut |c| {
                done += 1;
                if verbose {
                    let mark = if c.verdict_agrees() { "ok  " } else { "DIFF" };
                    println!(
                        "{mark} {:<60} expected {:>2} errors, ours {:>2}",
                        c.name, c.expected_errors, c.our_errors
                    );
                } else if done % 25 == 0 {
                    eprintln!("  {done} cases…");
                }
                if show.iter().any(|s| c.name.contains(s.as_str())) {
                    println!("== {}", c.name);
                    for m in &c.expected_messages {
                        println!("   reference: {m}");
                    }
                    for m in &c.our_messages {
                        println!("   ours:      {m}");
                    }
                }
            });
            let summary = match summary {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("conformance-tests: {e:#}");
                    return ExitCode::from(2);
                }
            };
            print!("{}", summary.report());
            if 100.0 * summary.verdict_agreement() < min_verdict
                || 100.0 * summary.count_agreement() < min_error_count
            {
                eprintln!("conformance-tests: agreement is below the required level (verdict {min_verdict}%, error count {min_error_count}%)");
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Command::Run {
            server,
            suite,
            report_dir,
            headers,
            packages,
            cache: dir,
            client_id,
            key,
            token_url,
            scope,
        } => match smart_auth(&server, client_id, key, token_url, &scope)
            .and_then(|auth| run(&server, &suite, &report_dir, &headers, &packages, dir, auth))
        {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("conformance-tests: {e:#}");
                ExitCode::from(2)
            }
        },
    }
}

/// SMART credentials from the command line, the token endpoint found in
/// the server's SMART configuration when not given.
fn smart_auth(
    server: &str,
    client_id: Option<String>,
    key: Option<PathBuf>,
    token_url: Option<String>,
    scope: &str,
) -> anyhow::Result<Option<conformance_tests::testscript::client::SmartAuth>> {
    use anyhow::Context as _;
    let (Some(client_id), Some(key)) = (client_id, key) else {
        return Ok(None);
    };
    let pem =
        std::fs::read_to_string(&key).with_context(|| format!("reading {}", key.display()))?;
    let token_url = match token_url {
        Some(u) => u,
        None => {
            let url = format!(
                "{}/.well-known/smart-configuration",
                server.trim_end_matches('/')
            );
            let conf: serde_json::Value = reqwest::blocking::get(&url)
                .and_then(|r| r.error_for_status())
                .and_then(|r| r.json())
                .with_context(|| format!("reading {url}"))?;
            conf["token_endpoint"]
                .as_str()
                .with_context(|| format!("{url} names no token_endpoint"))?
                .to_string()
        }
    };
    Ok(Some(conformance_tests::testscript::client::SmartAuth::new(
        &token_url, &client_id, &pem, scope,
    )))
}

/// `conformance-tests run`: `Ok(true)` when everything passed.
fn run(
    server: &str,
    suites: &[PathBuf],
    report_dir: &std::path::Path,
    headers: &[String],
    packages: &[PathBuf],
    cache_dir: Option<PathBuf>,
    auth: Option<conformance_tests::testscript::client::SmartAuth>,
) -> anyhow::Result<bool> {
    use anyhow::Context as _;
    use conformance_tests::testscript::{load_suites, report, write_reports, Runner, Verdict};

    let headers = headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .with_context(|| format!("--header `{h}` is not `Name: value`"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let scripts = load_suites(suites)?;
    if scripts.is_empty() {
        anyhow::bail!("no TestScript found in {suites:?}");
    }
    // Conformance packages are read only when a script validates against a
    // profile (reading base R4 takes seconds).
    let wants_profiles = scripts.iter().any(|s| !s.script.profile.is_empty());
    let registry = if wants_profiles {
        match Registry::base_r4(&cache_dir.unwrap_or_else(cache::cache_dir)) {
            Ok(mut r) => {
                for p in packages {
                    r.load(p)
                        .with_context(|| format!("loading package {}", p.display()))?;
                }
                Some(r)
            }
            Err(e) => {
                eprintln!(
                    "conformance-tests: base R4 is not installed ({e}); validateProfileId assertions will be errors"
                );
                None
            }
        }
    } else {
        None
    };
    let runner = Runner::with_auth(server, headers, registry.as_ref(), auth)?;
    let mut results = Vec::new();
    for (i, script) in scripts.iter().enumerate() {
        eprint!("[{}/{}] {} ", i + 1, scripts.len(), script.name());
        let result = runner.run(script, &mut |a| {
            eprint!(
                "{}",
                match a.verdict {
                    Verdict::Pass => ".",
                    Verdict::Fail | Verdict::Error => "F",
                    Verdict::Warning => "w",
                    Verdict::Skip => "s",
                }
            );
        });
        eprintln!(
            " {} ({:.1} s)",
            if result.passed() { "pass" } else { "FAIL" },
            result.elapsed.as_secs_f64()
        );
        results.push(result);
    }
    let written = write_reports(report_dir, &results)?;
    print!("{}", report::summary(&results));
    eprintln!(
        "reports: {} files in {}",
        written.len(),
        report_dir.display()
    );
    Ok(results.iter().all(|r| r.passed()))
}
