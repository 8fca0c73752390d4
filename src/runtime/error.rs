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
    /// A caught error given back to `fail`: the inverse of [`StepError::to_json`].
    /// `None` for anything else, and for kind `fail`, which no `catch` takes.
    pub fn from_json(value: &Value) -> Option<StepError> {
        let kind =
            ErrorKind::from_name(value["kind"].as_str()?).filter(|k| *k != ErrorKind::Fail)?;
        Some(StepError {
            kind,
            message: value["message"].as_str()?.to_string(),
            step: value["step"].as_str()?.to_string(),
            agent: value["agent"].as_str().map(String::from),
            attempts: u32::try_from(value["attempts"].as_u64()?).ok()?,
        })
    }

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
    /// The store could not record what happened: the execution stops where it
    /// is, unfinished, to be resumed once the store can be written again. Never
    /// caught, never recorded as the execution's outcome.
    Store(StoreFailure),
}

/// A store error carried up through the steps of an execution.
#[derive(Debug, Clone)]
pub struct StoreFailure(pub std::sync::Arc<crate::store::StoreError>);

impl PartialEq for StoreFailure {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl StoreFailure {
    /// The error itself (a copy of its words when it is shared).
    pub fn into_error(self) -> crate::store::StoreError {
        std::sync::Arc::try_unwrap(self.0)
            .unwrap_or_else(|shared| crate::store::StoreError::Shared(shared.to_string()))
    }
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
            Abort::Store(failure) => json!({
                "kind": ErrorKind::Fail.name(),
                "message": failure.0.to_string(),
                "step": null,
                "agent": null,
                "attempts": 0,
            }),
        }
    }

    pub fn message(&self) -> String {
        match self {
            Abort::Step(error) => error.message.clone(),
            Abort::Fail { message, .. } => message.clone(),
            Abort::Store(failure) => failure.0.to_string(),
        }
    }
}
