//! Reading a test's expectations off the store its run wrote: each that does not
//! hold becomes a [`Failure`] saying what was expected and what was found.

use super::Failure;
use crate::ast::{Access, CompareOp, RunStatus};
use crate::program::{ExpectationKind, Program, Test};
use crate::runtime::{constant, describe};
use crate::store::{ExecutionStatus, Store, StoreError, WaitOutcome, WaitRow};
use chrono::{DateTime, Utc};
use serde_json::Value;

pub fn check(
    test: &Test,
    program: &Program,
    store: &Store,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Failure>, StoreError> {
    let execution = store.execution(subject)?;
    let mut failures = Vec::new();
    for expectation in &test.expectations {
        let problem = match &expectation.kind {
            ExpectationKind::Status(status) => {
                let wanted = match status {
                    RunStatus::Completed => ExecutionStatus::Completed,
                    RunStatus::Failed => ExecutionStatus::Failed,
                };
                (execution.status != wanted).then(|| {
                    let why = execution
                        .error
                        .as_ref()
                        .map(|e| format!(": {}", e["message"].as_str().unwrap_or_default()))
                        .unwrap_or_default();
                    format!(
                        "expected status {}, found {}{why}",
                        wanted.as_str(),
                        execution.status.as_str()
                    )
                })
            }
            ExpectationKind::DeadLetter => {
                let letters = store.dead_letters()?;
                (!letters.iter().any(|l| l.execution_id == subject))
                    .then(|| "expected a dead letter, found none".to_string())
            }
            ExpectationKind::Event { name, payload } => {
                let emitted: Vec<_> = store
                    .events(None)?
                    .into_iter()
                    .filter(|e| e.execution_id.is_some())
                    .collect();
                let wanted = payload
                    .as_ref()
                    .map(|expr| constant(expr, now).unwrap_or(Value::Null));
                let found = emitted.iter().any(|e| {
                    &e.name == name && wanted.as_ref().is_none_or(|w| contains(&e.payload, w))
                });
                (!found).then(|| {
                    let seen: Vec<String> = emitted
                        .iter()
                        .rev()
                        .map(|e| format!("{} {}", e.name, e.payload))
                        .collect();
                    let wanted = wanted.map(|w| format!(" {w}")).unwrap_or_default();
                    match seen.as_slice() {
                        [] => format!("expected event {name}{wanted}, found no event emitted"),
                        _ => format!(
                            "expected event {name}{wanted}, found only: {}",
                            seen.join("; ")
                        ),
                    }
                })
            }
            ExpectationKind::Metric { query, op, target } => {
                let (value, _) = store.metric_value(query, now, program.timezone, None)?;
                match value {
                    Some(v) if op.holds(v, *target) => None,
                    Some(v) => Some(format!(
                        "expected metric {} {} {target}, found {v}",
                        query.series,
                        op.symbol()
                    )),
                    None => Some(format!(
                        "expected metric {} {} {target}, found no sample",
                        query.series,
                        op.symbol()
                    )),
                }
            }
            ExpectationKind::Called { agent, times } => {
                let name = &program.agent(*agent).name;
                let calls = store
                    .all_attempts(None)?
                    .iter()
                    .filter(|a| a.agent.as_deref() == Some(name.as_str()))
                    .count();
                (calls != *times as usize)
                    .then(|| format!("expected `{name}` called {times} times, found {calls}"))
            }
            ExpectationKind::StepAttempts { step, attempts } => {
                let rows = store.attempts(subject)?;
                let found = rows.iter().filter(|a| &a.step == step).count();
                (found != *attempts as usize).then(|| {
                    let mut steps: Vec<&str> = rows.iter().map(|a| a.step.as_str()).collect();
                    steps.dedup();
                    format!(
                        "expected step `{step}` to have {attempts} attempts, found {found} (steps recorded: {})",
                        steps.join(", ")
                    )
                })
            }
            ExpectationKind::StepResolved { step, with } => {
                let wanted = with
                    .as_ref()
                    .map(|expr| constant(expr, now).unwrap_or(Value::Null));
                match store.wait(subject, step)? {
                    Some(wait) if wait.outcome == Some(WaitOutcome::Resolved) => {
                        let payload = wait.payload.unwrap_or(Value::Null);
                        wanted.filter(|w| *w != payload).map(|w| {
                            format!("expected step `{step}` resolved with {w}, found it resolved with {payload}")
                        })
                    }
                    found => Some(format!(
                        "expected step `{step}` resolved, found {}",
                        how_ended(found.as_ref())
                    )),
                }
            }
            ExpectationKind::StepTimedOut { step } => match store.wait(subject, step)? {
                Some(wait) if wait.outcome == Some(WaitOutcome::TimedOut) => None,
                found => Some(format!(
                    "expected step `{step}` timed out, found {}",
                    how_ended(found.as_ref())
                )),
            },
            ExpectationKind::Output { path, op, value } => {
                let result = execution.result.clone().unwrap_or(Value::Null);
                output(&result, path, *op, value, now)
            }
        };
        if let Some(message) = problem {
            failures.push(Failure {
                span: expectation.span,
                message,
            });
        }
    }
    Ok(failures)
}

/// How an `await` step ended, for a failed expectation.
fn how_ended(wait: Option<&WaitRow>) -> String {
    match wait {
        None => "no wait by that name (the run never reached it)".to_string(),
        Some(wait) => match (wait.outcome, &wait.payload) {
            (None, _) => "it is still waiting".to_string(),
            (Some(WaitOutcome::TimedOut), _) => "it timed out".to_string(),
            (Some(WaitOutcome::Resolved), Some(payload)) => format!("it resolved with {payload}"),
            (Some(WaitOutcome::Resolved), None) => "it resolved".to_string(),
        },
    }
}

/// Whether `output.path op value` holds; what was found when it does not.
fn output(
    result: &Value,
    path: &[Access],
    op: CompareOp,
    value: &crate::ast::Expr,
    now: DateTime<Utc>,
) -> Option<String> {
    let mut shown = String::from("output");
    let mut found = result;
    for access in path {
        let next = match access {
            Access::Field(key) => {
                shown.push('.');
                shown.push_str(&key.name);
                found.get(&key.name)
            }
            Access::Index(index) => {
                let index = constant(index, now).unwrap_or(Value::Null);
                shown.push_str(&format!("[{index}]"));
                match &index {
                    Value::Number(n) => n.as_u64().and_then(|i| found.get(i as usize)),
                    Value::String(key) => found.get(key),
                    _ => None,
                }
            }
        };
        found = next.unwrap_or(&Value::Null);
    }
    let wanted = match constant(value, now) {
        Ok(wanted) => wanted,
        Err(error) => {
            return Some(format!(
                "cannot compute the expected value: {}",
                error.message
            ))
        }
    };
    let holds = match (op, found.as_f64(), wanted.as_f64()) {
        (CompareOp::Eq, Some(a), Some(b)) => a == b,
        (CompareOp::Ne, Some(a), Some(b)) => a != b,
        (CompareOp::Eq, ..) => *found == wanted,
        (CompareOp::Ne, ..) => *found != wanted,
        (op, Some(a), Some(b)) => op.holds(a, b),
        _ => false,
    };
    (!holds).then(|| {
        format!(
            "expected {shown} {} {wanted}, found {}",
            op.symbol(),
            describe(found)
        )
    })
}

/// Whether `value` has every field of `wanted` with an equal value (recursively
/// for objects); anything else must be equal.
fn contains(value: &Value, wanted: &Value) -> bool {
    match (value, wanted) {
        (Value::Object(have), Value::Object(want)) => want
            .iter()
            .all(|(k, w)| have.get(k).is_some_and(|h| contains(h, w))),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => value == wanted,
    }
}
