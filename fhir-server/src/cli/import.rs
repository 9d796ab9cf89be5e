//! `carer-fhir import FILE… (--server URL | --database URL)`.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use fhir_core::package::Registry;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinHandle;

use super::Failure;
use crate::import::{self, Report};
use crate::interaction::{Access, AppState};
use crate::store::sql::SqlStore;

/// The `import` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// NDJSON files, Bundles, or folders of them.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Send to this FHIR server (its base URL) as batches of PUTs.
    #[arg(long, conflicts_with = "database")]
    pub server: Option<String>,
    /// A header for every request to --server ('Authorization: Bearer …'); repeatable.
    #[arg(long = "header", requires = "server")]
    pub headers: Vec<String>,
    /// Write straight into this database: sqlite:PATH or postgres://…
    #[arg(long)]
    pub database: Option<String>,
    /// With --database: record every resource as written by this
    /// organisation (ODS code), as if it had written them through the API:
    /// a practice's or council's own data moved in. Without it the loaded
    /// data is nobody's, visible under access control only as consent
    /// allows (and records that are no person's data to no one).
    #[arg(long, requires = "database", value_name = "ODS_CODE")]
    pub source: Option<String>,
    /// Extra packages whose profiles the resources claim (with --database).
    #[arg(long = "package")]
    pub packages: Vec<PathBuf>,
    /// The package cache holding base R4.
    #[arg(long)]
    pub cache: Option<PathBuf>,
}

/// Where an import writes.
enum Target {
    /// A FHIR server: client, base URL, extra headers.
    Server(reqwest::Client, String, Vec<(String, String)>),
    /// A database, through the same validation and indexing as the server.
    Store(Arc<AppState>),
}

pub(super) fn run(args: Args) -> Result<(), Failure> {
    if args.server.is_none() && args.database.is_none() {
        return Err(Failure::input(anyhow::anyhow!(
            "say where to import to: --server URL or --database URL"
        )));
    }
    let files = import::files(&args.files).map_err(Failure::input)?;
    if let Some(code) = &args.source {
        code.parse::<fhir_core::caf::OdsCode>()
            .map_err(|e| Failure::input(anyhow::anyhow!("--source {code}: {}", e.message)))?;
    }
    let source = args.source.clone();
    let total = import::count(&files);
    let bar = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} resources {per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(fhir_core::format::limits::THREAD_STACK)
        .enable_all()
        .build()?;
    let started = Instant::now();
    let report = runtime.block_on(async {
        // Where the chunks go: a server over HTTP, or a store directly.
        let target = if let Some(base) = &args.server {
            let headers: Vec<(String, String)> = args
                .headers
                .iter()
                .map(|h| {
                    h.split_once(':')
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .ok_or_else(|| anyhow::anyhow!("--header {h:?} is not 'Name: value'"))
                })
                .collect::<anyhow::Result<_>>()?;
            Target::Server(reqwest::Client::new(), base.clone(), headers)
        } else {
            let db = args.database.as_deref().unwrap_or_default();
            let registry = crate::server::load_registry(
                &super::r4_core_dir(args.cache.clone()).map_err(|f| f.error)?,
                &args.packages,
            )?;
            let registry: &'static Registry = Box::leak(Box::new(registry));
            let store = SqlStore::connect(db).await?;
            // The import writes a database it is given directly: access
            // control is for the API.
            Target::Store(Arc::new(AppState::new(
                Arc::new(store),
                registry,
                "http://localhost",
                Access::Open,
            )))
        };
        let mut report = Report::default();
        // Writing into a database, chunk N is written while chunk N+1 is
        // read and validated: the write is one core's work (the
        // database's), validation the others'. Chunks are written in
        // order, one at a time.
        let writing: RefCell<Option<JoinHandle<anyhow::Result<Report>>>> = RefCell::new(None);
        for f in &files {
            bar.set_message(
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            import::read_chunks(f, &mut report, |items| {
                let n = items.len() as u64;
                let (target, bar, writing, source) = (&target, &bar, &writing, &source);
                async move {
                    let r = match target {
                        Target::Server(client, base, headers) => {
                            import::send_chunk(client, base, headers, items).await
                        }
                        Target::Store(state) => {
                            let prepared = import::prepare_chunk(state, items).await?;
                            let previous = writing.borrow_mut().take();
                            let done = match previous {
                                Some(h) => h.await??,
                                None => Report::default(),
                            };
                            let state = state.clone();
                            let source = source.clone();
                            *writing.borrow_mut() = Some(tokio::spawn(async move {
                                import::write_chunk(&state, prepared, source.as_deref()).await
                            }));
                            Ok(done)
                        }
                    };
                    bar.inc(n);
                    r
                }
            })
            .await?;
        }
        let last = writing.borrow_mut().take();
        if let Some(h) = last {
            let done = h.await??;
            report.stored += done.stored;
            report.failed.extend(done.failed);
        }
        anyhow::Ok(report)
    })?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "imported {} resources from {} files in {secs:.1}s ({:.0} resources/s); {} refused",
        report.stored,
        files.len(),
        report.stored as f64 / secs.max(1e-9),
        report.failed.len()
    );
    for (origin, why) in report.failed.iter().take(20) {
        println!("  refused {origin}: {why}");
    }
    if report.failed.len() > 20 {
        println!("  … and {} more", report.failed.len() - 20);
    }
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(Failure {
            code: 1,
            error: anyhow::anyhow!("{} resources were refused", report.failed.len()),
        })
    }
}
