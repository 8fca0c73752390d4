//! What resuming, cancelling, breakers and the dead-letter queue ask of the store.

use super::queries::{
    parse_timestamp, timestamp, Admission, DeadLetterRow, ExecutionRow, HistoryFilter,
};
use super::{AttemptStatus, ExecutionStatus, Result, Store};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
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

    /// Takes over a running execution from `previous_owner`; false when another
    /// process took it first.
    pub fn claim_execution(
        &self,
        id: &str,
        previous_owner: Option<u32>,
        owner: u32,
    ) -> Result<bool> {
        let changed = self.conn.execute(
            "UPDATE executions SET owner_pid = ?3
             WHERE id = ?1 AND status = 'running' AND cancel_requested = 0
               AND owner_pid IS ?2",
            params![id, previous_owner, owner],
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

    /// Asks whoever runs `id` to stop it. An execution whose process is gone is
    /// marked cancelled at once. Returns the status it has now.
    pub fn request_cancel(
        &mut self,
        id: &str,
        owner_alive: impl Fn(u32) -> bool,
    ) -> Result<CancelRequest> {
        let execution = self.execution(id)?;
        if execution.status != ExecutionStatus::Running {
            return Ok(CancelRequest::Finished(execution.id, execution.status));
        }
        self.conn.execute(
            "UPDATE executions SET cancel_requested = 1 WHERE id = ?1",
            params![execution.id],
        )?;
        if execution.owner_pid.is_none_or(|pid| !owner_alive(pid)) {
            self.cancel_execution(&execution.id)?;
            return Ok(CancelRequest::Cancelled(execution.id));
        }
        Ok(CancelRequest::Requested(execution.id))
    }

    /// Running executions of process `owner` that someone asked to cancel.
    pub fn cancel_requests(&self, owner: u32) -> Result<std::collections::HashSet<String>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id FROM executions
             WHERE cancel_requested = 1 AND status = 'running' AND owner_pid = ?1",
        )?;
        let rows = statement.query_map(params![owner], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks an execution and every running sub-workflow under it cancelled, with
    /// their running attempts.
    pub fn cancel_execution(&mut self, id: &str) -> Result<()> {
        let now = self.now();
        let tx = self.conn.transaction()?;
        tx.execute(
            "CREATE TEMP TABLE IF NOT EXISTS cancelling (id TEXT PRIMARY KEY)",
            [],
        )?;
        tx.execute("DELETE FROM cancelling", [])?;
        tx.execute(
            "INSERT INTO cancelling
             WITH RECURSIVE tree(id) AS (
               SELECT ?1 UNION SELECT e.id FROM executions e JOIN tree t ON e.parent_id = t.id)
             SELECT id FROM tree",
            params![id],
        )?;
        tx.execute(
            "UPDATE executions SET status = 'cancelled', cancel_requested = 1, finished_at = ?1
             WHERE id IN (SELECT id FROM cancelling) AND status = 'running'",
            params![now],
        )?;
        tx.execute(
            "UPDATE workflow_executions SET execution_status = 'cancelled'
             WHERE workflow_id IN (SELECT id FROM cancelling) AND execution_status = 'running'",
            [],
        )?;
        tx.execute(
            "UPDATE step_attempts SET status = 'cancelled', finished_at = ?1
             WHERE execution_id IN (SELECT id FROM cancelling) AND status = 'running'",
            params![now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Decides whether a call may pass `agent`'s breaker now. Atomic across
    /// processes: of several callers after the cool-down, one gets the trial.
    pub fn breaker_admit(
        &mut self,
        agent: &str,
        cool_down: Duration,
        now: DateTime<Utc>,
    ) -> Result<Admission> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT state, opened_at FROM breaker_state WHERE agent = ?1",
                params![agent],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let admission = match row {
            None => Admission::Closed,
            Some((state, _)) if state == "closed" => Admission::Closed,
            Some((state, opened_at)) => {
                let until = opened_at
                    .as_deref()
                    .and_then(parse_timestamp)
                    .map_or(now, |t| t + cool_down);
                if state == "open" && now >= until {
                    tx.execute(
                        "UPDATE breaker_state SET state = 'half_open', updated_at = ?2 WHERE agent = ?1",
                        params![agent, timestamp(now)],
                    )?;
                    Admission::Trial
                } else {
                    Admission::Rejected {
                        until: timestamp(until),
                    }
                }
            }
        };
        tx.commit()?;
        Ok(admission)
    }

    /// Records a call's result on `agent`'s breaker: a success closes it; a failure
    /// of the trial re-opens it; `open_after` failures in a row, within `window`,
    /// open it.
    pub fn breaker_record(
        &mut self,
        agent: &str,
        success: bool,
        open_after: usize,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, String)> = tx
            .query_row(
                "SELECT state, failures FROM breaker_state WHERE agent = ?1",
                params![agent],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let (state, failures) = row.unwrap_or_else(|| ("closed".into(), "[]".into()));
        let mut failures: Vec<String> = serde_json::from_str(&failures).unwrap_or_default();
        let (state, opened_at) = if success {
            failures.clear();
            ("closed", None)
        } else if state == "half_open" {
            ("open", Some(timestamp(now)))
        } else {
            failures.retain(|t| parse_timestamp(t).is_some_and(|t| now - t <= window));
            failures.push(timestamp(now));
            if failures.len() >= open_after {
                ("open", Some(timestamp(now)))
            } else {
                ("closed", None)
            }
        };
        tx.execute(
            "INSERT INTO breaker_state (agent, state, failures, opened_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(agent) DO UPDATE SET state = ?2, failures = ?3,
               opened_at = COALESCE(?4, opened_at), updated_at = ?5",
            params![
                agent,
                state,
                Value::from(failures).to_string(),
                opened_at,
                timestamp(now)
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A breaker's state: `closed`, `open` or `half_open`.
    pub fn breaker_state(&self, agent: &str) -> Result<String> {
        Ok(self
            .conn
            .query_row(
                "SELECT state FROM breaker_state WHERE agent = ?1",
                params![agent],
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or_else(|| "closed".into()))
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
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE executions SET replay_of = NULL WHERE replay_of = ?1",
            params![id],
        )?;
        let removed = tx.execute("DELETE FROM dead_letters WHERE id = ?1", params![id])?;
        tx.commit()?;
        Ok(removed == 1)
    }
}
