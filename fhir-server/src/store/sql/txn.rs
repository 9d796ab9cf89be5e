//! A write transaction's connection, and the one rule that keeps
//! acknowledgements true: a connection whose transaction did not commit
//! cleanly never carries the next write.
//!
//! sqlx's own `Transaction` counts how deep it is in a transaction by what
//! it asked for, not by what the database did. When SQLite fails a
//! statement or a `COMMIT` with a storage error (disk full, I/O error, a
//! file gone read-only) it may roll the transaction back by itself, or
//! keep it open; the count and the database then disagree, and the next
//! "transaction" on that connection became a savepoint inside one that
//! is never committed: answered `201`, never stored, and the file left
//! locked. So the SQL store writes through [`WriteTx`], which says
//! `BEGIN` and `COMMIT` itself and, when anything goes wrong, rolls back
//! and, failing that, closes the connection, so that the pool opens a
//! fresh one for the next writer.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};

use super::{Dialect, SqlStore, StoreError};

/// An open write transaction on the writers' connection (and, on SQLite,
/// the writers' turn, held until it ends). Derefs to the connection, so
/// statements run as `query.execute(&mut *tx)`.
pub struct WriteTx {
    conn: Option<PoolConnection<Any>>,
    turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl SqlStore {
    /// SQLite's writers' turn (this process's writers queue here rather
    /// than in SQLite's busy handler); none on PostgreSQL.
    pub(super) async fn writers_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.dialect {
            Dialect::Sqlite => Some(self.writers.clone().lock_owned().await),
            Dialect::Postgres => None,
        }
    }

    /// A write transaction: SQLite's writers' turn taken, then its write
    /// lock at once (`BEGIN IMMEDIATE`), so that a writer of another
    /// process queues (busy timeout) instead of one failing when it
    /// upgrades from reading.
    ///
    /// # Errors
    /// When no connection can be had or `BEGIN` fails (the connection is
    /// closed then).
    pub(super) async fn write_tx(&self) -> Result<WriteTx, StoreError> {
        let turn = self.writers_turn().await;
        let conn = self.write_pool.acquire().await?;
        let begin = match self.dialect {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        };
        // The connection is in the WriteTx before BEGIN is sent: if this
        // future is dropped while BEGIN runs (a request abandoned), Drop
        // still rolls back or closes it.
        let mut tx = WriteTx {
            conn: Some(conn),
            turn,
        };
        sqlx::query(begin).execute(&mut *tx).await?;
        Ok(tx)
    }
}

impl WriteTx {
    /// Commits. On failure nothing of the transaction stays (the
    /// connection that held it is closed) and the error is returned: the
    /// caller must not acknowledge the write.
    ///
    /// # Errors
    /// When the database does not commit.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        // COMMIT runs with the connection still held here, so that a
        // commit abandoned half-way is cleaned up by Drop.
        let done = sqlx::query("COMMIT").execute(&mut *self).await;
        let conn = self.conn.take().expect("an open transaction");
        let turn = self.turn.take();
        if let Err(e) = done {
            close(conn).await;
            drop(turn);
            return Err(e.into());
        }
        drop(conn);
        drop(turn);
        Ok(())
    }
}

/// Rolls back (the connection goes back to the pool clean) or, when even
/// that fails, closes the connection, which ends whatever transaction it
/// held.
async fn discard(mut conn: PoolConnection<Any>) {
    if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
        let _ = conn.close().await;
    }
}

/// Closes the connection: SQLite and PostgreSQL both end an open
/// transaction that way. Used after a failure whose state is unknown
/// (a failed `COMMIT` may or may not have ended the transaction).
pub(super) async fn close(conn: PoolConnection<Any>) {
    let _ = conn.close().await;
}

impl Drop for WriteTx {
    /// A transaction dropped uncommitted (an error on the way, a request
    /// cancelled) is rolled back before its connection serves another
    /// writer: the writers' turn and the connection are held until then.
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let turn = self.turn.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    discard(conn).await;
                    drop(turn);
                });
            }
            // No runtime left to roll back on: closing ends the
            // transaction just as well.
            Err(_) => drop(conn.detach()),
        }
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        self.conn.as_deref().expect("an open transaction")
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn.as_deref_mut().expect("an open transaction")
    }
}
