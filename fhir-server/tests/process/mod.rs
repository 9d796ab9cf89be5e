//! Helpers for tests that run `carer-fhir serve` as a real process: a
//! fresh database on either store, a server on a loopback port with a
//! watchdog, a blocking HTTP client.

// Shared by several test crates, each of which uses a part.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// However a test goes, a server it starts is gone after this long.
pub const WATCHDOG_SECS: u64 = 600;

pub fn cache() -> PathBuf {
    fhir_core::package::cache::cache_dir()
}

/// A fresh database for `name`: a SQLite file in `dir`, or a fresh schema
/// of the test PostgreSQL database (None when it is not configured).
pub fn database(pg: bool, name: &str, dir: &Path) -> Option<String> {
    if !pg {
        return Some(format!("sqlite:{}", dir.join("db.sqlite").display()));
    }
    let Ok(url) = std::env::var("CARER_FHIR_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("CARER_FHIR_REQUIRE_POSTGRES").is_none(),
            "CARER_FHIR_REQUIRE_POSTGRES is set but CARER_FHIR_TEST_POSTGRES is not"
        );
        eprintln!("skipped: set CARER_FHIR_TEST_POSTGRES (scripts/test does)");
        return None;
    };
    let schema = format!("p_{name}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&pool)
            .await
            .unwrap();
    });
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{sep}options=-c%20search_path%3D{schema}"))
}

/// A running server process and its base URL.
pub struct Server {
    pub child: Child,
    pub base: String,
}

/// A server with access control off (`--insecure-open`).
pub fn serve(db: &str, dir: &Path, extra: &[&str]) -> Server {
    serve_with(db, dir, true, extra)
}

/// A server, with access control off (`open`) or on.
pub fn serve_with(db: &str, dir: &Path, open: bool, extra: &[&str]) -> Server {
    serve_via(&[], db, dir, open, extra)
}

/// A server started through `wrapper` (a command that runs the rest of
/// its arguments, such as `nsenter -t PID -m`; none: directly).
pub fn serve_via(wrapper: &[&str], db: &str, dir: &Path, open: bool, extra: &[&str]) -> Server {
    let bin = env!("CARGO_BIN_EXE_carer-fhir");
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    let mut child = command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(open.then_some("--insecure-open"))
        .args(["--database", db, "--cache"])
        .arg(cache())
        .args(extra)
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    // A watchdog: whatever goes wrong, the process is gone in
    // WATCHDOG_SECS.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(WATCHDOG_SECS));
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
    });
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut address = None;
    for _ in 0..400 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(rest) = line.split("address=").nth(1) {
            address = rest.split_whitespace().next().map(str::to_string);
            break;
        }
    }
    // Keep draining the log so the server never blocks on a full pipe;
    // its errors go to the test's output (shown when a test fails).
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if line.contains(" ERROR ") {
                eprintln!("server: {line}");
            }
        }
    });
    Server {
        child,
        base: format!(
            "http://{}",
            address.expect("the server says where it listens")
        ),
    }
}

impl Server {
    /// Stops the server as an operator does (SIGTERM) and waits for it.
    pub fn stop(mut self) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let _ = self.child.wait();
    }

    pub fn kill9(mut self) {
        Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .unwrap();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Runs `carer-fhir ARGS` in `dir`; its standard output, or a panic with
/// its error.
pub fn cli(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_carer-fhir"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Registers an admin client `name` of organisation X26 in `db` (its key
/// in `dir/NAME.pem`) with `scopes`.
pub fn register_admin(dir: &Path, db: &str, name: &str, scopes: &str) {
    let (key, jwks) = (format!("{name}.pem"), format!("{name}.jwks.json"));
    cli(dir, &["clients", "keygen", "--key", &key, "--jwks", &jwks]);
    cli(
        dir,
        &[
            "clients",
            "add",
            name,
            "--ods",
            "X26",
            "--role",
            "admin",
            "--jwks",
            &jwks,
            "--scopes",
            scopes,
            "--database",
            db,
        ],
    );
}

/// A bearer token for client `name` (registered by [`register_admin`])
/// from the server at `base`.
pub fn token(dir: &Path, name: &str, scope: &str, base: &str) -> String {
    let key = format!("{name}.pem");
    cli(
        dir,
        &[
            "token", "--client", name, "--key", &key, "--scope", scope, "--server", base,
        ],
    )
    .lines()
    .last()
    .unwrap_or_default()
    .trim()
    .to_string()
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}
