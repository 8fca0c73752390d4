//! Running checked programs: the interpreter, agents (compute and subprocess),
//! scheduling, and expression evaluation. tokio lives here.

mod agent;
mod assignment;
mod awaits;
mod breaker;
mod calls;
mod capacity;
mod engine;
mod error;
mod eval;
mod http;
mod llm;
mod mock;
mod progress;
mod recorder;
mod retry;
pub use retry::window as retry_window;
mod scheduler;
mod secrets;
mod steps;
mod subprocess;
pub mod worker;

pub use breaker::{admit, record, Admission, BreakerPolicy};
pub use engine::{Begun, Engine, Execution, Origin};
pub use error::{ErrorKind, StepError};
pub use eval::{constant, describe, EvalError};
pub use http::{install_tls, post_json};
pub use progress::{AttemptReport, ExecutionReport, Progress, Silent, StartReport};

/// Why a run could not start. Failures once it has started are recorded in the
/// store as a failed execution instead.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no workflow named `{name}`{}", crate::text::unknown_tail(name, known))]
    UnknownWorkflow { name: String, known: Vec<String> },
    #[error("no trigger named `{name}`{}", crate::text::unknown_tail(name, known))]
    UnknownTrigger { name: String, known: Vec<String> },
    #[error("trigger `{0}` starts no workflow")]
    IdleTrigger(String),
    #[error("invalid input for workflow `{workflow}`: {problem}")]
    InvalidInput { workflow: String, problem: String },
    #[error("{trigger} {occurrence} already started workflow `{workflow}`")]
    AlreadyFired {
        workflow: String,
        trigger: String,
        occurrence: String,
    },
    #[error("workflow `{workflow}` cannot run here: {}", missing.join("; "))]
    MissingSecrets {
        workflow: String,
        missing: Vec<String>,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Whether process `pid` is alive (on this machine, which shares the store file).
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
