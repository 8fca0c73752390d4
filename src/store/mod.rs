//! The SQLite store: every execution, step attempt, metric sample, event and dead
//! letter, written as it happens. The only module that touches SQLite.

mod durability;
mod migrate;
mod queries;
mod schema;
mod triggers;

pub use durability::{CancelRequest, StepRecord};
pub use queries::*;

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default database file, in the working directory.
pub const DEFAULT_PATH: &str = "wfc.db";

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database `{path}`: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the database `{path}` has schema version {found}, newer than this wfc understands ({known}); upgrade wfc")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("no execution matches `{0}`")]
    NoSuchExecution(String),
    #[error("`{prefix}` matches several executions ({}); give more of the id", list_candidates(.candidates))]
    AmbiguousExecution {
        prefix: String,
        /// The newest few that match (more than five are cut to five and `…`).
        candidates: Vec<String>,
    },
    #[error("`{0}` is too short to name an execution: give at least {MIN_ID_PREFIX} characters of its id")]
    ShortId(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

fn list_candidates(candidates: &[String]) -> String {
    let mut shown: Vec<&str> = candidates.iter().take(5).map(String::as_str).collect();
    if candidates.len() > 5 {
        shown.push("…");
    }
    shown.join(", ")
}

/// One open database. Not shared between threads: the runtime wraps it in a mutex,
/// and each write is short.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating and migrating on first use) the database at `path`, in WAL
    /// mode with a busy timeout, so several wfc processes can share it.
    pub fn open(path: &Path) -> Result<Store> {
        let open_error = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        // Switching a new file to WAL needs an exclusive lock and SQLite does not
        // wait for it through the busy timeout: two processes creating the same
        // database at once would see "database is locked". Retry until the timeout.
        when_not_busy(|| conn.pragma_update(None, "journal_mode", "WAL")).map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_error)?;
        migrate::to_latest(&mut conn, path)?;
        Ok(Store { conn })
    }

    /// A private in-memory database, for tests and benchmarks.
    pub fn in_memory() -> Result<Store> {
        let mut conn = Connection::open_in_memory()?;
        migrate::to_latest(&mut conn, Path::new(":memory:"))?;
        Ok(Store { conn })
    }

    /// The schema version this database is at.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }
}

/// Runs `operation` again while SQLite answers "busy" or "locked", up to
/// [`BUSY_TIMEOUT`].
fn when_not_busy<T>(mut operation: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let started = std::time::Instant::now();
    loop {
        match operation() {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if matches!(
                    error.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return result,
        }
    }
}
