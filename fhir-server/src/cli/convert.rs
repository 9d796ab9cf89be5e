//! `carer-fhir convert IN [-o OUT] [--to json|xml]`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use fhir_core::format::{self, Format};

use super::Failure;

/// Arguments of `convert`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The resource to read (`-` for standard input).
    input: PathBuf,
    /// Where to write (`-` or absent for standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Output format; default: by OUT's extension, else the other format.
    #[arg(long, value_enum)]
    to: Option<FormatArg>,
    /// Input format; default: by IN's extension, else by its content.
    #[arg(long, value_enum)]
    from: Option<FormatArg>,
    /// Write JSON on one line instead of indented.
    #[arg(long)]
    compact: bool,
}

/// A format named on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum FormatArg {
    Json,
    Xml,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Json => Format::Json,
            FormatArg::Xml => Format::Xml,
        }
    }
}

fn is_stdio(p: &Path) -> bool {
    p.as_os_str() == "-"
}

pub(super) fn run(args: Args) -> Result<(), Failure> {
    let text = if is_stdio(&args.input) {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")
            .map_err(Failure::input)?;
        s
    } else {
        std::fs::read_to_string(&args.input)
            .with_context(|| format!("reading {}", args.input.display()))
            .map_err(Failure::input)?
    };
    let from = args
        .from
        .map(Format::from)
        .or_else(|| {
            (!is_stdio(&args.input))
                .then(|| Format::from_path(&args.input))
                .flatten()
        })
        .or_else(|| Format::sniff(&text))
        .ok_or_else(|| {
            Failure::input(anyhow::anyhow!(
                "cannot tell whether the input is JSON or XML; use --from"
            ))
        })?;
    let out_path = args.output.filter(|p| !is_stdio(p));
    let to = args
        .to
        .map(Format::from)
        .or_else(|| out_path.as_deref().and_then(Format::from_path))
        .unwrap_or(match from {
            Format::Json => Format::Xml,
            Format::Xml => Format::Json,
        });
    let resource = format::parse_typed(&text, from).map_err(|e| {
        let e = if is_stdio(&args.input) {
            e
        } else {
            e.in_file(&args.input)
        };
        Failure::input(e)
    })?;
    let mut written = format::write_typed(&resource, to, !args.compact)?;
    if !written.ends_with('\n') {
        written.push('\n');
    }
    match out_path {
        Some(p) => {
            std::fs::write(&p, written).with_context(|| format!("writing {}", p.display()))?
        }
        None => std::io::stdout()
            .write_all(written.as_bytes())
            .context("writing standard output")?,
    }
    Ok(())
}
