//! The checked program: what `check` hands to everything that runs or shows a
//! program when a file set is valid. Names are resolved to ids, types computed,
//! durations and counts typed, triggers compiled, and every step has its stable
//! name; nothing downstream looks a name up again or re-derives a type. Its
//! vocabularies (error kinds, built-ins, event names) are defined once here.

mod alert;
mod builtin;
mod error_kind;
mod event;
mod goal_status;
mod schedule;
mod test;

pub use alert::{Alert, Condition, Signal};
pub use builtin::{Builtin, MAX_RANGE};
pub use error_kind::ErrorKind;
pub use event::{event_problem, invalid_event_name, matches};
pub use goal_status::GoalStatus;
pub use schedule::{out_of_range, Due, Schedule};
pub use test::{Expectation, ExpectationKind, Mock, Send, Start, Test};

use crate::ast::{BackoffKind, CompareOp, Expr, Goal, Jitter, MissedSlots};
use crate::metric::MetricQuery;
use crate::source::{FileId, Span};
use crate::types::Type;
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

macro_rules! ids {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub(crate) u32);

        impl $name {
            pub(crate) fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}
ids!(AgentId, WorkflowId, TriggerId, RetryId);

/// A valid program. Built by `check` only when it found no errors.
#[derive(Debug, Clone)]
pub struct Program {
    pub(crate) agents: Vec<Agent>,
    pub(crate) workflows: Vec<Workflow>,
    pub(crate) triggers: Vec<Trigger>,
    pub(crate) retries: Vec<RetryPlan>,
    /// Every declared breaker, in name order (agents hold a copy of theirs).
    pub breakers: Vec<BreakerPolicy>,
    /// The goal tree as declared (top-level goals; children inside them).
    pub goals: Vec<Goal>,
    /// The root file's timezone for metric periods (UTC without one).
    pub timezone: Tz,
    /// Agent ids by skill, in name order.
    pub(crate) skills: BTreeMap<String, Vec<AgentId>>,
    /// Every metric series it knows, by name: declared with `metric`, or recorded
    /// by a workflow.
    pub metrics: BTreeMap<String, Metric>,
    /// The `test` blocks of every loaded file, in file order.
    pub tests: Vec<Test>,
    /// In name order.
    pub alerts: Vec<Alert>,
    /// In name order.
    pub templates: Vec<TemplateInfo>,
}

/// A metric series the program knows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Metric {
    pub name: String,
    pub unit: Option<String>,
    pub description: Option<String>,
    /// The workflows that record it (none: it is fed from outside).
    pub recorded_by: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    /// Its `///` doc comment.
    pub doc: Option<String>,
    /// The file that declares it.
    pub file: FileId,
    pub department: Option<String>,
    pub skills: Vec<String>,
    pub input: Type,
    pub output: Type,
    pub body: AgentBody,
    pub timeout: Option<Duration>,
    pub retry: Option<RetryId>,
    pub breaker: Option<BreakerPolicy>,
    pub capacity: Option<NonZeroUsize>,
}

#[derive(Debug, Clone)]
pub enum AgentBody {
    /// A pure object expression over `input`, evaluated in process.
    Compute(Expr),
    /// A subprocess speaking the JSON protocol.
    Run(Command),
    /// An HTTP service: the input as its JSON body (query for GET), the JSON
    /// response as the output.
    Http(HttpRequest),
    /// A language model: the prompt rendered over the input, the reply parsed as
    /// JSON and held to the declared output.
    Llm(LlmRequest),
}

impl AgentBody {
    /// The secrets it reads, each once with where, in name order.
    pub fn secret_uses(&self) -> Vec<(String, Span)> {
        match self {
            AgentBody::Http(HttpRequest {
                headers: Some(headers),
                ..
            }) => secret_uses(headers),
            AgentBody::Llm(LlmRequest { key: Some(key), .. }) => secret_uses(key),
            AgentBody::Run(Command { env: Some(env), .. }) => secret_uses(env),
            AgentBody::Http(_) | AgentBody::Llm(_) | AgentBody::Compute(_) | AgentBody::Run(_) => {
                Vec::new()
            }
        }
    }
}

/// A chat-completions call to an OpenAI-compatible API.
#[derive(Debug, Clone)]
pub struct LlmRequest {
    pub model: String,
    /// The declared endpoint with `chat/completions` appended.
    pub url: url::Url,
    /// Sent as a bearer token; an expression over secrets.
    pub key: Option<Expr>,
    pub system: Option<crate::ast::TextBlock>,
    pub prompt: crate::ast::TextBlock,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub price: Option<Price>,
}

/// What a model's tokens cost: US dollars per million.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

impl Price {
    /// The cost in dollars of `input` prompt tokens and `output` reply tokens.
    pub fn cost(self, input: u64, output: u64) -> f64 {
        (input as f64 * self.input + output as f64 * self.output) / 1_000_000.0
    }
}

/// The names `secret("NAME")` reads in `expr` (the checker made each a literal),
/// each once with where it is first read, in name order.
pub fn secret_uses(expr: &Expr) -> Vec<(String, Span)> {
    use crate::ast::ExprKind;
    let mut uses = Vec::new();
    let mut stack = vec![expr];
    while let Some(expr) = stack.pop() {
        if let ExprKind::Call(name, args) = &expr.kind {
            if name.name == Builtin::Secret.name() {
                if let [Expr {
                    kind: ExprKind::String(secret),
                    ..
                }] = args.as_slice()
                {
                    uses.push((secret.clone(), expr.span));
                }
            }
        }
        stack.extend(expr.children());
    }
    // A stable sort keeps, for each name, its first read in the walk.
    uses.sort_by(|a, b| a.0.cmp(&b.0));
    uses.dedup_by(|a, b| a.0 == b.0);
    uses
}

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: crate::ast::HttpMethod,
    pub url: url::Url,
    /// An object expression over `input`; every value a string.
    pub headers: Option<Expr>,
}

/// A subprocess with its paths resolved against the declaring file's directory.
#[derive(Debug, Clone)]
pub struct Command {
    /// The program as written, for messages.
    pub written: String,
    /// A path for a program written with a `/`; a bare name is looked up on `PATH`.
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Where the program and each argument are written.
    pub spans: Vec<Span>,
    pub cwd: PathBuf,
    /// Variables set beside the inherited environment: an object expression over
    /// `input` and secrets, every value a string.
    pub env: Option<Expr>,
}

/// A retry policy with its defaults applied.
#[derive(Debug, Clone)]
pub struct RetryPlan {
    pub name: String,
    pub attempts: NonZeroU32,
    pub backoff: Option<Backoff>,
    pub jitter: Jitter,
    /// The kinds retried (attempts permitting).
    pub retry_on: Vec<ErrorKind>,
}

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub kind: BackoffKind,
    pub initial: Duration,
    pub factor: f64,
    pub max: Option<Duration>,
}

/// A breaker policy with its defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerPolicy {
    /// The name it is declared with.
    pub name: String,
    /// Failures within `window` that open the breaker.
    pub open_after: usize,
    pub window: chrono::Duration,
    /// How long an open breaker refuses calls before letting one trial through.
    pub cool_down: chrono::Duration,
}

#[derive(Debug, Clone)]
pub struct Trigger {
    pub id: TriggerId,
    pub name: String,
    /// Its `///` doc comment.
    pub doc: Option<String>,
    pub kind: TriggerKind,
    /// The workflows it starts, in name order.
    pub workflows: Vec<WorkflowId>,
}

#[derive(Debug, Clone)]
pub enum TriggerKind {
    Cron {
        /// The cron expression as written.
        expression: String,
        schedule: Box<Schedule>,
        missed: MissedSlots,
    },
    Event {
        pattern: String,
    },
    Metric(MetricTrigger),
    Manual,
}

/// `when metric … op target`, with the metric read resolved.
#[derive(Debug, Clone)]
pub struct MetricTrigger {
    /// Where the metric read is written (`sum(x) per month`), for showing it.
    pub read: Span,
    pub query: MetricQuery,
    pub op: CompareOp,
    pub target: f64,
    /// Where its periods (days, months) begin.
    pub timezone: Tz,
}

#[derive(Debug, Clone)]
pub struct Workflow {
    pub id: WorkflowId,
    pub name: String,
    pub file: FileId,
    pub version: Option<String>,
    pub triggers: Vec<TriggerId>,
    pub input: Option<Type>,
    pub body: WorkflowBody,
    pub records: Vec<Record>,
    pub output: Option<Expr>,
    /// `on_failure dead_letter`: a failed execution's input is kept for replay.
    pub dead_letter: bool,
    /// The retry policy of its agent calls, between a step's own and the agent's.
    pub retry: Option<RetryId>,
    /// The template it is made from, with what.
    pub made_from: Option<MadeFrom>,
    /// Its `///` doc comment (a workflow made from a template without one of
    /// its own: the template's).
    pub doc: Option<String>,
}

/// What a workflow made from a template was made with, as written.
#[derive(Debug, Clone)]
pub struct MadeFrom {
    pub template: String,
    /// Each argument given, `name: value`.
    pub arguments: Vec<String>,
}

/// A template as people read it: its parameters as written, and the workflows
/// made from it (each an ordinary workflow of the program).
#[derive(Debug, Clone)]
pub struct TemplateInfo {
    pub name: String,
    pub doc: Option<String>,
    pub file: FileId,
    pub params: Vec<ParamInfo>,
    pub instances: Vec<String>,
}

/// A template's parameter: as written, and what it takes.
#[derive(Debug, Clone)]
pub struct ParamInfo {
    pub name: String,
    /// `reviewer: agent { … } -> { … }`, `threshold: number = 1000`.
    pub written: String,
    pub takes: Takes,
    /// The default as written, if it has one.
    pub default: Option<String>,
}

/// What a template parameter takes.
#[derive(Debug, Clone)]
pub enum Takes {
    /// An agent that takes `input` and gives at least `output`.
    Agent {
        input: Type,
        output: Type,
    },
    Workflow {
        input: Type,
        output: Type,
    },
    Retry,
    Duration,
    Value {
        r#type: Type,
    },
}

#[derive(Debug, Clone)]
pub enum WorkflowBody {
    /// Agents in order; each one's output is the next one's input. The step of
    /// each link is the agent's name.
    Chain(Vec<AgentId>),
    Steps(Block),
}

/// `record metric = value`, written when the workflow completes.
#[derive(Debug, Clone)]
pub struct Record {
    pub metric: String,
    pub value: Expr,
    /// `record <metric>`: where an evaluation error is reported.
    pub step: String,
}

#[derive(Debug, Clone)]
pub struct Block {
    pub statements: Vec<Statement>,
    /// The names the block binds in its own scope, in reading order (those of
    /// `when`, `try` and `parallel` branches included, loop bodies excluded).
    pub bound: Vec<String>,
}

impl Block {
    /// Calls `visit` on every statement of the block and of those nested in it,
    /// outer statements before inner ones.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Statement)) {
        for statement in &self.statements {
            statement.walk(visit);
        }
    }
}

impl Statement {
    fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Statement)) {
        visit(self);
        match &self.kind {
            StatementKind::When {
                branches,
                otherwise,
            } => {
                for branch in branches {
                    branch.block.walk(visit);
                }
                if let Some(block) = otherwise {
                    block.walk(visit);
                }
            }
            StatementKind::For(for_loop) => for_loop.body.walk(visit),
            StatementKind::Parallel(branches) => {
                for branch in branches {
                    branch.walk(visit);
                }
            }
            StatementKind::Try { body, catches } => {
                body.walk(visit);
                for catch in catches {
                    catch.handler.walk(visit);
                }
            }
            StatementKind::Call { .. }
            | StatementKind::Let { .. }
            | StatementKind::Fail(_)
            | StatementKind::Emit { .. }
            | StatementKind::Wait(_)
            | StatementKind::Await { .. } => {}
        }
    }
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub kind: StatementKind,
    /// Its stable step name within its block (the block's path comes first):
    /// the bound name, or the construct and its count in the workflow (`wait#2`).
    pub step: String,
    /// The names this statement binds, as [`Block::bound`] counts them.
    pub bound: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StatementKind {
    Call {
        name: String,
        call: Call,
    },
    Let {
        name: String,
        value: Expr,
    },
    /// The first branch whose condition holds runs.
    When {
        branches: Vec<Branch>,
        otherwise: Option<Block>,
    },
    For(ForLoop),
    /// Each statement is one concurrent branch.
    Parallel(Vec<Statement>),
    /// The first clause that takes a failure's kind handles it; other kinds go on.
    Try {
        body: Block,
        catches: Vec<Catch>,
    },
    /// A message ends the execution; an error value (a caught one) is raised again.
    Fail(Expr),
    Emit {
        event: String,
        payload: Option<Expr>,
    },
    Wait(Duration),
    /// A step that waits for a decision: an event that fits, or one given directly.
    Await {
        name: String,
        awaited: Await,
    },
}

/// What an `await` step waits for, and for how long.
#[derive(Debug, Clone)]
pub struct Await {
    /// An event name or glob, as triggers match them.
    pub pattern: String,
    /// The payload's type: a decision that does not fit it is refused.
    pub shape: Type,
    /// Over `event` (the payload) and what is in scope; `None` takes any.
    pub condition: Option<Expr>,
    /// The shape and the condition as written, for people reading the wait.
    pub shape_text: String,
    pub condition_text: Option<String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Branch {
    pub condition: Expr,
    /// `when#n branch i`: where an evaluation error of its condition is reported.
    pub step: String,
    pub block: Block,
}

#[derive(Debug, Clone)]
pub struct Catch {
    /// The kinds it takes; `None` takes every catchable kind.
    pub kinds: Option<BTreeSet<ErrorKind>>,
    pub error: String,
    pub handler: Block,
}

impl Catch {
    pub fn takes(&self, kind: ErrorKind) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|kinds| kinds.contains(&kind))
    }
}

#[derive(Debug, Clone)]
pub struct ForLoop {
    /// The name that collects the iterations' results, if any.
    pub result: Option<String>,
    pub item: String,
    /// The name of the iteration's index (from 0), if any.
    pub index: Option<String>,
    /// `yield`: each iteration's value; without it, the body's last binding.
    pub value: Option<Expr>,
    pub list: Expr,
    pub parallel: bool,
    /// At most this many iterations at once (`parallel for`).
    pub limit: Option<NonZeroUsize>,
    pub body: Block,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub target: CallTarget,
    pub argument: Expr,
    pub timeout: Option<Duration>,
    pub retry: Option<RetryId>,
}

#[derive(Debug, Clone)]
pub enum CallTarget {
    Agent(AgentId),
    /// `any [skills]`: the least-loaded of the agents having every skill
    /// (never none).
    AnyOf {
        skills: Vec<String>,
        agents: Vec<AgentId>,
    },
    Workflow(WorkflowId),
}

impl Program {
    /// The agents the `workflows` may call, their sub-workflows' included.
    pub fn reachable_agents(
        &self,
        workflows: impl IntoIterator<Item = WorkflowId>,
    ) -> BTreeSet<AgentId> {
        let mut agents = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<WorkflowId> = workflows.into_iter().collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            match &self.workflow(id).body {
                WorkflowBody::Chain(links) => agents.extend(links),
                WorkflowBody::Steps(block) => block.walk(&mut |statement| {
                    if let StatementKind::Call { call, .. } = &statement.kind {
                        match &call.target {
                            CallTarget::Agent(agent) => {
                                agents.insert(*agent);
                            }
                            CallTarget::AnyOf { agents: any, .. } => agents.extend(any),
                            CallTarget::Workflow(child) => stack.push(*child),
                        }
                    }
                }),
            }
        }
        agents
    }

    /// Why the `workflows` cannot run where `is_set` tells which secrets exist:
    /// a message per secret an agent they may call reads and is not set, in agent
    /// order. `skip` leaves agents out (a test's mocked ones).
    pub fn missing_secrets(
        &self,
        workflows: impl IntoIterator<Item = WorkflowId>,
        skip: impl Fn(AgentId) -> bool,
        is_set: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let mut missing = Vec::new();
        for id in self.reachable_agents(workflows) {
            let agent = self.agent(id);
            if skip(id) {
                continue;
            }
            for (name, _) in agent.body.secret_uses() {
                if !is_set(&name) {
                    missing.push(format!(
                        "secret `{name}` (read by agent `{}`) is not set in the environment or the --secrets file",
                        agent.name
                    ));
                }
            }
        }
        missing
    }

    /// The name of every secret some agent reads, once each, in name order.
    pub fn secret_names(&self) -> BTreeSet<String> {
        self.agents
            .iter()
            .flat_map(|agent| agent.body.secret_uses())
            .map(|(name, _)| name)
            .collect()
    }

    /// Whether `name` is a metric series the program declares or records.
    pub fn knows_metric(&self, name: &str) -> bool {
        self.metrics.contains_key(name)
    }

    pub fn agent(&self, id: AgentId) -> &Agent {
        &self.agents[id.index()]
    }

    pub fn workflow(&self, id: WorkflowId) -> &Workflow {
        &self.workflows[id.index()]
    }

    pub fn trigger(&self, id: TriggerId) -> &Trigger {
        &self.triggers[id.index()]
    }

    pub fn retry(&self, id: RetryId) -> &RetryPlan {
        &self.retries[id.index()]
    }

    /// Every retry policy, in name order.
    pub fn retries(&self) -> &[RetryPlan] {
        &self.retries
    }

    /// The retry policy of a call of `agent` in `workflow`: the step's own, else
    /// the workflow's, else the agent's.
    pub fn retry_for(
        &self,
        workflow: &Workflow,
        agent: &Agent,
        call: Option<&Call>,
    ) -> Option<&RetryPlan> {
        call.and_then(|c| c.retry)
            .or(workflow.retry)
            .or(agent.retry)
            .map(|id| self.retry(id))
    }

    /// Every agent, in name order.
    pub fn agents(&self) -> &[Agent] {
        &self.agents
    }

    /// Every workflow, in name order.
    pub fn workflows(&self) -> &[Workflow] {
        &self.workflows
    }

    /// Every trigger, in name order.
    pub fn triggers(&self) -> &[Trigger] {
        &self.triggers
    }

    pub fn agent_named(&self, name: &str) -> Option<&Agent> {
        find(&self.agents, name, |a| &a.name)
    }

    pub fn workflow_named(&self, name: &str) -> Option<&Workflow> {
        find(&self.workflows, name, |w| &w.name)
    }

    pub fn trigger_named(&self, name: &str) -> Option<&Trigger> {
        find(&self.triggers, name, |t| &t.name)
    }

    pub fn workflow_names(&self) -> Vec<String> {
        self.workflows.iter().map(|w| w.name.clone()).collect()
    }

    pub fn trigger_names(&self) -> Vec<String> {
        self.triggers.iter().map(|t| t.name.clone()).collect()
    }

    /// Agents that have every one of `skills`, in name order.
    pub fn agents_with_skills<S: AsRef<str>>(&self, skills: &[S]) -> Vec<&Agent> {
        let Some((first, rest)) = skills.split_first() else {
            return Vec::new();
        };
        let holders = |skill: &S| {
            self.skills
                .get(skill.as_ref())
                .map_or(&[][..], Vec::as_slice)
        };
        holders(first)
            .iter()
            .filter(|id| rest.iter().all(|s| holders(s).contains(id)))
            .map(|id| self.agent(*id))
            .collect()
    }

    /// Whether any agent declares `skill`.
    pub fn has_skill(&self, skill: &str) -> bool {
        self.skills.contains_key(skill)
    }

    /// Every goal, parents before their children.
    pub fn all_goals(&self) -> Vec<&Goal> {
        let mut out = Vec::new();
        let mut stack: Vec<&Goal> = self.goals.iter().rev().collect();
        while let Some(goal) = stack.pop() {
            out.push(goal);
            stack.extend(goal.children.iter().rev());
        }
        out
    }
}

/// The item named `name` in a list kept in name order.
fn find<'a, T>(items: &'a [T], name: &str, key: impl Fn(&T) -> &String) -> Option<&'a T> {
    items
        .binary_search_by(|item| key(item).as_str().cmp(name))
        .ok()
        .map(|i| &items[i])
}

/// The checked program of `text`, for the tests of what consumes programs.
#[cfg(test)]
pub(crate) fn checked(text: &str) -> Program {
    let (_, checked) = crate::check_text("test.wf", text);
    match checked.program {
        Some(program) => program,
        None => panic!("the test program does not check: {:?}", checked.diagnostics),
    }
}
