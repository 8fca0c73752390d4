//! `wfc db backup FILE`: a consistent copy of an SQLite store while servers
//! write it, through SQLite's online backup API. The whole database is copied
//! in one step under one read transaction: in WAL mode readers do not block
//! writers, so the copy is the store as of one moment, and a busy store never
//! restarts it (a copy made page by page starts over whenever another
//! connection writes). It is written beside the target and renamed into
//! place, so FILE is never a half copy.

use super::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// What a backup copied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Backup {
    pub bytes: u64,
    pub executions: u64,
    /// `PRAGMA quick_check` of the copy: "ok".
    pub check: String,
}

/// Copies the SQLite store at `from` into the new file `to`.
pub fn backup(from: &Path, to: &Path) -> Result<Backup> {
    let failed = |what: &str, error: &dyn std::fmt::Display| StoreError::Backup {
        path: to.to_path_buf(),
        reason: format!("{what}: {error}"),
    };
    if to.exists() {
        return Err(StoreError::BackupExists(to.to_path_buf()));
    }
    let source = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Open {
        path: from.to_path_buf(),
        source,
    })?;
    source
        .busy_handler(Some(super::wait_while_busy))
        .map_err(|e| failed("reading the store", &e))?;
    super::ours(&source, from)?;
    let dir = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temporary = tempfile::Builder::new()
        .prefix(".wfc-backup-")
        .tempfile_in(dir)
        .map_err(|e| failed("cannot write beside it", &e))?;
    {
        let mut copy =
            Connection::open(temporary.path()).map_err(|e| failed("opening the copy", &e))?;
        let backup = rusqlite::backup::Backup::new(&source, &mut copy)
            .map_err(|e| failed("starting the backup", &e))?;
        // All pages in one step: one snapshot (see above). Busy or locked only
        // while a checkpoint or another backup holds the file: wait and retry.
        let mut waited = 0;
        loop {
            match backup.step(-1).map_err(|e| failed("copying", &e))? {
                rusqlite::backup::StepResult::Done => break,
                _ if super::wait_while_busy(waited) => waited += 1,
                _ => return Err(failed("copying", &"the store stayed locked")),
            }
        }
    }
    let copy = Connection::open(temporary.path()).map_err(|e| failed("opening the copy", &e))?;
    let check: String = copy
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(|e| failed("checking the copy", &e))?;
    let executions: i64 = copy
        .query_row("SELECT COUNT(*) FROM executions", [], |row| row.get(0))
        .unwrap_or(0);
    // One file to carry away, not a file and its write-ahead log.
    copy.pragma_update(None, "journal_mode", "DELETE")
        .map_err(|e| failed("finishing the copy", &e))?;
    drop(copy);
    temporary
        .as_file()
        .sync_all()
        .map_err(|e| failed("syncing the copy", &e))?;
    let bytes = temporary.as_file().metadata().map(|m| m.len()).unwrap_or(0);
    temporary.persist_noclobber(to).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            StoreError::BackupExists(to.to_path_buf())
        } else {
            failed("moving the copy into place", &e.error)
        }
    })?;
    Ok(Backup {
        bytes,
        executions: executions as u64,
        check,
    })
}
