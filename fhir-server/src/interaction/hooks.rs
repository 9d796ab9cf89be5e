//! What modules add to every write: the write pipeline's hooks.
//!
//! The pipeline ([`Tx`]) knows no resource type and no workflow. A module
//! that must check, complete or follow writes (the referral's state
//! machine, who may record consent, the subscription outbox, a death
//! ending caring) implements [`WriteHook`], and `crate::write_hooks` lists
//! them for [`AppState`](super::AppState). Every create and update by a
//! caller, in or out of a transaction, passes [`WriteHook::before_write`];
//! a change by a caller that is not the record's source passes only when
//! a hook's [`WriteHook::permits_non_source`] says so; every deletion
//! [`WriteHook::after_delete`]; every commit [`WriteHook::before_commit`]
//! (in the same database transaction).
//!
//! ```
//! use fhir_server::interaction::hooks::WriteHook;
//! struct Nothing;
//! impl WriteHook for Nothing {}
//! let _: &dyn WriteHook = &Nothing;
//! ```

use serde_json::Value;

use super::pipeline::Tx;
use super::Failure;

/// A version about to be written by a caller.
#[derive(Debug)]
pub struct Write<'a> {
    /// Its type.
    pub resource_type: &'a str,
    /// Its id.
    pub id: &'a str,
    /// The resource (a hook may complete it: a Subscription's status).
    pub resource: &'a mut Value,
    /// The current version the caller replaces, when there is one it may
    /// see (None for a new record, or a re-created deletion).
    pub previous: Option<&'a Value>,
}

/// One module's part in every write. Every method has a default that does
/// nothing (and permits nothing).
#[async_trait::async_trait]
pub trait WriteHook: Send + Sync {
    /// Checks (and may complete) a version a caller is about to write.
    ///
    /// # Errors
    /// The refusal (403, 422, …): the write, and its transaction, fail.
    async fn before_write(&self, tx: &mut Tx, write: &mut Write<'_>) -> Result<(), Failure> {
        let _ = (tx, write);
        Ok(())
    }

    /// Whether a caller that is not the source of `previous` may replace
    /// it with `new` (None: delete it). Rule W1 refuses unless one hook
    /// permits.
    ///
    /// # Errors
    /// A database failure.
    async fn permits_non_source(
        &self,
        tx: &mut Tx,
        previous: &Value,
        new: Option<&Value>,
    ) -> Result<bool, Failure> {
        let _ = (tx, previous, new);
        Ok(false)
    }

    /// Follows a deletion.
    ///
    /// # Errors
    /// A database failure.
    async fn after_delete(
        &self,
        tx: &mut Tx,
        resource_type: &str,
        id: &str,
    ) -> Result<(), Failure> {
        let _ = (tx, resource_type, id);
        Ok(())
    }

    /// Runs before the transaction commits, with all its changes
    /// ([`Tx::changes`]): what it writes commits with them or not at all.
    ///
    /// # Errors
    /// The transaction fails with it.
    async fn before_commit(&self, tx: &mut Tx) -> Result<(), Failure> {
        let _ = tx;
        Ok(())
    }
}
