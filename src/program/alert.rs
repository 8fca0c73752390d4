//! Alerts as the checked program holds them: a condition over the store that
//! `wfc serve` evaluates, and where a firing goes.

use super::GoalStatus as Status;
use crate::ast::CompareOp;
use std::time::Duration;

/// What an alert's signal measures over its window, for one workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Failed over finished executions, 0 to 1 (none finished: no value).
    FailureRate,
    /// Executions that failed.
    Failures,
}

impl Signal {
    pub const ALL: [Signal; 2] = [Signal::FailureRate, Signal::Failures];

    pub fn name(self) -> &'static str {
        match self {
            Signal::FailureRate => "failure_rate",
            Signal::Failures => "failures",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.into_iter().map(Signal::name)
    }

    /// What a threshold of this signal must be, when `value` is not one.
    pub fn threshold_problem(self, value: f64) -> Option<&'static str> {
        match self {
            Signal::FailureRate if !(0.0..=1.0).contains(&value) => {
                Some("a failure rate is a share from 0 to 1")
            }
            Signal::Failures if value < 0.0 || value.fract() != 0.0 || !value.is_finite() => {
                Some("a count of failures is a whole number of at least 0")
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Alert {
    pub name: String,
    pub condition: Condition,
    /// The condition as written, for messages and the dashboard.
    pub text: String,
    pub webhook: Option<url::Url>,
    pub emit: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Condition {
    Signal {
        signal: Signal,
        workflow: String,
        op: CompareOp,
        threshold: f64,
        within: Duration,
    },
    Goal {
        goal: String,
        status: Status,
    },
}
