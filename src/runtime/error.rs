//! How steps and executions fail, as data that is stored, shown and caught.

pub use crate::program::ErrorKind;
use serde_json::{json, Value};

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
                "kind": ErrorKind::Fail.name(),
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
