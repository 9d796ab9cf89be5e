//! `carer-fhir fhirpath EXPR FILE`.

use std::path::PathBuf;

use anyhow::Context as _;
use fhir_core::fhirpath::{self, Context, Expression, ModelInfo};
use fhir_core::format::{self, Format};
use fhir_core::package::{cache, Registry};

use super::Failure;

/// Arguments of `fhirpath`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The FHIRPath expression.
    expression: String,
    /// The resource to evaluate it on (JSON or XML; `-` for standard input).
    file: PathBuf,
    /// Treat names a type does not have, and order-dependent functions on
    /// unordered collections, as errors.
    #[arg(long)]
    strict: bool,
    /// The package cache holding base R4 (default: $FHIR_PACKAGE_CACHE,
    /// else ~/.fhir/packages). Without R4 the expression runs untyped.
    #[arg(long)]
    cache: Option<PathBuf>,
}

pub(super) fn run(args: Args) -> Result<(), Failure> {
    let expression = Expression::parse(&args.expression).map_err(|e| {
        Failure::input(anyhow::anyhow!(
            "invalid expression: {e}\n  {}\n  {}^",
            args.expression.lines().nth(e.line - 1).unwrap_or(""),
            " ".repeat(e.column - 1)
        ))
    })?;
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .context("reading standard input")
            .map_err(Failure::input)?
    } else {
        std::fs::read_to_string(&args.file)
            .with_context(|| format!("reading {}", args.file.display()))
            .map_err(Failure::input)?
    };
    let fmt = Format::from_path(&args.file)
        .or_else(|| Format::sniff(&text))
        .ok_or_else(|| {
            Failure::input(anyhow::anyhow!(
                "cannot tell whether the input is JSON or XML"
            ))
        })?;
    let resource = format::parse(&text, fmt).map_err(|e| Failure::input(e.in_file(&args.file)))?;

    let dir = args.cache.unwrap_or_else(cache::cache_dir);
    let (name, version) = cache::R4_CORE;
    let core = cache::package_dir(&dir, name, version);
    let mut registry = Registry::new();
    if core.is_dir() {
        registry.load(&core)?;
    } else {
        eprintln!("carer-fhir: warning: base R4 is not installed in {}; evaluating without type information", dir.display());
    }
    let model = ModelInfo::from_registry(&registry);
    let ctx = Context {
        model: Some(&model),
        registry: Some(&registry),
        strict: args.strict,
        ..Context::default()
    };
    let result = expression
        .evaluate(&resource, &ctx)
        .map_err(|e| Failure::input(anyhow::anyhow!("evaluation failed: {e}")))?;
    println!(
        "{}",
        serde_json::to_string_pretty(&fhirpath::to_json(&result))?
    );
    Ok(())
}
