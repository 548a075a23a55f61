//! A write transaction that cannot outlive its own failure.
//!
//! Why not sqlx's `Transaction`: it keeps its own count of how deep a connection is in
//! transactions and trusts it over SQLite. When a statement or a `COMMIT` fails with "database or
//! disk is full" (or an I/O error), SQLite may already have rolled the transaction back by itself,
//! or may still hold it open; sqlx's rollback-on-drop can then fail and leave the count wrong.
//! The connection goes back to the pool believing it is inside a transaction, the next `begin`
//! becomes a `SAVEPOINT` inside a transaction that is still open, its "commit" releases the
//! savepoint and commits nothing, and that connection keeps the write lock: the caller hears
//! "saved", nobody else sees the row, every other writer gets "database is locked", and a restart
//! loses it.
//!
//! So a write here is `BEGIN IMMEDIATE` … `COMMIT` issued by us, and a connection on which
//! anything failed is never given back: it is detached from the pool and closed, and closing a
//! SQLite connection rolls back whatever it still held. A `COMMIT` that returned `Ok` is durable
//! (WAL, `synchronous=FULL`) and visible to every other connection.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection};

use super::{Store, StoreError};

/// An open write transaction on one pooled connection. Dropped without [`WriteTx::commit`]
/// (an error, a cancelled future), it closes its connection, which rolls the transaction back.
pub(crate) struct WriteTx {
    connection: Option<PoolConnection<Sqlite>>,
}

impl Store {
    /// Starts a write transaction; `action` names it in the error ("start filing messages").
    /// `IMMEDIATE` takes the write lock now, so a busy file is met here (after the busy timeout)
    /// rather than half-way through the writes.
    pub(crate) async fn begin_write(&self, action: &'static str) -> Result<WriteTx, StoreError> {
        let mut connection = self.pool().acquire().await.map_err(self.error(action))?;
        match sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *connection)
            .await
        {
            Ok(_) => Ok(WriteTx {
                connection: Some(connection),
            }),
            Err(error) => {
                discard(connection);
                Err(self.error(action)(error))
            }
        }
    }
}

impl WriteTx {
    /// Commits; `Ok` means the writes are on disk and seen by every connection. On an error the
    /// connection is closed (rolling back), never reused.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let Some(mut connection) = self.connection.take() else {
            return Err(sqlx::Error::PoolClosed);
        };
        match sqlx::query("COMMIT").execute(&mut *connection).await {
            Ok(_) => Ok(()),
            Err(error) => {
                discard(connection);
                Err(error)
            }
        }
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        match &self.connection {
            Some(connection) => connection,
            // `commit` consumes the transaction, so a live one always has its connection.
            None => unreachable!("a WriteTx is used only before commit"),
        }
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match &mut self.connection {
            Some(connection) => connection,
            None => unreachable!("a WriteTx is used only before commit"),
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            discard(connection);
        }
    }
}

/// Takes a connection out of the pool for good and closes it: whatever transaction SQLite still
/// held on it is rolled back and its lock released. The pool opens a fresh one when needed.
fn discard(connection: PoolConnection<Sqlite>) {
    drop(connection.detach());
}
