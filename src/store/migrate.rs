//! Schema migrations by `user_version`, safe when several processes open a new
//! database at once: the version is read and advanced inside one IMMEDIATE
//! transaction, so the second process waits and then finds nothing to do.

use super::schema::MIGRATIONS;
use super::{Result, StoreError};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

pub fn to_latest(conn: &mut Connection, path: &Path) -> Result<()> {
    let latest = MIGRATIONS.len() as i64;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > latest {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: current,
            known: latest,
        });
    }
    for migration in &MIGRATIONS[current as usize..] {
        tx.execute_batch(migration)?;
    }
    tx.pragma_update(None, "user_version", latest)?;
    tx.commit()?;
    Ok(())
}
