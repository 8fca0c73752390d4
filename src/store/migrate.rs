//! Schema migrations by `user_version`, safe when several processes open a new
//! database at once: the version is read and advanced inside one IMMEDIATE
//! transaction, so the second process waits and then finds nothing to do. The
//! policy both back ends share: what an upgrade did, and when it is refused.

use super::queries::parse_timestamp;
use super::schema::{Migration, MIGRATIONS};
use super::{when_not_busy, Location, Result, StoreError};
use chrono::Utc;
use rusqlite::Connection;
use std::path::Path;

/// The schema from which every worker holds a lease in `workers` (migration 8):
/// from it on, an upgrade can tell whether an older wfc still runs on a store.
pub const WORKERS_SINCE: i64 = 8;

/// What bringing a store to this wfc's schema did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Upgrade {
    pub from: i64,
    pub to: i64,
}

impl Upgrade {
    /// The migrations it applied, oldest first (none when it was at the latest).
    pub fn applied(&self) -> &'static [Migration] {
        &MIGRATIONS[self.from as usize..self.to as usize]
    }
}

/// Refuses to migrate a store at schema `found` while a worker of that older
/// wfc holds a lease on it: the older code would go on writing rows without
/// what the newer schema's readers count on (an owner, a capacity slot). Each
/// worker is `(host, pid, lease_until)`.
pub fn no_live_older_workers(
    location: &Location,
    found: i64,
    workers: &[(String, i64, String)],
) -> Result<()> {
    let now = Utc::now();
    let live: Vec<String> = workers
        .iter()
        .filter(|(_, _, until)| parse_timestamp(until).is_some_and(|until| until > now))
        .map(|(host, pid, _)| format!("pid {pid} on {host}"))
        .collect();
    if live.is_empty() {
        return Ok(());
    }
    Err(StoreError::OlderWorkers {
        path: location.clone(),
        found,
        workers: live.join(", "),
    })
}

/// Brings the SQLite database to the latest schema; says from which it came.
pub fn to_latest(conn: &mut Connection, path: &Path) -> Result<Upgrade> {
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

fn migrate(conn: &Connection, path: &Path, latest: i64) -> Result<Upgrade> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > latest {
        return Err(StoreError::TooNew {
            path: path.into(),
            found: current,
            known: latest,
        });
    }
    if current == latest {
        return Ok(Upgrade {
            from: current,
            to: latest,
        });
    }
    if current >= WORKERS_SINCE {
        let mut statement = conn.prepare("SELECT host, pid, lease_until FROM workers")?;
        let workers = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        no_live_older_workers(&path.into(), current, &workers)?;
    }
    for migration in &MIGRATIONS[current as usize..] {
        conn.execute_batch(migration.sql)?;
    }
    conn.pragma_update(None, "user_version", latest)?;
    Ok(Upgrade {
        from: current,
        to: latest,
    })
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
