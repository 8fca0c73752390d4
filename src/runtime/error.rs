//! How steps and executions fail, as data that is stored, shown and caught.

use serde_json::{json, Value};

/// Why a step failed. The names are stable: they appear in `retry_on`, in `catch`
/// variables and in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The agent ran and reported failure (non-zero exit, or could not start).
    Failed,
    /// The agent took longer than its timeout; its process group was killed.
    Timeout,
    /// The agent's output was not JSON or did not fit its declared `output`.
    InvalidOutput,
    /// The value passed to the agent did not fit its declared `input`.
    InvalidInput,
    /// The agent's circuit breaker is open.
    CircuitOpen,
    /// An expression could not be evaluated (a type mismatch at run time).
    Expression,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Failed => "failed",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InvalidOutput => "invalid_output",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::Expression => "expression",
        }
    }
}

/// A step that failed for good.
#[derive(Debug, Clone, PartialEq)]
pub struct StepError {
    pub kind: ErrorKind,
    pub message: String,
    pub step: String,
    pub agent: Option<String>,
    pub attempts: u32,
}

impl StepError {
    /// What a `catch` variable holds and what a failed execution stores.
    pub fn to_json(&self) -> Value {
        json!({
            "kind": self.kind.name(),
            "message": self.message,
            "step": self.step,
            "agent": self.agent,
            "attempts": self.attempts,
        })
    }
}

/// Why a block stopped early.
#[derive(Debug, Clone, PartialEq)]
pub enum Abort {
    /// A step failed; a `try` around it can handle this.
    Step(StepError),
    /// `fail "message"`: ends the execution, never caught.
    Fail { message: String, step: String },
}

impl Abort {
    pub fn to_json(&self) -> Value {
        match self {
            Abort::Step(error) => error.to_json(),
            Abort::Fail { message, step } => json!({
                "kind": "fail",
                "message": message,
                "step": step,
                "agent": null,
                "attempts": 0,
            }),
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Abort::Step(error) => &error.message,
            Abort::Fail { message, .. } => message,
        }
    }
}
