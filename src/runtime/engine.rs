//! The interpreter: runs a checked workflow on tokio, writing every execution and
//! step attempt to the store as it happens.

use super::agent::{self, AgentCall};
use super::error::{Abort, ErrorKind, StepError};
use super::eval::{self, EvalError, Scope};
use super::progress::{AttemptReport, Progress};
use super::scheduler::Scheduler;
use super::RunError;
use crate::ast::*;
use crate::check::Program;
use crate::source::{git_blob_id, FileId, Sources};
use crate::store::{self, AttemptEnd, NewAttempt, NewExecution, Outcome, Store, VersionRecord};
use crate::types::Type;
use chrono::Utc;
use futures::future::{join_all, BoxFuture};
use futures::stream::{self, StreamExt};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What became of one execution.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub id: String,
    pub workflow: String,
    pub outcome: Outcome,
}

/// Runs workflows of one checked program against one store.
pub struct Engine {
    program: Program,
    sources: Sources,
    /// Git blob id of each source file, by file.
    blobs: HashMap<FileId, String>,
    root_path: String,
    store: Mutex<Store>,
    scheduler: Scheduler,
    progress: Arc<dyn Progress>,
}

/// Where an execution came from.
pub struct Origin<'a> {
    pub trigger: Option<&'a str>,
    /// The parent execution and step, for a sub-workflow.
    pub parent: Option<(&'a str, &'a str)>,
}

/// One execution in flight.
struct Run<'w> {
    id: String,
    workflow: &'w Workflow,
    agents: Mutex<Vec<String>>,
}

/// The values visible to a block: the execution's input and the names bound so far.
#[derive(Clone)]
struct Env {
    input: Value,
    values: HashMap<String, Value>,
}

impl Scope for Env {
    fn input(&self) -> &Value {
        &self.input
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
}

impl Engine {
    /// An engine for a program that checked without errors.
    pub fn new(
        program: Program,
        sources: Sources,
        root_path: &Path,
        store: Store,
        progress: Arc<dyn Progress>,
    ) -> Engine {
        let blobs = sources
            .iter()
            .map(|(id, file)| (id, git_blob_id(file.text.as_bytes())))
            .collect();
        let capacities = program.agents.values().filter_map(|a| {
            let capacity = a.capacity.as_ref()?.value;
            Some((a.name.name.clone(), capacity as usize))
        });
        Engine {
            scheduler: Scheduler::new(capacities),
            program,
            sources,
            blobs,
            root_path: root_path.display().to_string(),
            store: Mutex::new(store),
            progress,
        }
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Runs `workflow` to completion. Bad input is refused before anything is written.
    pub async fn run(
        &self,
        workflow: &str,
        input: Value,
        origin: Origin<'_>,
    ) -> Result<Execution, RunError> {
        let Some(definition) = self.program.workflows.get(workflow) else {
            return Err(RunError::UnknownWorkflow {
                name: workflow.to_string(),
                known: self.program.workflows.keys().cloned().collect(),
            });
        };
        if let Some(declared) = &definition.input {
            if let Err(mismatch) = Type::from_ast(declared).admits(&input) {
                return Err(RunError::InvalidInput {
                    workflow: workflow.to_string(),
                    problem: mismatch.to_string(),
                });
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        self.start(&id, definition, &input, &origin)?;
        Ok(self.execute(id, definition, input).await?)
    }

    /// Runs, concurrently, every workflow that `trigger` starts, each with `input`.
    /// Every input is validated before any execution starts.
    pub async fn run_trigger(
        &self,
        trigger: &str,
        input: Value,
    ) -> Result<Vec<Execution>, RunError> {
        if !self.program.triggers.contains_key(trigger) {
            return Err(RunError::UnknownTrigger {
                name: trigger.to_string(),
                known: self.program.triggers.keys().cloned().collect(),
            });
        }
        let started: Vec<&Workflow> = self
            .program
            .workflows
            .values()
            .filter(|w| w.triggers.iter().any(|t| t.name == trigger))
            .collect();
        if started.is_empty() {
            return Err(RunError::IdleTrigger(trigger.to_string()));
        }
        for workflow in &started {
            if let Some(declared) = &workflow.input {
                if let Err(mismatch) = Type::from_ast(declared).admits(&input) {
                    return Err(RunError::InvalidInput {
                        workflow: workflow.name.name.clone(),
                        problem: mismatch.to_string(),
                    });
                }
            }
        }
        let runs = started.iter().map(|workflow| {
            let origin = Origin {
                trigger: Some(trigger),
                parent: None,
            };
            self.run(&workflow.name.name, input.clone(), origin)
        });
        join_all(runs).await.into_iter().collect()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the store leaves SQLite consistent (statements are
        // atomic), so a poisoned lock is still safe to use.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start(
        &self,
        id: &str,
        workflow: &Workflow,
        input: &Value,
        origin: &Origin<'_>,
    ) -> Result<(), store::StoreError> {
        let file = workflow.name.span.file;
        let source = self.sources.get(file);
        let blob = &self.blobs[&file];
        let version = workflow.version.as_ref().map(|v| v.value.as_str());
        let mut store = self.store();
        store.record_version(&VersionRecord {
            workflow: &workflow.name.name,
            version,
            source_blob: blob,
            source_path: &source.name,
            source: &source.text,
        })?;
        store.start_execution(&NewExecution {
            id,
            workflow: &workflow.name.name,
            version,
            source_blob: blob,
            root_path: &self.root_path,
            trigger: origin.trigger,
            parent: origin.parent,
            input,
            started_at: &store::timestamp(Utc::now()),
        })
    }

    /// Runs a started execution and records how it ended.
    fn execute<'a>(
        &'a self,
        id: String,
        workflow: &'a Workflow,
        input: Value,
    ) -> BoxFuture<'a, Result<Execution, store::StoreError>> {
        Box::pin(async move {
            let run = Run {
                id,
                workflow,
                agents: Mutex::new(Vec::new()),
            };
            let mut env = Env {
                input: input.clone(),
                values: HashMap::new(),
            };
            let result = self.body(&run, &mut env).await;
            let result = match result {
                Ok(value) => self.records(&run, &env).map(|metrics| (value, metrics)),
                Err(abort) => Err(abort),
            };
            let agents = run.agents.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let (outcome, metrics) = match result {
                Ok((value, metrics)) => (Outcome::Completed(value), metrics),
                Err(abort) => (Outcome::Failed(abort.to_json()), Vec::new()),
            };
            let mut store = self.store();
            store.finish_execution(&run.id, &outcome, &agents, &metrics)?;
            if let (Outcome::Failed(error), Some(policy)) = (&outcome, &workflow.on_failure) {
                if policy.value == FailurePolicy::DeadLetter {
                    store.dead_letter(&run.id, &workflow.name.name, &input, error)?;
                }
            }
            Ok(Execution {
                id: run.id,
                workflow: workflow.name.name.clone(),
                outcome,
            })
        })
    }

    /// The workflow's body and its result value.
    async fn body(&self, run: &Run<'_>, env: &mut Env) -> Result<Value, Abort> {
        let workflow = run.workflow;
        let mut last = Value::Null;
        match workflow.bodies.first() {
            Some(WorkflowBody::Chain(chain)) => {
                let mut current = env.input.clone();
                for name in &chain.value {
                    let agent = &self.program.agents[&name.name];
                    current = self
                        .call_agent(run, agent, current, None, &name.name)
                        .await?;
                    env.values.insert(name.name.clone(), current.clone());
                }
                last = current;
            }
            Some(WorkflowBody::Steps(block)) => {
                self.block(run, block, env, "").await?;
                let mut object = Map::new();
                for name in block.bound_names() {
                    let value = env.values.get(name).cloned().unwrap_or(Value::Null);
                    object.insert(name.to_string(), value);
                }
                last = Value::Object(object);
            }
            None => {}
        }
        match &workflow.output {
            Some(output) => self.eval(output, env, "output"),
            None => Ok(last),
        }
    }

    /// Evaluates the workflow's `record` samples.
    fn records(&self, run: &Run<'_>, env: &Env) -> Result<Vec<(String, f64)>, Abort> {
        let mut samples = Vec::new();
        for record in &run.workflow.records {
            let step = format!("record {}", record.metric.value);
            let value = self.eval(&record.value, env, &step)?;
            match value.as_f64() {
                Some(n) => samples.push((record.metric.value.clone(), n)),
                None => {
                    return Err(self.expression_error(
                        EvalError {
                            message: format!(
                                "a metric sample must be a number, found {}",
                                eval::describe(&value)
                            ),
                            span: record.value.span,
                        },
                        &step,
                    ))
                }
            }
        }
        Ok(samples)
    }

    fn eval(&self, expr: &Expr, env: &Env, step: &str) -> Result<Value, Abort> {
        eval::eval(expr, env).map_err(|e| self.expression_error(e, step))
    }

    fn expression_error(&self, error: EvalError, step: &str) -> Abort {
        let file = self.sources.get(error.span.file);
        let (line, column) = file.line_column(error.span.start);
        Abort::Step(StepError {
            kind: ErrorKind::Expression,
            message: format!("{}:{line}:{column}: {}", file.name, error.message),
            step: step.to_string(),
            agent: None,
            attempts: 0,
        })
    }

    fn block<'a>(
        &'a self,
        run: &'a Run<'a>,
        block: &'a Block,
        env: &'a mut Env,
        path: &'a str,
    ) -> BoxFuture<'a, Result<(), Abort>> {
        Box::pin(async move {
            for statement in &block.statements {
                self.statement(run, statement, env, path).await?;
            }
            Ok(())
        })
    }

    async fn statement(
        &self,
        run: &Run<'_>,
        statement: &Statement,
        env: &mut Env,
        path: &str,
    ) -> Result<(), Abort> {
        match &statement.kind {
            StatementKind::Call { name, call } => {
                let step = format!("{path}{}", name.name);
                let value = self.call(run, call, env, &step).await?;
                env.values.insert(name.name.clone(), value);
            }
            StatementKind::Let { name, value } => {
                let step = format!("{path}{}", name.name);
                let value = self.eval(value, env, &step)?;
                env.values.insert(name.name.clone(), value);
            }
            StatementKind::When {
                branches,
                otherwise,
            } => {
                let mut chosen = otherwise.as_ref();
                for (condition, block) in branches {
                    let step = format!("{path}when@{}", condition.span.start);
                    let value = self.eval(condition, env, &step)?;
                    let truth = eval::truth(&value, condition.span, "a `when` condition")
                        .map_err(|e| self.expression_error(e, &step))?;
                    if truth {
                        chosen = Some(block);
                        break;
                    }
                }
                if let Some(block) = chosen {
                    self.block(run, block, env, path).await?;
                }
            }
            StatementKind::For(for_loop) => self.for_loop(run, for_loop, env, path).await?,
            StatementKind::Parallel(block) => self.parallel(run, block, env, path).await?,
            StatementKind::Try {
                body,
                error,
                handler,
            } => {
                if let Err(Abort::Step(failure)) = self.block(run, body, env, path).await {
                    env.values.insert(error.name.clone(), failure.to_json());
                    let handled = self.block(run, handler, env, path).await;
                    env.values.remove(&error.name);
                    handled?;
                }
            }
            StatementKind::Fail(message) => {
                let step = format!("{path}fail@{}", message.span.start);
                let value = self.eval(message, env, &step)?;
                let message = match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                return Err(Abort::Fail { message, step });
            }
            StatementKind::Emit { event, payload } => {
                let step = format!("{path}emit {}", event.value);
                let payload = match payload {
                    Some(expr) => self.eval(expr, env, &step)?,
                    None => Value::Object(Map::new()),
                };
                self.store()
                    .record_event(&event.value, &payload, Some(&run.id))
                    .map_err(|e| store_abort(e, &step))?;
            }
            StatementKind::Wait(duration) => {
                let step = format!("{path}wait@{}", statement.span.start);
                self.wait(run, &step, Duration::from_millis(duration.value))
                    .await?;
            }
        }
        Ok(())
    }

    /// A durable pause: recorded as a step whose input is the wake-up time.
    async fn wait(&self, run: &Run<'_>, step: &str, duration: Duration) -> Result<(), Abort> {
        let started = Instant::now();
        let wake = Utc::now() + chrono::Duration::from_std(duration).unwrap_or_default();
        let input = serde_json::json!({ "until": store::timestamp(wake) });
        let attempt = self.start_attempt(run, step, None, 1, Some(&input))?;
        tokio::time::sleep(duration).await;
        self.finish_attempt(run, attempt, step, None, started, Ok(&Value::Null), None)
    }

    async fn for_loop(
        &self,
        run: &Run<'_>,
        for_loop: &ForLoop,
        env: &mut Env,
        path: &str,
    ) -> Result<(), Abort> {
        let label = for_loop.result.as_ref().unwrap_or(&for_loop.item);
        let step = format!("{path}{}", label.name);
        let items = match self.eval(&for_loop.list, env, &step)? {
            Value::Array(items) => items,
            other => {
                let message = format!("`for` needs a list, found {}", eval::describe(&other));
                let error = EvalError {
                    message,
                    span: for_loop.list.span,
                };
                return Err(self.expression_error(error, &step));
            }
        };
        let result_name = for_loop.body.bound_names().last().map(|n| n.to_string());
        let iteration = |(i, item): (usize, Value)| {
            let mut scope = env.clone();
            scope.values.insert(for_loop.item.name.clone(), item);
            let path = format!("{step}[{i}].");
            let result_name = result_name.clone();
            async move {
                self.block(run, &for_loop.body, &mut scope, &path).await?;
                Ok::<Value, Abort>(
                    result_name
                        .and_then(|name| scope.values.remove(&name))
                        .unwrap_or(Value::Null),
                )
            }
        };
        let results: Vec<Result<Value, Abort>> = if for_loop.parallel {
            let limit = for_loop
                .limit
                .as_ref()
                .map_or(items.len(), |l| l.value as usize)
                .max(1);
            stream::iter(items.into_iter().enumerate())
                .map(iteration)
                .buffered(limit)
                .collect()
                .await
        } else {
            let mut results = Vec::new();
            for pair in items.into_iter().enumerate() {
                let result = iteration(pair).await;
                let failed = result.is_err();
                results.push(result);
                if failed {
                    break;
                }
            }
            results
        };
        let values = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        if let Some(result) = &for_loop.result {
            env.values.insert(result.name.clone(), Value::Array(values));
        }
        Ok(())
    }

    /// Each statement of the block runs concurrently on its own copy of the scope;
    /// what each binds is visible afterwards.
    async fn parallel(
        &self,
        run: &Run<'_>,
        block: &Block,
        env: &mut Env,
        path: &str,
    ) -> Result<(), Abort> {
        let branches = block.statements.iter().map(|statement| {
            let mut scope = env.clone();
            async move {
                self.statement(run, statement, &mut scope, path).await?;
                Ok::<Env, Abort>(scope)
            }
        });
        let finished = join_all(branches).await;
        for (statement, result) in block.statements.iter().zip(finished) {
            let scope = result?;
            let single = Block {
                statements: vec![statement.clone()],
                span: statement.span,
            };
            for name in single.bound_names() {
                if let Some(value) = scope.values.get(name) {
                    env.values.insert(name.to_string(), value.clone());
                }
            }
        }
        Ok(())
    }

    async fn call(
        &self,
        run: &Run<'_>,
        call: &Call,
        env: &Env,
        step: &str,
    ) -> Result<Value, Abort> {
        let argument = self.eval(&call.argument, env, step)?;
        match &call.target {
            CallTarget::Agent(name) => {
                let agent = &self.program.agents[&name.name];
                self.call_agent(run, agent, argument, Some(call), step)
                    .await
            }
            CallTarget::AnyWithSkills(skills) => {
                let candidates: Vec<&str> = self
                    .program
                    .agents_with_skills(&skills.value)
                    .into_iter()
                    .map(|a| a.name.name.as_str())
                    .collect();
                let claim = self.scheduler.claim_least_loaded(&candidates);
                let agent = &self.program.agents[claim.agent()];
                self.call_claimed(run, agent, argument, Some(call), step, claim)
                    .await
            }
            CallTarget::Workflow(name) => self.call_workflow(run, &name.name, argument, step).await,
        }
    }

    async fn call_agent(
        &self,
        run: &Run<'_>,
        agent: &Agent,
        input: Value,
        call: Option<&Call>,
        step: &str,
    ) -> Result<Value, Abort> {
        let claim = self.scheduler.claim(&agent.name.name);
        self.call_claimed(run, agent, input, call, step, claim)
            .await
    }

    /// One call of an agent already chosen: validate the input, wait for capacity,
    /// run, validate the output, record the attempt.
    async fn call_claimed(
        &self,
        run: &Run<'_>,
        agent: &Agent,
        input: Value,
        call: Option<&Call>,
        step: &str,
        mut claim: super::scheduler::Claim,
    ) -> Result<Value, Abort> {
        let name = agent.name.name.as_str();
        {
            let mut agents = run.agents.lock().unwrap_or_else(|e| e.into_inner());
            if !agents.iter().any(|a| a == name) {
                agents.push(name.to_string());
            }
        }
        let input_type = agent.input.as_ref().map_or(Type::Any, Type::from_ast);
        let output_type = agent.output.as_ref().map_or(Type::Any, Type::from_ast);
        claim.acquire().await;
        let started = Instant::now();
        let attempt = self.start_attempt(run, step, Some(name), 1, Some(&input))?;
        let result = match input_type.admits(&input) {
            Err(mismatch) => Err(agent::Failure {
                kind: ErrorKind::InvalidInput,
                message: format!("the input does not fit `{name}`: {mismatch}"),
                stderr_tail: None,
            }),
            Ok(()) => {
                let timeout = call
                    .and_then(|c| c.timeout.as_ref())
                    .or(agent.timeout.as_ref())
                    .map(|t| Duration::from_millis(t.value));
                let request = AgentCall {
                    agent,
                    input: &input,
                    execution_id: &run.id,
                    step,
                    attempt: 1,
                    timeout,
                    base_dir: self.base_dir(agent),
                    output_type: &output_type,
                };
                agent::invoke(request, |e| self.expression_error(e, step)).await
            }
        };
        drop(claim);
        match result {
            Ok(output) => {
                self.finish_attempt(run, attempt, step, Some(name), started, Ok(&output), None)?;
                Ok(output)
            }
            Err(failure) => {
                let error = StepError {
                    kind: failure.kind,
                    message: failure.message,
                    step: step.to_string(),
                    agent: Some(name.to_string()),
                    attempts: 1,
                };
                let stderr = failure.stderr_tail.as_deref();
                self.finish_attempt(run, attempt, step, Some(name), started, Err(&error), stderr)?;
                Err(Abort::Step(error))
            }
        }
    }

    async fn call_workflow(
        &self,
        run: &Run<'_>,
        name: &str,
        input: Value,
        step: &str,
    ) -> Result<Value, Abort> {
        let workflow = &self.program.workflows[name];
        let started = Instant::now();
        let attempt = self.start_attempt(run, step, None, 1, Some(&input))?;
        let fail = |kind, message: String| StepError {
            kind,
            message,
            step: step.to_string(),
            agent: None,
            attempts: 1,
        };
        let mismatch = workflow
            .input
            .as_ref()
            .and_then(|declared| Type::from_ast(declared).admits(&input).err());
        let outcome = match mismatch {
            Some(mismatch) => Err(fail(
                ErrorKind::InvalidInput,
                format!("the input does not fit workflow `{name}`: {mismatch}"),
            )),
            None => {
                let child = uuid::Uuid::new_v4().to_string();
                let origin = Origin {
                    trigger: Some("workflow"),
                    parent: Some((&run.id, step)),
                };
                self.start(&child, workflow, &input, &origin)
                    .map_err(|e| store_abort(e, step))?;
                self.store()
                    .link_child(attempt, &child)
                    .map_err(|e| store_abort(e, step))?;
                let execution = self
                    .execute(child, workflow, input)
                    .await
                    .map_err(|e| store_abort(e, step))?;
                match execution.outcome {
                    Outcome::Completed(value) => Ok(value),
                    Outcome::Failed(error) => Err(fail(
                        ErrorKind::Failed,
                        format!(
                            "sub-workflow `{name}` failed: {}",
                            error["message"].as_str().unwrap_or("")
                        ),
                    )),
                }
            }
        };
        match outcome {
            Ok(value) => {
                self.finish_attempt(run, attempt, step, None, started, Ok(&value), None)?;
                Ok(value)
            }
            Err(error) => {
                self.finish_attempt(run, attempt, step, None, started, Err(&error), None)?;
                Err(Abort::Step(error))
            }
        }
    }

    /// Where an agent's relative paths resolve: the directory of its declaring file.
    fn base_dir(&self, agent: &Agent) -> PathBuf {
        let path = &self.sources.get(agent.name.span.file).path;
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    fn start_attempt(
        &self,
        run: &Run<'_>,
        step: &str,
        agent: Option<&str>,
        attempt: u32,
        input: Option<&Value>,
    ) -> Result<i64, Abort> {
        self.store()
            .start_attempt(&NewAttempt {
                execution_id: &run.id,
                step,
                agent,
                attempt,
                input,
                started_at: &store::timestamp(Utc::now()),
            })
            .map_err(|e| store_abort(e, step))
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_attempt(
        &self,
        run: &Run<'_>,
        id: i64,
        step: &str,
        agent: Option<&str>,
        started: Instant,
        result: Result<&Value, &StepError>,
        stderr_tail: Option<&str>,
    ) -> Result<(), Abort> {
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (status, output, error) = match result {
            Ok(output) => ("completed", Some(output), None),
            Err(error) => (error.kind.name(), None, Some(error.message.as_str())),
        };
        self.store()
            .finish_attempt(
                id,
                &AttemptEnd {
                    status,
                    output,
                    error,
                    stderr_tail: stderr_tail.filter(|s| !s.is_empty()),
                    child_execution_id: None,
                    finished_at: &store::timestamp(Utc::now()),
                    duration_ms,
                },
            )
            .map_err(|e| store_abort(e, step))?;
        self.progress.attempt_finished(&AttemptReport {
            execution_id: &run.id,
            workflow: &run.workflow.name.name,
            step,
            agent,
            attempt: 1,
            duration_ms,
            status,
            error,
        });
        Ok(())
    }
}

/// A store failure mid-run ends the execution; it is not an agent's fault, so it is
/// reported as `failed` with the database's message.
fn store_abort(error: store::StoreError, step: &str) -> Abort {
    Abort::Fail {
        message: format!("cannot write to the database: {error}"),
        step: step.to_string(),
    }
}
