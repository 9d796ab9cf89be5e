//! The working carer's passport: signing and verifying (ES384 and RS384,
//! key validity, tampering), the guide's signed example and its invalid
//! ones, a new employer adopting a previous employer's passport, and built
//! passports validating against the guide and UK Core.
//!
//! The validation test needs base R4 in the package cache and UK Core from
//! the shared corpus.

mod support;

use std::path::{Path, PathBuf};

use fhir_core::caf::passport::{self, Rejection, SigningKey};
use fhir_core::caf::{OrganisationId, WorkingCarerFlag, WorkingCarersPassport};
use fhir_core::validation::{Severity, Validator};
use serde_json::{json, Value};

fn guide() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles")
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn keys_dir() -> PathBuf {
    guide().join("examples/passport")
}

fn key(file: &str) -> SigningKey {
    let pem = std::fs::read(keys_dir().join(file)).unwrap();
    SigningKey::from_pem(&pem).unwrap()
}

fn example() -> Value {
    read(&guide().join("fsh-generated/resources/Bundle-ngozi-passport.json"))
}

fn jwks() -> Value {
    read(&keys_dir().join("jwks.json"))
}

#[test]
fn the_guides_example_passport_is_signed_by_its_employer() {
    let v = passport::verify(&example(), &jwks()).expect("the example's signature stands");
    assert_eq!(v.algorithm, "ES384");
    assert_eq!(v.kid, key("example-employer-es384.pem").kid());
    assert_eq!(v.signer, Some(OrganisationId::Ods("RX1".parse().unwrap())));
}

#[test]
fn the_guides_bad_passports_are_rejected_for_their_reason() {
    let expected = read(&keys_dir().join("expected.json"));
    let cases = expected["cases"].as_array().unwrap();
    assert!(cases.len() >= 2);
    for case in cases {
        let file = case["file"].as_str().unwrap();
        let got = passport::verify(&read(&keys_dir().join(file)), &jwks());
        let name = match &got {
            Err(Rejection::BadSignature) => "BadSignature",
            Err(Rejection::KeyExpired { .. }) => "KeyExpired",
            Err(Rejection::KeyNotYetValid { .. }) => "KeyNotYetValid",
            Err(Rejection::UnknownKey(_)) => "UnknownKey",
            Err(Rejection::Malformed(_)) => "Malformed",
            Err(Rejection::NotSigned) => "NotSigned",
            Ok(_) => "valid",
        };
        assert_eq!(name, case["rejection"], "{file}: {got:?}");
    }
}

#[test]
fn both_algorithms_sign_and_verify_and_any_change_breaks_the_signature() {
    let unsigned = {
        let mut p = example();
        p.as_object_mut().unwrap().remove("signature");
        p
    };
    for (file, alg) in [
        ("example-employer-es384.pem", "ES384"),
        ("example-employer-rs384.pem", "RS384"),
    ] {
        let k = key(file);
        assert_eq!(k.algorithm(), alg);
        let signed = passport::sign(&unsigned, &k, "2026-03-02T09:05:00Z").unwrap();
        let v = passport::verify(&signed, &jwks()).unwrap();
        assert_eq!((v.algorithm.as_str(), v.kid.as_str()), (alg, k.kid()));
        // id and meta may change when a server stores the document.
        let mut stored = signed.clone();
        stored["id"] = json!("server-assigned");
        stored["meta"]["versionId"] = json!("3");
        assert!(
            passport::verify(&stored, &jwks()).is_ok(),
            "{alg}: id and meta are not signed"
        );
        // Member order is not content.
        let reordered: Value = {
            let mut m = serde_json::Map::new();
            let obj = signed.as_object().unwrap();
            for k in obj.keys().rev() {
                m.insert(k.clone(), obj[k].clone());
            }
            Value::Object(m)
        };
        assert!(passport::verify(&reordered, &jwks()).is_ok());
        // Content is.
        let mut changed = signed.clone();
        changed["entry"][0]["resource"]["extension"][0]["valueDate"] = json!("2030-01-01");
        assert_eq!(
            passport::verify(&changed, &jwks()),
            Err(Rejection::BadSignature),
            "{alg}"
        );
        let mut claimed = signed.clone();
        claimed["signature"]["when"] = json!("2026-03-03T09:05:00Z");
        assert!(matches!(
            passport::verify(&claimed, &jwks()),
            Err(Rejection::Malformed(_))
        ));
    }
}

#[test]
fn keys_are_checked_against_the_key_set() {
    let mut p = example();
    p.as_object_mut().unwrap().remove("signature");
    assert_eq!(passport::verify(&p, &jwks()), Err(Rejection::NotSigned));
    let k = key("example-employer-es384.pem");
    let signed = passport::sign(&p, &k, "2026-03-02T09:05:00Z").unwrap();
    // A key set without the key.
    let others = json!({"keys": jwks()["keys"].as_array().unwrap().iter()
        .filter(|j| j["kid"] != k.kid()).cloned().collect::<Vec<_>>()});
    assert_eq!(
        passport::verify(&signed, &others),
        Err(Rejection::UnknownKey(k.kid().into()))
    );
    // The key, but not valid until after the signing time.
    let mut later = k.public_jwk();
    later["nbf"] = json!(1_800_000_000);
    assert!(matches!(
        passport::verify(&signed, &json!({"keys": [later]})),
        Err(Rejection::KeyNotYetValid { .. })
    ));
    // Another key published under this key's id.
    let mut imposter = key("example-employer-rs384.pem").public_jwk();
    imposter["kid"] = json!(k.kid());
    imposter.as_object_mut().unwrap().remove("alg");
    assert!(passport::verify(&signed, &json!({"keys": [imposter]})).is_err());
    // Keys that are not for passports.
    let p256 = std::fs::read(keys_dir().join("p256-not-for-passports.pem")).unwrap();
    assert!(SigningKey::from_pem(&p256).is_err());
    let mut garbled = signed.clone();
    garbled["signature"]["data"] = json!("bm90IGEgSldT");
    assert!(matches!(
        passport::verify(&garbled, &jwks()),
        Err(Rejection::Malformed(_))
    ));
}

#[test]
fn a_new_employer_adopts_a_passport_only_when_its_signature_stands() {
    let employer = json!({"resourceType": "Organization", "id": "example-care",
        "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization"]},
        "identifier": [{"system": "https://find-and-update.company-information.service.gov.uk/company",
                        "value": "01234567"}], "name": "Example Care Ltd"});
    let manager = json!({"resourceType": "Practitioner", "id": "aisha-khan",
        "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Practitioner"]},
        "name": [{"family": "Khan", "given": ["Aisha"]}]});
    let next = WorkingCarersPassport::adopt(&example(), &jwks())
        .unwrap()
        .employer(employer)
        .agreed_by(manager)
        .identifier("ECL-WCP-0001")
        .date("2026-09-01T09:00:00Z")
        .review_date("2027-09-01")
        .build()
        .unwrap();
    let previous = example();
    let old = WorkingCarersPassport::read(&previous).adjustments();
    let new = WorkingCarersPassport::read(&next).adjustments();
    assert_eq!(old, new);
    assert_eq!(
        WorkingCarersPassport::read(&next).replaces(),
        Some("RX1-WCP-2026-0012")
    );
    assert!(matches!(
        WorkingCarersPassport::read(&next).employer(),
        Some(OrganisationId::Other { .. })
    ));
    for bad in ["tampered.json", "expired-key.json"] {
        assert!(
            WorkingCarersPassport::adopt(&read(&keys_dir().join(bad)), &jwks()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn built_and_signed_passports_validate_against_the_guide_and_uk_core() {
    let mut registry = support::r4_and_ukcore(&support::shared_dir());
    registry
        .load(&guide().join("fsh-generated/resources"))
        .unwrap();
    let validator = Validator::new(&registry);
    let carer = json!({"resourceType": "Patient", "id": "ngozi",
        "meta": {"profile": ["https://fhir.carer-fhir.uk/StructureDefinition/Carer",
                             "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9991234055"}]});
    let employer = json!({"resourceType": "Organization", "id": "rx1",
        "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization"]},
        "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RX1"}]});
    let manager = json!({"resourceType": "Practitioner", "id": "dev",
        "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Practitioner"]}});
    let mut built = WorkingCarersPassport::builder("https://fhir.example-trust.nhs.uk/fhir")
        .identifier("RX1-WCP-7")
        .carer(carer)
        .employer(employer)
        .agreed_by(manager)
        .date("2026-03-02T09:00:00Z")
        .review_date("2027-03-01")
        .caring("I care for my mother-in-law & visit daily.")
        .adjustment("flexible-hours", "Early shifts start at 08:30.")
        .unwrap()
        .adjustment("carers-leave", "A week a year.")
        .unwrap()
        .build()
        .unwrap();
    fhir_core::narrative::add(&mut built);
    let signed = passport::sign(
        &built,
        &key("example-employer-rs384.pem"),
        "2026-03-02T09:05:00Z",
    )
    .unwrap();
    let flag = WorkingCarerFlag::builder()
        .staff("Practitioner/ngozi-staff")
        .employer("Organization/rx1")
        .start("2026-03-02")
        .build()
        .unwrap();
    let mut failures = Vec::new();
    for (name, r) in [("passport", &signed), ("flag", &flag)] {
        for i in validator.validate(r).issues {
            if i.severity == Severity::Error {
                failures.push(format!("{name}: {}: {}", i.expression, i.message));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(passport::verify(&signed, &jwks()).is_ok());
    assert_eq!(
        WorkingCarersPassport::read(&signed).caring().as_deref(),
        Some("I care for my mother-in-law & visit daily.")
    );
}

/// An employer's published key set names its keys its own way: a
/// signature finds its key by the set's name, by thumbprint, or unnamed;
/// and never a key that does not verify.
#[test]
fn the_signing_key_is_found_however_the_key_set_names_it() {
    let es = key("example-employer-es384.pem");
    let thumbprint = es.kid().to_string();
    let mut named = es.public_jwk();
    named["kid"] = json!("employer-2026");
    let mut unnamed = es.public_jwk();
    unnamed.as_object_mut().unwrap().remove("kid");
    let other = key("example-employer-rs384.pem");
    let when = "2026-03-02T09:05:00Z";
    // Signed under the thumbprint, the set naming the key otherwise.
    let signed = passport::sign(&example(), &es, when).unwrap();
    for (what, set) in [
        (
            "named otherwise",
            json!({"keys": [other.public_jwk(), named.clone()]}),
        ),
        ("unnamed", json!({"keys": [unnamed.clone()]})),
    ] {
        let v = passport::verify(&signed, &set).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(v.kid, thumbprint);
    }
    // Signed under the set's own name for it.
    let es = key("example-employer-es384.pem").with_kid("employer-2026");
    let signed = passport::sign(&example(), &es, when).unwrap();
    let v = passport::verify(&signed, &json!({"keys": [named]})).unwrap();
    assert_eq!(v.kid, "employer-2026");
    assert!(passport::verify(&signed, &json!({"keys": [unnamed]})).is_ok());
    // Another key under that name, or another unnamed key, does not pass.
    let mut impostor = key("expired-employer-es384.pem").public_jwk();
    impostor["kid"] = json!("employer-2026");
    assert_eq!(
        passport::verify(&signed, &json!({"keys": [impostor.clone()]})),
        Err(Rejection::BadSignature)
    );
    impostor.as_object_mut().unwrap().remove("kid");
    assert_eq!(
        passport::verify(&signed, &json!({"keys": [impostor]})),
        Err(Rejection::BadSignature)
    );
    assert_eq!(
        passport::verify(&signed, &json!({"keys": [other.public_jwk()]})),
        Err(Rejection::UnknownKey("employer-2026".into()))
    );
}
