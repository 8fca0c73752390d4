//! Answering an `await` step directly, shared by `wfc decide` and the HTTP API
//! (which the dashboard's form uses): the execution must be running and the
//! step waiting, the payload must fit the step's shape; then the wait row is
//! decided, once. The execution's worker sees it and goes on.

use crate::store::{
    Decision, DecisionSource, ExecutionStatus, Store, StoreError, WaitOutcome, WaitRow,
};
use serde_json::Value;

/// Why a decision was not taken.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("execution {id} is {status}; only a running execution's waits can be answered")]
    NotRunning { id: String, status: ExecutionStatus },
    #[error("execution {id} has no step `{step}` waiting for a decision; {}", waiting_now(.waiting))]
    NoSuchWait {
        id: String,
        step: String,
        waiting: Vec<String>,
    },
    #[error("step `{step}` of execution {id} is not waiting: it {}", ended(.wait))]
    Decided {
        id: String,
        step: String,
        wait: Box<WaitRow>,
    },
    #[error("step `{step}` of execution {id} is not waiting: its deadline passed at {until}")]
    Overdue {
        id: String,
        step: String,
        until: String,
    },
    #[error("the decision does not fit `{step}`'s {shape}: {}", .misfits.join("; "))]
    Misfit {
        step: String,
        shape: String,
        misfits: Vec<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn waiting_now(steps: &[String]) -> String {
    match steps {
        [] => "it waits for none now".to_string(),
        steps => format!(
            "it waits at {}",
            steps
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn ended(wait: &WaitRow) -> String {
    let when = wait.decided_at.as_deref().unwrap_or("earlier");
    match (wait.outcome, wait.source) {
        (Some(WaitOutcome::TimedOut), _) => format!("timed out at {when}"),
        (_, Some(source)) => format!("was decided at {when} by {source}"),
        _ => format!("was decided at {when}"),
    }
}

/// How long a name given with a decision may be.
pub const MAX_BY: usize = 200;

/// Who answers, as the decision records it.
pub struct Answerer<'a> {
    pub source: DecisionSource,
    /// The operating-system user (`wfc decide`).
    pub os_user: Option<&'a str>,
    /// The name the person gave, as given.
    pub by: Option<&'a str>,
}

/// Decides step `step` of execution `id` (an id, or a unique prefix or suffix)
/// with `payload`; answers the decided wait.
pub fn decide(
    store: &Store,
    id: &str,
    step: &str,
    payload: &Value,
    answerer: &Answerer<'_>,
) -> Result<WaitRow, Refusal> {
    let execution = store.execution(id)?;
    let found = store.wait(&execution.id, step)?;
    // A step already decided says so, also once its execution has ended.
    if let Some(wait) = found.as_ref().filter(|w| w.outcome.is_some()) {
        return Err(Refusal::Decided {
            id: execution.id,
            step: step.to_string(),
            wait: Box::new(wait.clone()),
        });
    }
    if execution.status != ExecutionStatus::Running {
        return Err(Refusal::NotRunning {
            id: execution.id,
            status: execution.status,
        });
    }
    let Some(wait) = found else {
        let waiting = store
            .waits_of(&execution.id)?
            .into_iter()
            .filter(|w| w.outcome.is_none())
            .map(|w| w.step)
            .collect();
        return Err(Refusal::NoSuchWait {
            id: execution.id,
            step: step.to_string(),
            waiting,
        });
    };
    let misfits = misfits(&wait, payload);
    if !misfits.is_empty() {
        return Err(Refusal::Misfit {
            step: step.to_string(),
            shape: wait.shape,
            misfits,
        });
    }
    let decision = Decision {
        outcome: WaitOutcome::Resolved,
        payload: Some(payload),
        source: answerer.source,
        os_user: answerer.os_user,
        decided_by: answerer.by,
        event_id: None,
    };
    let won = store.decide(&execution.id, step, &decision)?;
    let now = store.wait(&execution.id, step)?.unwrap_or(wait);
    if !won && now.outcome.is_none() {
        return Err(Refusal::Overdue {
            id: execution.id,
            step: step.to_string(),
            until: now.until,
        });
    }
    if !won {
        return Err(Refusal::Decided {
            id: execution.id,
            step: step.to_string(),
            wait: Box::new(now),
        });
    }
    Ok(now)
}

/// How `payload` does not fit the wait's shape, each naming its field.
pub fn misfits(wait: &WaitRow, payload: &Value) -> Vec<String> {
    match crate::syntax::parse_type(&wait.shape) {
        Some(shape) => shape
            .mismatches(payload)
            .iter()
            .map(ToString::to_string)
            .collect(),
        None => vec![format!("the wait's shape `{}` cannot be read", wait.shape)],
    }
}
