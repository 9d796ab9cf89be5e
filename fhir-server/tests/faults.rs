//! Faults below the server, met as an operator meets them, with
//! `carer-fhir serve` as a real process: the disk under SQLite fills up
//! and empties again; another process holds the SQLite file locked;
//! PostgreSQL stops and starts again; 20 plain updates of one resource
//! race; clients hold connections without sending or beyond the limit.
//!
//! What must hold: a write is acknowledged only when it is stored (every
//! `201` is read back, also after a restart); an outage is answered `503`
//! with `Retry-After` and an OperationOutcome at once, never `500`; the
//! server recovers by itself when the storage does; both stores give the
//! same answers. The full disk needs a filesystem of its own, mounted in
//! a private mount namespace (`unshare -m`, as root or with unprivileged
//! user namespaces); where that is not allowed the test says so and
//! passes nothing off as checked.

mod process;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use process::{client, database, serve, serve_via};

/// A Patient of about `kb` kilobytes, marked `n`.
fn patient(n: usize, kb: usize) -> Value {
    json!({"resourceType": "Patient",
        "identifier": [{"system": "https://example.org/faults", "value": format!("f-{n}")}],
        "name": [{"family": format!("Fault{n}"), "text": "x".repeat(kb * 1024)}]})
}

/// POSTs `body`; the status, the answer's headers and body (None when the
/// connection failed).
fn post(
    c: &reqwest::blocking::Client,
    url: &str,
    body: &Value,
) -> Option<(u16, reqwest::header::HeaderMap, Value)> {
    let r = c
        .post(url)
        .header("content-type", "application/fhir+json")
        .body(body.to_string())
        .send()
        .ok()?;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    Some((status, headers, r.json().unwrap_or(Value::Null)))
}

/// An outage's answer: 503, `Retry-After`, an OperationOutcome.
fn assert_outage(status: u16, headers: &reqwest::header::HeaderMap, body: &Value, what: &str) {
    assert_eq!(status, 503, "{what}: {body}");
    assert!(
        headers.contains_key("retry-after"),
        "{what}: no Retry-After"
    );
    assert_eq!(body["resourceType"], "OperationOutcome", "{what}: {body}");
}

/// Every id in `acknowledged` reads back 200 from `base`.
fn all_readable(c: &reqwest::blocking::Client, base: &str, acknowledged: &[String]) {
    for id in acknowledged {
        let s = c
            .get(format!("{base}/Patient/{id}"))
            .send()
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(s, 200, "Patient/{id} was acknowledged (201) but reads {s}");
    }
}

/// Creates from four clients at once for 2 s, then `fault`, then 3 s
/// more: the ids acknowledged (201) and how many were refused, each
/// refusal checked to be an outage's answer (`what` names it).
fn creates_during(url: &str, kb: usize, what: &str, fault: impl FnOnce()) -> (Vec<String>, usize) {
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let stop = &stop;
                s.spawn(move || {
                    let c = client();
                    let (mut ack, mut refused) = (Vec::new(), 0);
                    let mut n = w * 100_000;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        n += 1;
                        match post(&c, url, &patient(n, kb)) {
                            Some((201, _, body)) => {
                                ack.push(body["id"].as_str().unwrap().to_string())
                            }
                            Some((s, h, body)) => {
                                assert_outage(s, &h, &body, what);
                                refused += 1;
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            None => {}
                        }
                    }
                    (ack, refused)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(2));
        fault();
        std::thread::sleep(Duration::from_secs(3));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writers.into_iter().fold((Vec::new(), 0), |(mut a, r), h| {
            let (ack, refused) = h.join().unwrap();
            a.extend(ack);
            (a, r + refused)
        })
    })
}

/// Creates until one is acknowledged (within 30 s): its id.
fn writes_resume(c: &reqwest::blocking::Client, url: &str) -> String {
    let started = Instant::now();
    loop {
        if let Some((201, _, body)) = post(c, url, &patient(0, 1)) {
            return body["id"].as_str().unwrap().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "writes did not resume"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A process that holds a private mount namespace open, with a tmpfs of
/// `mb` megabytes at `at` in it (None when this machine does not allow
/// one: no privilege to mount).
struct Namespace {
    holder: Child,
}

impl Namespace {
    fn with_tmpfs(at: &Path, mb: u32) -> Option<Namespace> {
        std::fs::create_dir_all(at).unwrap();
        Namespace::mounting(&format!(
            "mount -t tmpfs -o size={mb}m tmpfs '{}'",
            at.display()
        ))
    }

    /// An ext4 image of `mb` megabytes, loop-mounted at `at` with
    /// `errors=remount-ro` (as a data disk usually is).
    fn with_ext4(image: &Path, at: &Path, mb: u32) -> Option<Namespace> {
        std::fs::create_dir_all(at).unwrap();
        let made = Command::new("sh")
            .args([
                "-c",
                &format!(
                    "truncate -s {mb}M '{0}' && mkfs.ext4 -q '{0}'",
                    image.display()
                ),
            ])
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            eprintln!("skipped: no mkfs.ext4 here");
            return None;
        }
        Namespace::mounting(&format!(
            "mount -o loop,errors=remount-ro '{}' '{}'",
            image.display(),
            at.display()
        ))
    }

    /// A namespace in which `mount` (a shell command) has been run.
    fn mounting(mount: &str) -> Option<Namespace> {
        let script = format!("{mount} && echo ready && exec sleep 900");
        let root = unsafe_is_root();
        let mut command = Command::new("unshare");
        command.args(if root { vec!["-m"] } else { vec!["-r", "-m"] });
        let mut holder = command
            .args(["sh", "-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        let mut out = [0u8; 6];
        let ready = holder
            .stdout
            .take()
            .map(|mut o| o.read_exact(&mut out).is_ok() && &out == b"ready\n")
            .unwrap_or(false);
        if !ready {
            let _ = holder.kill();
            let mut why = String::new();
            if let Some(mut e) = holder.stderr.take() {
                let _ = e.read_to_string(&mut why);
            }
            eprintln!(
                "skipped: no private filesystem can be mounted here ({})",
                why.trim()
            );
            return None;
        }
        Some(Namespace { holder })
    }

    /// The wrapper that runs a command in the namespace.
    fn enter(&self) -> Vec<String> {
        let pid = self.holder.id().to_string();
        let mut w = vec!["nsenter".to_string(), "-t".into(), pid, "-m".into()];
        if !unsafe_is_root() {
            w.extend(["-U".into(), "--preserve-credentials".into()]);
        }
        w
    }

    /// Makes the ext4 filesystem at `at` fail as a disk error does: the
    /// kernel's error injection, after which `errors=remount-ro` holds.
    fn fail_ext4(&self, at: &Path) {
        let out = self.sh(&format!(
            "echo 1 > /sys/fs/ext4/$(basename $(findmnt -no SOURCE '{}'))/trigger_fs_error",
            at.display()
        ));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Repairs the failed filesystem as an operator would: unmounted,
    /// checked, mounted again.
    fn repair_ext4(&self, image: &Path, at: &Path) {
        let out = self.sh(&format!(
            "umount '{0}' && e2fsck -fy '{1}' >/dev/null; mount -o loop '{1}' '{0}'",
            at.display(),
            image.display()
        ));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A PostgreSQL of its own with its data directory on the filesystem
    /// mounted at `at` (in `dir`, the test's folder).
    fn postgres(&self, dir: &Path, at: &Path) -> Option<OwnPostgres> {
        if unsafe_is_root() {
            // The postgres user reaches its data through the test's folder.
            Command::new("chmod")
                .args(["755", &dir.display().to_string()])
                .status()
                .unwrap();
            self.sh(&format!("chown postgres '{}'", at.display()));
        }
        OwnPostgres::start_at(at.join("pgdata"), self.enter(), None)
    }

    /// Runs `sh -c script` in the namespace.
    fn sh(&self, script: &str) -> std::process::Output {
        let w = self.enter();
        Command::new(&w[0])
            .args(&w[1..])
            .args(["sh", "-c", script])
            .output()
            .unwrap()
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// Whether this process runs as root (then no user namespace is needed).
fn unsafe_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

#[test]
fn a_full_disk_is_answered_503_and_every_acknowledged_write_is_kept_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let fs = dir.path().join("fs");
    let Some(ns) = Namespace::with_tmpfs(&fs, 24) else {
        return;
    };
    let db = format!("sqlite:{}", fs.join("db.sqlite").display());
    let wrapper = ns.enter();
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let server = serve_via(&wrapper, &db, dir.path(), true, &[]);
    let c = client();
    let url = format!("{}/Patient", server.base);
    let mut acknowledged = Vec::new();
    let mut n = 0;
    let created = |c: &reqwest::blocking::Client, n: &mut usize, ack: &mut Vec<String>| {
        *n += 1;
        let (s, h, body) = post(c, &url, &patient(*n, 16)).expect("the server answers");
        if s == 201 {
            ack.push(body["id"].as_str().unwrap().to_string());
        } else {
            assert_outage(s, &h, &body, "a create on a full disk");
        }
        s
    };
    for _ in 0..5 {
        assert_eq!(created(&c, &mut n, &mut acknowledged), 201);
    }
    // The disk fills up.
    ns.sh(&format!(
        "dd if=/dev/zero of='{}/filler' bs=64k 2>/dev/null; true",
        fs.display()
    ));
    let mut refused = 0;
    for _ in 0..40 {
        if created(&c, &mut n, &mut acknowledged) == 503 {
            refused += 1;
        }
    }
    assert!(
        refused > 0,
        "40 creates of 16 KB each on a full disk: none refused"
    );
    // Reads go on while the disk is full.
    all_readable(&c, &server.base, &acknowledged);
    // Space comes back: writes resume without a restart.
    ns.sh(&format!("rm -f '{}/filler'", fs.display()));
    let resumed = (0..20).any(|_| {
        let ok = created(&c, &mut n, &mut acknowledged) == 201;
        if !ok {
            std::thread::sleep(Duration::from_millis(200));
        }
        ok
    });
    assert!(
        resumed,
        "writes did not resume once the disk had space again"
    );
    for _ in 0..5 {
        assert_eq!(created(&c, &mut n, &mut acknowledged), 201);
    }
    all_readable(&c, &server.base, &acknowledged);
    eprintln!(
        "full disk: {} creates, {} acknowledged, {refused} refused 503 while full",
        n,
        acknowledged.len()
    );
    // Stopped and started again on the same file: every acknowledged
    // write is there, and the file is not left locked.
    server.stop();
    let server = serve_via(&wrapper, &db, dir.path(), true, &[]);
    all_readable(&c, &server.base, &acknowledged);
    let (s, _, _) = post(&c, &format!("{}/Patient", server.base), &patient(0, 1)).unwrap();
    assert_eq!(s, 201, "a write after the restart");
}

/// The issue's storage failure: the filesystem under SQLite has an error
/// and goes read-only (as ext4 with `errors=remount-ro` does) while
/// creates keep coming. Every create the server acknowledged must be in
/// the database once the disk is repaired; the rest are answered 503.
#[test]
fn a_filesystem_gone_read_only_loses_no_acknowledged_write_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let fs = dir.path().join("disk");
    let image = dir.path().join("disk.ext4");
    let Some(ns) = Namespace::with_ext4(&image, &fs, 64) else {
        return;
    };
    let db = format!("sqlite:{}", fs.join("db.sqlite").display());
    let wrapper = ns.enter();
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let server = serve_via(&wrapper, &db, dir.path(), true, &[]);
    let url = format!("{}/Patient", server.base);
    let (acknowledged, refused) = creates_during(&url, 1, "a create on a failed disk", || {
        // The disk fails under the writes.
        ns.fail_ext4(&fs);
    });
    assert!(refused > 0, "no create was refused after the disk failed");
    server.stop();
    // Repaired as an operator would: unmounted, checked, mounted again.
    ns.repair_ext4(&image, &fs);
    let server = serve_via(&wrapper, &db, dir.path(), true, &[]);
    let c = client();
    all_readable(&c, &server.base, &acknowledged);
    eprintln!(
        "read-only disk: {} creates acknowledged, all kept; {refused} refused 503",
        acknowledged.len()
    );
}

#[test]
fn a_sqlite_file_locked_by_another_process_is_answered_503_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(false, "locked", dir.path()).unwrap();
    let server = serve(&db, dir.path(), &[]);
    let c = client();
    let url = format!("{}/Patient", server.base);
    let (s, _, first) = post(&c, &url, &patient(1, 1)).unwrap();
    assert_eq!(s, 201);
    // Another process takes the write lock and keeps it.
    let path = dir.path().join("db.sqlite");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (conn_tx, conn_rx) = std::sync::mpsc::channel::<()>();
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    let lock_path = path.clone();
    let holder = std::thread::spawn(move || {
        rt.block_on(async {
            use sqlx::Connection;
            let mut conn =
                sqlx::SqliteConnection::connect(&format!("sqlite://{}", lock_path.display()))
                    .await
                    .unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut conn)
                .await
                .unwrap();
            held_tx.send(()).unwrap();
            let _ = conn_rx.recv();
            sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
        })
    });
    held_rx.recv().unwrap();
    let started = Instant::now();
    let (s, h, body) = post(&c, &url, &patient(2, 1)).unwrap();
    let took = started.elapsed();
    assert_outage(
        s,
        &h,
        &body,
        "a create while another process holds the file",
    );
    assert!(took < Duration::from_secs(5), "the 503 took {took:?}");
    eprintln!("locked file: 503 after {took:?}");
    conn_tx.send(()).unwrap();
    holder.join().unwrap();
    let (s, _, _) = post(&c, &url, &patient(3, 1)).unwrap();
    assert_eq!(s, 201, "writes resume once the lock is gone");
    all_readable(
        &c,
        &server.base,
        &[first["id"].as_str().unwrap().to_string()],
    );
}

/// A PostgreSQL server of its own for a test that stops it (the shared
/// one serves other tests at the same time).
struct OwnPostgres {
    bin: std::path::PathBuf,
    data: std::path::PathBuf,
    port: u16,
    /// The command that runs others where the data directory is mounted
    /// (empty: here).
    wrapper: Vec<String>,
    _dir: Option<tempfile::TempDir>,
}

impl OwnPostgres {
    fn start() -> Option<OwnPostgres> {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        if unsafe_is_root() {
            Command::new("chown")
                .args(["postgres", &dir.path().display().to_string()])
                .status()
                .unwrap();
        }
        OwnPostgres::start_at(data, Vec::new(), Some(dir))
    }

    /// A PostgreSQL whose data directory is `data`, its commands run
    /// through `wrapper` (a mount namespace's `nsenter`).
    fn start_at(
        data: std::path::PathBuf,
        wrapper: Vec<String>,
        dir: Option<tempfile::TempDir>,
    ) -> Option<OwnPostgres> {
        let Some(bin) = std::env::var_os("CARER_FHIR_PG_BIN").map(std::path::PathBuf::from) else {
            assert!(
                std::env::var_os("CARER_FHIR_REQUIRE_POSTGRES").is_none(),
                "CARER_FHIR_REQUIRE_POSTGRES is set but CARER_FHIR_PG_BIN is not"
            );
            eprintln!("skipped: set CARER_FHIR_PG_BIN (scripts/postgres does)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = OwnPostgres {
            bin,
            data,
            port,
            wrapper,
            _dir: dir,
        };
        pg.run(&format!(
            "'{}/initdb' -D '{}' -U postgres --auth=trust -E UTF8 >/dev/null",
            pg.bin.display(),
            pg.data.display()
        ));
        pg.up();
        pg.run(&format!(
            "'{}/createdb' -h 127.0.0.1 -p {} -U postgres faults",
            pg.bin.display(),
            pg.port
        ));
        Some(pg)
    }

    /// Runs `script` as the postgres user (when root) where the data is.
    fn try_run(&self, script: &str) -> bool {
        let mut args: Vec<String> = self.wrapper.clone();
        if unsafe_is_root() {
            args.extend(["su", "postgres", "-s", "/bin/sh", "-c", script].map(String::from));
        } else {
            args.extend(["sh", "-c", script].map(String::from));
        }
        Command::new(&args[0])
            .args(&args[1..])
            .status()
            .is_ok_and(|s| s.success())
    }

    fn run(&self, script: &str) {
        assert!(self.try_run(script), "{script}");
    }

    fn up(&self) {
        self.run(&format!(
            "'{}/pg_ctl' -D '{}' -l '{}/log' -w -o \"-c listen_addresses=127.0.0.1 -p {} -k '{}'\" start >/dev/null",
            self.bin.display(),
            self.data.display(),
            self.data.display(),
            self.port,
            self.data.display()
        ));
    }

    fn down(&self) {
        self.run(&format!(
            "'{}/pg_ctl' -D '{}' -m fast -w stop >/dev/null",
            self.bin.display(),
            self.data.display()
        ));
    }

    /// Whether the server is running.
    fn running(&self) -> bool {
        self.try_run(&format!(
            "'{}/pg_ctl' -D '{}' status >/dev/null",
            self.bin.display(),
            self.data.display()
        ))
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/faults", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.try_run(&format!(
            "'{}/pg_ctl' -D '{}' -m immediate stop >/dev/null 2>&1",
            self.bin.display(),
            self.data.display()
        ));
    }
}

/// PostgreSQL's data directory is on an ext4 disk that fails and goes
/// read-only while creates keep coming (PostgreSQL stops: it cannot write
/// its WAL). Every create acknowledged before is there once the disk is
/// repaired and PostgreSQL started again; the rest were 503.
#[test]
fn a_disk_gone_read_only_under_postgresql_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let fs = dir.path().join("disk");
    let image = dir.path().join("disk.ext4");
    let Some(ns) = Namespace::with_ext4(&image, &fs, 192) else {
        return;
    };
    let Some(pg) = ns.postgres(dir.path(), &fs) else {
        return;
    };
    let server = serve(&pg.url(), dir.path(), &[]);
    let url = format!("{}/Patient", server.base);
    let (mut acknowledged, refused) = creates_during(&url, 1, "a create on a failed disk", || {
        ns.fail_ext4(&fs);
    });
    assert!(refused > 0, "no create was refused after the disk failed");
    // Repaired as an operator would: PostgreSQL stopped, the disk
    // unmounted, checked, mounted again, PostgreSQL started.
    let _ = pg.try_run(&format!(
        "'{}/pg_ctl' -D '{}' -m immediate stop >/dev/null 2>&1",
        pg.bin.display(),
        pg.data.display()
    ));
    ns.repair_ext4(&image, &fs);
    pg.up();
    let c = client();
    acknowledged.push(writes_resume(&c, &url));
    all_readable(&c, &server.base, &acknowledged);
    eprintln!(
        "PostgreSQL read-only disk: {} creates acknowledged, all kept; {refused} refused 503",
        acknowledged.len()
    );
}

/// PostgreSQL's data directory fills up while creates keep coming: every
/// acknowledged create is kept, the rest are 503, and writes resume once
/// there is space (PostgreSQL restarted by its operator if it stopped).
#[test]
fn a_full_disk_under_postgresql_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let fs = dir.path().join("fs");
    let Some(ns) = Namespace::with_tmpfs(&fs, 160) else {
        return;
    };
    let Some(pg) = ns.postgres(dir.path(), &fs) else {
        return;
    };
    let server = serve(&pg.url(), dir.path(), &[]);
    let url = format!("{}/Patient", server.base);
    let (mut acknowledged, refused) = creates_during(&url, 8, "a create on a full disk", || {
        ns.sh(&format!(
            "dd if=/dev/zero of='{}/filler' bs=64k 2>/dev/null; true",
            fs.display()
        ));
    });
    assert!(refused > 0, "no create was refused on a full disk");
    ns.sh(&format!("rm -f '{}/filler'", fs.display()));
    let stopped = !pg.running();
    if stopped {
        pg.up();
    }
    let c = client();
    acknowledged.push(writes_resume(&c, &url));
    all_readable(&c, &server.base, &acknowledged);
    eprintln!(
        "PostgreSQL disk full: {} creates acknowledged, all kept; {refused} refused 503; PostgreSQL {}",
        acknowledged.len(),
        if stopped { "had stopped and was restarted" } else { "stayed up" }
    );
}

#[test]
fn a_postgresql_outage_is_answered_503_at_once_and_the_server_recovers() {
    let Some(pg) = OwnPostgres::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&pg.url(), dir.path(), &[]);
    let c = client();
    let url = format!("{}/Patient", server.base);
    let mut acknowledged = Vec::new();
    for n in 0..3 {
        let (s, _, body) = post(&c, &url, &patient(n, 1)).unwrap();
        assert_eq!(s, 201);
        acknowledged.push(body["id"].as_str().unwrap().to_string());
    }
    pg.down();
    let mut slowest = Duration::ZERO;
    for n in 0..4 {
        let started = Instant::now();
        let (s, h, body) = if n % 2 == 0 {
            post(&c, &url, &patient(10 + n, 1)).unwrap()
        } else {
            let r = c.get(format!("{url}/{}", acknowledged[0])).send().unwrap();
            let (s, h) = (r.status().as_u16(), r.headers().clone());
            (s, h, r.json().unwrap_or(Value::Null))
        };
        slowest = slowest.max(started.elapsed());
        assert_outage(s, &h, &body, "a request while PostgreSQL is down");
    }
    assert!(
        slowest < Duration::from_secs(3),
        "an outage took {slowest:?} to answer"
    );
    eprintln!("PostgreSQL down: 503 within {slowest:?}");
    pg.up();
    let started = Instant::now();
    let recovered = loop {
        let (s, _, body) = post(&c, &url, &patient(99, 1)).unwrap();
        if s == 201 {
            acknowledged.push(body["id"].as_str().unwrap().to_string());
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no recovery: {s} {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!("PostgreSQL back: writes again after {recovered:?}");
    all_readable(&c, &server.base, &acknowledged);
}

fn racing_plain_updates_are_all_applied(pg: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = database(pg, "racing_updates", dir.path()) else {
        return;
    };
    let server = serve(&db, dir.path(), &[]);
    let c = client();
    let body = json!({"resourceType": "Patient", "id": "race", "name": [{"family": "Race"}]});
    let put = |c: &reqwest::blocking::Client, body: &Value| {
        c.put(format!("{}/Patient/race", server.base))
            .header("content-type", "application/fhir+json")
            .body(body.to_string())
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(put(&c, &body), 201);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let c = c.clone();
                let body = body.clone();
                s.spawn(move || put(&c, &body))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        statuses.iter().all(|&s| s == 200),
        "20 racing plain updates: {statuses:?}"
    );
    let current: Value = c
        .get(format!("{}/Patient/race", server.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        current["meta"]["versionId"], "21",
        "each update made a version"
    );
}

#[test]
fn racing_plain_updates_are_all_applied_on_sqlite() {
    racing_plain_updates_are_all_applied(false);
}

#[test]
fn racing_plain_updates_are_all_applied_on_postgresql() {
    racing_plain_updates_are_all_applied(true);
}

/// Whether the server closed `s` (a read gives end of file or an error)
/// within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn slow_and_surplus_connections_are_closed_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(false, "slow", dir.path()).unwrap();
    let server = serve(&db, dir.path(), &["--max-connections", "8"]);
    let addr = server.base.trim_start_matches("http://").to_string();
    // Clients that send half a request and stop, and clients that send
    // nothing at all, are closed once the header time has passed.
    let opened = Instant::now();
    let mut slow: Vec<TcpStream> = (0..6)
        .map(|n| {
            let mut s = TcpStream::connect(&addr).unwrap();
            if n % 2 == 0 {
                s.write_all(b"GET /metadata HTTP/1.1\r\nHost: x\r\n")
                    .unwrap();
            }
            s
        })
        .collect();
    // Within the limit still: a real request is answered meanwhile.
    let c = client();
    assert_eq!(
        c.get(format!("{}/metadata", server.base))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    // Beyond the limit: a clear refusal at once.
    let mut extra: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    let mut refused = 0;
    for s in &mut extra {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        if answer.starts_with("HTTP/1.1 503") {
            assert!(
                answer.contains("OperationOutcome") && answer.contains("Retry-After"),
                "{answer}"
            );
            refused += 1;
        }
    }
    assert!(
        refused >= 2,
        "connections beyond the limit of 8: {refused} of 4 refused"
    );
    for s in &mut slow {
        assert!(
            closed_within(s, Duration::from_secs(30)),
            "a connection that sent no whole request was kept open for 30 s"
        );
    }
    eprintln!(
        "slow clients: all closed {:?} after they connected",
        opened.elapsed()
    );
    // And the server serves again once they are gone.
    assert_eq!(
        c.get(format!("{}/metadata", server.base))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

/// The server's resident memory now and at its peak, in MB (Linux).
fn rss_mb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[test]
fn a_batch_of_heavy_searches_is_held_to_a_memory_budget_on_sqlite() {
    heavy_batch(false);
}

#[test]
fn a_batch_of_heavy_searches_is_held_to_a_memory_budget_on_postgresql() {
    heavy_batch(true);
}

fn heavy_batch(pg: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = database(pg, "heavy", dir.path()) else {
        return;
    };
    let server = serve(&db, dir.path(), &[]);
    let c = client();
    // 1,200 Patients of about 4 KB: a page of 1,000 is about 4 MB of text.
    let entries: Vec<Value> = (0..1200)
        .map(
            |n| json!({"resource": patient(n, 4), "request": {"method": "POST", "url": "Patient"}}),
        )
        .collect();
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
    let (s, _, _) = post(&c, &server.base, &tx).unwrap();
    assert_eq!(s, 200);
    let (idle, _) = rss_mb(server.child.id());
    // 60 searches of 1,000 each: about 240 MB of text, some 1.5 GB parsed.
    let searches: Vec<Value> = (0..60)
        .map(|_| json!({"request": {"method": "GET", "url": "Patient?_count=1000"}}))
        .collect();
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": searches});
    let (s, _, answer) = post(&c, &server.base, &batch).unwrap();
    assert_eq!(s, 200, "{answer}");
    let statuses: Vec<&str> = answer["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["response"]["status"].as_str().unwrap_or(""))
        .collect();
    let answered = statuses.iter().filter(|s| s.starts_with("200")).count();
    let too_costly = answer["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["response"]["outcome"]["issue"][0]["code"] == "too-costly")
        .count();
    assert!(
        answered > 0,
        "no search of the batch was answered: {statuses:?}"
    );
    assert_eq!(answered + too_costly, 60, "{statuses:?}");
    assert!(too_costly > 0, "60 pages of 4 MB answered in one batch");
    let (_, peak) = rss_mb(server.child.id());
    std::thread::sleep(Duration::from_secs(5));
    let (after, _) = rss_mb(server.child.id());
    eprintln!(
        "heavy batch ({}): {answered} searches answered, {too_costly} refused too-costly; RSS idle {idle} MB, peak {peak} MB, 5 s after {after} MB",
        if pg { "PostgreSQL" } else { "SQLite" }
    );
    assert!(peak < 1024, "peak RSS {peak} MB");
    // A small read is answered as before.
    assert_eq!(
        c.get(format!("{}/metadata", server.base))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}
