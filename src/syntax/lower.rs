//! Lowering pest pairs into the AST's declarations and statements, one function per
//! rule; expressions are in `expr.rs`. Both walk pairs with `pairs.rs`.

use super::expr::lower_expr;
use super::pairs::{compare_op, keyword, unreachable_rule, Children, Lower};
use super::Rule;
use crate::ast::*;
use crate::diagnostic::set_twice;
use crate::source::Span;
use pest::iterators::Pair;
use std::collections::HashMap;

/// Tracks which properties a declaration has set, to report the second of a pair.
#[derive(Default)]
struct Seen(HashMap<&'static str, Span>);

impl Lower {
    /// The properties of a declaration to apply, in order: a `repeatable` one every
    /// time, any other only the first time (a second is reported as set twice).
    fn properties<'i>(
        &mut self,
        props: impl Iterator<Item = Pair<'i, Rule>>,
        repeatable: &[Rule],
    ) -> Vec<Pair<'i, Rule>> {
        let mut seen = Seen::default();
        props
            .filter(|prop| {
                let rule = prop.as_rule();
                repeatable.contains(&rule)
                    || self.first(&mut seen, property_name(rule), self.span(prop))
            })
            .collect()
    }

    /// Whether `property` is set for the first time; reports it otherwise.
    fn first(&mut self, seen: &mut Seen, property: &'static str, span: Span) -> bool {
        match seen.0.get(property) {
            Some(first) => {
                let first = *first;
                self.diagnostics.push(set_twice(property, span, first));
                false
            }
            None => {
                seen.0.insert(property, span);
                true
            }
        }
    }

    pub(super) fn item(&mut self, pair: Pair<'_, Rule>) -> Item {
        match pair.as_rule() {
            Rule::import => {
                let mut children = Children::of(pair);
                let path = self.string(children.next());
                let at = children.rest().next().map(|at| self.string_child(at));
                Item::Import(Import { path, at })
            }
            Rule::timezone => Item::Timezone(self.string_child(pair)),
            Rule::retry_decl => Item::Retry(self.retry(pair)),
            Rule::breaker_decl => Item::Breaker(self.breaker(pair)),
            Rule::agent_decl => Item::Agent(self.agent(pair)),
            Rule::trigger_decl => Item::Trigger(self.trigger(pair)),
            Rule::workflow_decl => Item::Workflow(self.workflow(pair)),
            Rule::workflow_instance => Item::Workflow(self.instance(pair)),
            Rule::template_decl => Item::Template(self.template(pair)),
            Rule::goal_decl => Item::Goal(self.goal(pair)),
            Rule::metric_decl => Item::Metric(self.metric(pair)),
            Rule::alert_decl => Item::Alert(self.alert(pair)),
            Rule::test_decl => Item::Test(self.test(pair)),
            rule => unreachable_rule(rule),
        }
    }

    fn metric(&mut self, pair: Pair<'_, Rule>) -> Metric {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let mut metric = Metric {
            name: self.ident(children.next()),
            unit: None,
            description: None,
            span,
        };
        for prop in self.properties(children.rest(), &[]) {
            let value = self.string_child(prop.clone());
            match prop.as_rule() {
                Rule::metric_unit => metric.unit = Some(value),
                Rule::metric_description => metric.description = Some(value),
                rule => unreachable_rule(rule),
            }
        }
        metric
    }

    fn alert(&mut self, pair: Pair<'_, Rule>) -> Alert {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let mut alert = Alert {
            name: self.ident(children.next()),
            condition: None,
            webhook: None,
            emit: None,
            span,
        };
        for prop in self.properties(children.rest(), &[]) {
            match prop.as_rule() {
                Rule::alert_when => alert.condition = Some(self.alert_condition(prop)),
                Rule::alert_webhook => alert.webhook = Some(self.string_child(prop)),
                Rule::alert_emit => alert.emit = Some(self.string_child(prop)),
                rule => unreachable_rule(rule),
            }
        }
        alert
    }

    fn alert_condition(&mut self, pair: Pair<'_, Rule>) -> AlertCondition {
        let condition = Children::of(pair).next();
        let span = self.span(&condition);
        let rule = condition.as_rule();
        let mut children = Children::of(condition);
        match rule {
            Rule::alert_goal => AlertCondition::Goal {
                goal: self.ident(children.next()),
                status: self.ident(children.next()),
                span,
            },
            Rule::alert_signal => AlertCondition::Signal {
                signal: self.ident(children.next()),
                workflow: self.ident(children.next()),
                op: compare_op(keyword(&children.next())),
                threshold: self.number(children.next()),
                within: self.duration(children.next()),
                span,
            },
            rule => unreachable_rule(rule),
        }
    }

    // LITERALS

    /// The decoded value of the `string` child of `pair`.
    fn string_child(&mut self, pair: Pair<'_, Rule>) -> Spanned<String> {
        self.string(Children::of(pair).next())
    }

    pub(super) fn string(&mut self, pair: Pair<'_, Rule>) -> Spanned<String> {
        let span = self.span(&pair);
        let body = Children::of(pair).next();
        Spanned::new(unescape(body.as_str()), span)
    }

    fn strings(&mut self, pair: Pair<'_, Rule>) -> Spanned<Vec<Spanned<String>>> {
        let span = self.span(&pair);
        let items = pair.into_inner().map(|p| self.string(p)).collect();
        Spanned::new(items, span)
    }

    fn idents(&self, pair: Pair<'_, Rule>) -> Spanned<Vec<Ident>> {
        let span = self.span(&pair);
        Spanned::new(pair.into_inner().map(|p| self.ident(p)).collect(), span)
    }

    pub(super) fn number(&self, pair: Pair<'_, Rule>) -> Spanned<f64> {
        // The grammar admits only decimal literals, which `f64` always parses (huge ones
        // become infinity, which the checker reports).
        let value = pair.as_str().parse().unwrap_or(f64::INFINITY);
        Spanned::new(value, self.span(&pair))
    }

    /// A step's duration: written out, or a template parameter's name.
    fn step_duration(&self, pair: Pair<'_, Rule>) -> StepDuration {
        match pair.as_rule() {
            Rule::duration => StepDuration::Written(self.duration(pair)),
            _ => StepDuration::Param(self.ident(pair)),
        }
    }

    /// A template argument or default: a duration, or any value.
    fn argument(&mut self, pair: Pair<'_, Rule>) -> Argument {
        match pair.as_rule() {
            Rule::duration => Argument::Duration(self.duration(pair)),
            _ => Argument::Value(lower_expr(self, pair)),
        }
    }

    pub(super) fn duration(&self, pair: Pair<'_, Rule>) -> Spanned<Millis> {
        // The grammar admits only digits and a unit; too long a duration becomes the
        // largest one, which the checker reports.
        let value = crate::duration::parse(pair.as_str()).unwrap_or(Millis::MAX);
        Spanned::new(value, self.span(&pair))
    }

    // POLICIES

    fn retry(&mut self, pair: Pair<'_, Rule>) -> RetryPolicy {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let name = self.ident(children.next());
        let mut policy = RetryPolicy {
            name,
            attempts: None,
            backoff: None,
            jitter: None,
            retry_on: None,
            span,
        };
        for prop in self.properties(children.rest(), &[]) {
            match prop.as_rule() {
                Rule::retry_attempts => {
                    policy.attempts = Some(self.number(Children::of(prop).next()));
                }
                Rule::retry_backoff => policy.backoff = Some(self.backoff(prop)),
                Rule::retry_jitter => {
                    let kind = Children::of(prop).next();
                    let jitter = match keyword(&kind) {
                        Rule::jitter_none => Jitter::None,
                        Rule::jitter_full => Jitter::Full,
                        Rule::jitter_equal => Jitter::Equal,
                        rule => unreachable_rule(rule),
                    };
                    policy.jitter = Some(Spanned::new(jitter, self.span(&kind)));
                }
                Rule::retry_on => {
                    policy.retry_on = Some(self.idents(Children::of(prop).next()).value);
                }
                rule => unreachable_rule(rule),
            }
        }
        policy
    }

    fn backoff(&mut self, pair: Pair<'_, Rule>) -> Backoff {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let kind = match keyword(&children.next()) {
            Rule::backoff_exponential => BackoffKind::Exponential,
            Rule::backoff_linear => BackoffKind::Linear,
            Rule::backoff_constant => BackoffKind::Constant,
            rule => unreachable_rule(rule),
        };
        let initial = self.duration(children.next());
        let mut backoff = Backoff {
            kind,
            initial,
            factor: None,
            max: None,
            span,
        };
        for option in children.rest() {
            let value = Children::of(option.clone()).next();
            match option.as_rule() {
                Rule::backoff_factor => backoff.factor = Some(self.number(value)),
                Rule::backoff_max => backoff.max = Some(self.duration(value)),
                rule => unreachable_rule(rule),
            }
        }
        backoff
    }

    fn breaker(&mut self, pair: Pair<'_, Rule>) -> Breaker {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let mut breaker = Breaker {
            name: self.ident(children.next()),
            open_after: None,
            window: None,
            cool_down: None,
            span,
        };
        for prop in self.properties(children.rest(), &[]) {
            match prop.as_rule() {
                Rule::breaker_open_after => {
                    let mut parts = Children::of(prop);
                    breaker.open_after = Some(self.number(parts.next()));
                    breaker.window = Some(self.duration(parts.next()));
                }
                Rule::breaker_cool_down => {
                    breaker.cool_down = Some(self.duration(Children::of(prop).next()));
                }
                rule => unreachable_rule(rule),
            }
        }
        breaker
    }

    // AGENTS

    fn agent(&mut self, pair: Pair<'_, Rule>) -> Agent {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let mut agent = Agent {
            name: self.ident(children.next()),
            department: None,
            skills: Vec::new(),
            input: None,
            output: None,
            bodies: Vec::new(),
            cwd: None,
            env: None,
            timeout: None,
            retry: None,
            breaker: None,
            capacity: None,
            span,
        };
        // `run`, `compute` and `http` may all appear; the checker explains the
        // conflict.
        let bodies = [
            Rule::agent_run,
            Rule::agent_compute,
            Rule::agent_http,
            Rule::agent_llm,
        ];
        for prop in self.properties(children.rest(), &bodies) {
            let rule = prop.as_rule();
            if rule == Rule::agent_http {
                let http = self.http(prop);
                agent.bodies.push(AgentBody::Http(http));
                continue;
            }
            if rule == Rule::agent_llm {
                let llm = self.llm(prop);
                agent.bodies.push(AgentBody::Llm(Box::new(llm)));
                continue;
            }
            let value = Children::of(prop).next();
            match rule {
                Rule::department => agent.department = Some(self.ident(value)),
                Rule::skills => agent.skills = self.idents(value).value,
                Rule::agent_input => agent.input = Some(self.type_expr(value)),
                Rule::agent_output => agent.output = Some(self.type_expr(value)),
                Rule::agent_run => agent.bodies.push(AgentBody::Run(self.strings(value))),
                Rule::agent_compute => agent
                    .bodies
                    .push(AgentBody::Compute(lower_expr(self, value))),
                Rule::agent_cwd => agent.cwd = Some(self.string(value)),
                Rule::agent_env => agent.env = Some(lower_expr(self, value)),
                Rule::agent_timeout => agent.timeout = Some(self.duration(value)),
                Rule::agent_retry => agent.retry = Some(self.ident(value)),
                Rule::agent_breaker => agent.breaker = Some(self.ident(value)),
                Rule::agent_capacity => agent.capacity = Some(self.number(value)),
                rule => unreachable_rule(rule),
            }
        }
        agent
    }

    fn http(&mut self, pair: Pair<'_, Rule>) -> HttpAgent {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let method = match keyword(&children.next()) {
            Rule::http_get => HttpMethod::Get,
            Rule::http_post => HttpMethod::Post,
            Rule::http_put => HttpMethod::Put,
            Rule::http_patch => HttpMethod::Patch,
            Rule::http_delete => HttpMethod::Delete,
            rule => unreachable_rule(rule),
        };
        let url = self.string(children.next());
        let headers = children
            .rest()
            .next()
            .map(|h| lower_expr(self, Children::of(h).next()));
        HttpAgent {
            method,
            url,
            headers,
            span,
        }
    }

    fn llm(&mut self, pair: Pair<'_, Rule>) -> LlmAgent {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let mut llm = LlmAgent {
            model: self.string(children.next()),
            endpoint: None,
            key: None,
            system: None,
            prompt: None,
            temperature: None,
            max_tokens: None,
            price: None,
            span,
        };
        for prop in self.properties(children.rest(), &[]) {
            let rule = prop.as_rule();
            let prop_span = self.span(&prop);
            let mut values = Children::of(prop);
            let value = values.next();
            match rule {
                Rule::llm_endpoint => llm.endpoint = Some(self.string(value)),
                Rule::llm_key => llm.key = Some(lower_expr(self, value)),
                Rule::llm_system => llm.system = Some(self.text_block(value)),
                Rule::llm_prompt => llm.prompt = Some(self.text_block(value)),
                Rule::llm_temperature => llm.temperature = Some(self.number(value)),
                Rule::llm_max_tokens => llm.max_tokens = Some(self.number(value)),
                Rule::llm_price => {
                    let input = self.number(value).value;
                    let output = self.number(values.next()).value;
                    llm.price = Some(Spanned::new((input, output), prop_span));
                }
                rule => unreachable_rule(rule),
            }
        }
        llm
    }

    /// A `"""` text block (laid out by `text_block::dedent`) or a one-line one.
    fn text_block(&mut self, pair: Pair<'_, Rule>) -> TextBlock {
        let span = self.span(&pair);
        let multiline = pair.as_rule() == Rule::text_block;
        let mut parts = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::text_block_text => parts.push(TextPart::Text(part.as_str().to_string())),
                Rule::line_text => parts.push(TextPart::Text(unescape(part.as_str()))),
                Rule::text_hole => {
                    parts.push(TextPart::Hole(lower_expr(self, Children::of(part).next())))
                }
                rule => unreachable_rule(rule),
            }
        }
        TextBlock {
            parts: if multiline {
                super::text_block::dedent(parts)
            } else {
                parts
            },
            span,
        }
    }

    pub(super) fn type_expr(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let primary = children.next();
        let primary_span = self.span(&primary);
        let kind = match primary.as_rule() {
            Rule::type_name => match keyword(&primary) {
                Rule::type_number => TypeExprKind::Number,
                Rule::type_string => TypeExprKind::String,
                Rule::type_bool => TypeExprKind::Bool,
                Rule::type_null => TypeExprKind::Null,
                Rule::type_any => TypeExprKind::Any,
                rule => unreachable_rule(rule),
            },
            Rule::list_type => {
                TypeExprKind::List(Box::new(self.type_expr(Children::of(primary).next())))
            }
            Rule::object_type => TypeExprKind::Object(
                primary
                    .into_inner()
                    .map(|field| {
                        let mut parts = Children::of(field);
                        let name = self.key(parts.next());
                        (name, self.type_expr(parts.next()))
                    })
                    .collect(),
            ),
            rule => unreachable_rule(rule),
        };
        let inner = TypeExpr {
            kind,
            span: primary_span,
        };
        match children.rest().next() {
            Some(_) => TypeExpr {
                kind: TypeExprKind::Optional(Box::new(inner)),
                span,
            },
            None => inner,
        }
    }

    // TRIGGERS

    fn trigger(&mut self, pair: Pair<'_, Rule>) -> Trigger {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let mut trigger = Trigger {
            name: self.ident(children.next()),
            kinds: Vec::new(),
            timezone: None,
            missed: None,
            span,
        };
        // Every firing clause is kept; the checker explains a conflict.
        let kinds = [
            Rule::trigger_cron,
            Rule::trigger_event,
            Rule::trigger_metric,
            Rule::trigger_manual,
        ];
        for prop in self.properties(children.rest(), &kinds) {
            let prop_span = self.span(&prop);
            match prop.as_rule() {
                Rule::trigger_cron => trigger
                    .kinds
                    .push(TriggerKind::Cron(self.string_child(prop))),
                Rule::trigger_event => trigger
                    .kinds
                    .push(TriggerKind::Event(self.string_child(prop))),
                Rule::trigger_metric => trigger.kinds.push(TriggerKind::Metric(
                    self.threshold(&mut Children::of(prop), prop_span),
                )),
                Rule::trigger_manual => trigger.kinds.push(TriggerKind::Manual(prop_span)),
                Rule::trigger_missed => {
                    let policy = Children::of(prop).next();
                    let value = match keyword(&policy) {
                        Rule::missed_skip => MissedSlots::Skip,
                        Rule::missed_run_once => MissedSlots::RunOnce,
                        rule => unreachable_rule(rule),
                    };
                    trigger.missed = Some(Spanned::new(value, self.span(&policy)));
                }
                Rule::timezone => trigger.timezone = Some(self.string_child(prop)),
                rule => unreachable_rule(rule),
            }
        }
        trigger
    }

    /// `metric_ref compare_op signed_number`, the next three children.
    pub(super) fn threshold(&mut self, children: &mut Children<'_>, span: Span) -> Threshold {
        let metric = self.metric_ref(children.next());
        let op = compare_op(keyword(&children.next()));
        let target = self.number(children.next());
        Threshold {
            metric,
            op,
            target,
            span,
        }
    }

    fn metric_ref(&mut self, pair: Pair<'_, Rule>) -> MetricRef {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let first = children.next();
        if first.as_rule() == Rule::metric_name {
            return MetricRef {
                aggregation: None,
                metric: Spanned::new(first.as_str().to_string(), self.span(&first)),
                period: None,
                span,
            };
        }
        let aggregation = self.ident(Children::of(first).next());
        let name = children.next();
        let metric = Spanned::new(name.as_str().to_string(), self.span(&name));
        let period = children
            .rest()
            .next()
            .map(|per| self.ident(Children::of(per).next()));
        MetricRef {
            aggregation: Some(aggregation),
            metric,
            period,
            span,
        }
    }

    // WORKFLOWS

    fn workflow(&mut self, pair: Pair<'_, Rule>) -> Workflow {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let name = self.ident(children.next());
        let mut workflow = empty_workflow(name, span);
        self.workflow_props(&mut workflow, children.rest());
        workflow
    }

    /// `template name(params) { … }`.
    fn template(&mut self, pair: Pair<'_, Rule>) -> Template {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let name = self.ident(children.next());
        let mut body = empty_workflow(name.clone(), span);
        let rest = children.rest();
        let params = rest
            .clone()
            .filter(|p| p.as_rule() == Rule::template_param)
            .map(|p| self.param(p))
            .collect();
        let props = rest.filter(|p| p.as_rule() != Rule::template_param);
        self.workflow_props(&mut body, props);
        Template {
            name,
            params,
            body,
            span,
        }
    }

    fn param(&mut self, pair: Pair<'_, Rule>) -> Param {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let name = self.ident(children.next());
        let kind_pair = children.next();
        let kind = match kind_pair.as_rule() {
            Rule::param_agent | Rule::param_workflow => {
                let is_agent = kind_pair.as_rule() == Rule::param_agent;
                let mut shapes = Children::of(kind_pair);
                let input = self.type_expr(shapes.next());
                let output = self.type_expr(shapes.next());
                if is_agent {
                    ParamKind::Agent { input, output }
                } else {
                    ParamKind::Workflow { input, output }
                }
            }
            Rule::param_retry => ParamKind::Retry,
            Rule::param_duration => ParamKind::Duration,
            Rule::type_expr => ParamKind::Value(self.type_expr(kind_pair)),
            rule => unreachable_rule(rule),
        };
        let default = children.rest().next().map(|p| self.argument(p));
        Param {
            name,
            kind,
            default,
            span,
        }
    }

    /// `workflow name = template(args) { … }`: a workflow whose body the checker
    /// takes from the template.
    fn instance(&mut self, pair: Pair<'_, Rule>) -> Workflow {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let name = self.ident(children.next());
        let template = self.ident(children.next());
        let mut workflow = empty_workflow(name, span);
        let rest = children.rest();
        let args = rest
            .clone()
            .filter(|p| p.as_rule() == Rule::template_arg)
            .map(|p| {
                let mut parts = Children::of(p);
                let name = self.ident(parts.next());
                (name, self.argument(parts.next()))
            })
            .collect();
        let instance_span = template.span;
        workflow.instance_of = Some(Instance {
            template,
            args,
            span: instance_span,
        });
        self.workflow_props(
            &mut workflow,
            rest.filter(|p| p.as_rule() != Rule::template_arg),
        );
        workflow
    }

    fn workflow_props<'i>(
        &mut self,
        workflow: &mut Workflow,
        props: impl Iterator<Item = Pair<'i, Rule>>,
    ) {
        // A workflow may have several bodies (the checker explains the conflict)
        // and several records.
        let repeatable = [
            Rule::workflow_chain,
            Rule::workflow_steps,
            Rule::workflow_record,
        ];
        for prop in self.properties(props, &repeatable) {
            let prop_span = self.span(&prop);
            match prop.as_rule() {
                Rule::workflow_chain => {
                    let agents = prop.into_inner().map(|p| self.ident(p)).collect();
                    workflow
                        .bodies
                        .push(WorkflowBody::Chain(Spanned::new(agents, prop_span)));
                }
                Rule::workflow_steps => {
                    let block = self.block(Children::of(prop).next());
                    workflow.bodies.push(WorkflowBody::Steps(block));
                }
                Rule::workflow_record => {
                    let mut parts = Children::of(prop);
                    let name = parts.next();
                    let metric = Spanned::new(name.as_str().to_string(), self.span(&name));
                    let value = lower_expr(self, parts.next());
                    workflow.records.push(Record {
                        metric,
                        value,
                        span: prop_span,
                    });
                }
                Rule::workflow_version => workflow.version = Some(self.string_child(prop)),
                Rule::workflow_on => {
                    workflow.triggers = prop.into_inner().map(|p| self.ident(p)).collect();
                }
                Rule::workflow_input => {
                    workflow.input = Some(self.type_expr(Children::of(prop).next()));
                }
                Rule::workflow_output => {
                    workflow.output = Some(lower_expr(self, Children::of(prop).next()));
                }
                Rule::workflow_on_failure => {
                    let policy = Children::of(prop).next();
                    let value = match keyword(&policy) {
                        Rule::failure_dead_letter => FailurePolicy::DeadLetter,
                        Rule::failure_fail => FailurePolicy::Fail,
                        rule => unreachable_rule(rule),
                    };
                    workflow.on_failure = Some(Spanned::new(value, self.span(&policy)));
                }
                Rule::workflow_retry => {
                    workflow.retry = Some(self.ident(Children::of(prop).next()));
                }
                rule => unreachable_rule(rule),
            }
        }
    }

    // STATEMENTS

    pub(super) fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let span = self.span(&pair);
        let statements = pair.into_inner().map(|p| self.statement(p)).collect();
        Block { statements, span }
    }

    fn statement(&mut self, pair: Pair<'_, Rule>) -> Statement {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut children = Children::of(pair);
        let kind = match rule {
            Rule::let_stmt => {
                let name = self.ident(children.next());
                StatementKind::Let {
                    name,
                    value: lower_expr(self, children.next()),
                }
            }
            Rule::bind_stmt => {
                let name = self.ident(children.next());
                let value = children.next();
                match value.as_rule() {
                    Rule::call => StatementKind::Call {
                        name,
                        call: self.call(value),
                    },
                    Rule::await_expr => StatementKind::Await {
                        name,
                        awaited: self.awaited(value),
                    },
                    rule => {
                        StatementKind::For(self.for_loop(Some(name), rule, Children::of(value)))
                    }
                }
            }
            Rule::when_stmt => {
                let condition = lower_expr(self, children.next());
                let mut branches = vec![(condition, self.block(children.next()))];
                let mut otherwise = None;
                for clause in children.rest() {
                    let is_else_when = clause.as_rule() == Rule::else_when;
                    let mut parts = Children::of(clause);
                    if is_else_when {
                        let condition = lower_expr(self, parts.next());
                        branches.push((condition, self.block(parts.next())));
                    } else {
                        otherwise = Some(self.block(parts.next()));
                    }
                }
                StatementKind::When {
                    branches,
                    otherwise,
                }
            }
            Rule::for_stmt | Rule::parallel_for_stmt => {
                StatementKind::For(self.for_loop(None, rule, children))
            }
            Rule::parallel_stmt => StatementKind::Parallel(self.block(children.next())),
            Rule::try_stmt => StatementKind::Try {
                body: self.block(children.next()),
                catches: children.rest().map(|c| self.catch(c)).collect(),
            },
            Rule::fail_stmt => StatementKind::Fail(lower_expr(self, children.next())),
            Rule::emit_stmt => {
                let event = self.string(children.next());
                let payload = children
                    .rest()
                    .next()
                    .map(|p| lower_expr(self, Children::of(p).next()));
                StatementKind::Emit { event, payload }
            }
            Rule::wait_stmt => StatementKind::Wait(self.step_duration(children.next())),
            rule => unreachable_rule(rule),
        };
        Statement { kind, span }
    }

    fn awaited(&mut self, pair: Pair<'_, Rule>) -> Await {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let mut awaited = Await {
            pattern: self.string(children.next()),
            shape: None,
            condition: None,
            timeout: None,
            span,
        };
        for part in children.rest() {
            match part.as_rule() {
                Rule::type_expr => awaited.shape = Some(self.type_expr(part)),
                Rule::await_where => {
                    awaited.condition = Some(lower_expr(self, Children::of(part).next()))
                }
                Rule::await_timeout => {
                    awaited.timeout = Some(self.step_duration(Children::of(part).next()))
                }
                rule => unreachable_rule(rule),
            }
        }
        awaited
    }

    fn catch(&mut self, pair: Pair<'_, Rule>) -> Catch {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let mut first = children.next();
        let mut kinds = Vec::new();
        if first.as_rule() == Rule::catch_kinds {
            kinds = first
                .into_inner()
                .filter(|p| p.as_rule() == Rule::ident)
                .map(|p| self.ident(p))
                .collect();
            first = children.next();
        }
        Catch {
            kinds,
            error: self.ident(first),
            handler: self.block(children.next()),
            span,
        }
    }

    fn for_loop(
        &mut self,
        result: Option<Ident>,
        rule: Rule,
        mut children: Children<'_>,
    ) -> ForLoop {
        let item = self.ident(children.next());
        let mut next = children.next();
        let mut index = None;
        if next.as_rule() == Rule::loop_index {
            index = Some(self.ident(Children::of(next).next()));
            next = children.next();
        }
        let list = lower_expr(self, next);
        let mut limit = None;
        let mut next = children.next();
        if next.as_rule() == Rule::parallel_limit {
            limit = Some(self.number(Children::of(next).next()));
            next = children.next();
        }
        let span = self.span(&next);
        let mut statements = Vec::new();
        let mut value = None;
        for pair in next.into_inner() {
            if pair.as_rule() == Rule::loop_yield {
                value = Some(lower_expr(self, Children::of(pair).next()));
            } else {
                statements.push(self.statement(pair));
            }
        }
        ForLoop {
            result,
            item,
            index,
            list,
            parallel: rule == Rule::parallel_for_stmt,
            limit,
            body: Block { statements, span },
            value,
        }
    }

    fn call(&mut self, pair: Pair<'_, Rule>) -> Call {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let target = children.next();
        let target = match target.as_rule() {
            Rule::any_target => AnyWithSkills(self.idents(Children::of(target).next())),
            Rule::workflow_target => CallTarget::Workflow(self.ident(Children::of(target).next())),
            Rule::agent_target => CallTarget::Agent(self.ident(target)),
            rule => unreachable_rule(rule),
        };
        let argument = lower_expr(self, children.next());
        let mut call = Call {
            target,
            argument,
            timeout: None,
            retry: None,
            span,
        };
        for option in self.properties(children.rest(), &[]) {
            let rule = option.as_rule();
            let value = Children::of(option).next();
            match rule {
                Rule::call_timeout => call.timeout = Some(self.step_duration(value)),
                Rule::call_retry => call.retry = Some(self.ident(value)),
                rule => unreachable_rule(rule),
            }
        }
        call
    }

    // GOALS

    fn goal(&mut self, pair: Pair<'_, Rule>) -> Goal {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let mut goal = Goal {
            name: self.ident(children.next()),
            title: None,
            department: None,
            kpi: None,
            weight: None,
            team: None,
            pursued_by: Vec::new(),
            children: Vec::new(),
            doc: None,
            span,
        };
        for prop in self.properties(children.rest(), &[Rule::goal_decl]) {
            match prop.as_rule() {
                Rule::goal_decl => goal.children.push(self.goal(prop)),
                Rule::goal_title => goal.title = Some(self.string_child(prop)),
                Rule::department => goal.department = Some(self.ident(Children::of(prop).next())),
                Rule::goal_kpi => {
                    let span = self.span(&prop);
                    let mut parts = Children::of(prop);
                    let threshold = self.threshold(&mut parts, span);
                    let deadline = parts.rest().next().map(|by| {
                        let date = Children::of(by).next();
                        Spanned::new(date.as_str().to_string(), self.span(&date))
                    });
                    goal.kpi = Some(Kpi {
                        threshold,
                        deadline,
                    });
                }
                Rule::goal_weight => goal.weight = Some(self.number(Children::of(prop).next())),
                Rule::goal_team => goal.team = Some(self.team(prop)),
                Rule::goal_pursued_by => {
                    goal.pursued_by = prop.into_inner().map(|p| self.ident(p)).collect();
                }
                rule => unreachable_rule(rule),
            }
        }
        goal
    }

    fn team(&mut self, pair: Pair<'_, Rule>) -> Team {
        let span = self.span(&pair);
        let mut team = Team {
            skills: Vec::new(),
            size: None,
            span,
        };
        for prop in self.properties(pair.into_inner(), &[]) {
            let rule = prop.as_rule();
            let value = Children::of(prop).next();
            match rule {
                Rule::skills => team.skills = self.idents(value).value,
                Rule::team_size => team.size = Some(self.number(value)),
                rule => unreachable_rule(rule),
            }
        }
        team
    }
}

use CallTarget::AnyWithSkills;

/// A workflow with nothing declared yet.
fn empty_workflow(name: Ident, span: Span) -> Workflow {
    Workflow {
        name,
        version: None,
        triggers: Vec::new(),
        input: None,
        bodies: Vec::new(),
        records: Vec::new(),
        output: None,
        on_failure: None,
        retry: None,
        instance_of: None,
        span,
    }
}

/// The keyword of a property rule, for "`x` is set twice".
fn property_name(rule: Rule) -> &'static str {
    match rule {
        Rule::department => "department",
        Rule::skills => "skills",
        Rule::agent_input | Rule::workflow_input => "input",
        Rule::agent_output | Rule::workflow_output => "output",
        Rule::agent_cwd => "cwd",
        Rule::agent_env => "env",
        Rule::agent_timeout | Rule::call_timeout => "timeout",
        Rule::agent_retry | Rule::call_retry | Rule::workflow_retry => "retry",
        Rule::agent_breaker => "breaker",
        Rule::agent_capacity => "capacity",
        Rule::workflow_version => "version",
        Rule::workflow_on => "on",
        Rule::workflow_on_failure => "on_failure",
        Rule::goal_title => "title",
        Rule::goal_kpi => "kpi",
        Rule::goal_weight => "weight",
        Rule::goal_team => "team",
        Rule::goal_pursued_by => "pursued_by",
        Rule::team_size => "size",
        Rule::retry_attempts => "attempts",
        Rule::retry_backoff => "backoff",
        Rule::retry_jitter => "jitter",
        Rule::retry_on => "retry_on",
        Rule::breaker_open_after => "open_after",
        Rule::breaker_cool_down => "cool_down",
        Rule::trigger_missed => "missed",
        Rule::timezone => "timezone",
        Rule::metric_unit => "unit",
        Rule::metric_description => "description",
        Rule::alert_when => "when",
        Rule::alert_webhook => "notify webhook",
        Rule::alert_emit => "emit",
        Rule::llm_endpoint => "endpoint",
        Rule::llm_key => "key",
        Rule::llm_system => "system",
        Rule::llm_prompt => "prompt",
        Rule::llm_temperature => "temperature",
        Rule::llm_max_tokens => "max_tokens",
        Rule::llm_price => "price",
        rule => unreachable_rule(rule),
    }
}

/// Decodes the escapes the grammar admits.
pub(super) fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                let decoded = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                out.push(decoded.unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}
