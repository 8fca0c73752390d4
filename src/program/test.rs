//! A checked `test` block: mocks by agent id, how the run starts, and what must
//! hold after it. `wfc test` (`crate::testing`) runs these.

use super::{AgentId, ErrorKind, WorkflowId};
use crate::ast::{Access, CompareOp, Expr, RunStatus};
use crate::metric::MetricQuery;
use crate::source::Span;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Test {
    pub name: String,
    /// The `test "name"` line, where a report points.
    pub span: Span,
    pub mocks: Vec<Mock>,
    /// Samples recorded before the run starts: `(series, value)`.
    pub given_metrics: Vec<(String, f64)>,
    pub start: Start,
    /// Events recorded while the run goes on, at virtual times after its start.
    pub sends: Vec<Send>,
    pub expectations: Vec<Expectation>,
}

/// `send event "name" { … } after D`.
#[derive(Debug, Clone)]
pub struct Send {
    pub name: String,
    pub payload: Option<Expr>,
    pub after: Duration,
}

/// An agent replaced for one test. What it leaves out the agent itself does.
#[derive(Debug, Clone)]
pub struct Mock {
    pub agent: AgentId,
    /// Virtual time each call takes (a call's timeout still applies).
    pub takes: Option<Duration>,
    /// The kind its calls fail with, and for how many calls (`None`: every call).
    pub fails: Option<(ErrorKind, Option<u32>)>,
    /// Its output, an expression over the call's `input`.
    pub returns: Option<Expr>,
}

#[derive(Debug, Clone)]
pub enum Start {
    Run {
        workflow: WorkflowId,
        input: Option<Expr>,
    },
    /// The workflows whose triggers match the event.
    Event { name: String, payload: Option<Expr> },
    /// The workflows of metric triggers whose condition the given samples meet.
    Metrics,
}

#[derive(Debug, Clone)]
pub struct Expectation {
    pub kind: ExpectationKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExpectationKind {
    Status(RunStatus),
    DeadLetter,
    Event {
        name: String,
        payload: Option<Expr>,
    },
    Metric {
        query: MetricQuery,
        op: CompareOp,
        target: f64,
    },
    Called {
        agent: AgentId,
        times: u32,
    },
    StepAttempts {
        step: String,
        attempts: u32,
    },
    StepResolved {
        step: String,
        with: Option<Expr>,
    },
    StepTimedOut {
        step: String,
    },
    Output {
        path: Vec<Access>,
        op: CompareOp,
        value: Expr,
    },
}
