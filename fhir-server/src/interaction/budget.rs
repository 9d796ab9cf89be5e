//! The memory a request may take, counted as the stored JSON text it
//! brings into its answer (and the body it sent), before the resources
//! are parsed: a request over its own budget is refused (400
//! `too-costly`, the client can ask for less), and requests together over
//! the server's budget are refused at once (503 `transient`, retry).
//! Without it one batch of searches could take gigabytes.
//!
//! Each HTTP request runs in a [`scope`]; the places that turn stored
//! text into answers call [`charge`] first (search pages and their
//! includes, histories, batch entries run inside their batch's scope so
//! they add up). What a scope charged goes back to the server's pool when
//! it ends. Outside a scope (the CLI, tests of one interaction) nothing
//! is counted.
//!
//! ```
//! use fhir_server::interaction::budget;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let refused = budget::scope(async { budget::charge(budget::PER_REQUEST + 1) }).await;
//! assert!(refused.is_err());
//! assert!(budget::charge(usize::MAX).is_ok()); // no scope: not counted
//! # });
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Failure, FailureKind};

/// The stored JSON text one request may bring into its answer (parsed, a
/// resource takes a few times its text in memory).
pub const PER_REQUEST: usize = 48 * 1024 * 1024;

/// The stored JSON text all requests together may hold at once.
pub const PER_SERVER: usize = 160 * 1024 * 1024;

/// What the requests in flight hold, together.
static HELD: AtomicUsize = AtomicUsize::new(0);

tokio::task_local! {
    static CHARGED: AtomicUsize;
}

/// Charged to a request that went over its budget: nothing more fits.
const SPENT: usize = usize::MAX / 2;

/// The refusal of a request over its budget.
fn too_costly() -> Failure {
    Failure::new(
        FailureKind::Invalid,
        "too-costly",
        format!(
            "this request would answer more than the {} MB of resources one request may; ask for less (a smaller _count, fewer entries in a batch, fewer includes) or page through",
            PER_REQUEST / (1024 * 1024)
        ),
    )
}

/// Whether the current request has gone over its budget already (its
/// remaining work is refused at once).
///
/// # Errors
/// 400 `too-costly` when it has.
pub fn check() -> Result<(), Failure> {
    match CHARGED.try_with(|c| c.load(Ordering::Relaxed)) {
        Ok(charged) if charged >= SPENT => Err(too_costly()),
        _ => Ok(()),
    }
}

/// Runs `f` as one request with its own budget; what it charged is given
/// back when it ends (also when it fails or is abandoned).
pub async fn scope<F: Future>(f: F) -> F::Output {
    struct GiveBack;
    impl Drop for GiveBack {
        fn drop(&mut self) {
            let charged = CHARGED.try_with(|c| c.load(Ordering::Relaxed)).unwrap_or(0);
            // A spent request's mark was never in the pool: what it held
            // before is what is given back.
            let held = if charged >= SPENT {
                charged - SPENT
            } else {
                charged
            };
            HELD.fetch_sub(held, Ordering::Relaxed);
        }
    }
    CHARGED
        .scope(AtomicUsize::new(0), async move {
            let _give_back = GiveBack;
            f.await
        })
        .await
}

/// Counts `bytes` more against the request's budget and the server's.
///
/// # Errors
/// 400 `too-costly` when the request would go over its budget; 503
/// `transient` when the requests in flight together would go over the
/// server's.
pub fn charge(bytes: usize) -> Result<(), Failure> {
    let Ok(before) = CHARGED.try_with(|c| c.load(Ordering::Relaxed)) else {
        return Ok(());
    };
    if before >= SPENT {
        return Err(too_costly());
    }
    if before.saturating_add(bytes) > PER_REQUEST {
        // Marked spent (the mark is not in the server's pool), so that
        // what is left of the request (a batch's next entries) is refused
        // before it does the work.
        let _ = CHARGED.try_with(|c| c.fetch_add(SPENT, Ordering::Relaxed));
        return Err(too_costly());
    }
    let held = HELD
        .fetch_add(bytes, Ordering::Relaxed)
        .saturating_add(bytes);
    if held > PER_SERVER {
        HELD.fetch_sub(bytes, Ordering::Relaxed);
        return Err(Failure::new(
            FailureKind::Unavailable,
            "transient",
            "the server is answering as many large requests as its memory allows; retry shortly",
        ));
    }
    let _ = CHARGED.try_with(|c| c.fetch_add(bytes, Ordering::Relaxed));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the server's pool is shared, and tests run side by side.
    #[tokio::test]
    async fn a_request_over_its_budget_is_400_and_requests_over_the_servers_503() {
        a_scope_adds_up_its_charges_and_gives_them_back().await;
        requests_together_over_the_servers_budget_are_refused_503().await;
    }

    async fn requests_together_over_the_servers_budget_are_refused_503() {
        let n = PER_SERVER / (PER_REQUEST - 1) + 1;
        let (hold, release) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for _ in 0..n {
            let mut release = release.clone();
            tasks.push(tokio::spawn(scope(async move {
                let r = charge(PER_REQUEST - 1);
                let _ = release.wait_for(|go| *go).await;
                r
            })));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let _ = hold.send(true);
        let mut refused = 0;
        for t in tasks {
            if let Err(f) = t.await.unwrap() {
                assert_eq!(f.kind, FailureKind::Unavailable);
                refused += 1;
            }
        }
        assert!(
            refused >= 1,
            "{n} requests of nearly a whole budget each: none refused"
        );
    }

    async fn a_scope_adds_up_its_charges_and_gives_them_back() {
        let before = HELD.load(Ordering::Relaxed);
        let r = scope(async {
            charge(PER_REQUEST / 2)?;
            assert!(HELD.load(Ordering::Relaxed) >= before + PER_REQUEST / 2);
            charge(PER_REQUEST / 2)?;
            assert!(check().is_ok());
            let over = charge(1);
            assert!(check().is_err(), "spent: what is left is refused");
            assert!(charge(0).is_err());
            over
        })
        .await;
        let f = r.unwrap_err();
        assert_eq!(f.kind, FailureKind::Invalid);
        assert_eq!(f.outcome["issue"][0]["code"], "too-costly");
        // Given back (other tests may hold some at the same time, never
        // this much).
        assert!(HELD.load(Ordering::Relaxed) < before + PER_REQUEST / 2);
    }
}
