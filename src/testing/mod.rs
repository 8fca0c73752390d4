//! `wfc test`: each `test` block runs on an engine of its own, with a fresh
//! in-memory store, its mocks in place of their agents, and a virtual clock that
//! jumps to the next deadline whenever every execution waits (a `wait`, a retry
//! delay, a mock's `takes`, a breaker's cool-down) and no real agent call is in
//! flight. Tests share nothing, so they run concurrently. Then each expectation is
//! read off the store.

mod expect;
pub mod report;

use crate::clock::ManualClock;
use crate::program::{Program, Start, Test, TriggerKind};
use crate::runtime::{constant, Begun, Engine, Origin, Silent};
use crate::source::{Sources, Span};
use crate::store::{StartedBy, Store, StoreError};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where every test's virtual clock starts: a fixed instant, so `now()`, periods
/// and recorded times are the same on every run.
pub const START: &str = "2026-01-05T09:00:00Z";
/// A test whose executions still wait after this much virtual time fails.
const VIRTUAL_LIMIT: Duration = Duration::from_secs(366 * 86_400);
/// A test whose real agents take longer than this in all fails.
const REAL_LIMIT: Duration = Duration::from_secs(120);

/// How one test went.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    /// The test's name in its file, where a report points.
    pub span: Span,
    /// Expectations that did not hold, or why the run could not happen; empty when
    /// the test passed.
    pub failures: Vec<Failure>,
    pub virtual_time: Duration,
    pub real_time: Duration,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// One thing that did not hold, at the statement that said it should.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub span: Span,
    pub message: String,
}

/// Runs the tests of `program` whose names contain `filter`, at most `jobs` at
/// once, and returns their outcomes in the order they are declared.
pub fn run(
    program: &Program,
    sources: &Sources,
    root: &Path,
    filter: Option<&str>,
    jobs: usize,
) -> Result<Vec<Outcome>, std::io::Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let selected: Vec<&Test> = program
        .tests
        .iter()
        .filter(|t| filter.is_none_or(|f| t.name.contains(f)))
        .collect();
    let limit = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let outcomes = runtime.block_on(async {
        let running: Vec<_> = selected
            .iter()
            .map(|test| {
                let (test, program, sources) = ((*test).clone(), program.clone(), sources.clone());
                let (root, limit) = (root.to_path_buf(), limit.clone());
                tokio::spawn(async move {
                    let _turn = limit.acquire().await;
                    run_one(&test, program, sources, &root).await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for (test, task) in selected.iter().zip(running) {
            outcomes.push(task.await.unwrap_or_else(|panic| Outcome {
                name: test.name.clone(),
                span: test.span,
                failures: vec![Failure {
                    span: test.span,
                    message: format!("the test runner failed: {panic}"),
                }],
                virtual_time: Duration::ZERO,
                real_time: Duration::ZERO,
            }));
        }
        outcomes
    });
    Ok(outcomes)
}

async fn run_one(test: &Test, program: Program, sources: Sources, root: &Path) -> Outcome {
    let started = Instant::now();
    let start = crate::store::parse_timestamp(START).unwrap_or_default();
    let clock = ManualClock::new(start);
    let mut outcome = Outcome {
        name: test.name.clone(),
        span: test.span,
        failures: Vec::new(),
        virtual_time: Duration::ZERO,
        real_time: Duration::ZERO,
    };
    let fail = |message: String| Failure {
        span: test.span,
        message,
    };
    let store = match Store::in_memory() {
        Ok(store) => store,
        Err(error) => {
            outcome
                .failures
                .push(fail(format!("cannot open a store: {error}")));
            return outcome;
        }
    };
    let engine = Engine::new(
        program,
        sources,
        root,
        store,
        Arc::new(Silent),
        clock.clock(),
    )
    .with_mocks(&test.mocks);
    let engine = Arc::new(engine);
    let subject = match begin(test, &engine, start) {
        Ok(begun) if begun.is_empty() => {
            outcome
                .failures
                .push(fail("the test started no execution".into()));
            return outcome;
        }
        Ok(begun) => begun,
        Err(message) => {
            outcome.failures.push(fail(message));
            return outcome;
        }
    };
    let subject_id = subject[0].id.clone();
    // Each `send` records its event at its virtual time, then wakes the waits.
    let senders: Vec<_> = test
        .sends
        .iter()
        .map(|send| {
            let (engine, clock) = (engine.clone(), clock.clock());
            let send = send.clone();
            tokio::spawn(async move {
                clock.sleep(send.after).await;
                let payload = match &send.payload {
                    Some(expr) => constant(expr, clock.now()).map_err(|e| e.message)?,
                    None => json!({}),
                };
                engine
                    .with_store(|store| store.record_event(&send.name, &payload, None))
                    .map_err(|e| e.to_string())?;
                engine.announce();
                Ok::<(), String>(())
            })
        })
        .collect();
    let tasks: Vec<_> = subject
        .into_iter()
        .map(|begun| {
            let engine = engine.clone();
            tokio::spawn(async move { engine.proceed(begun).await })
        })
        .collect();
    if let Err(message) = drive(&engine, &clock, &tasks, started).await {
        for task in &tasks {
            task.abort();
        }
        // What an unfinished run recorded says nothing about the expectations.
        outcome.failures.push(fail(message));
        outcome.virtual_time = (clock.now() - start).to_std().unwrap_or_default();
        outcome.real_time = started.elapsed();
        return outcome;
    }
    for task in tasks {
        if let Ok(Err(error)) = task.await {
            outcome
                .failures
                .push(fail(format!("the store failed during the run: {error}")));
        }
    }
    // A send due after the run ended is not sent: the run did not wait for it.
    for sender in senders {
        if sender.is_finished() {
            if let Ok(Err(message)) = sender.await {
                outcome
                    .failures
                    .push(fail(format!("cannot send an event: {message}")));
            }
        } else {
            sender.abort();
        }
    }
    outcome.virtual_time = (clock.now() - start).to_std().unwrap_or_default();
    let failures = engine
        .with_store(|store| expect::check(test, engine.program(), store, &subject_id, clock.now()));
    match failures {
        Ok(failures) => outcome.failures.extend(failures),
        Err(error) => outcome
            .failures
            .push(fail(format!("cannot read what the run recorded: {error}"))),
    }
    outcome.real_time = started.elapsed();
    outcome
}

/// Lets the executions run, moving virtual time to the next deadline whenever
/// they all wait on it and no real agent call is in flight.
async fn drive(
    engine: &Engine,
    clock: &ManualClock,
    tasks: &[tokio::task::JoinHandle<Result<crate::runtime::Execution, StoreError>>],
    started: Instant,
) -> Result<(), String> {
    let start = clock.now();
    let mut settled = 0;
    while !tasks.iter().all(|t| t.is_finished()) {
        tokio::time::sleep(Duration::from_millis(1)).await;
        if started.elapsed() > REAL_LIMIT {
            return Err(format!(
                "the run did not finish within {}s of real time",
                REAL_LIMIT.as_secs()
            ));
        }
        // Two quiet looks in a row: a task just woken has had time to run.
        let quiet = engine.real_calls() == 0 && clock.sleepers() > 0;
        settled = if quiet { settled + 1 } else { 0 };
        if settled < 2 {
            continue;
        }
        settled = 0;
        let Some(next) = clock.next_deadline() else {
            continue;
        };
        if (next - start).to_std().unwrap_or_default() > VIRTUAL_LIMIT {
            return Err(format!(
                "the run still waits after {} days of virtual time (until {})",
                VIRTUAL_LIMIT.as_secs() / 86_400,
                crate::store::timestamp(next)
            ));
        }
        clock.set(next);
    }
    Ok(())
}

/// Records the given samples and starts what the test runs: the executions begun,
/// the subject first.
fn begin(test: &Test, engine: &Engine, now: DateTime<Utc>) -> Result<Vec<Begun>, String> {
    let program = engine.program();
    let value = |expr: &Option<crate::ast::Expr>| match expr {
        Some(expr) => constant(expr, now).map_err(|e| e.message),
        None => Ok(json!({})),
    };
    for (series, sample) in &test.given_metrics {
        engine
            .with_store(|store| store.record_metric(series, *sample, now))
            .map_err(|e| e.to_string())?;
    }
    let mut starts: Vec<(String, Value, Option<String>)> = Vec::new();
    match &test.start {
        Start::Run { workflow, input } => {
            let name = program.workflow(*workflow).name.clone();
            starts.push((name, value(input)?, None));
        }
        Start::Event { name, payload } => {
            let payload = value(payload)?;
            for trigger in program.triggers() {
                let TriggerKind::Event { pattern } = &trigger.kind else {
                    continue;
                };
                if crate::program::matches(pattern, name) {
                    for workflow in &trigger.workflows {
                        let workflow = program.workflow(*workflow).name.clone();
                        starts.push((workflow, payload.clone(), Some(trigger.name.clone())));
                    }
                }
            }
        }
        Start::Metrics => {
            for trigger in program.triggers() {
                let TriggerKind::Metric(metric) = &trigger.kind else {
                    continue;
                };
                let (value, period) = engine
                    .with_store(|store| {
                        store.metric_value(&metric.query, now, metric.timezone, None)
                    })
                    .map_err(|e| e.to_string())?;
                if value.is_some_and(|v| metric.op.holds(v, metric.target)) {
                    let input = json!({ "trigger": trigger.name, "metric": metric.query.series, "value": value, "period": period });
                    for workflow in &trigger.workflows {
                        let workflow = program.workflow(*workflow).name.clone();
                        starts.push((workflow, input.clone(), Some(trigger.name.clone())));
                    }
                }
            }
        }
    }
    starts
        .into_iter()
        .map(|(workflow, input, trigger)| {
            let origin = Origin {
                trigger: Some(match &trigger {
                    Some(name) => StartedBy::Trigger(name),
                    None => StartedBy::Manual,
                }),
                ..Origin::default()
            };
            let id = uuid::Uuid::now_v7().to_string();
            engine
                .begin(id, &workflow, input, origin)
                .map_err(|e| e.to_string())
        })
        .collect()
}
