//! The slim reads statistics need: every execution and agent call of a history,
//! without their inputs and outputs, so figures over a long history hold a few
//! numbers per row rather than whole rows.

use super::db::params;
use super::queries::{duration_between, tokens, Tokens};
use super::{AttemptStatus, ExecutionStatus, Result, Store};
use chrono::{DateTime, Utc};

/// An execution as statistics count it.
#[derive(Debug, Clone)]
pub struct ExecutionFigure {
    pub workflow: String,
    pub status: ExecutionStatus,
    pub started_at: String,
    /// From its start to its end, once it ended.
    pub duration_ms: Option<f64>,
}

/// An agent call (one attempt) as statistics count it.
#[derive(Debug, Clone)]
pub struct CallFigure {
    pub agent: String,
    pub status: AttemptStatus,
    pub started_at: String,
    /// When it ended, also for a cancelled or interrupted call, which has no
    /// duration of its own.
    pub finished_at: Option<String>,
    pub duration_ms: Option<f64>,
    pub tokens: Option<Tokens>,
}

/// An execution that started within the window (`?2` its start) or is still
/// under way: each side answered by an index.
const IN_WINDOW: &str = "(started_at >= ?2 OR status IN ('running', 'queued'))";

impl Store {
    /// The executions (of one workflow, if given) that started since `since`,
    /// and those still running: read through the start-time and status indexes,
    /// however long the history.
    pub fn execution_figures(
        &self,
        workflow: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<ExecutionFigure>> {
        self.rows(
            &format!(
                "SELECT workflow, status, started_at, finished_at FROM executions
                 WHERE {IN_WINDOW} AND (CAST(?1 AS TEXT) IS NULL OR workflow = ?1)"
            ),
            params![workflow, super::timestamp(since)],
            |row| {
                let started_at: String = row.get(2)?;
                let finished_at: Option<String> = row.get(3)?;
                Ok(ExecutionFigure {
                    workflow: row.get(0)?,
                    status: row.get(1)?,
                    duration_ms: duration_between(&started_at, finished_at.as_deref()),
                    started_at,
                })
            },
        )
    }

    /// The agent calls of those executions, in the order they started, so
    /// sums over them come out the same each time.
    pub fn call_figures(
        &self,
        workflow: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<CallFigure>> {
        self.rows(
            &format!(
                "SELECT agent, status, started_at, finished_at, duration_ms, tokens_in, tokens_out, cost_usd
                 FROM step_attempts
                 WHERE agent IS NOT NULL AND execution_id IN
                   (SELECT id FROM executions
                    WHERE {IN_WINDOW} AND (CAST(?1 AS TEXT) IS NULL OR workflow = ?1))
                 ORDER BY started_at, id"
            ),
            params![workflow, super::timestamp(since)],
            |row| {
                Ok(CallFigure {
                    agent: row.get(0)?,
                    status: row.get(1)?,
                    started_at: row.get(2)?,
                    finished_at: row.get(3)?,
                    duration_ms: row.get(4)?,
                    tokens: tokens(row.get(5)?, row.get(6)?, row.get(7)?),
                })
            },
        )
    }
}
