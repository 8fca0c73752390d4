//! How the engine tells its caller what is happening, without printing: the CLI
//! turns these reports into progress lines.

use crate::store::{AttemptStatus, ExecutionStatus, Tokens};

/// One finished step attempt: which one, and how it ended.
#[derive(Debug)]
pub struct AttemptReport<'a> {
    pub start: StartReport<'a>,
    pub duration_ms: f64,
    pub status: AttemptStatus,
    pub error: Option<&'a str>,
    /// What a language model's call used, as its API said.
    pub tokens: Option<&'a Tokens>,
    /// The model a language-model agent asks.
    pub model: Option<&'a str>,
}

/// One step attempt that has started and may take a while (a subprocess, a
/// sub-workflow, a wait).
#[derive(Debug)]
pub struct StartReport<'a> {
    pub execution_id: &'a str,
    pub workflow: &'a str,
    pub step: &'a str,
    pub agent: Option<&'a str>,
    pub attempt: u32,
}

pub trait Progress: Send + Sync {
    fn attempt_started(&self, _report: &StartReport<'_>) {}
    fn attempt_finished(&self, report: &AttemptReport<'_>);
    /// An execution began running in this process (new, or resumed).
    fn execution_started(&self, _report: &ExecutionReport<'_>) {}
    /// An execution that ran in this process ended, written.
    fn execution_finished(&self, _report: &ExecutionReport<'_>, _status: ExecutionStatus) {}
}

/// An execution running in this process.
#[derive(Debug)]
pub struct ExecutionReport<'a> {
    pub id: &'a str,
    pub workflow: &'a str,
    /// The execution whose step runs it, for a sub-workflow.
    pub parent: Option<&'a str>,
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn attempt_finished(&self, _: &AttemptReport<'_>) {}
}
