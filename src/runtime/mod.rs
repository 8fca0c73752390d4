//! Running checked programs: the interpreter, agents (compute and subprocess),
//! scheduling, and expression evaluation. tokio lives here.

mod agent;
mod engine;
mod error;
mod eval;
mod progress;
mod scheduler;
mod subprocess;

pub use engine::{Engine, Execution, Origin};
pub use error::{ErrorKind, StepError};
pub use progress::{AttemptReport, Progress, Silent};

/// Why a run could not start. Failures once it has started are recorded in the
/// store as a failed execution instead.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no workflow named `{name}`{}", suggestion(name, known))]
    UnknownWorkflow { name: String, known: Vec<String> },
    #[error("no trigger named `{name}`{}", suggestion(name, known))]
    UnknownTrigger { name: String, known: Vec<String> },
    #[error("trigger `{0}` starts no workflow")]
    IdleTrigger(String),
    #[error("invalid input for workflow `{workflow}`: {problem}")]
    InvalidInput { workflow: String, problem: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn suggestion(name: &str, known: &[String]) -> String {
    match crate::check::closest(name, known.iter().map(String::as_str)) {
        Some(close) => format!("; did you mean `{close}`?"),
        None if known.is_empty() => String::new(),
        None => format!(" (there are: {})", known.join(", ")),
    }
}
