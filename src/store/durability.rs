//! What resuming, cancelling, breakers and the dead-letter queue ask of the store.

use super::db::{params, Row, NONE};
use super::queries::{
    execution_row, parse_timestamp, timestamp, DeadLetterRow, ExecutionRow, HistoryFilter,
    EXECUTION_COLUMNS,
};
use super::{AttemptStatus, BreakerState, ExecutionStatus, Result, Store};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// What an execution already did, step by step, for a resumed run.
#[derive(Debug, Default, Clone)]
pub struct StepRecord {
    /// The output of the attempt that completed the step, if one did.
    pub completed: Option<Value>,
    /// How many attempts were made.
    pub attempts: u32,
    /// A sub-workflow execution the step started.
    pub child: Option<String>,
    /// The input of the latest attempt (a `wait` stores its wake-up time there).
    pub last_input: Option<Value>,
}

/// A circuit breaker's stored state; `runtime/breaker.rs` decides its changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BreakerRow {
    pub state: BreakerState,
    /// When the recent failures within the window happened.
    pub failures: Vec<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
}

/// A breaker row from its first three columns: state, failures, opened_at.
fn breaker_row(row: &Row) -> Result<BreakerRow> {
    let failures: String = row.get(1)?;
    let failures: Vec<String> = serde_json::from_str(&failures).unwrap_or_default();
    Ok(BreakerRow {
        state: row.get(0)?,
        failures: failures.iter().filter_map(|t| parse_timestamp(t)).collect(),
        opened_at: row
            .get::<Option<String>>(2)?
            .as_deref()
            .and_then(parse_timestamp),
    })
}

/// What a cancel request found, with the execution's full id.
#[derive(Debug, Clone, PartialEq)]
pub enum CancelRequest {
    /// Its process was gone: marked cancelled now.
    Cancelled(String),
    /// Its process was asked to stop it.
    Requested(String),
    /// It had already ended with this status.
    Finished(String, ExecutionStatus),
}

impl Store {
    /// Top-level executions still marked `running`, oldest first.
    pub fn running_executions(&self) -> Result<Vec<ExecutionRow>> {
        let filter = HistoryFilter {
            status: Some(ExecutionStatus::Running),
            ..HistoryFilter::default()
        };
        let mut rows: Vec<ExecutionRow> = self
            .executions(&filter)?
            .into_iter()
            .filter(|e| e.parent_id.is_none())
            .collect();
        rows.reverse();
        Ok(rows)
    }

    /// Queued executions of the file at `root_path`, oldest first, at most `limit`.
    /// How many executions wait for a worker to claim them, of every file.
    pub fn count_queued(&self) -> Result<u64> {
        Ok(self
            .conn
            .row(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM executions WHERE status = 'queued'",
                &[],
                |row| row.get(0),
            )?
            .unwrap_or(0))
    }

    pub fn queued_executions(&self, root_path: &str, limit: usize) -> Result<Vec<ExecutionRow>> {
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions e
             LEFT JOIN workflow_executions w ON w.workflow_id = e.id
             WHERE e.status = 'queued' AND e.root_path = ?1
             ORDER BY e.started_at, w.id LIMIT ?2"
        );
        self.rows(&sql, params![root_path, limit as i64], execution_row)
    }

    /// Claims queued execution `id` for process `pid`, worker `worker`: it is
    /// running from now on. False when another worker claimed it first (or it
    /// was cancelled).
    pub fn claim_queued(&mut self, id: &str, pid: u32, worker: &str) -> Result<bool> {
        let tx = self.conn.begin(false)?;
        let changed = tx.execute(
            "UPDATE executions SET status = 'running', owner_pid = ?2, owner = ?3
             WHERE id = ?1 AND status = 'queued'",
            params![id, pid, worker],
        )?;
        if changed == 1 {
            tx.execute(
                "UPDATE workflow_executions SET execution_status = 'running'
                 WHERE workflow_id = ?1",
                params![id],
            )?;
            tx.commit()?;
        }
        Ok(changed == 1)
    }

    /// Takes over a running execution from the owner it was read with, for
    /// process `pid`, worker `worker`; false when another process took it first.
    pub fn claim_execution(
        &self,
        execution: &ExecutionRow,
        pid: u32,
        worker: &str,
    ) -> Result<bool> {
        let changed = self.conn.execute(
            "UPDATE executions SET owner_pid = ?4, owner = ?5
             WHERE id = ?1 AND status = 'running' AND cancel_requested = 0
               AND owner_pid IS NOT DISTINCT FROM ?2 AND owner IS NOT DISTINCT FROM ?3",
            params![
                execution.id,
                execution.owner_pid,
                execution.owner,
                pid,
                worker
            ],
        )?;
        Ok(changed == 1)
    }

    /// Closes the attempts a dead process left `running`.
    pub fn mark_interrupted(&self, execution_id: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE step_attempts SET status = 'interrupted', finished_at = ?2
             WHERE execution_id = ?1 AND status = 'running'",
            params![execution_id, self.now()],
        )?;
        Ok(())
    }

    /// Every step an execution recorded, by step path.
    pub fn step_records(
        &self,
        execution_id: &str,
    ) -> Result<std::collections::HashMap<String, StepRecord>> {
        let mut records: std::collections::HashMap<String, StepRecord> = Default::default();
        for attempt in self.attempts(execution_id)? {
            let record = records.entry(attempt.step.clone()).or_default();
            record.attempts = record.attempts.max(attempt.attempt);
            if attempt.status == AttemptStatus::Completed {
                record.completed = attempt.output.clone().or(Some(Value::Null));
            }
            if attempt.child_execution_id.is_some() {
                record.child = attempt.child_execution_id.clone();
            }
            record.last_input = attempt.input;
        }
        Ok(records)
    }

    /// Asks whoever runs `id` to stop it. An execution whose owner is gone is
    /// marked cancelled at once. Returns the status it has now.
    pub fn request_cancel(
        &mut self,
        id: &str,
        owner_alive: impl Fn(&Store, &ExecutionRow) -> Result<bool>,
    ) -> Result<CancelRequest> {
        let execution = self.execution(id)?;
        match execution.status {
            ExecutionStatus::Running => {}
            // No worker has it yet: cancelled before it starts (a claim after
            // this finds it cancelled).
            ExecutionStatus::Queued => {
                self.cancel_execution(&execution.id)?;
                return Ok(CancelRequest::Cancelled(execution.id));
            }
            ExecutionStatus::Completed | ExecutionStatus::Failed | ExecutionStatus::Cancelled => {
                return Ok(CancelRequest::Finished(execution.id, execution.status))
            }
        }
        self.conn.execute(
            "UPDATE executions SET cancel_requested = 1 WHERE id = ?1",
            params![execution.id],
        )?;
        if !owner_alive(self, &execution)? {
            self.cancel_execution(&execution.id)?;
            return Ok(CancelRequest::Cancelled(execution.id));
        }
        Ok(CancelRequest::Requested(execution.id))
    }

    /// Running executions of worker `owner` that someone asked to cancel.
    pub fn cancel_requests(&self, owner: &str) -> Result<std::collections::HashSet<String>> {
        self.rows(
            "SELECT id FROM executions
             WHERE cancel_requested = 1 AND status = 'running' AND owner = ?1",
            params![owner],
            |row| row.get(0),
        )
    }

    /// Marks an execution and every running sub-workflow under it cancelled, with
    /// their running attempts.
    pub fn cancel_execution(&mut self, id: &str) -> Result<()> {
        let now = self.now();
        let tx = self.conn.begin(false)?;
        // The execution and every sub-workflow below it, read in the transaction
        // that cancels them.
        let tree: Vec<String> = tx.rows(
            "WITH RECURSIVE tree(id) AS (
               SELECT CAST(?1 AS TEXT)
               UNION SELECT e.id FROM executions e JOIN tree t ON e.parent_id = t.id)
             SELECT id FROM tree",
            params![id],
            |row| row.get(0),
        )?;
        for id in &tree {
            tx.execute(
                "UPDATE executions SET status = 'cancelled', cancel_requested = 1, finished_at = ?1
                 WHERE id = ?2 AND status IN ('running', 'queued')",
                params![now, id],
            )?;
            tx.execute(
                "UPDATE workflow_executions SET execution_status = 'cancelled'
                 WHERE workflow_id = ?1 AND execution_status IN ('running', 'queued')",
                params![id],
            )?;
            tx.execute(
                "UPDATE step_attempts SET status = 'cancelled', finished_at = ?1
                 WHERE execution_id = ?2 AND status = 'running'",
                params![now, id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Loads `agent`'s breaker row, lets `change` decide on it, and saves it if it
    /// changed, all in one IMMEDIATE transaction: processes sharing the store see
    /// one breaker, and two trials never pass at once.
    pub fn breaker_update<T>(
        &mut self,
        agent: &str,
        change: impl FnOnce(&mut BreakerRow) -> T,
    ) -> Result<T> {
        let now = self.now();
        let tx = self.conn.begin(true)?;
        let before = tx
            .row(
                "SELECT state, failures, opened_at FROM breaker_state WHERE agent = ?1",
                params![agent],
                breaker_row,
            )?
            .unwrap_or_default();
        let mut row = before.clone();
        let answer = change(&mut row);
        if row != before {
            let failures: Vec<String> = row.failures.iter().map(|t| timestamp(*t)).collect();
            tx.execute(
                "INSERT INTO breaker_state (agent, state, failures, opened_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(agent) DO UPDATE SET state = ?2, failures = ?3,
                   opened_at = ?4, updated_at = ?5",
                params![
                    agent,
                    row.state,
                    Value::from(failures).to_string(),
                    row.opened_at.map(timestamp),
                    now
                ],
            )?;
        }
        tx.commit()?;
        Ok(answer)
    }

    /// A breaker's state (closed when it has no row).
    /// Every breaker that has a row, by agent name.
    pub fn breakers(&self) -> Result<Vec<(String, BreakerRow)>> {
        self.rows(
            "SELECT state, failures, opened_at, agent FROM breaker_state ORDER BY agent",
            NONE,
            |row| Ok((row.get(3)?, breaker_row(row)?)),
        )
    }

    pub fn breaker_state(&self, agent: &str) -> Result<BreakerState> {
        Ok(self
            .conn
            .row(
                "SELECT state FROM breaker_state WHERE agent = ?1",
                params![agent],
                |row| row.get(0),
            )?
            .unwrap_or_default())
    }

    pub fn dead_letter(&self, id: i64) -> Result<Option<DeadLetterRow>> {
        Ok(self.dead_letters()?.into_iter().find(|d| d.id == id))
    }

    pub fn mark_replayed(&self, id: i64, execution_id: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE dead_letters SET replayed_by = ?2 WHERE id = ?1",
            params![id, execution_id],
        )?;
        Ok(())
    }

    /// Removes a dead letter (a replay of it keeps running history, unlinked); false
    /// when there was none.
    pub fn drop_dead_letter(&mut self, id: i64) -> Result<bool> {
        let tx = self.conn.begin(false)?;
        tx.execute(
            "UPDATE executions SET replay_of = NULL WHERE replay_of = ?1",
            params![id],
        )?;
        let removed = tx.execute("DELETE FROM dead_letters WHERE id = ?1", params![id])?;
        tx.commit()?;
        Ok(removed == 1)
    }
}
