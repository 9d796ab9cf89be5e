//! The TestScript runner: runs R4 TestScript resources against any FHIR
//! server and reports the results as FHIR TestReports, JUnit XML and a
//! readable summary (`conformance-tests run`).
//!
//! - [`load`]: finding scripts in files and folders, reading fixtures.
//! - [`model`]: the TestScript elements the runner reads.
//! - [`Runner`]: fixtures, variables, operations and the order of setup,
//!   tests and teardown; assertions are checked by the private `assertion`
//!   module and requests made by the private `client` module.
//! - [`outcome`]: results per action, test and script.
//! - [`report`]: TestReport, JUnit XML, summary.
//!
//! # Example
//! ```no_run
//! use conformance_tests::testscript::{load_suites, write_reports, Runner};
//! let scripts = load_suites(&["conformance-tests/suites".into()]).unwrap();
//! let runner = Runner::new("http://127.0.0.1:8080", Vec::new(), None).unwrap();
//! let results: Vec<_> = scripts.iter().map(|s| runner.run(s, &mut |_| {})).collect();
//! write_reports("reports".as_ref(), &results).unwrap();
//! assert!(results.iter().all(|r| r.passed()));
//! ```

mod assertion;
pub mod client;
pub mod load;
pub mod model;
pub mod outcome;
pub mod report;
mod run;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use load::{load_suites, LoadedScript};
pub use outcome::{ActionResult, ScriptResult, Verdict};
pub use run::Runner;

/// Writes `DIR/<script id>.testreport.json` for each script, then
/// `DIR/junit.xml` and `DIR/summary.txt`; gives the files written.
///
/// # Errors
/// When the folder or a file cannot be written.
pub fn write_reports(dir: &Path, results: &[ScriptResult]) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    let mut write = |name: String, content: String| -> anyhow::Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, content).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    for r in results {
        let report = report::test_report(r);
        let id = report["id"].as_str().unwrap_or("testscript").to_string();
        write(
            format!("{id}.json"),
            serde_json::to_string_pretty(&report)? + "\n",
        )?;
    }
    write("junit.xml".into(), report::junit(results))?;
    write("summary.txt".into(), report::summary(results))?;
    Ok(written)
}
