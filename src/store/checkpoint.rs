//! Checkpoints of an SQLite store on a thread of their own. By default SQLite
//! copies the WAL back into the database (two fsyncs, milliseconds on a slow
//! disk) inside the commit that takes the WAL past 1,000 pages, holding up that
//! write and every write queued behind it; a process that runs executions has
//! a thread do it beside them instead.

use super::db::Db;
use super::{wait_while_busy, Store};
use rusqlite::Connection;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

/// How often the thread looks whether anything was committed since.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// The WAL size at which a writer still checkpoints itself (the thread is
/// behind, or stopped): what bounds the WAL.
const BACKSTOP_PAGES: i64 = 10_000;

impl Store {
    /// Checkpoints this store on a thread while it is open (SQLite files; a
    /// store that cannot have one keeps SQLite's own checkpoints).
    pub fn checkpoint_in_background(&mut self) {
        let Db::Sqlite(conn) = &self.conn else {
            return;
        };
        let Some(path) = conn.path().filter(|path| !path.is_empty()) else {
            return; // in memory
        };
        let Ok(own) = Connection::open(path) else {
            return;
        };
        if own.busy_handler(Some(wait_while_busy)).is_err() {
            return;
        }
        let (stop, stopped) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("wfc-sqlite-checkpoint".into())
            .spawn(move || checkpoints(&own, &stopped));
        if spawned.is_ok()
            && conn
                .pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES)
                .is_ok()
        {
            self.checkpoints = Some(stop);
        }
    }
}

/// Until the store is dropped: a passive checkpoint (it never waits for
/// writers or readers; what it cannot copy now it copies next time) whenever
/// another connection committed since the last look.
fn checkpoints(conn: &Connection, stopped: &Receiver<()>) {
    let mut seen = None;
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
        let Ok(version) = conn.query_row("PRAGMA data_version", [], |row| row.get::<_, i64>(0))
        else {
            continue;
        };
        if seen != Some(version) {
            seen = Some(version);
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
    }
}
