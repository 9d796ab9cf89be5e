//! Access control over real HTTP with real signed tokens, on both stores:
//! the consent matrix (organisations × consent states × access paths, each
//! cell asserting exactly what is visible and that nothing leaks), token
//! refusals by kind, emergency access, and the AuditEvents of it all.

use std::sync::Arc;

use fhir_server::auth::clients::{Client, Role};
use fhir_server::auth::keys::{self, KeyPair};
use fhir_server::auth::scopes::Scopes;
use fhir_server::auth::{client_assertion, record_of, Authority, JWT_BEARER};
use fhir_server::interaction::Access;
use fhir_server::store::sql::SqlStore;
use fhir_server::store::AuthStore;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{on_both_stores, registry, store, Db};

struct Server {
    base: String,
    store: Arc<SqlStore>,
    http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

async fn start(db: Db, name: &str) -> Option<Server> {
    start_trusting(db, name, Vec::new()).await
}

async fn start_trusting(
    db: Db,
    name: &str,
    issuers: Vec<fhir_server::auth::ExternalIssuer>,
) -> Option<Server> {
    let (store, dir) = store(db, name).await?;
    let store = Arc::new(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let authority = Authority::new(store.clone(), &base, issuers).await.unwrap();
    let state = Arc::new(fhir_server::server::AppState::new(
        store.clone(),
        registry(),
        &base,
        Access::Enforced(Arc::new(authority)),
    ));
    let app = fhir_server::server::router(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Some(Server {
        base,
        store,
        http: reqwest::Client::new(),
        _dir: dir,
    })
}

/// A registered client with its key.
struct Org {
    key: KeyPair,
    token: String,
}

impl Server {
    async fn register(
        &self,
        id: &str,
        ods: &str,
        role: Role,
        scopes: &str,
        alg: jsonwebtoken::Algorithm,
    ) -> Org {
        let key = keys::generate(alg).unwrap();
        let client = Client {
            id: id.into(),
            name: id.into(),
            organisation: ods.into(),
            role,
            scopes: Scopes::parse(scopes),
            purposes: vec![role.default_purpose().into()],
            jwks: keys::jwks_of(&key.public_jwk),
        };
        client.check().unwrap();
        self.store.put_client(&record_of(&client)).await.unwrap();
        let mut org = Org {
            key,
            token: String::new(),
        };
        let (s, t) = self
            .token_with(
                &org,
                scopes,
                &client_assertion(id, &self.token_url(), &org.key.private_pem, None).unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{t}");
        org.token = t["access_token"].as_str().unwrap().to_string();
        org
    }

    fn token_url(&self) -> String {
        format!("{}/auth/token", self.base)
    }

    async fn token_with(&self, _org: &Org, scope: &str, assertion: &str) -> (StatusCode, Value) {
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ];
        let r = self
            .http
            .post(self.token_url())
            .form(&form)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or_default())
    }

    async fn call(
        &self,
        org: Option<&Org>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, String, Value) {
        let mut req = self.http.request(
            method.parse().unwrap(),
            format!("{}/{}", self.base, path.trim_start_matches('/')),
        );
        if let Some(o) = org {
            req = req.bearer_auth(&o.token);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/fhir+json")
                .body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        let v = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, text, v)
    }

    async fn get(&self, org: &Org, path: &str) -> (StatusCode, String, Value) {
        self.call(Some(org), "GET", path, None).await
    }

    async fn create(&self, org: &Org, r: Value) -> String {
        let t = r["resourceType"].as_str().unwrap().to_string();
        let (s, _, v) = self.call(Some(org), "POST", &t, Some(r)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_str().unwrap().to_string()
    }
}

const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";

fn consent(mary: &str, state: &str) -> Value {
    let org = |code: &str| {
        json!({"reference": {"identifier": {"system": ODS, "value": code}},
        "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]}})
    };
    let class = |t: &str| json!([{"system": "http://hl7.org/fhir/resource-types", "code": t}]);
    let purpose = |p: &str| json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": p}]);
    let mut provision = json!({"type": "permit", "actor": [org("616")], "purpose": purpose("CAREMGT"),
        "period": {"start": "2020-01-01"}});
    let mut status = "active";
    match state {
        "permit" => {}
        "deny" => provision["type"] = json!("deny"),
        "expired" => provision["period"] = json!({"start": "2020-01-01", "end": "2021-01-01"}),
        "revoked" => status = "inactive",
        "other-purpose" => provision["purpose"] = purpose("HRESCH"),
        "other-org" => provision["actor"] = json!([org("CO123")]),
        "other-class" => provision["class"] = class("CarePlan"),
        // A permit with a refusal inside it: the refusal wins.
        "permit-but-deny-observations" => {
            provision["provision"] = json!([{"type": "deny", "class": class("Observation")}])
        }
        other => panic!("{other}"),
    }
    json!({"resourceType": "Consent", "status": status,
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "https://fhir.carer-fhir.uk/CodeSystem/caf-consent-category", "code": "caf-sharing"}]}],
        "patient": {"reference": format!("Patient/{mary}")}, "dateTime": "2020-01-01",
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": provision})
}

on_both_stores!(
    an_external_issuers_tokens_are_accepted_for_registered_clients,
    consent_decides_what_each_organisation_sees_on_every_path,
    tokens_are_refused_by_kind,
    the_emergency_responder_sees_the_plan_and_its_contacts_only,
    every_access_is_audited_and_audits_are_protected,
    the_capability_statement_passes_its_own_validation,
);

/// The CapabilityStatement with access control on (SMART's `oauth-uris`
/// extension, which requires `token` and `authorize`) is valid by the
/// server's own `$validate`, and the discovery document claims no OpenID
/// issuer it does not have.
async fn the_capability_statement_passes_its_own_validation(db: Db, name: &str) {
    let Some(s) = start(db, name).await else {
        return;
    };
    let org = s
        .register(
            "validator",
            "A81001",
            Role::GpPractice,
            "system/*.rs",
            jsonwebtoken::Algorithm::ES384,
        )
        .await;
    let (status, _, cap) = s.call(None, "GET", "metadata", None).await;
    assert_eq!(status, StatusCode::OK);
    let uris = &cap["rest"][0]["security"]["extension"][0]["extension"];
    for url in ["token", "authorize"] {
        assert!(
            uris.as_array().unwrap().iter().any(|e| e["url"] == url),
            "oauth-uris has {url}: {uris}"
        );
    }
    let (status, _, oo) = s
        .call(
            Some(&org),
            "POST",
            "CapabilityStatement/$validate",
            Some(cap),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{oo}");
    let errors: Vec<&Value> = oo["issue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| matches!(i["severity"].as_str(), Some("error" | "fatal")))
        .collect();
    assert!(
        errors.is_empty(),
        "the server's own CapabilityStatement: {errors:?}"
    );
    let (_, _, smart) = s
        .call(None, "GET", ".well-known/smart-configuration", None)
        .await;
    let oidc = smart["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "sso-openid-connect");
    assert!(
        smart.get("issuer").is_none() || oidc,
        "issuer is for OpenID Connect servers: {smart}"
    );
}

/// What the Observation about Mary looks like to one organisation on one
/// path: visible (exactly one, whole) or hidden (no trace of it).
async fn check_path(s: &Server, org: &Org, path: &str, ids: &Ids, visible: bool, cell: &str) {
    let (status, text, v) = request(s, org, path, ids).await;
    let marks = [ids.obs.as_str(), "carer-status-secret"];
    let leaks = marks.iter().any(|m| text.contains(m));
    match path {
        "read" | "vread" | "history" | "validate" => {
            if visible {
                assert_eq!(status, StatusCode::OK, "{cell}: {text}");
            } else {
                // Exactly the answer for a resource that does not exist.
                let unknown = Ids {
                    mary: ids.mary.clone(),
                    obs: uuid::Uuid::new_v4().to_string(),
                    consent: None,
                };
                let (st2, text2, _) = request(s, org, path, &unknown).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{cell}: {text}");
                assert_eq!(
                    (status, text.replace(&ids.obs, "ID")),
                    (st2, text2.replace(&unknown.obs, "ID")),
                    "{cell}"
                );
                assert!(!text.contains("carer-status-secret"), "{cell}: {text}");
            }
        }
        "search" | "chained" | "count" => {
            assert_eq!(status, StatusCode::OK, "{cell}: {text}");
            assert_eq!(v["total"], if visible { 1 } else { 0 }, "{cell}: {text}");
            if !visible {
                assert!(!leaks && v.get("entry").is_none(), "{cell}: {text}");
            }
        }
        "include" => {
            assert_eq!(status, StatusCode::OK, "{cell}: {text}");
            assert_eq!(v["total"], if visible { 1 } else { 0 }, "{cell}: {text}");
            let n = v["entry"].as_array().map(Vec::len).unwrap_or(0);
            assert_eq!(
                n,
                if visible { 2 } else { 0 },
                "{cell}: the Observation and Mary, or nothing: {text}"
            );
        }
        "revinclude" => {
            assert_eq!(status, StatusCode::OK, "{cell}: {text}");
            let included = v["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["search"]["mode"] == "include")
                .count();
            assert_eq!(included, usize::from(visible), "{cell}: {text}");
            if !visible {
                assert!(!leaks, "{cell}: {text}");
            }
        }
        "has" => {
            assert_eq!(status, StatusCode::OK, "{cell}: {text}");
            // Mary is found through the Observation only when it is visible.
            assert_eq!(v["total"], if visible { 1 } else { 0 }, "{cell}: {text}");
        }
        "batch" | "transaction" => {
            assert_eq!(status, StatusCode::OK, "{cell}: {text}");
            let entry_status = v["entry"][0]["response"]["status"].as_str().unwrap_or("");
            assert!(
                entry_status.starts_with(if visible { "200" } else { "404" }),
                "{cell}: {text}"
            );
            if !visible {
                assert!(!text.contains("carer-status-secret"), "{cell}: {text}");
            }
        }
        _ => unreachable!(),
    }
}

async fn request(s: &Server, org: &Org, path: &str, ids: &Ids) -> (StatusCode, String, Value) {
    match path {
        "read" => s.get(org, &format!("Observation/{}", ids.obs)).await,
        "vread" => {
            s.get(org, &format!("Observation/{}/_history/1", ids.obs))
                .await
        }
        "search" => {
            s.get(org, &format!("Observation?subject=Patient/{}", ids.mary))
                .await
        }
        "include" => {
            s.get(
                org,
                &format!("Observation?_id={}&_include=Observation:subject", ids.obs),
            )
            .await
        }
        "revinclude" => {
            s.get(
                org,
                &format!("Patient?_id={}&_revinclude=Observation:subject", ids.mary),
            )
            .await
        }
        "chained" => {
            s.get(
                org,
                "Observation?subject.identifier=https://fhir.nhs.uk/Id/nhs-number|9991234004",
            )
            .await
        }
        "has" => {
            s.get(
                org,
                "Patient?_has:Observation:subject:code=https://example.org/codes|carer-status",
            )
            .await
        }
        "history" => {
            s.get(org, &format!("Observation/{}/_history", ids.obs))
                .await
        }
        "count" => {
            s.get(
                org,
                &format!("Observation?subject=Patient/{}&_summary=count", ids.mary),
            )
            .await
        }
        "batch" | "transaction" => {
            let b = json!({"resourceType": "Bundle", "type": path, "entry": [
                {"request": {"method": "GET", "url": format!("Observation/{}", ids.obs)}}]});
            s.call(Some(org), "POST", "", Some(b)).await
        }
        "validate" => {
            s.call(
                Some(org),
                "POST",
                &format!("Observation/{}/$validate", ids.obs),
                None,
            )
            .await
        }
        other => panic!("{other}"),
    }
}

struct Ids {
    mary: String,
    obs: String,
    consent: Option<String>,
}

const PATHS: [&str; 12] = [
    "read",
    "vread",
    "search",
    "include",
    "revinclude",
    "chained",
    "has",
    "history",
    "count",
    "batch",
    "transaction",
    "validate",
];
const STATES: [&str; 9] = [
    "none",
    "permit",
    "deny",
    "expired",
    "revoked",
    "other-purpose",
    "other-org",
    "other-class",
    "permit-but-deny-observations",
];

async fn consent_decides_what_each_organisation_sees_on_every_path(db: Db, name: &str) {
    let Some(s) = start(db, name).await else {
        return;
    };
    use jsonwebtoken::Algorithm::{ES384, RS384};
    let gp = s
        .register("gp", "A81001", Role::GpPractice, "system/*.cruds", ES384)
        .await;
    let council = s
        .register(
            "council",
            "616",
            Role::LocalAuthority,
            "system/*.cruds",
            RS384,
        )
        .await;
    let carers = s
        .register(
            "carers",
            "CO123",
            Role::CarersOrganisation,
            "system/*.rs",
            ES384,
        )
        .await;
    // Mary, a carer, and a record about her, written by her GP practice.
    let mary = s
        .create(&gp, json!({"resourceType": "Patient", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9991234004"}],
            "name": [{"family": "Jones", "given": ["Mary"]}]}))
        .await;
    let obs = s
        .create(&gp, json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "https://example.org/codes", "code": "carer-status"}], "text": "carer-status-secret"},
            "subject": {"reference": format!("Patient/{mary}")}}))
        .await;
    let mut ids = Ids {
        mary,
        obs,
        consent: None,
    };
    let mut cells = 0;
    for state in STATES {
        // The GP practice records Mary's consent as it now stands.
        match (state, &ids.consent) {
            ("none", Some(c)) => {
                let (st, _, _) = s
                    .call(Some(&gp), "DELETE", &format!("Consent/{c}"), None)
                    .await;
                assert_eq!(st, StatusCode::NO_CONTENT);
                ids.consent = None;
            }
            ("none", None) => {}
            (_, None) => ids.consent = Some(s.create(&gp, consent(&ids.mary, state)).await),
            (_, Some(c)) => {
                let mut body = consent(&ids.mary, state);
                body["id"] = json!(c);
                let (st, _, v) = s
                    .call(Some(&gp), "PUT", &format!("Consent/{c}"), Some(body))
                    .await;
                assert!(st.is_success(), "{v}");
            }
        }
        for (org, who) in [(&gp, "gp"), (&council, "council"), (&carers, "carers")] {
            let visible = match who {
                "gp" => true,
                "council" => state == "permit",
                _ => state == "other-org",
            };
            for path in PATHS {
                let cell = format!("{who} × {state} × {path}");
                check_path(&s, org, path, &ids, visible, &cell).await;
                cells += 1;
            }
        }
    }
    assert_eq!(cells, STATES.len() * 3 * PATHS.len());
    eprintln!("consent matrix: {cells} cells passed");
    // Writes: the council may not change what it cannot see, and sees
    // only what it wrote or was allowed.
    let (st, _, _) = s.call(Some(&council), "PUT", &format!("Observation/{}", ids.obs),
        Some(json!({"resourceType": "Observation", "id": ids.obs, "status": "final", "code": {"text": "x"}}))).await;
    assert_eq!(
        st,
        StatusCode::METHOD_NOT_ALLOWED,
        "no consent: no overwrite (the record is, to the council, a free id it may not create by update)"
    );
    let (st, _, _) = s
        .call(
            Some(&council),
            "DELETE",
            &format!("Observation/{}", ids.obs),
            None,
        )
        .await;
    assert_eq!(
        st,
        StatusCode::NO_CONTENT,
        "deleting what one cannot see deletes nothing"
    );
    let (st, _, _) = s.get(&gp, &format!("Observation/{}", ids.obs)).await;
    assert_eq!(st, StatusCode::OK, "still there");
    // An organisation with no consent records its own data about Mary and
    // sees that (it is its source).
    let own = s
        .create(&council, json!({"resourceType": "Observation", "status": "final", "code": {"text": "assessment note"},
            "subject": {"reference": format!("Patient/{}", ids.mary)}}))
        .await;
    let (st, _, v) = s
        .get(
            &council,
            &format!("Observation?subject=Patient/{}", ids.mary),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["total"], 1, "its own record only: {v}");
    assert_eq!(v["entry"][0]["resource"]["id"], own.as_str());
    // Scope checks: the carers' organisation may read but not write.
    let (st, _, _) = s
        .call(
            Some(&carers),
            "POST",
            "Observation",
            Some(json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

async fn tokens_are_refused_by_kind(db: Db, name: &str) {
    let Some(s) = start(db, name).await else {
        return;
    };
    let gp = s
        .register(
            "gp",
            "A81001",
            Role::GpPractice,
            "system/Patient.rs",
            jsonwebtoken::Algorithm::ES384,
        )
        .await;
    let url = s.token_url();
    let sign = |claims: Value, header: jsonwebtoken::Header, pem: &str| {
        let (_, key) = keys::signing_key(pem).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };
    let now = chrono::Utc::now().timestamp();
    let claims = |aud: &str, exp: i64, jti: &str| json!({"iss": "gp", "sub": "gp", "aud": aud, "exp": exp, "iat": now, "jti": jti});
    let es = || jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
    let other_key = keys::generate(jsonwebtoken::Algorithm::ES384).unwrap();
    let mut unknown_kid = es();
    unknown_kid.kid = Some("no-such-kid".into());
    // Signed with the registered key, but naming a key set elsewhere.
    let mut foreign_jku = es();
    foreign_jku.jku = Some("https://attacker.example/jwks.json".into());
    let b64 = |v: &Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(&url, now + 60, "n1"))
    );
    let mut refused = Vec::new();
    for (kind, assertion, scope, want) in [
        (
            "expired",
            sign(claims(&url, now - 600, "e1"), es(), &gp.key.private_pem),
            "system/Patient.rs",
            "invalid_client",
        ),
        (
            "too long-lived",
            sign(claims(&url, now + 3600, "e2"), es(), &gp.key.private_pem),
            "system/Patient.rs",
            "invalid_client",
        ),
        (
            "wrong audience",
            sign(
                claims("https://elsewhere.example/token", now + 60, "a1"),
                es(),
                &gp.key.private_pem,
            ),
            "system/Patient.rs",
            "invalid_client",
        ),
        (
            "wrong signature",
            sign(claims(&url, now + 60, "s1"), es(), &other_key.private_pem),
            "system/Patient.rs",
            "invalid_client",
        ),
        (
            "alg none",
            alg_none.clone(),
            "system/Patient.rs",
            "invalid_client",
        ),
        (
            "unknown kid",
            sign(
                claims(&url, now + 60, "k1"),
                unknown_kid,
                &gp.key.private_pem,
            ),
            "system/Patient.rs",
            "invalid_client",
        ),
        (
            "a jku that is not the registration",
            sign(
                claims(&url, now + 60, "j1"),
                foreign_jku,
                &gp.key.private_pem,
            ),
            "system/Patient.rs",
            "invalid_client",
        ),
        (
            "scope escalation",
            sign(claims(&url, now + 60, "x1"), es(), &gp.key.private_pem),
            "system/Consent.d",
            "invalid_scope",
        ),
    ] {
        let (st, v) = s.token_with(&gp, scope, &assertion).await;
        assert!(st.is_client_error(), "{kind}: {st} {v}");
        assert_eq!(v["error"], want, "{kind}: {v}");
        refused.push(kind);
    }
    // A replayed jti: the first use works, the second does not.
    let once = sign(claims(&url, now + 60, "r1"), es(), &gp.key.private_pem);
    let (st, first) = s.token_with(&gp, "system/Patient.rs", &once).await;
    assert_eq!(st, StatusCode::OK, "{first}");
    let (st, again) = s.token_with(&gp, "system/Patient.rs", &once).await;
    assert_eq!(
        (st, again["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "replayed jti"
    );
    refused.push("replayed jti");
    // The grant is what both asked and registered: no more.
    assert_eq!(first["scope"], "system/Patient.rs");
    // Bearer tokens on the FHIR API.
    let (st, _, _) = s.call(None, "GET", "Patient", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "no token");
    let resp = s
        .http
        .get(format!("{}/Patient", s.base))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"),
        "WWW-Authenticate: Bearer"
    );
    let forged = sign(
        json!({"iss": s.base, "sub": "gp", "aud": s.base, "client_id": "gp", "exp": now + 60, "scope": "system/*.cruds"}),
        es(),
        &other_key.private_pem,
    );
    let resp = s
        .http
        .get(format!("{}/Patient", s.base))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "a token not signed by the server"
    );
    let (st, _, oo) = s.call(Some(&gp), "GET", "Observation", None).await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "a valid token lacking the scope: {oo}"
    );
    assert_eq!(oo["resourceType"], "OperationOutcome");
    let (st, _, _) = s.call(Some(&gp), "GET", "Patient", None).await;
    assert_eq!(st, StatusCode::OK);
    // Public: the CapabilityStatement (with SMART's OAuth URIs) and the SMART configuration.
    let (st, _, cs) = s.call(None, "GET", "metadata", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        cs["rest"][0]["security"]["extension"][0]["extension"][0]["valueUri"],
        url.as_str()
    );
    let conf: Value = s
        .http
        .get(format!("{}/.well-known/smart-configuration", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(conf["token_endpoint"], url.as_str());
    assert_eq!(
        conf["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );
    assert!(conf["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "permission-v2"));
    eprintln!("tokens refused by kind: {}", refused.join(", "));
}

async fn the_emergency_responder_sees_the_plan_and_its_contacts_only(db: Db, name: &str) {
    let Some(s) = start(db, name).await else {
        return;
    };
    use jsonwebtoken::Algorithm::ES384;
    let council = s
        .register(
            "council",
            "616",
            Role::LocalAuthority,
            "system/*.cruds",
            ES384,
        )
        .await;
    let responder = s
        .register(
            "responder",
            "ER999",
            Role::EmergencyResponder,
            "system/*.rs",
            ES384,
        )
        .await;
    let arthur = s
        .create(
            &council,
            json!({"resourceType": "Patient", "name": [{"family": "Jones", "given": ["Arthur"]}]}),
        )
        .await;
    let sam = s.create(&council, json!({"resourceType": "RelatedPerson", "patient": {"reference": format!("Patient/{arthur}")}, "name": [{"family": "Jones", "given": ["Sam"]}]})).await;
    let plan = s
        .create(&council, json!({"resourceType": "CarePlan", "status": "active", "intent": "plan",
            "identifier": [{"system": "https://fhir.carer-fhir.uk/Id/emergency-card", "value": "EC-616-000123"}],
            "subject": {"reference": format!("Patient/{arthur}")},
            "extension": [{"url": "https://fhir.carer-fhir.uk/StructureDefinition/emergency-contact",
                "extension": [{"url": "contact", "valueReference": {"reference": format!("RelatedPerson/{sam}")}},
                              {"url": "agreedToAct", "valueBoolean": true}]}]}))
        .await;
    let other = s.create(&council, json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": format!("Patient/{arthur}")}})).await;
    // Found by card number, with its contacts, and no consent anywhere.
    let (st, _, b) = s.get(&responder, "CarePlan?identifier=https://fhir.carer-fhir.uk/Id/emergency-card|EC-616-000123&_include=CarePlan:emergency-contact").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["total"], 1);
    assert!(
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["resource"]["id"] == sam.as_str()),
        "the contact comes with it: {b}"
    );
    // By id, quoting the card: the plan, and a contact it names.
    let card = "EC-616-000123";
    let (st, _, b) = s
        .get(&responder, &format!("CarePlan/{plan}?card={card}"))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, _, b) = s
        .get(&responder, &format!("RelatedPerson/{sam}?card={card}"))
        .await;
    assert_eq!(st, StatusCode::OK, "a contact the plan names: {b}");
    // Anything else by id, the plan and its contacts included when the
    // card is not quoted, is answered as an id that does not exist.
    let quoted = format!("?card={card}");
    for (t, id, rest) in [
        ("CarePlan", plan.as_str(), ""),
        ("RelatedPerson", sam.as_str(), ""),
        ("CarePlan", plan.as_str(), "?card=EC-616-999999"),
        ("RelatedPerson", sam.as_str(), "?card=EC-616-999999"),
        ("Patient", arthur.as_str(), ""),
        ("Patient", arthur.as_str(), quoted.as_str()),
        ("Observation", other.as_str(), ""),
        ("Observation", other.as_str(), quoted.as_str()),
        ("CarePlan", plan.as_str(), "/_history/1"),
        ("CarePlan", plan.as_str(), "/_history"),
    ] {
        let (st, text, _) = s.get(&responder, &format!("{t}/{id}{rest}")).await;
        let unknown = uuid::Uuid::new_v4().to_string();
        let (st2, text2, _) = s.get(&responder, &format!("{t}/{unknown}{rest}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{t}/{id}{rest}: {text}");
        assert_eq!(
            (st, text.replace(id, "ID")),
            (st2, text2.replace(&unknown, "ID")),
            "{t}/{id}{rest}: as an id that does not exist"
        );
    }
    for path in [
        "CarePlan".to_string(),
        format!("CarePlan?subject=Patient/{arthur}"),
        "CarePlan?identifier=https://fhir.carer-fhir.uk/Id/emergency-card|".to_string(),
    ] {
        let (st, text, _) = s.get(&responder, &path).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {text}");
    }
    // Every such access is audited with purpose of use ETREAT.
    let admin = s
        .register("admin", "X26", Role::Admin, "system/*.rs", ES384)
        .await;
    let (_, _, a) = s
        .get(
            &admin,
            "AuditEvent?agent:identifier=https://fhir.carer-fhir.uk/Id/client|responder&_count=100",
        )
        .await;
    let events = a["entry"].as_array().cloned().unwrap_or_default();
    assert!(events.len() >= 8, "{a}");
    let successes: Vec<&Value> = events
        .iter()
        .map(|e| &e["resource"])
        .filter(|e| e["outcome"] == "0")
        .collect();
    assert_eq!(successes.len(), 3, "the lookup and two reads");
    assert!(successes
        .iter()
        .all(|e| e["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"));
}

async fn every_access_is_audited_and_audits_are_protected(db: Db, name: &str) {
    let Some(s) = start(db, name).await else {
        return;
    };
    use jsonwebtoken::Algorithm::ES384;
    let gp = s
        .register("gp", "A81001", Role::GpPractice, "system/*.cruds", ES384)
        .await;
    let council = s
        .register(
            "council",
            "616",
            Role::LocalAuthority,
            "system/*.cruds",
            ES384,
        )
        .await;
    let admin = s
        .register("admin", "X26", Role::Admin, "system/*.cruds", ES384)
        .await;
    let mary = s
        .create(
            &gp,
            json!({"resourceType": "Patient", "name": [{"family": "Jones"}]}),
        )
        .await;
    let mut requests = 1;
    for _ in 0..5 {
        s.get(&gp, &format!("Patient/{mary}")).await;
        s.get(&council, &format!("Patient/{mary}")).await; // hidden: no consent
        requests += 2;
    }
    s.call(None, "GET", "Patient", None).await; // 401
    let resp = s
        .http
        .get(format!("{}/Patient", s.base))
        .bearer_auth("bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    requests += 2;
    let (_, _, all) = s.get(&admin, "AuditEvent?_count=1000").await;
    let total = all["total"].as_i64().unwrap();
    assert_eq!(total, requests, "one AuditEvent per access: {all}");
    eprintln!(
        "audit records per 1,000 requests: {}",
        total * 1000 / requests
    );
    let events: Vec<&Value> = all["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .collect();
    assert!(events
        .iter()
        .all(|e| !e.to_string().contains("\"name\"") || e["resourceType"] == "AuditEvent"));
    assert!(
        events
            .iter()
            .any(|e| e["outcome"] == "4"
                && e["outcomeDesc"].as_str().unwrap_or("").starts_with("401")),
        "denials are audited"
    );
    assert!(
        !all.to_string().contains("Jones"),
        "audit content never includes resource bodies"
    );
    // Searchable by patient, agent, date and outcome.
    let (_, _, by_patient) = s
        .get(
            &admin,
            &format!("AuditEvent?patient=Patient/{mary}&_summary=count"),
        )
        .await;
    assert!(by_patient["total"].as_i64().unwrap() >= 6, "{by_patient}");
    let (_, _, by_agent) = s.get(&admin, "AuditEvent?agent:identifier=https://fhir.carer-fhir.uk/Id/client|council&_summary=count").await;
    assert_eq!(by_agent["total"], 5);
    let (_, _, failed) = s.get(&admin, "AuditEvent?outcome=4&_summary=count").await;
    assert!(failed["total"].as_i64().unwrap() >= 7, "{failed}");
    let (_, _, today) = s
        .get(
            &admin,
            &format!(
                "AuditEvent?date=ge{}&_summary=count",
                chrono::Utc::now().format("%Y-%m-%d")
            ),
        )
        .await;
    assert!(today["total"].as_i64().unwrap() >= total);
    // The person's organisation of record sees who looked; others do not.
    let (_, _, gp_view) = s
        .get(
            &gp,
            &format!("AuditEvent?patient=Patient/{mary}&_summary=count"),
        )
        .await;
    assert!(gp_view["total"].as_i64().unwrap() >= 6, "{gp_view}");
    let (_, _, council_view) = s.get(&council, "AuditEvent?_summary=count").await;
    assert_eq!(council_view["total"], 0, "{council_view}");
    // Never updatable or deletable through the API.
    let id = events[0]["id"].as_str().unwrap();
    let (st, _, _) = s
        .call(Some(&admin), "DELETE", &format!("AuditEvent/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let mut e = events[0].clone();
    e["outcome"] = json!("0");
    let (st, _, _) = s
        .call(Some(&admin), "PUT", &format!("AuditEvent/{id}"), Some(e))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

/// A deployment's own identity provider: its tokens (by its issuer URL and
/// JWKS) are accepted for clients registered here, with the scopes both
/// allow; its tokens for unregistered clients are not.
async fn an_external_issuers_tokens_are_accepted_for_registered_clients(db: Db, name: &str) {
    let idp = keys::generate(jsonwebtoken::Algorithm::RS384).unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(keys::jwks_of(&idp.public_jwk)).unwrap();
    let issuer = "https://idp.example.org/realms/council";
    let Some(s) = start_trusting(
        db,
        name,
        vec![fhir_server::auth::ExternalIssuer {
            issuer: issuer.into(),
            jwks,
        }],
    )
    .await
    else {
        return;
    };
    s.register(
        "council-app",
        "616",
        Role::LocalAuthority,
        "system/Patient.rs",
        jsonwebtoken::Algorithm::ES384,
    )
    .await;
    let now = chrono::Utc::now().timestamp();
    let token = |client: &str| {
        let (_, key) = keys::signing_key(&idp.private_pem).unwrap();
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS384);
        h.kid = idp.public_jwk["kid"].as_str().map(str::to_string);
        jsonwebtoken::encode(
            &h,
            &json!({"iss": issuer, "aud": s.base, "client_id": client, "sub": client,
            "exp": now + 120, "scope": "system/*.cruds"}),
            &key,
        )
        .unwrap()
    };
    let resp = s
        .http
        .get(format!("{}/Patient", s.base))
        .bearer_auth(token("council-app"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "a registered client's token from the trusted issuer"
    );
    let resp = s
        .http
        .get(format!("{}/Observation", s.base))
        .bearer_auth(token("council-app"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "its scopes are cut to the registration's"
    );
    let resp = s
        .http
        .get(format!("{}/Patient", s.base))
        .bearer_auth(token("stranger"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "an unregistered client"
    );
}
