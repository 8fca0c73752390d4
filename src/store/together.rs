//! Writes of several executions committed as one transaction (group commit).
//! Each SQLite commit takes the file's write lock and appends its pages to the
//! WAL; steps of concurrent executions that finish together share one.

use super::db::{Db, NONE};
use super::{when_not_busy, Result, Store};

impl Store {
    /// Begins the transaction writes share, when this store commits together:
    /// SQLite (`false` for PostgreSQL, which already groups the commits of its
    /// many connections itself, and where a longer transaction would hold row
    /// locks other workers wait on). It holds the write lock from the start
    /// (`BEGIN IMMEDIATE`), so a write's own exclusive transaction inside it is
    /// a savepoint and still agrees with other processes.
    pub fn begin_together(&self) -> Result<bool> {
        match &self.conn {
            Db::Sqlite(conn) => {
                when_not_busy(|| conn.execute_batch("BEGIN IMMEDIATE"))?;
                Ok(true)
            }
            Db::Postgres(_) => Ok(false),
        }
    }
    /// Runs one write of the shared transaction in a savepoint of its own:
    /// when `failed` says it did not succeed, what it wrote is undone alone.
    pub fn write_alone<R>(
        &mut self,
        write: impl FnOnce(&mut Store) -> R,
        failed: impl FnOnce(&R) -> bool,
    ) -> Result<R> {
        // Prepared once, like the writes on the step path.
        self.conn.execute("SAVEPOINT wfc_write", NONE)?;
        let result = write(self);
        if failed(&result) {
            self.conn.execute("ROLLBACK TO wfc_write", NONE)?;
        }
        self.conn.execute("RELEASE wfc_write", NONE)?;
        Ok(result)
    }

    /// Commits the shared transaction; when that fails, nothing of it stays.
    pub fn commit_together(&self) -> Result<()> {
        let committed = self.conn.batch("COMMIT");
        if committed.is_err() {
            let _ = self.conn.batch("ROLLBACK");
        }
        committed
    }

    /// Rolls back a transaction left open (by a panic while writing).
    pub fn roll_back_unfinished(&self) {
        if self.conn.in_transaction() {
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}
