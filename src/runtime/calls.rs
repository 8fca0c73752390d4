//! Calling agents and sub-workflows: choosing the agent, retries with backoff, the
//! circuit breaker, capacity, and reusing what a resumed execution already did.

use super::agent::{self, AgentCall, Answer, Failure};
use super::breaker::{self, Admission};
use super::engine::{attempt_end, elapsed_ms, store_abort, Attempt, Env, ParentAttempt, Run};
use super::error::{Abort, ErrorKind, StepError};
use super::retry::Plan;
use super::scheduler::Claim;
use crate::clock::{Clock, Timer};
use crate::program::{Agent, AgentBody, Call, CallTarget, RetryPlan, Workflow};
use crate::store::{AttemptEnd, ExecutionStatus, Outcome};
use serde_json::Value;
use std::collections::HashMap;

impl Run<'_> {
    pub(super) async fn call(&self, call: &Call, env: &Env, step: &str) -> Result<Value, Abort> {
        let argument = self.engine.eval(&call.argument, env, step)?;
        match &call.target {
            CallTarget::Agent(id) => {
                let agent = self.engine.program.agent(*id);
                self.call_agent(agent, argument, Some(call), step, None)
                    .await
            }
            CallTarget::AnyOf { agents, skills } => {
                let candidates: Vec<&Agent> = agents
                    .iter()
                    .map(|id| self.engine.program.agent(*id))
                    .collect();
                let names: Vec<&str> = candidates.iter().map(|a| a.name.as_str()).collect();
                // Only the agents assigned to these skills now.
                let names = self.engine.available(&names, skills, step).await;
                let claim = self.engine.scheduler.claim_least_loaded(&names);
                let agent = candidates
                    .iter()
                    .find(|a| a.name == claim.agent())
                    .unwrap_or(&candidates[0]);
                self.call_agent(agent, argument, Some(call), step, Some(claim))
                    .await
            }
            CallTarget::Workflow(id) => {
                let workflow = self.engine.program.workflow(*id);
                self.call_workflow(workflow, argument, step).await
            }
        }
    }

    /// The retry policy of a call: the step's own, else the workflow's, else the
    /// agent's (the nearest wins); none means a single attempt.
    fn retry_policy(&self, agent: &Agent, call: Option<&Call>) -> Option<&RetryPlan> {
        self.engine.program.retry_for(self.workflow, agent, call)
    }

    /// Calls an agent until it succeeds or its retry policy gives up. Each attempt
    /// is its own row, with the delay slept before it. `claim` is the scheduler's
    /// pick for an `any [skills]` step.
    pub(super) async fn call_agent(
        &self,
        agent: &Agent,
        input: Value,
        call: Option<&Call>,
        step: &str,
        mut claim: Option<Claim>,
    ) -> Result<Value, Abort> {
        let name = agent.name.as_str();
        self.involve(name);
        let record = self.history.get(step);
        if let Some(output) = record.and_then(|r| r.completed.clone()) {
            return Ok(output);
        }
        let plan = Plan::new(self.retry_policy(agent, call));
        let earlier_attempts = record.map_or(0, |r| r.attempts);
        let timeout = call.and_then(|c| c.timeout).or(agent.timeout);
        let mut delay = None;
        for n in 1.. {
            if let Some(pause) = delay {
                self.engine.clock.sleep(pause).await;
            }
            self.engine.step_boundary().await;
            // A paused agent gets no new call: this one waits until it is resumed.
            self.engine.available(&[name], &[], step).await;
            let number = earlier_attempts + n;
            let mut held = claim
                .take()
                .unwrap_or_else(|| self.engine.scheduler.claim(name));
            held.acquire().await;
            let slot = match agent.capacity {
                Some(capacity) => Some(
                    self.engine
                        .take_slot(name, capacity.get())
                        .await
                        .map_err(store_abort)?,
                ),
                None => None,
            };
            // Timed from when capacity allows the call, not from when it queued.
            let mut attempt =
                Attempt::new(&self.engine.clock, step, Some(name), number, Some(&input));
            attempt.delay = delay;
            // A compute step cannot be caught in flight: its row is written once, done.
            let computed = matches!(agent.body, AgentBody::Compute(_));
            let id = if computed {
                None
            } else {
                Some(self.start_attempt(&attempt).await?)
            };
            let _busy = self.engine.busy_guard();
            let result = match agent.input.admits(&input) {
                Err(mismatch) => Err(Failure::new(
                    ErrorKind::InvalidInput,
                    format!("the input does not fit `{name}`: {mismatch}"),
                )),
                Ok(()) => {
                    let request = AgentCall {
                        agent,
                        input: &input,
                        execution_id: &self.id,
                        step,
                        attempt: number,
                        timeout,
                        clock: &self.engine.clock,
                        redact: &self.engine.secrets,
                    };
                    self.guarded(agent, step, request).await?
                }
            };
            drop(slot);
            drop(held);
            // `_busy` lasts until the attempt's end is committed (the loop body's
            // end): a draining process that stops once no call is busy must not
            // stop between a finished call and its row.
            let failure = match result {
                Ok(answer) => {
                    attempt.tokens = answer.tokens;
                    self.finish_attempt(id, &attempt, Ok(&answer.output), None)
                        .await?;
                    return Ok(answer.output);
                }
                Err(failure) => failure,
            };
            attempt.tokens = failure.tokens;
            let error = StepError {
                kind: failure.kind,
                message: failure.message,
                step: step.to_string(),
                agent: Some(name.to_string()),
                attempts: n,
            };
            let stderr = failure.stderr_tail.as_deref();
            self.finish_attempt(id, &attempt, Err(&error), stderr)
                .await?;
            if n >= plan.attempts() || !plan.retries(error.kind) {
                return Err(Abort::Step(error));
            }
            let planned = plan.delay(n, (&self.id, step, number));
            delay = Some(match failure.retry_after {
                Some(asked) => plan.honour(asked).max(planned),
                None => planned,
            });
        }
        unreachable!("the attempt loop returns")
    }

    /// One invocation behind the agent's circuit breaker, if it has one.
    async fn guarded(
        &self,
        agent: &Agent,
        step: &str,
        request: AgentCall<'_>,
    ) -> Result<Result<Answer, Failure>, Abort> {
        let Some(policy) = &agent.breaker else {
            return Ok(self.invoke(step, request).await);
        };
        let name = agent.name.as_str();
        let now = self.engine.clock.now();
        let admission = self
            .engine
            .record(|store| store.breaker_update(name, |row| breaker::admit(row, policy, now)))
            .map_err(store_abort)?;
        if let Admission::Rejected { until } = admission {
            return Ok(Err(Failure::new(
                ErrorKind::CircuitOpen,
                format!(
                    "the circuit breaker of `{name}` is open until {}",
                    crate::store::timestamp(until)
                ),
            )));
        }
        let result = self.invoke(step, request).await;
        let counts = match &result {
            Ok(_) => Some(true),
            Err(f) if f.kind.counts_against_breaker() => Some(false),
            Err(_) => None,
        };
        if let Some(success) = counts {
            let now = self.engine.clock.now();
            self.engine
                .record(|store| {
                    store.breaker_update(name, |row| breaker::record(row, success, policy, now))
                })
                .map_err(store_abort)?;
        }
        Ok(result)
    }

    /// One invocation: the test's mock of the agent, or the agent itself.
    async fn invoke(&self, step: &str, request: AgentCall<'_>) -> Result<Answer, Failure> {
        if let Some(mocked) = self.engine.mocks.invoke(&request).await {
            return mocked.map(Answer::from);
        }
        let _real = self.engine.real_call();
        agent::invoke(request, |e| self.engine.expression_error(e, step)).await
    }

    /// Runs a sub-workflow as its own execution, linked to this step. On resume, a
    /// completed child's result is reused and a running child is resumed.
    async fn call_workflow(
        &self,
        workflow: &Workflow,
        input: Value,
        step: &str,
    ) -> Result<Value, Abort> {
        let name = workflow.name.as_str();
        let record = self.history.get(step);
        if let Some(output) = record.and_then(|r| r.completed.clone()) {
            return Ok(output);
        }
        if self.depth >= MAX_SUB_WORKFLOW_DEPTH {
            // A child runs inside its parent's future: thousands of levels
            // would overflow the stack that polls them.
            return Err(Abort::Step(StepError {
                kind: ErrorKind::Failed,
                message: format!(
                    "sub-workflow `{name}` would nest {} levels deep; at most {MAX_SUB_WORKFLOW_DEPTH} run inside each other",
                    self.depth + 1
                ),
                step: step.to_string(),
                agent: None,
                attempts: 0,
            }));
        }
        self.engine.step_boundary().await;
        let number = record.map_or(1, |r| r.attempts + 1);
        let attempt = Attempt::new(&self.engine.clock, step, None, number, Some(&input));
        let mismatch = workflow
            .input
            .as_ref()
            .and_then(|declared| declared.admits(&input).err());
        let earlier = record.and_then(|r| r.child.as_deref());
        // A new child is written with the attempt that starts it.
        let fresh =
            (mismatch.is_none() && earlier.is_none()).then(|| uuid::Uuid::now_v7().to_string());
        let id = match &fresh {
            Some(child) => {
                self.start_attempt_with_child(&attempt, child, workflow, &input)
                    .await?
            }
            None => self.start_attempt(&attempt).await?,
        };
        let parent = ParentEnd {
            execution_id: self.id.clone(),
            attempt_id: id,
            step: step.to_string(),
            number,
            started: attempt.started,
            depth: self.depth + 1,
        };
        let (result, written) = match mismatch {
            Some(mismatch) => (
                Err(StepError {
                    kind: ErrorKind::InvalidInput,
                    message: format!("the input does not fit workflow `{name}`: {mismatch}"),
                    step: step.to_string(),
                    agent: None,
                    attempts: number,
                }),
                false,
            ),
            None => {
                let child = match fresh {
                    Some(fresh) => Child::Started(fresh),
                    None => Child::Earlier(earlier),
                };
                let (outcome, written) = self
                    .child_execution(workflow, input.clone(), parent, child)
                    .await
                    .map_err(store_abort)?;
                (child_result(name, outcome, step, number), written)
            }
        };
        if written {
            let duration_ms = elapsed_ms(&self.engine.clock, attempt.started);
            self.report_end(&attempt, duration_ms, result.as_ref(), None);
        } else {
            self.finish_attempt(Some(id), &attempt, result.as_ref(), None)
                .await?;
        }
        result.map_err(Abort::Step)
    }

    /// The child execution of a sub-workflow step: the one started with the
    /// attempt, or an earlier one reused or resumed when a resumed parent finds
    /// one, else a new one. With its outcome, whether the child's last write
    /// ended the `parent` attempt too (not when a completed child is reused).
    async fn child_execution(
        &self,
        workflow: &Workflow,
        input: Value,
        parent: ParentEnd,
        child: Child<'_>,
    ) -> Result<(Outcome, bool), crate::store::StoreError> {
        let earlier = match child {
            Child::Started(id) => {
                let execution =
                    self.engine
                        .execute(id, workflow, input, HashMap::new(), Some(parent));
                return Ok((execution.await?.outcome, true));
            }
            Child::Earlier(earlier) => earlier,
        };
        if let Some(child_id) = earlier {
            // One write that may share its commit: a resumed fan-out takes its
            // thousands of children over together, not one commit each.
            let (parent_id, attempt_id, id) =
                (self.id.clone(), parent.attempt_id, child_id.to_string());
            let (child, history) = self
                .engine
                .write(move |store| {
                    store.link_child(&parent_id, attempt_id, &id)?;
                    let child = store.execution(&id)?;
                    if child.status != ExecutionStatus::Running {
                        return Ok((child, HashMap::new()));
                    }
                    let me = super::worker::me();
                    store.claim_execution(&child, me.pid, &me.id)?;
                    store.mark_interrupted(&id)?;
                    let history = store.step_records(&id)?;
                    Ok((child, history))
                })
                .await?;
            match child.status {
                ExecutionStatus::Completed => {
                    let value = child.result.unwrap_or(Value::Null);
                    return Ok((Outcome::Completed(value), false));
                }
                ExecutionStatus::Running => {
                    let execution = self
                        .engine
                        .execute(child.id, workflow, child.input, history, Some(parent))
                        .await?;
                    return Ok((execution.outcome, true));
                }
                // A failed or cancelled child is not reused: the step runs again.
                // (Sub-workflows start running, never queued.)
                ExecutionStatus::Failed | ExecutionStatus::Cancelled | ExecutionStatus::Queued => {}
            }
        }
        let child = uuid::Uuid::now_v7().to_string();
        let attempt = ParentAttempt::Written {
            execution_id: self.id.clone(),
            step: parent.step.clone(),
            id: parent.attempt_id,
        };
        self.engine
            .start_child(&child, workflow, &input, attempt)
            .await?;
        let execution = self
            .engine
            .execute(child, workflow, input, HashMap::new(), Some(parent))
            .await?;
        Ok((execution.outcome, true))
    }
}

/// A sub-workflow step's attempt, ended in the same write as the child it ran:
/// one commit for the two ends, not two.
pub(super) struct ParentEnd {
    execution_id: String,
    attempt_id: i64,
    step: String,
    number: u32,
    started: Timer,
    /// How deep the child runs: 1 under a top-level execution.
    pub(super) depth: usize,
}

impl ParentEnd {
    /// The execution whose step runs the child.
    pub(super) fn execution_id(&self) -> &str {
        &self.execution_id
    }
}

/// How many sub-workflows may run inside each other.
pub const MAX_SUB_WORKFLOW_DEPTH: usize = 64;

impl ParentEnd {
    /// The attempt's end once its child, of `workflow`, ended with `outcome`:
    /// the parent execution, the attempt's id and its row's end.
    pub(super) fn ended(
        self,
        clock: &Clock,
        outcome: &Outcome,
        workflow: &Workflow,
    ) -> (String, i64, AttemptEnd) {
        let result = child_result(&workflow.name, outcome.clone(), &self.step, self.number);
        let end = attempt_end(clock, self.started, None, result.as_ref(), None);
        (self.execution_id, self.attempt_id, end)
    }
}

/// What a sub-workflow step yields when its child ends with `outcome`.
fn child_result(
    workflow: &str,
    outcome: Outcome,
    step: &str,
    attempts: u32,
) -> Result<Value, StepError> {
    let message = match outcome {
        Outcome::Completed(value) => return Ok(value),
        Outcome::Failed(error) => format!(
            "sub-workflow `{workflow}` failed: {}",
            error["message"].as_str().unwrap_or("")
        ),
        Outcome::Cancelled => format!("sub-workflow `{workflow}` was cancelled"),
    };
    Err(StepError {
        kind: ErrorKind::Failed,
        message,
        step: step.to_string(),
        agent: None,
        attempts,
    })
}

/// The child execution a sub-workflow step's attempt runs.
enum Child<'a> {
    /// Started with the attempt, in its write.
    Started(String),
    /// The step's child from before a resume, if any.
    Earlier(Option<&'a str>),
}
