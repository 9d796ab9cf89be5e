//! Writing results: a FHIR TestReport per script, one JUnit XML file for
//! CI systems, and a summary a person reads.

use std::fmt::Write as _;

use quick_xml::escape::escape;
use serde_json::{json, Value};

use super::outcome::{ActionKind, ActionResult, Counts, ScriptResult, Verdict};

/// Who ran the tests (TestReport.tester, the JUnit suite name).
pub const TESTER: &str = "carer-fhir conformance-tests";

/// The FHIR TestReport of one script's run.
///
/// `result` is `pass` when no action failed; `score` is the percentage of
/// tests that passed.
pub fn test_report(r: &ScriptResult) -> Value {
    let passed = r.tests.iter().filter(|t| t.passed()).count();
    let score = if r.tests.is_empty() {
        if r.passed() {
            100.0
        } else {
            0.0
        }
    } else {
        (1000.0 * passed as f64 / r.tests.len() as f64).round() / 10.0
    };
    let mut report = json!({
        "resourceType": "TestReport",
        "id": report_id(&r.id),
        "name": r.name,
        "status": "completed",
        "testScript": match &r.url {
            Some(url) => json!({"reference": url, "display": r.name}),
            None => json!({"reference": format!("TestScript/{}", r.id), "display": r.name}),
        },
        "text": {
            "status": "generated",
            "div": format!(
                "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{}: <b>{}</b>, {passed} of {} tests passed, against {}.</p></div>",
                escape(&r.name),
                if r.passed() { "pass" } else { "fail" },
                r.tests.len(),
                escape(&r.server)
            ),
        },
        "result": if r.passed() { "pass" } else { "fail" },
        "score": score,
        "tester": TESTER,
        "issued": r.started,
        "participant": [
            {"type": "test-engine", "uri": "https://fhir.carer-fhir.uk/conformance-tests", "display": TESTER},
            {"type": "server", "uri": r.server},
        ],
    });
    if !r.setup.is_empty() {
        report["setup"] = json!({"action": r.setup.iter().map(action).collect::<Vec<_>>()});
    }
    let tests: Vec<Value> = r
        .tests
        .iter()
        .filter(|t| !t.actions.is_empty())
        .map(|t| {
            let mut v =
                json!({"name": t.name, "action": t.actions.iter().map(action).collect::<Vec<_>>()});
            if let Some(d) = t.description.as_deref().filter(|d| !d.trim().is_empty()) {
                v["description"] = json!(d);
            }
            v
        })
        .collect();
    if !tests.is_empty() {
        report["test"] = json!(tests);
    }
    // TestReport.teardown.action holds operations only.
    let teardown: Vec<Value> = r
        .teardown
        .iter()
        .filter(|a| a.kind == ActionKind::Operation)
        .map(|a| json!({"operation": action_body(a)}))
        .collect();
    if !teardown.is_empty() {
        report["teardown"] = json!({"action": teardown});
    }
    report
}

/// A TestReport id from a script id: the id's characters FHIR allows, at
/// most 64.
fn report_id(script_id: &str) -> String {
    let mut id: String = script_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    id.truncate(57);
    format!("{id}-report")
}

fn action(a: &ActionResult) -> Value {
    match a.kind {
        ActionKind::Operation => json!({"operation": action_body(a)}),
        ActionKind::Assert => json!({"assert": action_body(a)}),
    }
}

fn action_body(a: &ActionResult) -> Value {
    // Operation results have no `warning` code.
    let code = match (a.kind, a.verdict) {
        (ActionKind::Operation, Verdict::Warning) => "pass",
        (_, v) => v.code(),
    };
    let mut message = format!("{}: {}", a.title, a.message);
    if let Some(r) = &a.response {
        if a.verdict != Verdict::Pass {
            let _ = write!(message, "\n\nResponse: {r}");
        }
    }
    json!({"result": code, "message": message})
}

/// The JUnit XML of a run: a `testsuite` per script, a `testcase` per test
/// (and for setup and teardown when they fail).
pub fn junit(results: &[ScriptResult]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let tests: usize = results.iter().map(cases).sum();
    let failures: usize = results.iter().map(failed_cases).sum();
    let seconds: f64 = results.iter().map(|r| r.elapsed.as_secs_f64()).sum();
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" time=\"{seconds:.3}\">",
        TESTER
    );
    for r in results {
        let skipped = r.tests.iter().filter(|t| t.skipped()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\" timestamp=\"{}\">",
            escape(&r.name),
            cases(r),
            failed_cases(r),
            r.elapsed.as_secs_f64(),
            escape(&r.started)
        );
        if r.setup.iter().any(|a| a.verdict.is_failure()) {
            case(&mut out, &r.name, "setup", 0.0, &r.setup);
        }
        for t in &r.tests {
            case(
                &mut out,
                &r.name,
                &t.name,
                t.elapsed.as_secs_f64(),
                &t.actions,
            );
        }
        if r.teardown.iter().any(|a| a.verdict.is_failure()) {
            case(&mut out, &r.name, "teardown", 0.0, &r.teardown);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn cases(r: &ScriptResult) -> usize {
    r.tests.len()
        + usize::from(r.setup.iter().any(|a| a.verdict.is_failure()))
        + usize::from(r.teardown.iter().any(|a| a.verdict.is_failure()))
}

fn failed_cases(r: &ScriptResult) -> usize {
    r.tests.iter().filter(|t| !t.passed()).count()
        + usize::from(r.setup.iter().any(|a| a.verdict.is_failure()))
        + usize::from(r.teardown.iter().any(|a| a.verdict.is_failure()))
}

fn case(out: &mut String, suite: &str, name: &str, seconds: f64, actions: &[ActionResult]) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{seconds:.3}\"",
        escape(suite),
        escape(name)
    );
    if let Some(f) = actions.iter().find(|a| a.verdict.is_failure()) {
        let mut detail = String::new();
        if let Some(r) = &f.request {
            let _ = writeln!(detail, "request:  {r}");
        }
        if let Some(r) = &f.response {
            let _ = writeln!(detail, "response: {r}");
        }
        let _ = write!(
            out,
            ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
            escape(format!("{}: {}", f.title, f.message)),
            f.verdict.code(),
            escape(&detail)
        );
    } else if !actions.is_empty() && actions.iter().all(|a| a.verdict == Verdict::Skip) {
        out.push_str(">\n      <skipped message=\"setup failed\"/>\n    </testcase>\n");
    } else {
        out.push_str("/>\n");
    }
}

/// A readable summary: each script, each test with its actions, failures
/// with the request and the start of the response, and the totals.
pub fn summary(results: &[ScriptResult]) -> String {
    let mut out = String::new();
    let mut total = Counts::default();
    let (mut tests, mut tests_passed) = (0, 0);
    for r in results {
        let counts = r.assertion_counts();
        total.passed += counts.passed;
        total.failed += counts.failed;
        total.warnings += counts.warnings;
        total.skipped += counts.skipped;
        tests += r.tests.len();
        tests_passed += r.tests.iter().filter(|t| t.passed()).count();
        let _ = writeln!(
            out,
            "{} {} ({})",
            if r.passed() { "PASS" } else { "FAIL" },
            r.name,
            r.path.display()
        );
        if !r.setup.is_empty() {
            out.push_str("  setup\n");
            actions(&mut out, &r.setup);
        }
        for t in &r.tests {
            let _ = writeln!(
                out,
                "  {} test: {}",
                if t.passed() { "ok  " } else { "FAIL" },
                t.name
            );
            actions(&mut out, &t.actions);
        }
        if !r.teardown.is_empty() {
            out.push_str("  teardown\n");
            actions(&mut out, &r.teardown);
        }
        let _ = writeln!(
            out,
            "  {} of {} tests passed; assertions: {} passed, {} failed, {} warnings, {} skipped\n",
            r.tests.iter().filter(|t| t.passed()).count(),
            r.tests.len(),
            counts.passed,
            counts.failed,
            counts.warnings,
            counts.skipped
        );
    }
    let scripts_passed = results.iter().filter(|r| r.passed()).count();
    let _ = writeln!(
        out,
        "{scripts_passed} of {} scripts passed, {tests_passed} of {tests} tests; {} assertions: {} passed, {} failed, {} warnings, {} skipped",
        results.len(),
        total.total(),
        total.passed,
        total.failed,
        total.warnings,
        total.skipped
    );
    out
}

fn actions(out: &mut String, actions: &[ActionResult]) {
    for a in actions {
        let mark = match a.verdict {
            Verdict::Pass => "ok  ",
            Verdict::Fail => "FAIL",
            Verdict::Warning => "warn",
            Verdict::Skip => "skip",
            Verdict::Error => "ERR ",
        };
        let what = match a.kind {
            ActionKind::Operation => "operation",
            ActionKind::Assert => "assert",
        };
        let _ = writeln!(out, "      {mark} {what}: {}", a.title);
        if a.verdict != Verdict::Pass && a.verdict != Verdict::Skip
            || a.kind == ActionKind::Operation && a.verdict == Verdict::Pass
        {
            let _ = writeln!(out, "           {}", a.message);
        }
        if a.verdict.is_failure() || a.verdict == Verdict::Warning {
            if let (ActionKind::Assert, Some(r)) = (a.kind, &a.request) {
                let _ = writeln!(out, "           request:  {r}");
            }
            if let Some(r) = &a.response {
                let _ = writeln!(out, "           response: {r}");
            }
        }
    }
}
