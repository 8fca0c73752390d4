//! Writes of several executions committed as one transaction (group commit).
//! Each SQLite commit takes the file's write lock and appends its pages to the
//! WAL; steps of concurrent executions that finish together share one.

use super::db::NONE;
use super::{Result, Store};

impl Store {
    /// Begins the transaction writes share, when this store commits together
    /// (see `Db::begin_shared`); `false` when it does not.
    pub fn begin_together(&self) -> Result<bool> {
        self.conn.begin_shared()
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
        if self.conn.in_shared() {
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}
