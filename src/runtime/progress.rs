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
    /// An execution of `workflow` was written as started (or queued) here.
    fn execution_started(&self, _workflow: &str) {}
    /// An execution of `workflow` that ran here ended, written.
    fn execution_finished(&self, _workflow: &str, _status: ExecutionStatus) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn attempt_finished(&self, _: &AttemptReport<'_>) {}
}
