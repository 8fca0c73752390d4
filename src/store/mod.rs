//! The store: every execution, step attempt, metric sample, event and dead
//! letter, written as it happens, in SQLite (the embedded default) or PostgreSQL
//! (shared by many workers). The only module that touches either.

mod alerts;
mod assignments;
mod backup;
mod capacity;
mod checkpoint;
mod copy;
pub(crate) mod db;
mod durability;
mod figures;
mod migrate;
mod postgres;
mod queries;
mod retention;
mod schema;
mod status;
mod together;
mod triggers;
mod waits;
mod workers;

pub use alerts::{AlertEpisode, Firing};
pub use assignments::{Assignment, ChangeRow, Since};
pub use backup::{backup, Backup};
pub use copy::{Copied, NOT_COPIED, TABLES};
pub use durability::{BreakerRow, CancelRequest, StepRecord};
pub use figures::{CallFigure, ExecutionFigure};
pub use migrate::Upgrade;
pub use queries::*;
pub use retention::{Pruned, Retention};
pub use schema::Migration;
pub use status::{
    AssignmentChange, AttemptStatus, BreakerState, DecisionSource, ExecutionStatus, StartedBy,
    WaitOutcome,
};
pub use waits::{Decision, NewWait, RefusedDelivery, WaitRow};
pub use workers::{Heartbeat, WorkerRow};

use crate::clock::Clock;
use db::Db;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the store is: an SQLite file, or a PostgreSQL database by URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Postgres(String),
}

impl Location {
    /// `postgres://…` or `postgresql://…` is a PostgreSQL database; anything else
    /// a file path.
    pub fn parse(text: &std::ffi::OsStr) -> Location {
        match text.to_str() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Location::Postgres(url.to_string())
            }
            _ => Location::File(PathBuf::from(text)),
        }
    }

    /// A URL as it can be shown: without its password.
    pub fn redacted(url: &str) -> String {
        match url::Url::parse(url) {
            Ok(mut parsed) if parsed.password().is_some() => {
                let _ = parsed.set_password(Some("***"));
                parsed.to_string()
            }
            Ok(parsed) => parsed.to_string(),
            Err(_) => "the PostgreSQL URL given".to_string(),
        }
    }

    /// ` --db LOCATION` for a command a message suggests, quoted for a shell
    /// when need be (a PostgreSQL URL without its password); empty for the
    /// default file, which needs no flag.
    pub fn as_flag(&self) -> String {
        if *self == Location::File(PathBuf::from(DEFAULT_PATH)) {
            return String::new();
        }
        let shown = self.to_string();
        let plain = shown
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:@".contains(c));
        if plain {
            format!(" --db {shown}")
        } else {
            format!(" --db '{}'", shown.replace('\'', "'\\''"))
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&Location::redacted(url)),
        }
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Location {
        Location::File(path.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Location {
        Location::File(path.clone())
    }
}

impl From<&Location> for Location {
    fn from(at: &Location) -> Location {
        at.clone()
    }
}

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
    #[error("cannot connect to the PostgreSQL database {location}: {reason}")]
    Connect { location: String, reason: String },
    #[error("the database `{path}` has schema version {found}, newer than this wfc understands ({known}); upgrade wfc")]
    TooNew {
        path: Location,
        found: i64,
        known: i64,
    },
    #[error(
        "`{0}` is a database that wfc did not create; wfc leaves it untouched (use another --db)"
    )]
    Foreign(Location),
    #[error("the database `{path}` has schema version {found}, older than this wfc's ({known}), which a command that only reads leaves as it is: `wfc db upgrade{}` upgrades it", .path.as_flag())]
    Outdated {
        path: Location,
        found: i64,
        known: i64,
    },
    #[error("the database `{path}` has schema version {found} and is in use by a worker of an older wfc ({workers}); stop those workers, then upgrade it (`wfc db upgrade`) and start this version's")]
    OlderWorkers {
        path: Location,
        found: i64,
        workers: String,
    },
    #[error("`{0}` can only be read here: commands that record (run, emit, serve …) need to write it and its directory; commands that look (history, show, stats …) work")]
    ReadOnly(PathBuf),
    #[error("cannot back up into `{path}`: {reason}")]
    Backup { path: PathBuf, reason: String },
    #[error("`{0}` exists already: a backup never overwrites a file")]
    BackupExists(PathBuf),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("PostgreSQL error: {0}")]
    Postgres(String),
    #[error("database error in a commit shared with other writes: {0}")]
    Shared(String),
    #[error("column {column} of a row read from the database is {found}, not {expected}")]
    Decode {
        column: usize,
        expected: &'static str,
        found: String,
    },
    #[error("the destination already holds {rows} rows in `{table}`: copy into an empty store")]
    NotEmpty { table: &'static str, rows: u64 },
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
    #[error("this worker's lease ran out while the store could not be reached; other workers may run its executions")]
    LeaseLost,
}

pub type Result<T> = std::result::Result<T, StoreError>;

fn list_candidates(candidates: &[String]) -> String {
    let mut shown: Vec<&str> = candidates.iter().take(5).map(String::as_str).collect();
    if candidates.len() > 5 {
        shown.push("…");
    }
    shown.join(", ")
}

/// Calls `wake` whenever a process sharing the store at `at` records work for
/// triggers: PostgreSQL's `LISTEN`; for SQLite, a thread that asks every
/// [`SQLITE_LOOK`] whether another connection committed (`PRAGMA
/// data_version`, a counter in shared memory) and, when one did, whether an
/// event, a sample or a queued execution is new.
pub fn listen_for_work(at: &Location, wake: impl Fn() + Send + Sync + 'static) -> Result<()> {
    match at {
        Location::File(path) => {
            let (store, _) = Store::open_file(path)?;
            // Without the thread (the system has none left) the dispatcher's
            // tick still finds the work, later.
            let _ = std::thread::Builder::new()
                .name("wfc-sqlite-watch".into())
                .spawn(move || store.watch_for_work(wake));
            Ok(())
        }
        Location::Postgres(url) => postgres::listen(url, wake),
    }
}

/// How often an SQLite store is asked whether another connection committed.
pub const SQLITE_LOOK: Duration = Duration::from_millis(2);

/// One open database. Not shared between threads: the runtime wraps it in a mutex,
/// and each write is short.
pub struct Store {
    conn: Db,
    /// What the rows' timestamps read: the engine's clock.
    clock: Clock,
    /// Stops the thread that checkpoints this SQLite store, when it has one.
    checkpoints: Option<std::sync::mpsc::Sender<()>>,
}

impl Store {
    /// Opens (creating and migrating on first use) the store at `at`: an SQLite
    /// file in WAL mode with a busy timeout, or a PostgreSQL database, so several
    /// wfc processes can share it.
    pub fn open(at: impl Into<Location>) -> Result<Store> {
        Store::upgrade(at).map(|(store, _)| store)
    }

    /// Opens the store at `at` as [`Store::open`] does, and says which schema it
    /// was at: `wfc db upgrade`. Refused while workers of an older wfc hold
    /// leases on it ([`StoreError::OlderWorkers`]).
    pub fn upgrade(at: impl Into<Location>) -> Result<(Store, Upgrade)> {
        match at.into() {
            Location::File(path) => Store::open_file(&path),
            Location::Postgres(url) => {
                let conn = postgres::Conn::connect(&url, false)?;
                let upgrade = postgres::to_latest(&conn, &Location::Postgres(url))?;
                Ok((Store::with(Db::Postgres(conn)), upgrade))
            }
        }
    }

    fn with(conn: Db) -> Store {
        Store {
            conn,
            clock: Clock::system(),
            checkpoints: None,
        }
    }

    fn open_file(path: &Path) -> Result<(Store, Upgrade)> {
        let open_error = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.busy_handler(Some(wait_while_busy))
            .map_err(open_error)?;
        // SQLite falls back to reading when it may not write; say so now, not at
        // the first write in the middle of a run.
        if conn.is_readonly(rusqlite::MAIN_DB).map_err(open_error)? {
            return Err(StoreError::ReadOnly(path.to_path_buf()));
        }
        // Refuse someone else's database before changing anything in it.
        ours(&conn, path)?;
        // Switching a new file to WAL needs an exclusive lock and SQLite does not
        // wait for it through the busy timeout: two processes creating the same
        // database at once would see "database is locked". Retry until the timeout.
        when_not_busy(|| conn.pragma_update(None, "journal_mode", "WAL")).map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_error)?;
        // Each write of a shared commit runs in a savepoint, which copies every
        // page it changes to a sub-journal first; past 64 KiB SQLite spills that
        // to a temporary file, one `pwrite` per page (a fifth of a fan-out's
        // time). In memory it is truncated at each release, so it stays as small
        // as one write.
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(open_error)?;
        conn.set_prepared_statement_cache_capacity(64);
        let upgrade = migrate::to_latest(&mut conn, path)?;
        Ok((Store::with(Db::Sqlite(conn)), upgrade))
    }

    /// Opens the store at `at` for reading only: for commands that only look, so
    /// a database the user may read but not write still answers. A missing file is
    /// an empty store (nothing is created). A WAL database whose directory is not
    /// writable, with no writer running, is opened as immutable. A PostgreSQL
    /// session is read-only (`default_transaction_read_only`).
    pub fn open_read_only(at: impl Into<Location>) -> Result<Store> {
        let at = at.into();
        let path = match &at {
            Location::File(path) => path,
            Location::Postgres(url) => {
                let conn = postgres::Conn::connect(url, true)?;
                let found = postgres::schema_version(&conn, &at)?;
                let known = schema::MIGRATIONS.len() as i64;
                if found == 0 {
                    // As a missing SQLite file: nothing recorded yet.
                    return Store::in_memory();
                }
                if found < known {
                    return Err(StoreError::Outdated {
                        path: at.clone(),
                        found,
                        known,
                    });
                }
                return Ok(Store::with(Db::Postgres(conn)));
            }
        };
        use rusqlite::OpenFlags;
        if !path.exists() {
            return Store::in_memory();
        }
        let open_error = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let first = Connection::open_with_flags(path, flags).and_then(|conn| {
            conn.busy_handler(Some(wait_while_busy))?;
            conn.query_row("PRAGMA user_version", [], |_| Ok(()))?;
            Ok(conn)
        });
        let conn = match first {
            Ok(conn) => conn,
            Err(_) => {
                // SQLite cannot create the -shm file it needs beside the database.
                let uri = format!("file:{}?immutable=1", uri_path(path));
                Connection::open_with_flags(uri, flags).map_err(open_error)?
            }
        };
        let found = ours(&conn, path)?;
        let known = schema::MIGRATIONS.len() as i64;
        if found < known {
            return Err(StoreError::Outdated {
                path: at.clone(),
                found,
                known,
            });
        }
        Ok(Store::with(Db::Sqlite(conn)))
    }

    /// A private in-memory database, for tests and benchmarks.
    pub fn in_memory() -> Result<Store> {
        let mut conn = Connection::open_in_memory()?;
        conn.set_prepared_statement_cache_capacity(64);
        migrate::to_latest(&mut conn, Path::new(":memory:"))?;
        Ok(Store::with(Db::Sqlite(conn)))
    }

    /// Stamps rows with `clock`'s time from now on.
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// The time to stamp a row with.
    fn now(&self) -> String {
        timestamp(self.clock.now())
    }

    /// Every row `sql` selects with `params`, each mapped by `row`, collected.
    fn rows<T, C: FromIterator<T>>(
        &self,
        sql: &str,
        params: &[db::Param<'_>],
        row: impl FnMut(&db::Row) -> Result<T>,
    ) -> Result<C> {
        self.conn.rows(sql, params, row)
    }

    /// The schema version this database is at.
    pub fn schema_version(&self) -> Result<i64> {
        match &self.conn {
            Db::Sqlite(conn) => Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?),
            Db::Postgres(conn) => {
                postgres::schema_version(conn, &Location::Postgres(String::new()))
            }
        }
    }
}

/// How long to sleep before SQLite's retry `attempt` (0-based) of a statement that
/// found the database locked by another connection: SQLite's own schedule, then
/// 100 ms; `None` once [`BUSY_TIMEOUT`] would pass.
fn busy_delay(attempt: usize) -> Option<Duration> {
    const DELAYS_MS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];
    let delay = |n: usize| DELAYS_MS.get(n).copied().unwrap_or(100);
    let waited: u64 = (0..attempt).map(delay).sum();
    let next = delay(attempt);
    (waited + next <= BUSY_TIMEOUT.as_millis() as u64).then(|| Duration::from_millis(next))
}

/// SQLite's busy handler: waits for another connection's lock, up to
/// [`BUSY_TIMEOUT`]. On a tokio worker thread each sleep first hands the worker's
/// other tasks to another thread, so a write waiting on another process (a
/// `wfc run` beside a server, a long transaction) stalls nothing else.
fn wait_while_busy(attempt: i32) -> bool {
    let Some(delay) = busy_delay(usize::try_from(attempt).unwrap_or(0)) else {
        return false;
    };
    let sleep = || std::thread::sleep(delay);
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(sleep)
        }
        _ => sleep(),
    }
    true
}

/// Refuses a database wfc did not make (tables but no schema version) or made by a
/// newer wfc, without writing to it; answers its schema version.
fn ours(conn: &Connection, path: &Path) -> Result<i64> {
    // One statement, so one snapshot: read apart, another process's migration
    // could land between the version and the tables and make wfc's own new
    // database look foreign.
    let (version, tables): (i64, i64) = when_not_busy(|| {
        conn.query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), \
                    (SELECT COUNT(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%')",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    })?;
    let known = schema::MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew {
            path: path.into(),
            found: version,
            known,
        });
    }
    if version == 0 && tables > 0 {
        return Err(StoreError::Foreign(path.into()));
    }
    Ok(version)
}

/// A path for an SQLite `file:` URI: `%`, `?` and `#` escaped.
fn uri_path(path: &Path) -> String {
    path.to_string_lossy()
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23")
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Stored timestamps sort as text and SQLite's date functions read them:
    /// always milliseconds, always `Z`.
    #[test]
    fn timestamps_are_utc_with_three_digit_milliseconds() {
        let at = |ms| chrono::DateTime::from_timestamp_millis(ms).unwrap();
        assert_eq!(timestamp(at(1_764_000_000_000)), "2025-11-24T16:00:00.000Z");
        assert_eq!(timestamp(at(1_764_000_000_007)), "2025-11-24T16:00:00.007Z");
        assert_eq!(parse_timestamp(&timestamp(at(42))), Some(at(42)));
    }

    #[test]
    fn busy_waits_follow_sqlites_schedule_and_stop_at_the_timeout() {
        assert_eq!(busy_delay(0), Some(Duration::from_millis(1)));
        assert_eq!(busy_delay(11), Some(Duration::from_millis(100)));
        let attempts = (0..).take_while(|n| busy_delay(*n).is_some()).count();
        let waited: Duration = (0..attempts).filter_map(busy_delay).sum();
        assert!(waited <= BUSY_TIMEOUT && waited > BUSY_TIMEOUT - Duration::from_millis(100));
    }

    /// A write waiting for another connection's lock does not hold its tokio
    /// worker: with one worker, another task keeps running meanwhile.
    #[test]
    fn a_write_waiting_on_another_connection_leaves_the_worker_to_other_tasks() {
        let dir = std::env::temp_dir().join(format!("wfc-busy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wfc.db");
        let store = Store::open(&path).unwrap();
        let blocker = Connection::open(&path).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let ticks = Arc::new(AtomicUsize::new(0));
        runtime.block_on(async {
            let writer = tokio::spawn(async move {
                store.record_event("lead.created", &serde_json::json!({}), None)
            });
            let ticker = tokio::spawn({
                let ticks = ticks.clone();
                async move {
                    loop {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        ticks.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
            tokio::time::sleep(Duration::from_millis(300)).await;
            let ticked = ticks.load(Ordering::SeqCst);
            blocker.execute_batch("COMMIT").unwrap();
            assert!(
                writer.await.unwrap().unwrap().is_some(),
                "written once free"
            );
            ticker.abort();
            assert!(ticked >= 10, "the other task ran {ticked} times");
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Regression: `ours` read the schema version and the table count in two
    /// statements, so a process that saw version 0, then another process's
    /// finished migration, took wfc's own new database for a foreign one.
    #[test]
    fn many_connections_creating_one_database_at_once_all_open_it() {
        let dir = std::env::temp_dir().join(format!("wfc-create-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for round in 0..200 {
            let path = dir.join(format!("wfc-{round}.db"));
            let barrier = Arc::new(std::sync::Barrier::new(6));
            let openers: Vec<_> = (0..6)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        Store::open(&path).map(|_| ())
                    })
                })
                .collect();
            for opener in openers {
                if let Err(error) = opener.join().unwrap() {
                    panic!("round {round}: {error}");
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
