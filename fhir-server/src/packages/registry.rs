//! Installing a package by name from a FHIR package registry, with its
//! dependencies, as SUSHI and the HL7 tools do: so that a vendor's machine
//! without `../shared` gets UK Core (or any guide) into the package cache.
//!
//! The registry protocol is npm's, as packages.fhir.org and
//! packages2.fhir.org serve it: `GET {registry}/{name}` answers the
//! package's listing (`versions`, each with `dist.tarball` and
//! `dist.shasum`, and `dist-tags.latest`); the tarball (by default
//! `{registry}/{name}/{version}`) is the package's `.tgz`, whose
//! `package/package.json` names its dependencies. Each package is then
//! installed as a local `.tgz` is ([`super::local::install_local`]),
//! dependencies first.
//!
//! The registry is `--registry URL`, else `$FHIR_PACKAGE_REGISTRY`, else
//! packages.fhir.org. Base R4 is not fetched this way: `carer-fhir packages
//! install` installs it (see [`super::install_r4`]).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use fhir_core::package::cache;
use serde_json::Value;
use sha1::{Digest, Sha1};

use super::local::{install_local, LocalInstall, PackageId};
use super::Progress;

/// The FHIR package registry used when none is given.
pub const DEFAULT_REGISTRY: &str = "https://packages.fhir.org";
/// The environment variable that names another registry.
pub const REGISTRY_ENV: &str = "FHIR_PACKAGE_REGISTRY";

/// The registry to use: `given`, else `$FHIR_PACKAGE_REGISTRY`, else
/// [`DEFAULT_REGISTRY`].
pub fn registry_url(given: Option<&str>) -> String {
    given
        .map(str::to_string)
        .or_else(|| std::env::var(REGISTRY_ENV).ok().filter(|r| !r.is_empty()))
        .unwrap_or_else(|| DEFAULT_REGISTRY.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// What installing from a registry did, package by package.
#[derive(Debug)]
pub enum Fetched {
    /// Fetched and installed.
    Installed(LocalInstall),
    /// Already in the cache; nothing fetched.
    AlreadyInstalled(PackageId),
}

/// A blocking client for the registry: reqwest's async client on a runtime
/// of its own, since the command line is not async.
struct Client {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(base: &str) -> anyhow::Result<Client> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(600))
            .user_agent(concat!("carer-fhir/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            runtime,
            http,
            base: base.to_string(),
        })
    }

    /// The body at `url`, or `None` when the registry has nothing there.
    fn get(&self, url: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.runtime.block_on(async {
            let response = self.http.get(url).send().await.map_err(|e| {
                anyhow!(
                    "cannot reach the FHIR package registry at {} ({e})",
                    self.base
                )
            })?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !response.status().is_success() {
                bail!("{url} answered {}", response.status());
            }
            let body = response
                .bytes()
                .await
                .map_err(|e| anyhow!("reading {url}: {e}"))?;
            Ok(Some(body.to_vec()))
        })
    }
}

/// What to tell someone whose registry cannot be used: how to install the
/// package without it.
fn offline_advice(id: &PackageId) -> String {
    format!(
        "to install {id} without the registry, get its .tgz on a machine that reaches one \
         (GET {DEFAULT_REGISTRY}/{}/{}) and run `carer-fhir packages install FILE.tgz`, \
         install it from its source folder with `carer-fhir packages install DIR --as {id}`, \
         or name a reachable registry with --registry URL or ${REGISTRY_ENV}",
        id.name, id.version
    )
}

/// Installs `id` and, first, every package it depends on that the cache
/// lacks, from `registry` into `cache_dir`. Packages already installed are
/// left alone unless `force` (which applies to `id` only).
///
/// # Errors
/// When the registry cannot be reached (the message says how to install
/// offline), has no such package or version, a tarball's SHA-1 differs from
/// its listing, base R4 is missing from the cache, or a package cannot be
/// installed.
pub fn install_from_registry(
    id: &PackageId,
    registry: &str,
    cache_dir: &Path,
    force: bool,
    progress: &dyn Progress,
) -> anyhow::Result<Vec<Fetched>> {
    let client = Client::new(registry)?;
    let mut done = Vec::new();
    let mut seen = BTreeSet::new();
    install_one(
        &client, id, cache_dir, force, progress, &mut seen, &mut done,
    )
    .map_err(|e| anyhow!("{e:#}; {}", offline_advice(id)))?;
    Ok(done)
}

fn install_one(
    client: &Client,
    id: &PackageId,
    cache_dir: &Path,
    force: bool,
    progress: &dyn Progress,
    seen: &mut BTreeSet<String>,
    done: &mut Vec<Fetched>,
) -> anyhow::Result<()> {
    if !seen.insert(id.to_string()) {
        return Ok(());
    }
    let (r4_name, r4_version) = cache::R4_CORE;
    if id.name == r4_name {
        if cache::package_dir(cache_dir, r4_name, r4_version).is_dir() && id.version == r4_version {
            done.push(Fetched::AlreadyInstalled(id.clone()));
            return Ok(());
        }
        bail!(
            "{id} is base FHIR R4: install it with `carer-fhir packages install` (no NAME#VERSION)"
        );
    }
    let listing_url = format!("{}/{}", client.base, id.name);
    progress.step(&format!("Looking up {} at {}", id.name, client.base));
    let listing: Value = match client.get(&listing_url)? {
        Some(body) => serde_json::from_slice(&body)
            .with_context(|| format!("{listing_url} is not a package listing"))?,
        None => bail!("the registry at {} has no package {}", client.base, id.name),
    };
    let version = if id.version == "latest" {
        listing["dist-tags"]["latest"]
            .as_str()
            .with_context(|| format!("{} has no latest version", id.name))?
            .to_string()
    } else {
        id.version.clone()
    };
    let id = PackageId {
        name: id.name.clone(),
        version,
    };
    if !force && cache::package_dir(cache_dir, &id.name, &id.version).is_dir() {
        done.push(Fetched::AlreadyInstalled(id));
        return Ok(());
    }
    let Some(entry) = listing["versions"].get(&id.version) else {
        let known: Vec<&str> = listing["versions"]
            .as_object()
            .map(|v| v.keys().map(String::as_str).collect())
            .unwrap_or_default();
        bail!(
            "the registry has no version {} of {} (it has: {})",
            id.version,
            id.name,
            known.join(", ")
        );
    };
    let tarball_url = entry["dist"]["tarball"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}/{}/{}", client.base, id.name, id.version));
    progress.step(&format!("Fetching {id} from {tarball_url}"));
    let bytes = client
        .get(&tarball_url)?
        .with_context(|| format!("{tarball_url} is not there"))?;
    if let Some(want) = entry["dist"]["shasum"].as_str() {
        let got: String = Sha1::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if !got.eq_ignore_ascii_case(want) {
            bail!("{tarball_url} has SHA-1 {got}, not the {want} its listing gives: refusing it");
        }
    }
    let manifest = package_json(&bytes).with_context(|| format!("reading {tarball_url}"))?;
    let mut deps = Vec::new();
    for (name, v) in manifest["dependencies"].as_object().into_iter().flatten() {
        let Some(v) = v.as_str() else { continue };
        let dep = PackageId {
            name: name.clone(),
            version: v.to_string(),
        };
        install_one(client, &dep, cache_dir, false, progress, seen, done)?;
        deps.push(dep);
    }
    let work = tempfile::tempdir().context("creating a temporary folder")?;
    let tgz = work.path().join(format!("{}-{}.tgz", id.name, id.version));
    std::fs::write(&tgz, &bytes).with_context(|| format!("writing {}", tgz.display()))?;
    progress.step(&format!("Installing {id}"));
    let installed = install_local(&tgz, Some(id.clone()), &deps, cache_dir)?;
    done.push(Fetched::Installed(installed));
    Ok(())
}

/// The `package/package.json` of a package tarball.
fn package_json(tgz: &[u8]) -> anyhow::Result<Value> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    for entry in archive.entries().context("not a .tgz")? {
        let mut entry = entry.context("a damaged .tgz")?;
        let path = entry.path()?.to_string_lossy().replace('\\', "/");
        if path == "package/package.json" {
            let mut text = String::new();
            entry.read_to_string(&mut text)?;
            return serde_json::from_str(&text).context("package/package.json is not JSON");
        }
    }
    bail!("the .tgz has no package/package.json")
}
