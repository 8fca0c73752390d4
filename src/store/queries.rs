//! Reads and writes, one function per question the rest of wfc asks of the store.

use super::db::{params, Row, NONE};
use super::{AttemptStatus, ExecutionStatus, Result, StartedBy, Store, StoreError};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Timestamps are RFC 3339 in UTC with milliseconds; SQLite's date functions read them.
pub fn timestamp(at: DateTime<Utc>) -> String {
    // Not `format("…")`, which parses its pattern on every call (several
    // timestamps per step).
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The seed table's `timestamp` format (SQLite's `CURRENT_TIMESTAMP`).
fn seed_timestamp(at: &str) -> String {
    parse_timestamp(at)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| at.to_string())
}

pub struct VersionRecord<'a> {
    pub workflow: &'a str,
    pub version: Option<&'a str>,
    pub source_blob: &'a str,
    pub source_path: &'a str,
    pub source: &'a str,
}

/// A new execution's row. Rows the engine writes own their values, so a write
/// can wait for a commit shared with other executions after its caller moved on.
pub struct NewExecution<'a> {
    pub id: String,
    pub workflow: String,
    pub version: Option<String>,
    pub source_blob: String,
    pub root_path: String,
    pub trigger: Option<StartedBy<'a>>,
    /// The parent execution and its step, for a sub-workflow.
    pub parent: Option<(String, String)>,
    /// The input, as JSON text.
    pub input: String,
    pub started_at: String,
    /// The worker running it and its process (see `workers`), so `resume` can
    /// tell live executions from orphans. `None` queues it for the first worker
    /// that claims it.
    pub owner: Option<(String, u32)>,
    /// The dead letter this execution replays.
    pub replay_of: Option<i64>,
    /// The template its workflow was made from.
    pub template: Option<TemplateOrigin>,
    /// `(trigger, occurrence)` that started it: written in the same transaction,
    /// and refused when that occurrence already started this workflow.
    pub fire: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Completed(Value),
    /// The error as JSON: `kind`, `message`, `step`, `agent`.
    Failed(Value),
    /// Stopped by `wfc cancel`; never resumed.
    Cancelled,
}

impl Outcome {
    pub fn status(&self) -> ExecutionStatus {
        match self {
            Outcome::Completed(_) => ExecutionStatus::Completed,
            Outcome::Failed(_) => ExecutionStatus::Failed,
            Outcome::Cancelled => ExecutionStatus::Cancelled,
        }
    }
}

/// What `finish_execution` writes besides the outcome, in the same transaction.
pub struct Finish {
    pub agents: Vec<String>,
    pub metrics: Vec<(String, f64)>,
    /// `(workflow, input as JSON text)` to dead-letter a failed execution.
    pub dead_letter: Option<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ExecutionRow {
    pub id: String,
    pub workflow: String,
    pub version: Option<String>,
    pub source_blob: String,
    pub root_path: String,
    pub trigger: Option<String>,
    pub parent_id: Option<String>,
    pub parent_step: Option<String>,
    pub input: Value,
    pub status: ExecutionStatus,
    pub result: Option<Value>,
    pub error: Option<Value>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_ms: Option<f64>,
    pub agents: Vec<String>,
    pub owner_pid: Option<u32>,
    /// The worker running it (see `workers`).
    pub owner: Option<String>,
    pub replay_of: Option<i64>,
    /// The template its workflow was made from, if it was.
    pub template: Option<String>,
    /// The blob of the file declaring that template.
    pub template_blob: Option<String>,
    /// The git revision that file was read at, as the import wrote it, and
    /// the commit it named (`None`: the working tree).
    pub template_rev: Option<String>,
    pub template_commit: Option<String>,
}

/// The template a workflow was made from, as an execution records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateOrigin {
    pub name: String,
    /// The blob of the file declaring it.
    pub blob: String,
    /// `(revision as written, commit)` when that file was read from git.
    pub pinned: Option<(String, String)>,
}

pub struct NewAttempt {
    pub execution_id: String,
    pub step: String,
    pub agent: Option<String>,
    pub attempt: u32,
    /// As JSON text.
    pub input: Option<String>,
    pub started_at: String,
    /// The backoff slept before this attempt.
    pub delay_ms: Option<f64>,
}

pub struct AttemptEnd {
    pub status: AttemptStatus,
    /// As JSON text.
    pub output: Option<String>,
    pub error: Option<String>,
    pub stderr_tail: Option<String>,
    pub child_execution_id: Option<String>,
    pub finished_at: String,
    pub duration_ms: f64,
    pub tokens: Option<Tokens>,
}

/// Failed attempts of one workflow, agent and kind, with the latest as example.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FailureGroup {
    pub workflow: String,
    pub agent: Option<String>,
    pub kind: AttemptStatus,
    pub count: u64,
    pub latest_at: String,
    pub example_execution: String,
    pub example_step: String,
    pub example_error: Option<String>,
}

/// One execution as a live view shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Activity {
    pub id: String,
    pub workflow: String,
    pub status: ExecutionStatus,
    pub trigger: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Attempts recorded, and those running now.
    pub attempts: u64,
    pub running: u64,
}

/// A version of a workflow that ran: its source file's git blob id.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VersionRow {
    pub version: Option<String>,
    pub source_blob: String,
    pub source_path: String,
    pub first_run_at: String,
    pub last_run_at: Option<String>,
    pub runs: u64,
    /// The blob of the template's file it ran, for a workflow made from one:
    /// a version is the instance's file and the template's together.
    pub template_blob: Option<String>,
}

/// The tokens one call of a language model used, as its API reported them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    /// In US dollars, when the agent declares its prices.
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AttemptRow {
    pub id: i64,
    pub execution_id: String,
    pub step: String,
    pub agent: Option<String>,
    pub attempt: u32,
    pub status: AttemptStatus,
    pub input: Option<Value>,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub stderr_tail: Option<String>,
    pub child_execution_id: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_ms: Option<f64>,
    pub delay_ms: Option<f64>,
    pub tokens: Option<Tokens>,
}

#[derive(Debug, Default, Clone)]
pub struct HistoryFilter {
    pub workflow: Option<String>,
    pub version: Option<String>,
    pub status: Option<ExecutionStatus>,
    pub limit: Option<usize>,
    /// Only executions listed after this one (newest first): a page's cursor.
    pub before: Option<String>,
    /// Leave out the large fields (input, result, error): for lists.
    pub summary: bool,
}

/// The fewest characters of an id that name an execution: fewer would match most of
/// them (an empty prefix matches all).
pub const MIN_ID_PREFIX: usize = 4;

/// The last 8 characters of an execution id: its random part (ids are UUIDv7, whose
/// first characters are a timestamp shared by executions started together), enough
/// to tell executions apart and to pass to `wfc show`.
pub fn short_id(id: &str) -> &str {
    &id[id.len().saturating_sub(8)..]
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    pub name: String,
    pub payload: Value,
    /// The execution that emitted it (none for `wfc emit` and HTTP).
    pub execution_id: Option<String>,
    pub emitted_at: String,
    /// `(workflow, execution id)` of every execution it started.
    pub started: Vec<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MetricRow {
    pub id: i64,
    pub name: String,
    pub value: f64,
    pub execution_id: Option<String>,
    pub recorded_at: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetterRow {
    pub id: i64,
    pub execution_id: String,
    pub workflow: String,
    pub input: Value,
    pub error: Value,
    pub created_at: String,
    pub replayed_by: Option<String>,
}

pub(super) fn event_row(row: &Row) -> Result<EventRow> {
    Ok(EventRow {
        id: row.get(0)?,
        name: row.get(1)?,
        payload: row.get::<Option<Value>>(2)?.unwrap_or(Value::Null),
        execution_id: row.get(3)?,
        emitted_at: row.get(4)?,
        started: Vec::new(),
    })
}

pub(super) fn metric_row(row: &Row) -> Result<MetricRow> {
    Ok(MetricRow {
        id: row.get(0)?,
        name: row.get(1)?,
        value: row.get(2)?,
        execution_id: row.get(3)?,
        recorded_at: row.get(4)?,
    })
}

pub(super) const EXECUTION_COLUMNS: &str =
    "e.id, e.workflow, e.version, e.source_blob, e.root_path, e.trigger,
     e.parent_id, e.parent_step, e.input, e.status, e.result, e.error, e.started_at,
     e.finished_at, w.agents_involved, e.owner_pid, e.replay_of, e.owner, e.template,
     e.template_blob, e.template_rev, e.template_commit";

/// Milliseconds between an execution's two stamps, as both databases store
/// them, once it ended.
pub(super) fn duration_between(started_at: &str, finished_at: Option<&str>) -> Option<f64> {
    finished_at
        .and_then(parse_timestamp)
        .zip(parse_timestamp(started_at))
        .map(|(end, start)| (end - start).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0)
}

pub(super) fn execution_row(row: &Row) -> Result<ExecutionRow> {
    let agents: Option<String> = row.get(14)?;
    let started_at: String = row.get(12)?;
    let finished_at: Option<String> = row.get(13)?;
    let duration_ms = duration_between(&started_at, finished_at.as_deref());
    Ok(ExecutionRow {
        id: row.get(0)?,
        workflow: row.get(1)?,
        version: row.get(2)?,
        source_blob: row.get(3)?,
        root_path: row.get(4)?,
        trigger: row.get(5)?,
        parent_id: row.get(6)?,
        parent_step: row.get(7)?,
        input: row.get::<Option<Value>>(8)?.unwrap_or(Value::Null),
        status: row.get(9)?,
        result: row.get::<Option<Value>>(10)?,
        error: row.get::<Option<Value>>(11)?,
        started_at,
        finished_at,
        duration_ms,
        agents: agents
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default(),
        owner_pid: row.get(15)?,
        replay_of: row.get(16)?,
        owner: row.get(17)?,
        template: row.get(18)?,
        template_blob: row.get(19)?,
        template_rev: row.get(20)?,
        template_commit: row.get(21)?,
    })
}

const ATTEMPT_COLUMNS: &str = "id, execution_id, step, agent, attempt, status, input, output,
     error, stderr_tail, child_execution_id, started_at, finished_at, duration_ms, delay_ms,
     tokens_in, tokens_out, cost_usd";

fn attempt_row(row: &Row) -> Result<AttemptRow> {
    Ok(AttemptRow {
        id: row.get(0)?,
        execution_id: row.get(1)?,
        step: row.get(2)?,
        agent: row.get(3)?,
        attempt: row.get(4)?,
        status: row.get(5)?,
        input: row.get::<Option<Value>>(6)?,
        output: row.get::<Option<Value>>(7)?,
        error: row.get(8)?,
        stderr_tail: row.get(9)?,
        child_execution_id: row.get(10)?,
        started_at: row.get(11)?,
        finished_at: row.get(12)?,
        duration_ms: row.get(13)?,
        delay_ms: row.get(14)?,
        tokens: tokens(row.get(15)?, row.get(16)?, row.get(17)?),
    })
}

/// A count as SQLite's integer holds it: a service reporting more than `i64::MAX`
/// tokens is recorded as that many, not as a negative number.
fn stored_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn tokens(
    input: Option<i64>,
    output: Option<i64>,
    cost_usd: Option<f64>,
) -> Option<Tokens> {
    Some(Tokens {
        input: u64::try_from(input?).ok()?,
        output: u64::try_from(output?).ok()?,
        cost_usd,
    })
}

impl Store {
    /// Keeps the source of a workflow version the first time it runs.
    pub fn record_version(&self, v: &VersionRecord<'_>) -> Result<()> {
        self.conn.execute(
            "INSERT INTO workflow_versions
               (workflow, version, source_blob, source_path, source, first_run_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            params![
                v.workflow,
                v.version,
                v.source_blob,
                v.source_path,
                v.source,
                self.now()
            ],
        )?;
        Ok(())
    }

    /// The newest `limit` executions as a live view shows them: status and
    /// how many attempts ran and run now.
    pub fn activity(&self, limit: usize) -> Result<Vec<Activity>> {
        self.rows(
            "SELECT e.id, e.workflow, e.status, e.trigger, e.started_at, e.finished_at,
                    (SELECT CAST(COUNT(*) AS BIGINT) FROM step_attempts a
                       WHERE a.execution_id = e.id),
                    (SELECT CAST(COUNT(*) AS BIGINT) FROM step_attempts a
                       WHERE a.execution_id = e.id AND a.status = 'running')
             FROM executions e ORDER BY e.started_at DESC, e.id DESC LIMIT ?1",
            params![i64::try_from(limit).unwrap_or(i64::MAX)],
            |row| {
                Ok(Activity {
                    id: row.get(0)?,
                    workflow: row.get(1)?,
                    status: row.get(2)?,
                    trigger: row.get(3)?,
                    started_at: row.get(4)?,
                    finished_at: row.get(5)?,
                    attempts: row.get(6)?,
                    running: row.get(7)?,
                })
            },
        )
    }

    /// The failed attempts of the executions that started since `since`,
    /// grouped by workflow, agent and error kind, the most frequent first,
    /// each with its latest example.
    pub fn failure_groups(&self, since: DateTime<Utc>) -> Result<Vec<FailureGroup>> {
        self.rows(
            "SELECT workflow, agent, status, n, started_at, execution_id, step, error
             FROM (SELECT e.workflow, a.agent, a.status, a.started_at, a.execution_id,
                          a.step, a.error,
                          CAST(COUNT(*) OVER (PARTITION BY e.workflow, a.agent, a.status)
                               AS BIGINT) AS n,
                          ROW_NUMBER() OVER (PARTITION BY e.workflow, a.agent, a.status
                                             ORDER BY a.started_at DESC, a.id DESC) AS newest
                   FROM step_attempts a JOIN executions e ON e.id = a.execution_id
                   WHERE a.status NOT IN ('completed', 'running')
                     AND a.execution_id IN (SELECT id FROM executions WHERE started_at >= ?1)) failed
             WHERE newest = 1
             ORDER BY n DESC, started_at DESC",
            params![timestamp(since)],
            |row| {
                Ok(FailureGroup {
                    workflow: row.get(0)?,
                    agent: row.get(1)?,
                    kind: row.get(2)?,
                    count: row.get(3)?,
                    latest_at: row.get(4)?,
                    example_execution: row.get(5)?,
                    example_step: row.get(6)?,
                    example_error: row.get(7)?,
                })
            },
        )
    }

    /// Every version of `workflow` that ran, newest first, with when it first
    /// and last ran and how often.
    pub fn versions(&self, workflow: &str) -> Result<Vec<VersionRow>> {
        self.rows(
            "SELECT v.version, v.source_blob, v.source_path,
                    COALESCE(MIN(e.started_at), v.first_run_at),
                    MAX(e.started_at), CAST(COUNT(e.id) AS BIGINT), e.template_blob
             FROM workflow_versions v
             LEFT JOIN executions e ON e.workflow = v.workflow AND e.source_blob = v.source_blob
             WHERE v.workflow = ?1
             GROUP BY v.workflow, v.source_blob, v.version, v.source_path, v.first_run_at,
                      e.template_blob
             ORDER BY 4 DESC, v.source_blob",
            params![workflow],
            |row| {
                Ok(VersionRow {
                    version: row.get(0)?,
                    source_blob: row.get(1)?,
                    source_path: row.get(2)?,
                    first_run_at: row.get(3)?,
                    last_run_at: row.get(4)?,
                    runs: row.get(5)?,
                    template_blob: row.get(6)?,
                })
            },
        )
    }

    /// Keeps the text of a template's file, once per blob.
    pub fn record_template_source(&self, blob: &str, path: &str, source: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO template_sources (blob, path, source, first_run_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            params![blob, path, source, self.now()],
        )?;
        Ok(())
    }

    /// `(path, text)` of the template file with blob `blob`, if one ran.
    pub fn template_source(&self, blob: &str) -> Result<Option<(String, String)>> {
        self.conn.row(
            "SELECT path, source FROM template_sources WHERE blob = ?1",
            params![blob],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    }

    /// The stored `(path, source)` of a workflow version's file, by blob id.
    pub fn version_source(&self, workflow: &str, blob: &str) -> Result<Option<(String, String)>> {
        self.conn.row(
            "SELECT source_path, source FROM workflow_versions
             WHERE workflow = ?1 AND source_blob = ?2",
            params![workflow, blob],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    }

    /// Writes a running (or queued) execution: its own row, the seed table's row
    /// and the trigger fire that started it, together. False when that fire
    /// already started this workflow (nothing is written then).
    pub fn start_execution(&mut self, e: &NewExecution<'_>) -> Result<bool> {
        let status = match e.owner {
            Some(_) => ExecutionStatus::Running,
            None => ExecutionStatus::Queued,
        };
        let tx = self.conn.begin(false)?;
        tx.execute(
            "INSERT INTO executions (id, workflow, version, source_blob, root_path, trigger,
               parent_id, parent_step, input, status, started_at, owner_pid, replay_of, owner,
               template, template_blob, template_rev, template_commit)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?14, ?10, ?11, ?12, ?13, ?15, ?16,
               ?17, ?18)",
            params![
                e.id,
                e.workflow,
                e.version,
                e.source_blob,
                e.root_path,
                e.trigger,
                e.parent.as_ref().map(|p| &p.0),
                e.parent.as_ref().map(|p| &p.1),
                e.input,
                e.started_at,
                e.owner.as_ref().map(|o| o.1),
                e.replay_of,
                e.owner.as_ref().map(|o| &o.0),
                status,
                e.template.as_ref().map(|t| &t.name),
                e.template.as_ref().map(|t| &t.blob),
                e.template
                    .as_ref()
                    .and_then(|t| t.pinned.as_ref())
                    .map(|p| &p.0),
                e.template
                    .as_ref()
                    .and_then(|t| t.pinned.as_ref())
                    .map(|p| &p.1)
            ],
        )?;
        tx.execute(
            "INSERT INTO workflow_executions
               (workflow_id, trigger_id, agents_involved, execution_status, result, timestamp)
             VALUES (?1, ?2, '[]', ?4, NULL, ?3)",
            params![e.id, e.trigger, seed_timestamp(&e.started_at), status],
        )?;
        if let Some((trigger, occurrence)) = &e.fire {
            let fired = tx.execute(
                "INSERT INTO trigger_fires (trigger, occurrence, workflow, execution_id, fired_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                params![trigger, occurrence, e.workflow, e.id, e.started_at],
            )?;
            if fired == 0 {
                // Dropping the transaction rolls the execution back.
                return Ok(false);
            }
        }
        tx.commit()?;
        if status == ExecutionStatus::Queued {
            self.conn.announce_work()?;
        }
        Ok(true)
    }

    /// Ends an execution, with its metric samples and dead letter, in one transaction.
    pub fn finish_execution(&mut self, id: &str, outcome: &Outcome, finish: &Finish) -> Result<()> {
        let now = self.now();
        let (result, error) = match outcome {
            Outcome::Completed(result) => (Some(result.to_string()), None),
            Outcome::Failed(error) => (None, Some(error.to_string())),
            Outcome::Cancelled => (None, None),
        };
        let agents = serde_json::to_string(&finish.agents).unwrap_or_else(|_| "[]".into());
        let tx = self.conn.begin(false)?;
        tx.execute(
            "UPDATE executions SET status = ?2, result = ?3, error = ?4, finished_at = ?5
             WHERE id = ?1",
            params![id, outcome.status(), result, error, now],
        )?;
        tx.execute(
            "UPDATE workflow_executions
             SET execution_status = ?2, agents_involved = ?3, result = ?4
             WHERE workflow_id = ?1",
            params![
                id,
                outcome.status(),
                agents,
                result.as_deref().or(error.as_deref())
            ],
        )?;
        for (name, value) in &finish.metrics {
            tx.execute(
                "INSERT INTO metrics (name, value, execution_id, recorded_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![name, value, id, now],
            )?;
        }
        if let (Some((workflow, input)), Some(error)) = (&finish.dead_letter, &error) {
            tx.execute(
                "INSERT INTO dead_letters (execution_id, workflow, input, error, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, workflow, input, error, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Writes a `running` attempt row (the statements on the per-step path are
    /// prepared once per connection).
    pub fn start_attempt(&self, a: &NewAttempt) -> Result<i64> {
        self.returning_id(
            "INSERT INTO step_attempts
               (execution_id, id, step, agent, attempt, status, input, started_at, delay_ms)
             VALUES (?1, (SELECT COALESCE(MAX(id), 0) + 1 FROM step_attempts WHERE execution_id = ?1),
                     ?2, ?3, ?4, 'running', ?5, ?6, ?7)
             RETURNING id",
            params![
                a.execution_id,
                a.step,
                a.agent,
                a.attempt,
                a.input,
                a.started_at,
                a.delay_ms
            ],
        )
    }

    /// Writes an attempt that is already over in one row: for steps that cannot be
    /// caught in flight (a `compute` agent), one write instead of two.
    pub fn insert_attempt(&self, a: &NewAttempt, end: &AttemptEnd) -> Result<i64> {
        self.returning_id(
                "INSERT INTO step_attempts
                   (execution_id, id, step, agent, attempt, status, input, started_at, delay_ms,
                    output, error, stderr_tail, child_execution_id, finished_at, duration_ms,
                    tokens_in, tokens_out, cost_usd)
                 VALUES (?1, (SELECT COALESCE(MAX(id), 0) + 1 FROM step_attempts WHERE execution_id = ?1),
                         ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
                 RETURNING id",
            params![
                a.execution_id,
                a.step,
                a.agent,
                a.attempt,
                end.status,
                a.input,
                a.started_at,
                a.delay_ms,
                end.output,
                end.error,
                end.stderr_tail,
                end.child_execution_id,
                end.finished_at,
                end.duration_ms,
                end.tokens.map(|t| stored_count(t.input)),
                end.tokens.map(|t| stored_count(t.output)),
                end.tokens.and_then(|t| t.cost_usd)
            ],
        )
    }

    /// Runs an `INSERT … RETURNING id` that always inserts.
    fn returning_id(&self, sql: &str, params: &[super::db::Param<'_>]) -> Result<i64> {
        self.conn
            .row(sql, params, |row| row.get(0))?
            .ok_or_else(|| StoreError::Postgres("an insert returned no id".into()))
    }

    /// Ends attempt `id` of an execution.
    pub fn finish_attempt(&self, execution_id: &str, id: i64, end: &AttemptEnd) -> Result<()> {
        self.conn.execute(
            "UPDATE step_attempts SET status = ?2, output = ?3, error = ?4, stderr_tail = ?5,
               child_execution_id = COALESCE(?6, child_execution_id), finished_at = ?7, duration_ms = ?8,
               tokens_in = ?10, tokens_out = ?11, cost_usd = ?12
             WHERE execution_id = ?9 AND id = ?1",
            params![
                id,
                end.status,
                end.output,
                end.error,
                end.stderr_tail,
                end.child_execution_id,
                end.finished_at,
                end.duration_ms,
                execution_id,
                end.tokens.map(|t| stored_count(t.input)),
                end.tokens.map(|t| stored_count(t.output)),
                end.tokens.and_then(|t| t.cost_usd)
            ],
        )?;
        Ok(())
    }

    /// Links a sub-workflow's execution to the parent's attempt as soon as it starts.
    pub fn link_child(&self, execution_id: &str, attempt_id: i64, child: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE step_attempts SET child_execution_id = ?2 WHERE execution_id = ?3 AND id = ?1",
            params![attempt_id, child, execution_id],
        )?;
        Ok(())
    }

    /// Appends an event. An event emitted by a step is stored once however often the
    /// step runs (a resumed execution re-runs its last step); `None` when it already was.
    pub fn record_event(
        &self,
        name: &str,
        payload: &Value,
        source: Option<(&str, &str)>,
    ) -> Result<Option<i64>> {
        let id = self.conn.row(
            "INSERT INTO events (name, payload, execution_id, step, emitted_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING RETURNING id",
            params![
                name,
                payload.to_string(),
                source.map(|s| s.0),
                source.map(|s| s.1),
                self.now()
            ],
            |row| row.get(0),
        )?;
        if id.is_some() {
            self.conn.announce_work()?;
        }
        Ok(id)
    }

    /// Records events from outside (HTTP) in one transaction; their ids, in order.
    pub fn record_events(&self, events: &[(&str, &Value)]) -> Result<Vec<i64>> {
        let tx = self.conn.begin(false)?;
        let mut ids = Vec::with_capacity(events.len());
        for (name, payload) in events {
            let id = tx.row(
                "INSERT INTO events (name, payload, emitted_at) VALUES (?1, ?2, ?3) RETURNING id",
                params![name, payload.to_string(), self.now()],
                |row| row.get(0),
            )?;
            ids.push(id.ok_or_else(|| StoreError::Shared("an event was not written".into()))?);
        }
        if !ids.is_empty() {
            tx.announce_work()?;
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Executions, newest first.
    pub fn executions(&self, filter: &HistoryFilter) -> Result<Vec<ExecutionRow>> {
        self.check_cursor(filter.before.as_deref())?;
        let mut rows = Vec::new();
        self.each_execution(filter, |row| {
            rows.push(row);
            true
        })?;
        Ok(rows)
    }

    /// Refuses a page cursor that names no execution: it would silently list from
    /// the start.
    pub fn check_cursor(&self, before: Option<&str>) -> Result<()> {
        let Some(before) = before else { return Ok(()) };
        self.conn
            .row(
                "SELECT 1 FROM executions WHERE id = ?1",
                params![before],
                |_| Ok(()),
            )?
            .ok_or_else(|| StoreError::NoSuchExecution(before.to_string()))
    }

    /// Hands executions, newest first, to `visit` one at a time, until it returns
    /// false: a long list is never held in memory at once. A cursor that names no
    /// execution lists nothing: check it first ([`Store::check_cursor`]).
    pub fn each_execution(
        &self,
        filter: &HistoryFilter,
        mut visit: impl FnMut(ExecutionRow) -> bool,
    ) -> Result<()> {
        let columns = if filter.summary {
            EXECUTION_COLUMNS
                .replace("e.input", "NULL")
                .replace("e.result", "NULL")
                .replace("e.error", "NULL")
        } else {
            EXECUTION_COLUMNS.to_string()
        };
        let sql = format!(
            "SELECT {columns} FROM executions e
             LEFT JOIN workflow_executions w ON w.workflow_id = e.id
             WHERE (CAST(?1 AS TEXT) IS NULL OR e.workflow = ?1) AND (CAST(?2 AS TEXT) IS NULL OR e.version = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR e.status = ?3)
               AND (CAST(?5 AS TEXT) IS NULL OR (e.started_at, w.id) <
                    (SELECT b.started_at, bw.id FROM executions b
                     JOIN workflow_executions bw ON bw.workflow_id = b.id WHERE b.id = ?5))
             ORDER BY e.started_at DESC, w.id DESC LIMIT ?4"
        );
        // The seed row's id orders executions that started in the same millisecond.
        let limit = filter.limit.map_or(i64::MAX, |l| l as i64);
        self.conn.each(
            &sql,
            params![
                filter.workflow,
                filter.version,
                filter.status,
                limit,
                filter.before
            ],
            |row| Ok(visit(execution_row(&row)?)),
        )
    }

    /// One execution by its id, or a unique prefix or suffix of it of at least
    /// [`MIN_ID_PREFIX`] characters.
    pub fn execution(&self, id: &str) -> Result<ExecutionRow> {
        if id.chars().count() < MIN_ID_PREFIX {
            return Err(StoreError::ShortId(id.to_string()));
        }
        // A whole id (ids have one length, so it is no other's prefix) is looked
        // up by key: the runtime asks so, once per child of a resumed fan-out,
        // and the prefix search reads every row.
        let exact = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions e
             LEFT JOIN workflow_executions w ON w.workflow_id = e.id WHERE e.id = ?1"
        );
        let found: Vec<ExecutionRow> = self.rows(&exact, params![id], execution_row)?;
        if let Some(row) = found.into_iter().next() {
            return Ok(row);
        }
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions e
             LEFT JOIN workflow_executions w ON w.workflow_id = e.id
             WHERE e.id LIKE ?1 || '%' ESCAPE '\\' OR e.id LIKE '%' || ?1 ESCAPE '\\'
             ORDER BY e.started_at DESC LIMIT 6"
        );
        let escaped = id
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let mut rows: Vec<ExecutionRow> = self.rows(&sql, params![escaped], execution_row)?;
        match rows.len() {
            0 => Err(StoreError::NoSuchExecution(id.to_string())),
            1 => Ok(rows.remove(0)),
            _ => Err(StoreError::AmbiguousExecution {
                prefix: id.to_string(),
                candidates: rows.into_iter().map(|r| r.id).collect(),
            }),
        }
    }

    /// Sub-workflow executions started by `id`, in start order.
    pub fn children(&self, id: &str) -> Result<Vec<ExecutionRow>> {
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions e
             LEFT JOIN workflow_executions w ON w.workflow_id = e.id
             WHERE e.parent_id = ?1 ORDER BY e.started_at, w.id"
        );
        self.rows(&sql, params![id], execution_row)
    }

    /// Every attempt of an execution, in start order.
    pub fn attempts(&self, execution_id: &str) -> Result<Vec<AttemptRow>> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM step_attempts WHERE execution_id = ?1
             ORDER BY started_at, id"
        );
        self.rows(&sql, params![execution_id], attempt_row)
    }

    /// The failed attempts of an execution (its sub-workflows' not included),
    /// oldest first: the first is the root cause of what failed it last (a
    /// breaker that opened after an ERP went down says `circuit_open`).
    pub fn failed_attempts(&self, execution_id: &str) -> Result<Vec<AttemptRow>> {
        let mut attempts = self.attempts(execution_id)?;
        attempts.retain(|a| a.status.is_failure());
        Ok(attempts)
    }

    /// Attempts of every execution (of one workflow, if given), for statistics.
    pub fn all_attempts(&self, workflow: Option<&str>) -> Result<Vec<AttemptRow>> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM step_attempts
             WHERE CAST(?1 AS TEXT) IS NULL OR execution_id IN (SELECT id FROM executions WHERE workflow = ?1)
             ORDER BY started_at, id"
        );
        self.rows(&sql, params![workflow], attempt_row)
    }

    /// Events, newest first.
    pub fn events(&self, limit: Option<usize>) -> Result<Vec<EventRow>> {
        let mut events: Vec<EventRow> = self.rows(
            "SELECT id, name, payload, execution_id, emitted_at FROM events
             ORDER BY id DESC LIMIT ?1",
            params![limit.map_or(i64::MAX, |l| l as i64)],
            event_row,
        )?;
        for event in &mut events {
            event.started = self.fires(&format!("event:{}", event.id))?;
        }
        Ok(events)
    }

    /// Samples of one metric, oldest first.
    pub fn metric_samples(&self, name: &str) -> Result<Vec<MetricRow>> {
        self.samples_between(name, None, None)
    }

    pub fn dead_letters(&self) -> Result<Vec<DeadLetterRow>> {
        self.rows(
            "SELECT id, execution_id, workflow, input, error, created_at, replayed_by
             FROM dead_letters ORDER BY id",
            NONE,
            |row| {
                Ok(DeadLetterRow {
                    id: row.get(0)?,
                    execution_id: row.get(1)?,
                    workflow: row.get(2)?,
                    input: row.get::<Option<Value>>(3)?.unwrap_or(Value::Null),
                    error: row.get::<Option<Value>>(4)?.unwrap_or(Value::Null),
                    created_at: row.get(5)?,
                    replayed_by: row.get(6)?,
                })
            },
        )
    }

    /// The seed table as rows of JSON objects, for checks that it stays as the seed had it.
    pub fn seed_rows(&self) -> Result<Vec<Value>> {
        self.rows("SELECT id, workflow_id, trigger_id, agents_involved, execution_status, result, timestamp
             FROM workflow_executions ORDER BY id", NONE, |row| {
            Ok(serde_json::json!({
                "id": row.get::<i64>(0)?,
                "workflow_id": row.get::<Option<String>>(1)?,
                "trigger_id": row.get::<Option<String>>(2)?,
                "agents_involved": row.get::<Option<String>>(3)?,
                "execution_status": row.get::<Option<String>>(4)?,
                "result": row.get::<Option<Value>>(5)?.map(|result| result.to_string()),
                "timestamp": row.get::<Option<String>>(6)?,
            }))
        })
    }

    /// The tables wfc keeps rows in (its schema version aside).
    pub fn tables(&self) -> Result<Vec<String>> {
        let sql = match self.conn.dialect() {
            super::db::Dialect::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                 ORDER BY name"
            }
            super::db::Dialect::Postgres => {
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name <> 'wfc_schema'
                 ORDER BY table_name"
            }
        };
        self.rows(sql, NONE, |row| row.get(0))
    }

    /// Column names of a table, in order.
    pub fn columns(&self, table: &str) -> Result<Vec<String>> {
        let sql = match self.conn.dialect() {
            super::db::Dialect::Sqlite => "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
            super::db::Dialect::Postgres => {
                "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
                 WHERE table_name = ?1 AND table_schema = current_schema()
                 ORDER BY ordinal_position"
            }
        };
        self.rows(sql, params![table], |row| row.get(0))
    }
}
