//! Values that must make sense on their own: cron expressions, timezones, durations,
//! counts, factors, dates, versions, weights, event names, and the shape of each
//! declaration (an agent needs exactly one body, a trigger one firing clause, …).

use super::Declarations;
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::metric::{self, Aggregation, MetricError, Period};
use crate::program::{event_problem, ErrorKind};
use crate::source::Span;
use crate::text as suggest;

pub fn check(program: &Declarations, out: &mut Vec<Diagnostic>) {
    for policy in program.retries.values() {
        retry(policy, out);
    }
    for breaker in program.breakers.values() {
        count(breaker.open_after.as_ref(), "open_after", out);
        duration(breaker.window.as_ref(), out);
        duration(breaker.cool_down.as_ref(), out);
    }
    for agent in program.agents.values() {
        self::agent(agent, out);
    }
    for trigger in program.triggers.values() {
        self::trigger(trigger, out);
    }
    if let Some(tz) = &program.timezone {
        timezone(tz, out);
    }
    for workflow in program.workflows.values() {
        self::workflow(workflow, out);
    }
    for metric in program.metrics.values() {
        if let Some((series, suffix)) = metric::split_period_suffix(&metric.name.name) {
            out.push(
                Diagnostic::new(
                    Code::InvalidMetricName,
                    metric.name.span,
                    format!("a metric cannot be named `{}`", metric.name.name),
                    format!("`.{suffix}` is a period suffix"),
                )
                .with_help(format!(
                    "a read of `{0}` means the sum of `{series}` over the period; declare `metric {series}`",
                    metric.name.name
                )),
            );
        }
    }
    for goal in program.all_goals() {
        self::goal(goal, out);
    }
}

fn retry(policy: &RetryPolicy, out: &mut Vec<Diagnostic>) {
    if let Some(attempts) = &policy.attempts {
        if !is_count(attempts.value) {
            out.push(
                Diagnostic::new(
                    Code::InvalidAttempts,
                    attempts.span,
                    format!(
                        "`attempts {}` is not a whole number of at least 1",
                        attempts.value
                    ),
                    "attempts counts every try, the first included",
                )
                .with_help("use `attempts 1` for no retries"),
            );
        }
    }
    if let Some(backoff) = &policy.backoff {
        duration(Some(&backoff.initial), out);
        duration(backoff.max.as_ref(), out);
        if let Some(factor) = &backoff.factor {
            if !(factor.value >= 1.0 && factor.value.is_finite()) {
                out.push(
                    Diagnostic::new(
                        Code::InvalidFactor,
                        factor.span,
                        format!("backoff factor {} is below 1", factor.value),
                        "delays would shrink",
                    )
                    .with_help("use a factor of at least 1, or `backoff constant`"),
                );
            }
        }
        if let Some(max) = &backoff.max {
            if max.value < backoff.initial.value {
                out.push(
                    Diagnostic::new(
                        Code::MaxBelowInitial,
                        max.span,
                        "the maximum delay is shorter than the initial delay",
                        "this maximum",
                    )
                    .with_label(backoff.initial.span, "is below this initial delay"),
                );
            }
        }
    }
    for kind in policy.retry_on.iter().flatten() {
        if !ErrorKind::from_name(&kind.name).is_some_and(ErrorKind::retriable) {
            out.push(unknown_error_kind(kind, ErrorKind::retriable_kinds));
        }
    }
}

/// `kind` is not one of the kinds `allowed` lists (for `retry_on`, for `catch`).
pub(super) fn unknown_error_kind<I: Iterator<Item = ErrorKind>>(
    kind: &Ident,
    allowed: fn() -> I,
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownErrorKind,
        kind.span,
        format!("unknown error kind `{}`", kind.name),
        "not an error kind",
    )
    .with_help(
        suggest::did_you_mean(&kind.name, allowed().map(ErrorKind::name)).unwrap_or_else(|| {
            let kinds: Vec<&str> = allowed().map(ErrorKind::name).collect();
            format!("error kinds are {}", kinds.join(", "))
        }),
    )
}

/// What is wrong with an HTTP agent's URL, if anything.
pub(super) fn url_problem(text: &str) -> Option<String> {
    match url::Url::parse(text) {
        Err(error) => Some(format!("`{text}` is not a URL: {error}")),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => Some(format!(
            "`{text}` is a `{}` URL; only `http` and `https` URLs are called",
            url.scheme()
        )),
        Ok(url) if url.host_str().is_none_or(str::is_empty) => {
            Some(format!("`{text}` names no host"))
        }
        Ok(_) => None,
    }
}

fn agent(agent: &Agent, out: &mut Vec<Diagnostic>) {
    match agent.bodies.as_slice() {
        [] => out.push(
            Diagnostic::new(
                Code::MissingAgentBody,
                agent.name.span,
                format!(
                    "agent `{}` has no `run`, `compute`, `http` or `llm`",
                    agent.name.name
                ),
                "this agent cannot do anything",
            )
            .with_help(
                "add `run [\"program\", \"arg\"]`, `compute { field: expression }`, `http POST \"https://…\"` or `llm \"model\" endpoint \"https://…\" prompt \"\"\"…\"\"\"`",
            ),
        ),
        [_] => {}
        [first, second, ..] => out.push(
            two_of_one(
                Code::ConflictingAgentBody,
                (first.span(), second.span()),
                "body",
            )
            .with_message(format!(
                "agent `{}` has more than one body",
                agent.name.name
            ))
            .with_help("an agent runs a program, computes an expression, calls a service or asks a model; keep one"),
        ),
    }
    for body in &agent.bodies {
        if let AgentBody::Http(http) = body {
            if let Some(problem) = url_problem(&http.url.value) {
                out.push(
                    Diagnostic::new(Code::InvalidUrl, http.url.span, problem, "this URL")
                        .with_help("an HTTP agent calls an absolute `http://` or `https://` URL"),
                );
            }
        }
        if let AgentBody::Llm(llm) = body {
            language_model(llm, agent, out);
        }
        if let AgentBody::Run(argv) = body {
            if argv.value.first().is_none_or(|p| p.value.trim().is_empty()) {
                out.push(
                    Diagnostic::new(
                        Code::EmptyCommand,
                        argv.span,
                        "`run` names no program",
                        "the first element is the program to start",
                    )
                    .with_help("for example `run [\"sh\", \"agents/score.sh\"]`"),
                );
            }
        }
    }
    if let Some(env) = &agent.env {
        environment(env, agent, out);
    }
    duration(agent.timeout.as_ref(), out);
    count(agent.capacity.as_ref(), "capacity", out);
}

/// A subprocess's `env`: only on an agent that runs a program, each name one a
/// shell could read, and none of the `WFC_` names wfc itself sets.
fn environment(env: &Expr, agent: &Agent, out: &mut Vec<Diagnostic>) {
    let runs = agent.bodies.iter().any(|b| matches!(b, AgentBody::Run(_)));
    if !runs && !agent.bodies.is_empty() {
        out.push(
            Diagnostic::new(
                Code::InvalidEnv,
                env.span,
                format!(
                    "agent `{}` runs no program, so `env` goes nowhere",
                    agent.name.name
                ),
                "only a `run` agent has an environment",
            )
            .with_help("an HTTP agent sends secrets in `headers`, a language model in `key`"),
        );
    }
    let ExprKind::Object(fields) = &env.kind else {
        return;
    };
    for (name, _) in fields {
        let valid = name
            .name
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        let problem = if !valid {
            "is not an environment variable's name"
        } else if name.name.to_ascii_uppercase().starts_with("WFC_") {
            "is set by wfc itself"
        } else {
            continue;
        };
        out.push(
            Diagnostic::new(
                Code::InvalidEnv,
                name.span,
                format!("`{}` {problem}", name.name),
                "this variable",
            )
            .with_help(
                "a variable's name is letters, digits and `_`, and does not start with `WFC_`",
            ),
        );
    }
}

fn language_model(llm: &LlmAgent, agent: &Agent, out: &mut Vec<Diagnostic>) {
    let missing: Vec<&str> = [
        ("endpoint", llm.endpoint.is_none()),
        ("prompt", llm.prompt.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    if !missing.is_empty() {
        out.push(
            Diagnostic::new(
                Code::IncompleteModel,
                llm.span,
                format!(
                    "language model `{}` has no {}",
                    agent.name.name,
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                "declared here",
            )
            .with_help("for example `llm \"gpt-4o-mini\" endpoint \"https://api.openai.com/v1\" prompt \"\"\"Summarise {{ input.text }}\"\"\"`"),
        );
    }
    let expansion_problem = |problem: String, span| {
        Diagnostic::new(Code::InvalidModelSetting, span, problem, "here").with_help(
            "write `${NAME:-default}` to read the environment variable NAME, with a default",
        )
    };
    if let Err(problem) = super::expand::from_env(&llm.model.value) {
        out.push(expansion_problem(problem, llm.model.span));
    }
    if let Some(endpoint) = &llm.endpoint {
        match super::expand::from_env(&endpoint.value) {
            Err(problem) => out.push(expansion_problem(problem, endpoint.span)),
            Ok(url) => {
                if let Some(problem) = url_problem(&url) {
                    out.push(
                        Diagnostic::new(Code::InvalidUrl, endpoint.span, problem, "this URL")
                            .with_help("the base URL of an OpenAI-compatible API, such as `https://api.openai.com/v1`"),
                    );
                }
            }
        }
    }
    if let Some(temperature) = &llm.temperature {
        if !(0.0..=2.0).contains(&temperature.value) {
            out.push(Diagnostic::new(
                Code::InvalidModelSetting,
                temperature.span,
                format!(
                    "`temperature` must be between 0 and 2, not {}",
                    temperature.value
                ),
                "out of range",
            ));
        }
    }
    if let Some(price) = &llm.price {
        let (input, output) = price.value;
        if !(input.is_finite() && output.is_finite() && input >= 0.0 && output >= 0.0) {
            out.push(
                Diagnostic::new(
                    Code::InvalidModelSetting,
                    price.span,
                    "a price must be a finite number of dollars, 0 or more",
                    "not a price",
                )
                .with_help("prices are US dollars per million tokens, as providers list them: `price input 0.15 output 0.60`"),
            );
        }
    }
    count(llm.max_tokens.as_ref(), "max_tokens", out);
}

fn trigger(trigger: &Trigger, out: &mut Vec<Diagnostic>) {
    match trigger.kinds.as_slice() {
        [] => out.push(
            Diagnostic::new(
                Code::EmptyTrigger,
                trigger.name.span,
                format!("trigger `{}` never fires", trigger.name.name),
                "no firing clause",
            )
            .with_help(
                "add one of `cron \"0 9 * * *\"`, `on event \"name\"`, `when metric m >= n` or `manual`",
            ),
        ),
        [_] => {}
        [first, second, ..] => out.push(
            two_of_one(Code::ConflictingTrigger, (first.span(), second.span()), "clause")
                .with_message(format!(
                    "trigger `{}` has more than one firing clause",
                    trigger.name.name
                ))
                .with_help("declare one trigger per clause and list both in the workflow's `on`"),
        ),
    }
    for kind in &trigger.kinds {
        match kind {
            TriggerKind::Cron(expr) => cron(expr, out),
            TriggerKind::Event(pattern) => event_pattern(pattern, out),
            TriggerKind::Metric(threshold) => self::threshold(threshold, out),
            TriggerKind::Manual(_) => {}
        }
    }
    if let Some(tz) = &trigger.timezone {
        timezone(tz, out);
    }
}

fn workflow(workflow: &Workflow, out: &mut Vec<Diagnostic>) {
    if let Some(version) = &workflow.version {
        if let Err(error) = semver::Version::parse(&version.value) {
            out.push(
                Diagnostic::new(
                    Code::InvalidVersion,
                    version.span,
                    format!("`{}` is not a semantic version", version.value),
                    error.to_string(),
                )
                .with_help("versions look like \"1.2.0\" (major.minor.patch)"),
            );
        }
    }
    match workflow.bodies.as_slice() {
        // Made from a template that is not there (said so already).
        [] if workflow.instance_of.is_some() => {}
        [] => out.push(
            Diagnostic::new(
                Code::EmptyWorkflow,
                workflow.name.span,
                format!(
                    "workflow `{}` has neither `chain` nor `steps`",
                    workflow.name.name
                ),
                "nothing to run",
            )
            .with_help("add `chain agent_a -> agent_b` or a `steps { … }` block"),
        ),
        [_] => {}
        [first, second, ..] => out.push(
            two_of_one(
                Code::ConflictingWorkflowBody,
                (first.span(), second.span()),
                "body",
            )
            .with_message(format!(
                "workflow `{}` has more than one body",
                workflow.name.name
            ))
            .with_help("a workflow is either one `chain` or one `steps` block"),
        ),
    }
    for body in &workflow.bodies {
        if let WorkflowBody::Steps(block) = body {
            statements(block, out);
        }
    }
}

/// Values inside steps: call timeouts, waits, loop limits, emitted event names.
fn statements(block: &Block, out: &mut Vec<Diagnostic>) {
    block.walk(&mut |statement| match &statement.kind {
        StatementKind::Call { call, .. } => step_duration(call.timeout.as_ref(), out),
        StatementKind::For(for_loop) => count(for_loop.limit.as_ref(), "limit", out),
        StatementKind::Emit { event, .. } => event_name(event, out),
        StatementKind::Wait(wait) => step_duration(Some(wait), out),
        StatementKind::Await { name, awaited } => {
            event_pattern(&awaited.pattern, out);
            match &awaited.timeout {
                Some(timeout) => step_duration(Some(timeout), out),
                None => out.push(
                    Diagnostic::new(
                        Code::AwaitWithoutTimeout,
                        written(awaited),
                        format!("`{}` waits without a deadline", name.name),
                        "no `timeout`",
                    )
                    .with_help(format!(
                        "every wait needs one, so nothing waits forever: `{} = await \"{}\" … timeout 2d`; on the deadline the step fails with kind `timeout`, which `try … catch timeout as err {{ … }}` can handle",
                        name.name, awaited.pattern.value
                    )),
                ),
            }
        }
        _ => {}
    });
}

/// An `await` as written, without the layout after it.
fn written(awaited: &Await) -> Span {
    let end = match (&awaited.condition, &awaited.shape) {
        (Some(condition), _) => condition.span.end,
        (None, Some(shape)) => shape.span.end,
        (None, None) => awaited.pattern.span.end,
    };
    Span::new(awaited.span.file, awaited.span.start, end)
}

fn goal(goal: &Goal, out: &mut Vec<Diagnostic>) {
    if let Some(kpi) = &goal.kpi {
        threshold(&kpi.threshold, out);
        if let Some(deadline) = &kpi.deadline {
            if chrono::NaiveDate::parse_from_str(&deadline.value, "%Y-%m-%d").is_err() {
                out.push(Diagnostic::new(
                    Code::InvalidDate,
                    deadline.span,
                    format!("`{}` is not a calendar date", deadline.value),
                    "no such day",
                ));
            }
        }
    }
    if let Some(weight) = &goal.weight {
        if !(weight.value > 0.0 && weight.value.is_finite()) {
            out.push(
                Diagnostic::new(
                    Code::InvalidWeight,
                    weight.span,
                    format!("weight {} is not above 0", weight.value),
                    "weights must be positive",
                )
                .with_help("remove the goal instead of weighting it 0"),
            );
        }
    }
    if let Some(team) = &goal.team {
        count(team.size.as_ref(), "size", out);
    }
}

pub(super) fn threshold(threshold: &Threshold, out: &mut Vec<Diagnostic>) {
    number(&threshold.target, out);
    let metric = &threshold.metric;
    match metric::resolve(metric) {
        Ok(_) => {}
        Err(MetricError::UnknownAggregation(name)) => {
            let span = metric.aggregation.as_ref().map_or(metric.span, |a| a.span);
            out.push(
                Diagnostic::new(
                    Code::UnknownAggregation,
                    span,
                    format!("unknown aggregation `{name}`"),
                    "not an aggregation",
                )
                .with_help(
                    suggest::did_you_mean(&name, Aggregation::names()).unwrap_or_else(|| {
                        format!("aggregations are {}", Aggregation::names().join(", "))
                    }),
                ),
            );
        }
        Err(MetricError::UnknownPeriod(name)) => {
            let span = metric.period.as_ref().map_or(metric.span, |p| p.span);
            let help = suggest::did_you_mean(&name, Period::names())
                .unwrap_or_else(|| format!("periods are {}", Period::names().join(", ")));
            out.push(
                Diagnostic::new(
                    Code::UnknownPeriod,
                    span,
                    format!("unknown period `{name}`"),
                    "not a period",
                )
                .with_help(help),
            );
        }
    }
}

fn cron(expr: &Spanned<String>, out: &mut Vec<Diagnostic>) {
    let fields = expr.value.split_whitespace().count();
    let parsed = croner::parser::CronParser::new().parse(&expr.value);
    let problem = match (fields, parsed) {
        (5, Ok(_)) => return,
        (5, Err(error)) => crate::program::out_of_range(&expr.value).unwrap_or(error.to_string()),
        (n, _) => format!("{n} fields; cron needs 5 (minute hour day-of-month month day-of-week)"),
    };
    out.push(
        Diagnostic::new(
            Code::InvalidCron,
            expr.span,
            format!("`{}` is not a valid cron expression", expr.value),
            problem,
        )
        .with_help("for example \"0 9 * * *\" runs daily at 09:00"),
    );
}

fn timezone(tz: &Spanned<String>, out: &mut Vec<Diagnostic>) {
    if tz.value.parse::<chrono_tz::Tz>().is_ok() {
        return;
    }
    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    let help = suggest::did_you_mean(&tz.value, names)
        .unwrap_or_else(|| "use an IANA name such as \"UTC\" or \"Europe/Paris\"".into());
    out.push(
        Diagnostic::new(
            Code::UnknownTimezone,
            tz.span,
            format!("unknown timezone `{}`", tz.value),
            "not an IANA timezone",
        )
        .with_help(help),
    );
}

/// Event names are dot-separated words; triggers may use `*` for one whole segment
/// or a trailing `**`-free `*` (`compliance.*`).
fn event_pattern(pattern: &Spanned<String>, out: &mut Vec<Diagnostic>) {
    if let Some(problem) = event_problem(&pattern.value, true) {
        out.push(
            Diagnostic::new(
                Code::InvalidEventPattern,
                pattern.span,
                format!("`{}` is not a valid event pattern", pattern.value),
                problem,
            )
            .with_help("patterns are dot-separated names where `*` stands for one segment, e.g. \"compliance.*\""),
        );
    }
}

pub(super) fn event_name(name: &Spanned<String>, out: &mut Vec<Diagnostic>) {
    if let Some(problem) = event_problem(&name.value, false) {
        out.push(
            Diagnostic::new(
                Code::InvalidEventName,
                name.span,
                format!("`{}` is not a valid event name", name.value),
                problem,
            )
            .with_help("event names are dot-separated words, e.g. \"lead.qualified\""),
        );
    }
}

/// Two of what a declaration may have only one of, labelled first and second.
fn two_of_one(code: Code, (first, second): (Span, Span), what: &str) -> Diagnostic {
    Diagnostic::new(code, second, "", format!("second {what}"))
        .with_label(first, format!("first {what}"))
}

/// A step's duration: written out and in range, or a name — which only a
/// template's `duration` parameter may be, replaced before this runs.
fn step_duration(duration: Option<&StepDuration>, out: &mut Vec<Diagnostic>) {
    match duration {
        Some(StepDuration::Param(name)) => out.push(
            Diagnostic::new(
                Code::UnknownDuration,
                name.span,
                format!("unknown duration `{}`", name.name),
                "not a duration",
            )
            .with_help("durations are written like `30s` or `2d`; a name is a template's `duration` parameter"),
        ),
        Some(StepDuration::Written(written)) => self::duration(Some(written), out),
        None => {}
    }
}

pub(super) fn duration(duration: Option<&Spanned<Millis>>, out: &mut Vec<Diagnostic>) {
    let Some(duration) = duration else { return };
    let problem = match duration.value {
        0 => "a duration must be longer than 0",
        d if d > crate::duration::MAX => "a duration must be at most 10 years",
        _ => return,
    };
    out.push(
        Diagnostic::new(
            Code::InvalidDuration,
            duration.span,
            problem,
            "this duration",
        )
        .with_help("durations are written like `250ms`, `30s`, `10m`, `1h` or `1d`"),
    );
}

fn count(value: Option<&Spanned<f64>>, what: &str, out: &mut Vec<Diagnostic>) {
    let Some(value) = value else { return };
    if !is_count(value.value) {
        out.push(Diagnostic::new(
            Code::InvalidCount,
            value.span,
            format!(
                "`{what}` must be a whole number of at least 1, not {}",
                value.value
            ),
            "not a count",
        ));
    }
}

fn number(value: &Spanned<f64>, out: &mut Vec<Diagnostic>) {
    if !value.value.is_finite() {
        out.push(invalid_number(value.span));
    }
}

pub fn invalid_number(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidNumber,
        span,
        "number is too large",
        "beyond the range of a 64-bit float",
    )
}

fn is_count(value: f64) -> bool {
    value >= 1.0 && value.fract() == 0.0 && value <= u32::MAX as f64
}
