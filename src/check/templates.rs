//! Templates: a workflow body over typed parameters, and the workflows made
//! from it (`workflow w = approval(reviewer: a, threshold: 5000) { … }`).
//!
//! An instance's arguments are checked against the parameters' contracts here,
//! then the instance becomes an ordinary workflow: the template's body, input,
//! output and records with each parameter replaced by its argument. A
//! template's body is checked once, against the contracts (each agent
//! parameter a stand-in agent of exactly its contract): what an instance's
//! expanded body would report is reported at the template, once.

use super::expr::type_of;
use super::flow::{unknown, InputOnly};
use super::Declarations;
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;
use crate::text as suggest;
use crate::types::Type;
use std::collections::HashMap;

/// A workflow argument whose output is checked once every workflow's output is
/// known: (the workflow, the contract's output, the argument, the parameter).
pub struct PendingOutput {
    workflow: String,
    contract: TypeExpr,
    argument: Span,
    param: Span,
}

/// Checks each instance's arguments and makes it an ordinary workflow.
pub fn expand(declarations: &mut Declarations, out: &mut Vec<Diagnostic>) -> Vec<PendingOutput> {
    let mut pending = Vec::new();
    let instances: Vec<String> = declarations
        .workflows
        .iter()
        .filter(|(_, w)| w.instance_of.is_some())
        .map(|(name, _)| name.clone())
        .collect();
    for name in instances {
        let Some(instance) = declarations.workflows[&name].instance_of.clone() else {
            continue;
        };
        let Some(template) = declarations.templates.get(&instance.template.name) else {
            out.push(unknown(
                Code::UnknownTemplate,
                "template",
                &instance.template,
                declarations.templates.keys(),
            ));
            continue;
        };
        let template = template.clone();
        let Some(substitution) = arguments(&template, &instance, declarations, &mut pending, out)
        else {
            continue;
        };
        let Some(workflow) = declarations.workflows.get_mut(&name) else {
            continue;
        };
        let mut body = template.body.clone();
        substitution.workflow(&mut body);
        workflow.bodies = body.bodies;
        workflow.input = body.input;
        workflow.output = body.output;
        workflow.records = body.records;
        if workflow.retry.is_none() {
            workflow.retry = body.retry;
        }
        if workflow.on_failure.is_none() {
            workflow.on_failure = body.on_failure;
        }
    }
    pending
}

/// Checks an instance's arguments; the substitution they make, when every
/// parameter has a value.
fn arguments(
    template: &Template,
    instance: &Instance,
    declarations: &Declarations,
    pending: &mut Vec<PendingOutput>,
    out: &mut Vec<Diagnostic>,
) -> Option<Substitution> {
    let mut substitution = Substitution::default();
    let mut complete = true;
    let names = || template.params.iter().map(|p| p.name.name.as_str());
    let mut given: HashMap<&str, Span> = HashMap::new();
    for (name, _) in &instance.args {
        if let Some(first) = given.insert(&name.name, name.span) {
            out.push(
                Diagnostic::new(
                    Code::UnknownArgument,
                    name.span,
                    format!("`{}` is given twice", name.name),
                    "second",
                )
                .with_label(first, "first"),
            );
        } else if !template.params.iter().any(|p| p.name.name == name.name) {
            let help = suggest::did_you_mean(&name.name, names())
                .unwrap_or_else(|| format!("its parameters are: {}", listed(names())));
            out.push(
                Diagnostic::new(
                    Code::UnknownArgument,
                    name.span,
                    format!(
                        "template `{}` has no parameter `{}`",
                        template.name.name, name.name
                    ),
                    "no such parameter",
                )
                .with_label(template.name.span, "the template")
                .with_help(help),
            );
        }
    }
    for param in &template.params {
        let argument = instance
            .args
            .iter()
            .find(|(name, _)| name.name == param.name.name)
            .map(|(_, value)| value);
        let Some(argument) = argument.or(param.default.as_ref()) else {
            out.push(
                Diagnostic::new(
                    Code::MissingArgument,
                    instance.span,
                    format!(
                        "`{}` needs an argument for `{}`",
                        template.name.name, param.name.name
                    ),
                    format!("no `{}: …`", param.name.name),
                )
                .with_label(param.span, "the parameter, without a default"),
            );
            complete = false;
            continue;
        };
        if !self::argument(
            param,
            argument,
            &mut substitution,
            declarations,
            pending,
            out,
        ) {
            complete = false;
        }
    }
    complete.then_some(substitution)
}

fn listed<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// Checks one argument against its parameter; adds it to the substitution.
fn argument(
    param: &Param,
    argument: &Argument,
    substitution: &mut Substitution,
    declarations: &Declarations,
    pending: &mut Vec<PendingOutput>,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let named = |what: &str, out: &mut Vec<Diagnostic>| match argument {
        Argument::Value(Expr {
            kind: ExprKind::Name(name),
            ..
        }) => Some(name.clone()),
        _ => {
            out.push(mismatch(
                param,
                argument.span(),
                format!("`{}` takes the name of {what}", param.name.name),
                format!("not {what}'s name"),
            ));
            None
        }
    };
    match &param.kind {
        ParamKind::Agent { input, output } => {
            let Some(name) = named("an agent", out) else {
                return false;
            };
            let Some(agent) = declarations.agents.get(&name.name) else {
                out.push(unknown(
                    Code::UnknownAgent,
                    "agent",
                    &name,
                    declarations.agents.keys(),
                ));
                return false;
            };
            let fits = contract(
                param,
                &name,
                ("takes", Type::from_ast(input), declared(&agent.input)),
                ("gives", declared(&agent.output), Type::from_ast(output)),
                out,
            );
            substitution.agents.insert(param.name.name.clone(), name);
            fits
        }
        ParamKind::Workflow { input, output } => {
            let Some(name) = named("a workflow", out) else {
                return false;
            };
            let Some(workflow) = declarations.workflows.get(&name.name) else {
                out.push(unknown(
                    Code::UnknownWorkflow,
                    "workflow",
                    &name,
                    declarations.workflows.keys(),
                ));
                return false;
            };
            let takes = ("takes", Type::from_ast(input), declared(&workflow.input));
            let fits = contract(param, &name, takes, ("gives", Type::Any, Type::Any), out);
            pending.push(PendingOutput {
                workflow: name.name.clone(),
                contract: output.clone(),
                argument: name.span,
                param: param.span,
            });
            substitution.workflows.insert(param.name.name.clone(), name);
            fits
        }
        ParamKind::Retry => {
            let Some(name) = named("a retry policy", out) else {
                return false;
            };
            if !declarations.retries.contains_key(&name.name) {
                out.push(unknown(
                    Code::UnknownRetry,
                    "retry policy",
                    &name,
                    declarations.retries.keys(),
                ));
                return false;
            }
            substitution.retries.insert(param.name.name.clone(), name);
            true
        }
        ParamKind::Duration => match argument {
            Argument::Duration(duration) => {
                super::values::duration(Some(duration), out);
                substitution
                    .durations
                    .insert(param.name.name.clone(), duration.clone());
                true
            }
            Argument::Value(value) => {
                out.push(mismatch(
                    param,
                    value.span,
                    format!("`{}` takes a duration", param.name.name),
                    "not a duration: write one like `2d` or `30s`".to_string(),
                ));
                false
            }
        },
        ParamKind::Value(ty) => {
            let Argument::Value(argument) = argument else {
                out.push(mismatch(
                    param,
                    argument.span(),
                    format!("`{}` cannot take a duration", param.name.name),
                    format!("it takes a value of type {}", Type::from_ast(ty)),
                ));
                return false;
            };
            let mut env = InputOnly {
                program: declarations,
                input: Type::Any,
                place: "not visible in a template's argument",
                help: "an argument is a value written out, like `5000` or \"finance\"",
                secrets: false,
            };
            let mut found = Vec::new();
            let given = type_of(argument, &mut env, &mut found);
            let unusable = !found.is_empty();
            out.extend(found);
            if unusable {
                return false;
            }
            if let Err(problem) = given.fits(&Type::from_ast(ty)) {
                out.push(mismatch(
                    param,
                    argument.span,
                    format!("`{}` cannot take this value", param.name.name),
                    problem.to_string(),
                ));
                return false;
            }
            substitution
                .values
                .insert(param.name.name.clone(), argument.clone());
            true
        }
    }
}

fn declared(ty: &Option<TypeExpr>) -> Type {
    super::flow::declared(ty)
}

/// Whether `name` meets `param`'s contract: what the template passes fits what
/// it takes, and what it gives fits what the template reads.
fn contract(
    param: &Param,
    name: &Ident,
    takes: (&str, Type, Type),
    gives: (&str, Type, Type),
    out: &mut Vec<Diagnostic>,
) -> bool {
    let mut fits = true;
    for (verb, found, wanted) in [takes, gives] {
        if let Err(problem) = found.fits(&wanted) {
            let message = if verb == "takes" {
                format!(
                    "`{}` cannot take what `{}` passes it",
                    name.name, param.name.name
                )
            } else {
                format!(
                    "`{}` does not give what `{}` promises",
                    name.name, param.name.name
                )
            };
            out.push(
                mismatch(param, name.span, message, problem.to_string()).with_help(format!(
                    "`{}` {verb} `{}`; the parameter's contract needs `{}`",
                    name.name,
                    if verb == "takes" { &wanted } else { &found },
                    if verb == "takes" { &found } else { &wanted },
                )),
            );
            fits = false;
        }
    }
    fits
}

fn mismatch(param: &Param, at: Span, message: String, label: String) -> Diagnostic {
    Diagnostic::new(Code::ArgumentMismatch, at, message, label)
        .with_label(param.span, "the parameter and its contract")
}

/// After the workflows' outputs are known: each workflow argument gives what
/// its parameter promises.
pub fn check_outputs(
    pending: &[PendingOutput],
    outputs: &HashMap<String, Type>,
    out: &mut Vec<Diagnostic>,
) {
    for waiting in pending {
        let Some(found) = outputs.get(&waiting.workflow) else {
            continue;
        };
        if let Err(problem) = found.fits(&Type::from_ast(&waiting.contract)) {
            out.push(
                Diagnostic::new(
                    Code::ArgumentMismatch,
                    waiting.argument,
                    format!(
                        "workflow `{}` does not give what its parameter promises",
                        waiting.workflow
                    ),
                    problem.to_string(),
                )
                .with_label(waiting.param, "the parameter and its contract"),
            );
        }
    }
}

/// Each template's body, checked once against its parameters: a copy of the
/// program where each agent, workflow and retry parameter is a stand-in of
/// exactly its contract, each value a `let` of its default (or of a value of
/// its type), and the body a workflow of the template's name. What the rules
/// report inside the template is kept; what they report elsewhere is the
/// program's own, reported by the main check.
pub fn check_bodies(
    declarations: &Declarations,
    rules: impl Fn(&Declarations, &mut Vec<Diagnostic>),
    out: &mut Vec<Diagnostic>,
) {
    for template in declarations.templates.values() {
        let mut program = declarations.clone();
        program.tests.clear();
        // The instances' bodies are templates' bodies: checked here once each,
        // not once per instance. Left as workflows of no body, they can still
        // be called.
        for workflow in program.workflows.values_mut() {
            if workflow.instance_of.is_some() {
                workflow.bodies = vec![WorkflowBody::Steps(Block {
                    statements: Vec::new(),
                    span: workflow.span,
                })];
                workflow.output = None;
                workflow.records.clear();
            }
        }
        let mut body = template.body.clone();
        let mut lets = Vec::new();
        let mut durations = Substitution::default();
        for param in &template.params {
            let name = param.name.clone();
            let span = param.span;
            match &param.kind {
                ParamKind::Agent { input, output } => {
                    program
                        .agents
                        .insert(name.name.clone(), stand_in(&name, input, output, span));
                }
                ParamKind::Workflow { input, output } => {
                    let mut workflow = template.body.clone();
                    workflow.name = name.clone();
                    workflow.input = Some(input.clone());
                    workflow.bodies = vec![WorkflowBody::Steps(Block {
                        statements: Vec::new(),
                        span,
                    })];
                    workflow.output = Some(placeholder(output, span));
                    workflow.records.clear();
                    program.workflows.insert(name.name.clone(), workflow);
                }
                ParamKind::Retry => {
                    program.retries.insert(
                        name.name.clone(),
                        RetryPolicy {
                            name,
                            attempts: None,
                            backoff: None,
                            jitter: None,
                            retry_on: None,
                            span,
                        },
                    );
                }
                ParamKind::Duration => {
                    let written = match &param.default {
                        Some(Argument::Duration(d)) => d.clone(),
                        _ => Spanned::new(1000, span),
                    };
                    durations.durations.insert(name.name.clone(), written);
                }
                ParamKind::Value(ty) => lets.push(Statement {
                    kind: StatementKind::Let {
                        name,
                        value: match &param.default {
                            Some(Argument::Value(value)) => value.clone(),
                            _ => placeholder(ty, span),
                        },
                    },
                    span,
                }),
            }
        }
        durations.workflow(&mut body);
        if let Some(WorkflowBody::Steps(block)) = body.bodies.first_mut() {
            lets.append(&mut block.statements);
            block.statements = lets;
        }
        program.workflows.insert(body.name.name.clone(), {
            body.instance_of = None;
            body
        });
        let mut found = Vec::new();
        rules(&program, &mut found);
        out.extend(found.into_iter().filter(|d| {
            inside(d.span(), template.span)
                && !matches!(d.code, Code::UnreachableWorkflow | Code::UnusedTrigger)
        }));
    }
}

/// Whether `span` lies in `outer`.
pub fn inside(span: Span, outer: Span) -> bool {
    span.file == outer.file && span.start >= outer.start && span.end <= outer.end
}

/// An agent of exactly a parameter's contract.
fn stand_in(name: &Ident, input: &TypeExpr, output: &TypeExpr, span: Span) -> Agent {
    Agent {
        name: name.clone(),
        department: None,
        skills: Vec::new(),
        input: Some(input.clone()),
        output: Some(output.clone()),
        bodies: vec![AgentBody::Run(Spanned::new(
            vec![Spanned::new("true".to_string(), span)],
            span,
        ))],
        cwd: None,
        env: None,
        timeout: None,
        retry: None,
        breaker: None,
        capacity: None,
        span,
    }
}

/// A value of type `ty`, written out.
fn placeholder(ty: &TypeExpr, span: Span) -> Expr {
    let kind = match &ty.kind {
        TypeExprKind::Number => ExprKind::Number(0.0),
        TypeExprKind::String => ExprKind::String(String::new()),
        TypeExprKind::Bool => ExprKind::Bool(false),
        TypeExprKind::Null | TypeExprKind::Any => ExprKind::Null,
        TypeExprKind::List(item) => ExprKind::List(vec![placeholder(item, span)]),
        TypeExprKind::Object(fields) => ExprKind::Object(
            fields
                .iter()
                .map(|(name, ty)| (name.clone(), placeholder(ty, span)))
                .collect(),
        ),
        TypeExprKind::Optional(inner) => return placeholder(inner, span),
    };
    Expr { kind, span }
}

/// What an instance's arguments replace in the template's body.
#[derive(Default)]
struct Substitution {
    durations: HashMap<String, Spanned<Millis>>,
    agents: HashMap<String, Ident>,
    workflows: HashMap<String, Ident>,
    retries: HashMap<String, Ident>,
    values: HashMap<String, Expr>,
}

impl Substitution {
    fn workflow(&self, workflow: &mut Workflow) {
        for body in &mut workflow.bodies {
            match body {
                WorkflowBody::Chain(agents) => {
                    for agent in &mut agents.value {
                        self.name(&self.agents, agent);
                    }
                }
                WorkflowBody::Steps(block) => self.block(block),
            }
        }
        if let Some(output) = &mut workflow.output {
            self.expr(output);
        }
        for record in &mut workflow.records {
            self.expr(&mut record.value);
        }
        if let Some(retry) = &mut workflow.retry {
            self.name(&self.retries, retry);
        }
    }

    fn name(&self, map: &HashMap<String, Ident>, ident: &mut Ident) {
        if let Some(argument) = map.get(&ident.name) {
            ident.name = argument.name.clone();
        }
    }

    fn block(&self, block: &mut Block) {
        for statement in &mut block.statements {
            self.statement(statement);
        }
    }

    fn statement(&self, statement: &mut Statement) {
        match &mut statement.kind {
            StatementKind::Call { call, .. } => {
                match &mut call.target {
                    CallTarget::Agent(agent) => self.name(&self.agents, agent),
                    CallTarget::Workflow(workflow) => self.name(&self.workflows, workflow),
                    CallTarget::AnyWithSkills(_) => {}
                }
                if let Some(retry) = &mut call.retry {
                    self.name(&self.retries, retry);
                }
                if let Some(timeout) = &mut call.timeout {
                    self.duration(timeout);
                }
                self.expr(&mut call.argument);
            }
            StatementKind::Let { value, .. } | StatementKind::Fail(value) => self.expr(value),
            StatementKind::When {
                branches,
                otherwise,
            } => {
                for (condition, block) in branches {
                    self.expr(condition);
                    self.block(block);
                }
                if let Some(block) = otherwise {
                    self.block(block);
                }
            }
            StatementKind::For(for_loop) => {
                self.expr(&mut for_loop.list);
                self.block(&mut for_loop.body);
                if let Some(value) = &mut for_loop.value {
                    self.expr(value);
                }
            }
            StatementKind::Parallel(block) => self.block(block),
            StatementKind::Try { body, catches } => {
                self.block(body);
                for catch in catches {
                    self.block(&mut catch.handler);
                }
            }
            StatementKind::Emit { payload, .. } => {
                if let Some(payload) = payload {
                    self.expr(payload);
                }
            }
            StatementKind::Await { awaited, .. } => {
                if let Some(condition) = &mut awaited.condition {
                    self.expr(condition);
                }
                if let Some(timeout) = &mut awaited.timeout {
                    self.duration(timeout);
                }
            }
            StatementKind::Wait(wait) => self.duration(wait),
        }
    }

    /// Writes out a `duration` parameter's argument.
    fn duration(&self, duration: &mut StepDuration) {
        if let StepDuration::Param(name) = duration {
            if let Some(written) = self.durations.get(&name.name) {
                *duration = StepDuration::Written(written.clone());
            }
        }
    }

    /// Replaces each value parameter read by name with its argument.
    fn expr(&self, expr: &mut Expr) {
        let mut pending = vec![expr];
        while let Some(expr) = pending.pop() {
            if let ExprKind::Name(name) = &expr.kind {
                if let Some(value) = self.values.get(&name.name) {
                    *expr = value.clone();
                }
                continue;
            }
            pending.extend(expr.children_mut());
        }
    }
}
