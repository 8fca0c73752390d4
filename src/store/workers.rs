//! Workers: every process that runs executions renews a lease in its row while it
//! lives, so any process sharing the store can tell whether an execution's owner
//! is alive, on this machine or another.

use super::db::{params, Row, NONE};
use super::queries::{parse_timestamp, timestamp};
use super::{Result, Store};
use chrono::{DateTime, Utc};

/// One worker's row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WorkerRow {
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// `run` (one `wfc run`) or `serve`.
    pub kind: String,
    pub started_at: String,
    pub heartbeat_at: String,
    pub lease_until: String,
    /// Executions it was running at its last heartbeat.
    pub running: u64,
}

impl WorkerRow {
    /// Whether its lease still holds at `now`.
    pub fn leased(&self, now: DateTime<Utc>) -> bool {
        parse_timestamp(&self.lease_until).is_some_and(|until| until > now)
    }
}

/// What a heartbeat says.
pub struct Heartbeat<'a> {
    pub id: &'a str,
    pub host: &'a str,
    pub pid: u32,
    pub kind: &'a str,
    pub lease: chrono::Duration,
    pub running: u64,
}

const COLUMNS: &str = "id, host, pid, kind, started_at, heartbeat_at, lease_until, running";

fn worker_row(row: &Row) -> Result<WorkerRow> {
    Ok(WorkerRow {
        id: row.get(0)?,
        host: row.get(1)?,
        pid: row.get(2)?,
        kind: row.get(3)?,
        started_at: row.get(4)?,
        heartbeat_at: row.get(5)?,
        lease_until: row.get(6)?,
        running: row.get(7)?,
    })
}

impl Store {
    /// Registers a worker, or renews its lease: `lease` from `now` (process time,
    /// not the engine's clock: a lease is about the process, not the workflow).
    pub fn heartbeat(&self, beat: &Heartbeat<'_>, now: DateTime<Utc>) -> Result<()> {
        let until = timestamp(now + beat.lease);
        self.conn.execute(
            "INSERT INTO workers (id, host, pid, kind, started_at, heartbeat_at, lease_until, running)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)
             ON CONFLICT(id) DO UPDATE SET heartbeat_at = ?5, lease_until = ?6, running = ?7",
            params![
                beat.id,
                beat.host,
                beat.pid,
                beat.kind,
                timestamp(now),
                until,
                beat.running
            ],
        )?;
        Ok(())
    }

    /// Removes a worker that ends cleanly.
    pub fn retire_worker(&self, id: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM workers WHERE id = ?1", params![id])?;
        Ok(())
    }

    pub fn worker(&self, id: &str) -> Result<Option<WorkerRow>> {
        self.conn.row(
            &format!("SELECT {COLUMNS} FROM workers WHERE id = ?1"),
            params![id],
            worker_row,
        )
    }

    /// Every worker, the most recently heard from first.
    pub fn workers(&self) -> Result<Vec<WorkerRow>> {
        self.rows(
            &format!("SELECT {COLUMNS} FROM workers ORDER BY heartbeat_at DESC, id"),
            NONE,
            worker_row,
        )
    }

    /// Whether the database answers: one trivial query (a connection that broke
    /// is replaced first).
    pub fn ping(&self) -> Result<()> {
        self.conn.each("SELECT 1", &[], |_| Ok(false))
    }

    /// Forgets workers whose lease ran out before `before` and that own no
    /// running execution: a `wfc run` killed long ago.
    pub fn prune_workers(&self, before: DateTime<Utc>) -> Result<usize> {
        self.conn.execute(
            "DELETE FROM workers WHERE lease_until < ?1 AND NOT EXISTS
               (SELECT 1 FROM executions e WHERE e.owner = workers.id AND e.status = 'running')",
            params![timestamp(before)],
        )
    }
}
