//! The last step of a clean check: the declarations lowered into the checked
//! [`Program`] — names resolved to ids, types and durations computed, defaults
//! applied, triggers compiled, step names fixed. Runs only when no rule found an
//! error, so every name resolves; a name that does not is a checker bug, and the
//! program is then not built rather than built wrong.

use super::Declarations;
use crate::ast;
use crate::metric;
use crate::program::*;
use crate::source::Sources;
use crate::types::Type;
use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

/// The default number of failures within the window that opens a breaker.
const OPEN_AFTER: usize = 5;

fn breaker_policy(breaker: &ast::Breaker) -> BreakerPolicy {
    BreakerPolicy {
        name: breaker.name.name.clone(),
        open_after: breaker
            .open_after
            .as_ref()
            .map_or(OPEN_AFTER, |n| n.value as usize),
        window: chrono_millis(breaker.window.as_ref()),
        cool_down: chrono_millis(breaker.cool_down.as_ref()),
    }
}

pub(super) fn lower(declarations: &Declarations, sources: &Sources) -> Option<Program> {
    let ids = Ids::of(declarations);
    let timezone = match &declarations.timezone {
        Some(tz) => tz.value.parse().ok()?,
        None => chrono_tz::UTC,
    };
    let retries = declarations.retries.values().map(retry_plan).collect();
    let agents = declarations
        .agents
        .values()
        .map(|a| agent(a, declarations, &ids, sources))
        .collect::<Option<_>>()?;
    let workflows = declarations
        .workflows
        .values()
        .map(|w| workflow(w, declarations, &ids, sources))
        .collect::<Option<Vec<_>>>()?;
    let triggers = declarations
        .triggers
        .values()
        .map(|t| trigger(t, &workflows, &ids, timezone, sources))
        .collect::<Option<_>>()?;
    let skills = declarations
        .skills
        .iter()
        .map(|(skill, names)| Some((skill.clone(), ids.agents(names)?)))
        .collect::<Option<_>>()?;
    Some(Program {
        agents,
        workflows,
        triggers,
        retries,
        breakers: declarations.breakers.values().map(breaker_policy).collect(),
        goals: documented(&declarations.goals, sources),
        timezone,
        skills,
        metrics: metrics(declarations),
        tests: declarations
            .tests
            .iter()
            .map(|t| test(t, &ids))
            .collect::<Option<_>>()?,
        alerts: declarations
            .alerts
            .values()
            .map(alert)
            .collect::<Option<_>>()?,
        templates: declarations
            .templates
            .values()
            .map(|template| TemplateInfo {
                name: template.name.name.clone(),
                doc: doc(sources, template.span),
                file: template.name.span.file,
                params: template.params.iter().map(|p| param(p, sources)).collect(),
                instances: declarations
                    .workflows
                    .values()
                    .filter(|w| {
                        w.instance_of
                            .as_ref()
                            .is_some_and(|i| i.template.name == template.name.name)
                    })
                    .map(|w| w.name.name.clone())
                    .collect(),
            })
            .collect(),
    })
}

/// A template parameter as people read it and a form offers it.
fn param(param: &ast::Param, sources: &Sources) -> crate::program::ParamInfo {
    use crate::program::Takes;
    let takes = match &param.kind {
        ast::ParamKind::Agent { input, output } => Takes::Agent {
            input: Type::from_ast(input),
            output: Type::from_ast(output),
        },
        ast::ParamKind::Workflow { input, output } => Takes::Workflow {
            input: Type::from_ast(input),
            output: Type::from_ast(output),
        },
        ast::ParamKind::Retry => Takes::Retry,
        ast::ParamKind::Duration => Takes::Duration,
        ast::ParamKind::Value(ty) => Takes::Value {
            r#type: Type::from_ast(ty),
        },
    };
    let default = param.default.as_ref().map(|d| written(sources, d.span()));
    crate::program::ParamInfo {
        name: param.name.name.clone(),
        written: written(sources, param.span),
        takes,
        default,
    }
}

/// The goal tree with each goal's `///` doc comment.
fn documented(goals: &[ast::Goal], sources: &Sources) -> Vec<ast::Goal> {
    goals
        .iter()
        .map(|goal| ast::Goal {
            doc: doc(sources, goal.span),
            children: documented(&goal.children, sources),
            ..goal.clone()
        })
        .collect()
}

/// The `///` doc comment of the declaration at `span`.
fn doc(sources: &Sources, span: crate::source::Span) -> Option<String> {
    crate::syntax::doc_comment(&sources.get(span.file).text, span.start)
}

/// The source text at `span`, its layout folded to single spaces.
fn written(sources: &Sources, span: crate::source::Span) -> String {
    let text = &sources.get(span.file).text[span.start..span.end];
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// For a program with errors: the program of the declarations that check on
/// their own — no error inside them, and every declaration they name checks on
/// its own too — so an editor still explains them. `None` when none lowers.
pub(super) fn on_their_own(
    declarations: &Declarations,
    errors: &[crate::source::Span],
    sources: &Sources,
) -> Option<Program> {
    let clean = |whole: crate::source::Span| {
        !errors
            .iter()
            .any(|e| e.file == whole.file && e.start >= whole.start && e.end <= whole.end)
    };
    let mut kept = declarations.clone();
    kept.agents.retain(|_, a| clean(a.span));
    kept.workflows.retain(|_, w| clean(w.span));
    kept.triggers.retain(|_, t| clean(t.span));
    kept.retries.retain(|_, r| clean(r.span));
    kept.breakers.retain(|_, b| clean(b.span));
    kept.alerts
        .retain(|_, a| clean(a.span) && alert(a).is_some());
    kept.metrics.retain(|_, m| clean(m.span));
    kept.goals.retain(|g| clean(g.span));
    // Tests name a run's whole story; explaining does not need them.
    kept.tests.clear();
    if kept.timezone.as_ref().is_some_and(|tz| !clean(tz.span)) {
        kept.timezone = None;
    }
    // Leaving one out may leave another naming it: until nothing changes.
    loop {
        let ids = Ids::of(&kept);
        let agents: Vec<String> = kept
            .agents
            .values()
            .filter(|a| agent(a, &kept, &ids, sources).is_none())
            .map(|a| a.name.name.clone())
            .collect();
        let workflows: Vec<String> = kept
            .workflows
            .values()
            .filter(|w| workflow(w, &kept, &ids, sources).is_none())
            .map(|w| w.name.name.clone())
            .collect();
        let triggers: Vec<String> = kept
            .triggers
            .values()
            .filter(|t| trigger(t, &[], &ids, chrono_tz::UTC, sources).is_none())
            .map(|t| t.name.name.clone())
            .collect();
        if agents.is_empty() && workflows.is_empty() && triggers.is_empty() {
            break;
        }
        kept.agents.retain(|name, _| !agents.contains(name));
        kept.workflows.retain(|name, _| !workflows.contains(name));
        kept.triggers.retain(|name, _| !triggers.contains(name));
    }
    for members in kept.skills.values_mut() {
        members.retain(|name| kept.agents.contains_key(name));
    }
    lower(&kept, sources)
}

fn alert(alert: &ast::Alert) -> Option<Alert> {
    let (condition, text) = match alert.condition.as_ref()? {
        ast::AlertCondition::Signal {
            signal,
            workflow,
            op,
            threshold,
            within,
            ..
        } => {
            let within = millis(within);
            let text = format!(
                "{}({}) {} {} within {}",
                signal.name,
                workflow.name,
                op.symbol(),
                threshold.value,
                crate::duration::format(within)
            );
            let condition = Condition::Signal {
                signal: Signal::parse(&signal.name)?,
                workflow: workflow.name.clone(),
                op: *op,
                threshold: threshold.value,
                within,
            };
            (condition, text)
        }
        ast::AlertCondition::Goal { goal, status, .. } => (
            Condition::Goal {
                goal: goal.name.clone(),
                status: crate::program::GoalStatus::parse(&status.name)?,
            },
            format!("goal {} is {}", goal.name, status.name),
        ),
    };
    Some(Alert {
        name: alert.name.name.clone(),
        condition,
        text,
        webhook: match &alert.webhook {
            Some(url) => Some(url::Url::parse(&url.value).ok()?),
            None => None,
        },
        emit: alert.emit.as_ref().map(|e| e.value.clone()),
    })
}

fn test(test: &ast::Test, ids: &Ids) -> Option<Test> {
    let whole = |n: &ast::Spanned<f64>| n.value as u32;
    let mut lowered = Test {
        name: test.name.value.clone(),
        span: test.name.span,
        mocks: Vec::new(),
        given_metrics: Vec::new(),
        start: Start::Metrics,
        sends: Vec::new(),
        expectations: Vec::new(),
    };
    for statement in &test.statements {
        match statement {
            ast::TestStatement::Mock(mock) => lowered.mocks.push(Mock {
                agent: *ids.agents.get(&mock.agent.name)?,
                takes: mock.takes.as_ref().map(millis),
                fails: match &mock.fails {
                    Some((kind, times)) => {
                        Some((ErrorKind::from_name(&kind.name)?, times.as_ref().map(whole)))
                    }
                    None => None,
                },
                returns: mock.returns.clone(),
            }),
            ast::TestStatement::Run {
                workflow, input, ..
            } => {
                lowered.start = Start::Run {
                    workflow: *ids.workflows.get(&workflow.name)?,
                    input: input.clone(),
                }
            }
            ast::TestStatement::GivenEvent { event, payload, .. } => {
                lowered.start = Start::Event {
                    name: event.value.clone(),
                    payload: payload.clone(),
                }
            }
            ast::TestStatement::Send {
                event,
                payload,
                after,
                ..
            } => lowered.sends.push(Send {
                name: event.value.clone(),
                payload: payload.clone(),
                after: after.as_ref().map_or(Duration::ZERO, millis),
            }),
            ast::TestStatement::GivenMetric { metric, value, .. } => {
                // `revenue.monthly = 5000` is a sample of `revenue`.
                let series = metric::split_period_suffix(&metric.value)
                    .map_or(metric.value.as_str(), |(series, _)| series);
                lowered
                    .given_metrics
                    .push((series.to_string(), value.value));
            }
            ast::TestStatement::Expect(expectation) => {
                use ast::ExpectationKind as Kind;
                let kind = match &expectation.kind {
                    Kind::Status(status) => ExpectationKind::Status(*status),
                    Kind::DeadLetter => ExpectationKind::DeadLetter,
                    Kind::Event { event, payload } => ExpectationKind::Event {
                        name: event.value.clone(),
                        payload: payload.clone(),
                    },
                    Kind::Metric(threshold) => ExpectationKind::Metric {
                        query: metric::resolve(&threshold.metric).ok()?,
                        op: threshold.op,
                        target: threshold.target.value,
                    },
                    Kind::Called { agent, times } => ExpectationKind::Called {
                        agent: *ids.agents.get(&agent.name)?,
                        times: whole(times),
                    },
                    Kind::StepResolved { step, with } => ExpectationKind::StepResolved {
                        step: step.value.clone(),
                        with: with.clone(),
                    },
                    Kind::StepTimedOut { step } => ExpectationKind::StepTimedOut {
                        step: step.value.clone(),
                    },
                    Kind::StepAttempts { step, attempts } => ExpectationKind::StepAttempts {
                        step: step.value.clone(),
                        attempts: whole(attempts),
                    },
                    Kind::Output { path, op, value } => ExpectationKind::Output {
                        path: path.clone(),
                        op: *op,
                        value: value.clone(),
                    },
                };
                lowered.expectations.push(Expectation {
                    kind,
                    span: expectation.span,
                });
            }
        }
    }
    Some(lowered)
}

fn metrics(declarations: &Declarations) -> BTreeMap<String, Metric> {
    let mut metrics: BTreeMap<String, Metric> = declarations
        .metrics
        .values()
        .map(|m| {
            let metric = Metric {
                name: m.name.name.clone(),
                unit: m.unit.as_ref().map(|u| u.value.clone()),
                description: m.description.as_ref().map(|d| d.value.clone()),
                recorded_by: Vec::new(),
            };
            (metric.name.clone(), metric)
        })
        .collect();
    for workflow in declarations.workflows.values() {
        for record in &workflow.records {
            let name = &record.metric.value;
            let metric = metrics.entry(name.clone()).or_insert_with(|| Metric {
                name: name.clone(),
                unit: None,
                description: None,
                recorded_by: Vec::new(),
            });
            if metric.recorded_by.last() != Some(&workflow.name.name) {
                metric.recorded_by.push(workflow.name.name.clone());
            }
        }
    }
    metrics
}

/// Ids by name: a declaration's id is its place in name order.
struct Ids {
    agents: BTreeMap<String, AgentId>,
    workflows: BTreeMap<String, WorkflowId>,
    triggers: BTreeMap<String, TriggerId>,
    retries: BTreeMap<String, RetryId>,
}

impl Ids {
    fn of(declarations: &Declarations) -> Ids {
        Ids {
            agents: numbered(&declarations.agents, AgentId),
            workflows: numbered(&declarations.workflows, WorkflowId),
            triggers: numbered(&declarations.triggers, TriggerId),
            retries: numbered(&declarations.retries, RetryId),
        }
    }

    fn agents(&self, names: &[String]) -> Option<Vec<AgentId>> {
        names.iter().map(|n| self.agents.get(n).copied()).collect()
    }

    fn retry(&self, name: Option<&ast::Ident>) -> Option<Option<RetryId>> {
        match name {
            Some(name) => Some(Some(*self.retries.get(&name.name)?)),
            None => Some(None),
        }
    }
}

fn numbered<T, Id>(declared: &BTreeMap<String, T>, id: fn(u32) -> Id) -> BTreeMap<String, Id> {
    (0u32..)
        .zip(declared.keys())
        .map(|(i, name)| (name.clone(), id(i)))
        .collect()
}

fn millis(duration: &ast::Spanned<ast::Millis>) -> Duration {
    Duration::from_millis(duration.value)
}

fn chrono_millis(duration: Option<&ast::Spanned<ast::Millis>>) -> chrono::Duration {
    chrono::Duration::milliseconds(duration.map_or(0, |d| d.value.min(i64::MAX as u64) as i64))
}

/// A count the checker proved whole and at least 1.
fn count(value: &ast::Spanned<f64>) -> Option<NonZeroUsize> {
    NonZeroUsize::new(value.value as usize)
}

fn retry_plan(policy: &ast::RetryPolicy) -> RetryPlan {
    let attempts = policy
        .attempts
        .as_ref()
        .and_then(|a| NonZeroU32::new(a.value as u32))
        .unwrap_or(NonZeroU32::MIN);
    let backoff = policy.backoff.as_ref().map(|b| Backoff {
        kind: b.kind,
        initial: millis(&b.initial),
        factor: b.factor.as_ref().map_or(2.0, |f| f.value),
        max: b.max.as_ref().map(millis),
    });
    let retry_on = match &policy.retry_on {
        Some(kinds) => ErrorKind::ALL
            .into_iter()
            .filter(|k| kinds.iter().any(|n| n.name == k.name()))
            .collect(),
        None => ErrorKind::retried_by_default().collect(),
    };
    RetryPlan {
        name: policy.name.name.clone(),
        attempts,
        backoff,
        jitter: policy
            .jitter
            .as_ref()
            .map_or(ast::Jitter::None, |j| j.value),
        retry_on,
    }
}

/// `…/chat/completions` under an OpenAI-compatible API's base URL.
fn completions_url(endpoint: &str) -> Option<url::Url> {
    let mut base = url::Url::parse(endpoint).ok()?;
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join("chat/completions").ok()
}

fn agent(
    agent: &ast::Agent,
    declarations: &Declarations,
    ids: &Ids,
    sources: &Sources,
) -> Option<Agent> {
    // Relative paths resolve against the declaring file's directory.
    let base_dir = match sources.get(agent.name.span.file).path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let body = match agent.bodies.first()? {
        ast::AgentBody::Compute(expr) => AgentBody::Compute(expr.clone()),
        ast::AgentBody::Http(http) => AgentBody::Http(HttpRequest {
            method: http.method,
            url: url::Url::parse(&http.url.value).ok()?,
            headers: http.headers.clone(),
        }),
        ast::AgentBody::Llm(llm) => AgentBody::Llm(LlmRequest {
            model: super::expand::from_env(&llm.model.value).ok()?,
            url: completions_url(&super::expand::from_env(&llm.endpoint.as_ref()?.value).ok()?)?,
            key: llm.key.clone(),
            system: llm.system.clone(),
            prompt: llm.prompt.clone()?,
            temperature: llm.temperature.as_ref().map(|t| t.value),
            max_tokens: llm.max_tokens.as_ref().map(|n| n.value as u32),
            price: llm.price.as_ref().map(|p| Price {
                input: p.value.0,
                output: p.value.1,
            }),
        }),
        ast::AgentBody::Run(argv) => {
            let (program, args) = argv.value.split_first()?;
            AgentBody::Run(Command {
                written: program.value.clone(),
                program: if program.value.contains('/') {
                    base_dir.join(&program.value)
                } else {
                    PathBuf::from(&program.value)
                },
                args: args.iter().map(|a| a.value.clone()).collect(),
                spans: argv.value.iter().map(|a| a.span).collect(),
                cwd: match &agent.cwd {
                    Some(dir) => base_dir.join(&dir.value),
                    None => base_dir,
                },
                env: agent.env.clone(),
            })
        }
    };
    let breaker = match &agent.breaker {
        Some(name) => Some(breaker_policy(declarations.breakers.get(&name.name)?)),
        None => None,
    };
    Some(Agent {
        id: *ids.agents.get(&agent.name.name)?,
        name: agent.name.name.clone(),
        doc: doc(sources, agent.span),
        file: agent.name.span.file,
        department: agent.department.as_ref().map(|d| d.name.clone()),
        skills: agent.skills.iter().map(|s| s.name.clone()).collect(),
        input: agent.input.as_ref().map_or(Type::Any, Type::from_ast),
        output: agent.output.as_ref().map_or(Type::Any, Type::from_ast),
        body,
        timeout: agent.timeout.as_ref().map(millis),
        retry: ids.retry(agent.retry.as_ref())?,
        breaker,
        capacity: agent.capacity.as_ref().and_then(count),
    })
}

fn trigger(
    trigger: &ast::Trigger,
    workflows: &[Workflow],
    ids: &Ids,
    default_tz: chrono_tz::Tz,
    sources: &Sources,
) -> Option<Trigger> {
    let id = *ids.triggers.get(&trigger.name.name)?;
    let timezone = match &trigger.timezone {
        Some(tz) => tz.value.parse().ok()?,
        None => default_tz,
    };
    let kind = match trigger.kinds.first()? {
        ast::TriggerKind::Cron(expression) => TriggerKind::Cron {
            expression: expression.value.clone(),
            schedule: Box::new(Schedule::new(&expression.value, timezone).ok()?),
            missed: trigger.missed.as_ref().map(|m| m.value).unwrap_or_default(),
        },
        ast::TriggerKind::Event(pattern) => TriggerKind::Event {
            pattern: pattern.value.clone(),
        },
        ast::TriggerKind::Metric(threshold) => TriggerKind::Metric(MetricTrigger {
            read: threshold.metric.span,
            query: metric::resolve(&threshold.metric).ok()?,
            op: threshold.op,
            target: threshold.target.value,
            timezone,
        }),
        ast::TriggerKind::Manual(_) => TriggerKind::Manual,
    };
    Some(Trigger {
        id,
        name: trigger.name.name.clone(),
        doc: doc(sources, trigger.span),
        kind,
        workflows: workflows
            .iter()
            .filter(|w| w.triggers.contains(&id))
            .map(|w| w.id)
            .collect(),
    })
}

fn workflow(
    workflow: &ast::Workflow,
    declarations: &Declarations,
    ids: &Ids,
    sources: &Sources,
) -> Option<Workflow> {
    let mut steps = Steps {
        declarations,
        ids,
        sources,
        counts: BTreeMap::new(),
    };
    let body = match workflow.bodies.first()? {
        ast::WorkflowBody::Chain(chain) => WorkflowBody::Chain(
            chain
                .value
                .iter()
                .map(|a| ids.agents.get(&a.name).copied())
                .collect::<Option<_>>()?,
        ),
        ast::WorkflowBody::Steps(block) => WorkflowBody::Steps(steps.block(block)?),
    };
    Some(Workflow {
        id: *ids.workflows.get(&workflow.name.name)?,
        name: workflow.name.name.clone(),
        file: workflow.name.span.file,
        version: workflow.version.as_ref().map(|v| v.value.clone()),
        triggers: workflow
            .triggers
            .iter()
            .map(|t| ids.triggers.get(&t.name).copied())
            .collect::<Option<_>>()?,
        input: workflow.input.as_ref().map(Type::from_ast),
        body,
        records: workflow
            .records
            .iter()
            .map(|r| Record {
                metric: r.metric.value.clone(),
                value: r.value.clone(),
                step: format!("record {}", r.metric.value),
            })
            .collect(),
        output: workflow.output.clone(),
        dead_letter: workflow
            .on_failure
            .as_ref()
            .is_some_and(|p| p.value == ast::FailurePolicy::DeadLetter),
        retry: ids.retry(workflow.retry.as_ref())?,
        doc: doc(sources, workflow.span).or_else(|| {
            let template = declarations
                .templates
                .get(&workflow.instance_of.as_ref()?.template.name)?;
            doc(sources, template.span)
        }),
        made_from: workflow.instance_of.as_ref().map(|instance| MadeFrom {
            template: instance.template.name.clone(),
            arguments: instance
                .args
                .iter()
                .map(|(name, value)| format!("{}: {}", name.name, written(sources, value.span())))
                .collect(),
        }),
    })
}

struct Steps<'a> {
    declarations: &'a Declarations,
    ids: &'a Ids,
    /// For what an `await` waits for, as written.
    sources: &'a Sources,
    /// How many statements of each construct the workflow has had so far, in source
    /// order: their step names count them (`wait#2`), so comments, blank lines and
    /// `wfc fmt` above a step never rename it.
    counts: BTreeMap<String, usize>,
}

impl Steps<'_> {
    fn block(&mut self, block: &ast::Block) -> Option<Block> {
        Some(Block {
            statements: block
                .statements
                .iter()
                .map(|s| self.statement(s))
                .collect::<Option<_>>()?,
            bound: block.bound_names().into_iter().map(String::from).collect(),
        })
    }

    /// `construct#n`: the workflow's n-th statement of that construct.
    fn numbered(&mut self, construct: String) -> String {
        let n = self.counts.entry(construct.clone()).or_default();
        *n += 1;
        format!("{construct}#{n}")
    }

    /// The step names here are what executions record: changing one breaks resume
    /// of executions recorded before. A binding names its step; the other
    /// constructs are numbered, emits per event name.
    fn step_name(&mut self, statement: &ast::Statement) -> String {
        let construct = match &statement.kind {
            ast::StatementKind::Call { name, .. }
            | ast::StatementKind::Let { name, .. }
            | ast::StatementKind::Await { name, .. } => return name.name.clone(),
            ast::StatementKind::For(for_loop) => {
                let label = for_loop.result.as_ref().unwrap_or(&for_loop.item);
                return label.name.clone();
            }
            ast::StatementKind::When { .. } => "when".to_string(),
            ast::StatementKind::Parallel(_) => "parallel".to_string(),
            ast::StatementKind::Try { .. } => "try".to_string(),
            ast::StatementKind::Fail(_) => "fail".to_string(),
            ast::StatementKind::Emit { event, .. } => format!("emit {}", event.value),
            ast::StatementKind::Wait(_) => "wait".to_string(),
        };
        self.numbered(construct)
    }

    fn statement(&mut self, statement: &ast::Statement) -> Option<Statement> {
        let step = self.step_name(statement);
        let kind = match &statement.kind {
            ast::StatementKind::Call { name, call } => StatementKind::Call {
                name: name.name.clone(),
                call: self.call(call)?,
            },
            ast::StatementKind::Let { name, value } => StatementKind::Let {
                name: name.name.clone(),
                value: value.clone(),
            },
            ast::StatementKind::When {
                branches,
                otherwise,
            } => StatementKind::When {
                branches: branches
                    .iter()
                    .enumerate()
                    .map(|(i, (condition, block))| {
                        Some(Branch {
                            condition: condition.clone(),
                            step: format!("{step} branch {}", i + 1),
                            block: self.block(block)?,
                        })
                    })
                    .collect::<Option<_>>()?,
                otherwise: match otherwise {
                    Some(block) => Some(self.block(block)?),
                    None => None,
                },
            },
            ast::StatementKind::For(for_loop) => StatementKind::For(ForLoop {
                result: for_loop.result.as_ref().map(|r| r.name.clone()),
                item: for_loop.item.name.clone(),
                index: for_loop.index.as_ref().map(|i| i.name.clone()),
                value: for_loop.value.clone(),
                list: for_loop.list.clone(),
                parallel: for_loop.parallel,
                limit: for_loop.limit.as_ref().and_then(count),
                body: self.block(&for_loop.body)?,
            }),
            ast::StatementKind::Parallel(block) => StatementKind::Parallel(
                block
                    .statements
                    .iter()
                    .map(|s| self.statement(s))
                    .collect::<Option<_>>()?,
            ),
            ast::StatementKind::Try { body, catches } => StatementKind::Try {
                body: self.block(body)?,
                catches: catches
                    .iter()
                    .map(|catch| {
                        Some(Catch {
                            kinds: match catch.kinds.as_slice() {
                                [] => None,
                                kinds => Some(
                                    kinds
                                        .iter()
                                        .map(|k| ErrorKind::from_name(&k.name))
                                        .collect::<Option<_>>()?,
                                ),
                            },
                            error: catch.error.name.clone(),
                            handler: self.block(&catch.handler)?,
                        })
                    })
                    .collect::<Option<_>>()?,
            },
            ast::StatementKind::Fail(message) => StatementKind::Fail(message.clone()),
            ast::StatementKind::Emit { event, payload } => StatementKind::Emit {
                event: event.value.clone(),
                payload: payload.clone(),
            },
            ast::StatementKind::Wait(duration) => StatementKind::Wait(millis(duration.written()?)),
            ast::StatementKind::Await { name, awaited } => {
                let text = |span: crate::source::Span| {
                    self.sources.get(span.file).text[span.start..span.end].to_string()
                };
                StatementKind::Await {
                    name: name.name.clone(),
                    awaited: Await {
                        pattern: awaited.pattern.value.clone(),
                        shape: awaited
                            .shape
                            .as_ref()
                            .map_or(Type::Object(BTreeMap::new()), Type::from_ast),
                        shape_text: awaited
                            .shape
                            .as_ref()
                            .map_or_else(|| "{}".to_string(), |shape| text(shape.span)),
                        condition: awaited.condition.clone(),
                        condition_text: awaited.condition.as_ref().map(|c| text(c.span)),
                        timeout: millis(awaited.timeout.as_ref()?.written()?),
                    },
                }
            }
        };
        Some(Statement {
            kind,
            step,
            bound: statement
                .bound_names()
                .into_iter()
                .map(String::from)
                .collect(),
            span: statement.span,
        })
    }

    fn call(&self, call: &ast::Call) -> Option<Call> {
        let target = match &call.target {
            ast::CallTarget::Agent(name) => CallTarget::Agent(*self.ids.agents.get(&name.name)?),
            ast::CallTarget::AnyWithSkills(skills) => {
                let holders = self.declarations.agents_with_skills(&skills.value);
                let names: Vec<String> = holders.iter().map(|a| a.name.name.clone()).collect();
                let agents = self.ids.agents(&names)?;
                if agents.is_empty() {
                    return None;
                }
                CallTarget::AnyOf {
                    skills: skills.value.iter().map(|s| s.name.clone()).collect(),
                    agents,
                }
            }
            ast::CallTarget::Workflow(name) => {
                CallTarget::Workflow(*self.ids.workflows.get(&name.name)?)
            }
        };
        Some(Call {
            target,
            argument: call.argument.clone(),
            timeout: match &call.timeout {
                Some(timeout) => Some(millis(timeout.written()?)),
                None => None,
            },
            retry: self.ids.retry(call.retry.as_ref())?,
        })
    }
}
