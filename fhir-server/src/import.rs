//! Bulk loading: NDJSON files (one resource per line, as bulk export writes
//! them) and Bundles, into a database directly or into any FHIR server
//! through batch Bundles of PUTs (ids kept, so references between the
//! files stay whole).
//!
//! Each resource is validated as any write is; one that fails is reported
//! with its file and line and skipped, the rest load.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde_json::{json, Value};

use crate::interaction::{pipeline, AppState};

/// Resources per database transaction or per batch Bundle.
pub const CHUNK: usize = 250;

/// One resource read from a file, with where it came from.
#[derive(Debug, Clone)]
pub struct Item {
    /// `file:line` (NDJSON) or `file#entry[n]` (Bundle).
    pub origin: String,
    /// The resource.
    pub resource: Value,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    /// Resources stored.
    pub stored: usize,
    /// Resources refused, with where and why.
    pub failed: Vec<(String, String)>,
}

/// The files named: files as they are, folders' `*.ndjson` and `*.json`.
///
/// # Errors
/// When a path does not exist.
pub fn files(sources: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for s in sources {
        if s.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(s)
                .with_context(|| format!("reading {}", s.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "ndjson" || e == "json"))
                .collect();
            found.sort();
            out.extend(found);
        } else if s.is_file() {
            out.push(s.clone());
        } else {
            anyhow::bail!("{} does not exist", s.display());
        }
    }
    Ok(out)
}

/// Counts the resources in files (lines of NDJSON, entries of Bundles),
/// for the progress bar.
pub fn count(files: &[PathBuf]) -> usize {
    files
        .iter()
        .map(|f| {
            if is_ndjson(f) {
                std::fs::File::open(f)
                    .map(|h| {
                        std::io::BufReader::new(h)
                            .lines()
                            .map_while(Result::ok)
                            .filter(|l| !l.trim().is_empty())
                            .count()
                    })
                    .unwrap_or(0)
            } else {
                std::fs::read_to_string(f)
                    .ok()
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                    .map(|v| {
                        if v["resourceType"] == "Bundle" {
                            v["entry"].as_array().map_or(0, Vec::len)
                        } else {
                            1
                        }
                    })
                    .unwrap_or(0)
            }
        })
        .sum()
}

fn is_ndjson(f: &Path) -> bool {
    f.extension().is_some_and(|e| e == "ndjson")
}

/// Reads a file's resources, calling `each` with chunks of [`CHUNK`];
/// unreadable lines become failures.
///
/// # Errors
/// When the file cannot be opened, or `each` fails.
pub async fn read_chunks<F, Fut>(
    file: &Path,
    report: &mut Report,
    mut each: F,
) -> anyhow::Result<()>
where
    F: FnMut(Vec<Item>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Report>>,
{
    let name = file.display().to_string();
    let mut chunk = Vec::new();
    let push = |origin: String, v: Value, chunk: &mut Vec<Item>, report: &mut Report| {
        if v.get("resourceType").and_then(Value::as_str).is_some() {
            chunk.push(Item {
                origin,
                resource: v,
            });
        } else {
            report
                .failed
                .push((origin, "not a FHIR resource (no resourceType)".into()));
        }
    };
    if is_ndjson(file) {
        let reader = std::io::BufReader::new(
            std::fs::File::open(file).with_context(|| format!("opening {name}"))?,
        );
        for (n, line) in reader.lines().enumerate() {
            let line = line.with_context(|| format!("reading {name}"))?;
            if line.trim().is_empty() {
                continue;
            }
            let origin = format!("{name}:{}", n + 1);
            match serde_json::from_str::<Value>(&line) {
                Ok(v) => push(origin, v, &mut chunk, report),
                Err(e) => report.failed.push((origin, format!("not JSON: {e}"))),
            }
            if chunk.len() >= CHUNK {
                merge(report, each(std::mem::take(&mut chunk)).await?);
            }
        }
    } else {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {name}"))?;
        let v: Value =
            serde_json::from_str(&text).with_context(|| format!("{name} is not JSON"))?;
        if v["resourceType"] == "Bundle" {
            for (n, e) in v["entry"].as_array().into_iter().flatten().enumerate() {
                push(
                    format!("{name}#entry[{n}]"),
                    e["resource"].clone(),
                    &mut chunk,
                    report,
                );
                if chunk.len() >= CHUNK {
                    merge(report, each(std::mem::take(&mut chunk)).await?);
                }
            }
        } else {
            push(name.clone(), v, &mut chunk, report);
        }
    }
    if !chunk.is_empty() {
        merge(report, each(chunk).await?);
    }
    Ok(())
}

fn merge(into: &mut Report, from: Report) {
    into.stored += from.stored;
    into.failed.extend(from.failed);
}

/// Stores a chunk in the state's database through the server's write
/// pipeline: [`prepare_chunk`], then [`write_chunk`].
///
/// # Errors
/// When the database fails (then nothing of the chunk is stored).
pub async fn store_chunk(state: &Arc<AppState>, items: Vec<Item>) -> anyhow::Result<Report> {
    let prepared = prepare_chunk(state, items).await?;
    write_chunk(state, prepared, None).await
}

/// A chunk validated and indexed, ready to write.
pub struct PreparedChunk(
    Vec<(
        String,
        Result<pipeline::Prepared, crate::interaction::Failure>,
    )>,
);

/// Validates and indexes a chunk's resources (spread over the cores; no
/// database is touched, so a loader can prepare the next chunk while the
/// last one is written).
///
/// # Errors
/// When a worker thread fails.
pub async fn prepare_chunk(
    state: &Arc<AppState>,
    items: Vec<Item>,
) -> anyhow::Result<PreparedChunk> {
    let mut jobs = Vec::with_capacity(items.len());
    for mut item in items {
        if item.resource["id"].as_str().is_none() {
            item.resource["id"] = json!(uuid::Uuid::new_v4().to_string());
        }
        let rt = item.resource["resourceType"]
            .as_str()
            .unwrap_or("")
            .to_string();
        jobs.push((item.origin, rt, item.resource));
    }
    let prepared = pipeline::prepare_many(state, jobs)
        .await
        .map_err(|f| anyhow::anyhow!("{}", f.message()))?;
    Ok(PreparedChunk(prepared))
}

/// Writes a prepared chunk in one transaction (create or replace by id),
/// each resource recorded as written by `source` (an ODS code: whose
/// data is loaded; see [`pipeline::Tx::begin_import`]); the resources
/// that failed validation are reported, with where they came from.
///
/// # Errors
/// When the database fails (then nothing of the chunk is stored).
pub async fn write_chunk(
    state: &Arc<AppState>,
    chunk: PreparedChunk,
    source: Option<&str>,
) -> anyhow::Result<Report> {
    let prepared = chunk.0;
    let mut report = Report::default();
    let mut tx = pipeline::Tx::begin_import(state, source)
        .await
        .map_err(|f| anyhow::anyhow!("{}", f.message()))?;
    let keys: Vec<(String, String)> = prepared
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok())
        .map(|p| {
            let id = p.resource["id"].as_str().unwrap_or("").to_string();
            (p.resource_type.clone(), id)
        })
        .collect();
    tx.prefetch(&keys)
        .await
        .map_err(|f| anyhow::anyhow!("{}", f.message()))?;
    for (origin, p) in prepared {
        match p {
            Ok(p) => {
                let id = p.resource["id"].as_str().unwrap_or("").to_string();
                tx.update(&id, p, None)
                    .await
                    .map_err(|f| anyhow::anyhow!("{}", f.message()))?;
                report.stored += 1;
            }
            Err(f) => report.failed.push((origin, why(&f))),
        }
    }
    tx.commit()
        .await
        .map_err(|f| anyhow::anyhow!("{}", f.message()))?;
    Ok(report)
}

/// The errors of a refused resource, one line: each issue's location and
/// message.
fn why(f: &crate::interaction::Failure) -> String {
    f.outcome["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let text = i["diagnostics"]
                .as_str()
                .or(i["details"]["text"].as_str())
                .unwrap_or("");
            match i["expression"][0].as_str() {
                Some(at) => format!("{at}: {text}"),
                None => text.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Sends a chunk to a FHIR server as a batch of PUTs.
///
/// # Errors
/// When the server cannot be reached or answers the batch with an error.
pub async fn send_chunk(
    client: &reqwest::Client,
    base: &str,
    headers: &[(String, String)],
    items: Vec<Item>,
) -> anyhow::Result<Report> {
    let entries: Vec<Value> = items
        .iter()
        .map(|i| {
            let rt = i.resource["resourceType"].as_str().unwrap_or("");
            let url = match i.resource["id"].as_str() {
                Some(id) => format!("{rt}/{id}"),
                None => rt.to_string(),
            };
            let method = if i.resource["id"].is_string() {
                "PUT"
            } else {
                "POST"
            };
            json!({"resource": i.resource, "request": {"method": method, "url": url}})
        })
        .collect();
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": entries});
    let mut req = client
        .post(base.trim_end_matches('/'))
        .header("content-type", "application/fhir+json")
        .header("accept", "application/fhir+json");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req
        .body(bundle.to_string())
        .send()
        .await
        .with_context(|| format!("sending a batch to {base}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        anyhow::bail!(
            "{base} answered the batch with {status}: {}",
            body["issue"][0]["diagnostics"].as_str().unwrap_or("")
        );
    }
    let mut report = Report::default();
    for (item, e) in items
        .iter()
        .zip(body["entry"].as_array().into_iter().flatten())
    {
        let s = e["response"]["status"].as_str().unwrap_or("");
        if s.starts_with('2') {
            report.stored += 1;
        } else {
            let issue = &e["response"]["outcome"]["issue"][0];
            let text = issue["diagnostics"]
                .as_str()
                .or(issue["details"]["text"].as_str())
                .unwrap_or(s);
            let why = match issue["expression"][0].as_str() {
                Some(at) => format!("{at}: {text}"),
                None => text.to_string(),
            };
            report.failed.push((item.origin.clone(), why));
        }
    }
    Ok(report)
}
