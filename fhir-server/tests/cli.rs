//! The `carer-fhir` command line, run as a real process.
//!
//! `packages install` fetches from the npm registry with the machine's npm;
//! the schema comparison reads the shared corpus at `../shared` (set
//! `CARER_FHIR_SHARED` to move it), which `.ci/run` always has.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_carer-fhir"))
}

fn shared() -> PathBuf {
    let dir = std::env::var_os("CARER_FHIR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    assert!(
        dir.join("data").is_dir(),
        "this test reads the shared corpus at {}",
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

/// One real install shared by the tests of this binary, into its own cache.
fn installed_cache() -> &'static Path {
    static CACHE: OnceLock<tempfile::TempDir> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let out = bin()
                .args(["packages", "install", "--cache"])
                .arg(dir.path())
                .output()
                .unwrap();
            assert!(out.status.success(), "install failed:\n{}", text(&out));
            dir
        })
        .path()
}

#[test]
fn install_writes_r4_core_with_the_official_schema() {
    let cache = installed_cache();
    let pkg = cache.join("hl7.fhir.r4.core#4.0.1/package");
    assert!(pkg.join("package.json").is_file());
    assert!(pkg.join(".index.json").is_file());
    assert!(pkg.join("StructureDefinition-Patient.json").is_file());

    // Medplum's own resource types and properties are gone: what remains is
    // exactly the official R4 schema.
    let installed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("other/fhir.schema.json")).unwrap())
            .unwrap();
    let official: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared().join("data/r4/fhir.schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        installed["discriminator"]["mapping"]
            .as_object()
            .unwrap()
            .len(),
        146
    );
    assert!(
        installed == official,
        "installed schema differs from the official R4 schema"
    );
}

#[test]
fn installed_definitions_are_r4() {
    let mut reg = fhir_core::package::Registry::new();
    let report = reg
        .load(&installed_cache().join("hl7.fhir.r4.core#4.0.1"))
        .unwrap();
    assert_eq!(report.package.as_deref(), Some("hl7.fhir.r4.core#4.0.1"));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let paths = |url: &str| -> Vec<String> {
        reg.structure_definition(url).unwrap()["snapshot"]["element"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"].as_str().unwrap().to_string())
            .collect()
    };
    let meta = paths("http://hl7.org/fhir/StructureDefinition/Meta");
    assert!(meta.contains(&"Meta.source".to_string()));
    assert!(
        !meta.contains(&"Meta.project".to_string()),
        "Medplum's Meta.project must be removed"
    );
    let ev = paths("http://hl7.org/fhir/StructureDefinition/EvidenceVariable");
    assert!(ev.contains(&"EvidenceVariable.characteristic.definition[x]".to_string()));
    assert!(reg
        .structure_definition("http://hl7.org/fhir/StructureDefinition/SubscriptionStatus")
        .is_none());
    assert!(reg
        .value_set("http://hl7.org/fhir/ValueSet/administrative-gender")
        .is_some());
    assert!(reg
        .code_system("http://hl7.org/fhir/administrative-gender")
        .is_some());
    assert!(reg
        .search_parameter("http://hl7.org/fhir/SearchParameter/individual-birthdate")
        .is_some());
}

#[test]
fn second_install_does_nothing() {
    let out = bin()
        .args(["packages", "install", "--cache"])
        .arg(installed_cache())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("already installed"), "{}", text(&out));
}

#[test]
fn install_refuses_a_tarball_with_the_wrong_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.tgz");
    std::fs::write(&fake, b"not the pinned package").unwrap();
    let out = bin()
        .args(["packages", "install", "--cache"])
        .arg(dir.path().join("cache"))
        .arg("--tarball")
        .arg(&fake)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("not the pinned"), "{}", text(&out));
    assert!(
        !dir.path().join("cache/hl7.fhir.r4.core#4.0.1").exists(),
        "nothing may be written"
    );
}

#[test]
fn install_without_npm_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .env("PATH", dir.path())
        .args(["packages", "install", "--cache"])
        .arg(dir.path().join("cache"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("npm was not found"), "{}", text(&out));
}

#[test]
fn list_counts_r4_and_uk_core() {
    let out = bin()
        .args(["packages", "list", "--cache"])
        .arg(installed_cache())
        .arg("--package")
        .arg(shared().join("data/ukcore"))
        .output()
        .unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("hl7.fhir.r4.core#4.0.1: 4479 resources"), "{t}");
    assert!(t.contains("StructureDefinition"), "{t}");
    // UK Core's one malformed code system is reported with its location,
    // and loading goes on past it.
    assert!(
        t.contains("CodeSystem-UKCore-EthnicCategoryScotland.xml"),
        "{t}"
    );
}

#[test]
fn list_without_install_points_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["packages", "list", "--cache"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("carer-fhir packages install"),
        "{}",
        text(&out)
    );
}

fn convert(args: &[&str], stdin: &str) -> Output {
    let mut child = bin()
        .arg("convert")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn convert_xml_to_json_and_back_through_stdin() {
    let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><birthDate value="1950-02-03"/></Patient>"#;
    let out = convert(&["-"], xml);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["birthDate"], "1950-02-03");
    let back = convert(
        &["-", "--to", "xml"],
        &String::from_utf8(out.stdout).unwrap(),
    );
    assert!(back.status.success(), "{}", text(&back));
    assert!(String::from_utf8_lossy(&back.stdout).contains(r#"<birthDate value="1950-02-03"/>"#));
}

#[test]
fn convert_file_to_file_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let input = shared().join("data/ukcore/examples/UKCore-Patient-RichardSmith-Example.xml");
    let output = dir.path().join("richard.json");
    let out = bin()
        .arg("convert")
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(v["resourceType"], "Patient");
}

#[test]
fn convert_bad_input_exits_2_with_a_location() {
    let out = convert(
        &["-"],
        "{\"resourceType\": \"Patient\",\n \"gender\": [\"male\"]}",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("Patient.gender") && t.contains("line 2"), "{t}");

    let out = convert(&["-"], "not a resource");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("JSON or XML"), "{}", text(&out));

    let out = convert(&["-", "--from", "json"], "{\"resourceType\": \"Carer\"}");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("unknown resource type `Carer`"),
        "{}",
        text(&out)
    );
}

#[test]
fn fhirpath_prints_the_result_collection() {
    let patient = shared().join("data/fhir-test-cases/r4/patient-example.xml");
    let out = bin()
        .env("FHIR_PACKAGE_CACHE", installed_cache())
        .args([
            "fhirpath",
            "Patient.name.given.first() | Patient.birthDate | Patient.active",
        ])
        .arg(&patient)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v[0],
        serde_json::json!({"type": "string", "value": "Peter"})
    );
    assert_eq!(v[1]["type"], "date");
    assert_eq!(v[1]["value"], "1974-12-25");
    // The primitive's extension (the birth time) comes with it.
    assert_eq!(
        v[1]["extension"]["extension"][0]["url"],
        "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
    );
    assert_eq!(v[2], serde_json::json!({"type": "boolean", "value": true}));
    assert_eq!(v.as_array().unwrap().len(), 3);
    // Typed navigation: value[x] by its element name, and a system value.
    let out = bin()
        .env("FHIR_PACKAGE_CACHE", installed_cache())
        .args(["fhirpath", "Observation.value.value + 1"])
        .arg(shared().join("data/fhir-test-cases/r4/observation-example.xml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["type"], "decimal");
}

#[test]
fn fhirpath_invalid_expression_exits_2_with_the_position() {
    let patient = shared().join("data/fhir-test-cases/r4/patient-example.xml");
    let out = bin()
        .args(["fhirpath", "Patient.name.where(", "--cache"])
        .arg(installed_cache())
        .arg(&patient)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("column 20"), "{}", text(&out));
}

/// A `carer-fhir serve` process on an ephemeral port in `dir`: the child,
/// its address, and its standard error (the log).
fn start_serve(
    dir: &Path,
    extra: &[&str],
) -> (
    std::process::Child,
    String,
    std::io::BufReader<std::process::ChildStderr>,
) {
    use std::io::{BufRead, BufReader};
    let mut child = bin()
        .args(["serve", "--bind", "127.0.0.1:0", "--cache"])
        .arg(installed_cache())
        .args(extra)
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A watchdog: whatever goes wrong, the server is gone within 60 s.
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(60));
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
    });
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut address = None;
    let mut log = String::new();
    for _ in 0..200 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        log.push_str(&line);
        if let Some(rest) = line.split("address=").nth(1) {
            address = rest.split_whitespace().next().map(str::to_string);
            break;
        }
    }
    let address =
        address.unwrap_or_else(|| panic!("the server did not say where it listens:\n{log}"));
    (child, address, stderr)
}

/// One HTTP/1.1 GET, with an optional bearer token: the whole response.
fn http_get(address: &str, path: &str, token: Option<&str>) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(address).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    response
}

fn stop(
    mut child: std::process::Child,
    mut stderr: std::io::BufReader<std::process::ChildStderr>,
) -> String {
    use std::io::Read;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{status}: {rest}");
    rest
}

/// `serve` starts on its default SQLite store, answers over HTTP, and on
/// SIGTERM finishes and exits 0.
#[test]
fn serve_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, address, stderr) = start_serve(dir.path(), &[]);
    let response = http_get(&address, "/metadata", None);
    assert!(response.starts_with("HTTP/1.1 200"), "{response:.200}");
    assert!(response.contains("CapabilityStatement"));
    assert!(
        dir.path().join("carer-fhir.sqlite").is_file(),
        "the default store is a SQLite file in the working directory"
    );
    let rest = stop(child, stderr);
    assert!(rest.contains("stopped"), "{rest}");
}

/// A newcomer's path: a key pair, a registered client, a server, a token
/// from `carer-fhir token`, and a read with it; without it, 401.
#[test]
fn a_registered_client_gets_a_token_that_reads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| {
        let out = bin().args(args).current_dir(d).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        out
    };
    run(&[
        "clients",
        "keygen",
        "--key",
        "dev.pem",
        "--jwks",
        "dev.jwks.json",
    ]);
    run(&[
        "clients",
        "add",
        "dev",
        "--ods",
        "X26",
        "--role",
        "admin",
        "--jwks",
        "dev.jwks.json",
        "--scopes",
        "system/*.cruds",
    ]);
    let listed = run(&["clients", "list"]);
    assert!(
        text(&listed).contains("dev\tadmin\tX26"),
        "{}",
        text(&listed)
    );
    let bad = bin()
        .args([
            "clients",
            "add",
            "x",
            "--ods",
            "!",
            "--role",
            "admin",
            "--jwks",
            "dev.jwks.json",
            "--scopes",
            "system/*.rs",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a bad ODS code is unusable input: {}",
        text(&bad)
    );
    let (child, address, stderr) = start_serve(d, &[]);
    let out = run(&[
        "token",
        "--client",
        "dev",
        "--key",
        "dev.pem",
        "--scope",
        "system/Patient.rs",
        "--server",
        &format!("http://{address}"),
    ]);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.split('.').count() == 3, "a JWT: {token}");
    let unauthorised = http_get(&address, "/Patient", None);
    assert!(
        unauthorised.starts_with("HTTP/1.1 401"),
        "{unauthorised:.300}"
    );
    assert!(unauthorised
        .to_ascii_lowercase()
        .contains("www-authenticate: bearer"));
    let read = http_get(&address, "/Patient", Some(&token));
    assert!(read.starts_with("HTTP/1.1 200"), "{read:.300}");
    assert!(read.contains("\"searchset\""));
    stop(child, stderr);
    let removed = run(&["clients", "remove", "dev"]);
    assert!(text(&removed).contains("removed dev"));
}

/// `--insecure-open` turns access control off, says so in the log and the
/// CapabilityStatement.
#[test]
fn insecure_open_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    let (child, address, stderr) = start_serve(dir.path(), &["--insecure-open"]);
    let read = http_get(&address, "/Patient", None);
    assert!(
        read.starts_with("HTTP/1.1 200"),
        "no token needed: {read:.300}"
    );
    assert!(http_get(&address, "/metadata", None).contains("ACCESS CONTROL IS OFF"));
    stop(child, stderr);
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["convert", "--help"],
        vec!["fhirpath", "--help"],
        vec!["packages", "--help"],
        vec!["packages", "install", "--help"],
        vec!["packages", "list", "--help"],
        vec!["serve", "--help"],
        vec!["import", "--help"],
        vec!["validate", "--help"],
        vec!["clients", "--help"],
        vec!["clients", "add", "--help"],
        vec!["token", "--help"],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("Usage"), "{args:?}");
    }
}
