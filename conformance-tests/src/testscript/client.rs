//! One HTTP exchange with the server under test: the request as sent and
//! the response as received, with the body read as a FHIR resource when it
//! is one.

use std::time::{Duration, Instant};

use fhir_core::format::{self, Format};
use serde_json::Value;

/// A request as sent.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method, upper case.
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Headers sent (besides those the HTTP library adds).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Option<Vec<u8>>,
}

/// A response as received.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The body read as a FHIR resource (JSON form), when it is one.
    pub resource: Option<Value>,
    /// Why the body is not a resource, when it is not empty and not one.
    pub resource_error: Option<String>,
    /// Time from sending to the whole body.
    pub elapsed: Duration,
}

/// The first value of header `name` (any case) in `headers`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads a body as a FHIR resource by its content type (or its first
/// character): `Ok(None)` for an empty body.
pub fn read_resource(body: &[u8], content_type: Option<&str>) -> Result<Option<Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let text = std::str::from_utf8(body).map_err(|e| format!("the body is not UTF-8: {e}"))?;
    let format = content_type
        .and_then(Format::from_mime)
        .or_else(|| Format::sniff(text))
        .ok_or_else(|| "the body is neither FHIR JSON nor FHIR XML".to_string())?;
    format::parse(text, format)
        .map(Some)
        .map_err(|e| format!("the body is not a FHIR resource: {e}"))
}

/// SMART Backend Services credentials
/// ([backend services](https://hl7.org/fhir/smart-app-launch/backend-services.html)):
/// the client signs a JWT assertion with its private key and exchanges it
/// at the token endpoint for an access token, sent as `Authorization:
/// Bearer` with every request and fetched again before it expires.
#[derive(Debug)]
pub struct SmartAuth {
    /// The token endpoint.
    pub token_url: String,
    /// The registered client id.
    pub client_id: String,
    /// The client's private key (PKCS#8 PEM, EC P-384 or RSA).
    pub key_pem: String,
    /// The scopes to ask for.
    pub scope: String,
    current: std::sync::Mutex<Option<(String, Instant)>>,
}

impl SmartAuth {
    /// Credentials for `token_url`.
    pub fn new(token_url: &str, client_id: &str, key_pem: &str, scope: &str) -> SmartAuth {
        SmartAuth {
            token_url: token_url.to_string(),
            client_id: client_id.to_string(),
            key_pem: key_pem.to_string(),
            scope: scope.to_string(),
            current: std::sync::Mutex::new(None),
        }
    }

    fn assertion(&self) -> anyhow::Result<String> {
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let (alg, key) =
            if let Ok(k) = jsonwebtoken::EncodingKey::from_ec_pem(self.key_pem.as_bytes()) {
                (jsonwebtoken::Algorithm::ES384, k)
            } else {
                (
                    jsonwebtoken::Algorithm::RS384,
                    jsonwebtoken::EncodingKey::from_rsa_pem(self.key_pem.as_bytes()).map_err(
                        |e| anyhow::anyhow!("the key is neither EC P-384 nor RSA PKCS#8 PEM: {e}"),
                    )?,
                )
            };
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": self.client_id, "sub": self.client_id, "aud": self.token_url,
            "iat": now, "exp": now + 240, "jti": uuid::Uuid::new_v4().to_string(),
        });
        Ok(jsonwebtoken::encode(
            &jsonwebtoken::Header::new(alg),
            &claims,
            &key,
        )?)
    }

    /// A current access token, asking for a new one when the last is near
    /// its end.
    ///
    /// # Errors
    /// When the token endpoint refuses or cannot be reached.
    pub fn bearer(&self, http: &reqwest::blocking::Client) -> Result<String, String> {
        let mut current = self
            .current
            .lock()
            .map_err(|_| "the token lock is poisoned".to_string())?;
        if let Some((t, until)) = current.as_ref() {
            if Instant::now() < *until {
                return Ok(t.clone());
            }
        }
        let assertion = self.assertion().map_err(|e| e.to_string())?;
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", self.scope.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        let resp = http
            .post(&self.token_url)
            .form(&form)
            .send()
            .map_err(|e| format!("the token request to {} failed: {e}", self.token_url))?;
        let status = resp.status();
        let body: Value = resp.json().unwrap_or_default();
        if !status.is_success() {
            return Err(format!(
                "{} refused a token: {} {}",
                self.token_url,
                body["error"].as_str().unwrap_or(""),
                body["error_description"].as_str().unwrap_or("")
            ));
        }
        let token = body["access_token"]
            .as_str()
            .ok_or_else(|| "the token answer has no access_token".to_string())?
            .to_string();
        // Renew a minute before it expires.
        let life = body["expires_in"]
            .as_u64()
            .unwrap_or(300)
            .saturating_sub(60)
            .max(10);
        *current = Some((token.clone(), Instant::now() + Duration::from_secs(life)));
        Ok(token)
    }
}

/// Sends requests to one server, adding the run's own headers to each.
pub struct Client {
    http: reqwest::blocking::Client,
    extra_headers: Vec<(String, String)>,
    auth: Option<SmartAuth>,
}

impl Client {
    /// A client that adds `extra_headers` (e.g. `Authorization`) to every
    /// request and gives up on a request after `timeout`.
    ///
    /// # Errors
    /// When the HTTP library cannot be set up.
    pub fn new(extra_headers: Vec<(String, String)>, timeout: Duration) -> anyhow::Result<Client> {
        let http = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Client {
            http,
            extra_headers,
            auth: None,
        })
    }

    /// The same client, getting SMART Backend Services tokens with `auth`.
    pub fn with_auth(mut self, auth: Option<SmartAuth>) -> Client {
        self.auth = auth;
        self
    }

    /// Sends `request` and reads the whole response.
    ///
    /// # Errors
    /// A message when the request cannot be made or the response read
    /// (connection refused, timeout, bad URL); HTTP error statuses are
    /// responses, not errors.
    pub fn send(&self, request: &Request) -> Result<Response, String> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| format!("`{}` is not an HTTP method", request.method))?;
        let url = reqwest::Url::parse(&request.url)
            .map_err(|e| format!("`{}` is not a URL: {e}", request.url))?;
        let mut builder = self.http.request(method, url);
        if let Some(auth) = &self.auth {
            let has_own = request
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
            if !has_own {
                builder = builder.header(
                    "Authorization",
                    format!("Bearer {}", auth.bearer(&self.http)?),
                );
            }
        }
        for (k, v) in self.extra_headers.iter().chain(&request.headers) {
            builder = builder.header(k, v);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let started = Instant::now();
        let response = builder
            .send()
            .map_err(|e| format!("{} {} failed: {e}", request.method, request.url))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .bytes()
            .map_err(|e| format!("reading the response to {} failed: {e}", request.url))?
            .to_vec();
        let elapsed = started.elapsed();
        let (resource, resource_error) =
            match read_resource(&body, header(&headers, "content-type")) {
                Ok(r) => (r, None),
                Err(e) => (None, Some(e)),
            };
        Ok(Response {
            status,
            headers,
            body,
            resource,
            resource_error,
            elapsed,
        })
    }
}
