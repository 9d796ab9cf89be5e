//! `carer-fhir packages install NAME#VERSION` against a FHIR package
//! registry served on 127.0.0.1 by this test: it fetches the carer guide and,
//! because the guide depends on it, UK Core (built here from the shared
//! corpus's UK Core into a package, as a registry would hold it); it refuses
//! a tarball whose SHA-1 differs from the listing; and without a reachable
//! registry it says what to install and how.
//!
//! Needs base R4 in the package cache (`carer-fhir packages install`) and
//! UK Core from the shared corpus (`../shared`, or `CARER_FHIR_SHARED`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fhir_core::package::{cache, Registry};
use fhir_server::packages::local::{install_local, PackageId};
use sha1::{Digest, Sha1};

fn shared() -> PathBuf {
    let dir = std::env::var_os("CARER_FHIR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    assert!(
        dir.join("data/ukcore").is_dir(),
        "this test reads UK Core from the shared corpus at {}",
        dir.display()
    );
    dir
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A temporary package cache holding (a link to) the installed base R4.
fn cache_with_r4() -> tempfile::TempDir {
    let real = cache::package_dir(&cache::cache_dir(), "hl7.fhir.r4.core", "4.0.1");
    assert!(
        real.is_dir(),
        "base R4 is not installed; run `carer-fhir packages install`"
    );
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        &real,
        cache::package_dir(dir.path(), "hl7.fhir.r4.core", "4.0.1"),
    )
    .unwrap();
    dir
}

/// A package folder as a registry's `.tgz` (its files under `package/`).
fn tgz(package_dir: &Path) -> Vec<u8> {
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    archive
        .append_dir_all("package", package_dir.join("package"))
        .unwrap();
    archive.into_inner().unwrap().finish().unwrap()
}

/// One package version a registry holds: its tarball, and the SHA-1 its
/// listing gives (the true one, unless a test lies).
struct Held {
    tarball: Vec<u8>,
    shasum: String,
}

type Packages = BTreeMap<(String, String), Held>;

struct Served {
    base: String,
    packages: Arc<Packages>,
}

async fn listing(State(s): State<Arc<Served>>, UrlPath(name): UrlPath<String>) -> Response {
    let versions: serde_json::Map<String, serde_json::Value> = s
        .packages
        .iter()
        .filter(|((n, _), _)| *n == name)
        .map(|((n, v), held)| {
            (
                v.clone(),
                serde_json::json!({"name": n, "version": v, "fhirVersion": "R4",
                    "dist": {"shasum": held.shasum, "tarball": format!("{}/{n}/{v}", s.base)}}),
            )
        })
        .collect();
    if versions.is_empty() {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let latest = versions.keys().next_back().cloned().unwrap_or_default();
    axum::Json(serde_json::json!({"_id": name, "name": name,
        "dist-tags": {"latest": latest}, "versions": versions}))
    .into_response()
}

async fn tarball(
    State(s): State<Arc<Served>>,
    UrlPath((name, version)): UrlPath<(String, String)>,
) -> Response {
    match s.packages.get(&(name, version)) {
        Some(held) => held.tarball.clone().into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Serves `packages` as a FHIR package registry on 127.0.0.1; its base URL.
fn serve(packages: Packages) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Served {
        base: base.clone(),
        packages: Arc::new(packages),
    });
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new()
                .route("/{name}", get(listing))
                .route("/{name}/{version}", get(tarball))
                .with_state(state);
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    base
}

/// UK Core (from the shared corpus) and the carer guide, packaged once.
fn packages() -> &'static BTreeMap<String, Vec<u8>> {
    static BUILT: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let work = cache_with_r4();
        let ukcore: PackageId = "fhir.r4.ukcore.stu3.currentbuild#0.0.0-develop"
            .parse()
            .unwrap();
        let uk = install_local(
            &shared().join("data/ukcore"),
            Some(ukcore.clone()),
            &[],
            work.path(),
        )
        .unwrap();
        let guide_dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/fsh-generated/resources");
        let guide = install_local(&guide_dir, None, &[], work.path()).unwrap();
        BTreeMap::from([
            (uk.id.to_string(), tgz(&uk.dir)),
            (guide.id.to_string(), tgz(&guide.dir)),
        ])
    })
}

fn held(lie_about: Option<&str>) -> Packages {
    packages()
        .iter()
        .map(|(id, bytes)| {
            let id: PackageId = id.parse().unwrap();
            let mut shasum: String = Sha1::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if lie_about == Some(id.name.as_str()) {
                shasum = "0".repeat(40);
            }
            (
                (id.name, id.version),
                Held {
                    tarball: bytes.clone(),
                    shasum,
                },
            )
        })
        .collect()
}

fn install(id: &str, registry: &str, cache_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carer-fhir"))
        .args(["packages", "install", id, "--registry", registry, "--cache"])
        .arg(cache_dir)
        .output()
        .unwrap()
}

#[test]
fn the_guide_installs_from_a_registry_with_uk_core() {
    let guide_id = packages()
        .keys()
        .find(|k| k.starts_with("uk.carer-fhir.caf#"))
        .unwrap()
        .clone();
    let registry = serve(held(None));
    let cache_dir = cache_with_r4();
    let out = install(&guide_id, &registry, cache_dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("fhir.r4.ukcore.stu3.currentbuild#0.0.0-develop"),
        "{}",
        text(&out)
    );
    let (name, version) = guide_id.split_once('#').unwrap();
    for (n, v) in [
        (name, version),
        ("fhir.r4.ukcore.stu3.currentbuild", "0.0.0-develop"),
    ] {
        let dir = cache::package_dir(cache_dir.path(), n, v);
        let mut registry = Registry::new();
        let report = registry.load(&dir).unwrap();
        assert_eq!(report.package.as_deref(), Some(format!("{n}#{v}").as_str()));
    }
    let mut both = Registry::new();
    both.load(&cache::package_dir(
        cache_dir.path(),
        "fhir.r4.ukcore.stu3.currentbuild",
        "0.0.0-develop",
    ))
    .unwrap();
    let patient = both
        .structure_definition("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient")
        .expect("UK Core's Patient profile came with the guide");
    assert!(patient["snapshot"]["element"]
        .as_array()
        .is_some_and(|e| !e.is_empty()));

    // Again: nothing to fetch. And `latest` names the same version.
    let again = install(&format!("{name}#latest"), &registry, cache_dir.path());
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("already installed"),
        "{}",
        text(&again)
    );
}

#[test]
fn a_tarball_that_differs_from_its_listing_is_refused() {
    let registry = serve(held(Some("fhir.r4.ukcore.stu3.currentbuild")));
    let cache_dir = cache_with_r4();
    let out = install(
        "fhir.r4.ukcore.stu3.currentbuild#0.0.0-develop",
        &registry,
        cache_dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("SHA-1"), "{}", text(&out));
    assert!(!cache::package_dir(
        cache_dir.path(),
        "fhir.r4.ukcore.stu3.currentbuild",
        "0.0.0-develop"
    )
    .exists());
}

#[test]
fn without_a_registry_the_message_says_what_to_install_and_how() {
    let cache_dir = cache_with_r4();
    // Nothing listens on a port just bound and dropped.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let out = install("fhir.r4.ukcore.stu3#3.0.0", &closed, cache_dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("cannot reach the FHIR package registry"), "{t}");
    assert!(t.contains("carer-fhir packages install FILE.tgz"), "{t}");
    assert!(t.contains("--registry"), "{t}");
    // A registry that lacks the package says so.
    let registry = serve(held(None));
    let out = install("no.such.package#1.0.0", &registry, cache_dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("has no package no.such.package"),
        "{}",
        text(&out)
    );
}
