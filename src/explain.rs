//! `wfc explain FILE NAME`: what a declared name means, worked out from the
//! checked program — a retry policy's delays, a cron trigger's next slots, what an
//! event pattern matches, a metric trigger's current reading, a workflow's steps
//! and worst-case time, an agent's contract.

use crate::ast::Goal;
use crate::duration::human;
use crate::program::{
    Agent, AgentBody, Block, CallTarget, Metric, Program, RetryPlan, StatementKind, Trigger,
    TriggerKind, Workflow, WorkflowBody,
};
use crate::runtime::retry_window;
use crate::store::{timestamp, Store};
use chrono::{DateTime, Utc};
use std::fmt::Write;
use std::time::Duration;

/// How many upcoming cron slots are listed.
const NEXT_SLOTS: usize = 5;

/// Everything `name` declares in `program`, explained (a name may be, say, both a
/// trigger and a workflow). Empty when nothing has that name.
pub fn explain(program: &Program, name: &str, store: Option<&Store>, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    if let Some(plan) = program.retries().iter().find(|r| r.name == name) {
        retry(plan, &mut out);
    }
    if let Some(policy) = program.breakers.iter().find(|b| b.name == name) {
        breaker(program, policy, &mut out);
    }
    if let Some(alert) = program.alerts.iter().find(|a| a.name == name) {
        self::alert(alert, &mut out);
    }
    if let Some(trigger) = program.triggers().iter().find(|t| t.name == name) {
        self::trigger(program, trigger, store, now, &mut out);
    }
    if let Some(workflow) = program.workflow_named(name) {
        self::workflow(program, workflow, &mut out);
    }
    if let Some(template) = program.templates.iter().find(|t| t.name == name) {
        self::template(template, &mut out);
    }
    if let Some(agent) = program.agent_named(name) {
        self::agent(program, agent, &mut out);
    }
    if let Some(metric) = program.metrics.get(name) {
        self::metric(metric, &mut out);
    }
    if let Some(goal) = goals(&program.goals)
        .into_iter()
        .find(|g| g.name.name == name)
    {
        self::goal(goal, &mut out);
    }
    out
}

/// Every name `explain` knows, for did-you-mean.
pub fn names(program: &Program) -> Vec<String> {
    let mut names: Vec<String> = program.retries().iter().map(|r| r.name.clone()).collect();
    names.extend(program.breakers.iter().map(|b| b.name.clone()));
    names.extend(program.alerts.iter().map(|a| a.name.clone()));
    names.extend(program.triggers().iter().map(|t| t.name.clone()));
    names.extend(program.workflows().iter().map(|w| w.name.clone()));
    names.extend(program.templates.iter().map(|t| t.name.clone()));
    names.extend(program.agents().iter().map(|a| a.name.clone()));
    names.extend(program.metrics.keys().cloned());
    names.extend(goals(&program.goals).iter().map(|g| g.name.name.clone()));
    names
}

fn goals(roots: &[Goal]) -> Vec<&Goal> {
    let mut all = Vec::new();
    let mut stack: Vec<&Goal> = roots.iter().collect();
    while let Some(goal) = stack.pop() {
        all.push(goal);
        stack.extend(&goal.children);
    }
    all
}

fn retry(plan: &RetryPlan, out: &mut String) {
    let kinds: Vec<&str> = plan.retry_on.iter().map(|k| k.name()).collect();
    let _ = writeln!(
        out,
        "retry policy {}: up to {} attempts, retrying {}",
        plan.name,
        plan.attempts,
        kinds.join(", ")
    );
    let _ = writeln!(out, "  attempt  delay before it      cumulative (at most)");
    let _ = writeln!(out, "  1        -                    0ms");
    let mut total = Duration::ZERO;
    for n in 1..plan.attempts.get() {
        let (low, high) = retry_window(plan, n);
        total += high;
        let delay = if low == high {
            human(high)
        } else {
            format!("{} to {}", human(low), human(high))
        };
        let _ = writeln!(out, "  {:<8} {delay:<20} {}", n + 1, human(total));
    }
    let jitter = match plan.jitter {
        crate::ast::Jitter::None => "no jitter: every run waits exactly these delays",
        crate::ast::Jitter::Full => {
            "full jitter: each delay is drawn at random from 0 up to the backoff's (the table's upper bound)"
        }
        crate::ast::Jitter::Equal => {
            "equal jitter: each delay is drawn from half the backoff's to all of it"
        }
    };
    let _ = writeln!(out, "  {jitter}");
}

fn breaker(program: &Program, policy: &crate::program::BreakerPolicy, out: &mut String) {
    let seconds = |d: chrono::Duration| human(d.to_std().unwrap_or_default());
    let _ = writeln!(
        out,
        "breaker {}: opens after {} failures within {}; while open, calls fail at once \
         (circuit_open) for {}, then one trial call decides: success closes it, failure reopens it",
        policy.name,
        policy.open_after,
        seconds(policy.window),
        seconds(policy.cool_down)
    );
    let guarded: Vec<&str> = program
        .agents()
        .iter()
        .filter(|a| a.breaker.as_ref().is_some_and(|b| b.name == policy.name))
        .map(|a| a.name.as_str())
        .collect();
    let _ = match guarded.as_slice() {
        [] => writeln!(out, "  guards no agent"),
        agents => writeln!(out, "  guards {}", agents.join(", ")),
    };
}

fn alert(alert: &crate::program::Alert, out: &mut String) {
    let _ = writeln!(
        out,
        "alert {}: fires once each time `{}` starts to hold (evaluated every second by wfc serve)",
        alert.name, alert.text
    );
    if let Some(webhook) = &alert.webhook {
        let _ = writeln!(out, "  notifies {webhook} (a JSON POST, up to three tries)");
    }
    if let Some(event) = &alert.emit {
        let _ = writeln!(out, "  emits event `{event}` when it fires");
    }
}

fn trigger(
    program: &Program,
    trigger: &Trigger,
    store: Option<&Store>,
    now: DateTime<Utc>,
    out: &mut String,
) {
    let start = out.len();
    kind(program, trigger, store, now, out);
    // The doc comment goes under the line that says what the trigger is.
    let mut docs = String::new();
    doc(trigger.doc.as_deref(), &mut docs);
    let after_header = out[start..].find('\n').map_or(out.len(), |i| start + i + 1);
    out.insert_str(after_header, &docs);
}

/// What a trigger is and when it fires.
fn kind(
    program: &Program,
    trigger: &Trigger,
    store: Option<&Store>,
    now: DateTime<Utc>,
    out: &mut String,
) {
    let starts: Vec<&str> = trigger
        .workflows
        .iter()
        .map(|w| program.workflow(*w).name.as_str())
        .collect();
    let starts = match starts.as_slice() {
        [] => "starts no workflow".to_string(),
        names => format!("starts {}", names.join(", ")),
    };
    match &trigger.kind {
        TriggerKind::Cron {
            expression,
            schedule,
            missed,
        } => {
            let tz = schedule.timezone();
            let _ = writeln!(
                out,
                "cron trigger {}: \"{expression}\" in {tz}; {starts}",
                trigger.name
            );
            let _ = writeln!(out, "  next {NEXT_SLOTS} slots after {}:", timestamp(now));
            let mut after = now;
            for _ in 0..NEXT_SLOTS {
                let Some(slot) = schedule.next_after(after) else {
                    let _ = writeln!(out, "  (no further slot)");
                    break;
                };
                let local = slot.with_timezone(&tz);
                let _ = writeln!(
                    out,
                    "  {}  ({})",
                    local.format("%a %Y-%m-%d %H:%M %Z (UTC%:z)"),
                    timestamp(slot)
                );
                after = slot;
            }
            let missed = match missed {
                crate::ast::MissedSlots::RunOnce => "run once for the latest",
                crate::ast::MissedSlots::Skip => "skipped",
            };
            let _ = writeln!(out, "  slots missed while no server ran: {missed}");
        }
        TriggerKind::Event { pattern } => {
            let _ = writeln!(
                out,
                "event trigger {}: events named \"{pattern}\"; {starts}",
                trigger.name
            );
            let segments = pattern.split('.').count();
            let _ = writeln!(
                out,
                "  matches names of exactly {segments} dot-separated segment(s); `*` is any one segment"
            );
            let emitted = emitted_events(program);
            let matching: Vec<&String> = emitted
                .iter()
                .filter(|name| crate::program::matches(pattern, name))
                .collect();
            match matching.as_slice() {
                [] => {
                    let _ = writeln!(
                        out,
                        "  no `emit` in the program matches; events come from outside"
                    );
                }
                names => {
                    let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
                    let _ = writeln!(
                        out,
                        "  emitted in the program and matching: {}",
                        names.join(", ")
                    );
                }
            }
        }
        TriggerKind::Metric(metric) => {
            let _ = writeln!(
                out,
                "metric trigger {}: when {} {} {}; {starts}",
                trigger.name,
                metric.query,
                metric.op.symbol(),
                metric.target
            );
            let reading = store.map(|s| s.metric_value(&metric.query, now, metric.timezone, None));
            match reading {
                None => {
                    let _ = writeln!(out, "  no store yet: no sample recorded");
                }
                Some(Err(error)) => {
                    let _ = writeln!(out, "  cannot read the store: {error}");
                }
                Some(Ok((value, period))) => {
                    let period = if period.is_empty() {
                        String::new()
                    } else {
                        format!(" in period {period} ({})", metric.timezone)
                    };
                    let reading = match value {
                        Some(v) => {
                            let holds = metric.op.holds(v, metric.target);
                            format!(
                                "{v}{period}: the condition {}",
                                if holds { "holds" } else { "does not hold" }
                            )
                        }
                        None => format!("no sample{period}"),
                    };
                    let _ = writeln!(out, "  now: {reading}");
                }
            }
            let _ = writeln!(
                out,
                "  fires when the condition becomes true, not again while it stays true{}",
                if metric.query.period.is_some() {
                    "; again in the next period"
                } else {
                    ""
                }
            );
        }
        TriggerKind::Manual => {
            let _ = writeln!(
                out,
                "manual trigger {}: fires only when asked (`wfc run --trigger {}`); {starts}",
                trigger.name, trigger.name
            );
        }
    }
}

/// A metric read in words: `sum(revenue) per month`, `latest(nps)`.
/// The event names `emit` statements of the program write.
fn emitted_events(program: &Program) -> Vec<String> {
    let mut names = Vec::new();
    for workflow in program.workflows() {
        if let WorkflowBody::Steps(block) = &workflow.body {
            block.walk(&mut |statement| {
                if let StatementKind::Emit { event, .. } = &statement.kind {
                    if !names.contains(event) {
                        names.push(event.clone());
                    }
                }
            });
        }
    }
    names
}

/// The most time an execution can take: every call timing out on every attempt
/// with the longest delays between, every wait in full. `None` when a call has no
/// timeout. Loops are counted once, per item.
#[derive(Clone, Copy)]
struct Budget {
    time: Option<Duration>,
    per_item: bool,
}

impl Budget {
    const ZERO: Budget = Budget {
        time: Some(Duration::ZERO),
        per_item: false,
    };

    fn then(self, other: Budget) -> Budget {
        Budget {
            time: self.time.zip(other.time).map(|(a, b)| a + b),
            per_item: self.per_item || other.per_item,
        }
    }

    fn or(self, other: Budget) -> Budget {
        Budget {
            time: self.time.zip(other.time).map(|(a, b)| a.max(b)),
            per_item: self.per_item || other.per_item,
        }
    }

    fn show(self) -> String {
        match self.time {
            None => "unbounded (a call without a timeout)".into(),
            Some(time) if self.per_item => {
                format!("{} (loops counted once: per item)", human(time))
            }
            Some(time) => human(time),
        }
    }
}

/// A declaration's doc comment, under its first line.
fn doc(doc: Option<&str>, out: &mut String) {
    for line in doc.into_iter().flat_map(str::lines) {
        let _ = writeln!(out, "  {line}");
    }
}

fn template(template: &crate::program::TemplateInfo, out: &mut String) {
    let _ = writeln!(out, "template {}", template.name);
    doc(template.doc.as_deref(), out);
    let _ = writeln!(out, "  parameters:");
    for param in &template.params {
        let _ = writeln!(out, "    {}", param.written);
    }
    match template.instances.as_slice() {
        [] => {
            let _ = writeln!(out, "  no workflow is made from it yet");
        }
        instances => {
            let _ = writeln!(
                out,
                "  workflows made from it (`wfc explain` each for its steps): {}",
                instances.join(", ")
            );
        }
    }
}

fn workflow(program: &Program, workflow: &Workflow, out: &mut String) {
    let _ = writeln!(out, "workflow {}", workflow.name);
    doc(workflow.doc.as_deref(), out);
    if let Some(made) = &workflow.made_from {
        let _ = writeln!(
            out,
            "  made from template {}({})",
            made.template,
            made.arguments.join(", ")
        );
    }
    if let Some(input) = &workflow.input {
        let _ = writeln!(out, "  input: {input}");
    }
    let triggers: Vec<&str> = workflow
        .triggers
        .iter()
        .map(|t| program.trigger(*t).name.as_str())
        .collect();
    if !triggers.is_empty() {
        let _ = writeln!(out, "  started by: {}", triggers.join(", "));
    }
    let _ = writeln!(out, "  steps:");
    let budget = steps(program, workflow, "    ", out);
    if workflow.dead_letter {
        let _ = writeln!(
            out,
            "  on failure: dead-lettered, to replay with `wfc dlq replay`"
        );
    }
    let _ = writeln!(out, "  worst-case time: {}", budget.show());
}

fn block(
    program: &Program,
    workflow: &Workflow,
    block: &Block,
    indent: &str,
    out: &mut String,
) -> Budget {
    let mut total = Budget::ZERO;
    for statement in &block.statements {
        let step = &statement.step;
        let budget = match &statement.kind {
            StatementKind::Call { call: c, .. } => match &c.target {
                CallTarget::Agent(id) => call(
                    program,
                    workflow,
                    program.agent(*id),
                    Some(c),
                    step,
                    indent,
                    out,
                ),
                CallTarget::AnyOf { skills, agents } => {
                    let _ = writeln!(
                        out,
                        "{indent}{step}: the least-loaded agent with skills [{}]:",
                        skills.join(", ")
                    );
                    let inner = format!("{indent}  ");
                    agents.iter().fold(Budget::ZERO, |worst, id| {
                        let agent = program.agent(*id);
                        worst.or(call(
                            program,
                            workflow,
                            agent,
                            Some(c),
                            &agent.name,
                            &inner,
                            out,
                        ))
                    })
                }
                CallTarget::Workflow(id) => {
                    let child = program.workflow(*id);
                    // Its steps are its own explanation; here only its total.
                    let budget = steps(program, child, "", &mut String::new());
                    let _ = writeln!(
                        out,
                        "{indent}{step}: sub-workflow {} (`wfc explain` it for its steps) at most {}",
                        child.name,
                        budget.show()
                    );
                    budget
                }
            },
            StatementKind::Let { .. } | StatementKind::Emit { .. } | StatementKind::Fail(_) => {
                Budget::ZERO
            }
            StatementKind::Wait(duration) => {
                let _ = writeln!(out, "{indent}{step}: waits {}", human(*duration));
                Budget {
                    time: Some(*duration),
                    per_item: false,
                }
            }
            StatementKind::Await { awaited, .. } => {
                let condition = awaited
                    .condition_text
                    .as_ref()
                    .map_or_else(String::new, |c| format!(" where {c}"));
                let _ = writeln!(
                    out,
                    "{indent}{step}: waits for a decision: event \"{}\" {}{condition}, or `wfc decide`; at most {}, then fails with kind `timeout`",
                    awaited.pattern,
                    awaited.shape_text,
                    human(awaited.timeout)
                );
                Budget {
                    time: Some(awaited.timeout),
                    per_item: false,
                }
            }
            StatementKind::When {
                branches,
                otherwise,
            } => {
                let _ = writeln!(
                    out,
                    "{indent}{step}: one branch of {}",
                    branches.len() + usize::from(otherwise.is_some())
                );
                let inner = format!("{indent}  ");
                let mut worst = Budget::ZERO;
                for branch in branches {
                    worst = worst.or(self::block(program, workflow, &branch.block, &inner, out));
                }
                if let Some(otherwise) = otherwise {
                    worst = worst.or(self::block(program, workflow, otherwise, &inner, out));
                }
                worst
            }
            StatementKind::For(for_loop) => {
                let kind = if for_loop.parallel {
                    "parallel for"
                } else {
                    "for"
                };
                let _ = writeln!(out, "{indent}{step}: {kind} each item:");
                let inner = format!("{indent}  ");
                let body = self::block(program, workflow, &for_loop.body, &inner, out);
                Budget {
                    per_item: true,
                    ..body
                }
            }
            StatementKind::Parallel(branches) => {
                let _ = writeln!(out, "{indent}{step}: {} branches at once:", branches.len());
                let inner = format!("{indent}  ");
                branches.iter().fold(Budget::ZERO, |worst, branch| {
                    let one = Block {
                        statements: vec![branch.clone()],
                        bound: Vec::new(),
                    };
                    worst.or(self::block(program, workflow, &one, &inner, out))
                })
            }
            StatementKind::Try { body, catches } => {
                let _ = writeln!(
                    out,
                    "{indent}{step}: try, with {} catch clause(s)",
                    catches.len()
                );
                let inner = format!("{indent}  ");
                let tried = self::block(program, workflow, body, &inner, out);
                let handlers = catches.iter().fold(Budget::ZERO, |worst, c| {
                    worst.or(self::block(program, workflow, &c.handler, &inner, out))
                });
                tried.then(handlers)
            }
        };
        total = total.then(budget);
    }
    total
}

/// A workflow's steps, a line each into `out`, and its worst case.
fn steps(program: &Program, workflow: &Workflow, indent: &str, out: &mut String) -> Budget {
    match &workflow.body {
        WorkflowBody::Chain(agents) => agents.iter().fold(Budget::ZERO, |total, id| {
            let agent = program.agent(*id);
            total.then(call(
                program,
                workflow,
                agent,
                None,
                &agent.name,
                indent,
                out,
            ))
        }),
        WorkflowBody::Steps(block) => self::block(program, workflow, block, indent, out),
    }
}

/// One agent call's line and worst case: every attempt timing out, the longest
/// delays between.
fn call(
    program: &Program,
    workflow: &Workflow,
    agent: &Agent,
    call: Option<&crate::program::Call>,
    step: &str,
    indent: &str,
    out: &mut String,
) -> Budget {
    // A chain's or an `any` pick's step is the agent's own name: said once.
    let head = if step == agent.name {
        agent.name.clone()
    } else {
        format!("{step}: {}", agent.name)
    };
    if let AgentBody::Compute(_) = agent.body {
        let _ = writeln!(out, "{indent}{head} (compute, in process)");
        return Budget::ZERO;
    }
    let plan = program.retry_for(workflow, agent, call);
    let attempts = plan.map_or(1, |p| p.attempts.get());
    let delays: Duration = plan.map_or(Duration::ZERO, |p| {
        (1..attempts).map(|n| retry_window(p, n).1).sum()
    });
    let timeout = call.and_then(|c| c.timeout).or(agent.timeout);
    let policy = plan.map_or("no retry".to_string(), |p| format!("retry {}", p.name));
    let breaker = if agent.breaker.is_some() {
        ", behind a breaker"
    } else {
        ""
    };
    let (time, worst) = match timeout {
        Some(timeout) => (
            Some(timeout * attempts + delays),
            format!("timeout {}", human(timeout)),
        ),
        None => (None, "no timeout".to_string()),
    };
    let _ = writeln!(
        out,
        "{indent}{head} ({worst}, {policy}: {attempts} attempt(s){}{breaker}) at most {}",
        if delays.is_zero() {
            String::new()
        } else {
            format!(", delays up to {}", human(delays))
        },
        time.map_or("unbounded".to_string(), human)
    );
    Budget {
        time,
        per_item: false,
    }
}

fn agent(program: &Program, agent: &Agent, out: &mut String) {
    let _ = writeln!(out, "agent {}", agent.name);
    doc(agent.doc.as_deref(), out);
    if let Some(department) = &agent.department {
        let _ = writeln!(out, "  department: {department}");
    }
    if !agent.skills.is_empty() {
        let _ = writeln!(out, "  skills: {}", agent.skills.join(", "));
    }
    let _ = writeln!(out, "  takes:   {}", agent.input);
    let _ = writeln!(out, "  returns: {}", agent.output);
    match &agent.body {
        AgentBody::Compute(_) => {
            let _ = writeln!(
                out,
                "  runs: in process (`compute`), pure, no timeout needed"
            );
        }
        AgentBody::Http(http) => {
            let _ = writeln!(
                out,
                "  calls: {} {}, its input as JSON ({}), the JSON response as its output",
                http.method.name(),
                http.url,
                if http.method == crate::ast::HttpMethod::Get {
                    "query parameters"
                } else {
                    "body"
                }
            );
        }
        AgentBody::Llm(llm) => {
            let _ = writeln!(
                out,
                "  asks: model {} at {}, its output shape sent as a JSON schema, the reply held to it",
                llm.model, llm.url
            );
            if let Some(price) = llm.price {
                let _ = writeln!(
                    out,
                    "  price: ${} per million input tokens, ${} per million output tokens",
                    price.input, price.output
                );
            }
        }
        AgentBody::Run(command) => {
            let mut argv = vec![command.written.clone()];
            argv.extend(command.args.iter().cloned());
            let _ = writeln!(
                out,
                "  runs: {:?} in {}, its input as JSON on stdin, its output as JSON on stdout",
                argv,
                command.cwd.display()
            );
        }
    }
    let timeout = agent.timeout.map_or("none".to_string(), human);
    let _ = writeln!(out, "  timeout: {timeout}");
    if let Some(retry) = agent.retry {
        let plan = program.retry(retry);
        let _ = writeln!(out, "  retry: {} ({} attempts)", plan.name, plan.attempts);
    }
    if let Some(breaker) = &agent.breaker {
        let _ = writeln!(
            out,
            "  breaker: opens after {} failures within {}, cools down for {}",
            breaker.open_after,
            human(breaker.window.to_std().unwrap_or_default()),
            human(breaker.cool_down.to_std().unwrap_or_default())
        );
    }
    if let Some(capacity) = agent.capacity {
        let _ = writeln!(out, "  capacity: {capacity} call(s) at once");
    }
}

fn metric(metric: &Metric, out: &mut String) {
    let unit = metric
        .unit
        .as_deref()
        .map(|u| format!(" in {u}"))
        .unwrap_or_default();
    let _ = writeln!(out, "metric {}{unit}", metric.name);
    if let Some(description) = &metric.description {
        let _ = writeln!(out, "  {description}");
    }
    let fed = match metric.recorded_by.as_slice() {
        [] => "from outside (`wfc metrics record`, `POST /metrics/NAME`)".to_string(),
        workflows => format!("by workflow(s) {}", workflows.join(", ")),
    };
    let _ = writeln!(out, "  recorded {fed}");
}

fn goal(goal: &Goal, out: &mut String) {
    let title = goal
        .title
        .as_ref()
        .map(|t| format!(": {}", t.value))
        .unwrap_or_default();
    let _ = writeln!(out, "goal {}{title}", goal.name.name);
    doc(goal.doc.as_deref(), out);
    if let Some(kpi) = &goal.kpi {
        let query = crate::metric::resolve(&kpi.threshold.metric).map(|q| q.to_string());
        let deadline = kpi
            .deadline
            .as_ref()
            .map(|d| format!(" by {}", d.value))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  kpi: {} {} {}{deadline}",
            query.unwrap_or_else(|_| kpi.threshold.metric.metric.value.clone()),
            kpi.threshold.op.symbol(),
            kpi.threshold.target.value
        );
    }
    if !goal.children.is_empty() {
        let children: Vec<&str> = goal.children.iter().map(|c| c.name.name.as_str()).collect();
        let _ = writeln!(out, "  sub-goals: {}", children.join(", "));
    }
    let _ = writeln!(
        out,
        "  progress: `wfc goals FILE` evaluates it from the recorded samples"
    );
}
