//! The durable store: one SQLite file (`pasokh.db`) in the data folder, reached through sqlx.
//!
//! Why this shape: the engine core never waits on the database. It emits records; the driver
//! hands them to [`CallWriter`], which group-commits them (one fsync per batch, not per call).
//! The file is opened in WAL mode with `synchronous=FULL`, so whatever a commit acknowledged
//! survives a power cut, and with a busy timeout, because the CLI (`pasokh agent add`) writes to
//! the same file while the engine runs. Every error names the database file, so an operator
//! reading the log knows which disk is full or which file is damaged; nothing here panics.
//!
//! Queries are plain `sqlx::query` with binds (no compile-time checked macros), so building the
//! crate never needs a live database. The schema lives in `migrations/sqlite`, embedded in the
//! binary and applied on open.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod acd_state;
mod agents;
mod audit;
mod calls;
pub mod case_import;
mod cases;
mod filing;
mod mailboxes;
pub(crate) mod messages;
mod outbox;
pub(crate) mod tokens;
mod write_tx;
mod writer;

#[cfg(test)]
pub(crate) mod test_support;

pub(crate) use agents::check_name;
pub use agents::AgentRow;
pub use audit::{AuditEntry, AuditRow};
pub use mailboxes::{
    check_mailbox, ManagerRow, ReplyOutcome, Screening, ScreeningOutcome, Secret, REJECT_REASONS,
};
pub use messages::{is_report, MessageCursor, MessageFilter, MessageRow, MessageUpdate};
pub use outbox::{reply_notice, sms_recipient, OutboxRow, MAX_ATTEMPTS};
pub use tokens::{InvalidRole, Role, TokenRow};
pub use writer::{CallWriter, WriterCounters};

/// File name of the database inside the data folder.
pub const DATABASE_FILE: &str = "pasokh.db";

/// How long a write waits for another process (the CLI) to release the file before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections per process: WAL lets readers (the web API) run beside the one writer.
const MAX_CONNECTIONS: u32 = 4;

/// Connections kept for callers' lookups (a case number, a tracking code) apart from the
/// others: under a slow disk every shared connection can sit waiting for the write lock behind a
/// seconds-long commit, and a caller who has just keyed a number would hear silence meanwhile.
/// In WAL mode a reader never waits for the writer, so these answer at once.
const CALLER_READ_CONNECTIONS: u32 = 2;

/// What went wrong, always with the database file it concerns.
#[derive(Debug)]
pub enum StoreError {
    /// The folder or file could not be created, opened or migrated.
    Open { path: PathBuf, detail: String },
    /// A statement failed: disk full, file locked past the busy timeout, damaged file...
    Database {
        path: PathBuf,
        action: &'static str,
        source: sqlx::Error,
    },
    /// Input refused before it reached the database (empty agent id, bad queue name...).
    Invalid(String),
    /// The operating system's random source failed (tokens cannot be made safely).
    Random(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open { path, detail } => {
                write!(f, "cannot open database {}: {detail}", path.display())
            }
            Self::Database {
                path,
                action,
                source,
            } => write!(f, "database {}: cannot {action}: {source}", path.display()),
            Self::Invalid(reason) => write!(f, "invalid input: {reason}"),
            Self::Random(reason) => write!(f, "no randomness from the operating system: {reason}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Database { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A handle on the database; cheap to clone (a connection pool and the file name).
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Reserved for reads a caller waits on (`for_callers`).
    caller_reads: SqlitePool,
    path: Arc<PathBuf>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) `data_dir/pasokh.db` and brings its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        let open_error = |detail: String| StoreError::Open {
            path: path.clone(),
            detail,
        };
        tokio::fs::create_dir_all(data_dir).await.map_err(|error| {
            open_error(format!(
                "cannot create folder {}: {error}",
                data_dir.display()
            ))
        })?;
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options.clone())
            .await
            .map_err(|error| open_error(error.to_string()))?;
        if let Err(error) = sqlx::migrate!("migrations/sqlite").run(&pool).await {
            pool.close().await;
            return Err(open_error(format!("cannot apply schema: {error}")));
        }
        // Opened after the schema is in place; lazily, so an idle engine holds no extra file.
        let caller_reads = SqlitePoolOptions::new()
            .max_connections(CALLER_READ_CONNECTIONS)
            .connect_lazy_with(options);
        Ok(Store {
            pool,
            caller_reads,
            path: Arc::new(path),
        })
    }

    /// The same store on the connections reserved for reads a caller is waiting on: a lookup
    /// through it never queues behind writes for a connection. Only for reads; writes belong on
    /// the shared connections.
    pub fn for_callers(&self) -> Store {
        Store {
            pool: self.caller_reads.clone(),
            caller_reads: self.caller_reads.clone(),
            path: Arc::clone(&self.path),
        }
    }

    /// The database file this store writes to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection (waits for queries in flight); later calls fail with an error.
    pub async fn close(&self) {
        self.pool.close().await;
        self.caller_reads.close().await;
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Wraps a failed statement with the file name and what was being done.
    pub(crate) fn error(&self, action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        let path = PathBuf::clone(&self.path);
        move |source| StoreError::Database {
            path,
            action,
            source,
        }
    }
}

/// Wall-clock time for `created_at` columns. The store is a driver, so it may read the clock;
/// call times, by contrast, come from the engine inside each record.
pub fn unix_ms_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests;
