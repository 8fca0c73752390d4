//! Schema migrations by `user_version`, safe when several processes open a new
//! database at once: the version is read and advanced inside one IMMEDIATE
//! transaction, so the second process waits and then finds nothing to do.

use super::schema::MIGRATIONS;
use super::{when_not_busy, Result, StoreError};
use rusqlite::Connection;
use std::path::Path;

pub fn to_latest(conn: &mut Connection, path: &Path) -> Result<()> {
    let latest = MIGRATIONS.len() as i64;
    when_not_busy(|| conn.execute_batch("BEGIN IMMEDIATE"))?;
    let migrated = migrate(conn, path, latest);
    let end = if migrated.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    conn.execute_batch(end)?;
    migrated
}

fn migrate(conn: &Connection, path: &Path, latest: i64) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > latest {
        return Err(StoreError::TooNew {
            path: path.into(),
            found: current,
            known: latest,
        });
    }
    for migration in &MIGRATIONS[current as usize..] {
        conn.execute_batch(migration)?;
    }
    conn.pragma_update(None, "user_version", latest)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Store, StoreError};
    use super::MIGRATIONS;

    #[test]
    fn a_new_database_migrates_to_the_latest_version_once() {
        let dir = std::env::temp_dir().join(format!("wfc-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wfc.db");
        let _ = std::fs::remove_file(&path);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(store);
        // Opening again finds nothing to do.
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(store);
        // A database from a newer wfc is refused, not damaged.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        drop(conn);
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::TooNew { found: 999, .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
