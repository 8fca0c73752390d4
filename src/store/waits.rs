//! `await` steps: the wait row an execution writes when it reaches one, the one
//! update that decides it (an event, a person, or the deadline: whichever comes
//! first), and the payloads that arrived but did not fit.

use super::db::{params, Row, NONE};
use super::queries::timestamp;
use super::{DecisionSource, Result, Store, WaitOutcome};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// What an execution waits for, as it starts waiting.
pub struct NewWait<'a> {
    pub execution_id: &'a str,
    pub step: &'a str,
    pub pattern: &'a str,
    pub shape: &'a str,
    pub condition: Option<&'a str>,
    pub until: DateTime<Utc>,
}

/// One `await` step of an execution: waiting, or how it ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WaitRow {
    pub execution_id: String,
    pub workflow: String,
    pub step: String,
    pub pattern: String,
    /// The payload's type, as written.
    pub shape: String,
    pub condition: Option<String>,
    pub since: String,
    pub until: String,
    /// `None` while it waits.
    pub outcome: Option<WaitOutcome>,
    pub payload: Option<Value>,
    pub source: Option<DecisionSource>,
    pub os_user: Option<String>,
    pub decided_by: Option<String>,
    pub event_id: Option<i64>,
    pub decided_at: Option<String>,
}

/// Who or what decides a wait, and with what.
pub struct Decision<'a> {
    pub outcome: WaitOutcome,
    pub payload: Option<&'a Value>,
    pub source: DecisionSource,
    pub os_user: Option<&'a str>,
    pub decided_by: Option<&'a str>,
    pub event_id: Option<i64>,
}

/// An event that matched a wait's pattern but not its shape.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefusedDelivery {
    pub step: String,
    pub event_id: i64,
    pub reason: String,
    pub refused_at: String,
}

const COLUMNS: &str = "w.execution_id, e.workflow, w.step, w.pattern, w.shape, w.condition,
    w.since, w.until, w.outcome, w.payload, w.source, w.os_user, w.decided_by, w.event_id,
    w.decided_at";

fn wait_row(row: &Row) -> Result<WaitRow> {
    Ok(WaitRow {
        execution_id: row.get(0)?,
        workflow: row.get(1)?,
        step: row.get(2)?,
        pattern: row.get(3)?,
        shape: row.get(4)?,
        condition: row.get(5)?,
        since: row.get(6)?,
        until: row.get(7)?,
        outcome: row.get(8)?,
        payload: row.get(9)?,
        source: row.get(10)?,
        os_user: row.get(11)?,
        decided_by: row.get(12)?,
        event_id: row.get(13)?,
        decided_at: row.get(14)?,
    })
}

impl Store {
    /// Writes the wait a step starts, unless it was written before (a resumed
    /// execution keeps its first deadline); answers the row as it is.
    pub fn open_wait(&self, wait: &NewWait<'_>) -> Result<WaitRow> {
        self.conn.execute(
            "INSERT INTO waits (execution_id, step, pattern, shape, condition, since, until)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT DO NOTHING",
            params![
                wait.execution_id,
                wait.step,
                wait.pattern,
                wait.shape,
                wait.condition,
                self.now(),
                timestamp(wait.until)
            ],
        )?;
        self.wait(wait.execution_id, wait.step)?
            .ok_or_else(|| super::StoreError::NoSuchExecution(wait.execution_id.to_string()))
    }

    /// The wait of `step` in execution `execution_id`, if it reached it.
    pub fn wait(&self, execution_id: &str, step: &str) -> Result<Option<WaitRow>> {
        self.conn.row(
            &format!(
                "SELECT {COLUMNS} FROM waits w JOIN executions e ON e.id = w.execution_id
                 WHERE w.execution_id = ?1 AND w.step = ?2"
            ),
            params![execution_id, step],
            wait_row,
        )
    }

    /// Decides the wait if nothing decided it first; false when something did
    /// (or, for an event, when that event already decided another step; for a
    /// person, when the deadline has passed: only what was recorded before it,
    /// and the deadline itself, may still decide it).
    pub fn decide(&self, execution_id: &str, step: &str, decision: &Decision<'_>) -> Result<bool> {
        let payload = decision.payload.map(Value::to_string);
        let changed = self.conn.execute(
            "UPDATE waits SET outcome = ?3, payload = ?4, source = ?5, os_user = ?6,
                    decided_by = ?7, event_id = ?8, decided_at = ?9
             WHERE execution_id = ?1 AND step = ?2 AND outcome IS NULL
               AND (?5 IN ('event', 'deadline') OR until >= ?9)
               AND (CAST(?8 AS BIGINT) IS NULL OR NOT EXISTS
                    (SELECT 1 FROM waits o
                     WHERE o.execution_id = ?1 AND o.event_id = CAST(?8 AS BIGINT)))",
            params![
                execution_id,
                step,
                decision.outcome,
                payload,
                decision.source,
                decision.os_user,
                decision.decided_by,
                decision.event_id,
                self.now()
            ],
        )?;
        if changed == 1 {
            // Workers on PostgreSQL hear of it (SQLite's watch sees the count of
            // open waits change).
            self.conn.announce_work()?;
        }
        Ok(changed == 1)
    }

    /// Every wait of a running execution not decided yet, soonest deadline first.
    pub fn open_waits(&self) -> Result<Vec<WaitRow>> {
        self.rows(
            &format!(
                "SELECT {COLUMNS} FROM waits w JOIN executions e ON e.id = w.execution_id
                 WHERE w.outcome IS NULL AND e.status = 'running'
                 ORDER BY w.until, w.execution_id, w.step"
            ),
            NONE,
            wait_row,
        )
    }

    /// Every wait an execution reached, in the order it reached them.
    pub fn waits_of(&self, execution_id: &str) -> Result<Vec<WaitRow>> {
        self.rows(
            &format!(
                "SELECT {COLUMNS} FROM waits w JOIN executions e ON e.id = w.execution_id
                 WHERE w.execution_id = ?1 ORDER BY w.since, w.step"
            ),
            params![execution_id],
            wait_row,
        )
    }

    /// Events recorded at or after execution `execution_id` started and no
    /// later than `until`, after event `after`, in recorded order, at most
    /// `limit`: what may decide a wait of it with that deadline.
    pub fn candidate_events(
        &self,
        execution_id: &str,
        after: i64,
        until: &str,
        limit: usize,
    ) -> Result<Vec<(i64, String, Value)>> {
        self.rows(
            "SELECT v.id, v.name, v.payload FROM events v
             JOIN executions e ON e.id = ?1
             WHERE v.id > ?2 AND v.emitted_at >= e.started_at AND v.emitted_at <= ?3
             ORDER BY v.id LIMIT ?4",
            params![execution_id, after, until, limit as i64],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
    }

    /// Keeps an event that matched a wait's pattern but did not fit, once.
    pub fn refuse_delivery(
        &self,
        execution_id: &str,
        step: &str,
        event_id: i64,
        reason: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO refused_deliveries (execution_id, step, event_id, reason, refused_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            params![execution_id, step, event_id, reason, self.now()],
        )?;
        Ok(())
    }

    /// The deliveries an execution's waits refused, in order.
    pub fn refused_deliveries(&self, execution_id: &str) -> Result<Vec<RefusedDelivery>> {
        self.rows(
            "SELECT step, event_id, reason, refused_at FROM refused_deliveries
             WHERE execution_id = ?1 ORDER BY event_id, step",
            params![execution_id],
            |row| {
                Ok(RefusedDelivery {
                    step: row.get(0)?,
                    event_id: row.get(1)?,
                    reason: row.get(2)?,
                    refused_at: row.get(3)?,
                })
            },
        )
    }
}
