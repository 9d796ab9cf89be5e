//! The `carer-fhir` command: a thin shim over [`fhir_server::cli`].

fn main() -> std::process::ExitCode {
    fhir_server::cli::main()
}
