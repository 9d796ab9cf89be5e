//! The `carer-fhir` command: a thin shim over [`fhir_server::cli`].

/// jemalloc, set to give memory back to the system after a peak: glibc's
/// allocator keeps what a heavy request took in per-thread arenas for the
/// life of the process (RSS stayed at its peak), while jemalloc's
/// background thread returns pages unused for about a second.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its start (the `_rjem_` prefix is the
/// crate's): purge unused pages after a second, by a background thread.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:1000\0";

fn main() -> std::process::ExitCode {
    fhir_server::cli::main()
}
