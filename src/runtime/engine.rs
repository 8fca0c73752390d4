//! The interpreter: runs a checked workflow on tokio, writing every execution and
//! step attempt to the store as it happens.

use super::calls::ParentEnd;
use super::error::{Abort, ErrorKind, StepError};
use super::eval::{self, EvalError, Scope};
use super::mock::Mocks;
use super::progress::{AttemptReport, ExecutionReport, Progress, StartReport};
use super::recorder::Recorder;
use super::scheduler::Scheduler;
use super::secrets::Secrets;
use super::RunError;
use crate::ast::Expr;
use crate::clock::{Clock, Timer};
use crate::program::{Program, Workflow, WorkflowBody};
use crate::source::{git_blob_id, FileId, Sources};
use crate::store::{
    self, AttemptEnd, AttemptStatus, ExecutionRow, Finish, NewAttempt, NewExecution, Outcome,
    StartedBy, StepRecord, Store, VersionRecord,
};
use chrono::{DateTime, Utc};
use futures::future::{join_all, BoxFuture};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a running execution looks for a cancel request from another process.
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// What became of one execution.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub id: String,
    pub workflow: String,
    pub outcome: Outcome,
}

/// Runs workflows of one checked program against one store.
pub struct Engine {
    pub(super) program: Program,
    pub(super) sources: Sources,
    /// Git blob id of each source file, by file.
    blobs: HashMap<FileId, String>,
    root_path: String,
    recorder: Recorder,
    pub(super) scheduler: Scheduler,
    pub(super) clock: Clock,
    /// The value of every secret the program reads, taken out of whatever a
    /// subprocess prints (it inherits this process's environment).
    pub(super) secrets: Secrets,
    progress: Arc<dyn Progress>,
    draining: AtomicBool,
    busy: AtomicUsize,
    /// Workflows whose source this engine has stored (once per engine is enough).
    versions_recorded: Mutex<HashSet<String>>,
    /// The latest answer to "which of my executions should stop?", and when.
    cancels: Mutex<Option<(Instant, HashSet<String>)>>,
    /// Agents replaced for a test; empty otherwise.
    pub(super) mocks: Mocks,
    /// Agent calls running for real (not mocked) now: a test's virtual clock
    /// moves only while there are none.
    pub(super) real_calls: AtomicUsize,
    /// Executions (not sub-workflows: their parent resumes them) that stopped
    /// because the store could not be written; a server resumes them once it can.
    stranded: Mutex<HashSet<String>>,
    /// The agent assignment in effect, and the calls waiting on it.
    pub(super) assignments: super::assignment::Assignments,
    /// Notified when this worker's lease ran out: every execution in flight
    /// stops where it is (see [`Engine::let_go`]).
    lease_lost: tokio::sync::Notify,
    /// Counts what this process learnt that may decide an `await`: an event
    /// recorded, a decision given. A waiting step looks again when it moves.
    news: tokio::sync::watch::Sender<u64>,
    /// Whether a server announces what other processes record (its store's
    /// `LISTEN` or SQLite watch): waits then need to look only now and then.
    told_of_news: bool,
}

pub(super) struct BusyGuard<'a>(&'a AtomicUsize);

fn counted(counter: &AtomicUsize) -> BusyGuard<'_> {
    counter.fetch_add(1, Ordering::SeqCst);
    BusyGuard(counter)
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An execution whose rows are written, not yet run.
#[derive(Debug)]
pub struct Begun {
    pub id: String,
    pub workflow: String,
    pub input: Value,
}

/// Where an execution came from.
#[derive(Default)]
pub struct Origin<'a> {
    pub trigger: Option<StartedBy<'a>>,
    /// The parent execution and step, for a sub-workflow.
    pub parent: Option<(&'a str, &'a str)>,
    /// The dead letter it replays.
    pub replay_of: Option<i64>,
    /// `(trigger, occurrence)`: starts the workflow only if that occurrence has not.
    pub fire: Option<(&'a str, &'a str)>,
}

/// The attempt of a parent's step that a new child execution is linked to.
pub(super) enum ParentAttempt {
    /// Written already: the step tries again after its child failed.
    Written {
        execution_id: String,
        step: String,
        id: i64,
    },
    /// Written in the child's own write: one commit per child, not two.
    New(NewAttempt),
}

impl ParentAttempt {
    /// The parent execution and its step.
    fn parent(&self) -> (&str, &str) {
        match self {
            ParentAttempt::Written {
                execution_id, step, ..
            } => (execution_id, step),
            ParentAttempt::New(row) => (&row.execution_id, &row.step),
        }
    }
}

/// One execution in flight: the context that running its statements and calls
/// (`steps.rs`, `calls.rs`) passes along, with the engine it runs on.
pub(super) struct Run<'w> {
    pub(super) engine: &'w Engine,
    pub(super) id: String,
    pub(super) workflow: &'w Workflow,
    agents: Mutex<Vec<String>>,
    /// What an earlier process recorded of this execution, by step path; empty for
    /// a fresh run. Completed steps are taken from here instead of running again.
    pub(super) history: HashMap<String, StepRecord>,
    /// How many executions this one runs inside: 0 for a top-level one.
    pub(super) depth: usize,
}

impl Run<'_> {
    pub(super) fn involve(&self, agent: &str) {
        let mut agents = self.agents.lock().unwrap_or_else(|e| e.into_inner());
        if !agents.iter().any(|a| a == agent) {
            agents.push(agent.to_string());
        }
    }
}

/// The values visible to a block: the execution's input and the names bound so
/// far. Values are shared, not copied, when a `parallel` branch or loop
/// iteration takes its own copy of the scope: a copy per iteration of a large
/// input would make a fan-out quadratic in memory.
#[derive(Clone)]
pub(super) struct Env {
    pub(super) input: Arc<Value>,
    values: HashMap<String, Arc<Value>>,
    pub(super) clock: Clock,
}

impl Env {
    pub(super) fn bind(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), Arc::new(value));
    }

    /// Binds `name` to a value another scope holds, without copying it.
    pub(super) fn share(&mut self, name: &str, from: &Env) {
        if let Some(value) = from.values.get(name) {
            self.values.insert(name.to_string(), value.clone());
        }
    }

    pub(super) fn unbind(&mut self, name: &str) -> Option<Value> {
        self.values
            .remove(name)
            .map(|value| Arc::try_unwrap(value).unwrap_or_else(|shared| (*shared).clone()))
    }
}

impl Scope for Env {
    fn input(&self) -> &Value {
        &self.input
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name).map(|value| &**value)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

impl Engine {
    /// An engine for a program that checked without errors.
    pub fn new(
        program: Program,
        sources: Sources,
        root_path: &Path,
        mut store: Store,
        progress: Arc<dyn Progress>,
        clock: Clock,
    ) -> Engine {
        let blobs = sources
            .iter()
            .map(|(id, file)| (id, git_blob_id(file.text.as_bytes())))
            .collect();
        let capacities = program
            .agents()
            .iter()
            .filter_map(|a| Some((a.name.clone(), a.capacity?.get())));
        // Stored absolute, so `wfc resume` finds the file from any directory.
        let root_path = root_path
            .canonicalize()
            .unwrap_or_else(|_| root_path.to_path_buf());
        store.set_clock(clock.clone());
        // Its commits are what executions wait for: the WAL's checkpoints
        // happen beside them.
        store.checkpoint_in_background();
        Engine {
            scheduler: Scheduler::new(capacities),
            clock,
            secrets: Secrets::of_program(&program),
            program,
            sources,
            blobs,
            root_path: root_path.display().to_string(),
            recorder: Recorder::new(store),
            progress,
            draining: AtomicBool::new(false),
            busy: AtomicUsize::new(0),
            versions_recorded: Mutex::new(HashSet::new()),
            cancels: Mutex::new(None),
            mocks: Mocks::default(),
            real_calls: AtomicUsize::new(0),
            stranded: Mutex::new(HashSet::new()),
            assignments: Default::default(),
            lease_lost: tokio::sync::Notify::new(),
            news: tokio::sync::watch::channel(0).0,
            told_of_news: false,
        }
    }

    /// This engine with `mocks` replacing their agents (`wfc test`).
    /// An engine whose server announces ([`Engine::announce`]) the events and
    /// decisions other processes record.
    pub fn told_of_news(mut self) -> Engine {
        self.told_of_news = true;
        self
    }

    pub(super) fn is_told_of_news(&self) -> bool {
        self.told_of_news
    }

    pub fn with_mocks(mut self, mocks: &[crate::program::Mock]) -> Engine {
        self.mocks = Mocks::new(mocks);
        self
    }

    /// How many agent calls run for real right now.
    pub fn real_calls(&self) -> usize {
        self.real_calls.load(Ordering::SeqCst)
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The time this engine's executions run on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Runs `workflow` to completion. Bad input is refused before anything is written.
    pub async fn run(
        &self,
        workflow: &str,
        input: Value,
        origin: Origin<'_>,
    ) -> Result<Execution, RunError> {
        let id = uuid::Uuid::now_v7().to_string();
        let begun = self.begin(id, workflow, input, origin)?;
        Ok(self.proceed(begun).await?)
    }

    /// Writes a new execution's first rows and returns it ready to
    /// [`proceed`](Engine::proceed): a caller that must not lose a trigger fire
    /// commits it here, synchronously, before handing the rest to a task.
    pub fn begin(
        &self,
        id: String,
        workflow: &str,
        input: Value,
        origin: Origin<'_>,
    ) -> Result<Begun, RunError> {
        let definition = self.validate(workflow, &input)?;
        if !self.start(&id, definition, &input, &origin)? {
            return Err(already_fired(workflow, &origin));
        }
        Ok(Begun {
            id,
            workflow: workflow.to_string(),
            input,
        })
    }

    /// Writes several new executions that this process runs in one commit
    /// (a dispatcher's batch of events): each `Ok` is started, an occurrence
    /// that already started its workflow is `AlreadyFired`. A store failure
    /// fails them all (nothing was written) and is returned alone.
    pub fn begin_all(
        &self,
        starts: Vec<(String, &str, Value, Origin<'_>)>,
    ) -> Result<Vec<Result<Begun, RunError>>, store::StoreError> {
        let mut rows = Vec::new();
        let mut answers: Vec<Result<Begun, RunError>> = Vec::with_capacity(starts.len());
        for (id, workflow, input, origin) in &starts {
            let written = self.validate(workflow, input).and_then(|definition| {
                Ok(self.new_execution(id, definition, input, origin, true)?)
            });
            match written {
                Ok(row) => {
                    rows.push(row);
                    answers.push(Ok(Begun {
                        id: id.clone(),
                        workflow: workflow.to_string(),
                        input: input.clone(),
                    }));
                }
                Err(error) => answers.push(Err(error)),
            }
        }
        let started = self.record(|store| {
            let together = store.begin_together()?;
            let mut started = Vec::with_capacity(rows.len());
            for row in &rows {
                match start_execution(store, row) {
                    Ok(fresh) => started.push(fresh),
                    Err(error) => {
                        if together {
                            store.roll_back_unfinished();
                        }
                        return Err(error);
                    }
                }
            }
            if together {
                store.commit_together()?;
            }
            Ok(started)
        })?;
        let mut fresh = started.into_iter();
        for (answer, (_, workflow, _, origin)) in answers.iter_mut().zip(&starts) {
            if answer.is_ok() && fresh.next() == Some(false) {
                *answer = Err(already_fired(workflow, origin));
            }
        }
        Ok(answers)
    }

    /// Records a new execution as queued, for whichever worker claims it first
    /// (a server that takes no work starts executions so). Bad input is refused
    /// before anything is written.
    pub fn enqueue(
        &self,
        workflow: &str,
        input: &Value,
        origin: Origin<'_>,
    ) -> Result<String, RunError> {
        let definition = self.validate(workflow, input)?;
        let id = uuid::Uuid::now_v7().to_string();
        let start = self.new_execution(&id, definition, input, &origin, false)?;
        if !self.record(|store| start_execution(store, &start))? {
            return Err(already_fired(workflow, &origin));
        }
        Ok(id)
    }

    /// Runs queued execution `execution` here, if this process claims it first
    /// (`None` when another worker did, or it was cancelled meanwhile).
    pub async fn run_queued(
        &self,
        execution: &ExecutionRow,
    ) -> Result<Option<Execution>, RunError> {
        let Some(workflow) = self.program.workflow_named(&execution.workflow) else {
            return Err(RunError::UnknownWorkflow {
                name: execution.workflow.clone(),
                known: self.program.workflow_names(),
            });
        };
        let me = super::worker::me();
        let claimed = self.record(|store| {
            me.beat_if_due(store)?;
            store.claim_queued(&execution.id, me.pid, &me.id)
        })?;
        if !claimed {
            return Ok(None);
        }
        let input = execution.input.clone();
        Ok(Some(
            self.execute(execution.id.clone(), workflow, input, HashMap::new(), None)
                .await?,
        ))
    }

    /// Runs a begun execution to its end.
    pub async fn proceed(&self, begun: Begun) -> Result<Execution, store::StoreError> {
        // `begin` found it; a program does not change under its engine.
        let Some(workflow) = self.program.workflow_named(&begun.workflow) else {
            return Err(store::StoreError::NoSuchExecution(begun.id));
        };
        self.execute(begun.id, workflow, begun.input, HashMap::new(), None)
            .await
    }

    /// The text of every file this engine's program was loaded from.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Every working-tree file this engine's program was loaded from (a file
    /// read at a git revision changes only with the import that pins it).
    pub fn source_paths(&self) -> Vec<std::path::PathBuf> {
        self.sources
            .iter()
            .filter(|(_, f)| f.pinned.is_none())
            .map(|(_, f)| f.path.clone())
            .collect()
    }

    /// The canonical path of the file this engine runs.
    pub fn root_path(&self) -> &str {
        &self.root_path
    }

    /// The workflow, if it exists and `input` fits its declared input.
    pub fn validate(&self, workflow: &str, input: &Value) -> Result<&Workflow, RunError> {
        let Some(definition) = self.program.workflow_named(workflow) else {
            return Err(RunError::UnknownWorkflow {
                name: workflow.to_string(),
                known: self.program.workflow_names(),
            });
        };
        if let Some(declared) = &definition.input {
            let mismatches = declared.mismatches(input);
            if !mismatches.is_empty() {
                let problems: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
                return Err(RunError::InvalidInput {
                    workflow: workflow.to_string(),
                    problem: problems.join("; "),
                });
            }
        }
        let missing = self.program.missing_secrets(
            [definition.id],
            |agent| self.mocks.covers(agent),
            crate::secrets::is_set,
        );
        if !missing.is_empty() {
            return Err(RunError::MissingSecrets {
                workflow: workflow.to_string(),
                missing,
            });
        }
        Ok(definition)
    }

    /// Stops starting new steps: executions park at their next step, resumable
    /// later. Steps already running finish.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// How many calls of `agent` this engine has under way (running or waiting
    /// for capacity).
    pub fn in_flight(&self, agent: &str) -> usize {
        self.scheduler.in_flight(agent)
    }

    /// How many agent calls are running now, or steps whose row is being
    /// committed: a draining process stops once none is.
    pub fn busy(&self) -> usize {
        self.busy.load(Ordering::SeqCst)
    }

    /// Parks forever once draining: the caller is at a step boundary.
    pub(super) async fn step_boundary(&self) {
        if self.draining.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    }

    /// Tells waiting `await` steps to look again: an event was recorded or a
    /// decision given (here, or by another process sharing the store).
    pub fn announce(&self) {
        self.news.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(super) fn news(&self) -> tokio::sync::watch::Receiver<u64> {
        self.news.subscribe()
    }

    /// Counts a running agent call (or a step's pending row) until dropped.
    pub(super) fn busy_guard(&self) -> BusyGuard<'_> {
        counted(&self.busy)
    }

    /// Counts an agent call running for real until the guard drops (also when a
    /// cancel drops the call).
    pub(super) fn real_call(&self) -> BusyGuard<'_> {
        counted(&self.real_calls)
    }

    /// Continues an execution whose process died: steps it completed are reused,
    /// the one in flight runs again. `None` when another process took it over first.
    pub async fn resume(&self, execution: &ExecutionRow) -> Result<Option<Execution>, RunError> {
        let Some(workflow) = self.program.workflow_named(&execution.workflow) else {
            return Err(RunError::UnknownWorkflow {
                name: execution.workflow.clone(),
                known: self.program.workflow_names(),
            });
        };
        let Some(history) = self.record(|store| take_over(store, execution))? else {
            return Ok(None);
        };
        let input = execution.input.clone();
        Ok(Some(
            self.execute(execution.id.clone(), workflow, input, history, None)
                .await?,
        ))
    }

    /// The template `workflow` was made from: its name, the blob of its file
    /// and the revision that file was pinned at.
    fn template_of(&self, workflow: &Workflow) -> Option<store::TemplateOrigin> {
        let made = workflow.made_from.as_ref()?;
        let template = self
            .program
            .templates
            .iter()
            .find(|t| t.name == made.template)?;
        let blob = self.blobs.get(&template.file)?;
        let pinned = self.sources.get(template.file).pinned.as_ref();
        Some(store::TemplateOrigin {
            name: made.template.clone(),
            blob: blob.clone(),
            pinned: pinned.map(|p| (p.rev.clone(), p.commit.clone())),
        })
    }

    /// The template workflow `name` was made from, as an execution records it.
    pub fn template_origin(&self, name: &str) -> Option<store::TemplateOrigin> {
        self.template_of(self.program.workflow_named(name)?)
    }

    /// The blob id of the file declaring `workflow` as this engine loaded it.
    pub fn source_blob(&self, workflow: &str) -> Option<&str> {
        let file = self.program.workflow_named(workflow)?.file;
        self.blobs.get(&file).map(String::as_str)
    }

    /// Stops every execution in flight where it is, writing nothing: this worker
    /// could not renew its lease, so others may be running them now. They are
    /// noted as stranded, to be taken back (if no one else took them) once the
    /// store answers.
    pub fn let_go(&self) {
        self.lease_lost.notify_waiters();
    }

    /// Notes that execution `id` stopped because the store could not be written.
    pub fn strand(&self, id: &str) {
        let mut stranded = self.stranded.lock().unwrap_or_else(|e| e.into_inner());
        stranded.insert(id.to_string());
    }

    /// The executions that stopped on a store failure since the last call: to
    /// resume (`resume`, which takes them over from this very process).
    pub fn take_stranded(&self) -> Vec<String> {
        let mut stranded = self.stranded.lock().unwrap_or_else(|e| e.into_inner());
        stranded.drain().collect()
    }

    /// Runs, concurrently, every workflow that `trigger` starts, each with `input`.
    /// Every input is validated before any execution starts.
    pub async fn run_trigger(
        &self,
        trigger: &str,
        input: Value,
    ) -> Result<Vec<Execution>, RunError> {
        let Some(definition) = self.program.trigger_named(trigger) else {
            return Err(RunError::UnknownTrigger {
                name: trigger.to_string(),
                known: self.program.trigger_names(),
            });
        };
        let started: Vec<&Workflow> = definition
            .workflows
            .iter()
            .map(|id| self.program.workflow(*id))
            .collect();
        if started.is_empty() {
            return Err(RunError::IdleTrigger(trigger.to_string()));
        }
        for workflow in &started {
            self.validate(&workflow.name, &input)?;
        }
        let runs = started.iter().map(|workflow| {
            let origin = Origin {
                trigger: Some(StartedBy::Trigger(trigger)),
                ..Origin::default()
            };
            self.run(&workflow.name, input.clone(), origin)
        });
        join_all(runs).await.into_iter().collect()
    }

    /// The engine's store, for what a caller writes or reads beside executions
    /// (a test's given samples and its expectations).
    pub fn with_store<T>(&self, work: impl FnOnce(&mut Store) -> T) -> T {
        self.record(work)
    }

    /// Every store read and write of the engine goes through its recorder; this
    /// is the synchronous way in, after the writes already waiting.
    pub(super) fn record<T>(&self, work: impl FnOnce(&mut Store) -> T) -> T {
        self.recorder.with(work)
    }

    /// An execution's write, committed with those of other executions that ask
    /// meanwhile; it returns once committed.
    /// (Boxed: an execution suspended elsewhere, say in a `wait`, then does
    /// not carry a write's state inline; ten thousand of them add up.)
    pub(super) fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, store::StoreError> + Send + 'static,
    ) -> BoxFuture<'_, Result<T, store::StoreError>> {
        Box::pin(self.recorder.write(work))
    }

    /// How many commits so far held the writes of more than one execution.
    pub fn shared_commits(&self) -> u64 {
        self.recorder.shared_commits()
    }

    /// Writes a new execution that this process runs.
    pub(super) fn start(
        &self,
        id: &str,
        workflow: &Workflow,
        input: &Value,
        origin: &Origin<'_>,
    ) -> Result<bool, store::StoreError> {
        let start = self.new_execution(id, workflow, input, origin, true)?;
        self.record(|store| start_execution(store, &start))
    }

    /// Writes a sub-workflow's execution, run here, and links it to its parent's
    /// attempt (written with it when new), in one write that may share its
    /// commit; the attempt's id.
    pub(super) async fn start_child(
        &self,
        id: &str,
        workflow: &Workflow,
        input: &Value,
        attempt: ParentAttempt,
    ) -> Result<i64, store::StoreError> {
        let origin = Origin {
            trigger: Some(StartedBy::Workflow),
            ..Origin::default()
        };
        // The parent goes in owned, after `new_execution`: a borrowed one would
        // tie the row to this call, which the write may outlive.
        let mut start = self.new_execution(id, workflow, input, &origin, true)?;
        let (parent, step) = attempt.parent();
        start.parent = Some((parent.to_string(), step.to_string()));
        self.write(move |store| {
            let attempt_id = match &attempt {
                ParentAttempt::Written { id, .. } => *id,
                ParentAttempt::New(row) => store.start_attempt(row)?,
            };
            // Without a fire to guard, a start always writes.
            start_execution(store, &start)?;
            store.link_child(attempt.parent().0, attempt_id, &start.id)?;
            Ok(attempt_id)
        })
        .await
    }

    /// A new execution's row, owned by this process or (`mine` false) queued;
    /// the workflow's source is stored first, once per engine.
    fn new_execution<'o>(
        &self,
        id: &str,
        workflow: &Workflow,
        input: &Value,
        origin: &Origin<'o>,
        mine: bool,
    ) -> Result<NewExecution<'o>, store::StoreError> {
        let file = workflow.file;
        let source = self.sources.get(file);
        let blob = &self.blobs[&file];
        let version = workflow.version.as_deref();
        let mut recorded = self
            .versions_recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if !recorded.contains(&workflow.name) {
            self.record(|store| {
                store.record_version(&VersionRecord {
                    workflow: &workflow.name,
                    version,
                    source_blob: blob,
                    source_path: &source.path.display().to_string(),
                    source: &source.text,
                })?;
                // And the template's file, so a resume can run that body again.
                let template = workflow.made_from.as_ref().and_then(|made| {
                    self.program
                        .templates
                        .iter()
                        .find(|t| t.name == made.template)
                });
                match template {
                    Some(template) => {
                        let file = self.sources.get(template.file);
                        store.record_template_source(
                            &self.blobs[&template.file],
                            &file.path.display().to_string(),
                            &file.text,
                        )
                    }
                    None => Ok(()),
                }
            })?;
            recorded.insert(workflow.name.clone());
        }
        drop(recorded);
        let me = super::worker::me();
        Ok(NewExecution {
            id: id.to_string(),
            workflow: workflow.name.clone(),
            version: version.map(str::to_string),
            source_blob: blob.clone(),
            root_path: self.root_path.clone(),
            trigger: origin.trigger,
            parent: origin.parent.map(|(p, s)| (p.to_string(), s.to_string())),
            input: input.to_string(),
            started_at: store::timestamp(self.clock.now()),
            owner: mine.then(|| (me.id.clone(), me.pid)),
            replay_of: origin.replay_of,
            template: self.template_of(workflow),
            fire: origin.fire.map(|(t, o)| (t.to_string(), o.to_string())),
        })
    }

    /// Runs a started execution and records how it ended, with the end of the
    /// `parent` step's attempt that ran it, if any. A cancel request from any
    /// process stops it: its futures are dropped, which kills its agents.
    pub(super) fn execute<'a>(
        &'a self,
        id: String,
        workflow: &'a Workflow,
        input: Value,
        history: HashMap<String, StepRecord>,
        parent: Option<ParentEnd>,
    ) -> BoxFuture<'a, Result<Execution, store::StoreError>> {
        Box::pin(async move {
            let _running = super::worker::me().running();
            let (report_id, parent_id) = (
                id.clone(),
                parent.as_ref().map(|p| p.execution_id().to_string()),
            );
            let report = ExecutionReport {
                id: &report_id,
                workflow: &workflow.name,
                parent: parent_id.as_deref(),
            };
            self.progress.execution_started(&report);
            let run = Run {
                engine: self,
                id,
                workflow,
                agents: Mutex::new(Vec::new()),
                history,
                depth: parent.as_ref().map_or(0, |p| p.depth),
            };
            let mut env = Env {
                input: Arc::new(input.clone()),
                values: HashMap::new(),
                clock: self.clock.clone(),
            };
            let work = async {
                let value = run.body(&mut env).await?;
                let metrics = run.records(&env)?;
                Ok::<_, Abort>((value, metrics))
            };
            let finished = tokio::select! {
                result = work => Some(result),
                () = self.cancel_requested(&run.id) => None,
                () = self.lease_lost.notified() => Some(Err(store_abort(store::StoreError::LeaseLost))),
            };
            let agents = run.agents.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let (outcome, metrics) = match finished {
                None => {
                    let parent =
                        parent.map(|p| p.ended(&self.clock, &Outcome::Cancelled, workflow));
                    self.record(|store| {
                        store.cancel_execution(&run.id)?;
                        end_parent(store, parent.as_ref())
                    })?;
                    self.progress
                        .execution_finished(&report, store::ExecutionStatus::Cancelled);
                    return Ok(Execution {
                        id: run.id,
                        workflow: workflow.name.clone(),
                        outcome: Outcome::Cancelled,
                    });
                }
                Some(Ok((value, metrics))) => (Outcome::Completed(value), metrics),
                Some(Err(Abort::Store(failure))) => {
                    if parent.is_none() {
                        self.strand(&run.id);
                    }
                    return Err(failure.into_error());
                }
                Some(Err(abort)) => (Outcome::Failed(abort.to_json()), Vec::new()),
            };
            let finish = Finish {
                agents,
                metrics,
                dead_letter: workflow
                    .dead_letter
                    .then(|| (workflow.name.clone(), input.to_string())),
            };
            let parent = parent.map(|p| p.ended(&self.clock, &outcome, workflow));
            let (id, ended) = (run.id.clone(), outcome.clone());
            self.write(move |store| {
                store.finish_execution(&id, &ended, &finish)?;
                end_parent(store, parent.as_ref())
            })
            .await?;
            self.progress.execution_finished(&report, outcome.status());
            Ok(Execution {
                id: run.id,
                workflow: workflow.name.clone(),
                outcome,
            })
        })
    }

    /// Completes when another process asks to cancel execution `id`. All the
    /// executions of this engine share one query per poll interval, however many
    /// are waiting.
    async fn cancel_requested(&self, id: &str) {
        loop {
            tokio::time::sleep(CANCEL_POLL).await;
            let mut cache = self.cancels.lock().unwrap_or_else(|e| e.into_inner());
            let stale = cache
                .as_ref()
                .is_none_or(|(at, _)| at.elapsed() >= CANCEL_POLL);
            if stale {
                // A failed poll (a locked database) is retried at the next tick.
                let me = super::worker::me();
                let requests = self.record(|store| {
                    // A worker that runs something renews its lease as it goes.
                    me.beat_if_due(store)?;
                    store.cancel_requests(&me.id)
                });
                if let Ok(requested) = requests {
                    *cache = Some((Instant::now(), requested));
                }
            }
            if cache
                .as_ref()
                .is_some_and(|(_, requested)| requested.contains(id))
            {
                return;
            }
        }
    }

    pub(super) fn eval(&self, expr: &Expr, env: &Env, step: &str) -> Result<Value, Abort> {
        eval::eval(expr, env).map_err(|e| self.expression_error(e, step))
    }

    pub(super) fn expression_error(&self, error: EvalError, step: &str) -> Abort {
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
}

impl Run<'_> {
    /// The workflow's body and its result value.
    async fn body(&self, env: &mut Env) -> Result<Value, Abort> {
        let workflow = self.workflow;
        let last;
        match &workflow.body {
            WorkflowBody::Chain(chain) => {
                let mut current = (*env.input).clone();
                for id in chain {
                    let agent = self.engine.program.agent(*id);
                    current = self
                        .call_agent(agent, current, None, &agent.name, None)
                        .await?;
                    env.bind(&agent.name, current.clone());
                }
                last = current;
            }
            WorkflowBody::Steps(block) => {
                self.block(block, env, "").await?;
                let mut object = Map::new();
                for name in &block.bound {
                    let value = env.get(name).cloned().unwrap_or(Value::Null);
                    object.insert(name.clone(), value);
                }
                last = Value::Object(object);
            }
        }
        match &workflow.output {
            Some(output) => self.engine.eval(output, env, "output"),
            None => Ok(last),
        }
    }

    /// Evaluates the workflow's `record` samples.
    fn records(&self, env: &Env) -> Result<Vec<(String, f64)>, Abort> {
        let mut samples = Vec::new();
        for record in &self.workflow.records {
            let step = &record.step;
            let value = self.engine.eval(&record.value, env, step)?;
            match value.as_f64() {
                Some(n) => samples.push((record.metric.clone(), n)),
                None => {
                    return Err(self.engine.expression_error(
                        EvalError {
                            message: format!(
                                "a metric sample must be a number, found {}",
                                eval::describe(&value)
                            ),
                            span: record.value.span,
                        },
                        step,
                    ))
                }
            }
        }
        Ok(samples)
    }

    pub(super) async fn start_attempt(&self, attempt: &Attempt<'_>) -> Result<i64, Abort> {
        let row = attempt.row(self);
        let id = self
            .engine
            .write(move |store| store.start_attempt(&row))
            .await
            .map_err(store_abort)?;
        self.engine.progress.attempt_started(&self.report(attempt));
        Ok(id)
    }

    /// Starts a sub-workflow step's attempt together with its new child
    /// execution `child`, in one write.
    pub(super) async fn start_attempt_with_child(
        &self,
        attempt: &Attempt<'_>,
        child: &str,
        workflow: &Workflow,
        input: &Value,
    ) -> Result<i64, Abort> {
        let row = ParentAttempt::New(attempt.row(self));
        let id = self
            .engine
            .start_child(child, workflow, input, row)
            .await
            .map_err(store_abort)?;
        self.engine.progress.attempt_started(&self.report(attempt));
        Ok(id)
    }

    /// Which attempt a progress report is about.
    fn report<'r>(&'r self, attempt: &Attempt<'r>) -> StartReport<'r> {
        StartReport {
            execution_id: &self.id,
            workflow: &self.workflow.name,
            step: attempt.step,
            agent: attempt.agent,
            attempt: attempt.number,
        }
    }

    /// Ends attempt row `id` (or writes the whole attempt when it has no row yet),
    /// and reports it to the caller's progress.
    pub(super) async fn finish_attempt(
        &self,
        id: Option<i64>,
        attempt: &Attempt<'_>,
        result: Result<&Value, &StepError>,
        stderr_tail: Option<&str>,
    ) -> Result<(), Abort> {
        let end = attempt_end(
            &self.engine.clock,
            attempt.started,
            attempt.tokens,
            result,
            stderr_tail,
        );
        let duration_ms = end.duration_ms;
        let write = match id {
            Some(id) => Ok((self.id.clone(), id)),
            None => Err(attempt.row(self)),
        };
        self.engine
            .write(move |store| match write {
                Ok((execution, id)) => store.finish_attempt(&execution, id, &end),
                Err(row) => store.insert_attempt(&row, &end).map(drop),
            })
            .await
            .map_err(store_abort)?;
        self.report_end(attempt, duration_ms, result, attempt.tokens.as_ref());
        Ok(())
    }

    /// Reports an attempt's end, written, to the caller's progress.
    pub(super) fn report_end(
        &self,
        attempt: &Attempt<'_>,
        duration_ms: f64,
        result: Result<&Value, &StepError>,
        tokens: Option<&store::Tokens>,
    ) {
        let start = self.report(attempt);
        let model = start
            .agent
            .and_then(|agent| self.engine.program.agent_named(agent))
            .and_then(|agent| match &agent.body {
                crate::program::AgentBody::Llm(request) => Some(request.model.as_str()),
                _ => None,
            });
        self.engine.progress.attempt_finished(&AttemptReport {
            start,
            duration_ms,
            status: status_of(result),
            error: result.err().map(|e| e.message.as_str()),
            tokens,
            model,
        });
    }
}

fn status_of(result: Result<&Value, &StepError>) -> AttemptStatus {
    match result {
        Ok(_) => AttemptStatus::Completed,
        Err(error) => AttemptStatus::Failed(error.kind),
    }
}

/// Milliseconds since `started`, as attempt rows and reports give durations.
pub(super) fn elapsed_ms(clock: &Clock, started: Timer) -> f64 {
    clock.elapsed(started).as_secs_f64() * 1000.0
}

/// How an attempt started at `started` ended, as its row records it.
pub(super) fn attempt_end(
    clock: &Clock,
    started: Timer,
    tokens: Option<store::Tokens>,
    result: Result<&Value, &StepError>,
    stderr_tail: Option<&str>,
) -> AttemptEnd {
    AttemptEnd {
        status: status_of(result),
        output: result.ok().map(Value::to_string),
        error: result.err().map(|e| e.message.clone()),
        stderr_tail: stderr_tail.filter(|s| !s.is_empty()).map(str::to_string),
        child_execution_id: None,
        finished_at: store::timestamp(clock.now()),
        duration_ms: elapsed_ms(clock, started),
        tokens,
    }
}

/// One attempt of a step, as recorded.
pub(super) struct Attempt<'a> {
    pub(super) step: &'a str,
    pub(super) agent: Option<&'a str>,
    pub(super) number: u32,
    pub(super) input: Option<&'a Value>,
    /// The backoff slept before it.
    pub(super) delay: Option<Duration>,
    pub(super) started: Timer,
    pub(super) started_at: String,
    /// What a language model's call used.
    pub(super) tokens: Option<store::Tokens>,
}

impl<'a> Attempt<'a> {
    fn row(&self, run: &Run<'_>) -> NewAttempt {
        NewAttempt {
            execution_id: run.id.clone(),
            step: self.step.to_string(),
            agent: self.agent.map(str::to_string),
            attempt: self.number,
            input: self.input.map(Value::to_string),
            started_at: self.started_at.clone(),
            delay_ms: self.delay.map(|d| d.as_secs_f64() * 1000.0),
        }
    }

    pub(super) fn new(
        clock: &Clock,
        step: &'a str,
        agent: Option<&'a str>,
        number: u32,
        input: Option<&'a Value>,
    ) -> Self {
        Attempt {
            step,
            agent,
            number,
            input,
            delay: None,
            started: clock.timer(),
            started_at: store::timestamp(clock.now()),
            tokens: None,
        }
    }
}

/// Takes over an execution a dead process left running: its attempts in flight are
/// closed as interrupted and what it did is returned. `None` when another process
/// took it over first.
pub(super) fn take_over(
    store: &mut Store,
    execution: &ExecutionRow,
) -> Result<Option<HashMap<String, StepRecord>>, store::StoreError> {
    let me = super::worker::me();
    me.beat_if_due(store)?;
    if !store.claim_execution(execution, me.pid, &me.id)? {
        return Ok(None);
    }
    store.mark_interrupted(&execution.id)?;
    Ok(Some(store.step_records(&execution.id)?))
}

/// Ends a sub-workflow step's attempt in its child's last write, if it ran one.
fn end_parent(
    store: &mut Store,
    parent: Option<&(String, i64, AttemptEnd)>,
) -> Result<(), store::StoreError> {
    match parent {
        Some((execution, attempt, end)) => store.finish_attempt(execution, *attempt, end),
        None => Ok(()),
    }
}

/// Writes execution `start` (false when its trigger occurrence already started
/// its workflow), after renewing this worker's lease: the owner's row is there
/// before any execution names it.
fn start_execution(store: &mut Store, start: &NewExecution<'_>) -> Result<bool, store::StoreError> {
    super::worker::me().beat_if_due(store)?;
    store.start_execution(start)
}

/// The refusal of a start whose trigger occurrence already started `workflow`.
fn already_fired(workflow: &str, origin: &Origin<'_>) -> RunError {
    let (trigger, occurrence) = origin.fire.unwrap_or_default();
    RunError::AlreadyFired {
        workflow: workflow.to_string(),
        trigger: trigger.to_string(),
        occurrence: occurrence.to_string(),
    }
}

/// A store failure mid-run stops the execution where it is: not an agent's fault
/// and not the workflow's, so nothing records it as failed (a full disk once
/// finalised executions as `failed`, leaving nothing to resume); it stays
/// running, to be resumed once the store can be written again.
pub(super) fn store_abort(error: store::StoreError) -> Abort {
    Abort::Store(super::error::StoreFailure(Arc::new(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_of_a_scope_shares_its_values_instead_of_copying_them() {
        // A `parallel for` copies the scope per iteration; copying a large input
        // or list each time made a fan-out quadratic in memory.
        let items = Value::Array((0..1000).map(Value::from).collect());
        let mut env = Env {
            input: Arc::new(serde_json::json!({ "items": items.clone() })),
            values: HashMap::new(),
            clock: Clock::system(),
        };
        env.bind("items", items);
        let mut copy = env.clone();
        assert!(Arc::ptr_eq(&env.input, &copy.input));
        assert!(Arc::ptr_eq(&env.values["items"], &copy.values["items"]));
        // What a copy binds stays its own; what it shares back is not copied.
        copy.bind("mine", Value::from(1));
        assert!(env.get("mine").is_none());
        env.share("mine", &copy);
        assert!(Arc::ptr_eq(&env.values["mine"], &copy.values["mine"]));
        assert_eq!(copy.unbind("mine"), Some(Value::from(1)));
        assert_eq!(env.get("mine"), Some(&Value::from(1)));
    }
}
