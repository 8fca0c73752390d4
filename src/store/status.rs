//! The statuses of executions and step attempts. Everyone else handles them as
//! enums; the text they are stored and shown as is spelled only here.

use super::db::{Cell, FromCell, Param, ToParam};
use crate::program::ErrorKind;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExecutionStatus {
    /// Started over HTTP on a server that takes no work: waiting for a worker
    /// to claim it.
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 5] = [
        ExecutionStatus::Queued,
        ExecutionStatus::Running,
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Queued => "queued",
            ExecutionStatus::Running => "running",
            ExecutionStatus::Completed => "completed",
            ExecutionStatus::Failed => "failed",
            ExecutionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<ExecutionStatus> {
        ExecutionStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Whether an execution in this status has ended (and never runs again
    /// unless replayed as a new one).
    pub fn is_finished(self) -> bool {
        !matches!(self, ExecutionStatus::Queued | ExecutionStatus::Running)
    }

    /// Every status's text, for help and error messages.
    pub fn names() -> Vec<&'static str> {
        ExecutionStatus::ALL.map(ExecutionStatus::as_str).to_vec()
    }
}

/// A step attempt's status: running, done, or how it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttemptStatus {
    Running,
    Completed,
    /// Its process died while it ran; a resumed execution runs the step again.
    Interrupted,
    Cancelled,
    Failed(ErrorKind),
}

impl AttemptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Running => "running",
            AttemptStatus::Completed => "completed",
            AttemptStatus::Interrupted => "interrupted",
            AttemptStatus::Cancelled => "cancelled",
            AttemptStatus::Failed(kind) => kind.name(),
        }
    }

    pub fn parse(text: &str) -> Option<AttemptStatus> {
        [
            AttemptStatus::Running,
            AttemptStatus::Completed,
            AttemptStatus::Interrupted,
            AttemptStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
        .or_else(|| ErrorKind::from_name(text).map(AttemptStatus::Failed))
    }

    /// Whether the attempt ended in failure.
    pub fn is_failure(self) -> bool {
        matches!(self, AttemptStatus::Failed(_))
    }
}

/// What started an execution, as its `trigger` column records it: a trigger's
/// name, or one of the words for the other ways in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartedBy<'a> {
    Trigger(&'a str),
    /// `wfc run --workflow`.
    Manual,
    /// `POST /workflows/NAME/run`.
    Http,
    /// `wfc dlq replay`.
    Replay,
    /// A `workflow` step of a parent execution.
    Workflow,
}

impl<'a> StartedBy<'a> {
    pub fn as_str(self) -> &'a str {
        match self {
            StartedBy::Trigger(name) => name,
            StartedBy::Manual => "manual",
            StartedBy::Http => "http",
            StartedBy::Replay => "replay",
            StartedBy::Workflow => "workflow",
        }
    }
}

impl ToParam for StartedBy<'_> {
    fn to_param(&self) -> Param<'_> {
        Param::Text(self.as_str().into())
    }
}

/// A circuit breaker's state, as its row stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BreakerState {
    #[default]
    Closed,
    Open,
    /// Cooled down, with one trial call let through.
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    pub const ALL: [BreakerState; 3] = [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen,
    ];

    pub fn parse(text: &str) -> Option<BreakerState> {
        BreakerState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// How an `await` step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    Resolved,
    TimedOut,
}

impl WaitOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitOutcome::Resolved => "resolved",
            WaitOutcome::TimedOut => "timed_out",
        }
    }

    pub fn parse(text: &str) -> Option<WaitOutcome> {
        [WaitOutcome::Resolved, WaitOutcome::TimedOut]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// What decided an `await` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionSource {
    /// An event that matched (its id is recorded with it).
    Event,
    /// `wfc decide` (with the operating-system user who ran it).
    Cli,
    /// `POST /executions/ID/waits/STEP`.
    Api,
    /// The dashboard's form (the same route, said so by the page).
    Dashboard,
    /// The deadline passed.
    Deadline,
}

impl DecisionSource {
    pub const ALL: [DecisionSource; 5] = [
        DecisionSource::Event,
        DecisionSource::Cli,
        DecisionSource::Api,
        DecisionSource::Dashboard,
        DecisionSource::Deadline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionSource::Event => "event",
            DecisionSource::Cli => "cli",
            DecisionSource::Api => "api",
            DecisionSource::Dashboard => "dashboard",
            DecisionSource::Deadline => "deadline",
        }
    }

    pub fn parse(text: &str) -> Option<DecisionSource> {
        DecisionSource::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A change to an agent's assignment (`wfc agents`, `POST /agents/NAME/…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentChange {
    /// It gets no new calls until resumed.
    Pause,
    Resume,
    /// `any [skills]` calls of a skill stop choosing it.
    Exclude,
    Include,
}

impl AssignmentChange {
    pub const ALL: [AssignmentChange; 4] = [
        AssignmentChange::Pause,
        AssignmentChange::Resume,
        AssignmentChange::Exclude,
        AssignmentChange::Include,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentChange::Pause => "pause",
            AssignmentChange::Resume => "resume",
            AssignmentChange::Exclude => "exclude",
            AssignmentChange::Include => "include",
        }
    }

    pub fn parse(text: &str) -> Option<AssignmentChange> {
        AssignmentChange::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Whether it is about one skill (exclude, include) rather than the agent.
    pub fn takes_skill(self) -> bool {
        matches!(self, AssignmentChange::Exclude | AssignmentChange::Include)
    }
}

macro_rules! as_text {
    ($($ty:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                $ty::parse(text).ok_or_else(|| format!("`{text}` is not a status"))
            }
        }

        /// Rows compare with the text they are stored as (tests read them so).
        impl PartialEq<&str> for $ty {
            fn eq(&self, text: &&str) -> bool {
                self.as_str() == *text
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl ToParam for $ty {
            fn to_param(&self) -> Param<'_> {
                Param::Text(self.as_str().into())
            }
        }

        impl FromCell for $ty {
            const WHAT: &'static str = "a status wfc knows";
            fn from_cell(cell: &Cell) -> Option<Self> {
                match cell {
                    Cell::Text(text) => $ty::parse(text),
                    _ => None,
                }
            }
        }
    )*};
}
as_text!(
    ExecutionStatus,
    AttemptStatus,
    BreakerState,
    WaitOutcome,
    DecisionSource,
    AssignmentChange
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_text() {
        for status in ExecutionStatus::ALL {
            assert_eq!(ExecutionStatus::parse(status.as_str()), Some(status));
        }
        for kind in ErrorKind::ALL {
            let status = AttemptStatus::Failed(kind);
            assert_eq!(AttemptStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(
            AttemptStatus::parse("interrupted"),
            Some(AttemptStatus::Interrupted)
        );
        assert_eq!(ExecutionStatus::parse("done"), None);
    }
}
