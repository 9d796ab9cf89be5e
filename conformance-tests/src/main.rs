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
        /// The package cache holding base R4.
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// Run TestScripts against a FHIR server (not implemented yet).
    Run,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::ValidatorSuite {
            manifest,
            min_verdict,
            min_error_count,
            verbose,
            cache: dir,
        } => {
            let core = cache::package_dir(
                &dir.unwrap_or_else(cache::cache_dir),
                "hl7.fhir.r4.core",
                "4.0.1",
            );
            let mut base = Registry::new();
            if let Err(e) = base.load(&core) {
                eprintln!("conformance-tests: base R4 is not installed ({e}); run `carer-fhir packages install`");
                return ExitCode::from(2);
            }
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
        Command::Run => {
            eprintln!("conformance-tests: `run` (the TestScript runner) is not implemented yet");
            ExitCode::from(1)
        }
    }
}
