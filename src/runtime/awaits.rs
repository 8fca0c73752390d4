//! `await` steps: an execution waits for a decision — an event that matches its
//! pattern, fits its shape and makes its `where` true, or one given directly
//! (`wfc decide`, the API, the dashboard) — until its deadline. The wait row in
//! the store is decided once, by whichever comes first, so nothing is applied
//! twice across resume, restarts or several workers; events recorded after the
//! execution started count, also those that came before the step was reached.

use super::engine::{store_abort, Attempt, Env, Run};
use super::error::{Abort, StepError};
use super::eval;
use crate::program::{Await, ErrorKind};
use crate::store::{self, Decision, DecisionSource, NewWait, WaitOutcome};
use serde_json::Value;
use std::time::Duration;

/// How soon a wait looks again for what other processes recorded (a decision,
/// an event) after it found something, and at most how long it goes without
/// looking: each look that finds nothing doubles the pause, so a thousand
/// executions waiting for days cost a few queries a second each at most. What
/// this process records, or a server hears of, wakes it at once.
const LOOK_AGAIN: Duration = Duration::from_millis(100);
const LOOK_AT_MOST: Duration = Duration::from_secs(1);
/// In a server, which hears of other processes' events and decisions through
/// its store (`LISTEN`, SQLite's watch) and announces them: a look now and
/// then in case one was missed.
const LOOK_AT_MOST_TOLD: Duration = Duration::from_secs(30);

/// Events read per look.
const BATCH: usize = 256;

/// The name `where` reads the payload by.
const EVENT: &str = "event";

impl Run<'_> {
    pub(super) async fn await_decision(
        &self,
        awaited: &Await,
        env: &Env,
        step: &str,
    ) -> Result<Value, Abort> {
        let record = self.history.get(step);
        if let Some(done) = record.and_then(|r| r.completed.clone()) {
            return Ok(done);
        }
        self.engine.step_boundary().await;
        let clock = &self.engine.clock;
        let timeout = chrono::Duration::from_std(awaited.timeout).unwrap_or(chrono::Duration::MAX);
        let until = clock
            .now()
            .checked_add_signed(timeout)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        let wait = {
            // Busy until the wait row is committed: its deadline must not move
            // when a draining process stops here and a resume comes back.
            let _busy = self.engine.busy_guard();
            self.engine
                .record(|store| {
                    store.open_wait(&NewWait {
                        execution_id: &self.id,
                        step,
                        pattern: &awaited.pattern,
                        shape: &awaited.shape_text,
                        condition: awaited.condition_text.as_deref(),
                        until,
                    })
                })
                .map_err(store_abort)?
        };
        let deadline = store::parse_timestamp(&wait.until).unwrap_or(until);
        let input = serde_json::json!({ "await": awaited.pattern, "until": wait.until });
        let number = record.map_or(1, |r| r.attempts + 1);
        let attempt = Attempt::new(clock, step, None, number, Some(&input));
        let id = {
            let _busy = self.engine.busy_guard();
            self.start_attempt(&attempt).await?
        };
        let mut news = self.engine.news();
        let mut seen = 0;
        let mut pause = LOOK_AGAIN;
        let at_most = if self.engine.is_told_of_news() {
            LOOK_AT_MOST_TOLD
        } else {
            LOOK_AT_MOST
        };
        loop {
            let row = self
                .engine
                .record(|store| store.wait(&self.id, step))
                .map_err(store_abort)?;
            match row.as_ref().and_then(|r| r.outcome.map(|o| (o, r))) {
                Some((WaitOutcome::Resolved, row)) => {
                    let payload = row.payload.clone().unwrap_or(Value::Null);
                    self.finish_attempt(Some(id), &attempt, Ok(&payload), None)
                        .await?;
                    return Ok(payload);
                }
                Some((WaitOutcome::TimedOut, _)) => {
                    let error = StepError {
                        kind: ErrorKind::Timeout,
                        message: format!(
                            "no decision for `{step}` (\"{}\") within {}",
                            awaited.pattern,
                            crate::duration::format(awaited.timeout)
                        ),
                        step: step.to_string(),
                        agent: None,
                        attempts: number,
                    };
                    self.finish_attempt(Some(id), &attempt, Err(&error), None)
                        .await?;
                    return Err(Abort::Step(error));
                }
                None => {}
            }
            let (decided, more) =
                self.look_at_events(awaited, env, step, &wait.until, &mut seen)?;
            if decided || more {
                continue;
            }
            if clock.now() >= deadline {
                let timed_out = Decision {
                    outcome: WaitOutcome::TimedOut,
                    payload: None,
                    source: DecisionSource::Deadline,
                    os_user: None,
                    decided_by: None,
                    event_id: None,
                };
                self.engine
                    .record(|store| store.decide(&self.id, step, &timed_out))
                    .map_err(store_abort)?;
                continue;
            }
            let look_again = async {
                if clock.is_manual() {
                    std::future::pending::<()>().await
                } else {
                    tokio::time::sleep(pause).await
                }
            };
            tokio::select! {
                _ = clock.sleep_until(deadline) => {}
                _ = news.changed() => pause = LOOK_AGAIN,
                _ = look_again => pause = (pause * 2).min(at_most),
            }
        }
    }

    /// Reads the events recorded since `seen` and by the deadline `until` (one
    /// recorded later is too late, even when this process looks after it); the
    /// first that matches, fits and makes `where` true decides the wait. Answers whether one decided it, and
    /// whether there may be more to read at once.
    fn look_at_events(
        &self,
        awaited: &Await,
        env: &Env,
        step: &str,
        until: &str,
        seen: &mut i64,
    ) -> Result<(bool, bool), Abort> {
        let events = self
            .engine
            .record(|store| store.candidate_events(&self.id, *seen, until, BATCH))
            .map_err(store_abort)?;
        let more = events.len() == BATCH;
        for (event_id, name, payload) in events {
            *seen = event_id;
            if !crate::program::matches(&awaited.pattern, &name) {
                continue;
            }
            match self.takes(awaited, env, step, &payload) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(reason) => {
                    self.engine
                        .record(|store| store.refuse_delivery(&self.id, step, event_id, &reason))
                        .map_err(store_abort)?;
                    continue;
                }
            }
            let decision = Decision {
                outcome: WaitOutcome::Resolved,
                payload: Some(&payload),
                source: DecisionSource::Event,
                os_user: None,
                decided_by: None,
                event_id: Some(event_id),
            };
            let won = self
                .engine
                .record(|store| store.decide(&self.id, step, &decision))
                .map_err(store_abort)?;
            if won {
                return Ok((true, false));
            }
        }
        Ok((false, more))
    }

    /// Whether a payload decides the wait: `Err` with the reason when it does not
    /// fit the shape (or `where` cannot be evaluated over it), else whether
    /// `where` holds.
    fn takes(
        &self,
        awaited: &Await,
        env: &Env,
        step: &str,
        payload: &Value,
    ) -> Result<bool, String> {
        let mismatches = awaited.shape.mismatches(payload);
        if !mismatches.is_empty() {
            let listed: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
            return Err(format!(
                "the payload does not fit {}: {}",
                awaited.shape_text,
                listed.join("; ")
            ));
        }
        let Some(condition) = &awaited.condition else {
            return Ok(true);
        };
        let mut scope = env.clone();
        scope.bind(EVENT, payload.clone());
        let value = self
            .engine
            .eval(condition, &scope, step)
            .map_err(|_| "its `where` condition could not be evaluated over it".to_string())?;
        eval::truth(&value, condition.span, "a `where` condition").map_err(|e| e.message)
    }
}
