//! How the engine tells its caller what is happening, without printing: the CLI
//! turns these reports into progress lines.

use crate::store::AttemptStatus;

/// One finished step attempt: which one, and how it ended.
#[derive(Debug)]
pub struct AttemptReport<'a> {
    pub start: StartReport<'a>,
    pub duration_ms: f64,
    pub status: AttemptStatus,
    pub error: Option<&'a str>,
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
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn attempt_finished(&self, _: &AttemptReport<'_>) {}
}
