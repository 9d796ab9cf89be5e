//! `carer-fhir passport sign` and `verify`, run as a real process on the
//! guide's example passport and keys (`profiles/examples/passport`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_carer-fhir"))
}

fn guide() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn sign_then_verify_with_both_key_types() {
    let keys = guide().join("examples/passport");
    let example = guide().join("fsh-generated/resources/Bundle-ngozi-passport.json");
    let dir = tempfile::tempdir().unwrap();
    for (key, alg) in [
        ("example-employer-es384.pem", "ES384"),
        ("example-employer-rs384.pem", "RS384"),
    ] {
        let out = dir.path().join(format!("{alg}.json"));
        let signed = bin()
            .args(["passport", "sign"])
            .arg(&example)
            .arg("--key")
            .arg(keys.join(key))
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(signed.status.success(), "{}", text(&signed));
        let verified = bin()
            .args(["passport", "verify"])
            .arg(&out)
            .arg("--jwks")
            .arg(keys.join("jwks.json"))
            .output()
            .unwrap();
        assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
        assert!(text(&verified).contains(alg), "{}", text(&verified));
    }
    // To standard output when no -o is given.
    let stdout = bin()
        .args(["passport", "sign"])
        .arg(&example)
        .arg("--key")
        .arg(keys.join("example-employer-es384.pem"))
        .output()
        .unwrap();
    assert!(stdout.status.success(), "{}", text(&stdout));
    let signed: serde_json::Value = serde_json::from_slice(&stdout.stdout).unwrap();
    assert_eq!(signed["signature"]["sigFormat"], "application/jose");
}

#[test]
fn verify_exits_1_with_the_reason() {
    let keys = guide().join("examples/passport");
    for (file, reason) in [
        ("tampered.json", "changed"),
        ("expired-key.json", "expired"),
    ] {
        let out = bin()
            .args(["passport", "verify"])
            .arg(keys.join(file))
            .arg("--jwks")
            .arg(keys.join("jwks.json"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{file}: {}", text(&out));
        assert!(text(&out).contains(reason), "{file}: {}", text(&out));
    }
    // A key that cannot sign passports is unusable input.
    let out = bin()
        .args(["passport", "sign"])
        .arg(guide().join("fsh-generated/resources/Bundle-ngozi-passport.json"))
        .arg("--key")
        .arg(keys.join("p256-not-for-passports.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
