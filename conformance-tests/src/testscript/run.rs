//! Running one TestScript against a server: fixtures, variables,
//! operations, and the order of setup, tests and teardown.
//!
//! Order: fixtures marked `autocreate` are created, then setup runs; when a
//! setup action fails the tests are skipped. In a test, after a failed
//! assertion the assertions on the same response are still checked, and
//! the test's later operations (and everything after a failed operation)
//! are skipped. Teardown always runs, then fixtures marked
//! `autodelete` are deleted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fhir_core::fhirpath::{item_string, Context, Expression, ModelInfo};
use fhir_core::format::{self, Format};
use fhir_core::package::Registry;
use fhir_core::validation::Validator;
use serde_json::Value;

use super::assertion;
use super::client::{header, read_resource, Client, Request, Response};
use super::load::{FixtureContent, LoadedScript};
use super::model::{Action, Operation, TestScript, Variable};
use super::outcome::{ActionKind, ActionResult, ScriptResult, TestResult, Verdict};

/// How much of a response body a failure report quotes.
const EXCERPT: usize = 600;

/// Runs TestScripts against one server.
pub struct Runner<'r> {
    client: Client,
    base: String,
    model: Arc<ModelInfo>,
    registry: Option<&'r Registry>,
    validator: Option<Validator<'r>>,
}

impl<'r> Runner<'r> {
    /// A runner for the server at `base` (its FHIR base URL), sending
    /// `headers` with every request. `registry`, when given, holds base R4
    /// and the packages whose profiles `validateProfileId` assertions name;
    /// it also gives FHIRPath its type knowledge.
    ///
    /// # Errors
    /// When the HTTP client cannot be set up.
    pub fn new(
        base: &str,
        headers: Vec<(String, String)>,
        registry: Option<&'r Registry>,
    ) -> anyhow::Result<Runner<'r>> {
        Runner::with_auth(base, headers, registry, None)
    }

    /// A runner that authenticates every request with SMART Backend
    /// Services credentials.
    ///
    /// # Errors
    /// When the HTTP client cannot be set up.
    pub fn with_auth(
        base: &str,
        headers: Vec<(String, String)>,
        registry: Option<&'r Registry>,
        auth: Option<super::client::SmartAuth>,
    ) -> anyhow::Result<Runner<'r>> {
        let model = Arc::new(registry.map(ModelInfo::from_registry).unwrap_or_default());
        Ok(Runner {
            client: Client::new(headers, Duration::from_secs(120))?.with_auth(auth),
            base: base.trim_end_matches('/').to_string(),
            validator: registry.map(|r| Validator::with_model(r, model.clone())),
            model,
            registry,
        })
    }

    /// Runs one script; `progress` hears of each action as it ends.
    pub fn run(
        &self,
        loaded: &LoadedScript,
        progress: &mut dyn FnMut(&ActionResult),
    ) -> ScriptResult {
        let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let clock = Instant::now();
        let mut run = ScriptRun {
            runner: self,
            script: &loaded.script,
            fixtures: loaded.fixtures.clone(),
            last: None,
        };
        let script = &loaded.script;

        let mut setup = Vec::new();
        for fixture in script.fixture.iter().filter(|f| f.autocreate) {
            let id = fixture.id.clone().unwrap_or_default();
            let r = run.autocreate(&id);
            progress(&r);
            setup.push(r);
        }
        let mut failed = setup.iter().any(|a| a.verdict.is_failure());
        if let Some(phase) = &script.setup {
            for action in &phase.action {
                let r = if failed {
                    skipped(action)
                } else {
                    run.action(action)
                };
                failed |= r.verdict.is_failure();
                progress(&r);
                setup.push(r);
            }
        }

        let mut tests = Vec::new();
        for (i, test) in script.test.iter().enumerate() {
            let clock = Instant::now();
            let mut actions = Vec::new();
            let mut test_failed = failed;
            let mut stop = failed;
            for action in &test.action {
                if action.operation.is_some() && test_failed {
                    stop = true;
                }
                let r = if stop {
                    skipped(action)
                } else {
                    run.action(action)
                };
                test_failed |= r.verdict.is_failure();
                // Nothing can be checked of an operation that failed.
                stop |= r.kind == ActionKind::Operation && r.verdict.is_failure();
                progress(&r);
                actions.push(r);
            }
            tests.push(TestResult {
                name: test
                    .name
                    .clone()
                    .or_else(|| test.id.clone())
                    .unwrap_or_else(|| format!("test {}", i + 1)),
                description: test.description.clone(),
                actions,
                elapsed: clock.elapsed(),
            });
        }

        let mut teardown = Vec::new();
        if let Some(phase) = &script.teardown {
            for action in &phase.action {
                let r = run.action(action);
                progress(&r);
                teardown.push(r);
            }
        }
        for fixture in script.fixture.iter().filter(|f| f.autodelete) {
            let r = run.autodelete(fixture.id.as_deref().unwrap_or_default());
            progress(&r);
            teardown.push(r);
        }

        ScriptResult {
            name: loaded.name(),
            id: loaded.id(),
            url: script.url.clone(),
            path: loaded.path.clone(),
            server: self.base.clone(),
            started,
            setup,
            tests,
            teardown,
            elapsed: clock.elapsed(),
        }
    }
}

fn skipped(action: &Action) -> ActionResult {
    let (kind, title) = title_of(action);
    ActionResult {
        kind,
        title,
        verdict: Verdict::Skip,
        message: "skipped: an earlier action failed".into(),
        request: None,
        response: None,
    }
}

fn title_of(action: &Action) -> (ActionKind, String) {
    if let Some(op) = &action.operation {
        let what = op
            .label
            .clone()
            .or_else(|| op.description.clone())
            .unwrap_or_else(|| {
                let code = op.kind.as_ref().and_then(|k| k.code.clone());
                format!(
                    "{} {}",
                    code.as_deref().unwrap_or("request"),
                    op.resource.as_deref().unwrap_or("")
                )
                .trim()
                .to_string()
            });
        (ActionKind::Operation, what)
    } else if let Some(a) = &action.assert {
        let what = a
            .label
            .clone()
            .or_else(|| a.description.clone())
            .unwrap_or_else(|| assertion::describe(a));
        (ActionKind::Assert, what)
    } else {
        (ActionKind::Operation, "empty action".into())
    }
}

/// One exchange: the request, and the response unless the request failed.
#[derive(Debug, Clone)]
pub(super) struct Exchange {
    pub(super) request: Request,
    pub(super) response: Option<Response>,
}

/// The state of one script's run.
pub(super) struct ScriptRun<'a, 'r> {
    pub(super) runner: &'a Runner<'r>,
    pub(super) script: &'a TestScript,
    pub(super) fixtures: BTreeMap<String, FixtureContent>,
    pub(super) last: Option<Exchange>,
}

impl ScriptRun<'_, '_> {
    fn action(&mut self, action: &Action) -> ActionResult {
        let (kind, title) = title_of(action);
        if let Some(op) = &action.operation {
            self.operation(op, title)
        } else if let Some(a) = &action.assert {
            assertion::check(self, a, title)
        } else {
            ActionResult {
                kind,
                title,
                verdict: Verdict::Error,
                message: "the action has neither an operation nor an assert".into(),
                request: None,
                response: None,
            }
        }
    }

    fn operation(&mut self, op: &Operation, title: String) -> ActionResult {
        let request = match self.build_request(op) {
            Ok(r) => r,
            Err(message) => {
                self.last = None;
                return ActionResult {
                    kind: ActionKind::Operation,
                    title,
                    verdict: Verdict::Error,
                    message,
                    request: None,
                    response: None,
                };
            }
        };
        self.send(
            request,
            op.request_id.as_deref(),
            op.response_id.as_deref(),
            title,
        )
    }

    fn send(
        &mut self,
        request: Request,
        request_id: Option<&str>,
        response_id: Option<&str>,
        title: String,
    ) -> ActionResult {
        let line = format!("{} {}", request.method, request.url);
        if let Some(id) = request_id {
            let body = request.body.clone().unwrap_or_default();
            let (resource, resource_error) =
                match read_resource(&body, header(&request.headers, "content-type")) {
                    Ok(r) => (r, None),
                    Err(e) => (None, Some(e)),
                };
            let kept = FixtureContent::kept(
                body,
                request.headers.clone(),
                None,
                resource,
                resource_error,
            );
            self.fixtures.insert(id.to_string(), kept);
        }
        match self.runner.client.send(&request) {
            Ok(response) => {
                let message = format!(
                    "{line} → {} ({} ms)",
                    response.status,
                    response.elapsed.as_millis()
                );
                if let Some(id) = response_id {
                    let kept = FixtureContent::kept(
                        response.body.clone(),
                        response.headers.clone(),
                        Some(response.status),
                        response.resource.clone(),
                        response.resource_error.clone(),
                    );
                    self.fixtures.insert(id.to_string(), kept);
                }
                self.last = Some(Exchange {
                    request,
                    response: Some(response),
                });
                ActionResult {
                    kind: ActionKind::Operation,
                    title,
                    verdict: Verdict::Pass,
                    message,
                    request: Some(line),
                    response: None,
                }
            }
            Err(message) => {
                self.last = Some(Exchange {
                    request,
                    response: None,
                });
                ActionResult {
                    kind: ActionKind::Operation,
                    title,
                    verdict: Verdict::Error,
                    message,
                    request: Some(line),
                    response: None,
                }
            }
        }
    }

    fn autocreate(&mut self, id: &str) -> ActionResult {
        let op = Operation {
            source_id: Some(id.to_string()),
            ..Operation::interaction("create")
        };
        let result = self.operation(&op, format!("create fixture {id}"));
        let Some(response) = self.last.as_ref().and_then(|e| e.response.as_ref()) else {
            return result;
        };
        if !(200..300).contains(&response.status) {
            return ActionResult {
                verdict: Verdict::Error,
                message: format!(
                    "{}: the server did not create it ({})",
                    result.message, response.status
                ),
                response: self.last.as_ref().map(excerpt_of),
                ..result
            };
        }
        // The server's copy (with its id) replaces the fixture; without a
        // body, the id comes from Location.
        if response.resource.is_some() {
            let kept = FixtureContent::kept(
                response.body.clone(),
                response.headers.clone(),
                Some(response.status),
                response.resource.clone(),
                None,
            );
            self.fixtures.insert(id.to_string(), kept);
        } else if let Some((_, rid, _)) =
            header(&response.headers, "location").and_then(parse_location)
        {
            if let Some(r) = self.fixtures.get_mut(id).and_then(|f| f.resource.as_mut()) {
                r["id"] = Value::String(rid);
            }
        }
        result
    }

    fn autodelete(&mut self, id: &str) -> ActionResult {
        let op = Operation {
            target_id: Some(id.to_string()),
            ..Operation::interaction("delete")
        };
        self.operation(&op, format!("delete fixture {id}"))
    }

    /// The request an operation makes.
    fn build_request(&self, op: &Operation) -> Result<Request, String> {
        let code = op
            .kind
            .as_ref()
            .and_then(|k| k.code.clone())
            .unwrap_or_default();
        let method = match &op.method {
            Some(m) => m.to_ascii_uppercase(),
            None => default_method(&code).to_string(),
        };
        let url = self.url_for(op, &code)?;
        let mut headers = Vec::new();
        match op.accept.as_deref().map(mime_of) {
            Some(None) => {}
            Some(Some(m)) => headers.push(("Accept".to_string(), m)),
            None => headers.push(("Accept".to_string(), Format::Json.mime().to_string())),
        }
        let mut body = None;
        if let Some(source) = &op.source_id {
            let fixture = self.fixture(source)?;
            let (bytes, content_type) = self.body_of(fixture, op.content_type.as_deref())?;
            if let Some(ct) = content_type {
                headers.push(("Content-Type".to_string(), ct));
            }
            body = Some(bytes);
        } else if let Some(Some(ct)) = op.content_type.as_deref().map(mime_of) {
            if matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
                headers.push(("Content-Type".to_string(), ct));
            }
        }
        for h in &op.request_header {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&h.field));
            headers.push((h.field.clone(), self.substitute(&h.value)?));
        }
        Ok(Request {
            method,
            url,
            headers,
            body,
        })
    }

    /// A fixture by id.
    pub(super) fn fixture(&self, id: &str) -> Result<&FixtureContent, String> {
        self.fixtures
            .get(id)
            .ok_or_else(|| format!("there is no fixture (or kept response) `{id}`"))
    }

    fn body_of(
        &self,
        fixture: &FixtureContent,
        content_type: Option<&str>,
    ) -> Result<(Vec<u8>, Option<String>), String> {
        let wanted = content_type.map(mime_of);
        let wanted_format = wanted
            .as_ref()
            .and_then(|m| m.as_deref().and_then(Format::from_mime));
        let mut bytes = match (&fixture.resource, wanted_format) {
            (Some(resource), Some(f)) if Some(f) != fixture.format => {
                format::write(resource, f, true)
                    .map_err(|e| format!("the fixture cannot be written as {f:?}: {e}"))?
                    .into_bytes()
            }
            _ => fixture.raw.clone(),
        };
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if text.contains("${") {
                bytes = self.substitute(text)?.into_bytes();
            }
        }
        if let Some(n) = fixture.pad_to {
            if bytes.len() < n {
                bytes.resize(n, b' ');
            }
        }
        let header = match wanted {
            Some(m) => m,
            None => Some(fixture.format.unwrap_or(Format::Json).mime().to_string()),
        };
        Ok((bytes, header))
    }

    fn url_for(&self, op: &Operation, code: &str) -> Result<String, String> {
        let base = &self.runner.base;
        if let Some(url) = &op.url {
            let url = self.substitute(url)?;
            return Ok(
                if url.starts_with("http://") || url.starts_with("https://") {
                    url
                } else {
                    format!("{base}/{}", url.trim_start_matches('/'))
                },
            );
        }
        let target = match &op.target_id {
            Some(t) => Some(identity(self.fixture(t)?).ok_or_else(|| {
                format!("fixture `{t}` has no resource type and id to address it by")
            })?),
            None => None,
        };
        let source = match &op.source_id {
            Some(s) => identity(self.fixture(s)?),
            None => None,
        };
        // A source fixture names its type even before it has an id.
        let source_type = match &op.source_id {
            Some(s) => self
                .fixture(s)?
                .resource
                .as_ref()
                .and_then(|r| r.get("resourceType"))
                .and_then(Value::as_str)
                .map(str::to_string),
            None => None,
        };
        let rtype = op
            .resource
            .clone()
            .or_else(|| target.as_ref().map(|t| t.0.clone()))
            .or(source_type)
            .unwrap_or_default();
        let params = op
            .params
            .as_deref()
            .map(|p| self.substitute(p))
            .transpose()?;
        let need = |what: &str| -> Result<(String, String, Option<String>), String> {
            target
                .clone()
                .or_else(|| source.clone().filter(|s| !s.1.is_empty()))
                .filter(|t| !t.1.is_empty())
                .ok_or_else(|| format!("`{code}` needs {what}: give targetId or params"))
        };
        let path = match (code, params) {
            ("capabilities", p) => format!("metadata{}", p.unwrap_or_default()),
            ("transaction" | "batch", p) => p.unwrap_or_default(),
            ("validate", Some(p)) if p.starts_with('?') => format!("{rtype}/$validate{p}"),
            (_, Some(p)) => {
                if p.starts_with('/') || p.starts_with('?') {
                    format!("{rtype}{p}")
                } else {
                    format!("{rtype}/{p}")
                }
            }
            ("read", None) => {
                let (t, id, _) = need("a resource to read")?;
                format!("{t}/{id}")
            }
            ("vread", None) => {
                let (t, id, v) = need("a resource to read")?;
                let v = v.ok_or_else(|| "`vread` needs a target with a version".to_string())?;
                format!("{t}/{id}/_history/{v}")
            }
            ("update" | "updateCreate" | "patch" | "delete", None) => {
                let (t, id, _) = need("a resource id")?;
                format!("{t}/{id}")
            }
            ("history", None) => match (&target, rtype.is_empty()) {
                (Some((t, id, _)), _) => format!("{t}/{id}/_history"),
                (None, false) => format!("{rtype}/_history"),
                (None, true) => "_history".into(),
            },
            ("validate", None) => match &target {
                Some((t, id, _)) => format!("{t}/{id}/$validate"),
                None => format!("{rtype}/$validate"),
            },
            ("create" | "search" | "deleteCondSingle" | "deleteCondMultiple", None) => rtype,
            ("", None) => {
                return Err("the operation has no type, url or params to make a request of".into())
            }
            (other, None) => match &target {
                Some((t, id, _)) => format!("{t}/{id}/${other}"),
                None if rtype.is_empty() => format!("${other}"),
                None => format!("{rtype}/${other}"),
            },
        };
        Ok(if path.is_empty() {
            base.clone()
        } else {
            format!("{base}/{}", path.trim_start_matches('/'))
        })
    }

    /// Replaces every `${name}` with the variable's value.
    pub(super) fn substitute(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("`${{` without a closing `}}` in `{text}`"))?;
            out.push_str(&self.variable(&after[..end])?);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A variable's value now.
    fn variable(&self, name: &str) -> Result<String, String> {
        let var = self
            .script
            .variable
            .iter()
            .find(|v| v.name == name)
            .ok_or_else(|| format!("the script declares no variable `{name}`"))?;
        match self.evaluate_variable(var)? {
            Some(v) => Ok(v),
            None => var
                .default_value
                .clone()
                .ok_or_else(|| format!("variable `{name}` has no value (and no defaultValue)")),
        }
    }

    fn evaluate_variable(&self, var: &Variable) -> Result<Option<String>, String> {
        let headers = |source: &Option<String>| -> Result<Vec<(String, String)>, String> {
            match source {
                Some(s) => Ok(self.fixture(s)?.headers.clone()),
                None => Ok(self
                    .last
                    .as_ref()
                    .and_then(|e| e.response.as_ref())
                    .map(|r| r.headers.clone())
                    .unwrap_or_default()),
            }
        };
        if let Some(field) = &var.header_field {
            return Ok(header(&headers(&var.source_id)?, field).map(str::to_string));
        }
        let expression = match (&var.expression, &var.path) {
            (Some(e), _) => e.clone(),
            (None, Some(p)) => path_to_fhirpath(p)?,
            (None, None) => return Ok(None),
        };
        let resource = match &var.source_id {
            Some(s) => self.fixture(s)?.resource.clone(),
            None => self
                .last
                .as_ref()
                .and_then(|e| e.response.as_ref())
                .and_then(|r| r.resource.clone()),
        };
        let Some(resource) = resource else {
            return Ok(None);
        };
        let items = self.evaluate(&expression, &resource)?;
        Ok(items.into_iter().next())
    }

    /// Evaluates FHIRPath on a resource, giving each item's text (complex
    /// elements as their JSON).
    pub(super) fn evaluate(
        &self,
        expression: &str,
        resource: &Value,
    ) -> Result<Vec<String>, String> {
        let expression = self.substitute(expression)?;
        let e = Expression::parse(&expression)
            .map_err(|e| format!("`{expression}` is not FHIRPath: {e}"))?;
        let ctx = Context {
            model: Some(&self.runner.model),
            registry: self.runner.registry,
            ..Context::default()
        };
        let items = e
            .evaluate(resource, &ctx)
            .map_err(|e| format!("`{expression}` failed: {e}"))?;
        Ok(items
            .iter()
            .map(|i| {
                item_string(i)
                    .or_else(|| i.json().map(Value::to_string))
                    .unwrap_or_default()
            })
            .collect())
    }

    /// The validator, when the run has conformance packages.
    pub(super) fn validator(&self) -> Option<&Validator<'_>> {
        self.runner.validator.as_ref()
    }
}

/// A resource's type, id and version: from its body, else from the
/// `Location` / `Content-Location` header it came with.
fn identity(f: &FixtureContent) -> Option<(String, String, Option<String>)> {
    if let Some(r) = &f.resource {
        let t = r.get("resourceType").and_then(Value::as_str)?;
        let id = r.get("id").and_then(Value::as_str).unwrap_or("");
        let v = r
            .pointer("/meta/versionId")
            .and_then(Value::as_str)
            .map(str::to_string);
        if !id.is_empty() || t == "Bundle" {
            return Some((t.to_string(), id.to_string(), v));
        }
    }
    header(&f.headers, "location")
        .or_else(|| header(&f.headers, "content-location"))
        .and_then(parse_location)
}

/// `…/Type/id/_history/v` → (Type, id, v).
fn parse_location(location: &str) -> Option<(String, String, Option<String>)> {
    let path = location.split(['?', '#']).next()?;
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let n = parts.len();
    if n >= 4 && parts[n - 2] == "_history" {
        return Some((
            parts[n - 4].to_string(),
            parts[n - 3].to_string(),
            Some(parts[n - 1].to_string()),
        ));
    }
    (n >= 2).then(|| (parts[n - 2].to_string(), parts[n - 1].to_string(), None))
}

fn default_method(code: &str) -> &'static str {
    match code {
        "read" | "vread" | "search" | "history" | "capabilities" | "" => "GET",
        "update" | "updateCreate" => "PUT",
        "patch" => "PATCH",
        "delete" | "deleteCondSingle" | "deleteCondMultiple" => "DELETE",
        _ => "POST",
    }
}

/// A TestScript content type (`json`, `xml`, `none`, or a MIME type) as a
/// header value; `None` for `none`.
fn mime_of(ct: &str) -> Option<String> {
    match ct {
        "none" => None,
        "json" => Some(Format::Json.mime().into()),
        "xml" => Some(Format::Xml.mime().into()),
        other => Some(other.to_string()),
    }
}

/// Translates the simple paths older scripts use (`Patient/id`,
/// `fhir:Patient/fhir:name/fhir:family/@value`) to FHIRPath. Paths with
/// predicates are refused: write those as `expression`.
pub(super) fn path_to_fhirpath(path: &str) -> Result<String, String> {
    if path.contains(['[', '(', '*']) || path.starts_with("//") {
        return Err(format!(
            "the path `{path}` is beyond the simple paths the runner translates; use `expression` (FHIRPath)"
        ));
    }
    let steps: Vec<&str> = path
        .trim_start_matches('/')
        .split('/')
        .filter(|s| *s != "@value" && !s.is_empty())
        .map(|s| s.trim_start_matches("fhir:"))
        .collect();
    Ok(steps.join("."))
}

/// The request line and the start of the response, for failure reports.
pub(super) fn excerpt_of(e: &Exchange) -> String {
    match &e.response {
        Some(r) => {
            let body = String::from_utf8_lossy(&r.body);
            let body: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut cut: String = body.chars().take(EXCERPT).collect();
            if cut.len() < body.len() {
                cut.push('…');
            }
            format!("{} {}", r.status, cut)
        }
        None => "no response".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_give_type_id_and_version() {
        assert_eq!(
            parse_location("http://h/fhir/Patient/12/_history/3"),
            Some(("Patient".into(), "12".into(), Some("3".into())))
        );
        assert_eq!(
            parse_location("Patient/12"),
            Some(("Patient".into(), "12".into(), None))
        );
    }

    #[test]
    fn simple_paths_become_fhirpath() {
        assert_eq!(
            path_to_fhirpath("fhir:Patient/fhir:name/fhir:family/@value").unwrap(),
            "Patient.name.family"
        );
        assert_eq!(path_to_fhirpath("Patient/id").unwrap(), "Patient.id");
        assert!(path_to_fhirpath("fhir:Patient/fhir:name[1]").is_err());
    }
}
