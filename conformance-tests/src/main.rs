//! The `conformance-tests` command (runners to come).

fn main() -> std::process::ExitCode {
    eprintln!("conformance-tests: the `run` and `validator-suite` runners are not implemented yet");
    std::process::ExitCode::from(1)
}
