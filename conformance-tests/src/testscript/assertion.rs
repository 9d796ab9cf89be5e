//! Checking one TestScript assertion against the last exchange or a
//! fixture.
//!
//! Each assertion checks one thing (`response`, `responseCode`,
//! `contentType`, `headerField`, `resource`, `requestMethod`, `requestURL`,
//! `validateProfileId`, `minimumId`, `navigationLinks`, `expression` or
//! `path`, optionally against `compareToSourceId`), compared by `operator`
//! (default `equals`). A failure says what was expected and what came.

use fhir_core::validation::Severity;
use serde_json::Value;

use super::client::header;
use super::model::Assert;
use super::outcome::{ActionKind, ActionResult, Verdict};
use super::run::{excerpt_of, path_to_fhirpath, ScriptRun};

/// What an assertion looks at.
struct Source<'a> {
    resource: Option<&'a Value>,
    resource_error: Option<&'a str>,
    headers: &'a [(String, String)],
    status: Option<u16>,
}

/// A short description of what an assertion checks, for reports.
pub fn describe(a: &Assert) -> String {
    let op = a.operator.as_deref().unwrap_or("equals");
    let value = a.value.as_deref().unwrap_or("");
    if let Some(r) = &a.response {
        format!("response is {r}")
    } else if let Some(c) = &a.response_code {
        format!("response code {op} {c}")
    } else if let Some(c) = &a.content_type {
        format!("content type {op} {c}")
    } else if let Some(h) = &a.header_field {
        format!("header {h} {op} {value}").trim_end().to_string()
    } else if let Some(r) = &a.resource {
        format!("resource type is {r}")
    } else if let Some(p) = &a.validate_profile_id {
        format!("conforms to profile {p}")
    } else if let Some(m) = &a.minimum_id {
        format!("contains at least fixture {m}")
    } else if a.navigation_links == Some(true) {
        "bundle has navigation links".into()
    } else if let Some(e) = a.expression.as_ref().or(a.path.as_ref()) {
        match (&a.compare_to_source_id, &a.value) {
            (Some(c), _) => format!("`{e}` {op} the same in {c}"),
            (None, Some(v)) => format!("`{e}` {op} {v}"),
            (None, None) if a.operator.is_some() => format!("`{e}` {op}"),
            (None, None) => format!("`{e}` is true"),
        }
    } else if let Some(m) = &a.request_method {
        format!("request method is {m}")
    } else if let Some(u) = &a.request_url {
        format!("request URL {op} {u}")
    } else {
        "assertion".into()
    }
}

/// The status a `response` code names.
fn response_status(code: &str) -> Option<u16> {
    Some(match code {
        "okay" => 200,
        "created" => 201,
        "noContent" => 204,
        "notModified" => 304,
        "bad" => 400,
        "forbidden" => 403,
        "notFound" => 404,
        "methodNotAllowed" => 405,
        "conflict" => 409,
        "gone" => 410,
        "preconditionFailed" => 412,
        "unprocessable" => 422,
        _ => return None,
    })
}

/// Checks `a`; `title` names it in the result.
pub(super) fn check(run: &ScriptRun, a: &Assert, title: String) -> ActionResult {
    let outcome = evaluate(run, a);
    let (verdict, message) = match outcome {
        Ok((true, m)) => (Verdict::Pass, m),
        Ok((false, m)) if a.warning_only => (Verdict::Warning, m),
        Ok((false, m)) => (Verdict::Fail, m),
        Err(m) => (Verdict::Error, m),
    };
    let failed = verdict != Verdict::Pass;
    ActionResult {
        kind: ActionKind::Assert,
        title,
        verdict,
        message,
        request: failed
            .then(|| {
                run.last
                    .as_ref()
                    .map(|e| format!("{} {}", e.request.method, e.request.url))
            })
            .flatten(),
        response: failed.then(|| run.last.as_ref().map(excerpt_of)).flatten(),
    }
}

fn source<'a>(run: &'a ScriptRun, a: &Assert) -> Result<Source<'a>, String> {
    if let Some(id) = &a.source_id {
        let f = run.fixture(id)?;
        return Ok(Source {
            resource: f.resource.as_ref(),
            resource_error: f.resource_error.as_deref(),
            headers: &f.headers,
            status: f.status,
        });
    }
    let last = run
        .last
        .as_ref()
        .ok_or("there is no earlier operation to check")?;
    if a.direction.as_deref() == Some("request") {
        return Ok(Source {
            resource: None,
            resource_error: Some("the request body is not kept; give it a requestId"),
            headers: &last.request.headers,
            status: None,
        });
    }
    let r = last
        .response
        .as_ref()
        .ok_or("the last operation got no response")?;
    Ok(Source {
        resource: r.resource.as_ref(),
        resource_error: r.resource_error.as_deref(),
        headers: &r.headers,
        status: Some(r.status),
    })
}

fn resource_of<'a>(s: &Source<'a>) -> Result<&'a Value, String> {
    s.resource.ok_or_else(|| {
        s.resource_error
            .unwrap_or("the response has no body")
            .to_string()
    })
}

/// The source's body as a resource; when it is not one, the assertion
/// fails (the server sent something else) rather than erring.
macro_rules! body {
    ($s:expr) => {
        match resource_of(&$s) {
            Ok(r) => r,
            Err(m) => return Ok((false, m)),
        }
    };
}

/// `Ok((passed, message))`, or `Err` when the assertion cannot be
/// evaluated.
fn evaluate(run: &ScriptRun, a: &Assert) -> Result<(bool, String), String> {
    let op = a.operator.as_deref().unwrap_or("equals");
    let value = a.value.as_deref().map(|v| run.substitute(v)).transpose()?;
    if let Some(code) = &a.response {
        let want =
            response_status(code).ok_or_else(|| format!("`{code}` is not a response code"))?;
        let s = source(run, a)?;
        let got = s.status.ok_or("the source has no status")?;
        let ok = (got == want) == (op != "notEquals");
        return Ok((
            ok,
            format!("expected response {op} {code} ({want}), got {got}"),
        ));
    }
    if let Some(codes) = &a.response_code {
        let s = source(run, a)?;
        let got = s.status.ok_or("the source has no status")?;
        let codes = run.substitute(codes)?;
        let ok = compare(&[got.to_string()], op, Some(&codes))?;
        return Ok((
            ok,
            format!("expected response code {op} {codes}, got {got}"),
        ));
    }
    if let Some(ct) = &a.content_type {
        let s = source(run, a)?;
        let want = essence(&match ct.as_str() {
            "json" => "application/fhir+json".to_string(),
            "xml" => "application/fhir+xml".to_string(),
            other => other.to_string(),
        });
        let got = header(s.headers, "content-type").map(essence);
        let values: Vec<String> = got.iter().cloned().collect();
        let ok = compare(&values, op, Some(&want))?;
        return Ok((
            ok,
            format!(
                "expected content type {op} {want}, got {}",
                got.as_deref().unwrap_or("none")
            ),
        ));
    }
    if let Some(field) = &a.header_field {
        let s = source(run, a)?;
        let got = header(s.headers, field).map(str::to_string);
        let values: Vec<String> = got.iter().cloned().collect();
        let ok = compare(&values, op, value.as_deref())?;
        return Ok((
            ok,
            format!(
                "expected header {field} {op} {}, got {}",
                value.as_deref().unwrap_or(""),
                got.as_deref()
                    .map_or("no such header".into(), |g| format!("`{g}`"))
            ),
        ));
    }
    if let Some(want) = &a.resource {
        let s = source(run, a)?;
        let got = body!(s)
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let ok = compare(&[got.to_string()], op, Some(want))?;
        return Ok((ok, format!("expected resource type {op} {want}, got {got}")));
    }
    if let Some(want) = &a.request_method {
        let last = run.last.as_ref().ok_or("there is no earlier operation")?;
        let got = &last.request.method;
        let ok = compare(&[got.to_string()], op, Some(&want.to_ascii_uppercase()))?;
        return Ok((
            ok,
            format!("expected request method {op} {want}, got {got}"),
        ));
    }
    if let Some(want) = &a.request_url {
        let last = run.last.as_ref().ok_or("there is no earlier operation")?;
        let want = run.substitute(want)?;
        let got = &last.request.url;
        let ok = compare(&[got.to_string()], op, Some(&want))?;
        return Ok((ok, format!("expected request URL {op} {want}, got {got}")));
    }
    if let Some(id) = &a.validate_profile_id {
        return validate_profile(run, a, id);
    }
    if let Some(id) = &a.minimum_id {
        let s = source(run, a)?;
        let got = body!(s);
        let minimum = run
            .fixture(id)?
            .resource
            .as_ref()
            .ok_or_else(|| format!("fixture `{id}` is not a resource"))?;
        return Ok(match missing(got, minimum, "") {
            None => (true, format!("contains everything in {id}")),
            Some(path) => (false, format!("does not contain {id}'s {path}")),
        });
    }
    if a.navigation_links == Some(true) {
        let s = source(run, a)?;
        return Ok(navigation_links(body!(s)));
    }
    let expression = match (&a.expression, &a.path) {
        (Some(e), _) => Some(e.clone()),
        (None, Some(p)) => Some(path_to_fhirpath(p)?),
        (None, None) => None,
    };
    if let Some(compare_id) = &a.compare_to_source_id {
        let other_expression = match (&a.compare_to_source_expression, &a.compare_to_source_path) {
            (Some(e), _) => e.clone(),
            (None, Some(p)) => path_to_fhirpath(p)?,
            (None, None) => {
                return Err("compareToSourceId needs compareToSourceExpression or Path".into())
            }
        };
        let other = run
            .fixture(compare_id)?
            .resource
            .as_ref()
            .ok_or_else(|| format!("fixture `{compare_id}` is not a resource"))?;
        let want = run.evaluate(&other_expression, other)?;
        let s = source(run, a)?;
        let got = run.evaluate(expression.as_deref().unwrap_or(&other_expression), body!(s))?;
        let ok = match op {
            "equals" => got == want,
            "notEquals" => got != want,
            _ => compare(&got, op, Some(&want.join(",")))?,
        };
        return Ok((
            ok,
            format!("expected {want:?} ({op}) from {compare_id}, got {got:?}"),
        ));
    }
    if let Some(expression) = expression {
        let s = source(run, a)?;
        let got = run.evaluate(&expression, body!(s))?;
        let ok = match (&value, a.operator.as_deref()) {
            (Some(v), _) => compare(&got, op, Some(v))?,
            (None, Some("empty" | "notEmpty")) => compare(&got, op, None)?,
            (None, _) => got == ["true"],
        };
        let want = match (&value, a.operator.as_deref()) {
            (Some(v), _) => format!("{op} {v}"),
            (None, Some(o @ ("empty" | "notEmpty"))) => o.to_string(),
            (None, _) => "true".to_string(),
        };
        return Ok((ok, format!("expected `{expression}` {want}, got {got:?}")));
    }
    Err("the assertion names nothing to check".into())
}

fn validate_profile(run: &ScriptRun, a: &Assert, id: &str) -> Result<(bool, String), String> {
    let canonical = run
        .script
        .profile
        .iter()
        .find(|p| p.id.as_deref() == Some(id))
        .and_then(|p| p.reference.clone())
        .ok_or_else(|| format!("the script has no profile with id `{id}`"))?;
    let validator = run.validator().ok_or(
        "validateProfileId needs conformance packages: base R4 is not installed (run `carer-fhir packages install`)",
    )?;
    if validator.profile(&canonical).is_none() {
        return Err(format!(
            "profile {canonical} is not loaded: pass its package with --package"
        ));
    }
    let s = source(run, a)?;
    let outcome = validator.validate_against(body!(s), &[canonical.as_str()]);
    let errors: Vec<String> = outcome
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| format!("{}: {}", i.expression, i.message))
        .collect();
    Ok(if errors.is_empty() {
        (true, format!("conforms to {canonical}"))
    } else {
        let shown: Vec<&str> = errors.iter().take(3).map(String::as_str).collect();
        (
            false,
            format!(
                "{} error(s) against {canonical}: {}",
                errors.len(),
                shown.join("; ")
            ),
        )
    })
}

/// Media type without parameters, lower case.
fn essence(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Compares `got` (the values found) with `want` by a TestScript operator.
fn compare(got: &[String], op: &str, want: Option<&str>) -> Result<bool, String> {
    let need = || want.ok_or_else(|| format!("operator `{op}` needs a value"));
    let single = || -> Option<&str> {
        match got {
            [one] => Some(one.as_str()),
            _ => None,
        }
    };
    Ok(match op {
        "empty" => got.is_empty(),
        "notEmpty" => !got.is_empty(),
        "equals" => single() == Some(need()?),
        "notEquals" => single() != Some(need()?),
        "in" => {
            let list = need()?;
            single().is_some_and(|g| list.split(',').any(|w| w.trim() == g))
        }
        "notIn" => {
            let list = need()?;
            single().is_some_and(|g| !list.split(',').any(|w| w.trim() == g))
        }
        "greaterThan" | "lessThan" => {
            let w = need()?;
            let Some(g) = single() else {
                return Ok(false);
            };
            let order = match (g.parse::<f64>(), w.parse::<f64>()) {
                (Ok(a), Ok(b)) => a.partial_cmp(&b),
                _ => Some(g.cmp(w)),
            };
            order
                == Some(if op == "greaterThan" {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Less
                })
        }
        "contains" => {
            let w = need()?;
            got.iter().any(|g| g.contains(w))
        }
        "notContains" => {
            let w = need()?;
            !got.iter().any(|g| g.contains(w))
        }
        "eval" => got == ["true"],
        other => return Err(format!("`{other}` is not a TestScript operator")),
    })
}

/// The first element of `minimum` that `got` lacks, as a path.
fn missing(got: &Value, minimum: &Value, path: &str) -> Option<String> {
    match (got, minimum) {
        (Value::Object(g), Value::Object(m)) => m.iter().find_map(|(k, mv)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            match g.get(k) {
                None => Some(here),
                Some(gv) => missing(gv, mv, &here),
            }
        }),
        (Value::Array(g), Value::Array(m)) => m.iter().enumerate().find_map(|(i, mv)| {
            (!g.iter().any(|gv| missing(gv, mv, "").is_none())).then(|| format!("{path}[{i}]"))
        }),
        (g, m) if g == m => None,
        _ => Some(path.to_string()),
    }
}

/// A search Bundle's links: a `self` link, and when `total` says there are
/// more matches than this page holds, a `next` or `previous` link.
fn navigation_links(bundle: &Value) -> (bool, String) {
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return (false, "the source is not a Bundle".into());
    }
    let links: Vec<&str> = bundle
        .get("link")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|l| l.get("relation").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if !links.contains(&"self") {
        return (false, format!("no self link (links: {links:?})"));
    }
    let matches = bundle
        .get("entry")
        .and_then(Value::as_array)
        .map(|e| {
            e.iter()
                .filter(|e| {
                    e.pointer("/search/mode")
                        .and_then(Value::as_str)
                        .unwrap_or("match")
                        == "match"
                })
                .count()
        })
        .unwrap_or(0);
    if let Some(total) = bundle.get("total").and_then(Value::as_u64) {
        if total as usize > matches && !links.contains(&"next") && !links.contains(&"previous") {
            return (
                false,
                format!("total {total} exceeds this page's {matches} matches but there is no next or previous link"),
            );
        }
    }
    (true, format!("links {links:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn operators_compare_as_testscript_says() {
        assert!(compare(&s(&["201"]), "equals", Some("201")).unwrap());
        assert!(!compare(&s(&["200"]), "equals", Some("201")).unwrap());
        assert!(compare(&s(&["204"]), "in", Some("200, 204")).unwrap());
        assert!(!compare(&s(&["404"]), "in", Some("200,204")).unwrap());
        assert!(compare(&s(&["404"]), "notIn", Some("200,204")).unwrap());
        assert!(compare(&s(&["10"]), "greaterThan", Some("9")).unwrap());
        assert!(!compare(&s(&["10"]), "lessThan", Some("9")).unwrap());
        assert!(compare(&s(&[]), "empty", None).unwrap());
        assert!(!compare(&s(&["x"]), "empty", None).unwrap());
        assert!(compare(&s(&["W/\"2\""]), "contains", Some("2")).unwrap());
        assert!(compare(&s(&["a", "b"]), "notEquals", Some("a")).unwrap());
        assert!(compare(&s(&["x"]), "sameAs", Some("x")).is_err());
        assert!(compare(&s(&["x"]), "equals", None).is_err());
    }

    #[test]
    fn minimum_content_is_found_in_arrays_and_objects() {
        let got = json!({"resourceType": "Patient", "name": [{"family": "A"}, {"family": "B", "given": ["C"]}]});
        let min = json!({"resourceType": "Patient", "name": [{"family": "B"}]});
        assert_eq!(missing(&got, &min, ""), None);
        let min = json!({"name": [{"family": "Z"}]});
        assert_eq!(missing(&got, &min, "").as_deref(), Some("name[0]"));
        let min = json!({"birthDate": "2000"});
        assert_eq!(missing(&got, &min, "").as_deref(), Some("birthDate"));
    }

    #[test]
    fn navigation_links_need_self_and_a_way_on() {
        let page = json!({"resourceType": "Bundle", "total": 3,
            "link": [{"relation": "self", "url": "x"}],
            "entry": [{"search": {"mode": "match"}}]});
        assert!(!navigation_links(&page).0);
        let page = json!({"resourceType": "Bundle", "total": 3,
            "link": [{"relation": "self", "url": "x"}, {"relation": "next", "url": "y"}],
            "entry": [{"search": {"mode": "match"}}]});
        assert!(navigation_links(&page).0);
        assert!(!navigation_links(&json!({"resourceType": "Patient"})).0);
    }
}
