//! The slim reads statistics need: every execution and agent call of a history,
//! without their inputs and outputs, so figures over a long history hold a few
//! numbers per row rather than whole rows.

use super::db::params;
use super::queries::{duration_between, tokens, Tokens};
use super::{AttemptStatus, ExecutionStatus, Result, Store};

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

impl Store {
    /// Every execution (of one workflow, if given).
    pub fn execution_figures(&self, workflow: Option<&str>) -> Result<Vec<ExecutionFigure>> {
        self.rows(
            "SELECT workflow, status, started_at, finished_at FROM executions
             WHERE CAST(?1 AS TEXT) IS NULL OR workflow = ?1",
            params![workflow],
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

    /// Every agent call (of one workflow's executions, if given), in the order
    /// they started, so sums over them come out the same each time.
    pub fn call_figures(&self, workflow: Option<&str>) -> Result<Vec<CallFigure>> {
        self.rows(
            "SELECT agent, status, started_at, finished_at, duration_ms, tokens_in, tokens_out, cost_usd
             FROM step_attempts
             WHERE agent IS NOT NULL AND (CAST(?1 AS TEXT) IS NULL
               OR execution_id IN (SELECT id FROM executions WHERE workflow = ?1))
             ORDER BY started_at, id",
            params![workflow],
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
