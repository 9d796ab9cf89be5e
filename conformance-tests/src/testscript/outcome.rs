//! What running a TestScript produced: a result per action, per test and
//! per script, from which the TestReport, the JUnit file and the summary
//! are written.

use std::path::PathBuf;
use std::time::Duration;

/// The result of one action (the codes of TestReport's
/// `report-action-result-codes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done, and as expected.
    Pass,
    /// Not as expected.
    Fail,
    /// Not as expected, but the assertion is `warningOnly`.
    Warning,
    /// Not run, because something before it failed.
    Skip,
    /// Could not be run (bad script, server unreachable).
    Error,
}

impl Verdict {
    /// The TestReport code.
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Warning => "warning",
            Verdict::Skip => "skip",
            Verdict::Error => "error",
        }
    }

    /// Whether this counts against the script.
    pub fn is_failure(self) -> bool {
        matches!(self, Verdict::Fail | Verdict::Error)
    }
}

/// Operation or assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// A request.
    Operation,
    /// A check.
    Assert,
}

/// The result of one action.
#[derive(Debug, Clone)]
pub struct ActionResult {
    /// Operation or assertion.
    pub kind: ActionKind,
    /// What the action is (its label, description, or a generated one).
    pub title: String,
    /// The result.
    pub verdict: Verdict,
    /// What happened (for a failure, what was expected and what came).
    pub message: String,
    /// The request line (`GET http://…`) of an operation, or of the
    /// response a failed assertion looked at.
    pub request: Option<String>,
    /// An excerpt of that response (status and body start) for failures.
    pub response: Option<String>,
}

/// The result of one test.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its actions' results.
    pub actions: Vec<ActionResult>,
    /// How long it took.
    pub elapsed: Duration,
}

impl TestResult {
    /// Passed: no action failed.
    pub fn passed(&self) -> bool {
        !self.actions.iter().any(|a| a.verdict.is_failure())
    }

    /// Skipped as a whole (setup failed).
    pub fn skipped(&self) -> bool {
        !self.actions.is_empty() && self.actions.iter().all(|a| a.verdict == Verdict::Skip)
    }
}

/// The result of one script.
#[derive(Debug, Clone)]
pub struct ScriptResult {
    /// The script's name.
    pub name: String,
    /// Its id (for the TestReport).
    pub id: String,
    /// Its canonical URL, if it has one.
    pub url: Option<String>,
    /// Where it was read from.
    pub path: PathBuf,
    /// The server it ran against.
    pub server: String,
    /// When it started (RFC 3339).
    pub started: String,
    /// Fixture creation and setup actions.
    pub setup: Vec<ActionResult>,
    /// The tests.
    pub tests: Vec<TestResult>,
    /// Teardown actions and fixture deletion.
    pub teardown: Vec<ActionResult>,
    /// How long it took.
    pub elapsed: Duration,
}

impl ScriptResult {
    /// Every action's result, in order.
    pub fn actions(&self) -> impl Iterator<Item = &ActionResult> {
        self.setup
            .iter()
            .chain(self.tests.iter().flat_map(|t| &t.actions))
            .chain(&self.teardown)
    }

    /// Passed: no action failed anywhere.
    pub fn passed(&self) -> bool {
        !self.actions().any(|a| a.verdict.is_failure())
    }

    /// Counts of assertions by verdict: (pass, fail or error, warning, skip).
    pub fn assertion_counts(&self) -> Counts {
        let mut c = Counts::default();
        for a in self.actions().filter(|a| a.kind == ActionKind::Assert) {
            match a.verdict {
                Verdict::Pass => c.passed += 1,
                Verdict::Fail | Verdict::Error => c.failed += 1,
                Verdict::Warning => c.warnings += 1,
                Verdict::Skip => c.skipped += 1,
            }
        }
        c
    }
}

/// Assertion counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed (or could not be evaluated).
    pub failed: usize,
    /// Failed but warning only.
    pub warnings: usize,
    /// Not evaluated.
    pub skipped: usize,
}

impl Counts {
    /// All assertions.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.warnings + self.skipped
    }
}
